"""From a run request to a plan: which cells run, in which order, and which cannot.

Running a cell runs (design.md section 3):

1. the cell and all its descendants (the cascade);
2. every provider of a planned cell that is not current: it never ran in this kernel,
   failed, its code changed, its inputs changed, or the names it provides were last
   written in the kernel by another cell (so ``n = n + 1`` never counts twice);
3. the descendants that already ran of any provider planned in step 2, since their
   values would otherwise be stale. Cells that never ran are left alone.

Only the re-runs an edit needs: a cell reached only because it redefines a name of a
re-running cell (an overwrite edge), that reads nothing the re-running cell writes and is
current, keeps its value instead of re-running, and so do its readers. The kernel holds
the value of the last definer of that name when the run starts; the runner takes it out
and puts it back once the readers of the earlier definition have run (``Plan.restore``),
so the kernel ends as a top-to-bottom run would.

A cell that fails has still bound the names it bound before raising: the cells reading
only those run; the cells reading a name it did not bind are skipped (``PlanStep.needs``).

Cells the graph says cannot run (syntax error, ambiguous read, cycle) are blocked, and so
is every planned cell downstream of them. Before each cell the plan deletes from the
kernel the names the cell wrote last time and no longer writes, and the names it reads
that no cell provides but a cell left in the kernel (so a fresh run's ``NameError`` is
not hidden by a leftover value).

Planning walks only the cells it plans plus their direct neighbours: a leaf run costs
the same in a 100-cell and a 5000-cell notebook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .graph import NotebookGraph
from .run_state import RunState


@dataclass(frozen=True, slots=True)
class PlanStep:
    """Run ``cell_id`` after deleting ``delete_before`` from the kernel.

    ``needs`` pairs the indices of earlier steps this cell reads from with the names it
    reads from each. If one of them fails before binding one of those names, or is
    skipped, this cell is skipped too (and blocked), so a kernel-side runner can skip
    without asking the server; names a failed cell did bind are read as usual. A cell
    that only redefines a name of a failed cell still runs.

    ``binds`` are the names the cell defines: the runner reports which of them a failed
    cell did not bind. ``fresh`` are those it binds without reading them: the runner
    hides them while the cell runs, so "bound" means bound by this run (see
    ``kernel_side/runner.py``). ``restore_before`` are kept values (``Plan.restore``)
    put back just before this cell runs.
    """

    cell_id: str
    delete_before: frozenset[str] = frozenset()
    needs: tuple[tuple[int, frozenset[str]], ...] = ()
    binds: frozenset[str] = frozenset()
    fresh: frozenset[str] = frozenset()
    deletes: frozenset[str] = frozenset()
    restore_before: frozenset[str] = frozenset()

    @property
    def after(self) -> tuple[int, ...]:
        """The indices of the earlier steps this cell reads from."""
        return tuple(index for index, _ in self.needs)


@dataclass(frozen=True, slots=True)
class Plan:
    """An ordered run. ``blocked`` maps cells that cannot run to the reason.

    ``kept`` are cells that do not re-run although an earlier definer of a name they
    redefine does: their value for that name (``keep`` holds the names) is taken out of
    the kernel when the run starts and put back once the readers of the earlier
    definition have run, at the step whose ``restore_before`` names it, or when the run
    ends. ``restore``: the names whose last writer is then the kept cell (name -> cell);
    not those a later definer in the plan writes afterwards. ``replays`` are current
    cells re-run only to give a reader back a value a later definer overwrote in the
    kernel: their readers keep what they show (record them with ``replay=True``).
    """

    targets: frozenset[str]
    steps: tuple[PlanStep, ...]
    blocked: Mapping[str, str] = field(default_factory=dict)
    cleanup: frozenset[str] = frozenset()
    kept: frozenset[str] = frozenset()
    restore: Mapping[str, str] = field(default_factory=dict)
    keep: frozenset[str] = frozenset()
    replays: frozenset[str] = frozenset()

    @property
    def cell_ids(self) -> list[str]:
        return [step.cell_id for step in self.steps]

    def blocked_by_failure(self, failed: str, unbound: frozenset[str] | None = None) -> list[str]:
        """The planned cells that cannot run once ``failed`` has failed, in plan order."""
        return list(self.failure_reasons(failed, unbound))

    def failure_reasons(
        self, failed: str, unbound: frozenset[str] | None = None, *, error: str = ""
    ) -> dict[str, str]:
        """The planned cells ``failed`` blocks, in plan order, each with why.

        ``unbound``: the names of its ``binds`` the failed cell did not bind (None: all
        of them). A cell reading only names it did bind is not blocked. ``error``: the
        failure as the cell shows it, quoted in the reasons.
        """
        quoted = f" ({error})" if error else ""
        position = {step.cell_id: i for i, step in enumerate(self.steps)}
        if failed not in position:
            return {}
        first = position[failed]
        missing = self.steps[first].binds if unbound is None else unbound
        dead: dict[int, frozenset[str] | None] = {first: missing}  # None: skipped
        reasons: dict[str, str] = {}
        for index in range(first + 1, len(self.steps)):
            step = self.steps[index]
            for parent, names in step.needs:
                if parent not in dead:
                    continue
                lacking = dead[parent]
                if lacking is None:
                    source = self.steps[parent].cell_id
                    reasons[step.cell_id] = (
                        f"waiting on cell {source}, blocked because cell {failed} failed"
                    )
                elif names & lacking:
                    listed = ", ".join(f"`{n}`" for n in sorted(names & lacking))
                    reasons[step.cell_id] = f"cell {failed} failed before defining {listed}{quoted}"
                else:
                    continue
                dead[index] = None
                break
        return reasons


def plan_run(
    graph: NotebookGraph,
    state: RunState,
    targets: Iterable[str],
    *,
    cleanup: frozenset[str] = frozenset(),
) -> Plan:
    """Plan a run of ``targets`` (and what it entails) against the kernel's state."""
    requested = frozenset(targets)
    for cell_id in requested:
        if cell_id not in graph:
            raise KeyError(cell_id)
    forced: set[str] = set()
    while True:
        planned, kept, replays = _closure(graph, state, requested | forced)
        order = graph.sort(planned)
        blocked = _blocked(graph, order, planned)
        runnable = [c for c in order if c not in blocked]
        restore, points, conflicts = _restores(graph, state, runnable, planned)
        if not conflicts:
            break
        forced |= conflicts  # a kept value cannot be put back in time: re-run its cell
    steps = _steps(graph, state, runnable, points)
    keep = frozenset(points)
    replayed = frozenset(c for c in replays if c not in blocked)
    return Plan(requested, tuple(steps), blocked, cleanup, frozenset(kept), restore, keep, replayed)


