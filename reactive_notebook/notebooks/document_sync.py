"""Changes others make to a notebook's live document, applied to the service's model.

A JupyterLab tab (or another server-side writer) edits the shared document directly: it
types into a cell, adds, deletes or moves cells, changes a cell's type, clears outputs.
:class:`OpenNotebook` notes which cells changed (inside the Y transaction, where nothing
may be written) and the service calls :func:`apply_others_changes` right after, under the
notebook's lock: the model takes the document's cells, edited code is re-analysed and its
dependents marked stale, and the same events as for an API edit go out (so our WebSocket
clients see a tab's edits), each one bumping ``revision``.

The document is the truth for what cells exist, their order, code and type; the model is
the truth for everything reactive (status, stale, reads and writes), which never enters
the document.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..contents.ipynb import (
    REACTIVE_KEY,
    cell_from_nbformat,
    cell_to_nbformat,
    is_valid_cell_id,
    notebook_from_nbformat,
    notebook_to_nbformat,
)
from ..models import Cell, CellStatus, CellType, Notebook, new_cell_id
from ..reactive.planner import Plan
from .actor import FROM_DOCUMENT, acting_as

if TYPE_CHECKING:
    from .open_notebook import OpenNotebook
    from .service import NotebookService

#: Keys of a cell whose change may change what it runs.
_CODE_KEYS = frozenset({"*", "source", "cell_type", "metadata"})
#: Keys of a cell whose change changes what it shows.
_OUTPUT_KEYS = frozenset({"*", "outputs", "execution_count"})

log = logging.getLogger(__name__)


async def catch_up(service: NotebookService, opened: OpenNotebook) -> None:
    """Apply others' changes before one of ours (the notebook's lock is held)."""
    if opened.document_changed:
        await apply_others_changes(service, opened)


async def sync_changes(service: NotebookService, opened: OpenNotebook) -> None:
    """Others changed the document: apply it under the notebook's lock. A change that
    cannot be applied is reported to the notebook's clients; the notebook stays open."""
    try:
        async with opened.lock:
            await catch_up(service, opened)
    except Exception as error:
        log.exception("applying a change made in a tab to notebook %s failed", opened.id)
        opened.publish("error", message=f"applying a change made elsewhere failed: {error}")


async def apply_others_changes(service: NotebookService, opened: OpenNotebook) -> None:
    """Bring the model up to date with the document (the notebook's lock is held).
    The changes are the document's (a JupyterLab tab, a collaborator), not the doing of
    whoever's request applies them now."""
    with acting_as(FROM_DOCUMENT):
        await _apply_others_changes(service, opened)


async def _apply_others_changes(service: NotebookService, opened: OpenNotebook) -> None:
    removals: list[Plan] = []
    while opened.document_changed:
        changes, structural = opened.take_others_changes()
        if structural:
            await _apply_structure(service, opened, removals)
        for cell_id, keys in changes.items():
            if cell_id in opened.cells and cell_id in opened.live:
                await _apply_cell(service, opened, opened.cells.get(cell_id), keys)
    for plan in removals:  # deleted cells' names leave the kernel; their readers re-run
        if plan.cleanup or plan.targets:
            opened.pending_cleanup(plan.cleanup)
            opened.request_run(set(plan.targets))


async def _apply_structure(
    service: NotebookService, opened: OpenNotebook, removals: list[Plan]
) -> None:
    """Cells added, deleted or moved: the model takes the document's list, in its order."""
    in_document = _valid_ids(opened)
    present = set(in_document)
    for cell in [c for c in opened.cells if c.id not in present]:
        plan = service.forget_cell(opened, cell.id)
        if plan is not None:
            removals.append(plan)
    for index, cell_id in enumerate(in_document):
        if cell_id not in opened.live:
            continue  # removed again while we analysed: the next pass sees it
        if cell_id not in opened.cells:
            await _add(service, opened, index, cell_id)
        elif opened.cells.index(cell_id) != index:
            _move(service, opened, cell_id, index)


def _valid_ids(opened: OpenNotebook) -> list[str]:
    """The document's cell ids, each one nbformat accepts and no other cell has: a cell
    added with an id that is not (another client's bug, or a hostile one) gets a fresh
    id, in the document too, before anything of ours names it."""
    ids = opened.live.cell_ids()
    seen: set[str] = set()
    for index, cell_id in enumerate(ids):
        if not is_valid_cell_id(cell_id) or cell_id in seen:
            fresh = new_cell_id()
            opened.write(opened.live.set_cell_id, index, fresh)
            ids[index] = cell_id = fresh
        seen.add(cell_id)
    return ids


