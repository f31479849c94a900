"""What never reaches a model: the notebook's database password (as written and as a
driver decodes it) and the values of the server's secret environment variables (the
names ``kernels/environment.py`` keeps from kernels, and any value holding a credential).
A tool's answer is scrubbed of them whole: cell code, outputs, errors, anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..kernels.environment import is_secret
from ..kernels.kernel_side.connection_strings import MASK, carries_secret, secret_values

#: Shorter values are not taken for secrets (they would mask ordinary words and digits).
MIN_SECRET_LENGTH = 4


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    """The values of the environment's secret variables."""
    found: list[str] = []
    for name, value in environ.items():
        if is_secret(name) or carries_secret(value):
            found.append(value)
            found.extend(secret_values(value) if carries_secret(value) else ())
    return found


def connection_secrets(connection: str) -> list[str]:
    return secret_values(connection) if connection.strip() else []


class Scrubber:
    """Replaces every secret it was given with the mask, in any JSON-like value."""

    def __init__(self, secrets: Iterable[str]) -> None:
        kept = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, kept))) if kept else None

    def __call__(self, value: Any) -> Any:
        if self._pattern is None:
            return value
        return self._scrub(value)

    def _scrub(self, value: Any) -> Any:
        assert self._pattern is not None
        if isinstance(value, str):
            return self._pattern.sub(MASK, value)
        if isinstance(value, dict):
            return {self._scrub(k): self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(v) for v in value]
        return value


__all__ = ["Scrubber", "connection_secrets", "environment_secrets"]
