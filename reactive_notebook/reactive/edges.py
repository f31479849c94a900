"""The vocabulary of the notebook graph: edge kinds and the problems it reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class EdgeKind(Enum):
    DATA = "data"  # the source defines a name the target reads
    OVERWRITE = "overwrite"  # the target redefines a name the source defined
    ORDER = "order"  # the source reads a name the target redefines afterwards


Label = tuple[EdgeKind, str]
Edge = tuple[str, str, EdgeKind, str]


@dataclass(frozen=True, slots=True)
class CellProblem:
    """Why the graph says a cell cannot run. ``kind``: syntax, limit (not analysed:
    too large, too deep or too slow), ambiguous or cycle."""

    kind: str
    message: str
    cells: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


def cascade_neighbours(adjacent: dict[str, set[Label]]) -> dict[str, frozenset[str]]:
    result: dict[str, frozenset[str]] = {}
    for other, labels in adjacent.items():
        names = frozenset(name for kind, name in labels if kind is not EdgeKind.ORDER)
        if names:
            result[other] = names
    return result


def cascade_closure(
    start_ids: Iterable[str], adjacency: dict[str, dict[str, set[Label]]]
) -> set[str]:
    """Cells reachable from ``start_ids`` over cascading (data, overwrite) edges."""
    start = list(start_ids)
    seen: set[str] = set()
    stack = list(start)
    while stack:
        for other, labels in adjacency[stack.pop()].items():
            if other not in seen and any(kind is not EdgeKind.ORDER for kind, _ in labels):
                seen.add(other)
                stack.append(other)
    return seen - set(start)


def ambiguity_problem(ambiguous: dict[str, tuple[str, ...]]) -> CellProblem:
    parts = [
        f"{name!r} is defined by cells {', '.join(definers)}, none of them above this cell"
        for name, definers in sorted(ambiguous.items())
    ]
    message = "; ".join(parts) + ". Move a definition above this cell or rename one of them."
    return CellProblem("ambiguous", message, names=tuple(sorted(ambiguous)))
