"""SQL cells on the embedded DuckDB, through the service with a real kernel."""

from __future__ import annotations

from tests.notebooks.harness import Harness, scenario


def table(cell: dict) -> dict:  # type: ignore[type-arg]
    tables = [o["data"] for o in cell["outputs"] if o["mime_type"] == "application/json"]
    assert tables, cell
    return tables[-1]  # type: ignore[no-any-return]


@scenario
async def test_a_parameter_from_python_filters_and_python_reads_the_result(h: Harness) -> None:
    price, _ = await h.new(
        "min_price = 100",
        "import pandas as pd\nproducts = pd.DataFrame({'name': list('abcde'), "
        "'price': [50, 100, 150, 200, 250]})",
    )
    query = await h.add_sql("SELECT name, price FROM products WHERE price > {min_price}")
    total = await h.add("print(len(df_1), df_1['price'].sum())")
    await h.run(price)
    await h.run(query)
    cell = await h.cell(query)
    assert cell["status"] == "success", cell
    assert cell["reads"] == ["min_price", "products"]
    assert table(cell)["rows"] == [[0, "c", 150], [1, "d", 200], [2, "e", 250]]
    assert await h.text(total) == "3 600"
    await h.edit(price, "min_price = 200")
    await h.run(price)  # re-runs the query and the Python cell reading its result
    assert await h.text(total) == "1 250"
