"""Which global names a cell reads and writes, following Python's scoping rules.

One pass over the AST with a stack of scopes, as the compiler's symbol table does:

- Module and class bodies run immediately and in order: a load there is a read of the
  cell unless the name was bound earlier in the same body.
- Function and lambda bodies run later. Their locals are every name they bind anywhere
  (known only when the body ends), so their loads wait in ``pending`` and are resolved
  when the scope closes: local, a closure over an enclosing function, or global. A
  global loaded from a function body is a read unless the cell binds it anywhere.
- Comprehensions run immediately in their own scope: their locals are their loop
  variables (known up front), which never leak, while a walrus inside binds in the
  enclosing non-comprehension scope.
- Class scopes are invisible to the functions and comprehensions nested in them. A name
  a class body binds anywhere is class-local: loaded before its binding, it is looked up
  in the globals (``LOAD_NAME``), never in an enclosing function.
- Inside a class, ``__name`` is mangled to ``_Class__name``, as the compiler does.

Decorators, default values, base classes and (unless postponed by
``from __future__ import annotations``) annotations are evaluated where the ``def`` or
``class`` statement stands, so they are loads of the enclosing scope.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import Any

from .dynamic_names import DynamicAccess
from .dynamic_visit import visit_dynamic_call, visit_namespace_subscript
from .ipython_syntax import IPYTHON_METHODS
from .ipython_visit import visit_ipython_call
from .match_visit import visit_match_capture, visit_match_case, visit_match_mapping
from .names import is_ambient, is_private
from .scopes import (
    Scope,
    ScopeKind,
    all_args,
    child_fields,
    has_future_annotations,
    is_get_ipython_call,
)

#: Parses the code of ``%%time`` and similar magics (IPython transforms it first).
EmbeddedParser = Callable[[str], "ast.Module | None"]


def _parse_plain(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


class NameVisitor:
    """Collects a cell's reads, writes and deletes. Use :meth:`analyze` once per tree.

    ``parse_embedded`` parses the code a magic runs (``%%time`` bodies and the like); it
    returns None for code that does not parse, which the magic reports when it runs.
    """

    def __init__(self, parse_embedded: EmbeddedParser = _parse_plain) -> None:
        self.module = Scope(ScopeKind.MODULE, None)
        self.scope = self.module
        self.parse_embedded = parse_embedded
        self.raw_reads: dict[str, None] = {}
        self.deferred_loads: set[str] = set()
        self.writes: set[str] = set()
        self.deletes: set[str] = set()
        self.star_imports: list[str] = []
        self.import_targets: dict[str, str] = {}
        self.rebound: set[str] = set()  # module names also bound by something else
        self.postponed_annotations = False
        self.embedded_depth = 0
        self.dyn = DynamicAccess()  # eval, exec, globals()...: see dynamic_names
        self.immediate_raw: frozenset[str] = frozenset()

    # -- entry point -------------------------------------------------------

    def analyze(self, tree: ast.Module) -> None:
        self.postponed_annotations = has_future_annotations(tree)
        self._visit_all(tree.body)
        self.immediate_raw = frozenset(self.raw_reads)  # before the function bodies' loads
        for name in self.deferred_loads:
            if name not in self.module.bound:
                self.raw_reads.setdefault(name)

    def reads(self) -> tuple[frozenset[str], frozenset[str]]:
        """(reads, ambient reads): ambient ones are builtins and kernel-injected names.

        Output history (``_``, ``_5``, ``_i3``) is ambient although it looks private.
        """
        user: set[str] = set()
        ambient: set[str] = set()
        for name in self.raw_reads:
            if is_ambient(name):
                ambient.add(name)
            elif not is_private(name):
                user.add(name)
        return frozenset(user), frozenset(ambient)

    # -- traversal ---------------------------------------------------------

    def _visit(self, node: ast.AST) -> None:
        node_type = type(node)
        if node_type is _NAME:  # half of all nodes: loads handled inline, no dispatch
            if type(node.ctx) is _LOAD:  # type: ignore[attr-defined]
                scope = self.scope
                if scope.kind is _MODULE:
                    if node.id not in scope.bound:  # type: ignore[attr-defined]
                        self.raw_reads.setdefault(node.id)  # type: ignore[attr-defined]
                    else:
                        self.dyn.immediate_loads.add(node.id)  # type: ignore[attr-defined]
                    return
                if scope.kind is _FUNCTION and scope.private is None:
                    scope.pending.add(node.id)  # type: ignore[attr-defined]
                    return
            self._visit_name(node)  # type: ignore[arg-type]
            return
        if node_type is _CONSTANT:
            return
        handler = _DISPATCH.get(node_type)
        if handler is not None:
            handler(self, node)
            return
        fields = _CHILD_FIELDS.get(node_type)
        if fields is None:
            fields = _CHILD_FIELDS[node_type] = child_fields(node_type)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):  # None keys, MatchClass attr names
                        self._visit(item)
            elif isinstance(value, ast.AST):  # not MatchSingleton's True/None
                self._visit(value)

    def _visit_all(self, nodes: Iterable[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self._visit(node)

    # -- binding and loading -----------------------------------------------

    def _mangle(self, name: str) -> str:
        """``__x`` inside class ``A`` is ``_A__x`` (Python's private name mangling)."""
        private = self.scope.private
        if private is None or not name.startswith("__") or name.endswith("__"):
            return name
        stripped = private.lstrip("_")
        return f"_{stripped}{name}" if stripped else name

    def _load(self, name: str) -> None:
        name = self._mangle(name)
        scope = self.scope
        kind = scope.kind
        if kind is ScopeKind.MODULE:
            if name not in scope.bound:
                self.raw_reads.setdefault(name)
            else:
                self.dyn.immediate_loads.add(name)
        elif kind is ScopeKind.FUNCTION:
            scope.pending.add(name)
        elif kind is ScopeKind.COMPREHENSION:
            if name not in scope.bound:
                self._resolve_free(scope, name)
        elif name in scope.globals:
            self._global_load(name, scope.deferred)
        elif name not in scope.bound:
            if scope.deferred:
                # Free or class-local: known when the class body ends (see _close_class).
                scope.pending.add(name)
            else:
                self._resolve_free(scope, name)

    def _global_load(self, name: str, deferred: bool) -> None:
        self.dyn.global_load(name, deferred=deferred)
        if deferred:
            self.deferred_loads.add(name)
        elif name not in self.module.bound:
            self.raw_reads.setdefault(name)

    def _resolve_free(self, scope: Scope, name: str) -> None:
        """Resolve a name ``scope`` does not bind in the scopes around it, skipping
        class bodies: a comprehension's loop variable, a pending load of an enclosing
        function (resolved when it closes), or a global."""
        parent = scope.parent
        while parent is not None and parent.kind is not ScopeKind.MODULE:
            if parent.kind is ScopeKind.FUNCTION:
                parent.pending.add(name)
                return
            if parent.kind is ScopeKind.COMPREHENSION and name in parent.bound:
                return
            parent = parent.parent
        self._global_load(name, scope.deferred)

    def _bind(self, name: str, scope: Scope | None = None, *, imports: str | None = None) -> None:
        """Bind ``name``; ``imports`` is the module path when an import statement binds it."""
        name = self._mangle(name)
        scope = scope or self.scope
        if scope.kind is ScopeKind.MODULE or name in scope.globals:
            self.module.bound.add(name)
            self.writes.add(name)
            if imports is None or self.import_targets.get(name, imports) != imports:
                self.rebound.add(name)
            elif scope.kind is ScopeKind.MODULE:
                self.import_targets[name] = imports
            else:
                self.rebound.add(name)  # a function's `global x; import x` runs later
        elif name not in scope.nonlocals:
            scope.bound.add(name)

    def pure_imports(self) -> dict[str, str]:
        """Module-level names bound only by imports of one target (``pd`` -> ``pandas``)."""
        return {n: t for n, t in self.import_targets.items() if n not in self.rebound}

    def _bind_local(self, name: str) -> None:
        """Parameters, loop variables of comprehensions, handler names: always local."""
        self.scope.bound.add(self._mangle(name))

    def _delete(self, name: str) -> None:
        name = self._mangle(name)
        scope = self.scope
        if scope.kind is ScopeKind.MODULE or name in scope.globals:
            self._load(name)
            self.deletes.add(name)
        elif name not in scope.nonlocals:
            scope.bound.add(name)

    def _push(
        self, kind: ScopeKind, *, runs_later: bool | None = None, private: str | None = None
    ) -> Scope:
        self.scope = Scope(kind, self.scope, runs_later=runs_later, private=private)
        return self.scope

    def _pop(self) -> None:
        """Close a function scope: resolve what it loaded."""
        scope = self.scope
        assert scope.parent is not None
        self.scope = scope.parent
        for name in scope.pending:
            if name in scope.globals:
                self._global_load(name, scope.deferred)
            elif name not in scope.bound and name not in scope.nonlocals:
                self._resolve_free(scope, name)

    def _close_class(self) -> None:
        """Close a class body nested in a function: a pending name the body binds
        somewhere was loaded before its binding, from the globals (``LOAD_NAME``)."""
        scope = self.scope
        assert scope.parent is not None
        self.scope = scope.parent
        for name in scope.pending:
            if name in scope.bound:
                self._global_load(name, scope.deferred)
            else:
                self._resolve_free(scope, name)

    # -- names and scopes --------------------------------------------------

    def _visit_name(self, node: ast.Name) -> None:
        ctx = type(node.ctx)
        if ctx is ast.Load:
            scope = self.scope
            if scope.kind is ScopeKind.MODULE:  # the hot path, inlined
                if node.id not in scope.bound:
                    self.raw_reads.setdefault(node.id)
                else:
                    self.dyn.immediate_loads.add(node.id)
            elif scope.kind is ScopeKind.FUNCTION and scope.private is None:
                scope.pending.add(node.id)
            else:
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
        for arg in all_args(args):
            if arg.annotation is not None:
                self._visit(arg.annotation)

    def _bind_parameters(self, args: ast.arguments) -> None:
        for arg in all_args(args):
            self._bind_local(arg.arg)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._visit_all(node.decorator_list)
        self._visit_arguments_defaults(node.args)
        type_scope = self._push_type_params(node)
        self._visit_arguments_annotations(node.args)
        if node.returns is not None and not self.postponed_annotations:
            self._visit(node.returns)
        owner = self._own(node.name)
        self._push(ScopeKind.FUNCTION)
        self._bind_parameters(node.args)
        self._visit_all(node.body)
        self._pop()
        self.dyn.owner = owner
        if type_scope:
            self._pop()
        self._bind(node.name)

    def _own(self, name: str) -> frozenset[str] | None:
        """Code visited from now on belongs to the module-level ``name`` (a ``def`` or
        ``class`` at the cell's level); returns the owner to restore afterwards."""
        owner = self.dyn.owner
        if owner is None and self.scope.kind is ScopeKind.MODULE:
            self.dyn.owner = frozenset({name})
        return owner

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
        owner = self._own(node.name)
        self._push(ScopeKind.CLASS, private=node.name)
        self._visit_all(node.body)
        self._close_class()
        self.dyn.owner = owner
        if type_scope:
            self._pop()
        self._bind(node.name)

    def _push_type_params(self, node: ast.AST) -> bool:
        """PEP 695 type parameters (3.12+) live in a scope around the definition."""
        params = getattr(node, "type_params", None)
        if not params:
            return False
        self._push(ScopeKind.FUNCTION, runs_later=False)  # evaluated with the definition
        for param in params:
            self._bind_local(param.name)
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
        for generator in generators:  # every loop variable is local from the start
            target = generator.target
            if type(target) is ast.Name:
                self._bind_local(target.id)
                continue
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    self._bind_local(sub.id)
        for index, generator in enumerate(generators):
            if index:
                self._visit(generator.iter)
            if type(generator.target) is not ast.Name:
                self._visit(generator.target)  # loads in targets like `for o.attr in ...`
            self._visit_all(generator.ifs)
        if isinstance(node, ast.DictComp):
            self._visit(node.key)
            self._visit(node.value)
        else:
            self._visit(node.elt)
        assert self.scope.parent is not None
        self.scope = self.scope.parent  # loads were resolved as they came

    def _visit_named_expr(self, node: ast.NamedExpr) -> None:
        self._visit(node.value)
        scope = self.scope
        while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
            scope = scope.parent
        self._bind(node.target.id, scope)

    # -- common expressions, visited without the generic field walk ----------

    def _visit_value(self, node: Any) -> None:
        """Attribute, Expr, Return, Starred, keyword, FormattedValue...: one child."""
        value = node.value
        if value is not None:
            self._visit(value)

    def _visit_binop(self, node: ast.BinOp) -> None:
        self._visit(node.left)
        self._visit(node.right)

    def _visit_elements(self, node: ast.Tuple | ast.List | ast.Set) -> None:
        visit = self._visit
        for element in node.elts:
            visit(element)

    def _visit_subscript(self, node: ast.Subscript) -> None:
        if type(node.value) in _MAYBE_NAMESPACE and visit_namespace_subscript(self, node):
            return  # globals()['x'] and the like
        self._visit(node.value)
        self._visit(node.slice)

    def _visit_attribute(self, node: ast.Attribute) -> None:
        if node.attr in _IPYTHON_NAMESPACES:  # get_ipython().user_ns: the namespace itself
            self.dyn.use(f"{node.attr}", deferred=self.scope.deferred)
        self._visit(node.value)

    # -- statements --------------------------------------------------------

    def _visit_assign(self, node: ast.Assign) -> None:
        value = node.value
        if type(value) is ast.Lambda and self.scope.kind is ScopeKind.MODULE:
            targets = [t.id for t in node.targets if type(t) is ast.Name]
            owner = self.dyn.owner
            if owner is None and len(targets) == len(node.targets):
                self.dyn.owner = frozenset(targets)  # `f = lambda: ...` names the function
            self._visit(value)
            self.dyn.owner = owner
        else:
            self._visit(value)
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
        """Value, then target, then (in modules and classes) the annotation."""
        if node.value is not None:
            self._visit(node.value)
        in_function = self.scope.kind is ScopeKind.FUNCTION
        target = node.target
        if isinstance(target, ast.Name):
            if node.value is not None or in_function:
                self._bind(target.id)
        else:
            self._visit(target)
        if not in_function and not self.postponed_annotations:
            self._visit(node.annotation)

    def _visit_for(self, node: ast.For | ast.AsyncFor) -> None:
        self._visit(node.iter)
        self._visit(node.target)
        self._visit_all(node.body)
        self._visit_all(node.orelse)

    def _visit_import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self._bind(alias.asname, imports=alias.name)
            else:
                top = alias.name.partition(".")[0]
                self._bind(top, imports=top)

    def _visit_import_from(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__":
            return  # compiler directives, not names anyone reads
        for alias in node.names:
            if alias.name == "*":
                self.star_imports.append("." * node.level + (node.module or ""))
            else:
                source = "." * node.level + (node.module or "")
                self._bind(alias.asname or alias.name, imports=f"{source}:{alias.name}")

    def _visit_global(self, node: ast.Global) -> None:
        if self.scope.kind is not ScopeKind.MODULE:
            self.scope.globals.update(self._mangle(name) for name in node.names)

    def _visit_nonlocal(self, node: ast.Nonlocal) -> None:
        self.scope.nonlocals.update(self._mangle(name) for name in node.names)

    def _visit_except_handler(self, node: ast.ExceptHandler) -> None:
        """``except E as e`` binds ``e`` for the handler only: Python deletes it after."""
        if node.type is not None:
            self._visit(node.type)
        if node.name is None:
            self._visit_all(node.body)
            return
        name = self._mangle(node.name)
        scope = self.scope
        if scope.kind is ScopeKind.FUNCTION:
            scope.bound.add(name)
            self._visit_all(node.body)
            return
        was_bound = name in scope.bound
        scope.bound.add(name)
        self._visit_all(node.body)
        if not was_bound:
            scope.bound.discard(name)

    # -- IPython: magics and shell commands ----------------------------------

    def _visit_call(self, node: ast.Call) -> None:
        visit = self._visit
        func = node.func
        if type(func) in _MAYBE_DYNAMIC and visit_dynamic_call(self, node):
            return  # eval, exec, globals(), locals(), vars() and namespace methods
        visit(func)
        for arg in node.args:
            visit(arg)
        for keyword in node.keywords:
            visit(keyword.value)
        if (
            type(func) is ast.Attribute
            and func.attr in IPYTHON_METHODS
            and is_get_ipython_call(func.value)
        ):
            visit_ipython_call(self, func.attr, node.args)


def _ignore(visitor: NameVisitor, node: ast.AST) -> None:
    return None


#: How each node type is visited; other nodes have their children visited in order.
_DISPATCH: dict[type[ast.AST], Callable[[NameVisitor, Any], None]] = {
    ast.Name: NameVisitor._visit_name,
    ast.FunctionDef: NameVisitor._visit_function,
    ast.AsyncFunctionDef: NameVisitor._visit_function,
    ast.Lambda: NameVisitor._visit_lambda,
    ast.ClassDef: NameVisitor._visit_class,
    ast.ListComp: NameVisitor._visit_comprehension,
    ast.SetComp: NameVisitor._visit_comprehension,
    ast.GeneratorExp: NameVisitor._visit_comprehension,
    ast.DictComp: NameVisitor._visit_comprehension,
    ast.NamedExpr: NameVisitor._visit_named_expr,
    ast.Assign: NameVisitor._visit_assign,
    ast.AugAssign: NameVisitor._visit_aug_assign,
    ast.AnnAssign: NameVisitor._visit_ann_assign,
    ast.For: NameVisitor._visit_for,
    ast.AsyncFor: NameVisitor._visit_for,
    ast.Import: NameVisitor._visit_import,
    ast.ImportFrom: NameVisitor._visit_import_from,
    ast.Global: NameVisitor._visit_global,
    ast.Nonlocal: NameVisitor._visit_nonlocal,
    ast.ExceptHandler: NameVisitor._visit_except_handler,
    ast.match_case: visit_match_case,
    ast.MatchAs: visit_match_capture,
    ast.MatchStar: visit_match_capture,
    ast.MatchMapping: visit_match_mapping,
    ast.Call: NameVisitor._visit_call,
    ast.Attribute: NameVisitor._visit_attribute,
    ast.Expr: NameVisitor._visit_value,
    ast.Return: NameVisitor._visit_value,
    ast.Starred: NameVisitor._visit_value,
    ast.keyword: NameVisitor._visit_value,
    ast.Await: NameVisitor._visit_value,
    ast.BinOp: NameVisitor._visit_binop,
    ast.Tuple: NameVisitor._visit_elements,
    ast.List: NameVisitor._visit_elements,
    ast.Set: NameVisitor._visit_elements,
    ast.Subscript: NameVisitor._visit_subscript,
    ast.Constant: _ignore,
    ast.Pass: _ignore,
    ast.Break: _ignore,
    ast.Continue: _ignore,
}
_TYPE_ALIAS: type[ast.AST] | None = getattr(ast, "TypeAlias", None)  # Python 3.12+
if _TYPE_ALIAS is not None:
    _DISPATCH[_TYPE_ALIAS] = NameVisitor._visit_type_alias
#: Child fields of the node types without a handler, computed on first sight.
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}
_NAME, _LOAD, _CONSTANT = ast.Name, ast.Load, ast.Constant
_MODULE, _FUNCTION = ScopeKind.MODULE, ScopeKind.FUNCTION
_MAYBE_DYNAMIC = (ast.Name, ast.Attribute)
_MAYBE_NAMESPACE = (ast.Call, ast.Attribute)
_IPYTHON_NAMESPACES = frozenset({"user_ns", "user_global_ns"})
