"""The environment a notebook's kernel starts with: the server's, minus its secrets.

Kernels run user code; they must not inherit the server's cloud credentials, LLM keys
or tokens. Names matching a secret pattern are dropped unless explicitly allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

#: Patterns (upper-case, shell-style) of variables never passed to a kernel.
SECRET_PATTERNS: tuple[str, ...] = (
    "AWS_*",
    "*_API_KEY",
    "*SECRET*",
    "*TOKEN*",
    "*PASSWORD*",
    "*PASSWD*",
    "*CREDENTIAL*",
    "JPY_API_*",
)


def is_secret(name: str, patterns: Iterable[str] = SECRET_PATTERNS) -> bool:
    upper = name.upper()
    return any(fnmatchcase(upper, pattern) for pattern in patterns)


def kernel_environment(
    environ: Mapping[str, str],
    *,
    allow: Iterable[str] = (),
    patterns: Iterable[str] = SECRET_PATTERNS,
) -> dict[str, str]:
    """A copy of ``environ`` without secrets; names in ``allow`` are always kept."""
    allowed = {name.upper() for name in allow}
    patterns = tuple(patterns)
    return {
        name: value
        for name, value in environ.items()
        if name.upper() in allowed or not is_secret(name, patterns)
    }
