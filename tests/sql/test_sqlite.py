"""SQL cells over another SQLAlchemy URL: SQLite (qmark parameters, no server)."""

from __future__ import annotations

from tests.notebooks.harness import Harness, scenario

from .helpers import ok, plain, records


@scenario
async def test_sqlite_through_sqlalchemy(h: Harness) -> None:
    await h.new('ids = [1, 3]\nnone = []\nname = "x\'); DROP TABLE t; --"')
    await h.connect(f"sqlite:///{h.root / 'data.sqlite'}")
    create = await h.add_sql("CREATE TABLE t (id INTEGER, name TEXT)")
    insert = await h.add_sql("INSERT INTO t VALUES (1, 'a'), (2, 'b%'), (3, {name})")
    listed = await h.add_sql("SELECT id FROM t WHERE id IN {ids} ORDER BY id")
    empty = await h.add_sql("SELECT id FROM t WHERE id IN {none}")
    not_empty = await h.add_sql("SELECT id FROM t WHERE id NOT IN {none} ORDER BY id")
    percent = await h.add_sql("SELECT id, 7 % 4 AS m FROM t WHERE name LIKE '%\\%' ESCAPE '\\'")
    await h.run_all()
    assert plain(await ok(h, create)) == ["OK"]
    assert plain(await ok(h, insert)) == ["3 rows affected"]
    assert records(await ok(h, listed)) == [{"id": 1}, {"id": 3}]
    assert records(await ok(h, empty)) == []
    assert records(await ok(h, not_empty)) == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert records(await ok(h, percent)) == [{"id": 2, "m": 3}]
