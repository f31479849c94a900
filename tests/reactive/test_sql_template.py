"""SQL templates: text segments and ``{name}`` placeholders, with their offsets.

Text segments are the SQL the runner sends (``{{`` already turned into ``{``); a
placeholder's offset is the index of its opening brace in the original text.
"""

from __future__ import annotations

import pytest

from reactive_notebook.reactive.sql_template import (
    Placeholder,
    Segment,
    parse_sql_template,
    placeholder_names,
)

P = Placeholder

SEGMENTS = [
    pytest.param("", [], id="empty"),
    pytest.param("SELECT 1", ["SELECT 1"], id="no-placeholder"),
    pytest.param("{x}", [P("x", 0)], id="only-a-placeholder"),
    pytest.param(
        "SELECT * FROM {df} WHERE a = {a}",
        ["SELECT * FROM ", P("df", 14), " WHERE a = ", P("a", 29)],
        id="two-placeholders",
    ),
    pytest.param("{x}{y}", [P("x", 0), P("y", 3)], id="adjacent"),
    pytest.param("{{x}}", ["{x}"], id="escaped-braces-become-literal"),
    pytest.param("SELECT {{lit}} {x}", ["SELECT {lit} ", P("x", 15)], id="offset-after-escapes"),
    pytest.param("SELECT '{x}' {y}", ["SELECT '{x}' ", P("y", 13)], id="string-literal"),
    pytest.param("'it''s {x}' {y}", ["'it''s {x}' ", P("y", 12)], id="doubled-quote"),
    pytest.param("E'\\'{x}' {y}", ["E'\\'{x}' ", P("y", 9)], id="escape-string"),
    pytest.param('"{x}" {y}', ['"{x}" ', P("y", 6)], id="quoted-identifier"),
    pytest.param("-- {x}\n{y}", ["-- {x}\n", P("y", 7)], id="line-comment-ends-at-newline"),
    pytest.param("-- {x}", ["-- {x}"], id="line-comment-at-end"),
    pytest.param(
        "/* a /* {x} */ {z} */{y}", ["/* a /* {x} */ {z} */", P("y", 21)], id="nested-comment"
    ),
    pytest.param("$$ {x} $$ {y}", ["$$ {x} $$ ", P("y", 10)], id="dollar-quote"),
    pytest.param("$f$ $$ {x} $f$ {y}", ["$f$ $$ {x} $f$ ", P("y", 15)], id="tagged-dollar-quote"),
    pytest.param("a$b$ {x}", ["a$b$ ", P("x", 5)], id="dollar-in-identifier"),
    pytest.param("= $1 OR {x}", ["= $1 OR ", P("x", 8)], id="positional-parameter"),
    pytest.param("{'a': {x}}", ["{'a': ", P("x", 6), "}"], id="placeholder-inside-struct-literal"),
    pytest.param("{ x } {x.y} {1x} {} {x", ["{ x } {x.y} {1x} {} {x"], id="not-placeholders"),
    pytest.param("{None} {if}", ["{None} {if}"], id="keywords-are-not-placeholders"),
    pytest.param("x}", ["x}"], id="lone-closing-brace"),
    pytest.param("'open {x}", ["'open {x}"], id="unterminated-string"),
    pytest.param("/* open {x}", ["/* open {x}"], id="unterminated-comment"),
    pytest.param("$q$ open {x}", ["$q$ open {x}"], id="unterminated-dollar-quote"),
    pytest.param("{café} {_x}", [P("café", 0), " ", P("_x", 7)], id="unicode-and-private"),
    pytest.param("{ﬁ}", [P("fi", 0)], id="nfkc-normalised-like-python"),
]


@pytest.mark.parametrize(("sql", "segments"), SEGMENTS)
def test_parse_sql_template(sql: str, segments: list[Segment]) -> None:
    assert parse_sql_template(sql) == segments


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        pytest.param("{b} {a} {b}", ["b", "a"], id="order-of-first-appearance"),
        pytest.param("'{a}' -- {b}\n{c}", ["c"], id="only-real-placeholders"),
        pytest.param("SELECT 1", [], id="none"),
    ],
)
def test_placeholder_names(sql: str, expected: list[str]) -> None:
    assert placeholder_names(sql) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM {df} WHERE a = {a}",
        "SELECT '{x}', \"{y}\" -- {z}\n/* {w} */ $$ {v} $$ {u}",
        "SELECT {'k': {v}}, E'\\'' || {w}",
    ],
)
def test_offsets_point_at_the_braces(sql: str) -> None:
    for segment in parse_sql_template(sql):
        if isinstance(segment, Placeholder):
            assert sql.startswith("{" + segment.name + "}", segment.offset)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM {df} WHERE a = {a}",
        "SELECT '{x}', \"{y}\" -- {z}\n/* {w} */ $$ {v} $$ {u}",
        "SELECT {'k': {v}}, { x }, {1}",
    ],
)
def test_segments_rebuild_the_sql_without_escapes(sql: str) -> None:
    rebuilt = "".join(
        s if isinstance(s, str) else "{" + s.name + "}" for s in parse_sql_template(sql)
    )
    assert rebuilt == sql
