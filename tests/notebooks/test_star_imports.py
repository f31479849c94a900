"""``from m import *`` with real kernels: what it binds is known once it has run.

Before the first run, a cell with a star import reads names only from cells above it
(the star import may bind any of them); after a run, the names the module exports count
as the cell's writes, so cells reading them depend on it.
"""

from __future__ import annotations

from .harness import Harness, scenario


@scenario
async def test_a_star_import_then_an_explicit_import_of_the_same_names_is_no_cycle(
    h: Harness,
) -> None:
    # As in a public Python lecture: both cells define `x` from `cos` and `pi`.
    _, star, explicit, log = await h.new(
        "import math",
        "from math import *\nx = cos(2 * pi)\nprint(x)",
        "from math import cos, pi\nx = cos(2 * pi)\nprint(x)",
        "round(log(10), 3)",
    )
    await h.run_all()
    for cell_id in (star, explicit, log):
        assert (await h.cell(cell_id))["status"] == "success"
    assert await h.text(star) == "1.0"
    assert await h.text(log) == "2.303"
    # `log` is now known to come from the star import: the reader runs on its own.
    cell = (await h.opened()).notebook.cell(star)
    count = cell.execution_count
    await h.edit(log, "round(log(100), 3)")
    await h.run(log)
    assert await h.text(log) == "4.605"
    assert (await h.opened()).notebook.cell(star).execution_count == count


@scenario
async def test_a_star_imported_name_read_below_follows_an_edit_of_the_import(
    h: Harness,
) -> None:
    star, reader = await h.new("from math import *", "print(round(e, 2))")
    await h.run_all()
    assert await h.text(reader) == "2.72"
    assert "e" in (await h.cell(star))["writes"]
    await h.edit(star, "from cmath import *")
    await h.run(star)
    assert await h.text(reader) == "2.72"
    assert (await h.cell(reader))["stale"] is False
