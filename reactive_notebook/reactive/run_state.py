"""What the kernel holds: which cells ran since it started, and who wrote each name last.

The planner reads this to decide which ancestors must re-run; the engine records every
cell's outcome here. ``stale`` holds the cells that ran but whose inputs changed since
(an ancestor was edited or re-ran without them): their outputs are not what a fresh run
would show until they run again; so are the cells in ``shown`` (holding outputs that no
run in this kernel made: loaded from the file, or made by a kernel since restarted) whose
code or inputs changed, or that a run could not reach. ``stale_changed`` collects the
cells whose staleness may have changed, so whoever mirrors the flags looks at those only,
not at the whole notebook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from .graph import NotebookGraph


@dataclass(frozen=True, slots=True)
class CellRun:
    """One cell's last run in this kernel."""

    fingerprint: str
    writes: frozenset[str]
    ok: bool
    #: (name, what it imports) for the names the cell binds only by importing
    imports: frozenset[tuple[str, str]] = frozenset()
    #: of a failed run, the names it did not bind (None: not known, take all)
    unbound: frozenset[str] | None = None

    def same_import(self, name: str, target: str | None) -> bool:
        """The run bound ``name`` by importing ``target``, and succeeded: re-running the
        cell binds the very same object again (modules are cached)."""
        return self.ok and target is not None and (name, target) in self.imports


