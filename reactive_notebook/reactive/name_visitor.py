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
import re
import string
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


#: Parses the code of ``%%time`` and similar magics (IPython transforms it first).
EmbeddedParser = Callable[[str], "ast.Module | None"]

# Magics that run their line (and cell body) in the user namespace, with the options
# that take a value. IPython does not expand ``$name`` / ``{expr}`` in their line.
_EXEC_MAGICS: dict[str, frozenset[str]] = {
    "time": frozenset(),
    "prun": frozenset({"-D", "-l", "-s", "-T"}),
    "debug": frozenset({"-b", "--breakpoint"}),
}
# ``%timeit`` compiles its code into a function: it binds locals and reads globals.
_TIMEIT_OPTIONS = frozenset({"-n", "-r", "-p", "-v"})
# ``x?``, ``x??`` and these magics show an object: their output depends on it.
_INSPECT_MAGICS = frozenset({"pinfo", "pinfo2", "pdef", "pdoc", "psource", "pfile"})
# IPython expands ``$name`` and ``{expr}`` in these calls' string argument.
_EXPANDING_CALLS = frozenset({"system", "getoutput", "run_line_magic", "run_cell_magic"})
# IPython's DollarFormatter: ``$name`` / ``$a.b`` outside single quotes; ``$$`` escapes.
_DOLLAR_FIELD = re.compile(r"\$(\$?[\w.]+)(?=(?:[^']*'[^']*')*[^']*$)")
_OPTION = re.compile(r"\s*(-\S*)")
_WORD = re.compile(r"\s*(\S+)")
_FORMATTER = string.Formatter()


def _child_fields(node_type: type[ast.AST]) -> tuple[str, ...]:
    return tuple(f for f in node_type._fields if f != "ctx")


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

    def _bind(self, name: str, scope: Scope | None = None) -> None:
        name = self._mangle(name)
        scope = scope or self.scope
        if scope.kind is ScopeKind.MODULE or name in scope.globals:
            self.module.bound.add(name)
            self.writes.add(name)
        elif name not in scope.nonlocals:
            scope.bound.add(name)

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
            self._bind_local(arg.arg)

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
        self._push(ScopeKind.CLASS, private=node.name)
        self._visit_all(node.body)
        self._close_class()
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
            for sub in ast.walk(generator.target):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    self._bind_local(sub.id)
        for index, generator in enumerate(generators):
            if index:
                self._visit(generator.iter)
            self._visit(generator.target)  # loads in targets such as `for o.attr in ...`
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

        IPython expands ``$name`` and ``{expr}`` in shell commands and most magic lines;
        ``%time``, ``%%capture`` and the like run their code in the user namespace.
        """
        strings: list[str] = []
        for arg in args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                return
            strings.append(arg.value)
        if not strings:
            return
        if method in ("system", "getoutput"):
            self._visit_expansions(strings[0])
            return
        magic = strings[0]
        line = strings[1] if len(strings) > 1 else ""
        body = strings[2] if method == "run_cell_magic" and len(strings) > 2 else None
        if magic in _EXEC_MAGICS:
            _, code = _split_options(line, _EXEC_MAGICS[magic])
            self._visit_embedded_code(_join_code(code, body), runs_in_function=False)
        elif magic == "timeit":
            options, code = _split_options(line, _TIMEIT_OPTIONS)
            self._visit_embedded_code(_join_code(code, body), runs_in_function=True)
            saved = options.get("-v", "")
            if saved.isidentifier():
                self._bind(saved)
        elif magic in _INSPECT_MAGICS:
            self._visit_expression(line)
        else:
            self._visit_expansions(line)
            if magic == "capture" and body is not None:
                self._visit_embedded_code(body, runs_in_function=False)
                output = _split_options(line, frozenset())[1].split()
                if output and output[0].isidentifier():
                    self._bind(output[0])  # bound after the body ran

    def _visit_embedded_code(self, code: str, *, runs_in_function: bool) -> None:
        tree = self.parse_embedded(code) if code.strip() else None
        if tree is None:
            return
        if runs_in_function:
            # timeit compiles the code into a function it calls at once: the code
            # binds locals and reads globals, as they stand at this point of the cell.
            self._push(ScopeKind.FUNCTION, runs_later=False)
            self._visit_all(tree.body)
            self._pop()
        else:
            self._visit_all(tree.body)

    def _visit_expansions(self, text: str) -> None:
        """Loads of IPython's ``var_expand``: ``{expr}`` fields and ``$name``.

        IPython evaluates every field or expands nothing, so a field that is not an
        expression (``awk '{print $1}'``) leaves the whole line unexpanded.
        """
        if "$" not in text and "{" not in text:
            return
        expressions: list[ast.Expression] = []
        try:
            for literal, field, spec, _ in _FORMATTER.parse(text):
                for match in _DOLLAR_FIELD.finditer(literal):
                    if not match.group(1).startswith("$"):
                        expressions.append(ast.parse(match.group(1), mode="eval"))
                if field is not None:
                    source = f"{field}:{spec}" if spec else field
                    expressions.append(ast.parse(source.strip(), mode="eval"))
        except (SyntaxError, ValueError):
            return
        for expression in expressions:
            self._visit(expression.body)

    def _visit_expression(self, source: str) -> None:
        try:
            expression = ast.parse(source.strip(), mode="eval")
        except (SyntaxError, ValueError):
            return
        self._visit(expression.body)


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


def _split_options(line: str, takes_value: frozenset[str]) -> tuple[dict[str, str], str]:
    """Leading ``-x`` / ``--flag`` options of a magic line, and the rest verbatim.

    ``%timeit -n 10 -v res f()`` gives ``({"-n": "10", "-v": "res"}, "f()")``; a short
    option may carry its value attached (``-n10``).
    """
    options: dict[str, str] = {}
    position = 0
    while match := _OPTION.match(line, position):
        option = match.group(1)
        position = match.end()
        if option in takes_value:
            value = _WORD.match(line, position)
            if value is not None:
                options[option] = value.group(1)
                position = value.end()
        elif option[:2] in takes_value and not option.startswith("--"):
            options[option[:2]] = option[2:]
        else:
            options[option] = ""
    return options, line[position:].strip()


def _join_code(line_code: str, body: str | None) -> str:
    """A magic's line code and cell body run as one piece of code, line first."""
    return line_code if body is None else f"{line_code}\n{body}"


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