def merge(graph: NotebookGraph, state: RunState, queued: Plan, targets: Iterable[str]) -> Plan:
    """Fold a new request into a plan that has not started: each cell runs once.

    Cells deleted since the first request was queued are dropped from it.
    """
    wanted = frozenset(c for c in queued.targets if c in graph) | frozenset(targets)
    return plan_run(graph, state, wanted, cleanup=queued.cleanup)


def plan_removal(graph: NotebookGraph, state: RunState, cell_id: str) -> Plan:
    """Delete a cell: remove it from the graph, drop its names, re-run its dependents."""
    change = graph.remove(cell_id)
    names = state.forget(cell_id)
    state.mark_stale(graph, change.former_children | change.inputs_changed)
    dependents = frozenset(c for c in change.former_children if c in graph)
    return plan_run(graph, state, dependents, cleanup=names)


# How far planning a cell reaches down: all its descendants (a target's), those that
# ran in this kernel (a provider re-running because it is not current), none (a current
# provider re-running only to give back a value the kernel no longer holds: same code,
# same inputs, same values, so what read them before still shows what it should).
_ALL, _RAN, _REPLAY = 2, 1, 0


def _closure(
    graph: NotebookGraph, state: RunState, targets: frozenset[str]
) -> tuple[set[str], set[str], set[str]]:
    """The cells to run, the cells kept instead of re-run (see :func:`_keeps_value`) and
    the replays (cells re-run only to give back a value; their readers do not re-run).

    The targets and all their descendants run; so does every provider of a planned cell
    that is not current, with the descendants of that provider that ran. A provider that
    is current but whose value the kernel no longer holds (a later definer overwrote it)
    is replayed.
    """
    planned = set(targets)
    kept: set[str] = set()
    work = [(cell_id, _ALL) for cell_id in targets]
    expanded: dict[str, int] = {}
    while work:
        cell_id, reach = work.pop()
        if expanded.get(cell_id, -1) >= reach:
            continue
        expanded[cell_id] = reach
        imported = _same_imports(graph, state, cell_id)
        for child, linked in graph.children(cell_id).items() if reach else ():
            names = linked - imported
            if not names:
                if child not in state.stale and not graph.analysis(child).defines & linked:
                    continue  # it reads only modules the cell imports again: the same ones
                # (a child that rebinds or deletes such a name changed what the kernel
                # holds: importing again undoes that, so it runs again)
                names = linked
            if child in planned:
                if expanded.get(child, reach) < reach:
                    work.append((child, reach))  # reached again from further up: further
                continue
            if not (reach == _ALL or state.has_run(child)):
                continue
            if _keeps_value(graph, state, cell_id, child, names):
                kept.add(child)
                continue
            planned.add(child)
            work.append((child, reach))
        by_provider: dict[str, set[str]] = {}
        for name, provider in graph.providers(cell_id).items():
            by_provider.setdefault(provider, set()).add(name)
        for provider, names_read in by_provider.items():
            if provider in planned or _provides_current(graph, state, provider, names_read):
                continue
            planned.add(provider)
            work.append((provider, _REPLAY if state.is_current(graph, provider) else _RAN))
    replays = {c for c, reach in expanded.items() if reach == _REPLAY}
    return planned, kept - planned, replays


