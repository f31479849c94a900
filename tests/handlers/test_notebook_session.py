"""One kernel per notebook session (issue 14): reactive runs use the kernel of the
notebook's Jupyter session, the one a JupyterLab tab on the same file joins, so the tab's
own execute requests (Shift+Enter, completer, tooltip) act on the reactive kernel; and a
restart or shutdown made from anywhere marks every cell stale and says so.

A "tab" here is what JupyterLab's notebook panel does over HTTP: ``POST /api/sessions``
for the file's path, then the kernel's ``/api/kernels/{id}/channels`` WebSocket."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import posixpath
import signal
import uuid
from typing import Any

import pytest

from .conftest import Api, payload
from .wsclient import TIMEOUT, Message, WsClient, events, kernel_state, statuses


async def notebook(api: Api, *codes: str) -> tuple[str, str, list[str]]:
    """A new notebook of Python cells: its id, its path, its cell ids."""
    created = payload(await api("POST", "notebooks", body={"name": "shared"}))
    notebook_id = created["notebook_id"]
    cells = []
    for code in codes:
        body = {"type": "python", "code": code}
        created_cell = await api("POST", "notebooks", notebook_id, "cells", body=body)
        cells.append(payload(created_cell)["cell_id"])
    return notebook_id, created["path"], cells


async def sessions_at(jp_fetch: Any, path: str) -> list[dict[str, Any]]:
    """The server's Jupyter sessions for ``path`` (what a tab's SessionContext looks for)."""
    listed = json.loads((await jp_fetch("api", "sessions")).body)
    return [s for s in listed if s["path"] == path]


async def the_session(jp_fetch: Any, path: str) -> dict[str, Any]:
    (session,) = await sessions_at(jp_fetch, path)
    return session


async def open_tab_session(jp_fetch: Any, path: str) -> dict[str, Any]:
    """What JupyterLab does when it opens the file and finds no session for it."""
    body = {
        "path": path,
        "name": posixpath.basename(path),
        "type": "notebook",
        "kernel": {"name": "python3"},
    }
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    assert response.code == 201
    created: dict[str, Any] = json.loads(response.body)
    return created


class KernelTab:
    """The kernel WebSocket of a notebook tab (jupyter_server's legacy JSON protocol)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.session = uuid.uuid4().hex

    @classmethod
    async def connect(cls, ws_fetch: Any, kernel_id: str) -> KernelTab:
        return cls(await ws_fetch("api", "kernels", kernel_id, "channels"))

    async def execute(self, code: str) -> str:
        """Run ``code`` as a stock Shift+Enter does; the ``text/plain`` of its result
        (or its error)."""
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "tab",
            "session": self.session,
            "date": "",
            "version": "5.3",
        }
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
        }
        request = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
        self.connection.write_message(json.dumps({**request, "channel": "shell"}))
        result = None
        while True:
            raw = await asyncio.wait_for(self.connection.read_message(), TIMEOUT)
            assert raw is not None, "the kernel WebSocket closed"
            message = json.loads(raw)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, body = message["msg_type"], message["content"]
            if kind == "execute_result":
                result = body["data"]["text/plain"]
            elif kind == "error":
                result = f"{body['ename']}: {body['evalue']}"
            elif kind == "status" and body["execution_state"] == "idle" and result is not None:
                return result

    def close(self) -> None:
        self.connection.close()


def shown(messages: list[Message], cell_id: str) -> list[Any]:
    """The data of the outputs the messages show for ``cell_id``."""
    return [m["output"]["data"] for m in events(messages, "cell_output") if m["cell_id"] == cell_id]


def stale_cells(messages: list[Message]) -> set[str]:
    """The cells these messages last announced as stale."""
    flags: dict[str, bool] = {}
    for message in events(messages, "cell_status"):
        flags[message["cell_id"]] = message["stale"]
    return {cell for cell, stale in flags.items() if stale}


