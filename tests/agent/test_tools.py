"""The notebook tools an agent acts through (reactive_notebook/agent/tools.py), on a real
service with real kernels: each tool is the service's call, so the agent's edits and
runs are a person's, and the answers say what a run did to every cell it touched."""

from __future__ import annotations

from typing import Any

import jsonschema

from reactive_notebook.agent.tools import ToolContext, notebook_tools
from reactive_notebook.contents.store import NotebookStore
from reactive_notebook.notebooks.service import NotebookService
from tests.notebooks.harness import USER, Harness, scenario

TOOLS = notebook_tools()


def context(h: Harness) -> ToolContext:
    return ToolContext(h.service, USER)


def test_every_tool_has_a_valid_input_schema() -> None:
    names = TOOLS.names()
    assert {"get_notebook", "run_cell", "update_cell", "wait_for_run"} <= set(names)
    for spec in TOOLS.specs():
        jsonschema.Draft202012Validator.check_schema(spec["input_schema"])
        assert spec["description"]


@scenario
async def test_an_agent_builds_an_analysis_and_a_run_answers_every_cell_it_touched(
    h: Harness,
) -> None:
    await h.new()
    ctx, nb = context(h), h.notebook_id
    first = await TOOLS.call(ctx, "create_cell", {"notebook_id": nb, "code": "n = 10"})
    second = await TOOLS.call(
        ctx, "create_cell", {"notebook_id": nb, "code": "squares = [i * i for i in range(n)]"}
    )
    third = await TOOLS.call(
        ctx, "create_cell", {"notebook_id": nb, "code": "print('total', sum(squares))"}
    )
    assert [first["index"], second["index"], third["index"]] == [0, 1, 2]
    ran = await TOOLS.call(ctx, "run_cell", {"notebook_id": nb, "cell_id": first["cell_id"]})
    assert ran["status"] == "done"
    assert [c["id"] for c in ran["cells"]] == [
        first["cell_id"],
        second["cell_id"],
        third["cell_id"],
    ]
    assert [c["status"] for c in ran["cells"]] == ["success"] * 3
    assert ran["cells"][2]["outputs"][0]["text"] == "total 285\n"

    # The agent edits the root with the code it saw; the run answers the new results.
    updated = await TOOLS.call(
        ctx,
        "update_cell",
        {
            "notebook_id": nb,
            "cell_id": first["cell_id"],
            "code": "n = 3",
            "expected_code": "n = 10",
        },
    )
    assert updated["ok"]
    ran = await TOOLS.call(ctx, "run_cell", {"notebook_id": nb, "cell_id": first["cell_id"]})
    assert ran["cells"][2]["outputs"][0]["text"] == "total 5\n"
    deps = await TOOLS.call(ctx, "get_dependencies", {"notebook_id": nb})
    by_id = {c["id"]: c for c in deps["cells"]}
    assert by_id[second["cell_id"]]["reads_from"] == {"n": first["cell_id"]}
    assert by_id[first["cell_id"]]["read_by"] == [second["cell_id"]]


@scenario
async def test_an_edit_of_a_cell_a_person_changed_is_a_conflict_and_keeps_their_code(
    h: Harness,
) -> None:
    (cell,) = await h.new("x = 1")
    ctx, nb = context(h), h.notebook_id
    await h.edit(cell, "x = 2  # a person's edit")
    answer = await TOOLS.call(
        ctx,
        "update_cell",
        {"notebook_id": nb, "cell_id": cell, "code": "x = 3", "expected_code": "x = 1"},
    )
    assert answer["ok"] is False
    assert answer["conflict"] is True
    assert answer["current_code"] == "x = 2  # a person's edit"
    assert (await h.cell(cell))["code"] == "x = 2  # a person's edit"


