"""NotebookService with real ipykernel kernels and real files (design.md section 3).

Each scenario drives the service the way the REST API and the WebSocket will: create
cells, edit, run, delete, interrupt, and reads the cells' statuses and outputs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import nbformat
import pytest

from reactive_notebook.contents.store import NotebookStore
from reactive_notebook.kernels.environment import kernel_environment
from reactive_notebook.kernels.session import KernelSession
from reactive_notebook.notebooks.errors import (
    CellNotFound,
    InvalidRequest,
    NotebookNotFound,
    RevisionConflict,
)
from reactive_notebook.notebooks.service import NotebookService

from .harness import USER, Harness, scenario


@scenario
async def test_editing_the_root_of_a_chain_updates_the_leaf(h: Harness) -> None:
    a, _b, c = await h.new("a = 1", "b = a + 1", "print(b * 10)")
    await h.run(a)
    assert await h.text(c) == "20"
    await h.edit(a, "a = 5")
    assert (await h.cell(c))["stale"] is True
    await h.run(a)
    assert await h.text(c) == "60"
    assert (await h.cell(c))["status"] == "success"
    assert (await h.cell(c))["stale"] is False


@scenario
async def test_a_diamond_runs_the_join_once_with_both_sides(h: Harness) -> None:
    top, _left, _right, join = await h.new(
        "n = 2", "left = n * 10", "right = n + 1", "print(left + right)"
    )
    await h.run(top)
    assert await h.text(join) == "23"


@scenario
async def test_a_fan_out_of_fifty_readers_all_update(h: Harness) -> None:
    (source,) = await h.new("base = 1")
    readers = [await h.add(f"print(base + {i})") for i in range(50)]
    await h.run(source)
    await h.edit(source, "base = 100")
    await h.run(source)
    texts = [await h.text(r) for r in readers]
    assert texts == [str(100 + i) for i in range(50)]


@scenario
async def test_a_redefined_dataframe_is_read_from_the_nearest_definition_above(h: Harness) -> None:
    load, clean, shape = await h.new(
        "import pandas as pd\ndf = pd.DataFrame({'x': [1, None, 3]})",
        "df = df.dropna()",
        "print(df.shape)",
    )
    await h.run(load)
    assert await h.text(shape) == "(2, 1)"
    await h.run(clean)  # re-running the redefinition re-runs its provider first
    assert await h.text(shape) == "(2, 1)"


@scenario
async def test_a_cycle_is_blocked_with_the_cycle_named_and_nothing_runs(h: Harness) -> None:
    first, second = await h.new("a = b + 1", "b = a + 1")
    await h.run(first)
    for cell_id in (first, second):
        cell = await h.cell(cell_id)
        assert cell["status"] == "blocked"
        assert "cycle" in cell["error"]
        assert "a" in cell["error"]
        assert "b" in cell["error"]
        assert cell["stdout"] == ""
        assert cell["outputs"] == []


@scenario
async def test_an_error_blocks_the_descendants_and_marks_their_outputs_stale(h: Harness) -> None:
    a, b, c, other = await h.new("a = 1", "b = a * 2", "print(b)", "print('independent')")
    await h.run(a)
    await h.run(other)
    assert await h.text(c) == "2"
    await h.edit(a, "a = 1 / 0")
    await h.run(a)
    cell_a, cell_b, cell_c = await h.cell(a), await h.cell(b), await h.cell(c)
    assert cell_a["status"] == "error"
    assert "ZeroDivisionError" in cell_a["error"]
    assert cell_b["status"] == cell_c["status"] == "blocked"
    assert cell_c["stale"] is True
    assert (await h.cell(other))["status"] == "success"


@scenario
async def test_deleting_a_cell_deletes_its_names_and_its_dependents_fail(h: Harness) -> None:
    a, b = await h.new("gone = 41", "print(gone + 1)")
    await h.run(a)
    assert await h.text(b) == "42"
    await h.service.delete_cell(USER, h.notebook_id, a)
    opened = await h.opened()
    for _ in range(100):  # the dependents re-run in the background
        if (await h.cell(b))["status"] not in ("queued", "running", "success"):
            break
        await asyncio.sleep(0.05)
    cell = await h.cell(b)
    assert cell["status"] == "error"
    assert "NameError" in cell["error"]
    assert opened.notebook.revision >= 4


@scenario
async def test_after_a_service_restart_running_the_leaf_runs_its_ancestors(h: Harness) -> None:
    a, b, c = await h.new("a = 3", "b = a * 3", "print(b + 1)")
    await h.run(a)
    await h.restart_service()
    await h.run(c)
    assert await h.text(c) == "10"
    assert (await h.cell(a))["status"] == "success"
    assert (await h.cell(b))["status"] == "success"


@scenario
async def test_renaming_a_variable_removes_the_old_name_from_the_kernel(h: Harness) -> None:
    a, probe = await h.new("x = 1", "print('x' in globals())")
    await h.run(a)
    await h.edit(a, "z = 1")
    await h.run(a)
    await h.run(probe)
    assert await h.text(probe) == "False"


@scenario
async def test_interrupting_an_endless_loop_returns_and_the_next_run_works(h: Harness) -> None:
    loop_cell, later = await h.new("while True: pass", "print('after')")
    run = asyncio.create_task(h.run(loop_cell))
    while (await h.cell(loop_cell))["status"] != "running":
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    await h.service.interrupt(USER, h.notebook_id)
    await asyncio.wait_for(run, timeout=2)
    assert time.perf_counter() - started < 2
    assert (await h.cell(loop_cell))["error"] == "interrupted"
    await h.run(later)
    assert await h.text(later) == "after"


@scenario
async def test_a_killed_kernel_reports_kernel_died_and_the_next_run_succeeds(h: Harness) -> None:
    (slow,) = await h.new("import time\ntime.sleep(30)")
    run = asyncio.create_task(h.run(slow))
    while (await h.cell(slow))["status"] != "running":
        await asyncio.sleep(0.05)
    opened = await h.opened()
    kernel = h.manager.get_kernel(opened.kernel.kernel_id)
    os.kill(kernel.provisioner.process.pid, signal.SIGKILL)
    await asyncio.wait_for(run, timeout=15)
    assert (await h.cell(slow))["error"] == "kernel died"
    await h.edit(slow, "print('back')")
    await h.run(slow)
    assert await h.text(slow) == "back"


@scenario
async def test_a_kernel_shut_down_behind_our_back_is_replaced_and_replayed(h: Harness) -> None:
    """Culling (or JupyterLab's running panel) may shut the kernel down between runs."""
    a, b = await h.new("base = 7", "print(base * 6)")
    await h.run(a)
    opened = await h.opened()
    await h.manager.shutdown_kernel(opened.kernel.kernel_id, now=True)
    await h.run(b)
    assert await h.text(b) == "42"
    assert (await h.cell(a))["status"] == "success"


@scenario
async def test_a_stale_expected_revision_is_a_conflict_and_changes_nothing(h: Harness) -> None:
    (a,) = await h.new("a = 1")
    opened = await h.opened()
    revision = opened.notebook.revision
    with pytest.raises(RevisionConflict) as conflict:
        await h.service.update_cell(USER, h.notebook_id, a, "a = 2", expected_revision=revision - 1)
    assert conflict.value.current == revision
    assert opened.notebook.cell(a).code == "a = 1"
    await h.service.update_cell(USER, h.notebook_id, a, "a = 2", expected_revision=revision)
    assert opened.notebook.revision == revision + 1


@scenario
async def test_bad_requests_are_refused_and_change_nothing(h: Harness) -> None:
    (a,) = await h.new("a = 1")
    opened = await h.opened()
    revision = opened.notebook.revision
    with pytest.raises(InvalidRequest):
        await h.service.create_cell(USER, h.notebook_id, "cobol", "")
    with pytest.raises(CellNotFound):
        await h.service.update_cell(USER, h.notebook_id, "../x", "a = 2")
    with pytest.raises(CellNotFound):
        await h.service.move_cell(USER, h.notebook_id, a, "nope")
    assert opened.notebook.revision == revision
    assert [c.id for c in opened.notebook.cells] == [a]


@scenario
async def test_another_users_notebook_does_not_exist_for_them(h: Harness) -> None:
    # Per-user notebooks: each user's are in their own folder, and that alone makes
    # them theirs (issue 12 item 3), whatever the file's metadata says.
    await h.service.shutdown()
    h.store = NotebookStore(h.store.contents_manager, per_user=True)
    h.service = NotebookService(h.store, h.service.kernel_factory, save_delay=0.05)
    await h.new("secret = 1")
    assert h.store.known_path(h.notebook_id) == f"{USER}/scenario.ipynb"
    with pytest.raises(NotebookNotFound):
        await h.service.get_notebook("mallory", h.notebook_id)
    with pytest.raises(NotebookNotFound):
        await h.service.run_all("mallory", h.notebook_id)
    assert await h.service.list_notebooks("mallory") == []


@scenario
async def test_the_saved_file_opens_in_stock_jupyter_with_outputs(h: Harness) -> None:
    a, b = await h.new("print('saved')", "6 * 7")
    await h.run(a)
    await h.run(b)
    await h.run(b)  # a cell asked to run runs again (its current ancestors do not)
    await h.edit(b, "6 * 8")
    await h.run(b)
    await h.service.shutdown()  # flushes the debounced save
    files = list(h.root.glob("*.ipynb"))
    assert len(files) == 1
    stored = nbformat.read(files[0], as_version=4)
    nbformat.validate(stored)
    assert stored.cells[0].outputs[0]["text"] == "saved\n"
    # Prompt numbers as stock Jupyter shows them: the kernel's count, one per cell run,
    # the result's equal to its cell's.
    assert [c.execution_count for c in stored.cells] == [1, 4]
    (result,) = stored.cells[1].outputs
    assert result["execution_count"] == 4
    assert result["data"]["text/plain"] == "48"


@scenario
async def test_a_notebook_made_by_stock_jupyter_opens_and_runs(h: Harness) -> None:
    stock = nbformat.v4.new_notebook()
    stock.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("x = 20"),
        nbformat.v4.new_code_cell("print(x + 1)"),
    ]
    nbformat.write(stock, h.root / "stock.ipynb")
    (listed,) = await h.service.list_notebooks(USER)
    h.notebook_id = listed["id"]
    opened = await h.opened()
    code_cells = [c.id for c in opened.notebook.cells if c.type.value == "python"]
    await h.run(code_cells[0])
    assert await h.text(code_cells[1]) == "21"


