"""Which global names a cell reads and writes, following Python's scoping rules.

One pass over the AST with a stack of scopes, as the compiler's symbol table does:

- Module and class bodies run immediately and in order: a load there is a read of the
  cell unless the name was bound earlier in the same body.
- Function and lambda bodies run later. Their locals are every name they bind anywhere
  (known only when the body ends), so their loads wait in ``pending`` and are resolved
  when the scope closes: local, a closure over an enclosing function, or global. A
  global loaded from a function body is a read unless the cell binds it anywhere.
- Comprehensions run immediately in their own scope; their loop variables never leak,
  while a walrus inside binds in the enclosing non-comprehension scope.
- Class scopes are invisible to the functions and comprehensions nested in them.

Decorators, default values, base classes and (unless postponed by
``from __future__ import annotations``) annotations are evaluated where the ``def`` or
``class`` statement stands, so they are loads of the enclosing scope.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from .names import is_ambient, is_private


class ScopeKind(Enum):
    MODULE = "module"
    FUNCTION = "function"
    CLASS = "class"
    COMPREHENSION = "comprehension"


class Scope:
    """One namespace on the stack. ``deferred`` is true inside any function body."""

    __slots__ = ("bound", "deferred", "globals", "kind", "nonlocals", "parent", "pending")

    def __init__(self, kind: ScopeKind, parent: Scope | None) -> None:
        self.kind = kind
        self.parent = parent
        self.bound: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.pending: set[str] = set()
        self.deferred = kind is ScopeKind.FUNCTION or (parent is not None and parent.deferred)


# Magics whose argument or body is Python run in the user namespace.
_EXEC_LINE_MAGICS = frozenset({"time"})
_EXEC_CELL_MAGICS = frozenset({"time", "capture"})
# Magics whose code reads the user namespace but keeps its own bindings.
_READ_ONLY_MAGICS = frozenset({"timeit"})
# IPython expands ``$name`` and ``{expr}`` in these calls' string argument.
_EXPANDING_CALLS = frozenset({"system", "getoutput", "run_line_magic", "run_cell_magic"})
_DOLLAR_NAME = re.compile(r"(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)")
_BRACED_EXPR = re.compile(r"(?<!\{)\{([^{}]+)\}(?!\})")


def _child_fields(node_type: type[ast.AST]) -> tuple[str, ...]:
    return tuple(f for f in node_type._fields if f != "ctx")


class NameVisitor:
    """Collects a cell's reads, writes and deletes. Use :meth:`analyze` once per tree."""

    def __init__(self) -> None:
        self.module = Scope(ScopeKind.MODULE, None)
        self.scope = self.module
        self.raw_reads: dict[str, None] = {}
        self.deferred_loads: set[str] = set()
        self.writes: set[str] = set()
        self.deletes: set[str] = set()
        self.star_imports: list[str] = []
        self.postponed_annotations = False
        self._fields: dict[type[ast.AST], tuple[str, ...]] = {}
        self._dispatch: dict[type[ast.AST], Callable[[Any], None]] = {
            ast.Name: self._visit_name,
            ast.FunctionDef: self._visit_function,
            ast.AsyncFunctionDef: self._visit_function,
            ast.Lambda: self._visit_lambda,
            ast.ClassDef: self._visit_class,
            ast.ListComp: self._visit_comprehension,
            ast.SetComp: self._visit_comprehension,
            ast.GeneratorExp: self._visit_comprehension,
            ast.DictComp: self._visit_comprehension,
            ast.NamedExpr: self._visit_named_expr,
            ast.Assign: self._visit_assign,
            ast.AugAssign: self._visit_aug_assign,
            ast.AnnAssign: self._visit_ann_assign,
            ast.For: self._visit_for,
            ast.AsyncFor: self._visit_for,
            ast.Import: self._visit_import,
            ast.ImportFrom: self._visit_import_from,
            ast.Global: self._visit_global,
            ast.Nonlocal: self._visit_nonlocal,
            ast.ExceptHandler: self._visit_except_handler,
            ast.match_case: self._visit_match_case,
            ast.MatchAs: self._visit_match_capture,
            ast.MatchStar: self._visit_match_capture,
            ast.MatchMapping: self._visit_match_mapping,
            ast.Call: self._visit_call,
            ast.Constant: _ignore,
            ast.Pass: _ignore,
            ast.Break: _ignore,
            ast.Continue: _ignore,
        }
        type_alias = getattr(ast, "TypeAlias", None)  # Python 3.12+
        if type_alias is not None:
            self._dispatch[type_alias] = self._visit_type_alias

    # -- entry point -------------------------------------------------------

    def analyze(self, tree: ast.Module) -> None:
        self.postponed_annotations = _has_future_annotations(tree)
        self._visit_all(tree.body)
        for name in self.deferred_loads:
            if name not in self.module.bound:
                self.raw_reads.setdefault(name)

    def reads(self) -> tuple[frozenset[str], frozenset[str]]:
        """(reads, ambient reads): ambient ones are builtins and kernel-injected names."""
        user: set[str] = set()
        ambient: set[str] = set()
        for name in self.raw_reads:
            if is_private(name):
                continue
            (ambient if is_ambient(name) else user).add(name)
        return frozenset(user), frozenset(ambient)

    # -- traversal ---------------------------------------------------------

    def _visit(self, node: ast.AST) -> None:
        handler = self._dispatch.get(type(node))
        if handler is not None:
            handler(node)
            return
        fields = self._fields.get(type(node))
        if fields is None:
            fields = self._fields[type(node)] = _child_fields(type(node))
        for field in fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self._visit(item)
            elif isinstance(value, ast.AST):
                self._visit(value)

    def _visit_all(self, nodes: Iterable[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self._visit(node)

    # -- binding and loading -----------------------------------------------

    def _load(self, name: str) -> None:
        scope = self.scope
        if scope.kind is ScopeKind.MODULE:
            if name not in scope.bound:
                self.raw_reads.setdefault(name)
        elif scope.kind is ScopeKind.CLASS:
            if name in scope.globals:
                self._global_load(name, scope.deferred)
            elif name not in scope.bound:
                self._propagate(scope, name)
        else:
            scope.pending.add(name)

    def _global_load(self, name: str, deferred: bool) -> None:
        if deferred:
            self.deferred_loads.add(name)
        elif name not in self.module.bound:
            self.raw_reads.setdefault(name)

    def _propagate(self, scope: Scope, name: str) -> None:
        """Hand an unresolved load to the enclosing scope, skipping class bodies."""
        parent = scope.parent
        while parent is not None and parent.kind is ScopeKind.CLASS:
            parent = parent.parent
        if parent is None or parent.kind is ScopeKind.MODULE:
            self._global_load(name, scope.deferred)
        else:
            parent.pending.add(name)

    def _bind(self, name: str, scope: Scope | None = None) -> None:
        scope = scope or self.scope
        if scope.kind is ScopeKind.MODULE or name in scope.globals:
            self.module.bound.add(name)
            self.writes.add(name)
        elif name not in scope.nonlocals:
            scope.bound.add(name)

    def _delete(self, name: str) -> None:
        scope = self.scope
        if scope.kind is ScopeKind.MODULE or name in scope.globals:
            self._load(name)
            self.deletes.add(name)
        elif name not in scope.nonlocals:
            scope.bound.add(name)

    def _push(self, kind: ScopeKind) -> Scope:
        self.scope = Scope(kind, self.scope)
        return self.scope

    def _pop(self) -> None:
        """Close a function or comprehension scope: resolve what it loaded."""
        scope = self.scope
        assert scope.parent is not None
        self.scope = scope.parent
        for name in scope.pending:
            if name in scope.globals:
                self._global_load(name, scope.deferred)
            elif name not in scope.bound and name not in scope.nonlocals:
                self._propagate(scope, name)

    # -- names and scopes --------------------------------------------------

    def _visit_name(self, node: ast.Name) -> None:
        ctx = type(node.ctx)
        if ctx is ast.Load:
            self._load(node.id)
        elif ctx is ast.Store:
            self._bind(node.id)
        else:
            self._delete(node.id)

    def _visit_arguments_defaults(self, args: ast.arguments) -> None:
        self._visit_all(args.defaults)
        self._visit_all(args.kw_defaults)

    def _visit_arguments_annotations(self, args: ast.arguments) -> None:
        if self.postponed_annotations:
            return
        for arg in _all_args(args):
            if arg.annotation is not None:
                self._visit(arg.annotation)

    def _bind_parameters(self, args: ast.arguments) -> None:
        for arg in _all_args(args):
            self.scope.bound.add(arg.arg)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._visit_all(node.decorator_list)
        self._visit_arguments_defaults(node.args)
        type_scope = self._push_type_params(node)
        self._visit_arguments_annotations(node.args)
        if node.returns is not None and not self.postponed_annotations:
            self._visit(node.returns)
        self._push(ScopeKind.FUNCTION)
        self._bind_parameters(node.args)
        self._visit_all(node.body)
        self._pop()
        if type_scope:
            self._pop()
        self._bind(node.name)

    def _visit_lambda(self, node: ast.Lambda) -> None:
        self._visit_arguments_defaults(node.args)
        self._push(ScopeKind.FUNCTION)
        self._bind_parameters(node.args)
        self._visit(node.body)
        self._pop()

    def _visit_class(self, node: ast.ClassDef) -> None:
        self._visit_all(node.decorator_list)
        type_scope = self._push_type_params(node)
        self._visit_all(node.bases)
        self._visit_all(node.keywords)
        self._push(ScopeKind.CLASS)
        self._visit_all(node.body)
        self.scope = self.scope.parent or self.module  # class bodies resolve as they go
        if type_scope:
            self._pop()
        self._bind(node.name)

    def _push_type_params(self, node: ast.AST) -> bool:
        """PEP 695 type parameters (3.12+) live in a scope around the definition."""
        params = getattr(node, "type_params", None)
        if not params:
            return False
        self._push(ScopeKind.FUNCTION)
        for param in params:
            self.scope.bound.add(param.name)
        return True

    def _visit_type_alias(self, node: Any) -> None:
        type_scope = self._push_type_params(node)
        self._push(ScopeKind.FUNCTION)  # the alias value is evaluated lazily
        self._visit(node.value)
        self._pop()
        if type_scope:
            self._pop()
        self._visit(node.name)

    def _visit_comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        generators = node.generators
        self._visit(generators[0].iter)  # evaluated in the enclosing scope
        self._push(ScopeKind.COMPREHENSION)
        for index, generator in enumerate(generators):
            if index:
                self._visit(generator.iter)
            self._bind_targets(generator.target)
            self._visit_all(generator.ifs)
        if isinstance(node, ast.DictComp):
            self._visit(node.key)
            self._visit(node.value)
        else:
            self._visit(node.elt)
        self._pop()

    def _bind_targets(self, target: ast.AST) -> None:
        """Comprehension targets bind in the comprehension itself, never globally."""
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                if isinstance(sub.ctx, ast.Store):
                    self.scope.bound.add(sub.id)
                else:
                    self._load(sub.id)

    def _visit_named_expr(self, node: ast.NamedExpr) -> None:
        self._visit(node.value)
        scope = self.scope
        while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
            scope = scope.parent
        self._bind(node.target.id, scope)

    # -- statements --------------------------------------------------------

    def _visit_assign(self, node: ast.Assign) -> None:
        self._visit(node.value)
        self._visit_all(node.targets)

    def _visit_aug_assign(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(target, ast.Name):
            self._load(target.id)
            self._visit(node.value)
            self._bind(target.id)
        else:
            self._visit(target)
            self._visit(node.value)

    def _visit_ann_assign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._visit(node.value)
        in_function = self.scope.kind is ScopeKind.FUNCTION
        if not in_function and not self.postponed_annotations:
            self._visit(node.annotation)
        target = node.target
        if isinstance(target, ast.Name):
            if node.value is not None or in_function:
                self._bind(target.id)
        else:
            self._visit(target)

    def _visit_for(self, node: ast.For | ast.AsyncFor) -> None:
        self._visit(node.iter)
        self._visit(node.target)
        self._visit_all(node.body)
        self._visit_all(node.orelse)

    def _visit_import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._bind(alias.asname or alias.name.partition(".")[0])

    def _visit_import_from(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__":
            return  # compiler directives, not names anyone reads
        for alias in node.names:
            if alias.name == "*":
                self.star_imports.append("." * node.level + (node.module or ""))
            else:
                self._bind(alias.asname or alias.name)

    def _visit_global(self, node: ast.Global) -> None:
        if self.scope.kind is not ScopeKind.MODULE:
            self.scope.globals.update(node.names)

    def _visit_nonlocal(self, node: ast.Nonlocal) -> None:
        self.scope.nonlocals.update(node.names)

    def _visit_except_handler(self, node: ast.ExceptHandler) -> None:
        """``except E as e`` binds ``e`` for the handler only: Python deletes it after."""
        if node.type is not None:
            self._visit(node.type)
        name = node.name
        scope = self.scope
        if name is None or scope.kind is ScopeKind.FUNCTION:
            if name is not None:
                scope.bound.add(name)
            self._visit_all(node.body)
            return
        was_bound = name in scope.bound
        scope.bound.add(name)
        self._visit_all(node.body)
        if not was_bound:
            scope.bound.discard(name)

    def _visit_match_case(self, node: ast.match_case) -> None:
        self._visit(node.pattern)
        if node.guard is not None:
            self._visit(node.guard)
        self._visit_all(node.body)

    def _visit_match_capture(self, node: ast.MatchAs | ast.MatchStar) -> None:
        pattern = getattr(node, "pattern", None)
        if pattern is not None:
            self._visit(pattern)
        if node.name is not None:
            self._bind(node.name)

    def _visit_match_mapping(self, node: ast.MatchMapping) -> None:
        self._visit_all(node.keys)
        self._visit_all(node.patterns)
        if node.rest is not None:
            self._bind(node.rest)

    # -- IPython: magics and shell commands ----------------------------------

    def _visit_call(self, node: ast.Call) -> None:
        self._visit(node.func)
        self._visit_all(node.args)
        self._visit_all(node.keywords)
        func = node.func
        if (
            type(func) is ast.Attribute
            and func.attr in _EXPANDING_CALLS
            and _is_get_ipython_call(func.value)
        ):
            self._visit_ipython_call(func.attr, node.args)

    def _visit_ipython_call(self, method: str, args: list[ast.expr]) -> None:
        """What the transformed ``%magic`` / ``!cmd`` reads and binds.

        IPython expands ``$name`` and ``{expr}`` in shell commands and magic lines;
        ``%time`` / ``%%time`` / ``%%capture`` run their code in the user namespace.
        """
        strings = [a.value if isinstance(a, ast.Constant) else None for a in args]
        if not strings or not all(isinstance(s, str) for s in strings):
            return
        if method in ("system", "getoutput"):
            self._visit_expansions(str(strings[0]))
            return
        magic = str(strings[0])
        line = str(strings[1]) if len(strings) > 1 else ""
        if method == "run_line_magic":
            if magic in _EXEC_LINE_MAGICS:
                self._visit_embedded_code(line, read_only=False)
            elif magic in _READ_ONLY_MAGICS:
                self._visit_embedded_code(_strip_options(line), read_only=True)
            else:
                self._visit_expansions(line)
            return
        body = str(strings[2]) if len(strings) > 2 else ""
        self._visit_expansions(line)
        if magic in _EXEC_CELL_MAGICS:
            if magic == "capture":
                target = _strip_options(line).split()
                if target and target[0].isidentifier():
                    self._bind(target[0])
            self._visit_embedded_code(body, read_only=False)
        elif magic in _READ_ONLY_MAGICS:
            self._visit_embedded_code(_strip_options(line) + "\n" + body, read_only=True)

    def _visit_embedded_code(self, code: str, *, read_only: bool) -> None:
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            return  # the magic reports its own syntax error when it runs
        if read_only:
            # timeit runs the code with the user namespace as globals and a fresh
            # dict as locals: like a class body, it binds locally and reads globally.
            self._push(ScopeKind.CLASS)
            self._visit_all(tree.body)
            self.scope = self.scope.parent or self.module
        else:
            self._visit_all(tree.body)

    def _visit_expansions(self, text: str) -> None:
        if "$" not in text and "{" not in text:
            return
        for match in _DOLLAR_NAME.finditer(text):
            self._load(match.group(1))
        for match in _BRACED_EXPR.finditer(text):
            try:
                expr = ast.parse(match.group(1).strip(), mode="eval")
            except (SyntaxError, ValueError):
                continue
            self._visit(expr.body)


def _ignore(node: ast.AST) -> None:
    return None


def _all_args(args: ast.arguments) -> list[ast.arg]:
    result = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg is not None:
        result.append(args.vararg)
    if args.kwarg is not None:
        result.append(args.kwarg)
    return result


def _is_get_ipython_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "get_ipython"
        and not node.args
    )


def _strip_options(line: str) -> str:
    """Drop leading ``-x`` / ``--flag`` options of a magic line (``%timeit -n 10 f()``)."""
    words = line.split()
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option in ("-n", "-r", "-p") and words:
            words.pop(0)
    return " ".join(words)


def _has_future_annotations(tree: ast.Module) -> bool:
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            if any(alias.name == "annotations" for alias in stmt.names):
                return True
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring may come first
        elif not isinstance(stmt, ast.ImportFrom):
            break
    return False
