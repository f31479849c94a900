"""What a cell reads and writes: the input of the notebook graph.

``analyze_python`` follows Python's scoping exactly (see :mod:`.name_visitor`) plus the
project's conventions (design.md section 3): private ``_x`` names, builtins and
kernel-injected names reported apart, ``except ... as e`` binding nothing, star imports
recorded until a run tells what they bound. Code passes through IPython's input
transformer first when plain Python does not parse, so ``%magic`` and ``!cmd`` work, and
a one-line cell that still does not parse but starts with a magic's name (``ls *.py``)
is read as that magic, as IPython's automagic runs it (see :mod:`.automagic`).

Results are cached by code, so re-analysing an unchanged cell costs a dict lookup.
"""

from __future__ import annotations

import ast
import keyword
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Protocol

from .automagic import automagic_call
from .dynamic_names import BARE_DYNAMIC
from .ipython_syntax import MAX_EMBEDDED_DEPTH, EmbeddedTooDeep
from .name_visitor import NameVisitor
from .names import is_ambient, is_private
from .sql_template import placeholder_names

_CACHE_SIZE = 8192


@dataclass(frozen=True, slots=True)
class AnalysisError:
    """A cell that cannot be analysed. ``line`` is 1-based, ``column`` 0-based.

    ``kind`` is ``"syntax"`` for code that does not parse, ``"limit"`` for code too large,
    too deep or too slow to analyse (the server's bounds, not the code's fault).
    """

    line: int
    column: int
    message: str
    kind: str = "syntax"

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"

    def describe(self) -> str:
        """The error as a person reads it on the cell."""
        if self.kind == "syntax":
            return f"SyntaxError: {self}"
        return self.message


def limit_error(message: str) -> AnalysisError:
    """A cell the server would not (fully) analyse, with why and what to change."""
    return AnalysisError(1, 0, message, kind="limit")


@dataclass(frozen=True, slots=True)
class CellAnalysis:
    """The global names a cell reads, writes and deletes.

    ``ambient_reads`` are loads of builtins and kernel-injected names (``print``,
    ``display``): not dependencies unless a cell of the notebook defines that name.
    ``star_imports`` lists modules imported with ``*``: their names are unknown until
    the cell runs (see :meth:`with_star_names`). ``imports`` maps the names the cell
    binds only by importing (``pd`` -> ``pandas``, ``sqrt`` -> ``math:sqrt``): two cells
    that import the same thing under the same name define the same value.

    Dynamic name access (``eval``, ``exec``, ``globals()``...; the cases are decided in
    :mod:`.dynamic_names`):

    - ``dynamic``: why the cell's own code reaches names dynamically when it runs
      (``"eval"``, ``"globals()"``, ``"eval in f"`` when it calls its own function ``f``).
    - ``dynamic_builtins``: those builtins named without a call (``f = eval``); dynamic
      unless a cell of the notebook defines the name (``vars = [...]``): the graph decides.
    - ``dynamic_functions``: (name, why) for the names the cell binds to functions or
      classes whose bodies reach names dynamically, directly or through another of its own.
    - ``function_reads``: (name, names) for its other functions and classes: the reads
      and the cell's own functions their bodies load (a dynamic function of another cell
      makes them dynamic too, also through each other: the graph follows that).
    - ``immediate_reads``: the same names, loaded by code that runs with the cell (not
      only inside function bodies): loading a dynamic function there makes it dynamic.
    - ``writes_unknown``: the cell binds names it cannot name (``globals()[k] = v``,
      ``globals().update(d)``, ``exec(code)``).
    """

    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    deletes: frozenset[str] = frozenset()
    ambient_reads: frozenset[str] = frozenset()
    star_imports: tuple[str, ...] = ()
    error: AnalysisError | None = None
    imports: frozenset[tuple[str, str]] = frozenset()
    dynamic: tuple[str, ...] = ()
    dynamic_builtins: frozenset[str] = frozenset()
    dynamic_functions: frozenset[tuple[str, str]] = frozenset()
    function_reads: frozenset[tuple[str, frozenset[str]]] = frozenset()
    immediate_reads: frozenset[str] = frozenset()
    writes_unknown: bool = False
    #: names bound by the imports the cell starts with: whatever fails later in the cell,
    #: a run binds them first (to the modules it bound last time: they are cached)
    leading_imports: frozenset[str] = frozenset()
    defines: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "defines", self.writes | self.deletes)

    def import_target(self, name: str) -> str | None:
        """What ``name`` is imported from, when the cell binds it only by importing."""
        for imported, target in self.imports:
            if imported == name:
                return target
        return None

    def with_star_names(self, names: frozenset[str]) -> CellAnalysis:
        """After a run: the public names a star import bound count as writes."""
        public = frozenset(n for n in names if not n.startswith("_"))
        return replace(
            self,
            writes=self.writes | public,
            reads=self.reads - public,
            ambient_reads=self.ambient_reads - public,
        )


