"""How the name visitor reads a transformed ``%magic`` / ``!cmd`` call.

:mod:`.ipython_syntax` says what each IPython call reads, runs and binds; this applies it
with the visitor's scoping (``%timeit`` code runs in a function of its own).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .ipython_syntax import MAX_EMBEDDED_DEPTH, EmbeddedTooDeep, ipython_effect
from .scopes import ScopeKind

if TYPE_CHECKING:
    from .name_visitor import NameVisitor


def visit_ipython_call(visitor: NameVisitor, method: str, args: list[ast.expr]) -> None:
    """What a transformed ``%magic`` / ``!cmd`` reads and binds (see ipython_syntax)."""
    arguments: list[str] = []
    for arg in args:
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            return
        arguments.append(arg.value)
    effect = ipython_effect(method, arguments)
    for expression in effect.expressions:
        visitor._visit(expression)
    if effect.code is not None:
        _visit_embedded_code(visitor, effect.code, runs_in_function=effect.code_runs_in_function)
    for name in effect.binds:
        visitor._bind(name)


def _visit_embedded_code(visitor: NameVisitor, code: str, *, runs_in_function: bool) -> None:
    if visitor.embedded_depth >= MAX_EMBEDDED_DEPTH:
        raise EmbeddedTooDeep(f"magics nested more than {MAX_EMBEDDED_DEPTH} deep")
    tree = visitor.parse_embedded(code) if code.strip() else None
    if tree is None:
        return
    visitor.embedded_depth += 1
    try:
        if runs_in_function:
            # timeit compiles the code into a function it calls at once: the code
            # binds locals and reads globals, as they stand at this point of the cell.
            visitor._push(ScopeKind.FUNCTION, runs_later=False)
            visitor._visit_all(tree.body)
            visitor._pop()
        else:
            visitor._visit_all(tree.body)
    finally:
        visitor.embedded_depth -= 1
