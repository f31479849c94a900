"""NotebookService: the one place that changes notebooks (design.md sections 2-4).

The REST handlers, the WebSocket and the chat tools all call these methods. Every
operation takes the requesting user and treats another owner's notebook as not found;
every mutation checks ``expected_revision``, bumps ``revision``, publishes an event to
that notebook's subscribers only, and is one transaction on the notebook's live document
(see :mod:`.documents`): a JupyterLab tab of the notebook shows it at once. A document
that is a collaboration room saves itself; a private one gets a debounced, atomic save.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from ..contents.ipynb import cell_to_nbformat
from ..models import Cell, CellStatus, CellType, Notebook, new_cell_id, new_notebook_id
from ..reactive.planner import Plan
from .actor import assume_person
from .cell_analysis import CellAnalyser
from .code_arrival import codes_arrived
from .connection import is_masked_echo, mask_password
from .document_sync import (
    catch_up,
    our_metadata,
    sync_changes,
    take_document_cells,
    write_model,
)
from .documents import DocumentSource, PrivateDocuments
from .errors import CellNotFound, InvalidRequest, NotebookNotFound
from .events import EventHub
from .open_notebook import OpenNotebook
from .quotas import QuotaPolicy, Quotas
from .reclaim import Reclaimer, ReclaimPolicy
from .request_checks import (
    cell_index,
    check_code,
    check_connection_string,
    check_revision,
    run_targets,
    valid_cell_type,
    valid_name,
    valid_output,
)
from .sql_cells import SqlOptions, next_output
from .store_protocol import Store
from .views import describe_cell, describe_notebook

log = logging.getLogger(__name__)


KernelFactory = Callable[[Notebook], Any]  # returns a KernelSession for the notebook


class NotebookService:
    """Creates, loads, changes and runs notebooks; one ``OpenNotebook`` per open one."""

    def __init__(
        self,
        store: Store,
        kernel_factory: KernelFactory,
        *,
        hub: EventHub | None = None,
        save_delay: float = 0.5,
        max_output_bytes: int = 2_000_000,
        max_display_bytes: int | None = None,
        max_stream_bytes: int | None = None,
        sql: SqlOptions | None = None,
        analyser: CellAnalyser | None = None,
        reclaim: ReclaimPolicy | None = None,
        documents: DocumentSource | None = None,
        run_code_timeout: float = 2.0,
        quotas: QuotaPolicy | None = None,
    ) -> None:
        self.store = store
        #: Seconds a run that names its code waits for it to reach the live document.
        self.run_code_timeout = run_code_timeout
        #: Where open notebooks' live documents come from (collaboration rooms, or private).
        self.documents = documents or PrivateDocuments()
        self._syncing: dict[str, asyncio.Task[None]] = {}
        #: Analyses cells without stalling the event loop (large ones in a worker).
        self.analyser = analyser or CellAnalyser()
        self.sql = sql or SqlOptions()
        self.kernel_factory = kernel_factory
        self.hub = hub or EventHub()
        self.save_delay = save_delay
        self.max_output_bytes = max_output_bytes
        self.max_display_bytes = max_display_bytes
        self.max_stream_bytes = max_stream_bytes
        self._open: dict[str, OpenNotebook] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        #: Closes unused notebooks and caps how many hold a kernel.
        self.reclaimer = Reclaimer(
            reclaim or ReclaimPolicy(),
            open_notebooks=lambda: list(self._open.values()),
            clients=self.hub.subscriber_count,
            close=self.close_notebook,
        )
        #: Per-user limits: notebooks, kernels (unused ones of the user close first), runs.
        self.quotas = Quotas(quotas or QuotaPolicy(), self.reclaimer, self._open.values)

    # -- notebooks -------------------------------------------------------------------

    async def list_notebooks(self, user: str) -> list[dict[str, str]]:
        return [{"id": i, "name": n} for i, n in await self.store.list(user)]

    async def notebooks_at(self, user: str, path: str) -> list[dict[str, str]]:
        """The notebook in the file at contents path ``path``, if the user has one there
        (a list of one or none, like :meth:`list_notebooks`)."""
        found = await self.store.notebook_at(path, user)
        if found is None:
            return []
        notebook_id, name = found
        opened = self._open.get(notebook_id)
        if opened is not None:
            name = opened.notebook.name  # a rename not saved yet
        # The file's path as the store knows it (normalized), never the request's text.
        return [{"id": notebook_id, "name": name, "path": self.store.known_path(notebook_id) or ""}]

    async def create_notebook(
        self,
        user: str,
        name: str | None = None,
        folder: str | None = None,
        *,
        cells: list[Cell] | None = None,
    ) -> Notebook:
        """A new notebook in ``folder`` (a contents path; default: the user's notebooks
        folder), empty or holding ``cells`` (written with it, in one save)."""
        name = valid_name(name or "Untitled")
        async with self.quotas.creating(user):  # counted and created in one step
            self.quotas.check_new_notebook(user, len(await self.store.list(user)))
            notebook = Notebook(
                id=new_notebook_id(), name=name, owner=user, revision=1, cells=list(cells or [])
            )
            try:
                await self.store.create(notebook, folder)
            except ValueError as error:
                if folder is None:
                    raise
                # The store refused the folder (see Store.create).
                raise InvalidRequest(str(error), field="folder") from None
        return notebook

    def file_path(self, notebook_id: str) -> str | None:
        """The notebook's file, relative to the contents root, where the store last saw
        it (None for a store that keeps notebooks in no file, or one never seen)."""
        return self.store.known_path(notebook_id)

    async def get_notebook(self, user: str, notebook_id: str) -> OpenNotebook:
        return await self._get(user, notebook_id)

    async def rename_notebook(
        self, user: str, notebook_id: str, name: str, expected_revision: int | None = None
    ) -> Notebook:
        opened = await self._get(user, notebook_id)
        name = valid_name(name)
        async with opened.lock:
            check_revision(opened, expected_revision)
            try:
                if opened.document.saves_itself:
                    # The name goes into the room's document and the room saves it; then
                    # the file only moves (nothing of ours writes a file a room holds).
                    opened.write_metadata(name=name)
                    await opened.document.flush()
                    await self.store.rename(notebook_id, name, write_name=False)
                else:
                    await self.store.rename(notebook_id, name)
            except KeyError:  # its file was deleted behind our back: it is gone
                await self._drop(notebook_id)
                raise NotebookNotFound(notebook_id) from None
            opened.notebook.name = name
            self.bump(opened)
            # The file is renamed after the notebook: open tabs follow it by its path.
            path = self.store.known_path(notebook_id)
            if path:
                opened.document.moved(path)  # its room, found by file id, stays
            if path and hasattr(opened.kernel, "moved"):  # its Jupyter session too
                await opened.kernel.moved(path)
            opened.publish("notebook_updated", name=name, **({"path": path} if path else {}))
        return opened.notebook

    async def set_db_connection(
        self,
        user: str,
        notebook_id: str,
        connection: str,
        expected_revision: int | None = None,
    ) -> Notebook:
        opened = await self._get(user, notebook_id)
        check_connection_string(connection)
        async with opened.lock:
            check_revision(opened, expected_revision)
            current = opened.notebook.db_connection
            if connection == current or is_masked_echo(connection, current):
                return opened.notebook  # unchanged (a client sent back the masked form)
            opened.notebook.db_connection = connection
            await opened.reanalyse_sql()
            self.bump(opened)
            opened.publish("notebook_updated", db_conn_string=mask_password(connection))
        return opened.notebook

    async def delete_notebook(self, user: str, notebook_id: str) -> None:
        opened = await self._get(user, notebook_id)
        self._open.pop(notebook_id, None)
        self.reclaimer.release(notebook_id)
        await opened.close(save=False)
        with contextlib.suppress(KeyError):  # already deleted behind our back: fine
            await self.store.delete(notebook_id)
        self.hub.publish(notebook_id, "notebook_deleted", revision=opened.notebook.revision)
        self.hub.forget(notebook_id)

    async def close_notebook(self, notebook_id: str) -> None:
        """Save, shut the kernel down and forget the notebook (it stays on disk).

        Holds the notebook's opening lock until it is saved, so a request that arrives
        meanwhile loads what was saved, not the file from before.
        """
        lock = self._opening.setdefault(notebook_id, asyncio.Lock())
        try:
            async with lock:
                opened = self._open.pop(notebook_id, None)
                if opened is not None:
                    await opened.close()
        finally:
            self.reclaimer.release(notebook_id)
            if self._opening.get(notebook_id) is lock and not lock.locked():
                del self._opening[notebook_id]

    async def _drop(self, notebook_id: str) -> None:
        """Forget a notebook whose file is gone: its kernel stops, nothing is saved."""
        opened = self._open.pop(notebook_id, None)
        self.reclaimer.release(notebook_id)
        if opened is not None:
            await opened.close(save=False)
        revision = opened.notebook.revision if opened is not None else 0
        self.hub.publish(notebook_id, "notebook_deleted", revision=revision)

    async def shutdown(self) -> None:
        await self.reclaimer.stop()
        for notebook_id in list(self._open):
            await self.close_notebook(notebook_id)
        await self.analyser.close()

    # -- cells -----------------------------------------------------------------------

    async def create_cell(
        self,
        user: str,
        notebook_id: str,
        cell_type: str,
        code: str = "",
        *,
        after_cell_id: str | None = None,
        at_end: bool = True,
        output: str | None = None,
        expected_revision: int | None = None,
    ) -> Cell:
        """Add a cell after ``after_cell_id``; with neither it goes last (``at_end``)
        or first (``at_end=False``)."""
        opened = await self._get(user, notebook_id)
        kind = valid_cell_type(cell_type)
        check_code(code)
        if output is not None:
            if kind is not CellType.SQL:
                raise InvalidRequest("only SQL cells have an output variable", field="output")
            output = valid_output(output)
        async with opened.lock:
            check_revision(opened, expected_revision)
            if after_cell_id is not None:
                cell_index(opened, after_cell_id)  # unknown: CellNotFound, nothing added
            # Trusted: it has no outputs, and any it gets come from runs here.
            cell = Cell(id=new_cell_id(), type=kind, code=code, trusted=True)
            if kind is CellType.SQL:
                cell.output = output or self.next_output(opened)
            analysis = await opened.analyse(cell)
            await catch_up(self, opened)  # a tab's edits first: positions are the document's
            if after_cell_id is not None:
                index = cell_index(opened, after_cell_id) + 1
            else:
                index = len(opened.cells) if at_end else 0
            opened.write(opened.live.insert_cell, index, cell_to_nbformat(cell))
            opened.cells.insert(index, cell)
            if kind.runs:
                opened.core.insert(
                    cell.id,
                    analysis,
                    after=opened.graph_predecessor(index),
                    fingerprint=opened.fingerprint(cell),
                )
            opened.refresh_stale()
            self.bump(opened)
            opened.publish(
                "cell_created", cell_id=cell.id, index=index, cell=self.describe(opened, cell)
            )
            self.publish_dynamic(opened)
        return cell

    async def update_cell(
        self,
        user: str,
        notebook_id: str,
        cell_id: str,
        code: str,
        *,
        cell_type: str | None = None,
        output: str | None = None,
        expected_revision: int | None = None,
    ) -> Cell:
        """New code (and optionally a new type: Python <-> SQL) for a cell: re-analysed
        and re-linked; nothing runs. A cell that becomes SQL gets a result variable."""
        opened = await self._get(user, notebook_id)
        check_code(code)
        async with opened.lock:
            check_revision(opened, expected_revision)
            cell = self.cell(opened, cell_id)
            kind = cell.type if cell_type is None else valid_cell_type(cell_type)
            if output is not None:  # checked before anything changes
                if kind is not CellType.SQL:
                    raise InvalidRequest("only SQL cells have an output variable", field="output")
                output = valid_output(output)
            new_output = cell.output
            if kind is not cell.type:
                new_output = self.next_output(opened) if kind is CellType.SQL else None
            if output is not None:
                new_output = output
            was_type = cell.type
            await self.change_cell(opened, cell, kind, code, new_output)
            if cell.id in opened.live:
                if was_type.runs and kind.runs:  # in place: a tab keeps its editor
                    opened.write(opened.live.set_source, cell.id, code)
                    opened.write(opened.live.set_cell_metadata, cell.id, our_metadata(cell))
                else:
                    index = cell_index(opened, cell.id)
                    opened.write(opened.live.set_cell, cell.id, index, cell_to_nbformat(cell))
            self.bump(opened)
            opened.publish("cell_updated", cell_id=cell.id, cell=self.describe(opened, cell))
            self.publish_dynamic(opened)
        return cell

    async def change_cell(
        self,
        opened: OpenNotebook,
        cell: Cell,
        kind: CellType,
        code: str,
        output: str | None,
    ) -> Plan | None:
        """Give the model's ``cell`` new code, type and output variable: re-analysed
        and re-linked, nothing runs. A cell that stops running (code became markdown in
        a tab) leaves the graph: the plan that drops its names (None otherwise)."""
        linked = cell.type.runs
        # Analysed before anything changes: readers never see new code with old names.
        analysis = await opened.analyse(
            dataclasses.replace(cell, type=kind, code=code, output=output)
        )
        cell.type, cell.code, cell.output = kind, code, output
        plan = None
        if linked and kind.runs:
            opened.core.update(cell.id, analysis, fingerprint=opened.fingerprint(cell))
        elif kind.runs:  # a markdown or raw cell of an imported notebook became code
            opened.core.insert(
                cell.id,
                analysis,
                after=opened.graph_predecessor(cell_index(opened, cell.id)),
                fingerprint=opened.fingerprint(cell),
            )
        elif linked:
            plan = opened.core.remove(cell.id)
            opened.forget_displays(cell.id)
        opened.refresh_stale()
        return plan

    async def move_cell(
        self,
        user: str,
        notebook_id: str,
        cell_id: str,
        after_cell_id: str | None,
        *,
        expected_revision: int | None = None,
    ) -> int:
        """Move a cell right after ``after_cell_id`` (None: first). Returns its index."""
        opened = await self._get(user, notebook_id)
        async with opened.lock:
            check_revision(opened, expected_revision)
            cell_index(opened, cell_id)  # unknown: CellNotFound
            if after_cell_id is not None:
                cell_index(opened, after_cell_id)  # unknown: CellNotFound, nothing moved
                if after_cell_id == cell_id:
                    raise InvalidRequest(
                        "after_cell_id names the cell being moved: a cell cannot be moved "
                        "after itself",
                        field="after_cell_id",
                    )
            await catch_up(self, opened)
            cell_index(opened, cell_id)  # deleted in a tab meanwhile: CellNotFound
            if after_cell_id is not None:
                cell_index(opened, after_cell_id)
            old_index, cell = opened.cells.remove(cell_id)
            index = 0 if after_cell_id is None else cell_index(opened, after_cell_id) + 1
            opened.cells.insert(index, cell)
            opened.write(opened.live.move_cell, cell.id, old_index, index)
            if cell.type.runs:
                opened.core.move(cell.id, after=opened.graph_predecessor(index))
            opened.refresh_stale()
            self.bump(opened)
            opened.publish("cell_moved", cell_id=cell.id, index=index)
            self.publish_dynamic(opened)
        return index

    async def delete_cell(
        self, user: str, notebook_id: str, cell_id: str, *, expected_revision: int | None = None
    ) -> None:
        """Delete a cell: its names leave the kernel and its former dependents re-run."""
        opened = await self._get(user, notebook_id)
        async with opened.lock:
            check_revision(opened, expected_revision)
            cell_index(opened, cell_id)  # unknown: CellNotFound
            await catch_up(self, opened)
            index = cell_index(opened, cell_id)  # deleted in a tab meanwhile: CellNotFound
            opened.write(opened.live.delete_cell, cell_id, index)
            plan = self.forget_cell(opened, cell_id)
        if plan is not None and (plan.cleanup or plan.targets):
            opened.pending_cleanup(plan.cleanup)
            opened.request_run(set(plan.targets))

    def forget_cell(self, opened: OpenNotebook, cell_id: str) -> Plan | None:
        """Take a deleted cell out of the model (the document no longer has it) and tell
        the clients; the plan that drops its names and re-runs its readers, if it ran."""
        _, cell = opened.cells.remove(cell_id)
        plan = opened.core.remove(cell.id) if cell.type.runs else None
        opened.forget_displays(cell.id)
        self.bump(opened)
        opened.publish("cell_deleted", cell_id=cell_id)
        self.publish_dynamic(opened)
        return plan

    # -- running ---------------------------------------------------------------------

    async def run_cell(
        self,
        user: str,
        notebook_id: str,
        cell_id: str,
        *,
        wait: bool = False,
        code: str | None = None,
    ) -> None:
        """Run a cell and what depends on it; with ``wait``, return when it has finished.
        With ``code`` (the cell's source as the client's editor shows it), first wait for
        that code to reach the live document (see :mod:`.code_arrival`)."""
        opened = await self._get(user, notebook_id)
        if code is not None:
            check_code(code)
            await codes_arrived(self, opened, {cell_id: code}, "code")
        await self._run(opened, run_targets(opened, [cell_id], field=None), wait=wait)

    async def run_all(
        self,
        user: str,
        notebook_id: str,
        *,
        wait: bool = False,
        codes: dict[str, str] | None = None,
        cell_ids: list[str] | None = None,
    ) -> None:
        """Run every cell, or the cells ``cell_ids`` names (and, as always, what depends
        on them); ``codes`` (cell id -> source as the client's editor shows it) are
        waited for first, as :meth:`run_cell`'s ``code``."""
        opened = await self._get(user, notebook_id)
        if codes:
            await codes_arrived(self, opened, codes, "codes")
        await self._run(opened, run_targets(opened, cell_ids), wait=wait)

    async def _run(self, opened: OpenNotebook, targets: set[str], *, wait: bool) -> None:
        await self._kernel_for(opened)
        opened.keep_reactive()
        done = opened.request_run(targets)
        if wait:
            await done

    async def interrupt(self, user: str, notebook_id: str) -> None:
        opened = await self._get(user, notebook_id)
        await opened.interrupt()

    # -- views -----------------------------------------------------------------------

    def describe(self, opened: OpenNotebook, cell: Cell) -> dict[str, Any]:
        """A cell as the API shows it (see :mod:`.views`)."""
        return describe_cell(opened, cell)

    def publish_dynamic(self, opened: OpenNotebook) -> None:
        """Cells that started or stopped reading names dynamically because of another
        cell's change (a function they call gained an ``eval``) are shown anew."""
        for cell_id in opened.core.graph.take_dynamic_changes():
            if cell_id in opened.cells:
                cell = opened.cells.get(cell_id)
                opened.publish("cell_updated", cell_id=cell_id, cell=self.describe(opened, cell))

    def describe_notebook(self, opened: OpenNotebook) -> dict[str, Any]:
        return describe_notebook(opened)

    # -- internals -------------------------------------------------------------------

    async def _get(self, user: str, notebook_id: str) -> OpenNotebook:
        assume_person(user)
        self.reclaimer.start()
        opened = self._open.get(notebook_id)
        if opened is None:
            opened = await self._open_notebook(user, notebook_id)
        if not self.store.owns(user, notebook_id):
            # Another user's (ownership is where the file is): as if it did not exist.
            raise NotebookNotFound(notebook_id)
        opened.touch()
        if await opened.follow_document():  # its room was made anew, from the file
            async with opened.lock:
                write_model(opened)
        return opened

    # -- the live document -----------------------------------------------------------

    def _sync_soon(self, opened: OpenNotebook) -> None:
        """Others changed the document: apply it to the model once the notebook is free
        (one task at a time per notebook; it applies everything noted until then)."""
        if opened.id not in self._syncing:  # a task forgets itself when it ends
            self._syncing[opened.id] = asyncio.create_task(self._sync(opened))

    async def _sync(self, opened: OpenNotebook) -> None:
        try:
            await sync_changes(self, opened)
        finally:
            self._syncing.pop(opened.id, None)

    async def _open_notebook(self, user: str, notebook_id: str) -> OpenNotebook:
        """Load and analyse a notebook, once however many requests ask at the same time
        (their lock is dropped afterwards: ids that name nothing leave nothing behind)."""
        lock = self._opening.setdefault(notebook_id, asyncio.Lock())
        try:
            async with lock:
                opened = self._open.get(notebook_id)
                if opened is not None:
                    return opened
                try:
                    notebook = await self.store.load(notebook_id, user)
                except KeyError:
                    raise NotebookNotFound(notebook_id) from None
                document = await self.documents.open(notebook, self.store.known_path(notebook_id))
                if document.saves_itself:
                    take_document_cells(notebook, document)
                opened = OpenNotebook(
                    notebook,
                    self.kernel_factory(notebook),
                    self.hub,
                    save=self.store.save,
                    save_delay=self.save_delay,
                    max_output_bytes=self.max_output_bytes,
                    max_display_bytes=self.max_display_bytes,
                    max_stream_bytes=self.max_stream_bytes,
                    sql=self.sql,
                    analyser=self.analyser,
                    reserve_kernel=self.quotas.reserve_kernel,
                    document=document,
                )
                opened.on_document_change = lambda: self._sync_soon(opened)
                await opened.load()
                opened.core.graph.take_dynamic_changes()  # loaded as they are: no news
                return self._open.setdefault(notebook_id, opened)
        finally:
            if self._opening.get(notebook_id) is lock and not lock.locked():
                del self._opening[notebook_id]

    async def _kernel_for(self, opened: OpenNotebook) -> None:
        """A kernel slot and a run within quotas for a notebook about to run: 429 now."""
        self.quotas.check_run(opened)  # before taking a kernel slot for a refused run
        if not opened.kernel.started:
            await self.quotas.reserve_kernel(opened.id)
        self.quotas.check_run(opened)  # again: no await from here to the run's start

    def bump(self, opened: OpenNotebook) -> None:
        opened.notebook.revision += 1
        opened.schedule_save()

    def cell(self, opened: OpenNotebook, cell_id: str) -> Cell:
        """The cell ``cell_id`` of an open notebook, or CellNotFound."""
        try:
            return opened.cells.get(cell_id)
        except KeyError:
            raise CellNotFound(cell_id) from None

    next_output = staticmethod(next_output)


__all__ = ["CellStatus", "NotebookService"]