EMPTY = CellAnalysis()

_TOO_DEEP = AnalysisError(1, 0, "code is nested too deeply to analyse")
_MAGICS_TOO_DEEP = limit_error(
    f"this cell's magics run code holding magics more than {MAX_EMBEDDED_DEPTH} levels "
    "deep: it is not analysed (split it into cells)"
)


def analyze_python(code: str) -> CellAnalysis:
    """Analyse one Python cell. Never raises: a syntax error comes back in ``error``."""
    return _analyze_python_cached(code)


@lru_cache(maxsize=_CACHE_SIZE)
def _analyze_python_cached(code: str) -> CellAnalysis:
    tree = _parse(code)
    if isinstance(tree, AnalysisError):
        return CellAnalysis(error=tree)
    visitor = NameVisitor(parse_embedded=_parse_embedded)
    try:
        visitor.analyze(tree)
    except EmbeddedTooDeep:
        return CellAnalysis(error=_MAGICS_TOO_DEEP)
    except RecursionError:
        return CellAnalysis(error=_TOO_DEEP)
    reads, ambient = visitor.reads()
    imports = visitor.pure_imports()
    dyn = visitor.dyn
    immediate = visitor.immediate_raw | dyn.immediate_loads
    own = dyn.own_dynamic_functions(visitor.module.bound) if dyn.function_reasons else {}
    reasons = list(dyn.reasons)
    reasons += [own[name] for name in sorted(immediate & own.keys())]
    # names whose dynamic-ness the graph follows: other cells' and the cell's own functions
    followed = reads | (dyn.function_loads.keys() & visitor.module.bound)
    called = frozenset(dyn.called - visitor.module.bound) if dyn.called else frozenset()
    return CellAnalysis(
        reads=reads,
        writes=_public(visitor.writes),
        deletes=_public(visitor.deletes) if visitor.deletes else frozenset(),
        ambient_reads=ambient | called,
        star_imports=tuple(visitor.star_imports),
        imports=frozenset({(n, imports[n]) for n in _public(imports)}) if imports else frozenset(),
        dynamic=tuple(dict.fromkeys(reasons)),
        dynamic_builtins=ambient & BARE_DYNAMIC,
        dynamic_functions=frozenset((n, why) for n, why in own.items() if not is_private(n)),
        function_reads=frozenset(
            (name, frozenset(loads & followed))
            for name, loads in dyn.function_loads.items()
            if name not in own and loads & followed
        ),
        immediate_reads=immediate & followed,
        writes_unknown=dyn.writes_unknown,
        leading_imports=_leading_imports(tree) if imports else frozenset(),
    )


