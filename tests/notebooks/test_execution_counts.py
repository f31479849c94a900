"""Prompt numbers are the kernel's execution counts, as in Jupyter (issue 13, item 1).

Every cell a run executes takes the kernel's next count with its input stored in the
kernel's history; the API, the ``execute_result`` and the stored ``.ipynb`` show that
count, and it restarts at 1 with the kernel.
"""

from __future__ import annotations

import re

import nbformat

from .harness import Harness, scenario


async def count(h: Harness, cell_id: str) -> int | None:
    return (await h.cell(cell_id))["execution_count"]  # type: ignore[no-any-return]


@scenario
async def test_each_executed_cell_takes_the_kernels_next_count(h: Harness) -> None:
    a, b = await h.new("x = 1\nx;", "x + 1")
    await h.run(a)  # a, then b that reads from it
    assert (await count(h, a), await count(h, b)) == (1, 2)
    assert (await h.cell(a))["outputs"] == []  # the trailing ; hides the result
    await h.run(b)  # b alone: a is current
    assert (await count(h, a), await count(h, b)) == (1, 3)
    await h.edit(a, "x = 2\nx;")
    await h.run(a)
    assert (await count(h, a), await count(h, b)) == (4, 5)
    assert await h.text(b) == "3"
    stored = nbformat.read(await h.saved(), as_version=4)
    assert [cell.execution_count for cell in stored.cells] == [4, 5]
    (result,) = stored.cells[1].outputs
    assert result["execution_count"] == 5


@scenario
async def test_counts_restart_with_the_kernel(h: Harness) -> None:
    a, b, c = await h.new("x = 1", "x + 1", "Out")
    await h.run_all()
    assert [await count(h, cell) for cell in (a, b, c)] == [1, 2, 3]
    assert await h.text(c) == "{2: 2}"
    await (await h.opened()).kernel.restart()
    await h.run(c)
    assert await count(h, c) == 1
    assert await h.text(c) == "{}"
    await h.run(b)  # replays a, its provider, in the new kernel
    assert (await count(h, a), await count(h, b)) == (2, 3)


@scenario
async def test_a_traceback_names_the_cell_by_its_prompt(h: Harness) -> None:
    ok, failing = await h.new("y = 1", "def f():\n    return 1 / 0\nf()")
    await h.run(ok)
    await h.run(failing)
    cell = await h.cell(failing)
    lines = "".join(cell["traceback"]["traceback"])
    headings = re.findall(r"Cell In\[(\d+)\]", re.sub(r"\x1b\[[0-9;]*m", "", lines))
    assert headings == [str(cell["execution_count"])] * 2
    assert cell["execution_count"] == 2


@scenario
async def test_a_sql_cells_history_holds_its_sql_not_its_connection(h: Harness) -> None:
    (probe,) = await h.new("[source for source in In if 'reactive_' + 'sql' in source], In[-2]")
    sql = await h.add_sql("SELECT 42 AS answer;", output="df_answer")
    await h.run(sql)
    assert await count(h, sql) == 1
    assert (await h.cell(sql))["outputs"], "the result table is shown despite the ;"
    await h.run(probe)
    assert await h.text(probe) == "([], 'SELECT 42 AS answer;')"
