"""Cells that read names dynamically, and their edges (design.md section 3).

A cell is *dynamic* when its own code reaches names by string (``eval(s)``, ``globals()``:
:mod:`.dynamic_names`), or when code that runs with it loads a *dynamic function* of the
notebook: a name another cell binds to a function or class whose body does, or whose body
loads such a function in turn (``g`` calls ``f`` calls ``eval``), followed through the
providers the graph chose. A dynamic cell counts as reading every name defined above it:
for each such name it gets the edges a reader of that name would get (the nearest
definition above it provides it, and it runs before the next definition below overwrites
it), except that a name defined only below it is no error, just no edge. Names the cell
reads statically keep their ordinary edges.

A cell that binds names it cannot name (``globals()[k] = v``, ``globals().update(d)``,
``exec(code)``: ``writes_unknown``) may define any name nobody else defines: a cell that
reads a name no cell defines takes it from the nearest such cell above it (a data edge),
so it re-runs when that cell does and never keeps a value from an earlier run.

Kept incrementally, at the cost of what changed:

- a cell whose analysis, or the provider of a name it calls, changes is re-examined
  (``pending``); a change in its dynamic functions re-examines the cells that take those
  names from it, and so on;
- a cell becoming dynamic (or moving) gets its edges for every name defined above it, a
  cell no longer dynamic loses them: O(names in the notebook), once;
- a definition of ``x`` inserted, removed or moved re-links only the dynamic cells whose
  nearest definition of ``x`` above or below changed (those between the definitions next
  to it), found by bisection in the sorted list of dynamic cells.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING

from .dynamic_names import BARE_DYNAMIC
from .edges import Edge, EdgeKind

if TYPE_CHECKING:
    from .analysis import CellAnalysis
    from .graph import NotebookGraph

#: What the API and the UI say about a dynamic cell.
DYNAMIC_PREFIX = "reads names dynamically"


class DynamicReads:
    """The dynamic cells of one graph and the edges they add."""

    def __init__(self, graph: NotebookGraph) -> None:
        self.graph = graph
        self.reason: dict[str, str] = {}  # dynamic cell -> why
        self.cells: list[str] = []  # dynamic cells, in notebook order
        self.functions: dict[str, dict[str, str]] = {}  # cell -> its dynamic functions
        self.edges: dict[str, dict[str, list[Edge]]] = {}  # cell -> name -> its edges
        self.bare: set[str] = set()  # cells naming eval & co. without calling them
        self.pending: set[str] = set()
        self.changed: set[str] = set()  # cells whose reason changed, for the UI
        self.unknown_writers: list[str] = []  # cells with writes_unknown, in order

    # -- queries ----------------------------------------------------------------

    def why(self, cell_id: str) -> str | None:
        reason = self.reason.get(cell_id)
        return None if reason is None else f"{DYNAMIC_PREFIX} ({reason})"

    def function_reason(self, cell_id: str, name: str) -> str | None:
        functions = self.functions.get(cell_id)
        return None if functions is None else functions.get(name)

    # -- triggers from the graph --------------------------------------------------

    def analysis_changed(self, cell_id: str) -> None:
        """The cell was inserted or its analysis changed: drop its dynamic edges now (its
        static reads may take them over) and re-examine it."""
        self.drop(cell_id)
        analysis = self.graph.analysis(cell_id)
        if analysis.writes_unknown != (cell_id in self.unknown_writers):
            if analysis.writes_unknown:
                self.add_unknown_writer(cell_id)
            else:
                self.remove_unknown_writer(cell_id)
        if analysis.dynamic_builtins:
            self.bare.add(cell_id)
        else:
            self.bare.discard(cell_id)
        self.pending.add(cell_id)

    def removed(self, cell_id: str) -> None:
        """Before the cell leaves the graph: its own dynamic edges go."""
        self.drop(cell_id)
        self.bare.discard(cell_id)
        if cell_id in self.unknown_writers:
            self.remove_unknown_writer(cell_id)

    # -- cells that bind names they cannot name -------------------------------------

    def unknown_writer_above(self, cell_id: str) -> str | None:
        """The nearest cell above ``cell_id`` that binds names it cannot name."""
        if not self.unknown_writers:
            return None
        key = self.graph._key
        index = bisect_left(self.unknown_writers, key(cell_id), key=key)
        return self.unknown_writers[index - 1] if index else None

    def add_unknown_writer(self, cell_id: str) -> None:
        key = self.graph._key
        self.unknown_writers.insert(
            bisect_left(self.unknown_writers, key(cell_id), key=key), cell_id
        )
        self._relink_undefined_below(cell_id)

    def remove_unknown_writer(self, cell_id: str) -> None:
        self.unknown_writers.remove(cell_id)
        self._relink_undefined_below(cell_id)

    def _relink_undefined_below(self, cell_id: str) -> None:
        """Readers of names no cell defines, from ``cell_id`` down to the next cell that
        binds unknown names: their nearest such cell above changed."""
        graph = self.graph
        key = graph._key
        index = bisect_right(self.unknown_writers, key(cell_id), key=key)
        upto = self.unknown_writers[index] if index < len(self.unknown_writers) else None
        for name, readers in list(graph._readers.items()):
            if name not in graph._definers:
                for reader in graph._between(readers, cell_id, upto):
                    graph._recompute_reader(name, reader)

    def forget(self, cell_id: str) -> None:
        """After the cell left the graph (its readers were re-linked meanwhile)."""
        self.functions.pop(cell_id, None)
        self.pending.discard(cell_id)
        self.changed.discard(cell_id)

    def provider_changed(self, name: str, reader: str, old: list[Edge], new: list[Edge]) -> None:
        """A static reader of ``name`` changed edges: if a dynamic function was involved,
        whether the reader is dynamic may have changed."""
        for source, _, kind, _ in (*old, *new):
            if kind is EdgeKind.DATA and name in self.functions.get(source, ()):
                self.pending.add(reader)
                return

    def definers_changed(self, names: set[str]) -> None:
        """Cells started or stopped defining these names: ``vars = [...]`` makes a bare
        ``vars`` an ordinary read."""
        if self.bare and not names.isdisjoint(BARE_DYNAMIC):
            self.pending |= self.bare

    def definer_moved_in(self, name: str, after: str | None, upto: str | None) -> None:
        """The definitions of ``name`` changed between the cells ``after`` and ``upto``
        (None: the notebook's ends): re-link the dynamic cells there."""
        if not self.cells:
            return
        for cell_id in self._between(after, upto):
            self.relink(name, cell_id)

    def relink_from(self, name: str, index: int) -> None:
        """Re-link ``name`` for the dynamic cells from ``index`` of :attr:`cells` on."""
        for cell_id in self.cells[index:]:
            self.relink(name, cell_id)

    def index_after(self, cell_id: str) -> int:
        """Where the dynamic cells strictly below ``cell_id`` start in :attr:`cells`."""
        graph = self.graph
        return bisect_right(self.cells, graph._key(cell_id), key=graph._key)

    # -- settling ---------------------------------------------------------------

    def settle(self) -> None:
        """Re-examine the pending cells, and what their changes reach."""
        graph = self.graph
        while self.pending:
            cell_id = self.pending.pop()
            if cell_id not in graph:
                continue
            reason, functions = self._status(cell_id)
            old_functions = self.functions.get(cell_id, {})
            if functions != old_functions:
                if functions:
                    self.functions[cell_id] = functions
                else:
                    self.functions.pop(cell_id, None)
                names = {
                    n
                    for n in functions.keys() | old_functions.keys()
                    if functions.get(n) != old_functions.get(n)
                }
                self._readers_of(cell_id, names)
            old_reason = self.reason.get(cell_id)
            if reason == old_reason:
                continue
            self.changed.add(cell_id)
            if reason is None:
                self.drop(cell_id)
            elif old_reason is None:
                self.reason[cell_id] = reason
                self.cells.insert(self.index_after(cell_id), cell_id)
                self._relink_all(cell_id)
            else:
                self.reason[cell_id] = reason

    def take_changes(self) -> set[str]:
        changed, self.changed = self.changed, set()
        return changed

    # -- edges ------------------------------------------------------------------

    def drop(self, cell_id: str) -> None:
        """The cell stops being dynamic (for now): its dynamic edges go."""
        if self.reason.pop(cell_id, None) is None:
            return
        self.changed.add(cell_id)
        index = bisect_left(self.cells, self.graph._key(cell_id), key=self.graph._key)
        if index < len(self.cells) and self.cells[index] == cell_id:
            del self.cells[index]
        else:
            self.cells.remove(cell_id)
        for edges in self.edges.pop(cell_id, {}).values():
            self.graph._replace_edges(edges, [])

    def relink(self, name: str, cell_id: str) -> None:
        """The edges of dynamic ``cell_id`` for ``name``: like a reader's, nearest above."""
        graph = self.graph
        own = self.edges.get(cell_id)
        old = own.pop(name, []) if own is not None else []
        new: list[Edge] = []
        cell = graph._cells.get(cell_id)
        if cell is not None and cell_id in self.reason and name not in cell.loads:
            definers = graph._definers.get(name, [])
            above = bisect_left(definers, graph._key(cell_id), key=graph._key)
            if above:
                new.append((definers[above - 1], cell_id, EdgeKind.DATA, name))
                if (
                    above < len(definers)
                    and definers[above] != cell_id
                    and not graph.interchangeable(name)
                ):
                    new.append((cell_id, definers[above], EdgeKind.ORDER, name))
        graph._replace_edges(old, new)
        if new:
            self.edges.setdefault(cell_id, {})[name] = new

    def _relink_all(self, cell_id: str) -> None:
        graph = self.graph
        key = graph._key(cell_id)
        names = {n for n, definers in graph._definers.items() if graph._key(definers[0]) < key}
        for name in names | set(self.edges.get(cell_id, ())):
            self.relink(name, cell_id)

    # -- internals --------------------------------------------------------------

    def _status(self, cell_id: str) -> tuple[str | None, dict[str, str]]:
        """(why the cell is dynamic or None, its dynamic functions -> why)."""
        graph = self.graph
        analysis = graph.analysis(cell_id)
        functions = dict(analysis.dynamic_functions)
        pending = sorted(analysis.function_reads, key=lambda item: item[0])
        changed = True
        while changed and pending:  # its functions calling each other: a fixpoint
            changed = False
            for name, loads in pending:
                if name in functions:
                    continue
                via = self._via(cell_id, loads, functions)
                if via is not None:
                    functions[name] = via
                    changed = True
        reasons = list(analysis.dynamic)
        reasons += sorted(b for b in analysis.dynamic_builtins if not graph.definers(b))
        if not reasons:
            via = self._via(cell_id, analysis.immediate_reads, functions)
            if via is not None:
                reasons.append(via)
        return (", ".join(reasons) or None), functions

    def _via(self, cell_id: str, names: frozenset[str], own: dict[str, str]) -> str | None:
        """Why loading one of ``names`` reaches names dynamically, if it does."""
        edges = self.graph._reader_edges
        for name in sorted(names):
            if name in own:
                return own[name]
            for source, _, kind, _ in edges.get((name, cell_id), ()):
                if kind is EdgeKind.DATA:
                    why = self.function_reason(source, name)
                    if why is not None:
                        return why
        return None

    def _readers_of(self, cell_id: str, names: set[str]) -> None:
        for target, labels in self.graph._out.get(cell_id, {}).items():
            if any(kind is EdgeKind.DATA and name in names for kind, name in labels):
                self.pending.add(target)

    def _between(self, after: str | None, upto: str | None) -> list[str]:
        graph = self.graph
        key = graph._key
        start = 0 if after is None else bisect_right(self.cells, key(after), key=key)
        stop = len(self.cells) if upto is None else bisect_right(self.cells, key(upto), key=key)
        return self.cells[start:stop]


def dynamic_fields(analysis: CellAnalysis) -> tuple[object, ...]:
    """What of an analysis decides whether its cell is dynamic."""
    return (
        analysis.dynamic,
        analysis.dynamic_builtins,
        analysis.dynamic_functions,
        analysis.function_reads,
        analysis.immediate_reads,
        analysis.writes_unknown,
    )
