"""What IPython does with the user namespace for a transformed ``%magic`` or ``!cmd``.

IPython's input transformer turns ``%time x = f()`` into
``get_ipython().run_line_magic('time', 'x = f()')`` and ``!ls {path}`` into
``get_ipython().system('ls {path}')``. Those strings still read and bind names:

- ``!cmd`` and most magic lines expand ``$name`` and ``{expr}`` from the user namespace;
- ``%time``, ``%prun``, ``%debug`` and ``%%capture`` run their code in the user namespace;
- ``%timeit`` compiles its code into a function (locals stay local) and ``-v name``
  binds ``name``; ``%%capture out`` binds ``out`` after the body ran;
- ``x?`` and ``%pinfo x`` show ``x``, so their output depends on it.

This module only describes those effects; :mod:`.name_visitor` applies its scoping.
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass
from functools import lru_cache

#: ``get_ipython().<method>(...)`` calls whose string arguments carry user code.
IPYTHON_METHODS = frozenset({"system", "getoutput", "run_line_magic", "run_cell_magic"})

# Magics that run their line (and cell body) in the user namespace, with the options
# that take a value. IPython does not expand ``$name`` / ``{expr}`` in their line.
_EXEC_MAGICS: dict[str, frozenset[str]] = {
    "time": frozenset(),
    "prun": frozenset({"-D", "-l", "-s", "-T"}),
    "debug": frozenset({"-b", "--breakpoint"}),
}
_TIMEIT_OPTIONS = frozenset({"-n", "-r", "-p", "-v"})
_INSPECT_MAGICS = frozenset({"pinfo", "pinfo2", "pdef", "pdoc", "psource", "pfile"})
# IPython's DollarFormatter: ``$name`` / ``$a.b``; ``$$`` escapes. IPython expands only
# fields followed by an even number of single quotes, which it checks with a lookahead that
# rescans the rest of the line for every ``$`` (quadratic); :func:`_dollar_names` counts
# the quotes once instead.
_DOLLAR_FIELD = re.compile(r"\$(\$?[\w.]+)")
_OPTION = re.compile(r"\s*(-\S*)")
#: How deep magics may run code that holds magics (``%%time`` over ``%%time`` ...). Each
#: level re-parses the rest of the cell, so unbounded nesting costs quadratic time.
MAX_EMBEDDED_DEPTH = 16
_WORD = re.compile(r"\s*(\S+)")
_FORMATTER = string.Formatter()


@dataclass(frozen=True, slots=True)
class IPythonEffect:
    """Loads, code and bindings of one IPython call, in the order they happen."""

    expressions: tuple[ast.expr, ...] = ()
    code: str | None = None
    code_runs_in_function: bool = False
    binds: tuple[str, ...] = ()


NO_EFFECT = IPythonEffect()


class EmbeddedTooDeep(RecursionError):
    """Magics run code holding magics more than :data:`MAX_EMBEDDED_DEPTH` levels deep."""


def ipython_effect(method: str, arguments: list[str]) -> IPythonEffect:
    """The effect of ``get_ipython().<method>(*arguments)`` on the user namespace."""
    if not arguments:
        return NO_EFFECT
    if method in ("system", "getoutput"):
        return IPythonEffect(expressions=expansions(arguments[0]))
    magic = arguments[0]
    line = arguments[1] if len(arguments) > 1 else ""
    body = arguments[2] if method == "run_cell_magic" and len(arguments) > 2 else None
    if magic in _EXEC_MAGICS:
        _, code = split_options(line, _EXEC_MAGICS[magic])
        return IPythonEffect(code=join_code(code, body))
    if magic == "timeit":
        options, code = split_options(line, _TIMEIT_OPTIONS)
        saved = options.get("-v", "")
        binds = (saved,) if saved.isidentifier() else ()
        return IPythonEffect(code=join_code(code, body), code_runs_in_function=True, binds=binds)
    if magic in _INSPECT_MAGICS:
        return IPythonEffect(expressions=_expression(line))
    expressions = expansions(line)
    if magic == "capture" and body is not None:
        output = split_options(line, frozenset())[1].split()
        binds = (output[0],) if output and output[0].isidentifier() else ()
        return IPythonEffect(expressions=expressions, code=body, binds=binds)
    return IPythonEffect(expressions=expressions)


def expansions(text: str) -> tuple[ast.expr, ...]:
    """The expressions IPython's ``var_expand`` evaluates: ``{expr}`` and ``$name``.

    IPython evaluates every field or expands nothing, so a field that is not an
    expression (``awk '{print $1}'``) leaves the whole line unexpanded.
    """
    if "$" not in text and "{" not in text:
        return ()
    found: list[ast.expr] = []
    try:
        for literal, field, spec, _ in _FORMATTER.parse(text):
            found.extend(_dollar_expression(name) for name in _dollar_names(literal))
            if field is not None:
                source = f"{field}:{spec}" if spec else field
                found.append(ast.parse(source.strip(), mode="eval").body)
    except (SyntaxError, ValueError):
        return ()
    return tuple(found)


@lru_cache(maxsize=1024)
def _dollar_expression(field: str) -> ast.expr:
    """``$name`` / ``$a.b`` as an expression (cached: a line may repeat one thousands of
    times, and the visitor only reads the tree)."""
    return ast.parse(field, mode="eval").body


def _dollar_names(literal: str) -> list[str]:
    """The ``$name`` fields IPython expands in ``literal``, in one pass.

    A field counts when an even number of single quotes follows it (IPython's rule:
    ``'$x'`` stays literal); ``$$name`` is an escaped dollar.
    """
    quotes_after = literal.count("'")
    position = 0
    names: list[str] = []
    for match in _DOLLAR_FIELD.finditer(literal):
        quotes_after -= literal.count("'", position, match.end())
        position = match.end()
        field = match.group(1)
        if quotes_after % 2 == 0 and not field.startswith("$"):
            names.append(field)
    return names


def split_options(line: str, takes_value: frozenset[str]) -> tuple[dict[str, str], str]:
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


def join_code(line_code: str, body: str | None) -> str:
    """A magic's line code and cell body run as one piece of code, line first."""
    return line_code if body is None else f"{line_code}\n{body}"


def _expression(source: str) -> tuple[ast.expr, ...]:
    try:
        return (ast.parse(source.strip(), mode="eval").body,)
    except (SyntaxError, ValueError):
        return ()
