"""Cycles in the notebook graph, explained to a person.

A cycle needs at least one edge pointing up the notebook (every other edge points down),
so only the cells reachable both ways from such edges are searched: in the usual notebook
there are none and nothing is searched at all. Each cell on a cycle gets the shortest
cycle through it, edge by edge, with the variables that make each edge.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from .edges import CellProblem, EdgeKind, Label

Adjacency = dict[str, dict[str, set[Label]]]


def find_cycles(
    upward: set[tuple[str, str]],
    out: Adjacency,
    into: Adjacency,
    position: Callable[[str], int],
) -> dict[str, CellProblem]:
    """Every cell on a cycle, with the cycle it is on."""
    result: dict[str, CellProblem] = {}
    if not upward:
        return result
    for component in _strongly_connected(_candidates(upward, out, into), out, position):
        for cell_id in component:
            result[cell_id] = _cycle_problem(cell_id, component, out)
    return result


def _candidates(upward: set[tuple[str, str]], out: Adjacency, into: Adjacency) -> set[str]:
    """Cells that both follow and precede the head and tail of some upward edge."""
    heads = {target for _, target in upward}
    tails = {source for source, _ in upward}
    forward = _reach(heads, out)
    backward = _reach(tails, into)
    return forward & backward


def _strongly_connected(
    nodes: set[str], out: Adjacency, position: Callable[[str], int]
) -> list[list[str]]:
    """Tarjan's algorithm (iterative) on the subgraph ``nodes``; non-trivial SCCs only."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(nodes, key=position):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = []
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work.append((root, iter([t for t in out[root] if t in nodes])))
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter([t for t in out[succ] if t in nodes])))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component, key=position))
    return components


def _cycle_problem(cell_id: str, component: list[str], out: Adjacency) -> CellProblem:
    """Describe one cycle through ``cell_id`` inside its component, edge by edge."""
    members = set(component)
    path = _shortest_cycle(cell_id, members, out)
    steps: list[str] = []
    names: set[str] = set()
    for source, target in itertools.pairwise(path):
        steps.append(_describe_edge(source, target, out[source][target]))
        names.update(name for _, name in out[source][target])
    cycle = " → ".join(path)
    message = f"cells {cycle} form a cycle: " + "; ".join(steps)
    return CellProblem("cycle", message, tuple(path[:-1]), tuple(sorted(names)))


def _reach(start: set[str], adjacency: dict[str, dict[str, set[Label]]]) -> set[str]:
    seen = set(start)
    stack = list(start)
    while stack:
        for other in adjacency[stack.pop()]:
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return seen


def _shortest_cycle(
    start: str, members: set[str], out: dict[str, dict[str, set[Label]]]
) -> list[str]:
    """Breadth-first: the shortest path start → ... → start inside ``members``."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        next_frontier: list[str] = []
        for node in frontier:
            for succ in out[node]:
                if succ not in members:
                    continue
                if succ == start:
                    back = [node]
                    while back[-1] != start:
                        back.append(previous[back[-1]])
                    return [*reversed(back), start]
                if succ not in previous:
                    previous[succ] = node
                    next_frontier.append(succ)
        frontier = next_frontier
    return [start, start]


def _describe_edge(source: str, target: str, labels: set[Label]) -> str:
    by_kind: dict[EdgeKind, list[str]] = {}
    for kind, name in labels:
        by_kind.setdefault(kind, []).append(name)
    parts: list[str] = []
    for kind, names in sorted(by_kind.items(), key=lambda item: item[0].value):
        listed = ", ".join(sorted(names))
        if kind is EdgeKind.DATA:
            parts.append(f"{target} reads {listed} from {source}")
        elif kind is EdgeKind.OVERWRITE:
            parts.append(f"{target} redefines {listed} after {source}")
        else:
            parts.append(f"{source} must read {listed} before {target} redefines it")
    return "; ".join(parts)
