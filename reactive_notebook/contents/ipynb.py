"""The mapping between our :class:`Notebook` and an nbformat 4.5 notebook. Pure: no I/O.

The file format is the contract with stock JupyterLab (design.md section 4b): whatever we
write must open there, and whatever it (or any nbformat v3/v4 tool) wrote must open here.
So writing is strict (we raise rather than produce an invalid file) and reading is
lenient (garbage metadata falls back to defaults, never an exception).

Only durable facts are stored: code, outputs, execution counts and the notebook's identity.
Run state (status, stale, error) belongs to a kernel session and is reset on load.

Output trust travels as Jupyter's own ``metadata.trusted`` of each code cell, the field the
contents manager reads and writes: on load it marks every code cell with the result of
its signature check (``mark_trusted_cells``), and on save it pops the marks and signs the
notebook only when every code cell with rich outputs is marked trusted (``check_and_sign``).
So ``Cell.trusted`` is read from that mark and written back as it, and a file is never
asked to vouch for itself: whatever ``trusted`` a file holds on disk, a contents manager
replaces it with its own check before we read it.

``db_connection`` is stored exactly as given. The caller decides what it holds: it may
keep ``${ENV}`` references, and it must never hand us a literal password it would not
want in a file that users copy, share and commit.
"""

from __future__ import annotations

import copy
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import nbformat
from nbformat import NotebookNode

from reactive_notebook.models import (
    Cell,
    CellStatus,
    CellType,
    NbOutput,
    Notebook,
    new_cell_id,
    new_notebook_id,
)

#: The metadata key, at notebook and cell level, under which our fields live.
REACTIVE_KEY = "reactive_notebook"

#: nbformat's own rule for cell ids (nbformat.v4 schema, ``id`` of every cell).
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: Notebook ids travel in URLs and file metadata: keep them to the same safe alphabet.
_NOTEBOOK_ID = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")

#: What stock JupyterLab needs to open the notebook with a Python kernel, no dialog.
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _python_language_info() -> dict[str, Any]:
    """What an ipykernel of this environment reports as its ``language_info``: stock
    JupyterLab replaces the stored one by its kernel's, and a difference marks the
    notebook modified as soon as it opens."""
    try:
        from ipykernel.ipkernel import IPythonKernel
    except ImportError:  # pragma: no cover - ipykernel is a dependency
        return {"name": "python"}
    return copy.deepcopy(dict(IPythonKernel.language_info))


LANGUAGE_INFO = _python_language_info()


@dataclass(frozen=True)
class ReactiveMetadata:
    """Our notebook-level metadata as read from a file; ``None`` marks a missing or
    unusable id/name (the caller supplies a fresh id or a fallback name)."""

    id: str | None = None
    name: str | None = None
    owner: str = ""
    db_connection: str = ""
    revision: int = 0


def is_valid_cell_id(value: object) -> bool:
    return isinstance(value, str) and _CELL_ID.match(value) is not None


def is_valid_notebook_id(value: object) -> bool:
    return isinstance(value, str) and _NOTEBOOK_ID.match(value) is not None


# --------------------------------------------------------------------------- writing


def notebook_to_nbformat(nb: Notebook) -> NotebookNode:
    """A valid nbformat 4.5 notebook holding ``nb``.

    Raises ``ValueError`` for a cell id nbformat would reject (or a duplicate one): the
    id is the cell's identity, so silently replacing it would break every reference.
    """
    seen: set[str] = set()
    for cell in nb.cells:
        if not is_valid_cell_id(cell.id):
            raise ValueError(f"cell id {cell.id!r} is not a valid nbformat cell id")
        if cell.id in seen:
            raise ValueError(f"duplicate cell id {cell.id!r}")
        seen.add(cell.id)
    node = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": dict(KERNELSPEC),
            "language_info": dict(LANGUAGE_INFO),
            REACTIVE_KEY: {
                "id": nb.id,
                "name": nb.name,
                "owner": nb.owner,
                "db_connection": nb.db_connection,
                "revision": nb.revision,
            },
        },
        "cells": [_cell_to_dict(cell) for cell in nb.cells],
    }
    return _node(node)


