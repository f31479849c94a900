"""Two agents of two users at once, each on its own notebook: no cross-talk. Each sees
its own notebook only, and a run handle one gets is not the other's to wait for."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest

from .conftest import Connect, with_users
from .test_tools import answer_of, call


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return with_users(jp_server_config)


async def agent(connect: Connect, user: str, mode: str, value: int) -> dict[str, Any]:
    """An agent's session: a notebook of its own, a run that outlasts its timeout, the
    wait for it; what it saw along the way."""
    async with connect(user=user, mode=mode) as client:
        notebook = (await call(client, "create_notebook", name=f"{user}-work"))["notebook_id"]
        first = await call(
            client, "create_cell", notebook_id=notebook, code=f"import time\nv = {value}"
        )
        await call(client, "run_cell", notebook_id=notebook, cell_id=first["cell_id"])
        slow = await call(
            client, "create_cell", notebook_id=notebook, code="time.sleep(1)\nw = v * 2"
        )
        handle = await call(
            client, "run_cell", notebook_id=notebook, cell_id=slow["cell_id"], timeout=0.2
        )
        listed = await call(client, "list_notebooks")
        done = await call(
            client, "wait_for_run", notebook_id=notebook, run_id=handle["run_id"], timeout=30
        )
        variables = await call(client, "list_variables", notebook_id=notebook)
        return {
            "notebook": notebook,
            "slow": slow["cell_id"],
            "handle": handle,
            "listed": listed["notebooks"],
            "done": done,
            "variables": {v["name"]: v["repr"] for v in variables["variables"]},
        }


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_two_users_agents_at_once_see_only_their_own(connect: Connect, mode: str) -> None:
    alice, bob = await asyncio.gather(
        agent(connect, "alice", mode, 1), agent(connect, "bob", mode, 100)
    )
    for seen, user, value in ((alice, "alice", 1), (bob, "bob", 100)):
        assert [n["name"] for n in seen["listed"]] == [f"{user}-work"]
        assert seen["handle"]["status"] == "running"
        assert seen["done"]["status"] == "done"
        assert (seen["variables"]["v"], seen["variables"]["w"]) == (str(value), str(value * 2))
    # Each caller counts their own runs, so both got the same run id; neither can
    # wait for the other's run, even knowing its notebook's id and its run id.
    assert alice["handle"]["run_id"] == bob["handle"]["run_id"]
    async with connect(user="alice", mode=mode) as client:
        slow = (await call(client, "get_notebook", notebook_id=alice["notebook"]))["cells"][1]
        going = await call(
            client, "run_cell", notebook_id=alice["notebook"], cell_id=slow["id"], timeout=0
        )
        assert going["status"] == "running"
        async with connect(user="bob", mode=mode) as other:
            theirs = {"notebook_id": alice["notebook"], "run_id": going["run_id"]}
            result = await other.call_tool("wait_for_run", theirs)
            assert result.is_error
            assert "no run" in answer_of(result)["error"]
            # Nor for it through a run of theirs with the same id.
            mine = await call(
                other, "run_cell", notebook_id=bob["notebook"], cell_id=bob["slow"], timeout=0
            )
            assert mine["run_id"] == going["run_id"]
            result = await other.call_tool("wait_for_run", theirs)
            assert result.is_error
            await call(other, "wait_for_run", notebook_id=bob["notebook"], run_id=mine["run_id"])
        done = await call(client, "wait_for_run", timeout=30, **theirs)
        assert [c["id"] for c in done["cells"]] == [slow["id"]]


async def test_a_legacy_session_is_its_users_only(
    connect: Connect, mcp_url: str, jp_auth_header: dict[str, str]
) -> None:
    """Bob, holding Alice's session id, is answered as if it did not exist."""
    sent: list[httpx2.Request] = []
    async with connect(user="alice", mode="legacy", record=sent) as client:
        await call(client, "create_notebook", name="alices")
        (listing,) = [r for r in sent if b'"tools/call"' in r.content]
        session = listing.headers["mcp-session-id"]
        headers = {k: v for k, v in listing.headers.items() if k.lower() != "content-length"}
        async with httpx2.AsyncClient(timeout=30) as http:
            stolen = await http.post(
                mcp_url, content=listing.content, headers={**headers, "X-Test-User": "bob"}
            )
            assert stolen.status_code == 404
            hers = await http.post(mcp_url, content=listing.content, headers=headers)
            assert hers.status_code == 200
        assert session
