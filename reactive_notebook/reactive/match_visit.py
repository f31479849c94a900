"""How the name visitor reads ``match`` statements: every capture binds its name."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .name_visitor import NameVisitor


def visit_match_case(visitor: NameVisitor, node: ast.match_case) -> None:
    visitor._visit(node.pattern)
    if node.guard is not None:
        visitor._visit(node.guard)
    visitor._visit_all(node.body)


def visit_match_capture(visitor: NameVisitor, node: ast.MatchAs | ast.MatchStar) -> None:
    pattern = getattr(node, "pattern", None)
    if pattern is not None:
        visitor._visit(pattern)
    if node.name is not None:
        visitor._bind(node.name)


def visit_match_mapping(visitor: NameVisitor, node: ast.MatchMapping) -> None:
    visitor._visit_all(node.keys)
    visitor._visit_all(node.patterns)
    if node.rest is not None:
        visitor._bind(node.rest)
