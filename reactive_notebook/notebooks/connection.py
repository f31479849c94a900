"""Database connection strings as the API shows them: the password masked.

A connection string is a SQLAlchemy URL (``postgresql+psycopg://user:pw@host/db``),
a DuckDB file path, or a libpq keyword string (``host=h password=pw``). Its password is
never returned by the API, never logged and never sent to an LLM. A password given as an
environment reference (``${PGPASSWORD}``) is not a secret and stays visible.
"""

from __future__ import annotations

import re

MASK = "********"

_ENV_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<rest>.*)$", re.DOTALL)
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&](?:password|passwd|pwd)=)(?P<value>[^&#]*)", re.I)
_KEYWORD_PASSWORD = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd)\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|\S*)", re.I
)


def _mask(value: str) -> str:
    if not value or _ENV_REFERENCE.match(value.strip("'")):
        return value
    return MASK


def mask_password(connection: str) -> str:
    """``connection`` with any literal password replaced by ``MASK``."""
    url = _URL.match(connection)
    if url is None:
        return _KEYWORD_PASSWORD.sub(lambda m: m["key"] + _mask(m["value"]), connection)
    scheme, rest = url["scheme"], url["rest"]
    query_at = rest.find("?")
    head, query = (rest, "") if query_at < 0 else (rest[:query_at], rest[query_at:])
    at = head.rfind("@")
    if at >= 0:
        userinfo, host_and_path = head[:at], head[at:]
        user, colon, password = userinfo.partition(":")
        if colon:
            userinfo = f"{user}:{_mask(password)}"
        head = userinfo + host_and_path
    query = _QUERY_PASSWORD.sub(lambda m: m["key"] + _mask(m["value"]), query)
    return scheme + head + query


def is_masked_echo(new: str, current: str) -> bool:
    """True when a client sends back the masked form it was shown: keep the real one."""
    return new != current and MASK in new and new == mask_password(current)
