"""A run that carries the code the tab's editor shows runs that code (issue 15).

A JupyterLab tab sends its keystrokes over the room's WebSocket and its Shift+Enter over
HTTP (``POST .../cells/{id}/run`` with ``code``): the run may arrive first. The server
waits for the code to reach the live document, bounded by
``ReactiveNotebook.run_code_timeout``, then runs it; when it never arrives, nothing runs
and the answer is a 409 a person understands. Here a Y tab's edits are held back (a slow
WebSocket) while the run is sent, so the run really does arrive first.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from ..handlers.conftest import API, payload
from ..handlers.wsclient import WsClient, events
from .conftest import Api, make_notebook

#: The bound in these tests: long enough for a held edit, short enough for a quick 409.
WAIT = 3.0


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    jp_server_config["ReactiveNotebook"]["run_code_timeout"] = WAIT
    return jp_server_config


async def run_with_code(jp_fetch: Any, notebook: str, cell: str, code: str) -> Any:
    """``POST .../cells/{cell}/run`` with ``code`` and ``wait``: the response, any status."""
    return await jp_fetch(
        *API,
        "notebooks",
        notebook,
        "cells",
        cell,
        "run",
        method="POST",
        body=json.dumps({"wait": True, "code": code}),
        raise_error=False,
    )


def result_of(cell: dict[str, Any]) -> Any:
    """The ``text/plain`` of a described cell's result (None without one)."""
    shown = [o["data"] for o in cell["outputs"] if o["mime_type"] == "text/plain"]
    return shown[-1] if shown else None


async def test_a_run_that_arrives_before_the_tabs_keystrokes_runs_the_new_code(
    api: Api, open_tab: Any, jp_fetch: Any
) -> None:
    notebook, path, (first, second) = await make_notebook(api, "a = 41", "a * 10")
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.ids() == [first, second], "the cells")

    tab.hold_edits()  # the keystrokes stay in the tab: the run gets there first
    tab.replace_source(first, "a = 42")
    run = asyncio.ensure_future(run_with_code(jp_fetch, notebook, first, "a = 42"))
    await asyncio.sleep(WAIT / 3)
    assert not run.done(), "the run did not wait for the tab's code"
    described = await api("GET", "notebooks", notebook, "cells", first)
    assert described["code"] == "a = 41"  # the server really has not seen the edit yet
    assert described["status"] == "idle"  # and nothing ran meanwhile

    tab.release_edits()
    response = await run
    assert response.code == 200, payload(response)
    cells = {cell["id"]: cell for cell in payload(response)["cells"]}
    assert cells[first]["code"] == "a = 42"
    assert cells[first]["status"] == cells[second]["status"] == "success"
    assert result_of(cells[second]) == "420"  # the dependent ran with the new value
    await tab.wait_for(
        lambda: tab.cell(second)["outputs"][0]["data"]["text/plain"] == "420",
        "the dependent's new result",
    )


async def test_a_run_of_a_cell_the_tab_has_just_added_waits_for_the_cell(
    api: Api, open_tab: Any, jp_fetch: Any
) -> None:
    notebook, path, (first,) = await make_notebook(api, "a = 5")
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.ids() == [first], "the cell")

    tab.hold_edits()
    added = tab.add_cell(1, "")
    tab.type_into(added, "a + 1")
    run = asyncio.ensure_future(run_with_code(jp_fetch, notebook, added, "a + 1"))
    await asyncio.sleep(WAIT / 3)
    assert not run.done()
    tab.release_edits()

    response = await run
    assert response.code == 200, payload(response)
    cells = {cell["id"]: cell for cell in payload(response)["cells"]}
    assert result_of(cells[added]) == "6"


async def test_code_that_never_reaches_the_server_gets_409_and_nothing_runs(
    api: Api, open_tab: Any, jp_fetch: Any
) -> None:
    notebook, path, (first, second) = await make_notebook(api, "a = 1", "a + 1")
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.ids() == [first, second], "the cells")
    tab.hold_edits()  # a tab that lost its connection: its edit never arrives
    tab.replace_source(first, "a = 2")

    started = time.monotonic()
    response = await run_with_code(jp_fetch, notebook, first, "a = 2")
    waited = time.monotonic() - started

    assert response.code == 409
    answer = payload(response)
    assert answer["field"] == "code"
    assert "has not reached the server yet" in answer["message"]
    assert "nothing ran" in answer["message"]
    assert WAIT <= waited < WAIT + 5  # bounded by the configured wait
    described = await api("GET", "notebooks", notebook)
    assert [(c["code"], c["status"], c["outputs"]) for c in described["cells"]] == [
        ("a = 1", "idle", []),
        ("a + 1", "idle", []),
    ]
    sessions = json.loads((await jp_fetch("api", "sessions")).body)
    assert [s for s in sessions if s["path"] == path] == []  # no kernel was even started
    # The run left nothing behind: a later edit and run behave as usual.
    tab.release_edits()
    response = await run_with_code(jp_fetch, notebook, first, "a = 2")
    assert response.code == 200
    cells = {cell["id"]: cell for cell in payload(response)["cells"]}
    assert result_of(cells[second]) == "3"


async def test_the_websocket_run_cell_and_run_all_wait_for_their_code_too(
    api: Api, open_tab: Any, jp_ws_fetch: Any
) -> None:
    notebook, path, (first, second) = await make_notebook(api, "a = 1", "a * 100")
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.ids() == [first, second], "the cells")
    client = await WsClient.connect(jp_ws_fetch, notebook)
    async with client:
        assert (await client.next())["type"] == "snapshot"

        tab.hold_edits()
        tab.replace_source(first, "a = 3")
        # Sent and not awaited: its answer comes once the run has its code.
        client.send({"type": "run_cell", "cell_id": first, "code": "a = 3"})
        await asyncio.sleep(WAIT / 3)
        tab.release_edits()
        run = await client.run_done()
        results = [m["output"]["data"] for m in events(run, "cell_output")]
        assert results == ["300"]

        tab.hold_edits()
        tab.replace_source(second, "a * 1000")
        codes = {first: "a = 3", second: "a * 1000"}
        client.send({"type": "run_all", "codes": codes})
        await asyncio.sleep(WAIT / 3)
        tab.release_edits()
        run = await client.run_done()
        results = [m["output"]["data"] for m in events(run, "cell_output")]
        assert results == ["3000"]

        # A code that never arrives: an error naming the field, and no run.
        said = await client.exchange({"type": "run_cell", "cell_id": first, "code": "a = 4"})
        answer = said[-1]
        assert answer["type"] == "error"
        assert answer["field"] == "code"
        assert "has not reached the server yet" in answer["message"]
        assert events(said, "cell_status") == []
