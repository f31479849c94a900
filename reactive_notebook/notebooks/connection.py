"""Database connection strings as the API shows them: every secret masked.

A connection string is a SQLAlchemy URL (``postgresql+psycopg://user:pw@host/db``),
a DuckDB file path, or what a user pastes from elsewhere: a libpq keyword string
(``host=h password=pw``) or an ODBC one (``Server=h;PWD=pw``). Its secrets (the
password, and any parameter named like ``sslpassword``, ``pwd``, ``motherduck_token`` or
``credentials_base64``) are never returned by the API, never logged and never sent to an
LLM; a string that cannot be parsed is masked whole after its scheme. The reading is
``kernels/kernel_side/connection_strings.py``, the one the kernel uses to keep the same
secrets out of SQL errors. A secret given as an environment reference
(``${PGPASSWORD}``) is not a secret and stays visible.
"""

from __future__ import annotations

from ..kernels.kernel_side.connection_strings import MASK, mask

__all__ = ["MASK", "is_masked_echo", "mask_password"]


def mask_password(connection: str) -> str:
    """``connection`` with every literal secret replaced by ``MASK``."""
    return mask(connection)


def is_masked_echo(new: str, current: str) -> bool:
    """True when a client sends back the masked form it was shown (trimmed or not, as
    forms trim what they send): keep the real one."""
    return new != current and MASK in new and new.strip() == mask_password(current).strip()
