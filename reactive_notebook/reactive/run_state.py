"""What the kernel holds: which cells ran since it started, and who wrote each name last.

The planner reads this to decide which ancestors must re-run; the engine records every
cell's outcome here. ``stale`` holds the cells that ran but whose inputs changed since
(an ancestor was edited or re-ran without them): their outputs are not what a fresh run
would show until they run again. ``stale_changed`` collects the cells whose staleness may
have changed, so whoever mirrors the flags looks at those only, not at the whole notebook.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .graph import NotebookGraph


@dataclass(frozen=True, slots=True)
class CellRun:
    """One cell's last run in this kernel."""

    fingerprint: str
    writes: frozenset[str]
    ok: bool


class RunState:
    """The kernel's history as far as reactivity is concerned. Reset on kernel restart."""

    def __init__(self) -> None:
        self.runs: dict[str, CellRun] = {}
        self.last_writer: dict[str, str] = {}
        self.stale: set[str] = set()
        self.stale_changed: set[str] = set()

    def reset(self) -> None:
        """The kernel restarted: nothing has run, nothing is defined."""
        self.runs.clear()
        self.last_writer.clear()
        self.stale_changed |= self.stale
        self.stale.clear()

    def take_stale_changes(self) -> set[str]:
        """The cells whose staleness may have changed since the last call."""
        changed, self.stale_changed = self.stale_changed, set()
        return changed

    def has_run(self, cell_id: str) -> bool:
        return cell_id in self.runs

    def is_current(self, graph: NotebookGraph, cell_id: str) -> bool:
        """Ran successfully, with its current code, and no input changed since."""
        run = self.runs.get(cell_id)
        return (
            run is not None
            and run.ok
            and run.fingerprint == graph.fingerprint(cell_id)
            and cell_id not in self.stale
        )

    def record(
        self,
        graph: NotebookGraph,
        cell_id: str,
        *,
        ok: bool,
        ran: CellRun | None = None,
    ) -> None:
        """A cell finished (``ok``: without raising). Its descendants become stale.

        ``ran`` describes the code that actually ran (fingerprint and names), when it
        may differ from the graph's: a cell edited while its run was in flight is not
        current afterwards. A failed cell may have written some of its names before
        raising, so it is taken as the last writer of all of them: readers of an
        earlier definition then re-run that definition first.
        """
        if ran is None:
            ran = CellRun(graph.fingerprint(cell_id), graph.analysis(cell_id).defines, ok)
        self.runs[cell_id] = CellRun(ran.fingerprint, ran.writes, ok)
        for name in ran.writes:  # a `del x` is the last word on `x` too
            self.last_writer[name] = cell_id
        self._unstale(cell_id)
        self.mark_stale(graph, graph.children(cell_id))

    @staticmethod
    def snapshot(graph: NotebookGraph, cell_id: str) -> CellRun:
        """What running the cell's current code will be recorded as (taken at planning)."""
        return CellRun(graph.fingerprint(cell_id), graph.analysis(cell_id).defines, True)

    def deleted(self, names: frozenset[str] | set[str]) -> None:
        """These names were deleted from the kernel before a cell ran."""
        for name in names:
            self.last_writer.pop(name, None)

    def mark_stale(self, graph: NotebookGraph, cell_ids: Iterable[str]) -> None:
        """These cells' inputs changed: they and their descendants that ran are stale."""
        if not self.runs:
            return  # nothing ran in this kernel (a notebook being written): nothing is stale
        stack = [c for c in cell_ids if c in graph]
        seen: set[str] = set()
        while stack:
            cell_id = stack.pop()
            if cell_id in seen or cell_id in self.stale:
                continue  # a stale cell's descendants were marked when it became stale
            seen.add(cell_id)
            if cell_id in self.runs:
                self.stale.add(cell_id)
                self.stale_changed.add(cell_id)
            stack.extend(graph.children(cell_id))

    def forget(self, cell_id: str) -> frozenset[str]:
        """A cell was deleted: the names it last wrote, to delete from the kernel."""
        run = self.runs.pop(cell_id, None)
        self._unstale(cell_id)
        written = run.writes if run is not None else frozenset()
        names = frozenset(n for n in written if self.last_writer.get(n) == cell_id)
        for name in names:
            del self.last_writer[name]
        return names

    def _unstale(self, cell_id: str) -> None:
        if cell_id in self.stale:
            self.stale.discard(cell_id)
            self.stale_changed.add(cell_id)
