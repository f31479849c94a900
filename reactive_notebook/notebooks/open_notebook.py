"""A notebook that is open: its model, its reactive core, its kernel, its run queue.

Runs happen one at a time per notebook. Requests that arrive during a run are merged
into one pending set of targets and planned when the current run ends (a cell requested
twice runs once). Saving is debounced and never on the run's hot path.

The notebook's state lives in two shapes kept in step: ``notebook`` (our model: cells
with their analysis, status and stale flags, what the API shows) and ``document`` (the
live shared document, see :mod:`.documents`: what JupyterLab tabs show and what is
saved). Every change the service makes goes to both; a run writes its outputs,
execution counts and running marks into the document as they arrive; changes others make
to the document reach the model through :mod:`.document_sync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any

from ..kernels.cell_outputs import CellOutputs, OutputLimits
from ..kernels.session import (
    CellStatusEvent,
    KernelDied,
    KernelSession,
    RunStep,
)
from ..models import Cell, CellStatus, CellType, NbOutput, Notebook
from ..reactive.analysis import CellAnalysis
from ..reactive.core import ReactiveCore
from ..reactive.planner import Plan
from ..reactive.run_state import CellRun
from .actor import ATTRIBUTED_EVENTS, current_actor
from .cell_analysis import AnalysisRequest, CellAnalyser
from .cell_order import CellOrder
from .display_ids import DisplayIndex
from .documents import OpenedDocument, PrivateDocuments
from .events import EventHub
from .live_document import LiveNotebook
from .run_events import RunEvents
from .sql_cells import SqlOptions, is_duckdb, sql_run_code

log = logging.getLogger(__name__)


class OpenNotebook(RunEvents):
    """Everything the service holds for one open notebook. Call :meth:`load` once,
    before anything else: it analyses the cells and builds the graph."""

    def __init__(
        self,
        notebook: Notebook,
        kernel: KernelSession,
        hub: EventHub,
        *,
        save: Callable[[Notebook], Awaitable[None]],
        save_delay: float = 0.5,
        max_output_bytes: int = 2_000_000,
        max_display_bytes: int | None = None,
        max_stream_bytes: int | None = None,
        sql: SqlOptions | None = None,
        analyser: CellAnalyser | None = None,
        reserve_kernel: Callable[[str], Awaitable[None]] | None = None,
        document: OpenedDocument | None = None,
    ) -> None:
        self.notebook = notebook
        #: The live document (a room's, or a private one made from ``notebook``).
        self.document = document or PrivateDocuments.make(notebook)
        #: Called (no arguments) when others changed the document: the service syncs.
        self.on_document_change: Callable[[], None] | None = None
        #: Others' changes not applied to the model yet: cell id -> keys; structural.
        self.others_changes: dict[str, set[str]] = {}
        self.others_structural = False
        #: Futures resolved at the next change others make to the document (runs that
        #: wait for the code a client's editor shows: see :mod:`.code_arrival`).
        self._change_waiters: set[asyncio.Future[None]] = set()
        self._subscription: Any = None
        #: Our notebook metadata as last written into a document that saves itself.
        self._written_metadata: dict[str, Any] | None = None
        #: The notebook's cells, found by id in O(1): change them through this only.
        self.cells = CellOrder(notebook.cells)
        self.analyser = analyser or CellAnalyser()
        # Called before this notebook's kernel starts (the service's cap on kernels).
        self._reserve_kernel = reserve_kernel
        #: When a request or a run last used this notebook (``time.monotonic``).
        self.last_activity = time.monotonic()
        self.sql = sql or SqlOptions()
        self.kernel = kernel
        self.hub = hub
        self.lock = asyncio.Lock()
        self.core = ReactiveCore()
        self._save = save
        self._save_delay = save_delay
        self._save_task: asyncio.Task[None] | None = None
        self._output_limits = OutputLimits(max_output_bytes, max_display_bytes, max_stream_bytes)
        #: The outputs of the cells that have run in the current run and not finished,
        #: within their limits (their stream texts are joined when read: sync).
        self._outputs: dict[str, CellOutputs] = {}
        #: Where each display id of this kernel session is shown (display updates reach
        #: every cell showing the id: see :mod:`.display_ids`).
        self.displays = DisplayIndex()
        self._pending: set[str] = set()
        self._pending_cleanup: set[str] = set()
        self._steps: dict[str, Any] = {}
        self._ran: dict[str, CellRun] = {}  # the code each planned cell runs, for the record
        self._started: set[str] = set()
        self._clear_on_next_output: set[str] = set()
        self._cancelled = False
        #: cells a run found it must run too (readers of names a star import turned out
        #: to bind): run right after it, before its requests count as done
        self._follow_up: set[str] = set()
        self._waiters: list[asyncio.Future[None]] = []
        self._run_task: asyncio.Task[None] | None = None
        self._current_plan: Plan | None = None
        #: The last ``kernel_status`` state published (None: no kernel started yet), so
        #: a client that connects later starts from it (the WebSocket's snapshot).
        self.kernel_state: str | None = None
        # Cells whose shown ``stale`` flag was set apart from the core's (a run's statuses):
        # with the core's own changes, the only ones refresh_stale must look at.
        self._stale_candidates: set[str] = set()
        self._kernel_generation = 0
        getattr(kernel, "on_state_change", lambda listener: None)(self._on_kernel_state)

    async def reanalyse_sql(self) -> None:
        """The database changed: analyse the SQL cells again; their results are stale,
        and what read them (re-analysis alone marks only the cells whose reads changed)."""
        sql_cells = [cell for cell in self.cells if cell.type is CellType.SQL]
        analyses = await self.analyser.analyse_all(self.analysis_request(c) for c in sql_cells)
        for cell, analysis in zip(sql_cells, analyses, strict=True):
            self.core.update(cell.id, analysis, fingerprint=self.fingerprint(cell))
        self.core.state.mark_stale(self.core.graph, [cell.id for cell in sql_cells])
        self.refresh_stale()

    async def load(self) -> None:
        """Analyse every cell (off the event loop where large) and link the graph."""
        runnable = [cell for cell in self.cells if cell.type.runs]
        analyses = await self.analyser.analyse_all(self.analysis_request(c) for c in runnable)
        for cell, analysis in zip(runnable, analyses, strict=True):
            self.core.append(cell.id, analysis, fingerprint=self.fingerprint(cell))
        # What the file shows was not made by this kernel: stale once its code or inputs
        # change, or a run cannot reach it.
        self.core.show(c.id for c in runnable if c.outputs or c.execution_count is not None)
        self._observe()

    # -- the live document -----------------------------------------------------------

    @property
    def live(self) -> LiveNotebook:
        return self.document.live

    def _observe(self) -> None:
        self._subscription = self.live.observe_others(self._on_others)

    def _on_others(self, changes: dict[str, set[str]], structural: bool) -> None:
        """Inside someone else's transaction: note what changed, sync after it."""
        for cell_id, keys in changes.items():
            self.others_changes.setdefault(cell_id, set()).update(keys)
        self.others_structural |= structural
        waiters, self._change_waiters = self._change_waiters, set()
        for waiter in waiters:  # resolving a future only schedules its waiter: no writes
            if not waiter.done():
                waiter.set_result(None)
        if self.on_document_change is not None:
            asyncio.get_running_loop().call_soon(self.on_document_change)

    def next_document_change(self) -> asyncio.Future[None]:
        """A future resolved when others next change the document."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._change_waiters.add(waiter)
        return waiter

    def forget_document_change(self, waiter: asyncio.Future[None]) -> None:
        """A waiter of :meth:`next_document_change` that no longer waits."""
        self._change_waiters.discard(waiter)
        waiter.cancel()

    def take_others_changes(self) -> tuple[dict[str, set[str]], bool]:
        changes, structural = self.others_changes, self.others_structural
        self.others_changes, self.others_structural = {}, False
        return changes, structural

    @property
    def document_changed(self) -> bool:
        return bool(self.others_changes) or self.others_structural

    async def follow_document(self) -> bool:
        """Move onto the document that replaced ours (a room cleaned up and made anew);
        True when it did (the caller writes what the model holds into it)."""
        replacement = await self.document.current()
        if replacement is None:
            return False
        self._observe()
        return True

    def write(self, change: Callable[..., object], *args: Any) -> None:
        """Make one change to the document; a cell someone else deleted meanwhile is
        skipped (the model follows their deletion right after)."""
        try:
            change(*args)
        except KeyError:
            log.debug("notebook %s: a change to a cell no longer in the document", self.id)

    # -- helpers used by the service -------------------------------------------------

    @property
    def id(self) -> str:
        return self.notebook.id

    def touch(self) -> None:
        """Someone used the notebook now (it is not idle)."""
        self.last_activity = time.monotonic()

    @property
    def owner(self) -> str:
        return self.notebook.owner

    @property
    def running(self) -> bool:
        """A run is going on or queued."""
        return (self._run_task is not None and not self._run_task.done()) or bool(self._pending)

    @property
    def busy(self) -> bool:
        """A run is going on or queued, or a change holds the notebook's lock."""
        return self.running or self.lock.locked()

    def analysis_request(self, cell: Cell) -> AnalysisRequest:
        """What the cell's analysis depends on (a SQL cell's reads, on the database)."""
        if cell.type is CellType.SQL:
            return AnalysisRequest(
                cell.code,
                sql=True,
                output=cell.output,
                duckdb=is_duckdb(self.notebook.db_connection),
            )
        return AnalysisRequest(cell.code)

    async def analyse(self, cell: Cell) -> CellAnalysis:
        """What the cell reads and writes; a cell too large or too slow to analyse gets
        a ``limit`` error instead (see :mod:`.cell_analysis`)."""
        return await self.analyser.analyse(self.analysis_request(cell))

    def fingerprint(self, cell: Cell) -> str:
        return cell.fingerprint(self.notebook.db_connection)

    def publish(self, type_: str, **data: Any) -> None:
        if type_ == "kernel_status":
            self.kernel_state = data["state"]
        actor = current_actor()
        if actor is not None and type_ in ATTRIBUTED_EVENTS:
            data["actor"] = actor
        self.hub.publish(self.id, type_, revision=self.notebook.revision, **data)

    def graph_predecessor(self, index: int) -> str | None:
        """The runnable cell right above position ``index`` (the graph's ``after``)."""
        for above in range(index - 1, -1, -1):
            cell = self.cells.at(above)
            if cell.type.runs:
                return cell.id
        return None

    def refresh_stale(self) -> None:
        """Copy the core's stale flags onto the cells, announcing the ones that changed.

        Looks only at the cells whose flag may differ (the core's changes and the cells a
        run flagged itself), in notebook order: an edit costs what it touched, not a pass
        over the notebook.
        """
        candidates = self.core.take_stale_changes() | self._stale_candidates
        self._stale_candidates = set()
        for cell_id in self.cells.sort(c for c in candidates if c in self.cells):
            cell = self.cells.get(cell_id)
            stale = cell.type.runs and self.core.is_stale(cell.id)
            if stale != cell.stale:
                cell.stale = stale
                reason = {} if cell.error is None else {"error": cell.error}  # still why
                self.publish(
                    "cell_status", cell_id=cell.id, status=cell.status, stale=stale, **reason
                )

    def outputs_of(self, cell: Cell) -> list[NbOutput]:
        """The cell's outputs as stored, for a reader (a running cell's stream texts are
        joined on demand, not per chunk)."""
        running = self._outputs.get(cell.id)
        if running is not None:
            running.sync()
        return cell.outputs

    def sync_outputs(self) -> None:
        """Bring every running cell's stored outputs up to date (before a save)."""
        for running in self._outputs.values():
            running.sync()

    # -- saving ----------------------------------------------------------------------

    def schedule_save(self) -> None:
        """Save soon; many changes in a burst cost one write."""
        if self._save_task is None or self._save_task.done():
            self._save_task = asyncio.create_task(self._save_later())

    async def _save_later(self) -> None:
        await asyncio.sleep(self._save_delay)
        try:
            await self._save_now()
        except Exception as error:  # the next change schedules another save
            log.exception("saving notebook %s failed", self.id)
            self.publish("error", message=f"saving the notebook failed: {error}")

    async def flush(self) -> None:
        """Write now if a save is pending."""
        task, self._save_task = self._save_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._save_now()

    async def _save_now(self) -> None:
        """Our file write, or, when the document's room writes the file, our notebook
        metadata (id, name, connection, revision) into the document for it to save."""
        if self.document.saves_itself:
            self.write_metadata()
            return
        self.sync_outputs()
        await self._save(self.notebook)

    def write_metadata(self, *, name: str | None = None) -> None:
        """Our notebook metadata into the document, if it changed (``name``: the name
        it is about to take).

        Once written, metadata someone else removed (a tab's *Reactive* toggle turned
        off) stays removed: the notebook is plain again for the tabs, and our saves do not
        make it reactive behind their back. A run asked of the server (the API's, or the
        toggle turned on again) writes it again."""
        from ..contents.ipynb import REACTIVE_KEY

        made_plain = self._written_metadata is not None and REACTIVE_KEY not in self.live.metadata()
        if made_plain and name is None:
            return
        notebook = self.notebook
        metadata = {
            "id": notebook.id,
            "name": notebook.name if name is None else name,
            "owner": notebook.owner,
            "db_connection": notebook.db_connection,
            "revision": notebook.revision,
        }
        if metadata != self._written_metadata:
            self.live.set_notebook_metadata(REACTIVE_KEY, metadata)
            self._written_metadata = metadata

    # -- running ---------------------------------------------------------------------

    def pending_cleanup(self, names: frozenset[str]) -> None:
        """Names to delete from the kernel with the next run (a deleted cell's)."""
        self._pending_cleanup |= names

    def keep_reactive(self) -> None:
        """A run was asked of the server: a notebook made plain becomes reactive again
        (our metadata is written with the next save)."""
        self._written_metadata = None

    def request_run(self, cell_ids: set[str]) -> asyncio.Future[None]:
        """Queue a run; the future resolves when a run including it has finished."""
        self._pending |= cell_ids
        self._cancelled = False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if self._run_task is None or self._run_task.done():
            self._run_task = asyncio.create_task(self._run_loop())
        return waiter

    async def interrupt(self) -> None:
        """Stop the running cell and cancel what is queued, even a run still starting."""
        self.cancel_queued()
        if self._run_task is not None and not self._run_task.done() and self.kernel.started:
            await self.kernel.interrupt()

    def cancel_queued(self) -> None:
        """Drop the runs queued behind the current one, and keep a run that has not
        reached the kernel yet from starting (an interrupt: ours, or the Kernel menu's
        through the server's kernels API). Their requests count as done."""
        self._pending.clear()
        self._cancelled = True

    async def close(self, *, save: bool = True) -> None:
        """Stop the run, save (unless the notebook is being deleted), stop the kernel."""
        if self._run_task is not None and not self._run_task.done():
            await self.kernel.interrupt()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._run_task, timeout=5)
        try:
            if save:
                await self.flush()
            elif self._save_task is not None:
                self._save_task.cancel()
            if self._subscription is not None:
                with contextlib.suppress(Exception):
                    self.live.unobserve(self._subscription)
                self._subscription = None
            await self.document.close(save=save)
        finally:
            await self.kernel.shutdown()

    async def _run_loop(self) -> None:
        while self._pending or self._pending_cleanup:
            targets, self._pending = self._pending, set()
            cleanup, self._pending_cleanup = frozenset(self._pending_cleanup), set()
            waiters, self._waiters = self._waiters, []
            try:
                async with self.lock:
                    await self._ensure_kernel()
                    plan = self.core.plan(t for t in targets if t in self.core.graph)
                    plan = replace(plan, cleanup=plan.cleanup | cleanup)
                    self._announce_plan(plan)
                await self._execute(plan)
            except Exception as error:  # e.g. the kernel cannot start: say so, never hang
                log.exception("run of notebook %s failed", self.id)
                reason = f"the run failed: {type(error).__name__}: {error}"
                self.publish("error", message=reason)
                if self._current_plan is not None:
                    self._fail_unfinished(self._current_plan, reason)
                    self._current_plan = None
                else:  # nothing was planned (the kernel did not start): the request failed
                    for cell_id in targets:
                        if cell_id in self.core.graph:
                            self._set_status(cell_id, CellStatus.ERROR, error=reason)
            finally:
                self.touch()  # a run's end counts as use: idle time starts now
                if self._follow_up and not self._cancelled:
                    # the run found more cells to run: its requests end with those
                    self._pending |= self._follow_up
                    self._waiters.extend(waiters)
                else:
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_result(None)
                self._follow_up = set()
                self.schedule_save()
        # Requests whose runs an interrupt cancelled while this loop ran: done, too.
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _ensure_kernel(self) -> None:
        """Start or revive the kernel before planning; a new process has run nothing."""
        if not self.kernel.started:
            if self._reserve_kernel is not None:
                await self._reserve_kernel(self.id)
            self.publish("kernel_status", state="starting")
        await self.kernel.ensure_running()
        if self.kernel.generation != self._kernel_generation:
            self._kernel_generation = self.kernel.generation
            self.core.kernel_restarted()
            self.displays.reset()

    def _announce_plan(self, plan: Plan) -> None:
        self._finish_all_outputs()  # left by a run that failed
        self._current_plan = plan
        self._steps = {step.cell_id: step for step in plan.steps}
        self._ran = {step.cell_id: self.core.snapshot(step.cell_id) for step in plan.steps}
        self._started = set()
        self._clear_on_next_output = set()
        self.core.not_run(plan.blocked)
        for cell_id, reason in plan.blocked.items():
            self._set_status(cell_id, CellStatus.BLOCKED, error=reason, stale=True)
        for cell_id in plan.cell_ids:
            self._set_status(cell_id, CellStatus.QUEUED, error=None)
        # Queued cells show JupyterLab's [*], as cells queued in a stock notebook do.
        self.write(self.live.set_execution_state, plan.cell_ids, "running")

    async def _execute(self, plan: Plan) -> None:
        steps = []
        for step in plan.steps:
            cell = self._cell(step.cell_id)
            code, history = cell.code, None
            if cell.type is CellType.SQL:  # the kernel's history keeps the SQL, not the call
                code = sql_run_code(cell, self.notebook.db_connection, self.sql)
                history = cell.code
            steps.append(
                RunStep(
                    cell.id,
                    code,
                    step.delete_before,
                    needs=step.needs,
                    binds=step.binds,
                    fresh=step.fresh,
                    deletes=step.deletes,
                    restore=step.restore_before,
                    stars=self.core.graph.analysis(cell.id).star_imports,
                    history=history,
                )
            )
        self.publish("kernel_status", state="busy")
        try:
            if self._cancelled:
                raise _Cancelled
            result = await self.kernel.run(
                steps, self._on_event, cleanup=plan.cleanup, keep=plan.keep
            )
            if result.interrupted:
                self._interrupt_unfinished(plan)
            self.core.finished(plan)  # the runner put the kept values back, come what may
            if result.runner_error is not None:
                for cell_id in self._present(plan.cell_ids):
                    if self._cell(cell_id).status in (
                        CellStatus.QUEUED,
                        CellStatus.RUNNING,
                    ):
                        self._set_status(
                            cell_id,
                            CellStatus.ERROR,
                            error=f"internal error: {result.runner_error}",
                        )
        except _Cancelled:
            pass  # interrupted before it reached the kernel: the queued cells go idle below
        except KernelDied:
            self.core.kernel_restarted()
            self.displays.reset()
            self._fail_unfinished(plan, "kernel died")
            self.publish("kernel_status", state="restarting")
        self._finish_all_outputs()  # cells that never reported an end
        for cell_id in self._present(plan.cell_ids):  # cancelled by an interrupt
            cell = self._cell(cell_id)
            if cell.status is CellStatus.QUEUED:
                self._set_status(cell_id, CellStatus.IDLE, error=None)
        self.core.names_deleted(plan.cleanup)
        self.refresh_stale()
        self._current_plan = None
        self.write(self.live.set_execution_state, plan.cell_ids, "idle")
        self.publish("kernel_status", state="idle")

    def _present(self, cell_ids: Iterable[str]) -> list[str]:
        """Those of ``cell_ids`` still in the notebook (a tab or a request may delete a
        cell while a run that planned it goes on)."""
        return [cell_id for cell_id in cell_ids if cell_id in self.cells]

    def _interrupt_unfinished(self, plan: Plan) -> None:
        """An interrupt that landed outside a cell's own code (in the runner, between its
        steps) ends the run without the running cell's status: it ends as an interrupted
        cell does (seen under load: the cell stayed "running" after the run)."""
        for cell_id in self._present(plan.cell_ids):
            if self._cell(cell_id).status is CellStatus.RUNNING:
                self._on_event(CellStatusEvent(cell_id, "interrupted"))

    def _fail_unfinished(self, plan: Plan, reason: str) -> None:
        """Cells of ``plan`` still queued or running end in error with ``reason``."""
        self._finish_all_outputs()
        for cell_id in self._present(plan.cell_ids):
            if self._cell(cell_id).status in (CellStatus.QUEUED, CellStatus.RUNNING):
                self._set_status(cell_id, CellStatus.ERROR, error=reason)


class _Cancelled(Exception):
    """An interrupt arrived before the run reached the kernel."""
