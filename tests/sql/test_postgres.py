"""SQL cells on a real PostgreSQL server (the session's ``postgres`` fixture), through
the service with a real kernel: SQLAlchemy with psycopg 3 in the kernel."""

from __future__ import annotations

import ast
import base64
import datetime
import decimal
import uuid

from tests.notebooks.harness import Harness, scenario
from tests.postgres import PostgresServer

from .helpers import ok, pg_execute, plain, records, table


@scenario
async def test_a_parameter_from_python_filters_and_python_reads_the_result(
    h: Harness, postgres: PostgresServer
) -> None:
    pg_execute(
        postgres,
        "DROP TABLE IF EXISTS pg_products",
        "CREATE TABLE pg_products (name text, price integer)",
        "INSERT INTO pg_products VALUES ('a', 50), ('b', 100), ('c', 150), ('d', 200)",
    )
    (price,) = await h.new("min_price = 100")
    await h.connect(postgres.url)
    query = await h.add_sql(
        "SELECT name, price FROM pg_products WHERE price > {min_price} ORDER BY name"
    )
    total = await h.add("print(type(df_1).__name__, len(df_1), df_1['price'].sum())")
    await h.run(price)
    await h.run(query)
    cell = await ok(h, query)
    assert cell["reads"] == ["min_price"]  # on PostgreSQL, tables are the database's
    assert records(cell) == [{"name": "c", "price": 150}, {"name": "d", "price": 200}]
    assert table(cell)["total_rows"] == 2
    assert await h.text(total) == "DataFrame 2 350"

    await h.edit(price, "min_price = 160")
    assert (await h.cell(query))["stale"]
    assert (await h.cell(total))["stale"]
    await h.run(price)  # re-runs the query and the Python cell reading its result
    for cell_id in (price, query, total):
        await ok(h, cell_id)
    assert records(await h.cell(query)) == [{"name": "d", "price": 200}]
    assert await h.text(total) == "DataFrame 1 200"


@scenario
async def test_placeholders_are_bound_parameters(h: Harness, postgres: PostgresServer) -> None:
    pg_execute(
        postgres,
        "DROP TABLE IF EXISTS pg_t",
        "CREATE TABLE pg_t (id integer, name text)",
        "INSERT INTO pg_t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, '50%')",
    )
    await h.new(
        "name = \"x'; DROP TABLE pg_t; --\"\nids = [1, 3]\nnone = []\nfirst = ('a', 'b')\nlow = 3"
    )
    await h.connect(postgres.url)
    injected = await h.add_sql("SELECT * FROM pg_t WHERE name = {name}")
    survived = await h.add_sql("SELECT count(*) AS n FROM pg_t")
    listed = await h.add_sql("SELECT id FROM pg_t WHERE id IN {ids} ORDER BY id")
    empty = await h.add_sql("SELECT id FROM pg_t WHERE id IN {none}")
    tuple_ = await h.add_sql("SELECT id FROM pg_t WHERE name IN {first} ORDER BY id")
    # % is the driver's placeholder character: with parameters it must stay a literal.
    percent = await h.add_sql(
        "SELECT id, '{1,2}'::int[] AS arr, 7 % 4 AS modulo FROM pg_t "
        "WHERE name LIKE '%\\%' ESCAPE '\\' AND id > {low}"
    )
    renamed = await h.add_sql("SELECT id * 10 AS tens FROM pg_t ORDER BY id", output="sales")
    reader = await h.add("print(sales['tens'].sum())")
    await h.run_all()

    assert table(await ok(h, injected))["rows"] == []
    assert records(await ok(h, survived)) == [{"n": 4}]
    assert pg_execute(postgres, "SELECT count(*) FROM pg_t") == [(4,)]
    assert records(await ok(h, listed)) == [{"id": 1}, {"id": 3}]
    assert records(await ok(h, empty)) == []
    assert records(await ok(h, tuple_)) == [{"id": 1}, {"id": 2}]
    assert records(await ok(h, percent)) == [{"id": 4, "arr": [1, 2], "modulo": 3}]
    cell = await ok(h, renamed)
    assert (cell["output"], cell["writes"]) == ("sales", ["sales"])
    assert await h.text(reader) == "100"


@scenario
async def test_statements_without_rows_report_the_rows_they_changed(
    h: Harness, postgres: PostgresServer
) -> None:
    pg_execute(postgres, "DROP TABLE IF EXISTS pg_items")
    await h.new("qty = 5")
    await h.connect(postgres.url)
    create = await h.add_sql("CREATE TABLE pg_items (id integer, qty integer)")
    insert = await h.add_sql("INSERT INTO pg_items VALUES (1, {qty}), (2, {qty}), (3, 1)")
    update = await h.add_sql("UPDATE pg_items SET qty = qty + 1 WHERE qty = {qty}")
    delete = await h.add_sql("DELETE FROM pg_items WHERE qty > 100")
    check = await h.add("print(df_1, df_2, df_3, df_4)")
    await h.run_all()  # once, in order: re-running a cell would re-create the table
    assert plain(await ok(h, create)) == ["OK"]
    assert plain(await ok(h, insert)) == ["3 rows affected"]
    assert plain(await ok(h, update)) == ["2 rows affected"]
    assert plain(await ok(h, delete)) == ["0 rows affected"]
    assert await h.text(check) == "None None None None"  # no rows: the variable is None
    # Committed: another connection sees the rows.
    assert pg_execute(postgres, "SELECT id, qty FROM pg_items ORDER BY id") == [
        (1, 6),
        (2, 6),
        (3, 1),
    ]

    one = await h.add_sql("UPDATE pg_items SET qty = 0 WHERE id = 3")
    await h.run(one)
    assert plain(await ok(h, one)) == ["1 row affected"]


