"""SQL results as polars DataFrames (``ReactiveNotebook.sql_result_type = "polars"``)."""

from __future__ import annotations

import ast

import pytest

from reactive_notebook.notebooks.sql_cells import SqlOptions
from tests.notebooks.harness import Harness, scenario
from tests.postgres import PostgresServer

from .helpers import ok, pg_execute, records, table

pytest.importorskip("polars")


@scenario(sql=SqlOptions(frame="polars"))
async def test_results_are_polars_frames_on_duckdb_and_postgres(
    h: Harness, postgres: PostgresServer
) -> None:
    _, price = await h.new(
        # DuckDB reads a polars DataFrame through pyarrow (not installed here): pandas.
        "import pandas as pd\n"
        "items = pd.DataFrame({'name': ['a', 'b', 'c'], 'price': [5, 15, 25]})",
        "min_price = 10",
    )
    query = await h.add_sql(
        "SELECT name, price, DATE '2024-01-02' AS d, 1.5::DECIMAL(4, 2) AS amount "
        "FROM items WHERE price > {min_price} ORDER BY name"
    )
    reader = await h.add(
        "print(type(df_1).__module__.split('.')[0], df_1.height, df_1['price'].sum())\n"
        "print({name: str(dtype) for name, dtype in df_1.schema.items()})"
    )
    await h.run_all()
    cell = await ok(h, query)
    assert cell["reads"] == ["items", "min_price"]
    assert table(cell)["index_columns"] == 0
    assert records(cell) == [
        {"name": "b", "price": 15, "d": "2024-01-02", "amount": "1.50"},
        {"name": "c", "price": 25, "d": "2024-01-02", "amount": "1.50"},
    ]
    summary, schema = (await h.text(reader)).splitlines()
    assert summary == "polars 2 40"
    assert schema.startswith("{'name': 'String', 'price': 'Int")
    assert ast.literal_eval(schema)["d"] == "Date"
    assert ast.literal_eval(schema)["amount"].startswith("Decimal")

    await h.edit(price, "min_price = 20")
    await h.run(price)
    assert (await h.text(reader)).splitlines()[0] == "polars 1 25"

    pg_execute(
        postgres,
        "DROP TABLE IF EXISTS pl_items",
        "CREATE TABLE pl_items (name text, price numeric(6, 2), at timestamptz)",
        "INSERT INTO pl_items VALUES ('a', 5.5, '2024-01-02 03:04:05+00'), ('b', 20, NULL)",
    )
    await h.connect(postgres.url)
    await h.edit(
        query,
        "SELECT name, price, at FROM pl_items WHERE price > {min_price} - 15 ORDER BY name",
    )
    await h.run(query)
    assert records(await ok(h, query)) == [
        {"name": "a", "price": "5.50", "at": "2024-01-02T03:04:05+00:00"},
        {"name": "b", "price": "20.00", "at": None},
    ]
    summary, schema = (await h.text(reader)).splitlines()
    assert summary.startswith("polars 2 ")
    assert ast.literal_eval(schema)["price"].startswith("Decimal")
    assert ast.literal_eval(schema)["at"].startswith("Datetime")