def cell_to_nbformat(cell: Cell) -> dict[str, Any]:
    """One cell as nbformat 4.5 (what a file or a live document holds)."""
    return _cell_to_dict(cell)


def cell_from_nbformat(raw: Mapping[str, Any], cell_id: str) -> Cell:
    """One nbformat cell as ours, with the id ``cell_id`` (a SQL cell without an output
    variable keeps None: the caller names it)."""
    return _cell_from(raw, cell_id)


def _cell_to_dict(cell: Cell) -> dict[str, Any]:
    if cell.type is CellType.MARKDOWN or cell.type is CellType.RAW:
        return {
            "id": cell.id,
            "cell_type": cell.type.value,
            "metadata": {},
            "source": cell.code,
        }
    # For the contents manager's check_and_sign, which pops it (see the module docstring).
    metadata: dict[str, Any] = {"trusted": cell.trusted}
    if cell.type is CellType.SQL:
        metadata[REACTIVE_KEY] = {"type": "sql", "output": cell.output}
    return {
        "id": cell.id,
        "cell_type": "code",
        "metadata": metadata,
        "execution_count": cell.execution_count,
        "source": cell.code,
        "outputs": copy.deepcopy(cell.outputs),
    }


def carry_over_foreign_fields(new: NotebookNode, old: Mapping[str, Any]) -> None:
    """Copy into ``new`` what ``old`` (the file being overwritten) holds that our model
    does not: notebook metadata of other tools, cell metadata (tags, collapsed, ...) and
    markdown attachments, matched by cell id and type. Our own fields always win.

    Without this, saving a JupyterLab notebook through the service would silently drop
    the user's tags, widget state or jupytext settings.
    """
    old_meta = old.get("metadata")
    if isinstance(old_meta, Mapping):
        for key, value in old_meta.items():
            if key not in new.metadata:
                new.metadata[key] = _node(copy.deepcopy(value))
    old_cells = old.get("cells")
    if not isinstance(old_cells, list):
        return
    by_id = {
        cell.get("id"): cell
        for cell in old_cells
        if isinstance(cell, Mapping) and isinstance(cell.get("id"), str)
    }
    for cell in new.cells:
        previous = by_id.get(cell.id)
        if previous is None or previous.get("cell_type") != cell.cell_type:
            continue
        previous_meta = previous.get("metadata")
        if isinstance(previous_meta, Mapping):
            for key, value in previous_meta.items():
                if key != REACTIVE_KEY and key not in cell.metadata:
                    cell.metadata[key] = _node(copy.deepcopy(value))
        attachments = previous.get("attachments")
        if cell.cell_type != "code" and isinstance(attachments, Mapping):
            cell.setdefault("attachments", _node(copy.deepcopy(attachments)))


# --------------------------------------------------------------------------- reading


def notebook_from_nbformat(node: Mapping[str, Any], *, fallback_name: str) -> Notebook:
    """Our notebook from any nbformat v3 or v4 notebook (dict or ``NotebookNode``).

    Code cells become Python cells (SQL when their metadata says so); cells without a
    usable id get a fresh one; missing or unusable notebook metadata gives a fresh id
    and ``fallback_name``. Raises ``ValueError`` only when ``node`` is not a notebook
    at all. ``node`` is never modified.
    """
    v4 = as_nbformat_v4(node)
    meta = read_reactive_metadata(v4)
    return Notebook(
        id=meta.id or new_notebook_id(),
        name=meta.name or fallback_name,
        owner=meta.owner,
        db_connection=meta.db_connection,
        revision=meta.revision,
        cells=_cells_from(v4.get("cells")),
    )


def as_nbformat_v4(node: Mapping[str, Any]) -> dict[str, Any]:
    """A plain-dict copy of ``node`` in nbformat 4 (v3 and older are converted)."""
    if not isinstance(node, Mapping):
        raise ValueError(f"not a notebook: expected a JSON object, got {type(node).__name__}")
    major = node.get("nbformat", 4)
    if major == 4:
        return _plain_dict(node)
    if isinstance(major, int) and not isinstance(major, bool) and 1 <= major < 4:
        try:
            converted = nbformat.convert(  # type: ignore[no-untyped-call]
                _node(copy.deepcopy(dict(node))), 4
            )
        except Exception as error:
            raise ValueError(f"cannot convert nbformat {major} notebook: {error}") from error
        return _plain_dict(converted)
    raise ValueError(f"unsupported nbformat version {major!r}")


