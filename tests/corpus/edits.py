"""The edit each corpus notebook gets, chosen automatically and deterministically.

The edit changes one numeric literal in an early cell that defines a name later cells
read, the way a person tries another value: ``n = 10`` becomes ``n = 11``. Preference:

1. the first module-level ``name = <expression with a number>`` whose name is bound
   (assigned, a ``for`` target) by more than one cell and read by a later cell (a
   re-used name: ``i``, ``x``, ``data``; the case of issue 13 item 6);
2. otherwise the first such assignment whose name a later cell reads.

The first number (in source order) of the assigned expression gets ``+ 1``. Cells with
magics or shell lines are not edited (their source is not plain Python). ``bool`` is
not a number here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    cell: int  # position among the notebook's code cells
    name: str  # the name whose definition changes
    before: str
    after: str

    def describe(self) -> str:
        old = self.before.splitlines()
        new = self.after.splitlines()
        changed = next(
            (f"{a.strip()!r} -> {b.strip()!r}" for a, b in zip(old, new, strict=False) if a != b),
            "",
        )
        return f"code cell {self.cell}: {changed}"


def _parse(source: str) -> ast.Module | None:
    if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
        return None
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _loads(tree: ast.Module) -> set[str]:
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


def _assigned(tree: ast.Module) -> list[tuple[str, ast.Constant]]:
    """``(name, first number)`` of each module-level single-name assignment with a number."""
    found: list[tuple[str, ast.Constant]] = []
    for statement in tree.body:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        target = statement.targets[0]
        if not isinstance(target, ast.Name):
            continue
        numbers = [
            node
            for node in ast.walk(statement.value)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)
        ]
        if numbers:
            first = min(numbers, key=lambda n: (n.lineno, n.col_offset))
            found.append((target.id, first))
    return found


def _bound(tree: ast.Module) -> set[str]:
    """Names a cell's module-level statements assign (``x = ...``, ``for x in``, ...)."""
    names: set[str] = set()
    for statement in tree.body:
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = list(statement.targets)
        elif isinstance(statement, ast.AnnAssign | ast.AugAssign | ast.For):
            targets = [statement.target]
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _replace(source: str, number: ast.Constant) -> str:
    lines = source.splitlines(keepends=True)
    line = lines[number.lineno - 1].encode()  # ast offsets count UTF-8 bytes
    assert number.end_col_offset is not None
    value = number.value
    new = repr(value + 1)
    edited = line[: number.col_offset] + new.encode() + line[number.end_col_offset :]
    lines[number.lineno - 1] = edited.decode()
    return "".join(lines)


def pick_edit(sources: list[str]) -> Edit | None:
    """The edit of a notebook given its code cells' sources (see the module docstring)."""
    trees = [_parse(source) for source in sources]
    definers: dict[str, int] = {}
    for tree in trees:
        if tree is not None:
            for name in _bound(tree):
                definers[name] = definers.get(name, 0) + 1
    later_loads: list[set[str]] = [set() for _ in sources]
    seen: set[str] = set()
    for index in range(len(sources) - 1, -1, -1):
        later_loads[index] = set(seen)
        tree = trees[index]
        if tree is not None:
            seen |= _loads(tree)
    fallback: Edit | None = None
    for index, tree in enumerate(trees):
        if tree is None:
            continue
        for name, number in _assigned(tree):
            if name not in later_loads[index] or name.startswith("_"):
                continue
            edit = Edit(index, name, sources[index], _replace(sources[index], number))
            if definers[name] > 1:
                return edit
            fallback = fallback or edit
    return fallback
