"""The extension inside a real Jupyter server: JupyterLab's own APIs see what it does.

Notebooks made through our API open through the contents API; their kernels are the
server's (listed, culled, shut down with the notebook, started in the notebook's folder
without the server's secrets); runs count as server activity.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import json
import os
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest

from reactive_notebook.app import ACTIVITY_SETTING
from reactive_notebook.contents.atomic import AtomicFileContentsManager

from .conftest import Api, payload

#: Notebooks go to a sub-folder of the root, so "the notebook's folder" is not the root.
FOLDER = "projects"
CULLING = {"MappingKernelManager": {"cull_idle_timeout": 2, "cull_interval": 1}}
#: No contents manager in the server's configuration (``None`` drops a setting).
NO_CONTENTS_MANAGER = {"ServerApp": {"contents_manager_class": None}}
PLAIN_FILES = "jupyter_server.services.contents.filemanager.AsyncFileContentsManager"


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], request: pytest.FixtureRequest, monkeypatch: Any
) -> dict[str, Any]:
    """The shared server config, with notebooks in ``FOLDER`` and two secrets in the
    server's environment (one of them allowed through to kernels); a test changes it
    more by parametrizing this fixture (indirectly) with settings to merge."""
    monkeypatch.setenv("MY_SERVICE_TOKEN", "server-only-token")
    monkeypatch.setenv("SOME_API_KEY", "allowed-key")
    config = copy.deepcopy(jp_server_config)
    config["ReactiveNotebook"].update(notebooks_dir=FOLDER, kernel_env_allow=["SOME_API_KEY"])
    for section, settings in getattr(request, "param", {}).items():
        for name, value in settings.items():
            if value is None:
                config.get(section, {}).pop(name, None)
            else:
                config.setdefault(section, {})[name] = value
    return config


async def wait_until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.2)


async def notebook_with(api: Api, name: str, *codes: str) -> tuple[str, list[str]]:
    """A new notebook with one Python cell per code; its id and its cells' ids."""
    response = await api("POST", "notebooks", body={"name": name})
    assert response.code == 201, response.body
    notebook_id = payload(response)["notebook_id"]
    cell_ids = []
    for code in codes:
        response = await api(
            "POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": code}
        )
        assert response.code == 201, response.body
        cell_ids.append(payload(response)["cell_id"])
    return notebook_id, cell_ids


async def run_all(api: Api, notebook_id: str) -> list[dict[str, Any]]:
    response = await api("POST", "notebooks", notebook_id, "run", body={"wait": True})
    assert response.code == 200, response.body
    cells: list[dict[str, Any]] = payload(response)["cells"]
    return cells


async def kernels(jp_fetch: Any) -> list[dict[str, Any]]:
    """What JupyterLab's running-kernels panel lists (``GET /api/kernels``)."""
    listed: list[dict[str, Any]] = payload(await jp_fetch("api", "kernels"))
    return listed


def text_result(cell: dict[str, Any]) -> Any:
    """The Python value shown as a cell's ``text/plain`` result."""
    assert cell["status"] == "success", cell
    shown = [o["data"] for o in cell["outputs"] if o["mime_type"] == "text/plain"]
    assert shown, cell
    return ast.literal_eval(shown[-1])


async def test_a_notebook_run_through_the_api_opens_in_jupyterlab(api: Api, jp_fetch: Any) -> None:
    notebook_id, cell_ids = await notebook_with(api, "lab view", "x = 1", "y = x + 1", "y")
    ran = await run_all(api, notebook_id)
    assert [c["status"] for c in ran] == ["success"] * 3

    async def saved_with_outputs() -> dict[str, Any] | None:
        # What JupyterLab asks for when it opens a notebook.
        response = await jp_fetch(
            "api", "contents", FOLDER, "lab view.ipynb", params={"type": "notebook", "content": 1}
        )
        model: dict[str, Any] = payload(response)
        return model if model["content"]["cells"][2]["outputs"] else None

    model = await wait_until(saved_with_outputs, "the run's outputs to be saved")
    assert model["type"] == "notebook"
    node = nbformat.from_dict(model["content"])
    nbformat.validate(node)  # raises on anything stock JupyterLab would not accept
    assert (node.nbformat, node.nbformat_minor) >= (4, 5)
    assert [cell.id for cell in node.cells] == cell_ids
    assert [cell.source for cell in node.cells] == ["x = 1", "y = x + 1", "y"]
    assert all(cell.cell_type == "code" for cell in node.cells)
    assert node.cells[0].outputs == node.cells[1].outputs == []
    (result,) = node.cells[2].outputs
    assert result.output_type == "execute_result"
    assert result.data["text/plain"] == "2"
    assert node.metadata["reactive_notebook"]["id"] == notebook_id