def read_reactive_metadata(node: Mapping[str, Any]) -> ReactiveMetadata:
    """Our notebook-level fields, each one checked on its own: a bad revision does not
    cost the notebook its id."""
    metadata = node.get("metadata")
    ours = metadata.get(REACTIVE_KEY) if isinstance(metadata, Mapping) else None
    if not isinstance(ours, Mapping):
        return ReactiveMetadata()
    notebook_id = ours.get("id")
    name = ours.get("name")
    owner = ours.get("owner")
    db_connection = ours.get("db_connection")
    revision = ours.get("revision")
    return ReactiveMetadata(
        id=notebook_id if is_valid_notebook_id(notebook_id) else None,
        name=name if isinstance(name, str) and name.strip() else None,
        owner=owner if isinstance(owner, str) else "",
        db_connection=db_connection if isinstance(db_connection, str) else "",
        revision=revision if isinstance(revision, int) and _is_count(revision) else 0,
    )


def _cells_from(raw_cells: object) -> list[Cell]:
    if not isinstance(raw_cells, list):
        return []
    cells: list[Cell] = []
    used_ids: set[str] = set()
    sql_count = 0
    for raw in raw_cells:
        if not isinstance(raw, Mapping):
            continue
        given = raw.get("id")
        keep = is_valid_cell_id(given) and given not in used_ids
        cell_id = given if keep and isinstance(given, str) else _fresh_id(used_ids)
        used_ids.add(cell_id)
        cell = _cell_from(raw, cell_id)
        if cell.type is CellType.SQL:
            sql_count += 1
            if cell.output is None:
                cell.output = f"df_{sql_count}"
        cells.append(cell)
    return cells


def _cell_from(raw: Mapping[str, Any], cell_id: str) -> Cell:
    source = _source(raw.get("source"))
    kind = raw.get("cell_type")
    if kind == "markdown":
        return Cell(id=cell_id, type=CellType.MARKDOWN, code=source)
    if kind != "code":
        # "raw", and anything unknown: kept verbatim so no text is lost.
        return Cell(id=cell_id, type=CellType.RAW, code=source)
    outputs_raw = raw.get("outputs")
    outputs: list[NbOutput] = (
        [_plain(o) for o in outputs_raw if isinstance(o, Mapping)]
        if isinstance(outputs_raw, list)
        else []
    )
    count = raw.get("execution_count")
    metadata = raw.get("metadata")
    cell = Cell(
        id=cell_id,
        type=CellType.PYTHON,
        code=source,
        status=CellStatus.IDLE,
        stale=False,
        outputs=outputs,
        execution_count=count if _is_count(count) else None,
        # The contents manager's mark (True only when the signature checked out).
        trusted=isinstance(metadata, Mapping) and metadata.get("trusted") is True,
    )
    ours = metadata.get(REACTIVE_KEY) if isinstance(metadata, Mapping) else None
    if isinstance(ours, Mapping) and ours.get("type") == "sql":
        cell.type = CellType.SQL
        output = ours.get("output")
        cell.output = output if _is_python_name(output) else None
    return cell


def _source(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return ""


def _fresh_id(used: set[str]) -> str:
    while True:
        candidate = new_cell_id()
        if candidate not in used:
            return candidate


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_python_name(value: object) -> bool:
    return isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value)


def _node(value: Any) -> NotebookNode:
    """``nbformat.from_dict``, typed."""
    return cast(NotebookNode, nbformat.from_dict(value))  # type: ignore[no-untyped-call]


def _plain_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], _plain(value))


def _plain(value: Any) -> Any:
    """A deep copy made of plain dicts and lists (no ``NotebookNode``), so our model
    never aliases the caller's structure."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