@scenario
async def test_a_slow_run_answers_a_handle_that_wait_for_run_completes(h: Harness) -> None:
    slow, after = await h.new("import time\ntime.sleep(1.5)\nv = 1", "print('v is', v)")
    ctx, nb = context(h), h.notebook_id
    started = await TOOLS.call(
        ctx, "run_cell", {"notebook_id": nb, "cell_id": slow, "timeout": 0.2}
    )
    assert started["status"] == "running"
    assert started["cell_ids"] == [slow, after]
    done = await TOOLS.call(
        ctx, "wait_for_run", {"notebook_id": nb, "run_id": started["run_id"], "timeout": 30}
    )
    assert done["status"] == "done"
    assert done["cells"][1]["outputs"][0]["text"] == "v is 1\n"
    again = await TOOLS.call(ctx, "wait_for_run", {"notebook_id": nb, "run_id": started["run_id"]})
    assert again["ok"] is False  # reported once; never a previous run's result


@scenario
async def test_refusals_are_answers_the_model_can_read(h: Harness) -> None:
    (cell,) = await h.new("print('x' * 100000)")
    ctx, nb = context(h), h.notebook_id
    unknown: Any = await TOOLS.call(ctx, "run_cell", {"notebook_id": nb, "cell_id": "nope"})
    assert unknown["ok"] is False
    assert "nope" in unknown["error"]
    bad = await TOOLS.call(ctx, "run_cell", {"notebook_id": nb})
    assert bad["ok"] is False
    assert "cell_id" in bad["error"]
    missing = await TOOLS.call(ctx, "no_such_tool", {})
    assert "get_notebook" in missing["error"]

    ran = await TOOLS.call(ctx, "run_cell", {"notebook_id": nb, "cell_id": cell})
    preview = ran["cells"][0]["outputs"][0]
    assert "bytes elided" in preview["text"]
    page = await TOOLS.call(
        ctx,
        "get_cell_output",
        {"notebook_id": nb, "cell_id": cell, "offset": 99_990, "length": 100},
    )
    assert page["text"] == "xxxxxxxxxx\n"
    assert page["next_offset"] is None


@scenario
async def test_no_answer_carries_the_database_password_or_a_server_secret(h: Harness) -> None:
    """A person may print a secret, or paste it in code: the model sees the mask."""
    password, key = "pw-Sup3rSecret", "aws-secret-k3y-value"
    (cell,) = await h.new(f"print('{password}', '{key}')  # pasted by someone")
    await h.connect(f"postgresql://ada:{password}@127.0.0.1:5432/sales")
    ctx = ToolContext(h.service, USER, environ={"AWS_SECRET_ACCESS_KEY": key, "HOME": "/home/ada"})
    nb = h.notebook_id
    answers = [
        await TOOLS.call(ctx, "run_cell", {"notebook_id": nb, "cell_id": cell}),
        await TOOLS.call(ctx, "get_notebook", {"notebook_id": nb}),
        await TOOLS.call(ctx, "get_cell_output", {"notebook_id": nb, "cell_id": cell}),
    ]
    text = repr(answers)
    assert answers[0]["cells"][0]["status"] == "success"
    assert password not in text
    assert key not in text
    assert "********" in answers[2]["text"]


@scenario
async def test_a_run_answers_the_ancestors_it_replayed_too(h: Harness) -> None:
    """Running the last cell of a chain that never ran first runs what it reads: the
    answer shows every cell that ran, not only the one asked for."""
    first, second, last = await h.new("a = 20", "b = a + 1", "print('b twice', b * 2)")
    ctx, nb = context(h), h.notebook_id
    ran = await TOOLS.call(ctx, "run_cell", {"notebook_id": nb, "cell_id": last})
    assert [c["id"] for c in ran["cells"]] == [first, second, last]
    assert [c["status"] for c in ran["cells"]] == ["success"] * 3
    assert ran["cells"][2]["outputs"][0]["text"] == "b twice 42\n"


VARIABLE_CELLS = (
    "count = 42",
    "items = [1, 2, 3]",
    "import pandas as pd\nframe = pd.DataFrame({'a': [1, 2, 3], 'b': [4.0, 5.0, 6.0]})",
    "import numpy as np\ngrid = np.arange(12).reshape(3, 4)",
    "def double(x):\n    return 2 * x",
    "class LoudRepr:\n    def __repr__(self):\n        raise ValueError('no repr')\n"
    "loud = LoudRepr()",
    "class LenFails:\n    def __len__(self):\n        raise RuntimeError('no len')\n"
    "lenfails = LenFails()",
    "for _i in range(300):\n    globals()[f'v{_i:03d}'] = _i",
)


