"""The reactive core of one notebook: its graph and its kernel's run state, kept in step.

This is what the notebook service drives. Every structural change goes through here so
that staleness is never forgotten: editing a cell marks its descendants stale, changing
who provides a name marks the readers stale, and deleting a cell plans the cleanup and
the re-run of its dependents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .analysis import CellAnalysis
from .graph import GraphChange, NotebookGraph
from .planner import Plan, merge, plan_removal, plan_run
from .run_state import CellRun, RunState


class ReactiveCore:
    """Graph + run state for one notebook and its kernel."""

    def __init__(self) -> None:
        self.graph = NotebookGraph()
        self.state = RunState()

    def insert(
        self, cell_id: str, analysis: CellAnalysis, *, after: str | None, fingerprint: str = ""
    ) -> GraphChange:
        change = self.graph.insert(cell_id, analysis, after=after, fingerprint=fingerprint)
        self._mark_stale(change)
        return change

    def append(self, cell_id: str, analysis: CellAnalysis, *, fingerprint: str = "") -> GraphChange:
        return self.insert(cell_id, analysis, after=self.graph.last(), fingerprint=fingerprint)

    def update(self, cell_id: str, analysis: CellAnalysis, *, fingerprint: str = "") -> GraphChange:
        """New code for a cell: re-analysed, re-linked, nothing runs.

        Code that does not parse keeps the names of the last code that did, so the
        cells reading from it show "waiting on" it rather than a puzzling NameError.
        """
        changed_code = fingerprint != self.graph.fingerprint(cell_id)
        previous = self.graph.analysis(cell_id)
        if analysis.error is not None:
            analysis = replace(previous, error=analysis.error)
        change = self.graph.update(cell_id, analysis, fingerprint=fingerprint)
        self._mark_stale(change)
        if changed_code:
            # Its outputs came from the old code: it is stale itself (if it ran), and so
            # are the cells that read it.
            self.state.mark_stale(self.graph, [cell_id])
            run = self.state.runs.get(cell_id)
            readers = self.state.affected_readers(self.graph, cell_id, run)
            self.state.mark_stale(self.graph, readers)
        return change

    def move(self, cell_id: str, *, after: str | None) -> GraphChange:
        change = self.graph.move(cell_id, after=after)
        self._mark_stale(change)
        return change

    def remove(self, cell_id: str) -> Plan:
        """Delete a cell; the plan drops its names and re-runs its former dependents."""
        plan = plan_removal(self.graph, self.state, cell_id)
        self._mark_stale(GraphChange())
        return plan

    def _mark_stale(self, change: GraphChange) -> None:
        """Cells whose providers changed, or that now sit on a cycle, no longer show
        what a fresh run would: they and their descendants become stale."""
        self.state.mark_stale(self.graph, change.inputs_changed)
        self.state.mark_stale(self.graph, self.graph.cycles())

    def plan(self, targets: Iterable[str]) -> Plan:
        return plan_run(self.graph, self.state, targets)

    def merge(self, queued: Plan, targets: Iterable[str]) -> Plan:
        return merge(self.graph, self.state, queued, targets)

    def record(
        self,
        cell_id: str,
        *,
        ok: bool,
        ran: CellRun | None = None,
        untouched: frozenset[str] = frozenset(),
        replay: bool = False,
        unbound: frozenset[str] | None = None,
    ) -> None:
        """A planned cell finished running; ``ran`` is :meth:`snapshot` taken at planning,
        ``untouched`` the names the runner saw it leave alone, ``replay``: the plan re-ran
        it only to give back a value (``Plan.replays``), ``unbound``: the names a failed
        cell did not bind (None: unknown)."""
        self.state.record(
            self.graph,
            cell_id,
            ok=ok,
            ran=ran,
            untouched=untouched,
            replay=replay,
            unbound=unbound,
        )

    def learn_writes(self, cell_id: str, names: frozenset[str], *, bound: bool) -> set[str]:
        """A run told what the cell's star imports bind (``from m import *``): they count
        as its writes until its code changes; ``bound``: the kernel holds them now.

        Returns the cells that now read from it and did not before: they must run.
        """
        analysis = self.graph.analysis(cell_id)
        if not analysis.star_imports:
            return set()
        learned = analysis.with_star_names(names)
        before = set(self.graph.readers_of(cell_id))
        if learned.writes != analysis.writes:
            self.update(cell_id, learned, fingerprint=self.graph.fingerprint(cell_id))
        if bound:
            self.state.wrote(cell_id, learned.defines)
        return set(self.graph.readers_of(cell_id)) - before

    def finished(self, plan: Plan) -> None:
        """The runner ended ``plan``: the kept values are back in the kernel."""
        self.state.restored({n: c for n, c in plan.restore.items() if c in self.graph})

    def not_run(self, cell_ids: Iterable[str]) -> None:
        """A run could not run these cells (blocked): what they show is not current."""
        self.state.mark_stale(self.graph, cell_ids)

    def show(self, cell_ids: Iterable[str]) -> None:
        """These cells hold outputs from before this kernel (the file's)."""
        self.state.show(cell_ids)

    def outputs_cleared(self, cell_id: str) -> None:
        self.state.unshow(cell_id)

    def snapshot(self, cell_id: str) -> CellRun:
        """The code a plan is about to run, to be recorded when it finishes."""
        return RunState.snapshot(self.graph, cell_id)

    def names_deleted(self, names: Iterable[str]) -> None:
        self.state.deleted(set(names))

    def kernel_restarted(self) -> None:
        self.state.reset()

    def is_stale(self, cell_id: str) -> bool:
        return cell_id in self.state.stale

    def take_stale_changes(self) -> set[str]:
        """Cells whose staleness may have changed since the last call (see RunState)."""
        return self.state.take_stale_changes()