class RunState:
    """The kernel's history as far as reactivity is concerned. Reset on kernel restart."""

    def __init__(self) -> None:
        self.runs: dict[str, CellRun] = {}
        self.last_writer: dict[str, str] = {}
        self.stale: set[str] = set()
        self.stale_changed: set[str] = set()
        self.shown: set[str] = set()

    def reset(self) -> None:
        """The kernel restarted: nothing has run, nothing is defined.

        The outputs of the cells that ran stay on show, and stay stale if they were.
        """
        self.shown.update(self.runs)
        self.runs.clear()
        self.last_writer.clear()

    def show(self, cell_ids: Iterable[str]) -> None:
        """These cells hold outputs that no run in this kernel made (from the file)."""
        self.shown.update(cell_ids)

    def unshow(self, cell_id: str) -> None:
        """The cell's outputs were cleared: nothing of it is on show."""
        self.shown.discard(cell_id)
        self._unstale(cell_id)

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
        untouched: frozenset[str] = frozenset(),
        replay: bool = False,
        unbound: frozenset[str] | None = None,
    ) -> None:
        """A cell finished (``ok``: without raising). Its dependents become stale, unless
        it was a ``replay`` that succeeded (same code, same inputs: same values).

        ``ran`` describes the code that actually ran (fingerprint and names), when it
        may differ from the graph's: a cell edited while its run was in flight is not
        current afterwards. ``untouched`` are names of the cell the runner saw it leave
        alone (not bound, the previous value put back): their last writer does not
        change. A failed cell may have changed the others in place before raising, so
        it is taken as their last writer: readers of an earlier definition then re-run
        that definition first.
        """
        if ran is None:
            ran = self.snapshot(graph, cell_id)
        before = self.runs.get(cell_id)
        missing = frozenset() if ok else unbound
        self.runs[cell_id] = CellRun(ran.fingerprint, ran.writes, ok, ran.imports, missing)
        self.shown.discard(cell_id)
        for name in ran.writes - untouched:  # a `del x` is the last word on `x` too
            self.last_writer[name] = cell_id
        self._unstale(cell_id)
        if not ok:  # it may have stopped before an import: every reader is affected
            self.mark_stale(graph, graph.readers_of(cell_id))
        elif not replay:
            self.mark_stale(graph, self.affected_readers(graph, cell_id, before))

    def bound_current(self, graph: NotebookGraph, cell_id: str, names: Iterable[str]) -> bool:
        """The cell failed, with its current code and inputs, after binding ``names``: a
        new run would fail the same way, so the kernel holds what it gives them."""
        run = self.runs.get(cell_id)
        return (
            run is not None
            and not run.ok
            and run.unbound is not None
            and run.fingerprint == graph.fingerprint(cell_id)
            and cell_id not in self.stale
            and not any(name in run.unbound for name in names)
        )

    def affected_readers(
        self, graph: NotebookGraph, cell_id: str, run: CellRun | None
    ) -> list[str]:
        """The cells reading from ``cell_id`` whose inputs a new run of it changes: not
        those reading only names its first statements import, as they did in ``run``
        (the same modules, bound before anything in the cell can fail), unless it cannot
        run at all (then none of its names is there for them) or the reader rebinds or
        deletes one of them (importing again undoes what it did)."""
        analysis = graph.analysis(cell_id)
        readers = graph.readers_of(cell_id)
        if run is None or not run.imports or graph.problem(cell_id) is not None:
            return readers
        affected = []
        leading = analysis.leading_imports
        for reader in readers:
            names = [n for n, p in graph.providers(reader).items() if p == cell_id]
            if graph.analysis(reader).defines.intersection(names) or not all(
                n in leading and run.same_import(n, analysis.import_target(n)) for n in names
            ):
                affected.append(reader)
        if len(affected) < len(readers) and not graph.can_run(cell_id):
            return readers  # waiting on a cell that cannot run: it will bind nothing
        return affected

    def wrote(self, cell_id: str, names: frozenset[str]) -> None:
        """The cell, which just ran, wrote these names too (learnt after its run)."""
        run = self.runs.get(cell_id)
        if run is None:
            return
        self.runs[cell_id] = replace(run, writes=run.writes | names)
        for name in names:
            self.last_writer[name] = cell_id

    def restored(self, values: Mapping[str, str]) -> None:
        """Kept values were put back: name -> the cell that wrote it."""
        self.last_writer.update(values)

    @staticmethod
    def snapshot(graph: NotebookGraph, cell_id: str) -> CellRun:
        """What running the cell's current code will be recorded as (taken at planning)."""
        analysis = graph.analysis(cell_id)
        return CellRun(graph.fingerprint(cell_id), analysis.defines, True, analysis.imports)

    def deleted(self, names: frozenset[str] | set[str]) -> None:
        """These names were deleted from the kernel before a cell ran."""
        for name in names:
            self.last_writer.pop(name, None)

    def mark_stale(self, graph: NotebookGraph, cell_ids: Iterable[str]) -> None:
        """These cells' inputs changed: they and the cells reading from them, directly
        or not, that show outputs are stale. A later cell that only redefines a name is
        not: what it shows does not depend on the earlier definition."""
        if not self.runs and not self.shown:
            return  # nothing on show (a notebook being written): nothing is stale
        # (cell, whether a cell it depends on cannot run): then none of its names will
        # be there, so even the readers of only the modules it imports are stale.
        stack = [(c, False) for c in cell_ids if c in graph]
        seen: set[tuple[str, bool]] = set()
        while stack:
            cell_id, blocked = stack.pop()
            blocked = blocked or graph.problem(cell_id) is not None
            if (cell_id, blocked) in seen:
                continue
            seen.add((cell_id, blocked))
            if cell_id in self.stale:
                if not blocked:
                    continue  # its readers were marked when it became stale
            elif cell_id in self.runs or cell_id in self.shown:
                self.stale.add(cell_id)
                self.stale_changed.add(cell_id)
            if blocked:
                readers = graph.readers_of(cell_id)
            else:
                readers = self.affected_readers(graph, cell_id, self.runs.get(cell_id))
            stack.extend((reader, blocked) for reader in readers)

    def forget(self, cell_id: str) -> frozenset[str]:
        """A cell was deleted: the names it last wrote, to delete from the kernel."""
        run = self.runs.pop(cell_id, None)
        self.shown.discard(cell_id)
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
