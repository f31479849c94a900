"""IPython's automagic: a one-line cell ``ls *.py`` runs as ``%ls *.py``.

Stock IPython (``InteractiveShell.transform_cell``) passes a cell that is a single line
after the input transformer through the prefilter, whose ``AutoMagicChecker`` turns a
line starting with the name of a line magic or alias (``ls``, ``cat``, ``cd``, ``pwd``,
``time``, ``who``...) into ``get_ipython().run_line_magic(name, rest)``. Automagic is on
by default in ipykernel. The analysis has no kernel, so it decides from the code alone:

- Automagic applies only when the line is not valid Python, even after the input
  transformer (the caller tries those first). ``ls = 1`` or ``time = t0`` stay assignments
  (IPython's ``AssignmentChecker`` agrees).
- A line that *is* valid Python stays Python: a lone ``ls`` or ``pwd`` reads the name
  ``ls``/``pwd``, and ``ls -la`` reads ``ls`` and ``la``. Stock IPython runs those as magics
  unless a variable of that name exists (``is_shadowed``): the analysis agrees with stock
  when a cell of the notebook defines the name, and otherwise reports reads of names no
  cell defines where stock would list a directory. A per-cell analysis cannot see the
  namespace, so it keeps the reading that is right whenever the name is a variable.
- Builtins and keywords shadow magics in stock (``is_shadowed``): they never automagic.

The magic names come from IPython itself without starting a shell, computed once.
"""

from __future__ import annotations

import builtins
import keyword
from functools import lru_cache

#: Line-magic aliases IPython and ipykernel register by hand in ``init_magics``
#: (not declared by any Magics class).
_HAND_REGISTERED = ("ed", "hist", "rep")


def automagic_call(transformed: str) -> str | None:
    """The Python IPython's prefilter makes of ``transformed`` (a cell after the input
    transformer) when it is one line that starts with a line magic's name, else None.

    Mirrors ``AutoMagicChecker`` and ``MagicHandler`` of ``IPython.core.prefilter``,
    without the checks that need the user namespace (see the module docstring).
    """
    lines = transformed.splitlines()
    if len(lines) != 1:  # prefilter runs on single-line cells only
        return None
    line = lines[0]
    if "-*-" in line:  # EmacsChecker: an emacs mode line stays as it is
        return None
    from IPython.core.splitinput import LineInfo

    info = LineInfo(line)
    if info.ifun not in automagic_names():
        return None
    if info.the_rest[:1] in ("=", ",") and not info.the_rest.startswith("=="):
        return None  # AssignmentChecker: ``ls = ...`` is Python
    magic_name, _, magic_line = f"{info.ifun} {info.the_rest}".partition(" ")
    return f"{info.pre_whitespace}get_ipython().run_line_magic({magic_name!r}, {magic_line!r})"


@lru_cache(maxsize=1)
def automagic_names() -> frozenset[str]:
    """Names of the line magics and default aliases an ipykernel shell has, minus those
    a builtin or keyword shadows."""
    names: set[str] = set(_HAND_REGISTERED)
    names.update(_ipython_line_magics())
    names.update(_kernel_line_magics())
    from IPython.core.alias import default_aliases

    names.update(name for name, _ in default_aliases())
    shadowed = set(dir(builtins)) | set(keyword.kwlist)
    return frozenset(name for name in names if name.isidentifier() and name not in shadowed)


def _ipython_line_magics() -> set[str]:
    from IPython.core import magic as magic_module
    from IPython.core import magics

    found: set[str] = set()
    lazy = getattr(magics, "BUILTIN_LAZY_MAGICS", None)  # IPython 9.x declares them
    if isinstance(lazy, dict):
        found.update(lazy.get("line", {}))
    for attribute in getattr(magics, "__all__", None) or dir(magics):
        cls = getattr(magics, attribute, None)
        if isinstance(cls, type) and issubclass(cls, magic_module.Magics):
            found.update(_line_magics_of(cls))
    return found


def _kernel_line_magics() -> set[str]:
    """ipykernel's ``KernelMagics`` (``clear``, ``less``, ``man``...), if importable:
    importing ``ipykernel.zmqshell`` defines classes only."""
    try:
        from ipykernel.zmqshell import KernelMagics
    except Exception:  # no ipykernel here, or an incompatible one: IPython's own suffice
        return set()
    return _line_magics_of(KernelMagics)


def _line_magics_of(cls: type) -> set[str]:
    table = getattr(cls, "magics", None)
    line = table.get("line") if isinstance(table, dict) else None
    return set(line) if isinstance(line, dict) else set()
