"""Scopes and AST shapes the name visitor needs: small, pure, and easy to test alone."""

from __future__ import annotations

import ast
from enum import Enum


class ScopeKind(Enum):
    MODULE = "module"
    FUNCTION = "function"
    CLASS = "class"
    COMPREHENSION = "comprehension"


class Scope:
    """One namespace on the stack.

    ``deferred`` is true for code that runs later than the cell (inside any function
    body). ``private`` is the class name that mangles ``__x`` names in this scope.
    """

    __slots__ = (
        "bound",
        "deferred",
        "globals",
        "kind",
        "nonlocals",
        "parent",
        "pending",
        "private",
    )

    def __init__(
        self,
        kind: ScopeKind,
        parent: Scope | None,
        *,
        runs_later: bool | None = None,
        private: str | None = None,
    ) -> None:
        self.kind = kind
        self.parent = parent
        self.bound: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.pending: set[str] = set()
        later = kind is ScopeKind.FUNCTION if runs_later is None else runs_later
        self.deferred: bool = later or (parent is not None and parent.deferred)
        inherited = parent.private if parent is not None else None
        self.private: str | None = private if kind is ScopeKind.CLASS else inherited


def child_fields(node_type: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node type that hold child nodes (not names, numbers or flags)."""
    scalar = {"ctx", "id", "name", "names", "module", "level", "attr", "arg", "asname"}
    scalar |= {"kind", "conversion", "is_async", "simple", "lineno", "type_comment"}
    scalar |= {"op", "ops"}  # operators carry no names
    return tuple(f for f in node_type._fields if f not in scalar)


def all_args(args: ast.arguments) -> list[ast.arg]:
    result = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg is not None:
        result.append(args.vararg)
    if args.kwarg is not None:
        result.append(args.kwarg)
    return result


def is_get_ipython_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "get_ipython"
        and not node.args
    )


def has_future_annotations(tree: ast.Module) -> bool:
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            if any(alias.name == "annotations" for alias in stmt.names):
                return True
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring may come first
        elif not isinstance(stmt, ast.ImportFrom):
            break
    return False