def _same_imports(graph: NotebookGraph, state: RunState, cell_id: str) -> frozenset[str]:
    """The names a re-run of the cell binds to the objects it bound last time: names its
    first statements bind only by importing what they imported then (modules are cached;
    nothing in the cell can fail before them)."""
    run = state.runs.get(cell_id)
    analysis = graph.analysis(cell_id)
    if run is None or not run.imports or not analysis.imports:
        return frozenset()
    if not graph.can_run(cell_id):
        return frozenset()  # it will not run: what reads from it cannot either
    leading = analysis.leading_imports
    return frozenset(
        n for n, target in analysis.imports if n in leading and run.same_import(n, target)
    )


def _keeps_value(
    graph: NotebookGraph, state: RunState, source: str, child: str, names: frozenset[str]
) -> bool:
    """``child`` only redefines names of ``source`` and need not re-run when it does.

    It reads nothing ``source`` defines, ran with its current code and inputs, and the
    kernel holds, for each name they share, the value of a current definer at or below
    ``child``: the value a top-to-bottom run ends with. That value is put back once the
    readers of ``source``'s definition have run (see :func:`_restores`).
    """
    provided = graph.providers(child)
    if any(provided.get(name) == source for name in names):
        return False  # it reads what ``source`` writes
    if not state.is_current(graph, child):
        return False
    below = graph.index(child)
    for name in names:
        writer = state.last_writer.get(name)
        if (
            writer is None
            or writer not in graph
            or name not in graph.analysis(writer).defines
            or graph.index(writer) < below
            or not state.is_current(graph, writer)
        ):
            return False
    return True


def _restores(
    graph: NotebookGraph, state: RunState, order: list[str], planned: set[str]
) -> tuple[dict[str, str], dict[str, int], set[str]]:
    """Kept values to put back: ``(name -> its kept writer when it stays the last one,
    name -> the step before which it is put back, cells to re-run instead because that
    cannot be done in time)``.

    A name needs putting back when a planned step reads it from the cell whose value the
    kernel holds, or when every planned definer of it is above that cell. It goes back
    after the last step that uses an earlier definition (defines it, or reads it from a
    definer above) and must be back before the first step that reads it from the kept
    cell or defines it below; otherwise the kept cell re-runs.
    """
    restore: dict[str, str] = {}
    points: dict[str, int] = {}
    conflicts: set[str] = set()
    defined: dict[str, list[int]] = {}  # name -> steps defining it
    read: dict[str, list[tuple[int, str]]] = {}  # name -> (step, its provider) reading it
    for index, cell_id in enumerate(order):
        for name in graph.analysis(cell_id).defines:
            defined.setdefault(name, []).append(index)
        for name, provider in graph.providers(cell_id).items():
            read.setdefault(name, []).append((index, provider))
    for name, definers in defined.items():
        writer = state.last_writer.get(name)
        if (
            writer is None
            or writer in planned
            or writer not in graph
            or graph.interchangeable(name)
            or name not in graph.analysis(writer).defines
            or not (state.is_current(graph, writer) or state.bound_current(graph, writer, (name,)))
        ):
            continue  # (a failed writer that bound or deleted it holds what a run would give)
        kept_at = graph.index(writer)
        last_earlier = -1  # the last step using a definition above the kept cell's
        first_later = len(order)  # the first step that must see the kept value or follow it
        later_definer = False
        for index in definers:
            if graph.index(order[index]) < kept_at:
                last_earlier = max(last_earlier, index)
            else:
                later_definer = True
                first_later = min(first_later, index)
        kept_read = False
        for index, provider in read.get(name, ()):
            if graph.index(provider) < kept_at:
                last_earlier = max(last_earlier, index)
            else:
                kept_read = True
                first_later = min(first_later, index)
        if later_definer and not kept_read:
            continue  # a later definer runs and writes the name last: nothing to put back
        if first_later <= last_earlier:
            conflicts.add(writer)
            continue
        if not later_definer:
            restore[name] = writer
        points[name] = last_earlier + 1
    return restore, points, conflicts