@scenario
async def test_rich_outputs_reach_the_cell(h: Harness) -> None:
    plot, html, table = await h.new(
        "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()",
        "from IPython.display import HTML\nHTML('<b>bold</b>')",
        "import pandas as pd\npd.DataFrame({'a': [1.5, float('nan')]})",
    )
    for cell_id in (plot, html, table):
        await h.run(cell_id)
    assert [o["mime_type"] for o in (await h.cell(plot))["outputs"]] == ["image/png"]
    assert (await h.cell(html))["outputs"][0]["mime_type"] == "text/html"
    shown = (await h.cell(table))["outputs"][0]
    assert shown["mime_type"] == "application/json"
    assert shown["data"]["type"] == "table"
    assert shown["data"]["rows"][1][1] is None


@scenario
async def test_notebooks_are_listed_renamed_and_their_cells_moved(h: Harness) -> None:
    a, b, c = await h.new("a = 1", "b = 2", "c = 3")
    service = h.service
    assert await service.list_notebooks(USER) == [{"id": h.notebook_id, "name": "scenario"}]
    await service.rename_notebook(USER, h.notebook_id, "Quarterly numbers")
    assert (await service.list_notebooks(USER))[0]["name"] == "Quarterly numbers"
    assert await service.move_cell(USER, h.notebook_id, c, None) == 0
    assert await service.move_cell(USER, h.notebook_id, a, b) == 2
    opened = await h.opened()
    assert [cell.id for cell in opened.notebook.cells] == [c, b, a]
    assert [cell["id"] for cell in service.describe_notebook(opened)["cells"]] == [c, b, a]