TYPES = """
SELECT 7 AS n, DATE '2024-01-02' AS d, TIMESTAMPTZ '2024-01-02 03:04:05+02' AS ts,
       1234.5678::numeric(12, 4) AS amount, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id,
       '\\xaabb'::bytea AS raw, '{"a": [1, 2.5], "b": null}'::json AS doc,
       '{"k": "v"}'::jsonb AS docb, ARRAY[1, 2, 3] AS ints, ARRAY['x', NULL] AS texts,
       interval '1 day 2 hours' AS span, 'NaN'::float8 AS nan, true AS flag
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
"""


@scenario
async def test_values_of_every_type_are_json_safe_and_typed(
    h: Harness, postgres: PostgresServer
) -> None:
    await h.new()
    await h.connect(postgres.url)
    query = await h.add_sql(TYPES)
    types = await h.add(
        "print(df_1.dtypes.astype(str).to_dict())\n"
        "print({c: type(df_1[c][0]).__name__ for c in df_1.columns})\n"
        "print({c: repr(df_1[c][0]) for c in ('amount', 'id', 'raw', 'd')})"
    )
    await h.run(query)
    await h.run(types)
    first, nulls = records(await ok(h, query))
    assert first == {
        "n": 7,
        "d": "2024-01-02",
        "ts": "2024-01-02T01:04:05+00:00",
        "amount": "1234.5678",  # Decimal as its exact text
        "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "raw": base64.b64encode(b"\xaa\xbb").decode(),
        "doc": {"a": [1, 2.5], "b": None},
        "docb": {"k": "v"},
        "ints": [1, 2, 3],
        "texts": ["x", None],
        "span": "P1DT2H",
        "nan": None,
        "flag": True,
    }
    assert nulls == dict.fromkeys(first)
    dtypes, kinds, reprs = (ast.literal_eval(line) for line in (await h.text(types)).splitlines())
    assert dtypes["ts"].startswith("datetime64[us, ")  # with its time zone
    assert dtypes["span"].startswith("timedelta64")
    assert dtypes["nan"] == "float64"
    assert kinds == {
        "n": "float64",  # an integer column with a NULL: pandas makes it float64
        "d": "date",
        "ts": "Timestamp",
        "amount": "Decimal",
        "id": "UUID",
        "raw": "bytes",
        "doc": "dict",
        "docb": "dict",
        "ints": "list",
        "texts": "list",
        "span": "Timedelta",
        "nan": "float64",
        "flag": "bool",
    }
    assert reprs == {
        "amount": repr(decimal.Decimal("1234.5678")),
        "id": repr(uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
        "raw": repr(b"\xaa\xbb"),
        "d": repr(datetime.date(2024, 1, 2)),
    }


@scenario
async def test_a_large_result_is_kept_whole_and_shown_truncated(
    h: Harness, postgres: PostgresServer
) -> None:
    await h.new()
    await h.connect(postgres.url)
    query = await h.add_sql(
        "SELECT i, i % 7 AS bucket, 'row ' || i AS label FROM generate_series(1, 200000) AS i"
    )
    length = await h.add("print(len(df_1), df_1['i'].iloc[-1])")
    await h.run(query)
    await h.run(length)
    assert await h.text(length) == "200000 200000", (await h.cell(query))["error"]
    shown = table(await ok(h, query))
    assert len(shown["rows"]) == 1000
    assert (shown["total_rows"], shown["truncated"]) == (200_000, "showing 1000 of 200000 rows")
    size = (await h.saved()).stat().st_size
    assert size < 1_000_000, size


@scenario
async def test_a_new_connection_string_marks_sql_cells_stale_and_the_next_run_uses_it(
    h: Harness, postgres: PostgresServer
) -> None:
    (python,) = await h.new("x = 1")
    query = await h.add_sql("SELECT current_database() AS db")
    reader = await h.add("print(df_1['db'][0])")
    await h.run(query)
    await h.run(reader)
    assert await h.text(reader) == "memory"  # the default: an in-memory DuckDB

    await h.connect(postgres.url)
    for cell_id in (query, reader):
        assert (await h.cell(cell_id))["stale"]
    assert not (await h.cell(python))["stale"]
    view = await h.view()
    assert postgres.password not in str(view)
    assert view["db_conn_string"] == postgres.url.replace(postgres.password, "********")
    await h.run(query)
    await ok(h, query)
    assert await h.text(reader) == postgres.dbname
