"""SQL cells on the embedded DuckDB, through the service with a real kernel."""

from __future__ import annotations

import ast
import base64
import json

from tests.notebooks.harness import Harness, scenario

from .helpers import ok, plain, records, table

PRODUCTS = (
    "import pandas as pd\n"
    "products = pd.DataFrame({'name': list('abcde'), 'price': [50, 100, 150, 200, 250]})"
)


@scenario
async def test_a_parameter_from_python_filters_and_python_reads_the_result(h: Harness) -> None:
    price, _ = await h.new("min_price = 100", PRODUCTS)
    query = await h.add_sql("SELECT name, price FROM products WHERE price > {min_price}")
    total = await h.add("print(len(df_1), df_1['price'].sum())")
    await h.run(price)
    await h.run(query)
    cell = await ok(h, query)
    assert cell["reads"] == ["min_price", "products"]
    assert cell["writes"] == ["df_1"]
    assert table(cell)["rows"] == [[0, "c", 150], [1, "d", 200], [2, "e", 250]]
    assert table(cell)["total_rows"] == 3
    assert await h.text(total) == "3 600"

    await h.edit(price, "min_price = 200")
    assert (await h.cell(query))["stale"]
    await h.run(price)  # re-runs the query and the Python cell reading its result
    for cell_id in (price, query, total):
        await ok(h, cell_id)
    assert records(await h.cell(query)) == [{"name": "e", "price": 250}]
    assert await h.text(total) == "1 250"


@scenario
async def test_a_dataframe_read_by_name_is_a_dependency(h: Harness) -> None:
    (frame,) = await h.new(PRODUCTS)
    query = await h.add_sql(
        "SELECT p.name, count(*) AS n FROM products AS p JOIN products AS q ON q.price <= p.price "
        "GROUP BY p.name ORDER BY p.name"
    )
    result = await h.add("print(df_1['n'].tolist())")
    await h.run(frame)
    await h.run(query)
    assert (await ok(h, query))["reads"] == ["products"]
    assert await h.text(result) == "[1, 2, 3, 4, 5]"

    # Editing the DataFrame's cell makes the query stale; running it re-runs the query.
    await h.edit(frame, PRODUCTS.replace("list('abcde')", "list('vwxyz')"))
    assert (await h.cell(query))["stale"]
    await h.run(frame)
    assert [row["name"] for row in records(await ok(h, query))] == list("vwxyz")
    assert await h.text(result) == "[1, 2, 3, 4, 5]"
    await ok(h, result)

    # A table created in DuckDB by a SQL cell is read as well: no Python variable needed.
    create = await h.add_sql("CREATE TABLE stock AS SELECT 'v' AS name, 7 AS units")
    join = await h.add_sql("SELECT p.name, s.units FROM products p JOIN stock s USING (name)")
    await h.run(create)
    await h.run(join)
    assert records(await ok(h, join)) == [{"name": "v", "units": 7}]


@scenario
async def test_placeholders_are_bound_parameters(h: Harness) -> None:
    (values,) = await h.new(
        "name = \"x'; DROP TABLE t; --\"\nids = [1, 3]\nnone = []\nfirst = ('a',)\nlimit = 2"
    )
    create = await h.add_sql(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(id, name)"
    )
    injected = await h.add_sql("SELECT * FROM t WHERE name = {name}")
    survived = await h.add_sql("SELECT count(*) AS n FROM t")
    listed = await h.add_sql("SELECT id FROM t WHERE id IN {ids} ORDER BY id")
    empty = await h.add_sql("SELECT id FROM t WHERE id IN {none}")
    empty_not = await h.add_sql("SELECT id FROM t WHERE id NOT IN {none} ORDER BY id")
    tuple_ = await h.add_sql("SELECT id FROM t WHERE name IN {first} LIMIT {limit}")
    braces = await h.add_sql(
        "SELECT {{'k': {limit}}} AS struct, '{limit}' AS literal, {limit} AS bound -- {name}"
    )
    renamed = await h.add_sql("SELECT id * 10 AS tens FROM t ORDER BY id", output="sales")
    reader = await h.add("print(sales['tens'].sum(), df_3['n'][0])")
    await h.run(values)
    await h.run(create)
    for cell_id in (injected, survived, listed, empty, empty_not, tuple_, braces, renamed):
        await h.run(cell_id)

    assert plain(await ok(h, create)) == ["3 rows affected"]
    assert table(await ok(h, injected))["rows"] == []
    assert records(await ok(h, survived)) == [{"n": 3}]
    assert records(await ok(h, listed)) == [{"id": 1}, {"id": 3}]
    assert records(await ok(h, empty)) == []
    assert records(await ok(h, empty_not)) == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert records(await ok(h, tuple_)) == [{"id": 1}]
    # {{ }} are literal braces (a struct); text in quotes and comments is left alone.
    cell = await ok(h, braces)
    assert cell["reads"] == ["limit"]
    assert records(cell) == [{"struct": {"k": 2}, "literal": "{limit}", "bound": 2}]
    cell = await ok(h, renamed)
    assert (cell["output"], cell["writes"]) == ("sales", ["sales"])
    assert await h.text(reader) == "60 3"

    # A new value for the injected name re-runs the query with it, still as a value.
    await h.edit(values, "name = 'b'\nids = []\nnone = []\nfirst = ('a',)\nlimit = 2")
    await h.run(values)
    assert records(await ok(h, injected)) == [{"id": 2, "name": "b"}]
    assert records(await ok(h, listed)) == []


