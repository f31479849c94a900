"""Which definition of a name a reader sees: the graph's rule for one (name, reader).

design.md section 3: a name defined by one cell is read from it wherever the reader is;
defined by several, from the nearest definer above (and the next definer below must wait
for the reader: an *order* edge); with no definer above, the read is ambiguous, unless
the definers all import the same thing (one value: the nearest other one serves). A cell
with a star import may get any name from it, so it reads only from cells above it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

from .edges import Edge, EdgeKind


def read_edges(
    name: str,
    reader: str,
    definers: list[str],
    key: Callable[[str], int],
    *,
    alike: bool,
    starred: bool,
    strict: bool,
) -> tuple[list[Edge], bool]:
    """The edges of ``reader`` reading ``name`` from its ``definers`` (in notebook order),
    and whether the read is ambiguous. ``alike``: the definers import the same thing;
    ``starred``: the reader has a star import; ``strict``: a read that no builtin can
    answer (builtins fall back to the builtin)."""
    if starred and definers and key(definers[0]) >= key(reader):
        return [], False  # none above: the star import's, presumably
    if not definers:
        return [], False
    if len(definers) == 1:
        return (
            [(definers[0], reader, EdgeKind.DATA, name)] if definers[0] != reader else []
        ), False
    above = bisect_left(definers, key(reader), key=key)
    if alike:  # the nearest other definer above; above them all, the first other one
        if above:
            provider = definers[above - 1]
        else:
            provider = definers[1] if definers[0] == reader else definers[0]
        return [(provider, reader, EdgeKind.DATA, name)], False
    if above == 0:
        return [], strict
    edges: list[Edge] = [(definers[above - 1], reader, EdgeKind.DATA, name)]
    if above < len(definers) and definers[above] != reader:
        edges.append((reader, definers[above], EdgeKind.ORDER, name))
    return edges, False
