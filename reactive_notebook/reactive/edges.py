"""The vocabulary of the notebook graph: edge kinds and the problems it reports."""

from __future__ import annotations

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
