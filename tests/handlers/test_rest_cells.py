"""The cell endpoints of the REST API (design.md section 4): add, read, change, move,
delete and run cells; every answer checked against the OpenAPI document."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api
from .contract import conforms, new_notebook, notebook_when


async def codes(api: Api, notebook_id: str) -> list[str]:
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    return [cell["code"] for cell in notebook["cells"]]


async def ids(api: Api, notebook_id: str) -> list[str]:
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    return [cell["id"] for cell in notebook["cells"]]


# -- add -------------------------------------------------------------------------------


async def test_a_new_cell_answers_201_with_its_id_index_revision_and_the_cell(api: Api) -> None:
    notebook_id = await new_notebook(api, "cells", ("a = 1",))
    response = await api(
        "POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": "b = a + 1"}
    )
    assert response.code == 201
    created = conforms(response)
    assert created["index"] == 1
    assert created["revision"] == 3
    cell = created["cell"]
    assert cell["id"] == created["cell_id"]
    assert (cell["type"], cell["code"], cell["status"]) == ("python", "b = a + 1", "idle")
    assert (cell["reads"], cell["writes"]) == (["a"], ["b"])
    assert (cell["stdout"], cell["stderr"], cell["outputs"], cell["error"]) == ("", "", [], None)
    assert await codes(api, notebook_id) == ["a = 1", "b = a + 1"]


@pytest.mark.parametrize(
    ("where", "expected_index", "expected_codes"),
    [
        ({}, 2, ["first", "second", "new"]),
        ({"after_cell_id": None}, 0, ["new", "first", "second"]),
        ({"after_cell_id": 0}, 1, ["first", "new", "second"]),
        ({"after_cell_id": 1}, 2, ["first", "second", "new"]),
    ],
    ids=["omitted: at the end", "null: first", "after the first", "after the last"],
)
async def test_a_new_cell_goes_where_after_cell_id_says(
    api: Api, where: dict[str, Any], expected_index: int, expected_codes: list[str]
) -> None:
    notebook_id = await new_notebook(api, "where", ("first", "second"))
    cell_ids = await ids(api, notebook_id)
    body = {"type": "python", "code": "new"}
    if "after_cell_id" in where:
        after = where["after_cell_id"]
        body["after_cell_id"] = None if after is None else cell_ids[after]
    created = conforms(await api("POST", "notebooks", notebook_id, "cells", body=body))
    assert created["index"] == expected_index
    assert await codes(api, notebook_id) == expected_codes


async def test_a_cell_with_no_code_is_empty(api: Api) -> None:
    notebook_id = await new_notebook(api, "empty")
    created = conforms(
        await api("POST", "notebooks", notebook_id, "cells", body={"type": "python"})
    )
    assert created["cell"]["code"] == ""


async def test_sql_cells_get_a_result_variable_of_their_own_or_the_one_given(api: Api) -> None:
    notebook_id = await new_notebook(api, "sql")
    first = conforms(
        await api(
            "POST", "notebooks", notebook_id, "cells", body={"type": "sql", "code": "select 1"}
        )
    )
    second = conforms(await api("POST", "notebooks", notebook_id, "cells", body={"type": "sql"}))
    named = conforms(
        await api(
            "POST", "notebooks", notebook_id, "cells", body={"type": "sql", "output": "sales"}
        )
    )
    assert [c["cell"]["output"] for c in (first, second, named)] == ["df_1", "df_2", "sales"]
    assert first["cell"]["type"] == "sql"
    assert first["cell"]["writes"] == ["df_1"]


# -- read, change ----------------------------------------------------------------------


async def test_a_cell_reads_back_with_the_notebook_revision(api: Api) -> None:
    notebook_id = await new_notebook(api, "read", ("total = 3",))
    (cell_id,) = await ids(api, notebook_id)
    response = await api("GET", "notebooks", notebook_id, "cells", cell_id)
    assert response.code == 200
    cell = conforms(response)
    assert (cell["id"], cell["code"], cell["writes"], cell["revision"]) == (
        cell_id,
        "total = 3",
        ["total"],
        2,
    )


async def test_changing_a_cell_recomputes_reads_and_writes_and_does_not_run_it(
    api: Api,
) -> None:
    notebook_id = await new_notebook(api, "edit", ("a = 1", "b = 2", "c = a"))
    ran = conforms(await api("POST", "notebooks", notebook_id, "run", body={"wait": True}))
    first, _, third = (cell["id"] for cell in ran["cells"])
    response = await api(
        "PUT", "notebooks", notebook_id, "cells", third, body={"code": "c = b * 10"}
    )
    assert response.code == 200
    cell = conforms(response)
    assert (cell["code"], cell["reads"], cell["writes"]) == ("c = b * 10", ["b"], ["c"])
    assert cell["revision"] == ran["revision"] + 1
    assert cell["stale"] is True  # its code changed since it ran: not current
    assert cell["status"] == "success"  # ... but it did not run again
    assert cell["outputs"] == ran["cells"][2]["outputs"]
    untouched = conforms(await api("GET", "notebooks", notebook_id, "cells", first))
    assert untouched["stale"] is False


async def test_an_sql_cell_may_get_a_new_result_variable(api: Api) -> None:
    notebook_id = await new_notebook(api, "sql")
    created = conforms(await api("POST", "notebooks", notebook_id, "cells", body={"type": "sql"}))
    response = await api(
        "PUT",
        "notebooks",
        notebook_id,
        "cells",
        created["cell_id"],
        body={"code": "select 2", "output": "result"},
    )
    cell = conforms(response)
    assert (cell["code"], cell["output"], cell["writes"]) == ("select 2", "result", ["result"])


async def test_a_cell_may_change_type_and_a_markdown_cell_may_become_code(
    api: Api, jp_root_dir: Path
) -> None:
    notebook_id = await new_notebook(api, "switch")
    created = conforms(
        await api("POST", "notebooks", notebook_id, "cells", body={"type": "python"})
    )
    cell_id = created["cell_id"]
    as_sql = conforms(
        await api(
            "PUT",
            "notebooks",
            notebook_id,
            "cells",
            cell_id,
            body={"code": "select 1 as one", "type": "sql"},
        )
    )
    assert (as_sql["type"], as_sql["output"], as_sql["writes"]) == ("sql", "df_1", ["df_1"])
    back = conforms(
        await api(
            "PUT", "notebooks", notebook_id, "cells", cell_id, body={"code": "", "type": "python"}
        )
    )
    assert (back["type"], back.get("output")) == ("python", None)

    (jp_root_dir / "dropped.ipynb").write_text(json.dumps(PLAIN_NOTEBOOK))
    listed = conforms(await api("GET", "notebooks"))["notebooks"]
    (imported,) = [n["id"] for n in listed if n["name"] == "dropped"]
    code = conforms(
        await api(
            "PUT",
            "notebooks",
            imported,
            "cells",
            "title",
            body={"code": "answer = 6 * 7", "type": "python"},
        )
    )
    assert (code["type"], code["writes"]) == ("python", ["answer"])
    ran = conforms(
        await api("POST", "notebooks", imported, "cells", "title", "run", body={"wait": True})
    )
    assert ran["cells"][0]["status"] == "success"


# -- move ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moved", "after", "expected_index", "expected_codes"),
    [
        (2, None, 0, ["c", "a", "b"]),
        (0, 2, 2, ["b", "c", "a"]),
        (0, 1, 1, ["b", "a", "c"]),
        (1, 0, 1, ["a", "b", "c"]),
    ],
    ids=["last to first", "first to last", "first after second", "in place"],
)
async def test_moving_a_cell_puts_it_right_after_the_one_named(
    api: Api, moved: int, after: int | None, expected_index: int, expected_codes: list[str]
) -> None:
    notebook_id = await new_notebook(api, "move", ("a", "b", "c"))
    cell_ids = await ids(api, notebook_id)
    target = None if after is None else cell_ids[after]
    response = await api(
        "POST",
        "notebooks",
        notebook_id,
        "cells",
        cell_ids[moved],
        "move",
        body={"after_cell_id": target},
    )
    assert response.code == 200
    answer = conforms(response)
    assert answer == {"index": expected_index, "revision": 5}
    assert await codes(api, notebook_id) == expected_codes


async def test_a_moved_cell_is_read_by_the_cells_below_it_now(api: Api) -> None:
    notebook_id = await new_notebook(api, "order", ("x = 1", "x = 100", "x + 1"))
    before = conforms(await api("POST", "notebooks", notebook_id, "run", body={"wait": True}))
    assert before["cells"][2]["outputs"][0]["data"] == "101"
    first, second, _ = (cell["id"] for cell in before["cells"])
    moved = await api(
        "POST", "notebooks", notebook_id, "cells", first, "move", body={"after_cell_id": second}
    )
    assert conforms(moved)["index"] == 1
    after = conforms(await api("POST", "notebooks", notebook_id, "run", body={"wait": True}))
    assert [c["code"] for c in after["cells"]] == ["x = 100", "x = 1", "x + 1"]
    assert after["cells"][2]["outputs"][0]["data"] == "2"


# -- delete ----------------------------------------------------------------------------


async def test_deleting_a_cell_answers_204_and_its_dependents_rerun_without_it(
    api: Api,
) -> None:
    notebook_id = await new_notebook(api, "delete", ("x = 1", "y = x + 1", "z = 5"))
    ran = conforms(await api("POST", "notebooks", notebook_id, "run", body={"wait": True}))
    first, second, third = (cell["id"] for cell in ran["cells"])
    response = await api("DELETE", "notebooks", notebook_id, "cells", first)
    assert response.code == 204
    assert conforms(response) is None
    assert (await api("GET", "notebooks", notebook_id, "cells", first)).code == 404
    notebook = await notebook_when(
        api, notebook_id, lambda nb: nb["cells"][0]["status"] == "error", 30
    )
    assert [c["id"] for c in notebook["cells"]] == [second, third]
    assert "NameError" in notebook["cells"][0]["error"]
    assert notebook["cells"][1]["status"] == "success"  # did not depend on it
    assert notebook["revision"] == ran["revision"] + 1


# -- run -------------------------------------------------------------------------------


async def test_running_a_cell_with_wait_answers_200_with_the_notebook_after_the_run(
    api: Api,
) -> None:
    notebook_id = await new_notebook(api, "run", ("x = 20", "y = x + 1", "y * 2", "other = 0"))
    first, *_ = await ids(api, notebook_id)
    response = await api(
        "POST", "notebooks", notebook_id, "cells", first, "run", body={"wait": True}
    )
    assert response.code == 200
    notebook = conforms(response)
    statuses = [c["status"] for c in notebook["cells"]]
    assert statuses == ["success", "success", "success", "idle"]  # it and its dependents
    result = notebook["cells"][2]["outputs"]
    assert result == [{"mime_type": "text/plain", "data": "42", "metadata": {}}]


@pytest.mark.parametrize("body", [None, {}, {"wait": False}], ids=["no body", "{}", "wait false"])
async def test_running_a_cell_without_wait_answers_202_queued_and_it_runs(
    api: Api, body: Any
) -> None:
    notebook_id = await new_notebook(api, "run", ("print('hello')",))
    (cell_id,) = await ids(api, notebook_id)
    response = await api("POST", "notebooks", notebook_id, "cells", cell_id, "run", body=body)
    assert response.code == 202
    assert conforms(response) == {"status": "queued"}
    notebook = await notebook_when(
        api, notebook_id, lambda nb: nb["cells"][0]["status"] == "success"
    )
    assert notebook["cells"][0]["stdout"] == "hello\n"


async def test_running_a_failing_cell_reports_its_error_and_blocks_its_dependents(
    api: Api,
) -> None:
    notebook_id = await new_notebook(api, "fails", ("x = 1 / 0", "y = x"))
    first, _ = await ids(api, notebook_id)
    response = await api(
        "POST", "notebooks", notebook_id, "cells", first, "run", body={"wait": True}
    )
    assert response.code == 200
    failed, blocked = conforms(response)["cells"]
    assert failed["status"] == "error"
    assert failed["error"].startswith("ZeroDivisionError")
    assert blocked["status"] == "blocked"
    assert blocked["error"] == f"cell {first} failed before defining `x` ({failed['error']})"
    # A client that opens the notebook later still gets the traceback.
    again = conforms(await api("GET", "notebooks", notebook_id, "cells", first))
    assert again["traceback"]["ename"] == "ZeroDivisionError"
    plain = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(again["traceback"]["traceback"]))
    assert "x = 1 / 0" in plain
    assert "traceback" not in blocked


async def test_running_a_cell_runs_its_stale_ancestors_first(api: Api) -> None:
    notebook_id = await new_notebook(api, "ancestors", ("base = 2", "top = base ** 5"))
    _, second = await ids(api, notebook_id)
    response = await api(
        "POST", "notebooks", notebook_id, "cells", second, "run", body={"wait": True}
    )
    notebook = conforms(response)
    assert [c["status"] for c in notebook["cells"]] == ["success", "success"]


async def test_a_run_naming_the_code_the_server_has_runs_at_once(api: Api) -> None:
    notebook_id = await new_notebook(api, "named", ("x = 6", "x * 7"))
    first, _ = await ids(api, notebook_id)
    body = {"wait": True, "code": "x = 6"}
    response = await api("POST", "notebooks", notebook_id, "cells", first, "run", body=body)
    assert response.code == 200
    notebook = conforms(response)
    assert notebook["cells"][1]["outputs"][0]["data"] == "42"
    codes = {cell["id"]: cell["code"] for cell in notebook["cells"]}
    response = await api("POST", "notebooks", notebook_id, "run", body={"codes": codes})
    assert response.code == 202


async def test_a_run_naming_code_the_server_never_gets_answers_409_and_runs_nothing(
    api: Api,
) -> None:
    notebook_id = await new_notebook(api, "unnamed", ("x = 6", "x * 7"))
    first, second = await ids(api, notebook_id)
    body = {"wait": True, "code": "x = 7"}  # an editor's change that never arrived
    response = await api("POST", "notebooks", notebook_id, "cells", first, "run", body=body)
    assert response.code == 409
    answer = conforms(response)
    assert answer["field"] == "code"
    assert answer["message"].startswith("the cell's code in your editor has not reached")
    body = {"codes": {first: "x = 6", second: "x * 8"}}
    response = await api("POST", "notebooks", notebook_id, "run", body=body)
    assert response.code == 409
    assert conforms(response)["field"] == "codes"
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    assert [(c["status"], c["outputs"]) for c in notebook["cells"]] == [("idle", [])] * 2


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (("cells", "{cell}", "run"), {"code": 42}, "code"),
        (("cells", "{cell}", "run"), {"code": None}, "code"),
        (("cells", "{cell}", "run"), {"codes": {}}, "codes"),
        (("run",), {"codes": ["x = 1"]}, "codes"),
        (("run",), {"codes": {"{cell}": 1}}, "codes.{cell}"),
        (("run",), {"code": "x = 1"}, "code"),
    ],
    ids=[
        "code a number",
        "code null",
        "codes on a cell's run",
        "codes a list",
        "a code a number",
        "code on a run of all",
    ],
)
async def test_a_run_with_code_of_the_wrong_type_answers_400_naming_the_field(
    api: Api, path: tuple[str, ...], body: dict[str, Any], field: str
) -> None:
    notebook_id = await new_notebook(api, "types", ("x = 6",))
    (cell,) = await ids(api, notebook_id)
    filled = json.loads(json.dumps(body).replace("{cell}", cell))
    parts = [part.format(cell=cell) for part in path]
    response = await api("POST", "notebooks", notebook_id, *parts, body=filled)
    assert response.code == 400
    assert conforms(response)["field"] == field.format(cell=cell)
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    assert notebook["cells"][0]["status"] == "idle"


async def test_a_run_whose_code_is_over_the_body_limit_answers_413(api: Api) -> None:
    notebook_id = await new_notebook(api, "large", ("x = 6",))
    (cell,) = await ids(api, notebook_id)
    body = {"code": "x" * 300 * 1024}  # the test server's limit is 256 KiB
    response = await api("POST", "notebooks", notebook_id, "cells", cell, "run", body=body)
    assert response.code == 413
    assert "max_body_bytes" in conforms(response)["message"]


# -- a plain .ipynb dropped into the contents root -------------------------------------

PLAIN_NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {},
    "cells": [
        {"id": "title", "cell_type": "markdown", "metadata": {}, "source": "# Dropped"},
        {
            "id": "code",
            "cell_type": "code",
            "metadata": {},
            "source": "n = 6 * 7\nn",
            "outputs": [],
            "execution_count": None,
        },
        {"id": "notes", "cell_type": "raw", "metadata": {}, "source": "raw text"},
    ],
}


async def test_a_plain_ipynb_opens_and_its_markdown_and_raw_cells_do_not_run(
    api: Api, jp_root_dir: Path
) -> None:
    (jp_root_dir / "dropped.ipynb").write_text(json.dumps(PLAIN_NOTEBOOK))
    listed = conforms(await api("GET", "notebooks"))["notebooks"]
    (notebook_id,) = [n["id"] for n in listed if n["name"] == "dropped"]
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    assert [(c["id"], c["type"]) for c in notebook["cells"]] == [
        ("title", "markdown"),
        ("code", "python"),
        ("notes", "raw"),
    ]
    for cell_id, kind in (("title", "markdown"), ("notes", "raw")):
        refused = await api("POST", "notebooks", notebook_id, "cells", cell_id, "run", body={})
        assert refused.code == 400
        assert conforms(refused)["message"] == f"a {kind} cell does not run"
    assert conforms(await api("GET", "notebooks", notebook_id)) == notebook  # unchanged
    ran = conforms(await api("POST", "notebooks", notebook_id, "run", body={"wait": True}))
    assert [c["status"] for c in ran["cells"]] == ["idle", "success", "idle"]
    assert ran["cells"][1]["outputs"][0]["data"] == "42"
    edited = await api(
        "PUT", "notebooks", notebook_id, "cells", "title", body={"code": "# Renamed"}
    )
    assert conforms(edited)["code"] == "# Renamed"


# -- dynamic name access ----------------------------------------------------------------


async def test_a_cell_reading_names_dynamically_says_why_and_changes_with_its_function(
    api: Api,
) -> None:
    notebook_id = await new_notebook(
        api, "dynamic", ("x = 1", "def show(n):\n    return eval(n)", "show('x')", "x")
    )
    cells = conforms(await api("GET", "notebooks", notebook_id))["cells"]
    assert [cell["dynamic"] for cell in cells] == [
        None,
        None,
        "reads names dynamically (eval in show)",
        None,
    ]
    response = await api(
        "PUT", "notebooks", notebook_id, "cells", cells[1]["id"], body={"code": "def show(n): ..."}
    )
    assert conforms(response)["dynamic"] is None
    cells = conforms(await api("GET", "notebooks", notebook_id))["cells"]
    assert cells[2]["dynamic"] is None