@scenario
async def test_moving_a_redefinition_changes_what_its_readers_see(h: Harness) -> None:
    first, reader, second = await h.new("x = 1", "print(x)", "x = 2")
    await h.run(first)
    assert await h.text(reader) == "1"
    await h.service.move_cell(USER, h.notebook_id, second, first)  # now x = 2 sits above
    assert (await h.cell(reader))["stale"] is True
    await h.run(reader)
    assert await h.text(reader) == "2"


@scenario
async def test_sql_cells_get_a_result_variable_and_a_new_connection_makes_them_stale(
    h: Harness,
) -> None:
    (source,) = await h.new(
        "import pandas as pd\nmin_price = 100\nitems = pd.DataFrame({'price': [50, 150]})"
    )
    sql = await h.service.create_cell(
        USER, h.notebook_id, "sql", "select * from items where price > {min_price}"
    )
    described = await h.cell(sql.id)
    assert described["output"] == "df_1"
    # On DuckDB (the default) a table may be a DataFrame variable: it is a read too.
    assert described["reads"] == ["items", "min_price"]
    assert described["writes"] == ["df_1"]
    await h.run(sql.id)
    assert (await h.cell(sql.id))["status"] == "success"
    await h.service.set_db_connection(USER, h.notebook_id, "postgresql://u@127.0.0.1/db")
    opened = await h.opened()
    assert opened.notebook.db_connection == "postgresql://u@127.0.0.1/db"
    described = await h.cell(sql.id)
    assert described["reads"] == ["min_price"]  # on PostgreSQL, tables are the database's
    assert described["stale"] is True
    assert (await h.cell(source))["stale"] is False