def _leading_imports(tree: ast.Module) -> frozenset[str]:
    """The names the cell's first statements bind, while they are plain imports."""
    names: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                names.add(alias.asname or alias.name.partition(".")[0])
        elif isinstance(statement, ast.ImportFrom) and statement.module != "__future__":
            if any(alias.name == "*" for alias in statement.names):
                break
            names.update(alias.asname or alias.name for alias in statement.names)
        else:
            break
    return frozenset(names)


def _public(names: Iterable[str]) -> frozenset[str]:
    """Drop cell-private ``_x`` names (inlined :func:`is_private`: this is a hot path)."""
    return frozenset({n for n in names if n[0] != "_" or n[:2] == "__"})


def analyze_sql(sql: str, output: str | None, *, tables: Iterable[str] = ()) -> CellAnalysis:
    """Analyse a SQL cell: ``{name}`` placeholders are reads, ``output`` is the write.

    ``tables`` are the table names the query reads where a table may be a Python
    variable (DuckDB's replacement scans): they are reads too. The query runs before its
    result is bound, so ``{df}`` with output ``df`` reads the previous ``df`` (like
    ``df = df.dropna()``). Builtin and kernel-injected names are ambient reads, as in
    Python cells.
    """
    if output is not None and not _is_python_name(output):
        error = AnalysisError(1, 0, f"the output variable {output!r} is not a Python name")
        return CellAnalysis(error=error)
    writes = frozenset() if output is None or is_private(output) else frozenset({output})
    placeholders = frozenset(placeholder_names(sql)) | frozenset(tables)
    return CellAnalysis(
        reads=frozenset(n for n in placeholders if not is_ambient(n) and not is_private(n)),
        writes=writes,
        ambient_reads=frozenset(n for n in placeholders if is_ambient(n)),
    )


def _is_python_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _parse(code: str) -> ast.Module | AnalysisError:
    """Parse as Python; if that fails, as IPython would after its input transforms, and
    then, for a one-line cell that starts with a magic's name, as automagic would.

    Plain Python is never changed by IPython's transforms, so the common case pays for
    one ``ast.parse`` only.
    """
    try:
        return _quiet_parse(code)
    except SyntaxError as first:
        error: SyntaxError | ValueError = first
    except ValueError as first:  # e.g. a NUL byte in the source
        return AnalysisError(1, 0, str(first))
    except (RecursionError, MemoryError):  # the parser's own depth limits
        return _TOO_DEEP
    transformed = _ipython_transform(code)
    if transformed is not None and transformed != code:
        try:
            return _quiet_parse(transformed)
        except (SyntaxError, ValueError) as second:
            error = second
        except (RecursionError, MemoryError):
            return _TOO_DEEP
    magic_call = automagic_call(transformed) if transformed is not None else None
    if magic_call is not None:
        try:
            return _quiet_parse(magic_call)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass  # cannot happen for a well-formed call; keep the cell's own error
    if isinstance(error, SyntaxError):
        return AnalysisError(error.lineno or 1, max((error.offset or 1) - 1, 0), error.msg)
    return AnalysisError(1, 0, str(error))


def _parse_embedded(code: str) -> ast.Module | None:
    """The code a magic runs (``%%time`` bodies): IPython transforms it too."""
    tree = _parse(code)
    return None if isinstance(tree, AnalysisError) else tree


def _quiet_parse(code: str) -> ast.Module:
    if "\\" not in code:  # parse-time warnings are all about backslash escapes
        return ast.parse(code)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings belong to the run, not to analysis
        return ast.parse(code)


def _ipython_transform(code: str) -> str | None:
    try:
        return _transformer().transform_cell(code)
    except Exception:  # the transformer rejects some malformed input outright
        return None


class _CellTransformer(Protocol):
    def transform_cell(self, cell: str) -> str: ...


@lru_cache(maxsize=1)
def _transformer() -> _CellTransformer:
    from IPython.core.inputtransformer2 import TransformerManager

    manager: _CellTransformer = TransformerManager()  # type: ignore[no-untyped-call]
    return manager
