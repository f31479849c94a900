"""The tables a DuckDB query reads (DuckDB's parser, on the server): the names that may
be DataFrame variables, so they count as reads in the graph."""

from __future__ import annotations

import pytest

from reactive_notebook.notebooks.sql_cells import table_references


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("SELECT * FROM products", {"products"}),
        ("SELECT p.name FROM products AS p JOIN products q ON q.price <= p.price", {"products"}),
        # JOIN ... USING of tables the server has never seen (no binding needed).
        ("SELECT * FROM orders JOIN customers USING (customer_id)", {"orders", "customers"}),
        ("WITH recent AS (SELECT * FROM orders) SELECT * FROM recent", {"orders"}),
        ("SELECT * FROM a WHERE x IN (SELECT y FROM b) AND z IN {ids}", {"a", "b"}),
        ('SELECT * FROM main.products, "my table", range(10)', set()),
        ("SELECT * FROM t WHERE name = {name} LIMIT {n}", {"t"}),
        ("SELECT 1; SELECT * FROM later", {"later"}),
        ("SELEC * FROM products", set()),  # a syntax error: the run will say so
        ("", set()),
    ],
)
def test_table_references(sql: str, tables: set[str]) -> None:
    assert table_references(sql) == tables


def test_other_statements_read_their_tables_too() -> None:
    assert "products" in table_references("CREATE TABLE summary AS SELECT * FROM products p")
    assert "products" in table_references("COPY (SELECT * FROM products) TO 'out.csv'")