@scenario
async def test_list_variables_describes_what_the_kernel_holds(h: Harness) -> None:
    """Types, shapes, lengths and short reprs from the kernel, at most ``limit`` of them;
    asked silently: no execution count, no output, no event for any cell."""
    cells = await h.new(*VARIABLE_CELLS)
    await h.run_all()
    ctx, nb = context(h), h.notebook_id
    before = await h.view()
    last_event = h.service.hub.last_seq(nb)

    answer = await TOOLS.call(ctx, "list_variables", {"notebook_id": nb, "limit": 1000})
    assert answer["ok"] is True
    assert answer["truncated"] == 0
    found = {v["name"]: v for v in answer["variables"]}
    assert found["count"] == {"name": "count", "type": "int", "repr": "42"}
    assert found["items"] == {"name": "items", "type": "list", "len": 3, "repr": "[1, 2, 3]"}
    assert found["frame"]["type"] == "pandas.DataFrame"
    assert (found["frame"]["shape"], found["frame"]["columns"]) == ([3, 2], 2)
    assert found["grid"]["type"] == "numpy.ndarray"
    assert found["grid"]["shape"] == [3, 4]
    assert found["double"]["type"] == "function"
    assert found["loud"]["repr"] == "<repr failed: ValueError: no repr>"
    assert "len" not in found["lenfails"]
    assert found["v299"]["repr"] == "299"
    assert not {"pd", "np", "_i", "In", "Out", "get_ipython"} & set(found)

    default = await TOOLS.call(ctx, "list_variables", {"notebook_id": nb})
    assert len(default["variables"]) == 200
    assert default["truncated"] == len(found) - 200

    assert await h.view() == before  # no count, output or status changed
    assert h.service.hub.last_seq(nb) == last_event
    counts = [c["execution_count"] for c in before["cells"]]
    after = await h.add("print('next')")
    await h.run(after)
    assert (await h.cell(after))["execution_count"] == max(counts) + 1
    assert len(cells) == len(VARIABLE_CELLS)


@scenario
async def test_list_variables_before_any_run_starts_no_kernel(h: Harness) -> None:
    await h.new("x = 1")
    answer = await TOOLS.call(context(h), "list_variables", {"notebook_id": h.notebook_id})
    assert answer == {"ok": True, "variables": [], "truncated": 0, "kernel": "not started"}
    assert not (await h.opened()).kernel.started


@scenario
async def test_list_variables_of_another_users_notebook_is_refused(h: Harness) -> None:
    await h.service.shutdown()
    h.store = NotebookStore(h.store.contents_manager, per_user=True)
    h.service = NotebookService(h.store, h.service.kernel_factory, save_delay=0.05)
    (cell,) = await h.new("secret_plan = 'mine'")
    await h.run(cell)
    answer = await TOOLS.call(
        ToolContext(h.service, "mallory"), "list_variables", {"notebook_id": h.notebook_id}
    )
    assert answer["ok"] is False
    assert "not found" in answer["error"]
    assert "secret_plan" not in repr(answer)
    mine = await TOOLS.call(context(h), "list_variables", {"notebook_id": h.notebook_id})
    assert [v["name"] for v in mine["variables"]] == ["secret_plan"]


@scenario
async def test_list_variables_never_shows_the_database_password(h: Harness) -> None:
    """Whole, or a piece of it where a long repr is cut."""
    password = "pw-Sup3rSecret"
    await h.new(
        f"db_password = {password!r}",
        f"dsn = 'x' * 50 + {password!r} + 'y' * 200",
    )
    await h.connect(f"postgresql://ada:{password}@127.0.0.1:5432/sales")
    await h.run_all()
    answer = await TOOLS.call(context(h), "list_variables", {"notebook_id": h.notebook_id})
    found = {v["name"]: v for v in answer["variables"]}
    assert found["db_password"]["repr"] == "'********'"
    assert "****" in found["dsn"]["repr"]
    pieces = [password[i : i + 4] for i in range(len(password) - 3)]
    assert not [piece for piece in pieces if piece in repr(answer)]
