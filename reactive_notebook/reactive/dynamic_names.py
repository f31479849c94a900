"""Names reached dynamically: ``eval``, ``exec``, ``globals()``, ``locals()``, ``vars()``.

Such code reads names no static analysis can see (design.md section 3, "Dynamic name
access"). The visitor hands the calls of those builtins to :class:`DynamicAccess`, which
turns what is safe into ordinary reads and writes and records the rest as *dynamic*.
The cases, decided one by one:

- ``eval('x + 1')`` / ``exec('y = x')`` of a string literal: the literal is parsed and its
  names are ordinary reads and writes where the call stands. A literal that does not
  parse reads nothing (it raises when run).
- ``eval(s, ns)`` / ``exec(s, ns)`` with an explicit namespace that is not the module's
  (a dict, ``{}``, ``vars(obj)``): the code sees that dict only; not dynamic.
- Any other ``eval`` / ``exec``: dynamic. ``exec`` of unknown code at the module level (or
  through ``globals()``) may also bind names nobody can see: ``writes_unknown``.
- ``globals()`` with a literal key: ``globals()['x']`` and ``globals().get('x')`` read ``x``,
  ``globals()['x'] = v`` writes it, ``del globals()['x']`` deletes it,
  ``globals().update(x=1)`` / ``.update({'x': 1})`` write ``x``.
- ``globals()`` only written with keys that cannot be read (``globals()[k] = v``,
  ``globals().update(d)``, ``setdefault``, ``pop``...): not a dynamic *read*, but the cell
  binds names it cannot name: ``writes_unknown`` (see the graph for what that implies).
- Any other use of ``globals()`` (iterating it, ``'x' in globals()``, passing it on): dynamic.
- ``locals()`` / ``vars()`` / ``dir()`` without arguments are the module namespace only
  at the module level of a cell (a comprehension there included): dynamic there, exactly
  like ``globals()`` (literal keys included). Inside a function or a class body they are
  that scope's own names: not dynamic.
- ``vars(obj)`` is ``obj.__dict__``: not dynamic, unless ``obj`` names the main module
  (``sys.modules[__name__]``, ``'__main__'``).
- ``get_ipython().user_ns`` / ``.user_global_ns``: the namespace itself, dynamic.
- The builtins named without being called (``f = eval``, ``map(eval, xs)``): dynamic,
  unless the name is the cell's own (``vars = [...]``); the graph also drops this reason
  when a cell of the notebook defines the name.

Where the code stands decides who is dynamic: code that runs with the cell (module level,
class bodies, comprehensions) makes the cell dynamic; code in the body of a function or
class defined at the module level makes that *name* a dynamic function (calling it reaches
names dynamically, so does every cell that loads it); code in a function that has no
module-level name (``register(lambda: eval(s))``) makes the cell dynamic, since it may run
at any time.
"""

from __future__ import annotations

import ast

#: The builtins that reach names by string.
DYNAMIC_BUILTINS = frozenset({"eval", "exec", "globals", "locals", "vars", "dir"})
#: Builtins that, named bare (not called), hand out dynamic access.
BARE_DYNAMIC = frozenset({"eval", "exec", "globals", "locals", "vars"})
_IPYTHON_NAMESPACES = frozenset({"user_ns", "user_global_ns"})


def literal_key(node: ast.AST) -> str | None:
    """The string of a constant string key, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def mentions_main_module(node: ast.AST) -> bool:
    """``vars(sys.modules[__name__])`` and the like: a module that is the notebook's own."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in ("__name__", "get_ipython"):
            return True
        if isinstance(sub, ast.Constant) and sub.value == "__main__":
            return True
    return False


def is_ipython_namespace(node: ast.Attribute) -> bool:
    return node.attr in _IPYTHON_NAMESPACES


def parse_literal(code: str, mode: str) -> ast.AST | None:
    """The code an ``eval`` / ``exec`` literal runs, or None when it does not parse."""
    try:
        tree = ast.parse(code, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return tree.body if isinstance(tree, ast.Expression) else tree


class DynamicAccess:
    """What one cell does with dynamic access, as the visitor meets it.

    ``owner`` is the set of module-level names the code being visited will be bound to
    (the ``def`` or ``class`` around it, or the targets of ``f = lambda: ...``); None at
    the cell's own level or in anonymous functions.
    """

    __slots__ = (
        "called",
        "function_loads",
        "function_reasons",
        "immediate_loads",
        "owner",
        "reasons",
        "writes_unknown",
    )

    def __init__(self) -> None:
        self.reasons: dict[str, None] = {}  # the cell's own, in order met
        self.function_reasons: dict[str, dict[str, None]] = {}
        self.function_loads: dict[str, set[str]] = {}  # global names each body loads
        self.immediate_loads: set[str] = set()  # loads by code that runs with the cell
        self.called: set[str] = set()  # dynamic builtins called (ambient loads)
        self.owner: frozenset[str] | None = None
        self.writes_unknown = False

    def use(self, reason: str, *, deferred: bool) -> None:
        """Dynamic access met: the cell's when it runs with the cell, else its owner's."""
        if deferred and self.owner:
            for name in self.owner:
                self.function_reasons.setdefault(name, {})[reason] = None
        else:
            self.reasons[reason] = None

    def global_load(self, name: str, *, deferred: bool) -> None:
        """A global name loaded; in a named function body it counts for that function."""
        if deferred and self.owner:
            for owner in self.owner:
                self.function_loads.setdefault(owner, set()).add(name)
        else:
            self.immediate_loads.add(name)

    def own_dynamic_functions(self, bound: set[str]) -> dict[str, str]:
        """The cell's functions that reach names dynamically, through each other too:
        name -> where (``"eval in f"``). ``bound`` are the names the cell binds."""
        found = {
            name: f"{next(iter(reasons))} in {name}"
            for name, reasons in self.function_reasons.items()
            if reasons and name in bound
        }
        changed = True
        while changed:  # g calls f, h calls g...: at most one round per function
            changed = False
            for name, loads in self.function_loads.items():
                if name in found or name not in bound:
                    continue
                via = next((found[n] for n in sorted(loads) if n in found), None)
                if via is not None:
                    found[name] = via
                    changed = True
        return found
