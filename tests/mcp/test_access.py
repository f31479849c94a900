"""Who may use the MCP endpoint, and what they see: jupyter_server's own authentication
(the token; a cookie only with the XSRF token), its Host check, an Origin check on every
request, its Authorizer per tool, and the REST API's ownership rule (per-user mode:
another user's notebook does not exist)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp import Client

from ..handlers.conftest import API, payload, write_notebook
from ..handlers.test_auth import ReadOnlyAuthorizer
from .conftest import Connect, with_users
from .test_tools import NOTEBOOK_TOOLS, answer_of, call

BAD_TOKEN = {"Authorization": "token not-the-token"}


async def recorded_call(connect: Connect, tool: str, arguments: dict[str, Any]) -> httpx2.Request:
    """The HTTP request the SDK's client sent for one tool call (2026-07-28: one POST
    carries it whole, so it can be sent again as it was, with other headers)."""
    sent: list[httpx2.Request] = []
    async with connect(record=sent) as client:
        await client.call_tool(tool, arguments)
    (request,) = [r for r in sent if f'"{tool}"'.encode() in r.content]
    return request


async def replay(request: httpx2.Request, headers: dict[str, str]) -> httpx2.Response:
    """``request`` again, its credentials and host replaced by ``headers``."""
    kept = {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in {"authorization", "cookie", "host", "content-length"}
    }
    async with httpx2.AsyncClient(timeout=30) as http:
        return await http.post(
            str(request.url), content=request.content, headers={**kept, **headers}
        )


async def notebook_names(jp_fetch: Any) -> list[str]:
    listed = payload(await jp_fetch(*API, "notebooks"))["notebooks"]
    return sorted(n["name"] for n in listed)


async def test_no_token_a_wrong_token_or_a_cookie_without_xsrf_is_refused_and_changes_nothing(
    connect: Connect, jp_fetch: Any, jp_auth_header: dict[str, str], jp_http_port: int
) -> None:
    creation = await recorded_call(connect, "create_notebook", {"name": "first"})
    assert await notebook_names(jp_fetch) == ["first"]

    for headers in ({}, BAD_TOKEN):
        refused = await replay(creation, headers)
        assert refused.status_code == 403, headers
    # A browser's login cookie alone is not enough for a POST: the XSRF token too.
    login = await jp_fetch(
        *API, "notebooks", params={"token": jp_auth_header["Authorization"].removeprefix("token ")}
    )
    cookie = "; ".join(c.split(";", 1)[0] for c in login.headers.get_list("Set-Cookie"))
    assert (await replay(creation, {"Cookie": cookie})).status_code == 403
    assert await notebook_names(jp_fetch) == ["first"]  # nothing was created

    # The same request is fine with credentials: the refusals were about them.
    xsrf = {"Cookie": f"{cookie}; _xsrf=double-submit", "X-XSRFToken": "double-submit"}
    assert (await replay(creation, xsrf)).status_code == 200
    assert (await replay(creation, jp_auth_header)).status_code == 200
    assert len(await notebook_names(jp_fetch)) == 3


async def test_an_evil_host_or_origin_is_refused(
    connect: Connect, jp_fetch: Any, jp_auth_header: dict[str, str], jp_http_port: int
) -> None:
    listing = await recorded_call(connect, "list_notebooks", {})
    ours = f"http://127.0.0.1:{jp_http_port}"
    for headers, status in [
        ({"Host": "evil.example"}, 403),  # DNS rebinding: jupyter_server's Host check
        ({"Host": f"evil.example:{jp_http_port}"}, 403),
        ({"Origin": "http://evil.example"}, 403),  # even with the token
        ({"Origin": "null"}, 403),
        ({"Host": f"localhost:{jp_http_port}"}, 200),
        ({"Origin": ours}, 200),  # the server's own origin
        ({}, 200),  # an agent sends no Origin
    ]:
        answer = await replay(listing, {**jp_auth_header, **headers})
        assert answer.status_code == status, headers


class TestAllowedOrigins:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        server = {**jp_server_config["ServerApp"], "allow_origin": "http://agents.example"}
        return {**jp_server_config, "ServerApp": server}

    async def test_the_servers_allow_origin_admits_a_browser_client(
        self, connect: Connect, jp_auth_header: dict[str, str]
    ) -> None:
        listing = await recorded_call(connect, "list_notebooks", {})
        allowed = await replay(listing, {**jp_auth_header, "Origin": "http://agents.example"})
        assert allowed.status_code == 200
        evil = await replay(listing, {**jp_auth_header, "Origin": "http://evil.example"})
        assert evil.status_code == 403


class TestPerUser:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        return with_users(jp_server_config)

    async def test_another_users_notebook_is_not_found_through_any_tool(
        self, connect: Connect
    ) -> None:
        async with connect(user="alice") as alice:
            made = await call(alice, "create_notebook", name="private")
            notebook, path = made["notebook_id"], made["path"]
            cell = (await call(alice, "create_cell", notebook_id=notebook, code="x = 1"))["cell_id"]
            started = await call(alice, "run_cell", notebook_id=notebook, cell_id=cell)
            assert started["status"] == "done"
            before = await call(alice, "get_notebook", notebook_id=notebook)
        assert path == "alice/private.ipynb"

        arguments: dict[str, dict[str, Any]] = {
            "get_cell_output": {"cell_id": cell},
            "create_cell": {"code": "stolen = x"},
            "update_cell": {"cell_id": cell, "code": "x = 666", "expected_code": "x = 1"},
            "delete_cell": {"cell_id": cell},
            "move_cell": {"cell_id": cell, "after_cell_id": None},
            "run_cell": {"cell_id": cell},
            "wait_for_run": {"run_id": "run-1"},  # alice's first run's id
        }
        async with connect(user="bob") as bob:
            assert (await call(bob, "list_notebooks"))["notebooks"] == []
            missing = await bob.call_tool("open_notebook", {"path": path})
            assert missing.is_error
            for tool in sorted(NOTEBOOK_TOOLS):
                result = await bob.call_tool(
                    tool, {"notebook_id": notebook, **arguments.get(tool, {})}
                )
                answer = answer_of(result)
                assert result.is_error, tool
                expected = "no run" if tool == "wait_for_run" else "not found"
                assert expected in answer["error"], (tool, answer)
            mine = await call(bob, "create_notebook", name="mine")
            assert (await call(bob, "list_notebooks"))["notebooks"] == [
                {"id": mine["notebook_id"], "name": "mine", "path": "bob/mine.ipynb"}
            ]

        async with connect(user="alice") as alice:
            assert await call(alice, "get_notebook", notebook_id=notebook) == before
            listed = (await call(alice, "list_notebooks"))["notebooks"]
            assert [n["id"] for n in listed] == [notebook]


class TestReadOnlyUsers:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        server = {**jp_server_config["ServerApp"], "authorizer_class": ReadOnlyAuthorizer}
        return {**jp_server_config, "ServerApp": server}

    async def test_each_tool_is_authorized_for_what_it_does(
        self, connect: Connect, jp_root_dir: Any
    ) -> None:
        write_notebook(jp_root_dir / "seen.ipynb", "x = 1")
        async with connect() as client:
            notebook = (await call(client, "open_notebook", path="seen.ipynb"))["notebook_id"]
            seen = await call(client, "get_notebook", notebook_id=notebook)
            assert [c["code"] for c in seen["cells"]] == ["x = 1"]
            for tool, arguments, refusal in [
                ("create_notebook", {}, "not allowed to write contents"),
                ("create_cell", {"notebook_id": notebook}, "not allowed to write contents"),
                ("run_cell", {"notebook_id": notebook, "cell_id": "c1"}, "not allowed to execute"),
                ("interrupt", {"notebook_id": notebook}, "not allowed to execute"),
            ]:
                result = await client.call_tool(tool, arguments)
                assert result.is_error
                assert refusal in answer_of(result)["error"], tool
            after = await call(client, "get_notebook", notebook_id=notebook)
        assert after == seen
        assert json.loads((jp_root_dir / "seen.ipynb").read_text())["cells"][0]["outputs"] == []


async def test_the_token_may_come_as_a_bearer_token_or_in_the_url(
    connect: Connect, mcp_url: str, jp_auth_header: dict[str, str]
) -> None:
    """For clients whose configuration has only a bearer token, or only a URL."""
    token = jp_auth_header["Authorization"].removeprefix("token ")
    async with connect(headers={"Authorization": f"Bearer {token}"}) as client:
        await call(client, "create_notebook", name="bearer")
    async with Client(f"{mcp_url}?token={token}") as client:
        assert client.protocol_version == "2026-07-28"
        names = [n["name"] for n in (await call(client, "list_notebooks"))["notebooks"]]
    assert names == ["bearer"]
