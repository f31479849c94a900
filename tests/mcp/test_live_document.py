"""MCP edits are Y transactions like every other change: a JupyterLab tab (a Y client in
the notebook's collaboration room) sees them live, and a person's concurrent edit of the
same cell wins: the agent's ``update_cell`` with the code it last saw is a conflict."""

from __future__ import annotations

from typing import Any

import pytest

from ..handlers.conftest import rooms_config
from ..rooms import conftest as rooms
from .conftest import Connect
from .test_tools import answer_of, call

#: A Y client in the notebook's room (a JupyterLab tab), from the rooms' tests.
open_tab = rooms.open_tab


@pytest.fixture
def jp_server_config(jp_root_dir: Any, monkeypatch: Any) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": dict(rooms.ROOMS_EXTENSIONS),
            "contents_manager_class": (
                "reactive_notebook.contents.atomic.AtomicFileContentsManager"
            ),
            "allow_unauthenticated_access": False,
        },
        "ReactiveNotebook": {"save_delay": 0.05},
        **rooms_config(jp_root_dir, monkeypatch),
    }


async def test_a_tab_sees_mcp_edits_live_and_a_persons_edit_wins(
    connect: Connect, open_tab: Any, jp_serverapp: Any
) -> None:
    hub = jp_serverapp.web_app.settings["reactive_notebook_service"].hub
    async with connect() as client:
        made = await call(client, "create_notebook", name="shared")
        notebook = made["notebook_id"]
        cell = (await call(client, "create_cell", notebook_id=notebook, code="a = 1"))["cell_id"]
        tab = await open_tab(made["path"])
        await tab.wait_for(lambda: tab.sources() == ["a = 1"], "the agent's cell")
        since = hub.last_seq(notebook)

        await call(
            client,
            "update_cell",
            notebook_id=notebook,
            cell_id=cell,
            code="a = 2",
            expected_code="a = 1",
        )
        await tab.wait_for(lambda: tab.sources() == ["a = 2"], "the agent's edit")
        added = await call(client, "create_cell", notebook_id=notebook, code="b = a")
        await tab.wait_for(lambda: tab.ids() == [cell, added["cell_id"]], "the agent's new cell")
        # The events say who: an agent over MCP, for this Jupyter user.
        (edit,) = [e for e in hub.since(notebook, since) if e.type == "cell_updated"]
        actor = edit.data["actor"]
        assert (actor["kind"], actor["via"]) == ("assistant", "mcp")
        assert actor["client"] == "mcp"  # the SDK client's name
        assert actor["request_id"]

        # A person edits the cell in the tab; the agent, still with the old code, loses.
        tab.replace_source(cell, "a = 3")

        async def the_server_has_it() -> bool:
            seen = await call(client, "get_notebook", notebook_id=notebook)
            return bool(seen["cells"][0]["code"] == "a = 3")

        await rooms.eventually(the_server_has_it, "the person's edit on the server")
        lost = await client.call_tool(
            "update_cell",
            {"notebook_id": notebook, "cell_id": cell, "code": "a = 4", "expected_code": "a = 2"},
        )
        assert lost.is_error
        answer = answer_of(lost)
        assert (answer["conflict"], answer["current_code"]) == (True, "a = 3")
        assert "conflict" in answer["error"]
        assert tab.sources()[0] == "a = 3"
        assert (await call(client, "get_notebook", notebook_id=notebook))["cells"][0][
            "code"
        ] == "a = 3"