@scenario
async def test_a_cell_switched_between_python_and_sql_is_relinked_and_saved_as_its_type(
    h: Harness,
) -> None:
    source, cell, reader = await h.new(
        "import pandas as pd\nitems = pd.DataFrame({'price': [50, 150]})",
        "items.price.sum()",
        "total = len(df_1)",
    )
    await h.service.update_cell(
        USER, h.notebook_id, cell, "select * from items where price > 100", cell_type="sql"
    )
    described = await h.cell(cell)
    assert (described["type"], described["output"]) == ("sql", "df_1")
    assert (described["reads"], described["writes"]) == (["items"], ["df_1"])
    await h.run(reader)  # reads df_1: the SQL cell runs first, its source before it
    assert [(await h.cell(c))["status"] for c in (source, cell, reader)] == ["success"] * 3
    stored = nbformat.read(await h.saved(), as_version=4).cells[1]
    assert stored.metadata["reactive_notebook"] == {"type": "sql", "output": "df_1"}

    await h.service.update_cell(USER, h.notebook_id, cell, "df_1 = 7", cell_type="python")
    described = await h.cell(cell)
    assert (described["type"], described.get("output")) == ("python", None)
    assert described["writes"] == ["df_1"]
    stored = nbformat.read(await h.saved(), as_version=4).cells[1]
    assert "reactive_notebook" not in stored.metadata
    with pytest.raises(InvalidRequest, match="only SQL cells"):
        await h.service.update_cell(USER, h.notebook_id, cell, "x = 1", output="df_9")
    with pytest.raises(InvalidRequest):
        await h.service.update_cell(USER, h.notebook_id, cell, "x", cell_type="markdown")
    assert (await h.cell(cell))["code"] == "df_1 = 7"


