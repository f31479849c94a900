"""The notebook's dependency graph: who provides each name a cell reads, and in what order.

Rules (design.md section 3):

- A name written by **one** cell can be read from anywhere in the notebook.
- A name written by **several** cells: each reader sees the nearest definition above it,
  exactly as a top-to-bottom run would. Each definer is followed by the next definer of
  that name (an *overwrite* edge), and every reader of a definition runs before the next
  definer overwrites it (an *order* edge). Reading such a name with no definition above
  is an error naming the definers.
- Cycles block every cell on them; the error names the cycle and the names on each edge.

*Data* and *overwrite* edges cascade (re-running the source re-runs the target); *order*
edges only constrain the order. A ``del x`` counts as a definition of ``x`` (its value is
"no ``x``"), so readers below it see what a top-to-bottom run would.

A cell that reads names dynamically (``eval``, ``globals()``, a function of the notebook
that does) reads every name defined above it: :mod:`.dynamic_reads`.

The graph is incremental: inserting, editing, moving or deleting a cell recomputes only
the edges of the names that cell reads or defines.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .analysis import CellAnalysis
from .cycles import find_cycles
from .dynamic_reads import DynamicReads, dynamic_fields
from .edges import (
    CellProblem,
    Edge,
    EdgeKind,
    Label,
    ambiguity_problem,
    cascade_closure,
    cascade_neighbours,
)
from .import_targets import ImportTargets
from .ordering import (
    PositionIndex,
    between,
    insert_sorted,
    remove_sorted,
    topological_rank,
)
from .ordering import neighbours as around
from .read_rule import read_edges

__all__ = ["CellProblem", "Edge", "EdgeKind", "GraphChange", "Label", "NotebookGraph"]


@dataclass(frozen=True, slots=True)
class GraphChange:
    """What an update did: cells whose providers changed (their values are now stale)."""

    inputs_changed: frozenset[str] = frozenset()
    former_children: frozenset[str] = frozenset()


@dataclass(slots=True)
class _Cell:
    analysis: CellAnalysis
    fingerprint: str
    loads: frozenset[str] = field(default_factory=frozenset)


class NotebookGraph:
    """Ordered cells, their analyses, and the edges between them."""

    def __init__(self) -> None:
        self._positions = PositionIndex()
        self._cells: dict[str, _Cell] = {}
        self._definers: dict[str, list[str]] = {}  # name -> cells, in notebook order
        self._readers: dict[str, list[str]] = {}  # name -> cells loading it, in notebook order
        self._imports = ImportTargets()  # what each name's definers import
        self._out: dict[str, dict[str, set[Label]]] = {}
        self._in: dict[str, dict[str, set[Label]]] = {}
        self._overwrite_edges: dict[str, set[Edge]] = {}  # name -> its overwrite chain
        self._reader_edges: dict[tuple[str, str], list[Edge]] = {}  # (name, reader) -> edges
        self._ambiguous: dict[str, set[str]] = {}  # cell -> names it reads above all definers
        self._interchangeable: set[str] = set()  # names only imported, all alike
        self._upward: set[tuple[str, str]] = set()  # edges pointing up the notebook
        self._version = 0  # bumped by every edge or order change; caches key on it
        self._cycles_cache: tuple[int, dict[str, CellProblem]] | None = None
        self._rank_cache: tuple[int, dict[str, int]] | None = None
        self._touched: set[str] = set()
        self._dynamic = DynamicReads(self)

    # -- structure ---------------------------------------------------------

    def __len__(self) -> int:
        return len(self._cells)

    def __contains__(self, cell_id: object) -> bool:
        return cell_id in self._cells

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions.ids())

    @property
    def cell_ids(self) -> list[str]:
        """Cell ids in notebook order."""
        return self._positions.ids()

    def index(self, cell_id: str) -> int:
        return self._positions.index(cell_id)

    def last(self) -> str | None:
        """The last cell, in O(1) (None when there is none)."""
        return self._positions.at(len(self._positions) - 1) if len(self._positions) else None

    def analysis(self, cell_id: str) -> CellAnalysis:
        return self._cells[cell_id].analysis

    def fingerprint(self, cell_id: str) -> str:
        """What changes when the cell must re-run (its code, for SQL its output too)."""
        return self._cells[cell_id].fingerprint

    def definers(self, name: str) -> tuple[str, ...]:
        return tuple(self._definers.get(name, ()))

    def interchangeable(self, name: str) -> bool:
        """Several cells define ``name`` by importing the same thing: one value, so a
        reader may take it from any of them and none overwrites another."""
        return name in self._interchangeable

    def _same_import(self, name: str) -> bool:
        if len(self._definers.get(name, ())) < 2:
            return False
        return self._imports.alike(name)

    def insert(
        self,
        cell_id: str,
        analysis: CellAnalysis,
        *,
        after: str | None,
        fingerprint: str = "",
    ) -> GraphChange:
        """Add a cell right after ``after`` (``None``: first)."""
        if after is not None and after not in self._cells:
            raise KeyError(after)
        self._positions.insert(cell_id, after)
        self._version += 1
        self._cells[cell_id] = _Cell(analysis, fingerprint, _loads(analysis))
        self._out[cell_id] = {}
        self._in[cell_id] = {}
        self._touched = set()
        self._reindex(cell_id, None, self._cells[cell_id])
        self._dynamic.analysis_changed(cell_id)
        return self._finish()

    def append(self, cell_id: str, analysis: CellAnalysis, *, fingerprint: str = "") -> GraphChange:
        return self.insert(cell_id, analysis, after=self.last(), fingerprint=fingerprint)

    def update(self, cell_id: str, analysis: CellAnalysis, *, fingerprint: str = "") -> GraphChange:
        """Replace a cell's analysis (its code changed)."""
        old = self._cells[cell_id]
        new = _Cell(analysis, fingerprint, _loads(analysis))
        self._cells[cell_id] = new
        same_names = (
            old.loads == new.loads
            and old.analysis.defines == analysis.defines
            and old.analysis.imports == analysis.imports
        )
        same_dynamic = dynamic_fields(old.analysis) == dynamic_fields(analysis)
        same_star = bool(old.analysis.star_imports) == bool(analysis.star_imports)
        if same_names and same_dynamic and same_star:
            return GraphChange()  # same names: same edges
        self._touched = set()
        if not same_dynamic or cell_id in self._dynamic.reason:
            self._dynamic.analysis_changed(cell_id)  # before its static edges change
        if not same_names:
            self._reindex(cell_id, old, new)
        if not same_star:  # where it may read from changed (see _recompute_reader)
            for name in new.loads:
                self._recompute_reader(name, cell_id)
        return self._finish()

    def move(self, cell_id: str, *, after: str | None) -> GraphChange:
        """Move a cell right after ``after`` (``None``: first)."""
        if after is not None and after not in self._cells:
            raise KeyError(after)
        if after == cell_id:
            return GraphChange()
        cell = self._cells[cell_id]
        self._touched = set()
        dynamic = self._dynamic
        if cell_id in dynamic.reason:
            dynamic.analysis_changed(cell_id)  # re-linked from its new place
        unknown_writer = cell_id in dynamic.unknown_writers
        if unknown_writer:
            dynamic.remove_unknown_writer(cell_id)
        start = dynamic.index_after(self._first_definer(cell_id))
        for name in cell.loads:
            remove_sorted(self._readers[name], cell_id, self._key)
        self._positions.remove(cell_id)
        self._positions.insert(cell_id, after)
        for name in cell.loads:
            insert_sorted(self._readers[name], cell_id, self._key)
        self._version += 1
        for name in cell.analysis.defines:
            self._definers[name].sort(key=self._key)
            self._recompute_name(name)
        for name in cell.loads - cell.analysis.defines:
            self._recompute_reader(name, cell_id)
        if cell.analysis.defines and dynamic.cells:
            # dynamic cells below the highest place the cell or a co-definer takes
            start = min(start, dynamic.index_after(self._first_definer(cell_id)))
            for name in cell.analysis.defines:
                dynamic.relink_from(name, start)
        if unknown_writer:
            dynamic.add_unknown_writer(cell_id)
        self._refresh_upward(cell_id)
        return self._finish()

    def remove(self, cell_id: str) -> GraphChange:
        """Delete a cell. ``former_children`` are the cells that depended on it."""
        cell = self._cells[cell_id]
        children = frozenset(self.children(cell_id))
        self._touched = set()
        self._dynamic.removed(cell_id)
        self._cells.pop(cell_id)
        self._reindex(cell_id, cell, None)
        change = self._finish()
        self._dynamic.forget(cell_id)
        self._positions.remove(cell_id)
        self._version += 1
        self._out.pop(cell_id, None)
        self._in.pop(cell_id, None)
        self._ambiguous.pop(cell_id, None)
        return GraphChange(change.inputs_changed - {cell_id}, children)

    def _first_definer(self, cell_id: str) -> str:
        """The highest of ``cell_id`` and the first definers of the names it defines."""
        first = cell_id
        for name in self._cells[cell_id].analysis.defines:
            definers = self._definers.get(name)
            if definers and self._key(definers[0]) < self._key(first):
                first = definers[0]
        return first

    def _finish(self) -> GraphChange:
        """Settle which cells are dynamic, then report what the change touched."""
        self._dynamic.settle()
        return self._change()

    # -- queries -----------------------------------------------------------

    def parents(self, cell_id: str) -> dict[str, frozenset[str]]:
        """Cells whose re-run re-runs this one, with the names that link them."""
        return cascade_neighbours(self._in[cell_id])

    def children(self, cell_id: str) -> dict[str, frozenset[str]]:
        """Cells this one's re-run re-runs, with the names that link them."""
        return cascade_neighbours(self._out[cell_id])

    def readers_of(self, cell_id: str) -> list[str]:
        """The cells that read a name from this one (its data edges): what they show
        depends on what it defines, unlike a later cell that only redefines a name."""
        return [
            target
            for target, labels in self._out[cell_id].items()
            if any(kind is EdgeKind.DATA for kind, _ in labels)
        ]

    def can_run(self, cell_id: str) -> bool:
        """No problem on the cell nor on any cell it reads from, directly or not (walks
        its ancestors: use where that is rare)."""
        seen = {cell_id}
        stack = [cell_id]
        while stack:
            current = stack.pop()
            if self.problem(current) is not None:
                return False
            for source in set(self.providers(current).values()):
                if source not in seen:
                    seen.add(source)
                    stack.append(source)
        return True

    def providers(self, cell_id: str) -> dict[str, str]:
        """For each name the cell reads from another cell: the cell it reads it from."""
        result: dict[str, str] = {}
        for source, labels in self._in[cell_id].items():
            for kind, name in labels:
                if kind is EdgeKind.DATA:
                    result[name] = source
        return result

    def order_successors(self, cell_id: str) -> list[str]:
        """Cells that must run after this one but do not re-run because of it."""
        return [
            target
            for target, labels in self._out[cell_id].items()
            if any(kind is EdgeKind.ORDER for kind, _ in labels)
        ]

    def edges(self) -> list[Edge]:
        """Every edge as (source, target, kind, name), for inspection and tests."""
        result: list[Edge] = []
        for source, targets in self._out.items():
            for target, labels in targets.items():
                result.extend((source, target, kind, name) for kind, name in labels)
        return sorted(result, key=lambda e: (e[0], e[1], e[2].value, e[3]))

    def descendants(self, cell_ids: Iterable[str]) -> set[str]:
        """Every cell a re-run of these cells re-runs (not including them)."""
        return cascade_closure(cell_ids, self._out)

    def ancestors(self, cell_ids: Iterable[str]) -> set[str]:
        """Every cell whose re-run would re-run one of these (not including them)."""
        return cascade_closure(cell_ids, self._in)

    def dynamic_reason(self, cell_id: str) -> str | None:
        """Why the cell counts as reading every name defined above it, if it does:
        ``"reads names dynamically (eval in show)"``."""
        return self._dynamic.why(cell_id)

    def take_dynamic_changes(self) -> set[str]:
        """Cells whose :meth:`dynamic_reason` may have changed since the last call."""
        return {c for c in self._dynamic.take_changes() if c in self._cells}

    def problem(self, cell_id: str) -> CellProblem | None:
        """Why this cell cannot run, if the graph alone says so."""
        analysis = self._cells[cell_id].analysis
        if analysis.error is not None:
            return CellProblem(analysis.error.kind, analysis.error.describe())
        ambiguous = self._ambiguous.get(cell_id)
        if ambiguous:
            return ambiguity_problem({name: self.definers(name) for name in ambiguous})
        return self.cycles().get(cell_id)

    def problems(self) -> dict[str, CellProblem]:
        result: dict[str, CellProblem] = {}
        for cell_id in self._positions.ids():
            problem = self.problem(cell_id)
            if problem is not None:
                result[cell_id] = problem
        return result

    def cycles(self) -> dict[str, CellProblem]:
        """Every cell on a cycle, with the cycle it is on. Cached until edges change."""
        if self._cycles_cache is not None and self._cycles_cache[0] == self._version:
            return self._cycles_cache[1]
        result = find_cycles(self._upward, self._out, self._in, self._key)
        self._cycles_cache = (self._version, result)
        return result

    def sort(self, cell_ids: Iterable[str]) -> list[str]:
        """The given cells in run order: topological, notebook position breaking ties.

        When no edge points up the notebook (the usual case), notebook order is already
        topological and sorting costs O(k log k) for k cells, whatever the notebook size.
        """
        ids = set(cell_ids)
        if not self._upward:
            return self._positions.sort(ids)
        rank = self._topological_rank()
        return sorted(ids, key=rank.__getitem__)

    # -- maintenance -------------------------------------------------------

    def _reindex(self, cell_id: str, old: _Cell | None, new: _Cell | None) -> None:
        """Update the name indexes for one cell and recompute what its change touches.

        A cell that starts or stops defining a name changes the edges next to it only:
        the overwrite links with the definers right above and below it, and the readers
        between those two. Recomputing just those keeps building a notebook of thousands
        of cells that all define ``x`` linear; the rare changes that alter every edge of
        a name (a second definer appears, imports stop being alike) recompute it whole.
        """
        old_defines = old.analysis.defines if old else frozenset()
        new_defines = new.analysis.defines if new else frozenset()
        old_loads = old.loads if old else frozenset()
        new_loads = new.loads if new else frozenset()
        neighbours: dict[str, tuple[str | None, str | None]] = {}
        for name in old_defines - new_defines:
            assert old is not None
            definers = self._definers[name]
            neighbours[name] = around(definers, cell_id, self._key)
            remove_sorted(definers, cell_id, self._key)
            if not definers:
                del self._definers[name]
            self._imports.count(name, old.analysis.import_target(name), -1)
        for name in new_defines - old_defines:
            assert new is not None
            definers = self._definers.setdefault(name, [])
            insert_sorted(definers, cell_id, self._key)
            neighbours[name] = around(definers, cell_id, self._key)
            self._imports.count(name, new.analysis.import_target(name), +1)
        retargeted: set[str] = set()
        if old is not None and new is not None and old.analysis.imports != new.analysis.imports:
            changed = {n for n, _ in old.analysis.imports ^ new.analysis.imports}
            retargeted = changed & old_defines & new_defines
            for name in retargeted:
                self._imports.count(name, old.analysis.import_target(name), -1)
                self._imports.count(name, new.analysis.import_target(name), +1)
        for name in old_loads - new_loads:
            readers = self._readers[name]
            remove_sorted(readers, cell_id, self._key)
            if not readers:
                del self._readers[name]
        for name in new_loads - old_loads:
            insert_sorted(self._readers.setdefault(name, []), cell_id, self._key)
        added = new_defines - old_defines
        for name, (above, below) in neighbours.items():
            self._definer_changed(name, cell_id, above, below, added=name in added)
        for name in retargeted:
            self._recompute_name(name)
            self._dynamic.relink_from(name, 0)
        redefined = old_defines ^ new_defines | retargeted
        for name in old_loads - new_loads:
            self._recompute_reader(name, cell_id)  # drops its edges
        for name in (new_loads - old_loads) - redefined:
            self._recompute_reader(name, cell_id)
        self._dynamic.definers_changed(set(old_defines ^ new_defines))

    def _definer_changed(
        self, name: str, cell_id: str, above: str | None, below: str | None, *, added: bool
    ) -> None:
        """``cell_id`` became (``added``) or stopped being a definer of ``name``, between
        the definers ``above`` and ``below``."""
        count = len(self._definers.get(name, ()))
        before = count - 1 if added else count + 1
        was_alike = name in self._interchangeable
        if min(count, before) <= 1 or was_alike != self._same_import(name):
            self._recompute_name(name)  # one definer is read from anywhere: all edges change
            definers = self._definers.get(name, [])
            lowest = cell_id
            if definers and self._key(definers[0]) < self._key(cell_id):
                lowest = definers[0]
            self._dynamic.relink_from(name, self._dynamic.index_after(lowest))
            return
        self._dynamic.definer_moved_in(name, above if above is not None else cell_id, below)
        if not was_alike:
            chain = self._overwrite_edges.setdefault(name, set())
            bypass = [(above, below, EdgeKind.OVERWRITE, name)] if above and below else []
            via = [(above, cell_id, EdgeKind.OVERWRITE, name)] if above else []
            if below:
                via.append((cell_id, below, EdgeKind.OVERWRITE, name))
            gone, came = (bypass, via) if added else (via, bypass)
            for edge in gone:
                chain.discard(edge)
                self._remove_edge(edge)
            for edge in came:
                chain.add(edge)
                self._add_edge(edge)
        # Readers after ``above`` up to ``below`` (included) now see another definition;
        # with alike imports, so may the readers at or above the first definer (they take
        # the first definer that is not themselves, which may be below them).
        definers = self._definers.get(name, [])
        if was_alike and (above is None or definers[0] == above):
            above = None
        for reader in between(self._readers.get(name, []), above, below, self._key):
            self._recompute_reader(name, reader)

    def _between(self, ordered: list[str], after: str | None, upto: str | None) -> list[str]:
        return between(ordered, after, upto, self._key)

    def _refresh_upward(self, cell_id: str) -> None:
        """After a move: which of the cell's edges now point up the notebook."""
        pairs = [(cell_id, target) for target in self._out[cell_id]]
        pairs += [(source, cell_id) for source in self._in[cell_id]]
        for source, target in pairs:
            if self._key(source) > self._key(target):
                self._upward.add((source, target))
            else:
                self._upward.discard((source, target))

    def _change(self) -> GraphChange:
        touched = frozenset(c for c in self._touched if c in self._cells)
        self._touched = set()
        return GraphChange(inputs_changed=touched)

    def _key(self, cell_id: str) -> int:
        return self._positions.key(cell_id)

    def _recompute_name(self, name: str) -> None:
        """Recompute every edge of ``name`` (its definers changed)."""
        definers = self._definers.get(name, [])
        if self._same_import(name):
            self._interchangeable.add(name)
            chain: set[Edge] = set()  # one value: re-running one import changes nothing
        else:
            self._interchangeable.discard(name)
            chain = {(a, b, EdgeKind.OVERWRITE, name) for a, b in itertools.pairwise(definers)}
        old = self._overwrite_edges.pop(name, set())
        for edge in old - chain:
            self._remove_edge(edge)
        for edge in chain - old:
            self._add_edge(edge)
        if chain:
            self._overwrite_edges[name] = chain
        for reader in list(self._readers.get(name, ())):
            self._recompute_reader(name, reader)

    def _recompute_reader(self, name: str, reader: str) -> None:
        """Recompute the edges of one reader of ``name``."""
        old = self._reader_edges.pop((name, reader), [])
        new: list[Edge] = []
        ambiguous = False
        cell = self._cells.get(reader)
        definers = self._definers.get(name, [])
        if cell is not None and name in cell.loads and definers:
            new, ambiguous = read_edges(
                name,
                reader,
                definers,
                self._key,
                alike=name in self._interchangeable,
                starred=bool(cell.analysis.star_imports),
                strict=name in cell.analysis.reads,
            )
        elif cell is not None and name in cell.analysis.reads:
            # no cell defines it: the nearest cell above binding names it cannot name may
            writer = self._dynamic.unknown_writer_above(reader)
            if writer is not None:
                new.append((writer, reader, EdgeKind.DATA, name))
        self._set_ambiguous(reader, name, ambiguous)
        if old != new and self._dynamic.functions:
            self._dynamic.provider_changed(name, reader, old, new)
        self._replace_edges(old, new)
        if new:
            self._reader_edges[(name, reader)] = new

    def _set_ambiguous(self, cell_id: str, name: str, ambiguous: bool) -> None:
        names = self._ambiguous.get(cell_id)
        if not ambiguous:
            if names and name in names:
                names.discard(name)
                if not names:
                    del self._ambiguous[cell_id]
                self._touched.add(cell_id)
        elif cell_id in self._cells and (names is None or name not in names):
            self._ambiguous.setdefault(cell_id, set()).add(name)
            self._touched.add(cell_id)

    def _replace_edges(self, old: list[Edge], new: list[Edge]) -> None:
        if old == new:
            return
        new_set = set(new)
        old_set = set(old)
        for edge in old:
            if edge not in new_set:
                self._remove_edge(edge)
        for edge in new:
            if edge not in old_set:
                self._add_edge(edge)

    def _add_edge(self, edge: Edge) -> None:
        source, target, kind, name = edge
        labels = self._out[source].get(target)
        if labels is None:
            labels = self._out[source][target] = set()
            self._in[target][source] = labels
            if self._key(source) > self._key(target):
                self._upward.add((source, target))
        labels.add((kind, name))
        self._edge_changed(target, kind)

    def _remove_edge(self, edge: Edge) -> None:
        source, target, kind, name = edge
        out = self._out.get(source)
        labels = out.get(target) if out is not None else None
        if labels is None:
            return
        labels.discard((kind, name))
        if not labels:
            del out[target]  # type: ignore[union-attr]
            self._in.get(target, {}).pop(source, None)
            self._upward.discard((source, target))
        self._edge_changed(target, kind)

    def _edge_changed(self, target: str, kind: EdgeKind) -> None:
        self._version += 1
        if kind is EdgeKind.DATA:
            self._touched.add(target)

    # -- cycles and order ---------------------------------------------------

    def _topological_rank(self) -> dict[str, int]:
        """Run order of every cell (see :func:`.ordering.topological_rank`), cached until
        edges change."""
        if self._rank_cache is not None and self._rank_cache[0] == self._version:
            return self._rank_cache[1]
        rank = topological_rank(self._cells, self._in, self._out, self._key)
        self._rank_cache = (self._version, rank)
        return rank


def _loads(analysis: CellAnalysis) -> frozenset[str]:
    return analysis.reads | analysis.ambient_reads