@scenario
async def test_statements_without_rows_report_the_rows_they_changed(h: Harness) -> None:
    await h.new("n = 5")
    create = await h.add_sql("CREATE TABLE items (id INTEGER, qty INTEGER)")
    insert = await h.add_sql("INSERT INTO items VALUES (1, {n}), (2, {n}), (3, 1)")
    update = await h.add_sql("UPDATE items SET qty = qty + 1 WHERE id = 3")
    delete = await h.add_sql("DELETE FROM items WHERE qty > 100")
    setting = await h.add_sql("SET threads = 1")
    check = await h.add("print(df_1, df_2, df_3, df_4, df_5)")
    returning = await h.add_sql("INSERT INTO items VALUES (4, 4) RETURNING id, qty")
    counted = await h.add_sql('SELECT count(*) AS "Count" FROM items')
    await h.run_all()  # once, in order: re-running a cell would re-create the table
    assert plain(await ok(h, create)) == ["OK"]
    assert plain(await ok(h, insert)) == ["3 rows affected"]
    assert plain(await ok(h, update)) == ["1 row affected"]
    assert plain(await ok(h, delete)) == ["0 rows affected"]
    assert plain(await ok(h, setting)) == ["OK"]
    assert await h.text(check) == "None None None None None"  # no rows: the variable is None
    assert records(await ok(h, returning)) == [{"id": 4, "qty": 4}]
    assert records(await ok(h, counted)) == [{"Count": 4}]


@scenario
async def test_values_of_every_type_are_json_safe_and_typed(h: Harness) -> None:
    await h.new()
    query = await h.add_sql(
        "SELECT 7 AS n, DATE '2024-01-02' AS d, TIMESTAMPTZ '2024-01-02 03:04:05+02' AS ts, "
        "1234.5678::DECIMAL(12, 4) AS amount, "
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS id, '\\xAA\\xBB'::BLOB AS raw, "
        "'{\"a\": [1, 2]}'::JSON AS doc, [1, 2, 3] AS arr, {{'k': 1}} AS st, "
        "INTERVAL 90 MINUTE AS span, 'nan'::DOUBLE AS nan "
        "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    )
    types = await h.add(
        "print(df_1.dtypes.astype(str).to_dict())\n"
        "print({c: type(df_1[c][0]).__name__ for c in df_1.columns})"
    )
    await h.run(query)
    await h.run(types)
    first, nulls = records(await ok(h, query))
    assert first == {
        "n": 7,
        "d": "2024-01-02T00:00:00",  # DuckDB gives pandas dates as datetime64
        "ts": "2024-01-02T01:04:05+00:00",
        "amount": 1234.5678,  # and DECIMAL as float64
        "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "raw": base64.b64encode(b"\xaa\xbb").decode(),
        "doc": json.dumps({"a": [1, 2]}),
        "arr": [1, 2, 3],
        "st": {"k": 1},
        "span": "PT1H30M",
        "nan": None,
    }
    assert nulls == dict.fromkeys(first)
    dtypes, kinds = (ast.literal_eval(line) for line in (await h.text(types)).splitlines())
    assert dtypes["n"] == "Int32"
    assert dtypes["d"].startswith("datetime64")
    assert dtypes["ts"].startswith("datetime64[us, ")  # with its time zone
    assert dtypes["amount"] == "float64"
    assert dtypes["span"].startswith("timedelta64")
    assert kinds["id"] == "UUID"
    assert kinds["raw"] in ("bytes", "bytearray")
    assert kinds["arr"] in ("ndarray", "list")
    assert kinds["st"] == "dict"


@scenario
async def test_a_large_result_is_kept_whole_and_shown_truncated(h: Harness) -> None:
    await h.new()
    query = await h.add_sql(
        "SELECT i, i % 7 AS bucket, 'row ' || i AS label FROM range(200000) t(i) ORDER BY i"
    )
    length = await h.add("print(len(df_1), df_1['i'].iloc[-1])")
    await h.run(query)
    await h.run(length)
    assert await h.text(length) == "200000 199999"
    shown = table(await ok(h, query))
    assert len(shown["rows"]) == 1000
    assert shown["total_rows"] == 200_000
    assert shown["truncated"] == "showing 1000 of 200000 rows"
    assert shown["rows"][-1] == [999, 999, 999 % 7, "row 999"]
    size = (await h.saved()).stat().st_size
    assert size < 1_000_000, size


@scenario
async def test_changing_the_connection_marks_sql_cells_stale_and_uses_the_new_database(
    h: Harness,
) -> None:
    first, second = h.root / "first.duckdb", h.root / "second.duckdb"
    (python,) = await h.new("x = 1")
    await h.connect(f"duckdb:///{first}")
    create = await h.add_sql("CREATE TABLE IF NOT EXISTS t AS SELECT current_database() AS db")
    query = await h.add_sql("SELECT db, current_database() AS now FROM t")
    await h.run(create)
    await h.run(query)
    assert records(await ok(h, query)) == [{"db": "first", "now": "first"}]

    await h.connect(f"duckdb:///{second}")
    for cell_id in (create, query):
        assert (await h.cell(cell_id))["stale"]
    assert not (await h.cell(python))["stale"]
    await h.run(create)
    await h.run(query)
    assert records(await ok(h, query)) == [{"db": "second", "now": "second"}]
    assert sorted(path.name for path in h.root.glob("*.duckdb")) == [first.name, second.name]

    await h.connect("")  # back to the in-memory database: the table is not there
    await h.run(query)
    assert "t does not exist" in str((await h.cell(query))["error"])
