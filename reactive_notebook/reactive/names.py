"""Naming conventions shared by the analysis and the graph.

- Names starting with exactly one underscore (``_x``) are cell-private: never reads,
  never writes, so two cells may both use ``_tmp``.
- Builtins and the names an IPython kernel injects are not reads, unless some cell of
  the notebook writes that name (the graph decides that, so analysis reports them apart).
"""

from __future__ import annotations

import builtins
import re

#: Names an IPython kernel puts in the user namespace besides the builtins.
KERNEL_INJECTED: frozenset[str] = frozenset(
    {"display", "get_ipython", "In", "Out", "exit", "quit", "open"}
)

_BUILTINS: frozenset[str] = frozenset(dir(builtins))
_OUTPUT_HISTORY = re.compile(r"_+|_i+|_\d+|_i\d+|_oh|_ih|_dh")


def is_private(name: str) -> bool:
    """``_x`` is private to its cell; ``__x`` and dunders are not."""
    return name.startswith("_") and not name.startswith("__")


def is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def is_ambient(name: str) -> bool:
    """True for names that exist without any cell defining them.

    Builtins, kernel-injected names (``display``, ``In``...), module dunders
    (``__name__``) and IPython's output history (``_``, ``__``, ``___``, ``_5``, ``_i5``).
    """
    if name in _BUILTINS or name in KERNEL_INJECTED:
        return True
    return name[:1] == "_" and (is_dunder(name) or _OUTPUT_HISTORY.fullmatch(name) is not None)
