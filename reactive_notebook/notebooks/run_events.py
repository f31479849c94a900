"""How a run's events change an open notebook: its cells, its live document, its clients.

The kernel session turns a run's iopub messages into events (a cell's output, a clear, a
status). :class:`RunEvents`, a part of :class:`~.open_notebook.OpenNotebook`, applies
each one: the cell's stored outputs (kept within their size limit by ``CellOutputs``),
the document (one Y transaction per kernel message, so every tab shows it live), the
reactive core's record of what ran, and the events our WebSocket clients get.
"""

from __future__ import annotations

from typing import Any

from ..kernels.cell_outputs import CellOutputs, OutputLimits
from ..kernels.outputs import api_output, display_id, update_target
from ..kernels.session import CellClearEvent, CellOutputEvent, RunEvent
from ..models import Cell, CellStatus, NbOutput
from ..reactive.core import ReactiveCore
from ..reactive.planner import Plan
from ..reactive.run_state import CellRun
from .cell_order import CellOrder
from .display_ids import DisplayIndex
from .live_document import LiveNotebook


class RunEvents:
    """The run-event half of :class:`~.open_notebook.OpenNotebook` (which sets these)."""

    core: ReactiveCore
    cells: CellOrder
    displays: DisplayIndex
    _outputs: dict[str, CellOutputs]
    _steps: dict[str, Any]
    _ran: dict[str, CellRun]
    _started: set[str]
    _clear_on_next_output: set[str]
    _follow_up: set[str]
    _current_plan: Plan | None
    _output_limits: OutputLimits
    _stale_candidates: set[str]

    @property
    def live(self) -> LiveNotebook:
        raise NotImplementedError

    def publish(self, type_: str, **data: Any) -> None:
        raise NotImplementedError

    def write(self, change: Any, *args: Any) -> None:
        raise NotImplementedError

    def refresh_stale(self) -> None:
        raise NotImplementedError

    def cancel_queued(self) -> None:
        raise NotImplementedError

    def _cell(self, cell_id: str) -> Cell:
        return self.cells.get(cell_id)

    def _on_event(self, event: RunEvent) -> None:
        if event.cell_id not in self.core.graph:
            return  # deleted while it ran
        with self.live.transaction():  # one kernel message, one update of the document
            self._apply_event(event)

    def _apply_event(self, event: RunEvent) -> None:
        cell = self._cell(event.cell_id)
        if isinstance(event, CellOutputEvent):
            self._begin(cell, event.execution_count)
            # clear_output(wait=True) waits for the cell's next output, not for an update
            # of a display (JupyterLab's OutputAreaModel.set, nbclient: same).
            if cell.id in self._clear_on_next_output and update_target(event.output) is None:
                self._clear_on_next_output.discard(cell.id)
                self._clear(cell)
            self._on_output(cell, event)
            return
        if isinstance(event, CellClearEvent):
            self._begin(cell, event.execution_count)
            if event.wait:
                self._clear_on_next_output.add(cell.id)
            else:
                self._clear(cell)
            return
        status = event.status
        if status == "running":
            self._begin(cell, event.execution_count)
        elif status == "success":
            self._begin(cell, event.execution_count)
            self._finish_outputs(cell)
            ran = self._ran.get(cell.id)
            replay = self._current_plan is not None and cell.id in self._current_plan.replays
            self.core.record(cell.id, ok=True, ran=ran, untouched=event.untouched, replay=replay)
            self._learn_star_names(cell.id, event.star_names, bound=True)
            self.write(self.live.finish_run, cell.id, cell.execution_count)
            self._set_status(cell.id, CellStatus.SUCCESS, error=None, stale=False)
        elif status in ("error", "interrupted"):
            self._begin(cell, event.execution_count)
            self._finish_outputs(cell)
            ran = self._ran.get(cell.id)
            unbound = event.unbound if status == "error" else None
            self.core.record(cell.id, ok=False, ran=ran, untouched=event.untouched, unbound=unbound)
            self._learn_star_names(cell.id, event.star_names, bound=False)
            message = "interrupted" if status == "interrupted" else f"{event.ename}: {event.evalue}"
            self.write(self.live.finish_run, cell.id, cell.execution_count)
            self._set_status(cell.id, CellStatus.ERROR, error=message, stale=False)
            if self._current_plan is not None and status == "error":
                plan = self._current_plan
                reasons = plan.failure_reasons(cell.id, event.unbound, error=message)
                self.core.not_run(reasons)
                for blocked, reason in reasons.items():
                    self._set_status(blocked, CellStatus.BLOCKED, error=reason, stale=True)
        elif status == "blocked":
            pass  # announced when its provider failed
        elif status == "cancelled":
            self._set_status(cell.id, CellStatus.IDLE, error=None)

    def forget_displays(self, cell_id: str) -> None:
        """The cell's outputs are gone (cleared, re-run, deleted): updates skip them."""
        self.displays.forget(cell_id)

    def _learn_star_names(self, cell_id: str, names: frozenset[str], *, bound: bool) -> None:
        """The names a cell's ``from m import *`` binds are its writes from now on (until
        its code changes): cells reading them read them from it. ``bound``: the cell ran
        to the end, so the kernel holds its values of them."""
        if names:
            readers = self.core.learn_writes(cell_id, names, bound=bound)
            self._follow_up |= readers - set(self._steps)

    def _clear(self, cell: Cell) -> None:
        self.forget_displays(cell.id)
        self.write(self.live.clear_outputs, cell.id)
        cell.outputs = []
        self._outputs[cell.id] = self._output_limits.keep(cell.outputs)
        self.publish("cell_cleared", cell_id=cell.id)

    def _begin(self, cell: Cell, execution_count: int | None) -> None:
        """The first sign of a cell running in this run (statuses come in batches, so an
        output may arrive before "running"): clear its old outputs once, and take the
        kernel's execution count for the cell (its prompt number, as in Jupyter).

        From here on every output the cell holds comes from this run on this server, so
        the cell is trusted, as the stock notebook trusts a cell it executed; outputs
        loaded from an unsigned file are gone with the clear."""
        if cell.id in self._started:
            return
        self._started.add(cell.id)
        step = self._step(cell.id)
        if step is not None:
            self.core.names_deleted(step.delete_before)
        self.forget_displays(cell.id)
        cell.outputs = []
        cell.trusted = True
        self._outputs[cell.id] = self._output_limits.keep(cell.outputs)
        cell.execution_count = execution_count
        self.write(self.live.begin_run, cell.id)
        self._set_status(cell.id, CellStatus.RUNNING, error=None)

    def _on_output(self, cell: Cell, event: CellOutputEvent) -> None:
        outputs = self._outputs.get(cell.id)
        if outputs is None:  # printed after the cell ended (from a thread, say)
            outputs = self._outputs[cell.id] = self._output_limits.keep(cell.outputs)
            self.displays.attach(cell.id, outputs)
        output = event.output
        target = update_target(output)
        if target is not None:  # update_display_data: every output of that id, any cell
            self._update_displays(target, output)
            return
        if output.get("output_type") == "execute_result":
            output["execution_count"] = cell.execution_count
        shown_id = display_id(output)
        if shown_id is not None:  # a display re-using an id updates its earlier outputs
            self._update_displays(shown_id, output)
        # Merges stream chunks, keeps the cell within its limit; gives what to show now
        # (nothing, for a stream past its head).
        shown = outputs.add(output)
        if shown is None:
            return
        if shown_id is not None and outputs.outputs[-1] is shown and display_id(shown):
            self.displays.shown(
                cell.id, outputs.outputs, outputs, len(outputs.outputs) - 1, shown_id
            )
        self._publish_output(cell, shown)

    def _update_displays(self, shown_id: str, source: NbOutput) -> None:
        """Apply ``source`` to every output showing ``shown_id`` and tell the clients,
        one ``cell_output_updated`` per cell changed.

        The update was made by this kernel's run, on this server, like any output of a
        run; the cells it changes showed ``shown_id`` from a run of this kernel session,
        which made them trusted. Each keeps the trust it has (an untrusted cell is never
        upgraded by one updated output: its other outputs are what they were)."""
        for change in self.displays.update(shown_id, source, self._outputs_list):
            cell = self._cell(change.cell_id)
            self.write(self.live.update_display, cell.id, shown_id, change.output)
            shown = api_output(change.output, trusted=cell.trusted)
            if shown is not None:
                self.publish(
                    "cell_output_updated",
                    cell_id=cell.id,
                    display_id=shown_id,
                    output=shown,
                    trusted=cell.trusted,
                )

    def _outputs_list(self, cell_id: str) -> list[NbOutput] | None:
        return self._cell(cell_id).outputs if cell_id in self.cells else None

    def _publish_output(self, cell: Cell, output: NbOutput) -> None:
        """Show a client ``output`` and write it into the document: a client (or a tab)
        that appends what it is shown holds what the cell stores."""
        self.write(self.live.append_output, cell.id, output)
        kind = output.get("output_type")
        if kind == "stream":
            self.publish(
                "cell_stdout",
                cell_id=cell.id,
                name=output.get("name", "stdout"),
                data=output.get("text", ""),
            )
            return
        if kind == "error":
            error = {
                "ename": output.get("ename"),
                "evalue": output.get("evalue"),
                "traceback": output.get("traceback", []),
            }
            self.publish("cell_error", cell_id=cell.id, error=error)
            return
        shown = api_output(output, trusted=True)
        if shown is not None:  # made by this run: trusted (see _begin)
            self.publish("cell_output", cell_id=cell.id, output=shown, trusted=True)

    def _finish_outputs(self, cell: Cell) -> None:
        """The cell ended: its stored outputs are complete, and the tails of streams cut
        past their head are shown now (before the cell's final status)."""
        outputs = self._outputs.pop(cell.id, None)
        if outputs is not None:
            for ending in outputs.finish():
                self._publish_output(cell, ending)
            self.displays.finished(cell.id)

    def _finish_all_outputs(self) -> None:
        for cell_id in list(self._outputs):
            if cell_id in self.core.graph:
                self._finish_outputs(self._cell(cell_id))
        self._outputs.clear()

    def _step(self, cell_id: str) -> Any:
        return self._steps.get(cell_id)

    def _set_status(
        self,
        cell_id: str,
        status: CellStatus,
        *,
        error: str | None,
        stale: bool | None = None,
    ) -> None:
        cell = self._cell(cell_id)
        cell.status = status
        cell.error = error
        if stale is not None:
            cell.stale = stale
            self._stale_candidates.add(cell_id)
        data: dict[str, Any] = {"cell_id": cell_id, "status": status.value, "stale": cell.stale}
        if error is not None:
            data["error"] = error
        self.publish("cell_status", **data)

    def _on_kernel_state(self, state: str) -> None:
        """The kernel was restarted or shut down behind our back (JupyterLab's Kernel
        menu or Running panel, the kernels or sessions API, the culler, a restart after
        a death): nothing a run defined survives, so every cell that shows outputs is
        stale, and the next run replays the ancestors it needs. An interrupt from
        anywhere (``"interrupted"``, not a kernel state: nothing is published) cancels
        what is queued, as our own interrupt does."""
        if state == "interrupted":
            self.cancel_queued()
            return
        if state in ("restarting", "dead"):
            self.core.kernel_restarted()
            self.displays.reset()
            runnable = [cell.id for cell in self.cells if cell.type.runs]
            self.core.state.mark_stale(self.core.graph, runnable)
            self.refresh_stale()
        self.publish("kernel_status", state=state)