@scenario
async def test_deleting_a_notebook_shuts_its_kernel_down_and_removes_the_file(h: Harness) -> None:
    (a,) = await h.new("a = 1")
    await h.run(a)
    kernel_id = (await h.opened()).kernel.kernel_id
    assert kernel_id in h.manager.list_kernel_ids()
    await h.service.delete_notebook(USER, h.notebook_id)
    assert kernel_id not in h.manager.list_kernel_ids()
    assert list(h.root.glob("*.ipynb")) == []
    assert await h.service.list_notebooks(USER) == []


@scenario
async def test_plotly_and_altair_charts_arrive_as_their_own_mime_types(h: Harness) -> None:
    plotly_cell, altair_cell = await h.new(
        "import plotly.graph_objects as go\nfig = go.Figure(go.Bar(x=['a', 'b'], y=[1, 2]))\nfig",
        "import altair as alt, pandas as pd\n"
        "chart = alt.Chart(pd.DataFrame({'x': [1, 2], 'y': [3, 4]})).mark_line()"
        ".encode(x='x', y='y')\n"
        "chart",
    )
    await h.run(plotly_cell)
    await h.run(altair_cell)
    plotly_outputs = (await h.cell(plotly_cell))["outputs"]
    assert plotly_outputs[0]["mime_type"] == "application/vnd.plotly.v1+json"
    assert plotly_outputs[0]["data"]["data"][0]["type"] == "bar"
    altair_outputs = (await h.cell(altair_cell))["outputs"]
    assert altair_outputs[0]["mime_type"].startswith("application/vnd.vegalite.v")
    assert altair_outputs[0]["data"]["mark"]["type"] == "line"


@scenario
async def test_clear_output_replaces_what_a_cell_showed(h: Harness) -> None:
    (progress,) = await h.new(
        "from IPython.display import clear_output\n"
        "for step in range(5):\n"
        "    clear_output(wait=True)\n"
        "    print(f'step {step}')\n"
        "print('done')"
    )
    await h.run(progress)
    assert (await h.cell(progress))["stdout"] == "step 4\ndone\n"


@scenario
async def test_a_kernel_that_cannot_start_fails_the_run_with_a_reason(h: Harness) -> None:
    env = kernel_environment(os.environ)
    h.service.kernel_factory = lambda notebook: KernelSession(
        h.manager, kernel_name="no-such-kernel", env=env
    )
    (a,) = await h.new("a = 1")
    await h.run(a)
    events = h.service.hub.since(h.notebook_id, 0) or []
    errors = [e.data["message"] for e in events if e.type == "error"]
    assert errors
    assert "no-such-kernel" in errors[0]
    cell = await h.cell(a)
    assert cell["status"] == "error"  # a run waited on says it failed, not its old status
    assert "no-such-kernel" in cell["error"]


@scenario
async def test_code_that_does_not_parse_says_so_before_any_run(h: Harness) -> None:
    (broken,) = await h.new("def f(:\n    pass")
    cell = await h.cell(broken)
    assert cell["status"] == "idle"
    assert cell["error"].startswith("SyntaxError: line 1")
    await h.service.update_cell(USER, h.notebook_id, broken, "def f():\n    pass")
    assert (await h.cell(broken))["error"] is None


@scenario
async def test_a_notebook_whose_file_was_deleted_behind_the_server_is_not_found(
    h: Harness,
) -> None:
    (a,) = await h.new("a = 1")
    await h.run(a)
    await asyncio.sleep(0.2)  # the debounced save has written the file
    for path in h.root.glob("*.ipynb"):
        path.unlink()
    with pytest.raises(NotebookNotFound):
        await h.service.rename_notebook(USER, h.notebook_id, "elsewhere")
    assert list(h.root.glob("*.ipynb")) == []  # nothing brought it back
    other = await h.service.create_notebook(USER, "other")
    await h.service.delete_notebook(USER, other.id)
    assert list(h.root.glob("*.ipynb")) == []
