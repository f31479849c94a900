"""Sortable position keys for cells, so inserts and moves never renumber the notebook.

Keys are integers spaced ``_GAP`` apart; an insert takes the midpoint of its neighbours
and only when two neighbours touch are all keys respaced (amortised O(1)).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping

_GAP = 1 << 20


class PositionIndex:
    """The notebook's cell order: O(log n) position lookups, cheap inserts and moves."""

    def __init__(self) -> None:
        self._key: dict[str, int] = {}
        self._keys: list[int] = []
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, cell_id: object) -> bool:
        return cell_id in self._key

    def ids(self) -> list[str]:
        """Cell ids in notebook order (a copy)."""
        return list(self._ids)

    def key(self, cell_id: str) -> int:
        return self._key[cell_id]

    def index(self, cell_id: str) -> int:
        return bisect_left(self._keys, self._key[cell_id])

    def at(self, index: int) -> str:
        return self._ids[index]

    def insert(self, cell_id: str, after: str | None) -> None:
        """Put ``cell_id`` right after ``after`` (``None``: first)."""
        if cell_id in self._key:
            raise KeyError(f"cell {cell_id!r} is already in the notebook")
        index = 0 if after is None else self.index(after) + 1
        low = self._keys[index - 1] if index > 0 else 0
        high = self._keys[index] if index < len(self._keys) else low + 2 * _GAP
        if high - low < 2:
            self._respace()
            self.insert(cell_id, after)
            return
        key = (low + high) // 2
        self._key[cell_id] = key
        self._keys.insert(index, key)
        self._ids.insert(index, cell_id)

    def append(self, cell_id: str) -> None:
        self.insert(cell_id, self._ids[-1] if self._ids else None)

    def remove(self, cell_id: str) -> None:
        index = self.index(cell_id)
        del self._keys[index]
        del self._ids[index]
        del self._key[cell_id]

    def _respace(self) -> None:
        self._keys = [(i + 1) * _GAP for i in range(len(self._ids))]
        self._key = dict(zip(self._ids, self._keys, strict=True))

    def sort(self, cell_ids: set[str] | list[str]) -> list[str]:
        """The given cells in notebook order."""
        return sorted(cell_ids, key=self._key.__getitem__)


def topological_rank(
    cells: Iterable[str],
    incoming: Mapping[str, Mapping[str, object]],
    outgoing: Mapping[str, Mapping[str, object]],
    key: Callable[[str], int],
) -> dict[str, int]:
    """Kahn's algorithm with notebook position (``key``) breaking ties.

    Cells on a cycle are ranked by position among what is left (they never run).
    """
    indegree = {cell_id: len(incoming[cell_id]) for cell_id in cells}
    heap = [(key(c), c) for c, degree in indegree.items() if degree == 0]
    heapq.heapify(heap)
    rank: dict[str, int] = {}
    while heap or len(rank) < len(indegree):
        if not heap:  # only cycles left: release the earliest remaining cell
            rest = [c for c in indegree if c not in rank and indegree[c] >= 0]
            first = min(rest, key=key)
            indegree[first] = 0
            heap.append((key(first), first))
        _, cell_id = heapq.heappop(heap)
        if cell_id in rank:
            continue
        rank[cell_id] = len(rank)
        indegree[cell_id] = -1
        for target in outgoing[cell_id]:
            if indegree[target] > 0:
                indegree[target] -= 1
                if indegree[target] == 0:
                    heapq.heappush(heap, (key(target), target))
    return rank


# -- lists of cell ids kept in notebook order (a name's definers, its readers) ----------


def neighbours(
    ordered: list[str], cell_id: str, key: Callable[[str], int]
) -> tuple[str | None, str | None]:
    """The cells right before and after ``cell_id`` in ``ordered`` (which holds it)."""
    index = bisect_left(ordered, key(cell_id), key=key)
    return (
        ordered[index - 1] if index > 0 else None,
        ordered[index + 1] if index + 1 < len(ordered) else None,
    )


def between(
    ordered: list[str], after: str | None, upto: str | None, key: Callable[[str], int]
) -> list[str]:
    """The cells of ``ordered`` after ``after`` and up to ``upto`` (both cells of the
    notebook; None: from the start, to the end)."""
    start = 0 if after is None else bisect_right(ordered, key(after), key=key)
    stop = len(ordered) if upto is None else bisect_right(ordered, key(upto), key=key)
    return ordered[start:stop]


def insert_sorted(ordered: list[str], cell_id: str, key: Callable[[str], int]) -> None:
    ordered.insert(bisect_left(ordered, key(cell_id), key=key), cell_id)


def remove_sorted(ordered: list[str], cell_id: str, key: Callable[[str], int]) -> None:
    index = bisect_left(ordered, key(cell_id), key=key)
    if index < len(ordered) and ordered[index] == cell_id:
        del ordered[index]
    else:  # not where its key says (cannot happen while the lists stay sorted)
        ordered.remove(cell_id)