def _provides_current(
    graph: NotebookGraph, state: RunState, provider: str, names: set[str]
) -> bool:
    if not (state.is_current(graph, provider) or state.bound_current(graph, provider, names)):
        return False
    defines = graph.analysis(provider).defines
    for name in names:
        if name not in defines:
            continue  # bound through `globals()[k] = v` or `exec`: no record of who wrote it
        writer = state.last_writer.get(name)
        if writer != provider and not (
            graph.interchangeable(name) and writer in graph.definers(name)
        ):
            return False
    return True


def _blocked(graph: NotebookGraph, order: list[str], planned: set[str]) -> dict[str, str]:
    """The planned cells that cannot run: a graph problem, or a provider that cannot run.

    Waiting spreads from the cells with problems over the data edges, not along the run
    order: a cycle's cells may be ordered after a cell that reads from them.
    """
    blocked: dict[str, str] = {}
    waiting: list[str] = []
    for cell_id in order:
        problem = graph.problem(cell_id)
        if problem is not None:
            blocked[cell_id] = problem.message
            waiting.append(cell_id)
    while waiting:
        parent = waiting.pop()
        for child in graph.readers_of(parent):
            if child in planned and child not in blocked:
                blocked[child] = f"waiting on cell {parent}, which cannot run"
                waiting.append(child)
    return {cell_id: blocked[cell_id] for cell_id in order if cell_id in blocked}


def _steps(
    graph: NotebookGraph, state: RunState, order: list[str], points: dict[str, int]
) -> list[PlanStep]:
    restore_at: dict[int, set[str]] = {}
    for name, index in points.items():
        restore_at.setdefault(index, set()).add(name)
    index_of: dict[str, int] = {}
    defined_so_far: set[str] = set()
    steps: list[PlanStep] = []
    for cell_id in order:
        analysis = graph.analysis(cell_id)
        delete = _names_to_delete(graph, state, cell_id) - defined_so_far
        reads_from: dict[int, set[str]] = {}
        for name, provider in graph.providers(cell_id).items():
            if provider in index_of:
                reads_from.setdefault(index_of[provider], set()).add(name)
        needs = tuple((i, frozenset(names)) for i, names in sorted(reads_from.items()))
        defines = analysis.defines
        fresh = defines - analysis.reads - analysis.ambient_reads
        restore = frozenset(restore_at.get(len(steps), ()))
        index_of[cell_id] = len(steps)
        steps.append(
            PlanStep(cell_id, frozenset(delete), needs, defines, fresh, analysis.deletes, restore)
        )
        defined_so_far |= defines
    return steps


def _names_to_delete(graph: NotebookGraph, state: RunState, cell_id: str) -> set[str]:
    analysis = graph.analysis(cell_id)
    delete: set[str] = set()
    run = state.runs.get(cell_id)
    if run is not None:
        for name in run.writes - analysis.defines:
            if state.last_writer.get(name) == cell_id:
                delete.add(name)
    providers = graph.providers(cell_id)
    for name in analysis.reads | analysis.ambient_reads:
        if name not in providers and name in state.last_writer:
            delete.add(name)
    return delete