async def _add(service: NotebookService, opened: OpenNotebook, index: int, cell_id: str) -> None:
    cell = cell_from_nbformat(opened.live.cell(cell_id), cell_id)
    if cell.type is CellType.SQL and cell.output is None:
        cell.output = service.next_output(opened)
        opened.write(opened.live.set_cell_metadata, cell_id, our_metadata(cell))
    analysis = await opened.analyse(cell) if cell.type.runs else None
    index = min(index, len(opened.cells))
    opened.cells.insert(index, cell)
    if analysis is not None:
        opened.core.insert(
            cell.id,
            analysis,
            after=opened.graph_predecessor(index),
            fingerprint=opened.fingerprint(cell),
        )
    # What a tab pasted or loaded was not made by this kernel (as for a file's outputs).
    if cell.type.runs and (cell.outputs or cell.execution_count is not None):
        opened.core.show([cell.id])
    opened.refresh_stale()
    service.bump(opened)
    opened.publish(
        "cell_created", cell_id=cell.id, index=index, cell=service.describe(opened, cell)
    )


def _move(service: NotebookService, opened: OpenNotebook, cell_id: str, index: int) -> None:
    _, cell = opened.cells.remove(cell_id)
    opened.cells.insert(index, cell)
    if cell.type.runs:
        opened.core.move(cell.id, after=opened.graph_predecessor(index))
    opened.refresh_stale()
    service.bump(opened)
    opened.publish("cell_moved", cell_id=cell.id, index=index)


async def _apply_cell(
    service: NotebookService, opened: OpenNotebook, cell: Cell, keys: set[str]
) -> None:
    changed = False
    if keys & _CODE_KEYS:
        head = cell_from_nbformat(opened.live.cell_head(cell.id), cell.id)
        output = head.output if head.type is CellType.SQL else None
        if head.type is CellType.SQL and output is None:
            output = cell.output if cell.type is CellType.SQL else service.next_output(opened)
        if (head.type, head.code, output) != (cell.type, cell.code, cell.output):
            plan = await service.change_cell(opened, cell, head.type, head.code, output)
            if plan is not None and (plan.cleanup or plan.targets):
                opened.pending_cleanup(plan.cleanup)
                opened.request_run(set(plan.targets))
            changed = True
    if keys & _OUTPUT_KEYS and not _in_current_run(opened, cell):
        outputs, count = opened.live.cell_outputs(cell.id)
        if outputs != cell.outputs or count != cell.execution_count:
            opened.forget_displays(cell.id)
            cell.outputs = outputs
            cell.execution_count = count if isinstance(count, int) else None
            changed = True
    if changed:
        service.bump(opened)
        opened.publish("cell_updated", cell_id=cell.id, cell=service.describe(opened, cell))
        service.publish_dynamic(opened)


def _in_current_run(opened: OpenNotebook, cell: Cell) -> bool:
    """Outputs of a cell queued or running are this run's (a tab's view of them lags)."""
    return cell.status in (CellStatus.QUEUED, CellStatus.RUNNING)


def our_metadata(cell: Cell) -> dict[str, Any]:
    """The cell metadata of ours a document should hold (None removes a key)."""
    metadata: dict[str, Any] = {REACTIVE_KEY: None}
    metadata.update(cell_to_nbformat(cell).get("metadata") or {})
    metadata.pop("trusted", None)  # the document's own mark stays as it is
    return metadata


def write_model(opened: OpenNotebook) -> None:
    """Write what the model holds into a document that lost some of it (a room made anew
    from a file its predecessor had not saved yet): cells the document lacks or has in
    another order replace its list; otherwise each cell's code, outputs and count."""
    live = opened.live
    opened.sync_outputs()  # a running cell's stream texts, joined
    cells = list(opened.cells)
    if live.cell_ids() != [cell.id for cell in cells]:
        live.set_all(dict(notebook_to_nbformat(opened.notebook)))
        return
    for cell in cells:
        head = live.cell_head(cell.id)
        if head.get("source") != cell.code:
            live.set_source(cell.id, cell.code)
        if cell.type.runs:
            outputs, count = live.cell_outputs(cell.id)
            if outputs != cell.outputs or count != cell.execution_count:
                live.replace_outputs(cell.id, cell.outputs, cell.execution_count)


def take_document_cells(notebook: Notebook, document: Any) -> None:
    """A room's document may hold edits not saved yet: its cells are the notebook's (and
    its name and connection, when it has our metadata). Ids nbformat would refuse (or
    repeated ones) are replaced in the document too, so both name every cell alike."""
    live = document.live
    if not notebook.cells and len(live.cells) == 1:
        # jupyter_ydoc gives a notebook without cells one empty cell when it loads it;
        # the file has none, and an API user's notebook starts empty.
        (only,) = live.cell_ids()
        head = live.cell_head(only)
        if not head["source"] and not live.cell_outputs(only)[0]:
            live.delete_cell(only, 0)
    node = live.to_nbformat()
    fresh = notebook_from_nbformat(node, fallback_name=notebook.name)
    for index, (cell, current) in enumerate(zip(fresh.cells, live.cell_ids(), strict=True)):
        if cell.id != current:
            live.set_cell_id(index, cell.id)
    notebook.cells = fresh.cells
    ours = (node.get("metadata") or {}).get(REACTIVE_KEY)
    if isinstance(ours, dict) and ours.get("id") == notebook.id:
        notebook.name, notebook.db_connection = fresh.name, fresh.db_connection


__all__ = [
    "apply_others_changes",
    "catch_up",
    "our_metadata",
    "sync_changes",
    "take_document_cells",
    "write_model",
]
