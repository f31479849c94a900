"""How the name visitor reads calls of ``eval``, ``exec``, ``globals()`` & co.

The cases and why each is decided so are in :mod:`.dynamic_names`; this module applies
them with the visitor's scoping (a literal key read inside a function is a global load
of that function, an ``eval`` literal sees the locals where it stands).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .dynamic_names import (
    DYNAMIC_BUILTINS,
    is_ipython_namespace,
    literal_key,
    mentions_main_module,
    parse_literal,
)
from .ipython_syntax import MAX_EMBEDDED_DEPTH, EmbeddedTooDeep
from .scopes import Scope, ScopeKind

if TYPE_CHECKING:
    from .name_visitor import NameVisitor

_READ_METHODS = frozenset({"get", "__getitem__", "__contains__"})
_BIND_METHODS = frozenset({"__setitem__", "setdefault"})
_DELETE_METHODS = frozenset({"pop", "__delitem__"})
_WRITE_METHODS = frozenset({"update", "popitem", "clear", "__ior__"}) | _BIND_METHODS
_WRITE_METHODS |= _DELETE_METHODS


def visit_dynamic_call(visitor: NameVisitor, node: ast.Call) -> bool:
    """Visit ``node`` if it is a dynamic builtin's call or a namespace method's call;
    False (nothing visited) otherwise."""
    func = node.func
    if type(func) is ast.Attribute:
        if type(func.value) not in (ast.Call, ast.Attribute):
            return False
        kind = namespace_kind(visitor, func.value)
        if kind is None:
            return False
        _namespace_method(visitor, kind, func.attr, node)
        return True
    if type(func) is not ast.Name or func.id not in DYNAMIC_BUILTINS:
        return False
    name = func.id
    if _shadowed(visitor, name):
        return False
    visitor.dyn.called.add(name)
    if name in ("eval", "exec"):
        _eval_or_exec(visitor, name, node)
        return True
    if name == "dir":
        if not node.args and _at_module_namespace(visitor):
            visitor.dyn.use("dir()", deferred=visitor.scope.deferred)
    else:
        kind = namespace_kind(visitor, node)
        if kind is not None:
            visitor.dyn.use(kind, deferred=visitor.scope.deferred)
    _visit_arguments(visitor, node)
    return True


def visit_namespace_subscript(visitor: NameVisitor, node: ast.Subscript) -> bool:
    """``globals()['x']`` (read), ``= v`` (write), ``del`` (delete); other keys: dynamic."""
    kind = namespace_kind(visitor, node.value)
    if kind is None:
        return False
    _called(visitor, node.value)
    key = literal_key(node.slice)
    ctx = type(node.ctx)
    deferred = visitor.scope.deferred
    if key is None or not key.isidentifier():
        if ctx is ast.Load:
            visitor.dyn.use(kind, deferred=deferred)
        else:
            visitor.dyn.writes_unknown = True
        visitor._visit(node.slice)
    elif ctx is ast.Load:
        visitor._global_load(key, deferred)
    elif ctx is ast.Store:
        visitor._bind(key, visitor.module)
    else:
        visitor._global_load(key, deferred)
        visitor.deletes.add(key)
    return True


def namespace_kind(visitor: NameVisitor, node: ast.AST) -> str | None:
    """How ``node`` names the module namespace (``"globals()"``), or None if it does not."""
    if type(node) is ast.Attribute:
        return node.attr if is_ipython_namespace(node) else None
    if type(node) is not ast.Call or type(node.func) is not ast.Name:
        return None
    name = node.func.id
    if name not in ("globals", "locals", "vars") or _shadowed(visitor, name):
        return None
    if not node.args and not node.keywords:
        if name == "globals" or _at_module_namespace(visitor):
            return f"{name}()"
        return None  # a function's or class body's own locals
    if name == "vars" and len(node.args) == 1 and mentions_main_module(node.args[0]):
        return "vars()"
    return None


def _namespace_method(visitor: NameVisitor, kind: str, method: str, node: ast.Call) -> None:
    _called(visitor, node.func.value)  # type: ignore[attr-defined]
    key = literal_key(node.args[0]) if node.args else None
    if key is not None and not key.isidentifier():
        key = None
    deferred = visitor.scope.deferred
    if method in _READ_METHODS and key is not None:
        visitor._global_load(key, deferred)
    elif method in _BIND_METHODS and key is not None:
        if method == "setdefault":
            visitor._global_load(key, deferred)
        visitor._bind(key, visitor.module)
    elif method in _DELETE_METHODS and key is not None:
        visitor._global_load(key, deferred)
        visitor.deletes.add(key)
    elif method == "update" and _literal_update(visitor, node):
        pass
    elif method in _WRITE_METHODS:
        visitor.dyn.writes_unknown = True
    else:
        visitor.dyn.use(kind, deferred=deferred)
    _visit_arguments(visitor, node)


def _literal_update(visitor: NameVisitor, node: ast.Call) -> bool:
    """``globals().update(x=1)`` / ``.update({'x': 1})``: bind those names; False when a
    key is not known."""
    keys: list[str] = []
    for keyword in node.keywords:
        if keyword.arg is None:
            return False  # **mapping
        keys.append(keyword.arg)
    for arg in node.args:
        if not isinstance(arg, ast.Dict):
            return False
        for key_node in arg.keys:
            key = literal_key(key_node) if key_node is not None else None
            if key is None or not key.isidentifier():
                return False
            keys.append(key)
    for key in keys:
        visitor._bind(key, visitor.module)
    return True


def _eval_or_exec(visitor: NameVisitor, name: str, node: ast.Call) -> None:
    args = node.args
    namespace: ast.expr | None = args[1] if len(args) > 1 else None
    for keyword in node.keywords:
        if keyword.arg == "globals":
            namespace = keyword.value
    deferred = visitor.scope.deferred
    if isinstance(namespace, ast.Constant) and namespace.value is None:
        namespace = None  # eval(s, None): the caller's namespace
    if namespace is not None and namespace_kind(visitor, namespace) is None:
        _visit_arguments(visitor, node)  # the code sees that dict only
        return
    code = literal_key(args[0]) if args else None
    if code is None:
        visitor.dyn.use(name, deferred=deferred)
        if name == "exec" and (not deferred or namespace is not None):
            visitor.dyn.writes_unknown = True
    else:
        tree = parse_literal(code, "eval" if name == "eval" else "exec")
        if tree is not None:
            _visit_literal_code(visitor, tree)
    for arg in args:
        if namespace_kind(visitor, arg) is not None:
            _called(visitor, arg)
        else:
            visitor._visit(arg)
    for keyword in node.keywords:
        visitor._visit(keyword.value)


def _visit_literal_code(visitor: NameVisitor, tree: ast.AST) -> None:
    """The code of an ``eval`` / ``exec`` literal, as if written where the call stands."""
    if visitor.embedded_depth >= MAX_EMBEDDED_DEPTH:
        raise EmbeddedTooDeep(f"eval/exec literals nested more than {MAX_EMBEDDED_DEPTH} deep")
    visitor.embedded_depth += 1
    try:
        if isinstance(tree, ast.Module):
            visitor._visit_all(tree.body)
        else:
            visitor._visit(tree)
    finally:
        visitor.embedded_depth -= 1


def _visit_arguments(visitor: NameVisitor, node: ast.Call) -> None:
    for arg in node.args:
        visitor._visit(arg)
    for keyword in node.keywords:
        visitor._visit(keyword.value)


def _called(visitor: NameVisitor, node: ast.AST) -> None:
    """A namespace call consumed by its context: its builtin is still an ambient load."""
    if type(node) is ast.Call and type(node.func) is ast.Name:
        visitor.dyn.called.add(node.func.id)
    elif type(node) is ast.Attribute:
        visitor._visit(node.value)


def _shadowed(visitor: NameVisitor, name: str) -> bool:
    """The cell (or an enclosing function) bound ``name``: it is not the builtin."""
    scope: Scope | None = visitor.scope
    while scope is not None:
        if name in scope.bound:
            return True
        scope = scope.parent
    return False


def _at_module_namespace(visitor: NameVisitor) -> bool:
    """``locals()`` here is the module's namespace (comprehensions see their enclosing
    scope's, as inlined comprehensions do since Python 3.12)."""
    scope = visitor.scope
    while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
        scope = scope.parent
    return scope.kind is ScopeKind.MODULE