@pytest.mark.parametrize("jp_server_config", [CULLING], indirect=True, ids=["culling"])
async def test_a_culled_kernel_is_replaced_and_the_ancestors_replayed(
    api: Api, jp_fetch: Any
) -> None:
    notebook_id, (_, _, shown) = await notebook_with(api, "culled", "x = 1", "y = x + 1", "y")
    assert text_result((await run_all(api, notebook_id))[2]) == 2
    (first,) = await kernels(jp_fetch)

    async def culled() -> bool:
        return not await kernels(jp_fetch)

    # The server's own culler shuts the idle kernel down (nothing of ours does).
    await wait_until(culled, "the idle culler to shut the notebook's kernel down")

    response = await api(
        "POST", "notebooks", notebook_id, "cells", shown, "run", body={"wait": True}
    )
    assert response.code == 200, response.body
    cells = payload(response)["cells"]
    assert [c["status"] for c in cells] == ["success"] * 3  # x and y replayed first
    assert text_result(cells[2]) == 2
    (second,) = await kernels(jp_fetch)
    assert second["id"] != first["id"]


async def test_a_run_moves_the_servers_last_activity_forward(
    api: Api, jp_fetch: Any, jp_serverapp: Any
) -> None:
    """JupyterHub's idle culler reads ``/api/status``: a run counts as activity, also
    after the request that started it was answered."""
    untracked = {"params": {"no_track_activity": "1"}}

    async def last_activity() -> datetime:
        status = payload(await jp_fetch("api", "status"))
        return datetime.fromisoformat(status["last_activity"].replace("Z", "+00:00"))

    notebook_id, _ = await notebook_with(api, "activity", "import time", "time.sleep(0.5)")
    before = await last_activity()
    response = await api("POST", "notebooks", notebook_id, "run", body={"wait": False})
    assert response.code == 202  # answered at once; the run goes on
    settings = jp_serverapp.web_app.settings
    answered = settings["api_last_activity"]

    async def finished() -> bool:
        cells = payload(await api("GET", "notebooks", notebook_id, **untracked))["cells"]
        return all(c["status"] == "success" for c in cells)

    await wait_until(finished, "the run to finish")
    assert settings["api_last_activity"] == answered  # the polls above did not count
    ours = settings[ACTIVITY_SETTING]
    assert ours > answered > before  # the run's own events, after the answer
    assert await last_activity() >= ours


async def test_the_kernel_is_the_servers_without_its_secrets_in_the_notebooks_folder(
    api: Api, jp_fetch: Any, jp_root_dir: Path
) -> None:
    assert os.environ["MY_SERVICE_TOKEN"] == "server-only-token"  # the server has both
    code = (
        "import os\n"
        "{'token': os.environ.get('MY_SERVICE_TOKEN'),"
        " 'key': os.environ.get('SOME_API_KEY'),"
        " 'cwd': os.getcwd()}"
    )
    notebook_id, _ = await notebook_with(api, "environment", code)
    (cell,) = await run_all(api, notebook_id)
    seen = text_result(cell)
    assert seen["token"] is None  # a secret of the server's environment stays there
    assert seen["key"] == "allowed-key"  # ReactiveNotebook.kernel_env_allow lets it through
    assert Path(seen["cwd"]).resolve() == (jp_root_dir / FOLDER).resolve()

    (kernel,) = await kernels(jp_fetch)  # shown in JupyterLab's running panel
    assert kernel["name"] == "python3"
    assert kernel["execution_state"] in ("idle", "busy")


async def test_deleting_a_notebook_shuts_its_kernel_down(api: Api, jp_fetch: Any) -> None:
    keep_id, _ = await notebook_with(api, "kept", "a = 1")
    gone_id, _ = await notebook_with(api, "deleted", "b = 2")
    await run_all(api, keep_id)
    await run_all(api, gone_id)
    assert len(await kernels(jp_fetch)) == 2

    response = await api("DELETE", "notebooks", gone_id)
    assert response.code == 204
    assert len(await kernels(jp_fetch)) == 1  # the kept notebook's kernel is untouched
    assert (await api("GET", "notebooks", gone_id)).code == 404
    listing = payload(await jp_fetch("api", "contents", FOLDER, params={"content": 1}))
    assert [item["name"] for item in listing["content"]] == ["kept.ipynb"]
    assert json.loads((await api("GET", "notebooks", keep_id)).body)["id"] == keep_id


@pytest.mark.parametrize("jp_server_config", [NO_CONTENTS_MANAGER], indirect=True, ids=["none"])
async def test_the_extension_brings_atomic_saves_to_a_server_configured_without(
    jp_server_config: dict[str, Any], jp_serverapp: Any
) -> None:
    # As after `pip install .` then `jupyter lab`: the server's config names no manager.
    assert "contents_manager_class" not in jp_server_config["ServerApp"]
    assert isinstance(jp_serverapp.contents_manager, AtomicFileContentsManager)


@pytest.mark.parametrize(
    "jp_server_config",
    [{"ServerApp": {"contents_manager_class": PLAIN_FILES}}],
    indirect=True,
    ids=["plain"],
)
async def test_a_contents_manager_chosen_in_the_servers_config_wins(jp_serverapp: Any) -> None:
    assert type(jp_serverapp.contents_manager).__name__ == "AsyncFileContentsManager"
