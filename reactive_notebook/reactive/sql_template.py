"""Split SQL text into literal text and ``{name}`` placeholders.

A placeholder is ``{name}``, ``name`` a Python name (not a keyword), outside string
literals, quoted identifiers and comments; ``{{`` and ``}}`` stand for literal braces.
Anything else in braces (a DuckDB struct literal ``{'a': 1}``, ``{ x }``, ``{a.b}``, a
Postgres array literal inside quotes) is left as SQL.
The SQL cell runner turns each placeholder into a bind parameter of the driver, never
into text, so values cannot inject SQL.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import dataclass

_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True, slots=True)
class Placeholder:
    """``{name}`` at ``offset`` (index of the opening brace) in the SQL text."""

    name: str
    offset: int


Segment = str | Placeholder


def parse_sql_template(sql: str) -> list[Segment]:
    """Return the SQL as alternating text segments and placeholders, in order."""
    segments: list[Segment] = []
    text: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = _quoted_end(sql, i, ch)
        elif ch == "-" and sql.startswith("--", i):
            newline = sql.find("\n", i)
            end = n if newline < 0 else newline
        elif ch == "/" and sql.startswith("/*", i):
            end = _block_comment_end(sql, i)
        elif ch == "$" and (tag := _DOLLAR_TAG.match(sql, i)) and not _in_word(sql, i):
            close = sql.find(tag.group(0), tag.end())
            end = n if close < 0 else close + len(tag.group(0))
        elif ch in "{}" and sql.startswith(ch * 2, i):
            text.append(ch)
            i += 2
            continue
        elif ch == "{" and (name := _placeholder_at(sql, i)) is not None:
            if text:
                segments.append("".join(text))
                text = []
            segments.append(Placeholder(name, i))
            i = sql.index("}", i) + 1
            continue
        else:
            end = i + 1
        text.append(sql[i:end])
        i = end
    if text:
        segments.append("".join(text))
    return segments


def placeholder_names(sql: str) -> list[str]:
    """The placeholder names in order of first appearance."""
    seen: dict[str, None] = {}
    for segment in parse_sql_template(sql):
        if isinstance(segment, Placeholder):
            seen.setdefault(segment.name)
    return list(seen)


def _placeholder_at(sql: str, brace: int) -> str | None:
    """The name of ``{name}`` opening at ``brace``, NFKC-normalised as Python does."""
    ident = _IDENTIFIER.match(sql, brace + 1)
    if ident is None or not sql.startswith("}", ident.end()):
        return None
    name = unicodedata.normalize("NFKC", ident.group(0))
    if not name.isidentifier() or keyword.iskeyword(name):
        return None
    return name


def _quoted_end(sql: str, start: int, quote: str) -> int:
    """End of a quoted literal; a doubled quote is an escaped quote.

    Postgres ``E'...'`` strings also escape with a backslash (``ELSE'...'`` is not one).
    """
    backslash_escapes = (
        quote == "'" and start > 0 and sql[start - 1] in "eE" and not _in_word(sql, start - 1)
    )
    i, n = start + 1, len(sql)
    while i < n:
        ch = sql[i]
        if backslash_escapes and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _block_comment_end(sql: str, start: int) -> int:
    """End of a ``/* */`` comment; nested comments count, as in Postgres."""
    depth, i, n = 0, start, len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _in_word(sql: str, i: int) -> bool:
    """``$`` right after an identifier character is part of a name, not a dollar quote."""
    return i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")
