"""The notebook endpoints of the REST API (design.md section 4), as a client sees them:
status codes and fields, checked against the OpenAPI document, and what reaches the
.ipynb file under the contents root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api
from .contract import BASE_URL, conforms, new_notebook, notebook_file, notebook_when, stored


def cells_of(notebook: dict[str, Any]) -> list[tuple[str, str]]:
    return [(cell["code"], cell["status"]) for cell in notebook["cells"]]


# -- create, list, read ----------------------------------------------------------------


async def test_a_new_notebook_answers_201_with_its_id_and_where_it_lives(
    api: Api, jp_root_dir: Path
) -> None:
    response = await api("POST", "notebooks", body={"name": "Sales report"})
    assert response.code == 201
    created = conforms(response)
    notebook_id = created["notebook_id"]
    assert created["name"] == "Sales report"
    assert created["revision"] == 1
    assert response.headers["Location"] == (f"{BASE_URL}reactive/api/v1/notebooks/{notebook_id}")
    assert notebook_file(jp_root_dir, notebook_id).name == "Sales report.ipynb"
    assert created["path"] == "Sales report.ipynb"  # where JupyterLab opens it


@pytest.mark.parametrize("body", [None, {}], ids=["no body", "empty object"])
async def test_a_notebook_created_without_a_name_is_untitled(api: Api, body: Any) -> None:
    response = await api("POST", "notebooks", body=body)
    assert response.code == 201
    notebook_id = conforms(response)["notebook_id"]
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    assert notebook["name"] == "Untitled"


async def test_two_notebooks_of_the_same_name_get_two_ids_and_two_files(
    api: Api, jp_root_dir: Path
) -> None:
    first = await new_notebook(api, "Twin")
    second = await new_notebook(api, "Twin")
    assert first != second
    assert notebook_file(jp_root_dir, first) != notebook_file(jp_root_dir, second)


class TestWithoutTheWelcomeNotebook:
    """(A new user's first listing holds their welcome notebook: test_welcome.py.)"""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        reactive = {**jp_server_config["ReactiveNotebook"], "welcome_notebook": False}
        return {**jp_server_config, "ReactiveNotebook": reactive}

    async def test_the_list_holds_the_id_and_name_of_every_notebook(self, api: Api) -> None:
        assert conforms(await api("GET", "notebooks")) == {"notebooks": []}
        beta = await new_notebook(api, "beta")
        alpha = await new_notebook(api, "alpha")
        listed = conforms(await api("GET", "notebooks"))["notebooks"]
        assert sorted((n["id"], n["name"]) for n in listed) == sorted(
            [(alpha, "alpha"), (beta, "beta")]
        )


async def test_a_notebook_is_found_by_its_file_path_and_a_copy_by_its_own_id(
    api: Api, jp_root_dir: Path
) -> None:
    original = await new_notebook(api, "Original")
    await api("POST", "notebooks", original, "cells", body={"type": "python", "code": "a = 1"})
    path = notebook_file(jp_root_dir, original).relative_to(jp_root_dir).as_posix()
    found = conforms(await api("GET", "notebooks", params={"path": path}))["notebooks"]
    assert found == [{"id": original, "name": "Original", "path": path}]

    # A copy made in the file browser holds the original's id in its metadata.
    await stored(api, jp_root_dir, original)  # the cell has reached the file
    (jp_root_dir / "sub").mkdir()
    (jp_root_dir / "sub" / "Copy.ipynb").write_bytes((jp_root_dir / path).read_bytes())
    (copied,) = conforms(await api("GET", "notebooks", params={"path": "/sub/Copy.ipynb"}))[
        "notebooks"
    ]
    assert copied["id"] != original
    assert copied["path"] == "sub/Copy.ipynb"
    copy = conforms(await api("GET", "notebooks", copied["id"]))
    assert [c["code"] for c in copy["cells"]] == ["a = 1"]
    await api(
        "PUT", "notebooks", copied["id"], "cells", copy["cells"][0]["id"], body={"code": "a = 2"}
    )
    kept = conforms(await api("GET", "notebooks", original))
    assert [c["code"] for c in kept["cells"]] == ["a = 1"]  # the original is another notebook
    again = conforms(await api("GET", "notebooks", params={"path": path}))["notebooks"]
    assert [n["id"] for n in again] == [original]


@pytest.mark.parametrize(
    "path", ["missing.ipynb", "notes.txt", "", "../outside.ipynb", "sub/../x.ipynb", "/"]
)
async def test_a_path_without_a_notebook_finds_none(api: Api, jp_root_dir: Path, path: str) -> None:
    (jp_root_dir / "notes.txt").write_text("not a notebook")
    answer = conforms(await api("GET", "notebooks", params={"path": path}))
    assert answer == {"notebooks": []}


async def test_an_overlong_path_is_refused_naming_the_field(api: Api) -> None:
    response = await api("GET", "notebooks", params={"path": "a/" * 3000})
    assert response.code == 400
    assert conforms(response)["field"] == "path"
    assert "too long" in conforms(response)["message"]


async def test_a_notebook_reads_back_with_its_cells_in_order(api: Api) -> None:
    notebook_id = await new_notebook(api, "read me", ("a = 1", "b = a * 2"))
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    assert notebook["id"] == notebook_id
    assert notebook["name"] == "read me"
    assert notebook["db_conn_string"] == ""
    assert notebook["revision"] == 3  # created, then two cells
    assert cells_of(notebook) == [("a = 1", "idle"), ("b = a * 2", "idle")]
    first, second = notebook["cells"]
    assert (first["writes"], first["reads"]) == (["a"], [])
    assert (second["writes"], second["reads"]) == (["b"], ["a"])
    assert first["type"] == "python"
    assert "output" not in first  # only SQL cells have a result variable


# -- rename, database connection -------------------------------------------------------


async def test_renaming_keeps_the_id_and_renames_the_file(api: Api, jp_root_dir: Path) -> None:
    notebook_id = await new_notebook(api, "draft")
    response = await api("PUT", "notebooks", notebook_id, "name", body={"name": "final"})
    assert response.code == 200
    # The file's new path comes back, for a client that has the file open (JupyterLab).
    assert conforms(response) == {"name": "final", "revision": 2, "path": "final.ipynb"}
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    assert (notebook["id"], notebook["name"], notebook["revision"]) == (notebook_id, "final", 2)
    listed = conforms(await api("GET", "notebooks"))["notebooks"]
    assert listed == [{"id": notebook_id, "name": "final"}]
    path = notebook_file(jp_root_dir, notebook_id)
    assert path.name == "final.ipynb"
    assert not (jp_root_dir / "draft.ipynb").exists()


async def test_a_name_is_trimmed(api: Api) -> None:
    notebook_id = await new_notebook(api, "draft")
    response = await api("PUT", "notebooks", notebook_id, "name", body={"name": "  spaced  "})
    assert conforms(response)["name"] == "spaced"


async def test_a_database_connection_comes_back_with_its_password_masked(api: Api) -> None:
    notebook_id = await new_notebook(api, "db")
    secret = "postgresql://ana:s3cr3t-pw@db.example:5432/sales"
    response = await api("PUT", "notebooks", notebook_id, "db", body={"connection_string": secret})
    assert response.code == 200
    answer = conforms(response)
    assert answer == {
        "db_conn_string": "postgresql://ana:********@db.example:5432/sales",
        "revision": 2,
    }
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    assert notebook["db_conn_string"] == answer["db_conn_string"]
    assert "s3cr3t" not in json.dumps(notebook)


async def test_sending_back_the_masked_connection_keeps_the_real_one(
    api: Api, jp_root_dir: Path
) -> None:
    notebook_id = await new_notebook(api, "db")
    secret = "postgresql://ana:s3cr3t-pw@db.example/sales"
    await api("PUT", "notebooks", notebook_id, "db", body={"connection_string": secret})
    before = await stored(api, jp_root_dir, notebook_id)
    masked = before.notebook["db_conn_string"]
    response = await api("PUT", "notebooks", notebook_id, "db", body={"connection_string": masked})
    assert conforms(response) == {"db_conn_string": masked, "revision": before.notebook["revision"]}
    after = await stored(api, jp_root_dir, notebook_id)
    assert after.file == before.file  # the real password is still the one stored


async def test_a_database_connection_may_be_cleared(api: Api) -> None:
    notebook_id = await new_notebook(api, "db")
    await api("PUT", "notebooks", notebook_id, "db", body={"connection_string": "sqlite://"})
    response = await api("PUT", "notebooks", notebook_id, "db", body={"connection_string": ""})
    assert conforms(response)["db_conn_string"] == ""


# -- delete ----------------------------------------------------------------------------


async def test_deleting_a_notebook_answers_204_and_removes_it_and_its_file(
    api: Api, jp_root_dir: Path
) -> None:
    kept = await new_notebook(api, "kept")
    doomed = await new_notebook(api, "doomed", ("x = 1",))
    path = notebook_file(jp_root_dir, doomed)
    await api("POST", "notebooks", doomed, "run", body={"wait": True})  # it has a kernel
    response = await api("DELETE", "notebooks", doomed)
    assert response.code == 204
    assert conforms(response) is None
    assert not path.exists()
    gone = await api("GET", "notebooks", doomed)
    assert gone.code == 404
    assert "not found" in conforms(gone)["message"]
    assert conforms(await api("GET", "notebooks"))["notebooks"] == [{"id": kept, "name": "kept"}]
    again = await api("DELETE", "notebooks", doomed)
    assert again.code == 404
    conforms(again)


# -- run all, interrupt ----------------------------------------------------------------


async def test_run_all_with_wait_answers_200_with_the_notebook_after_the_run(api: Api) -> None:
    notebook_id = await new_notebook(api, "run", ("x = 20", "y = x + 1", "print(y * 2)"))
    response = await api("POST", "notebooks", notebook_id, "run", body={"wait": True})
    assert response.code == 200
    notebook = conforms(response)
    assert [c["status"] for c in notebook["cells"]] == ["success"] * 3
    assert notebook["cells"][2]["stdout"] == "42\n"
    assert not any(c["stale"] for c in notebook["cells"])


async def test_a_run_of_a_selection_runs_those_cells_and_their_dependents_only(api: Api) -> None:
    """``cell_ids``: the cells a client selected, in one request (JupyterLab's Run All or
    Run Selected ask for many cells at once)."""
    notebook_id = await new_notebook(
        api, "selection", ("a = 1", "b = a + 1", "c = 100", "d = c + 1", "e = 7")
    )
    cells = [c["id"] for c in conforms(await api("GET", "notebooks", notebook_id))["cells"]]
    response = await api(
        "POST",
        "notebooks",
        notebook_id,
        "run",
        body={"wait": True, "cell_ids": [cells[0], cells[4]]},
    )
    assert response.code == 200
    statuses = [c["status"] for c in conforms(response)["cells"]]
    assert statuses == ["success", "success", "idle", "idle", "success"]


async def test_a_run_of_a_selection_refuses_unknown_and_non_running_cells(api: Api) -> None:
    notebook_id = await new_notebook(api, "selection", ("a = 1",))
    (cell,) = [c["id"] for c in conforms(await api("GET", "notebooks", notebook_id))["cells"]]
    unknown = await api("POST", "notebooks", notebook_id, "run", body={"cell_ids": [cell, "nope"]})
    assert unknown.code == 404
    assert "nope" in conforms(unknown)["message"]
    wrong = await api("POST", "notebooks", notebook_id, "run", body={"cell_ids": "a"})
    assert wrong.code == 400
    assert conforms(wrong)["field"] == "cell_ids"
    after = conforms(await api("GET", "notebooks", notebook_id))
    assert [c["status"] for c in after["cells"]] == ["idle"]  # nothing ran


@pytest.mark.parametrize("body", [None, {}, {"wait": False}], ids=["no body", "{}", "wait false"])
async def test_run_all_without_wait_answers_202_queued_and_the_run_goes_on(
    api: Api, body: Any
) -> None:
    notebook_id = await new_notebook(api, "run", ("x = 1", "y = x + 1"))
    response = await api("POST", "notebooks", notebook_id, "run", body=body)
    assert response.code == 202
    assert conforms(response) == {"status": "queued"}
    await notebook_when(
        api, notebook_id, lambda nb: all(c["status"] == "success" for c in nb["cells"])
    )


async def test_interrupt_stops_the_running_cell_and_answers_200(api: Api) -> None:
    notebook_id = await new_notebook(api, "slow", ("import time; time.sleep(60)", "after = 1"))
    assert (await api("POST", "notebooks", notebook_id, "run")).code == 202
    await notebook_when(api, notebook_id, lambda nb: nb["cells"][0]["status"] == "running")
    response = await api("POST", "notebooks", notebook_id, "interrupt")
    assert response.code == 200
    assert conforms(response) == {"status": "interrupted"}
    notebook = await notebook_when(
        api, notebook_id, lambda nb: nb["cells"][0]["status"] not in ("queued", "running"), 20
    )
    assert notebook["cells"][0]["status"] == "error"
    assert "interrupt" in notebook["cells"][0]["error"].lower()
    assert notebook["cells"][1]["status"] != "success"  # the rest of the run was cancelled


async def test_interrupt_with_nothing_running_answers_200(api: Api) -> None:
    notebook_id = await new_notebook(api, "idle", ("x = 1",))
    response = await api("POST", "notebooks", notebook_id, "interrupt")
    assert response.code == 200
    assert conforms(response) == {"status": "interrupted"}


# -- what reaches the disk -------------------------------------------------------------


async def test_every_change_reaches_the_ipynb_file(api: Api, jp_root_dir: Path) -> None:
    notebook_id = await new_notebook(api, "saved", ("x = 6", "x * 7"))
    await api("PUT", "notebooks", notebook_id, "db", body={"connection_string": "sqlite://"})
    await api("POST", "notebooks", notebook_id, "run", body={"wait": True})
    saved = await stored(api, jp_root_dir, notebook_id)
    document = json.loads(saved.file)
    assert document["nbformat"] == 4
    sources = ["".join(c["source"]) for c in document["cells"]]  # a string or its lines
    assert sources == ["x = 6", "x * 7"]
    assert [c["id"] for c in document["cells"]] == [c["id"] for c in saved.notebook["cells"]]
    ours = document["metadata"]["reactive_notebook"]
    assert (ours["id"], ours["name"]) == (notebook_id, "saved")
    assert ours["revision"] == saved.notebook["revision"]
    result = document["cells"][1]["outputs"][0]
    assert result["output_type"] == "execute_result"
    assert "".join(result["data"]["text/plain"]) == "42"
