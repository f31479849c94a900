"""The welcome notebook (issue 18): made once for each new user on their first visit,
never over a file of theirs, never again once deleted; it runs whole in a real kernel
and shows a DataFrame, a matplotlib figure, a Plotly and an Altair chart that re-run
when the parameter changes."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp

from reactive_notebook.models import CellType
from reactive_notebook.notebooks.welcome import WelcomeNotebooks
from reactive_notebook.notebooks.welcome_content import CELLS, DEFAULT_NAME

from .conftest import Api, payload, write_notebook
from .contract import conforms, notebook_file, stored
from .test_auth import USER_HEADER, with_users

FILE_NAME = f"{DEFAULT_NAME}.ipynb"


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return on(jp_server_config)


def on(config: dict[str, Any], **traits: Any) -> dict[str, Any]:
    reactive = {**config["ReactiveNotebook"], "welcome_notebook": True, **traits}
    return {**config, "ReactiveNotebook": reactive}


def notebook_files(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )


async def listing(api: Api, **headers: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = conforms(await api("GET", "notebooks", headers=headers))[
        "notebooks"
    ]
    return found


async def welcome(api: Api, **headers: str) -> dict[str, Any]:
    answer: dict[str, Any] = conforms(await api("POST", "welcome", headers=headers))
    return answer


def extension(serverapp: ServerApp) -> Any:
    return serverapp.extension_manager.extension_points["reactive_notebook"].app


async def test_a_new_users_first_listing_shows_the_welcome_notebook(
    api: Api, jp_root_dir: Path
) -> None:
    (listed,) = await listing(api)
    assert listed["name"] == DEFAULT_NAME
    assert notebook_files(jp_root_dir) == [FILE_NAME]
    assert await listing(api) == [listed]  # made once
    assert await welcome(api) == {
        "outcome": "created",
        "created": True,
        "made_now": False,  # the listing made it
        "notebook_id": listed["id"],
        "path": FILE_NAME,
    }
    notebook = conforms(await api("GET", "notebooks", listed["id"]))
    cells = notebook["cells"]
    assert [(c["type"], c["code"]) for c in cells] == [(str(k), code) for k, code in CELLS]
    assert all(c["status"] == "idle" and not c["outputs"] for c in cells)  # nothing ran
    # The tour's graph: the parameters -> the data -> three charts.
    python = [c for c in cells if c["type"] == CellType.PYTHON]
    parameters, data, *charts = python
    assert set(parameters["writes"]) == {"n", "seed"}
    assert {"n", "seed"} <= set(data["reads"])
    assert "sales" in data["writes"]
    assert len(charts) == 3
    assert all("sales" in chart["reads"] for chart in charts)


async def test_jupyterlabs_first_call_is_told_it_made_it_and_later_ones_are_not(
    api: Api, jp_root_dir: Path
) -> None:
    first = await welcome(api)
    assert first["made_now"]
    assert first["path"] == FILE_NAME
    assert await welcome(api) == {**first, "made_now": False}
    assert [n["id"] for n in await listing(api)] == [first["notebook_id"]]
    assert notebook_files(jp_root_dir) == [FILE_NAME]


async def test_it_runs_whole_and_its_dependents_rerun_when_a_parameter_changes(
    api: Api, jp_root_dir: Path
) -> None:
    (listed,) = await listing(api)
    notebook_id = listed["id"]
    started = time.perf_counter()
    ran = conforms(await api("POST", "notebooks", notebook_id, "run", body={"wait": True}))
    first_run = time.perf_counter() - started
    python = [c for c in ran["cells"] if c["type"] == "python"]
    assert [c["status"] for c in python] == ["success"] * 5, [c["error"] for c in python]
    assert all(not c["stderr"] for c in python), [c["stderr"] for c in python]

    # What a JupyterLab tab renders: the bundles saved in the file.
    await stored(api, jp_root_dir, notebook_id)
    saved = json.loads(notebook_file(jp_root_dir, notebook_id).read_text())
    bundles = {
        cell["id"]: [o["data"] for o in cell["outputs"] if "data" in o]
        for cell in saved["cells"]
        if cell["cell_type"] == "code"
    }
    _, data, matplotlib, plotly, altair = (bundles[c["id"]] for c in python)
    assert any("<table" in "".join(b.get("text/html", "")) for b in data), data  # lines
    assert any(b.get("image/png") for b in matplotlib), matplotlib
    (figure,) = [b["application/vnd.plotly.v1+json"] for b in plotly]
    assert {trace["name"] for trace in figure["data"]} == {"Harbour", "Station", "Campus"}
    specs = [b[m] for b in altair for m in b if m.startswith("application/vnd.vegalite.")]
    assert specs
    assert specs[0]["mark"]["type"] == "boxplot"

    # The table counts n days per shop; n = 30 re-runs the data and every chart.
    def counts(cell: dict[str, Any]) -> list[Any]:
        (table,) = [o["data"] for o in cell["outputs"] if o["mime_type"] == "application/json"]
        column = table["columns"].index("count")
        return [row[column] for row in table["rows"]]

    assert counts(python[1]) == [200, 200, 200]
    parameters = python[0]["id"]
    changed = await api(
        "PUT", "notebooks", notebook_id, "cells", parameters, body={"code": "n = 30\nseed = 2"}
    )
    assert changed.code == 200, changed.body
    started = time.perf_counter()
    again = conforms(
        await api("POST", "notebooks", notebook_id, "cells", parameters, "run", body={"wait": True})
    )
    rerun = time.perf_counter() - started
    after = [c for c in again["cells"] if c["type"] == "python"]
    assert [c["status"] for c in after] == ["success"] * 5
    assert all(
        new["execution_count"] > old["execution_count"]
        for old, new in zip(python, after, strict=True)
    )
    assert counts(after[1]) == [30, 30, 30]
    (old_figure,) = [o["data"] for o in python[3]["outputs"]]
    (new_figure,) = [o["data"] for o in after[3]["outputs"]]
    assert new_figure != old_figure  # the weekly sums of other data
    print(f"welcome notebook: first run {first_run:.2f} s (kernel start included), "
          f"re-run after the parameter changed {rerun:.2f} s")  # fmt: skip


async def test_a_deleted_welcome_notebook_does_not_come_back(
    api: Api, jp_root_dir: Path, jp_serverapp: ServerApp, jp_data_dir: Path
) -> None:
    (listed,) = await listing(api)
    assert (await api("DELETE", "notebooks", listed["id"])).code == 204
    assert await listing(api) == []
    assert (await welcome(api))["outcome"] == "created"  # what the first visit did
    assert notebook_files(jp_root_dir) == []
    # A server started afresh reads the record on disk (here: one more instance).
    app = extension(jp_serverapp)
    state = jp_data_dir / "reactive_notebook" / "welcome"
    (marker,) = state.iterdir()
    assert "anonymous" not in marker.name
    assert json.loads(marker.read_text())["outcome"] == "created"
    again = await WelcomeNotebooks(app.service, app.store, str(state)).ensure("")
    assert again.outcome == "created"
    assert again.notebook_id == listed["id"]
    assert notebook_files(jp_root_dir) == []
    assert await listing(api) == []


async def test_a_marker_that_cannot_be_read_still_counts_as_decided(
    api: Api, jp_root_dir: Path, jp_serverapp: ServerApp
) -> None:
    marker = Path(extension(jp_serverapp).context.welcome.marker_path(""))
    marker.parent.mkdir(parents=True)
    marker.write_text("{not json")
    assert await listing(api) == []
    assert (await welcome(api))["outcome"] == "unreadable_marker"
    assert notebook_files(jp_root_dir) == []
    assert marker.read_text() == "{not json"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(None, id="their-notebook"),
        pytest.param(b'{"not a notebook', id="a-file-that-is-no-notebook"),
    ],
)
async def test_a_file_of_its_name_is_left_byte_identical(
    api: Api, jp_root_dir: Path, content: bytes | None
) -> None:
    theirs = jp_root_dir / FILE_NAME
    if content is None:
        write_notebook(theirs, "mine = 1")
    else:
        theirs.write_bytes(content)
    before = theirs.read_bytes()
    listed = await listing(api)
    assert [n["name"] for n in listed] == ([] if content else [DEFAULT_NAME])
    assert theirs.read_bytes() == before
    assert notebook_files(jp_root_dir) == [FILE_NAME]  # no "-1" copy beside it
    outcome = (await welcome(api))["outcome"]
    assert outcome == ("name_taken" if content else "has_notebooks")


async def test_a_user_who_has_notebooks_gets_none(api: Api, jp_root_dir: Path) -> None:
    created = conforms(await api("POST", "notebooks", body={"name": "Mine"}))
    assert [n["id"] for n in await listing(api)] == [created["notebook_id"]]
    assert await welcome(api) == {"outcome": "has_notebooks", "created": False, "made_now": False}
    assert notebook_files(jp_root_dir) == ["Mine.ipynb"]


class TestPerUser:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        return with_users(jp_server_config, per_user=True)

    async def test_concurrent_first_visits_make_one_each_in_their_own_folder(
        self, api: Api, jp_root_dir: Path
    ) -> None:
        alice = {USER_HEADER: "alice"}
        bob = {USER_HEADER: "bob"}
        answers = await asyncio.gather(
            *(listing(api, **alice) for _ in range(4)),
            welcome(api, **alice),
            welcome(api, **alice),
            listing(api, **bob),
        )
        *alices, first, second, bobs = answers
        (mine,) = alices[0]
        assert all(seen == [mine] for seen in alices)
        assert {**first, "made_now": False} == {**second, "made_now": False}
        assert first["notebook_id"] == mine["id"]
        assert first["created"]
        assert not (first["made_now"] and second["made_now"])
        assert first["path"] == f"alice/{FILE_NAME}"
        assert [n["name"] for n in bobs] == [DEFAULT_NAME]
        assert bobs[0]["id"] != mine["id"]
        assert notebook_files(jp_root_dir) == [f"alice/{FILE_NAME}", f"bob/{FILE_NAME}"]


class TestOff:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        return on(jp_server_config, welcome_notebook=False)

    async def test_nothing_is_made(self, api: Api, jp_root_dir: Path, jp_data_dir: Path) -> None:
        assert await listing(api) == []
        assert await welcome(api) == {"outcome": "off", "created": False, "made_now": False}
        assert notebook_files(jp_root_dir) == []
        assert not (jp_data_dir / "reactive_notebook" / "welcome").exists()


class TestNamed:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        return on(jp_server_config, welcome_notebook_name="Start here")

    async def test_its_name_is_the_configured_one(self, api: Api, jp_root_dir: Path) -> None:
        assert [n["name"] for n in await listing(api)] == ["Start here"]
        assert notebook_files(jp_root_dir) == ["Start here.ipynb"]
        assert payload(await api("POST", "welcome"))["path"] == "Start here.ipynb"
