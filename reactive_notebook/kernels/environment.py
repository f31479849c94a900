"""The environment a notebook's kernel starts with: the server's, minus its secrets.

Kernels run user code; they must not inherit the server's cloud credentials, LLM keys,
database passwords or tokens. A variable is dropped when its name matches a deny
pattern (``ReactiveNotebook.kernel_env_deny``) or its value carries a credential (a URL
with a password, a key/value string with a secret parameter: ``DATABASE_URL``,
``HTTPS_PROXY=http://user:pw@proxy``), unless its name is explicitly allowed
(``ReactiveNotebook.kernel_env_allow``, which wins).

This keeps secrets out of ``os.environ`` in the kernel, nothing more: a kernel runs as
the server's OS user and can read the server's own environment from
``/proc/<server pid>/environ`` and its token from the runtime folder, unless
``ReactiveNotebook.kernel_accounts`` runs it as an account of its own (:mod:`.accounts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from .kernel_side.connection_strings import carries_secret

#: Patterns (shell-style, matched against the upper-cased name) of variables never
#: passed to a kernel: the default of ``ReactiveNotebook.kernel_env_deny``.
SECRET_PATTERNS: tuple[str, ...] = (
    # Cloud credentials.
    "AWS_*",
    "AZURE_*",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "*CREDENTIAL*",
    # Keys, tokens and passwords by their usual names.
    "*_KEY",
    "*_KEY_*",
    "*API_KEY*",
    "*PRIVATE_KEY*",
    "*SECRET*",
    "*TOKEN*",
    "*PASSWORD*",
    "*PASSWD*",
    "*PASSPHRASE*",
    "*_PASS",
    "*_PWD",
    "*_PAT",
    "*_DSN",
    "*_AUTH",
    "*COOKIE*",
    # Jupyter's own (JupyterHub's JUPYTERHUB_API_TOKEN is a *TOKEN*).
    "JPY_API_*",
)


def is_secret(name: str, patterns: Iterable[str] = SECRET_PATTERNS) -> bool:
    """Whether the variable ``name`` matches one of ``patterns`` (any case)."""
    upper = name.upper()
    return any(fnmatchcase(upper, pattern.upper()) for pattern in patterns)


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
        if name.upper() in allowed or not (is_secret(name, patterns) or carries_secret(value))
    }


def filter_session_kernel_environment(
    sessions: Any, *, allow: Iterable[str], patterns: Iterable[str]
) -> None:
    """Kernels of notebook sessions get the environment our kernels get.

    A JupyterLab tab that opens a notebook before any reactive run starts the notebook's
    session and its kernel; reactive runs then use that kernel (one kernel per notebook
    session). The session manager would give it the server's whole ``os.environ``
    (``SessionManager.get_kernel_env``), secrets included: the server's session manager
    gets the same filter as our kernels instead (the session's name is kept)."""
    original = getattr(sessions, "get_kernel_env", None)
    if original is None or getattr(original, "reactive_filtered", False):
        return
    allow, patterns = tuple(allow), tuple(patterns)

    def filtered(path: str | None, name: Any = None) -> dict[str, str]:
        env = dict(original(path, name))
        kept = kernel_environment(env, allow=allow, patterns=patterns)
        if "JPY_SESSION_NAME" in env:
            kept["JPY_SESSION_NAME"] = env["JPY_SESSION_NAME"]
        return kept

    filtered.reactive_filtered = True  # type: ignore[attr-defined]
    sessions.get_kernel_env = filtered