async def test_a_reactive_run_uses_the_kernel_of_the_notebooks_session(
    api: Api, jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    notebook_id, path, _ = await notebook(api, "x = 41", "y = x + 1")
    assert await sessions_at(jp_fetch, path) == []  # no kernel before a run
    ran = await api("POST", "notebooks", notebook_id, "run", body={"wait": True})
    assert [c["status"] for c in payload(ran)["cells"]] == ["success", "success"]

    session = await the_session(jp_fetch, path)
    assert session["type"] == "notebook"
    # A tab joining that session sees what the reactive run defined: one kernel.
    tab = await KernelTab.connect(jp_ws_fetch, session["kernel"]["id"])
    try:
        assert await tab.execute("y") == "42"
    finally:
        tab.close()


async def test_the_session_a_tab_opened_first_is_the_one_reactive_runs_use(
    api: Api, jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    notebook_id, path, (cell,) = await notebook(api, "from_reactive = 'made by a run'")
    opened = await open_tab_session(jp_fetch, path)
    tab = await KernelTab.connect(jp_ws_fetch, opened["kernel"]["id"])
    try:
        assert await tab.execute("from_tab = 7; from_tab") == "7"
        ran = await api("POST", "notebooks", notebook_id, "cells", cell, "run", body={"wait": True})
        assert payload(ran)["cells"][0]["status"] == "success"
        session = await the_session(jp_fetch, path)
        assert session["id"] == opened["id"]
        assert session["kernel"]["id"] == opened["kernel"]["id"]
        assert await tab.execute("from_reactive") == "'made by a run'"
        kernels = json.loads((await jp_fetch("api", "kernels")).body)
        assert [k["id"] for k in kernels] == [opened["kernel"]["id"]]
    finally:
        tab.close()


async def chain(api: Api, jp_ws_fetch: Any) -> tuple[str, str, list[str], WsClient]:
    """A three-cell chain, run once, and a client of its WebSocket."""
    notebook_id, path, cells = await notebook(api, "a = 1", "b = a + 1", "b * 10")
    client = await WsClient.connect(jp_ws_fetch, notebook_id)
    assert (await client.next())["type"] == "snapshot"
    await client.command({"type": "run_all"})
    assert shown(await client.run_done(), cells[2]) == ["20"]
    return notebook_id, path, cells, client


async def test_a_restart_through_the_kernels_api_marks_every_cell_stale_and_the_next_run_replays(
    api: Api, jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    notebook_id, path, (a, b, c), client = await chain(api, jp_ws_fetch)
    async with client:
        kernel_id = (await the_session(jp_fetch, path))["kernel"]["id"]
        restarted = await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="")
        assert restarted.code == 200

        said = await client.until(lambda m: kernel_state(m) == "idle")
        assert [kernel_state(m) for m in said if kernel_state(m)] == ["restarting", "idle"]
        assert stale_cells(said) == {a, b, c}
        cells = payload(await api("GET", "notebooks", notebook_id))["cells"]
        assert [(cell["status"], cell["stale"]) for cell in cells] == [("success", True)] * 3

        # The leaf alone: its ancestors are replayed first (nothing survived the restart).
        await client.command({"type": "run_cell", "cell_id": c})
        run = await client.run_done()
        for cell in (a, b, c):
            assert statuses(run, cell) == ["queued", "running", "success"]
        assert shown(run, c) == ["20"]
        assert stale_cells(client.received) == set()
        assert (await the_session(jp_fetch, path))["kernel"]["id"] == kernel_id  # same one


async def test_a_kernel_process_that_dies_is_restarted_once_and_every_cell_is_stale(
    api: Api, jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    _, path, (a, b, c), client = await chain(api, jp_ws_fetch)
    async with client:
        kernel_id = (await the_session(jp_fetch, path))["kernel"]["id"]
        kernel = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        os.kill(kernel.provisioner.process.pid, signal.SIGKILL)  # out of memory, say

        # The server's restarter brings up a new process (its restart callback and the
        # kernel_actions event both report it): announced once.
        said = await client.until(lambda m: kernel_state(m) == "idle")
        said += await client.quiet(0.5)
        assert [kernel_state(m) for m in said if kernel_state(m)] == ["restarting", "idle"]
        assert stale_cells(said) == {a, b, c}

        await client.command({"type": "run_cell", "cell_id": c})
        run = await client.run_done()
        for cell in (a, b, c):
            assert statuses(run, cell) == ["queued", "running", "success"]
        assert shown(run, c) == ["20"]
        assert (await the_session(jp_fetch, path))["kernel"]["id"] == kernel_id


@pytest.mark.parametrize("through", ["kernels", "sessions"])
async def test_a_kernel_shut_down_from_outside_is_dead_and_the_next_run_starts_a_new_one(
    api: Api, jp_fetch: Any, jp_ws_fetch: Any, through: str
) -> None:
    _, path, (a, b, c), client = await chain(api, jp_ws_fetch)
    async with client:
        session = await the_session(jp_fetch, path)
        if through == "kernels":  # the Running panel's shut-down button
            gone = await jp_fetch("api", "kernels", session["kernel"]["id"], method="DELETE")
        else:  # a tab's "Shut Down Kernel" ends the session
            gone = await jp_fetch("api", "sessions", session["id"], method="DELETE")
        assert gone.code == 204

        said = await client.until(lambda m: kernel_state(m) == "dead")
        assert stale_cells(said) == {a, b, c}
        assert [kernel_state(m) for m in await client.quiet(0.3) if kernel_state(m)] == []

        await client.command({"type": "run_cell", "cell_id": c})
        run = await client.run_done()
        assert [kernel_state(m) for m in run if kernel_state(m)][:1] == ["starting"]
        for cell in (a, b, c):
            assert statuses(run, cell) == ["queued", "running", "success"]
        assert shown(run, c) == ["20"]
        renewed = await the_session(jp_fetch, path)
        assert renewed["kernel"]["id"] != session["kernel"]["id"]


async def test_closing_a_notebook_ends_the_session_it_made_and_leaves_a_tabs(
    api: Api, jp_fetch: Any, jp_serverapp: Any
) -> None:
    service = jp_serverapp.web_app.settings["reactive_notebook_service"]
    ours, our_path, (our_cell,) = await notebook(api, "x = 1")
    theirs, their_path, (their_cell,) = await notebook(api, "x = 2")
    tab_session = await open_tab_session(jp_fetch, their_path)
    for notebook_id, cell in ((ours, our_cell), (theirs, their_cell)):
        ran = await api("POST", "notebooks", notebook_id, "cells", cell, "run", body={"wait": True})
        assert ran.code == 200
    assert len(await sessions_at(jp_fetch, our_path)) == 1

    await service.close_notebook(ours)
    await service.close_notebook(theirs)

    assert await sessions_at(jp_fetch, our_path) == []
    left = await the_session(jp_fetch, their_path)
    assert (left["id"], left["kernel"]["id"]) == (tab_session["id"], tab_session["kernel"]["id"])
    kernels = json.loads((await jp_fetch("api", "kernels")).body)
    assert [k["id"] for k in kernels] == [tab_session["kernel"]["id"]]


async def test_renaming_a_notebook_moves_its_session_so_a_tab_on_the_new_path_joins_it(
    api: Api, jp_fetch: Any
) -> None:
    notebook_id, path, (cell,) = await notebook(api, "x = 1")
    ran = await api("POST", "notebooks", notebook_id, "cells", cell, "run", body={"wait": True})
    assert ran.code == 200
    before = await the_session(jp_fetch, path)
    renamed = await api("PUT", "notebooks", notebook_id, "name", body={"name": "Moved"})
    assert renamed.code == 200
    new_path = posixpath.join(posixpath.dirname(path), "Moved.ipynb")
    assert (await jp_fetch("api", "contents", *new_path.split("/"))).code == 200

    assert await sessions_at(jp_fetch, path) == []
    # JupyterLab opening the renamed file finds the session there: one kernel still.
    joined = await open_tab_session(jp_fetch, new_path)
    assert (joined["id"], joined["kernel"]["id"]) == (before["id"], before["kernel"]["id"])
    kernels = json.loads((await jp_fetch("api", "kernels")).body)
    assert [k["id"] for k in kernels] == [before["kernel"]["id"]]


SECRET = {"AWS_SECRET_ACCESS_KEY": "aws-secret-value", "SERVICE_API_KEY": "sk-service"}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], monkeypatch: Any) -> dict[str, Any]:
    for name, value in SECRET.items():
        monkeypatch.setenv(name, value)
    return copy.deepcopy(jp_server_config)


async def test_a_renamed_session_keeps_the_servers_secrets_out_of_the_restarted_kernel(
    api: Api, jp_fetch: Any
) -> None:
    code = f"import os\nsorted(k for k in os.environ if k in {sorted(SECRET)!r})"
    notebook_id, path, (cell,) = await notebook(api, code)

    async def secrets_seen() -> Any:
        ran = await api("POST", "notebooks", notebook_id, "cells", cell, "run", body={"wait": True})
        (output,) = payload(ran)["cells"][0]["outputs"]
        return output["data"]

    assert await secrets_seen() == "[]"
    session = await the_session(jp_fetch, path)
    # JupyterLab renames the session when the file is renamed: the session manager then
    # merges its kernel environment (the server's whole os.environ) into the kernel's.
    renamed = await jp_fetch(
        "api", "sessions", session["id"], method="PATCH", body=json.dumps({"name": "renamed"})
    )
    assert renamed.code == 200
    restarted = await jp_fetch(
        "api", "kernels", session["kernel"]["id"], "restart", method="POST", body=""
    )
    assert restarted.code == 200
    assert await secrets_seen() == "[]"


async def test_the_kernel_of_a_session_a_tab_started_first_has_no_server_secrets(
    api: Api, jp_fetch: Any
) -> None:
    """A tab that opens the notebook first starts its session's kernel; reactive runs use
    that kernel, so it must not get the server's secrets either."""
    code = f"import os\nsorted(k for k in os.environ if k in {sorted(SECRET)!r})"
    notebook_id, path, (cell,) = await notebook(api, code)
    opened = await open_tab_session(jp_fetch, path)
    ran = await api("POST", "notebooks", notebook_id, "cells", cell, "run", body={"wait": True})
    (output,) = payload(ran)["cells"][0]["outputs"]
    assert output["data"] == "[]"
    session = await the_session(jp_fetch, path)
    assert session["kernel"]["id"] == opened["kernel"]["id"]  # the tab's kernel ran it
