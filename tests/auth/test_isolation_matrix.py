"""The isolation matrix (issue 18): two API users of one server, each with a JWT from the
real issuer on 127.0.0.1 (conftest.py), per-user notebooks, real kernels, the notebook
chat on the fake model server (tests/agent/fake_llm.py) and the MCP SDK's own client.

Bob, knowing the ids of Alice's notebook and cell, its file's path and her run ids, tries
every operation of the REST API (enumerated from the OpenAPI document, and every route the
extension registers: a new route fails the walk until it is covered here), the notebook
WebSocket, runs, interrupts, the chat and every MCP tool and resource on them. Each answer
is "no such notebook" (404, or the tool's error), none carries her notebook's content, and
afterwards her notebook is byte for byte what it was: its file, what she GETs, her listing,
her chat history, her running cell (which Bob's interrupts did not stop).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from jupyter_server.serverapp import ServerApp
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult
from tornado.httpclient import HTTPClientError, HTTPResponse

from reactive_notebook.handlers.openapi import API_PREFIX

from ..agent.fake_llm import FakeLLM, Reply
from ..handlers.conftest import API, rooms_config
from ..handlers.contract import DOCUMENT, conforms, notebook_file, notebook_when, stored
from ..handlers.test_auth import our_routes, verbs
from .conftest import Issuer
from .test_jwt_provider import bearer

ALICE, BOB = "user_alice", "user_bob"
#: What Alice's notebook holds that no answer to Bob may show.
SECRET = "alice-secret-4242"
NOTEBOOK_NAME = "alice-private"
KEY_VARIABLE = "REACTIVE_TEST_LLM_KEY"

#: A valid body for each request schema, so that a refusal is about who asks, not what
#: they sent (a body schema missing here fails the walk).
BODIES: dict[str, dict[str, Any]] = {
    "NotebookCreate": {"name": "stolen"},  # "folder" (Alice's) is added by the walk
    "NotebookRename": {"name": "stolen"},
    "DbConnection": {"connection_string": "sqlite:///stolen.db"},
    "CellCreate": {"type": "python", "code": "stolen = secret"},
    "CellUpdate": {"code": "secret = 'overwritten'"},
    "CellMove": {"after_cell_id": None},
    "RunRequest": {"wait": True},
    "CellRunRequest": {"wait": True},
    "ChatMessage": {"message": "print Alice's secret"},
    "ChatCancel": {"interrupt": True},
    "ChatRevert": {},
}

#: The operations that name no notebook: what Bob gets (checked further by the walk).
NOT_A_NOTEBOOK = {
    ("GET", "/reactive/health"): 200,
    ("GET", "/reactive/api/v1/capabilities"): 200,
    ("GET", "/reactive/api/v1/notebooks"): 200,  # his own only
    ("POST", "/reactive/api/v1/notebooks"): 400,  # in Alice's folder: refused
    ("POST", "/reactive/api/v1/welcome"): 200,  # his own first visit (he has one: none made)
}


# -- the server ----------------------------------------------------------------------


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture(params=["private", "rooms"])
def documents(request: pytest.FixtureRequest) -> str:
    """Where open notebooks' live documents are: the server's own, or collaboration
    rooms (jupyter-collaboration loaded, as with JupyterLab)."""
    return str(request.param)


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any],
    fake_llm: FakeLLM,
    documents: str,
    jp_root_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    monkeypatch.setenv(KEY_VARIABLE, "sk-test-matrix-key")
    server = {
        **jp_server_config["ServerApp"],
        "contents_manager_class": "reactive_notebook.contents.atomic.AtomicFileContentsManager",
    }
    rooms: dict[str, Any] = {}
    if documents == "rooms":
        rooms = rooms_config(jp_root_dir, monkeypatch)
        server["jpserver_extensions"] = {
            **server["jpserver_extensions"],
            "jupyter_server_ydoc": True,
            "jupyter_server_fileid": True,
        }
    reactive = {
        "save_delay": 0.05,
        "per_user_notebooks": True,
        "llm_provider": "anthropic",
        "llm_model": "test-model",
        "llm_base_url": fake_llm.anthropic_base_url,
        "llm_api_key_env": KEY_VARIABLE,
        "llm_max_retries": 0,
        "llm_timeout": 20.0,
        "chat_history_dir": str(tmp_path / "chats"),
        "chat_audit_log": str(tmp_path / "audit.jsonl"),
    }
    return {**jp_server_config, **rooms, "ServerApp": server, "ReactiveNotebook": reactive}


class As:
    """One API user: each request carries a freshly minted JWT of theirs."""

    def __init__(self, jp_fetch: Any, issuer: Issuer, sub: str) -> None:
        self.jp_fetch = jp_fetch
        self.issuer = issuer
        self.sub = sub

    def token(self) -> str:
        return self.issuer.mint(sub=self.sub, name=self.sub)

    def headers(self) -> dict[str, str]:
        return bearer(self.token())

    async def fetch(self, method: str, *parts: str, body: Any = None, **kw: Any) -> HTTPResponse:
        payload = json.dumps(body) if body is not None else None
        if payload is None and method in ("POST", "PUT", "PATCH"):
            payload = b""
        response: HTTPResponse = await self.jp_fetch(
            *parts,
            method=method,
            body=payload,
            headers=self.headers(),
            raise_error=False,
            follow_redirects=False,
            allow_nonstandard_methods=True,
            **kw,
        )
        return response

    async def __call__(self, method: str, *parts: str, body: Any = None, **kw: Any) -> Any:
        """Like the handlers' ``api`` fixture (``contract.stored`` reads through it)."""
        return await self.fetch(method, *API, *parts, body=body, **kw)


# -- what Alice has, and what must not change --------------------------------------------


async def alices_notebook(alice: As, fake_llm: FakeLLM, root: Path) -> dict[str, Any]:
    """A notebook of Alice's with a secret, outputs and a chat turn."""
    created = await alice("POST", "notebooks", body={"name": NOTEBOOK_NAME})
    assert created.code == 201, created.body
    notebook_id = conforms(created)["notebook_id"]
    cells = []
    for code in (f"secret = {SECRET!r}\nprint(secret)", "import time\ntime.sleep(1.5)\nn = 1"):
        added = await alice(
            "POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": code}
        )
        assert added.code == 201, added.body
        cells.append(conforms(added)["cell_id"])
    ran = await alice("POST", "notebooks", notebook_id, "run", body={"wait": True})
    assert ran.code == 200, ran.body
    fake_llm.add(Reply(text="Hello Alice, your notebook looks fine."))
    chatted = await alice("POST", "notebooks", notebook_id, "chat", body={"message": "hello"})
    assert chatted.code == 200, chatted.body
    history = await alice("GET", "notebooks", notebook_id, "chat")
    assert "Hello Alice" in history.body.decode()
    path = notebook_file(root, notebook_id).relative_to(root).as_posix()
    return {"id": notebook_id, "cells": cells, "path": path}


def shows_nothing_of_alices(answer: str, sent: object = "") -> bool:
    """Neither her notebook's content nor its name (unless the request itself carried
    it: an error may echo the path Bob asked for)."""
    return SECRET not in answer and (NOTEBOOK_NAME not in answer or NOTEBOOK_NAME in str(sent))


def outside(folder: str, files: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f for f in files if not f.startswith(folder + "/"))


# -- the walk ------------------------------------------------------------------------


def filled(template: str, notebook: dict[str, Any]) -> list[str]:
    text = template.replace("{notebook_id}", notebook["id"])
    text = text.replace("{cell_id}", notebook["cells"][0])
    return [part for part in text.split("/") if part]


def route_of(path: str, routes: list[tuple[str, type]]) -> str:
    """The extension's route pattern a path (relative to the base URL) reaches: the first
    that matches, as Tornado picks."""
    return next(pattern for pattern, _ in routes if re.fullmatch(pattern, path))


async def rest_walk(
    bob: As,
    alice_notebook: dict[str, Any],
    bobs_id: str,
    alices_folder: str,
    routes: list[tuple[str, type]],
) -> tuple[list[str], set[tuple[str, str]]]:
    """Bob against every operation of the document on Alice's notebook: the cases, and
    the (route, method) pairs they reached."""
    cases, reached = [], set()
    for template, operations in DOCUMENT["paths"].items():
        for method in (m.upper() for m in operations if m in ("get", "post", "put", "delete")):
            operation = operations[method.lower()]
            body = None
            schema = operation.get("requestBody", {}).get("content", {})
            if schema:
                name = schema["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                assert name in BODIES, f"{method} {template}: add a body for {name}"
                body = dict(BODIES[name])
                if name == "NotebookCreate":
                    body["folder"] = alices_folder
            parts = filled(template, alice_notebook)
            response = await bob.fetch(method, *parts, body=body)
            where = f"{method} {template}: {response.code} {response.body[:200]!r}"
            text = response.body.decode(errors="replace")
            if text and response.headers.get("Content-Type", "").startswith("application/json"):
                conforms(response)  # a documented status, a documented body
            assert shows_nothing_of_alices(text, (parts, body)), where
            if "{notebook_id}" in template:
                assert response.code == 404, where
            else:
                assert (method, template) in NOT_A_NOTEBOOK, f"classify {method} {template}"
                assert response.code == NOT_A_NOTEBOOK[(method, template)], where
            if template == "/reactive/api/v1/notebooks" and method == "GET":
                listed = [n["id"] for n in json.loads(response.body)["notebooks"]]
                assert listed == [bobs_id], where  # his own, only
            cases.append(where)
            reached.add((route_of("/" + "/".join(parts), routes), method))

    # The same operations, asked otherwise: Alice's file by its path; a route that
    # does not exist under her notebook.
    at_path = await bob.fetch("GET", *API, "notebooks", params={"path": alice_notebook["path"]})
    assert at_path.code == 200, at_path.body
    assert conforms(at_path)["notebooks"] == [], at_path.body
    cases.append("GET /notebooks?path=<alice's file>")
    for method in verbs(dict(routes)[f"{API_PREFIX}/(.*)"]) or ["GET"]:
        parts = [*API, "notebooks", alice_notebook["id"], "secret-route"]
        response = await bob.fetch(method, *parts, body={} if method != "GET" else None)
        assert response.code == 404, (method, response.code)
        assert shows_nothing_of_alices(response.body.decode())
        cases.append(f"{method} {API_PREFIX}/(.*)")
        reached.add((f"{API_PREFIX}/(.*)", method))
    openapi = await bob.fetch("GET", *API, "openapi.json")
    assert openapi.code == 200
    assert shows_nothing_of_alices(openapi.body.decode())
    cases.append("GET openapi.json")
    reached.add((f"{API_PREFIX}/openapi.json", "GET"))
    return cases, reached


async def ws_status(jp_ws_fetch: Any, notebook_id: str, **kw: Any) -> int:
    return await ws_status_at(jp_ws_fetch, (*API, "notebooks", notebook_id, "ws"), **kw)


async def ws_walk(
    jp_ws_fetch: Any, bob: As, alice: As, alice_notebook: dict[str, Any], bobs_id: str
) -> list[str]:
    cases = []
    for name, kw in {
        "header": {"headers": bob.headers()},
        "query": {"headers": {"Authorization": ""}, "params": {"token": bob.token()}},
        "resume": {"headers": bob.headers(), "params": {"since": "0"}},
    }.items():
        assert await ws_status(jp_ws_fetch, alice_notebook["id"], **kw) == 404, name
        cases.append(f"WS {name}")
    # Not about the way in: the same ways reach Bob's own notebook, and Alice's hers.
    assert await ws_status(jp_ws_fetch, bobs_id, headers=bob.headers()) == 101
    assert await ws_status(jp_ws_fetch, alice_notebook["id"], headers=alice.headers()) == 101
    return cases


async def room_walk(jp_fetch: Any, jp_ws_fetch: Any, bob: As, path: str) -> list[str]:
    """With collaboration rooms: Bob at the room of Alice's file (its id asked by the
    operator), and asking for a room session on her file."""
    found = await jp_fetch("api", "fileid", "id", params={"path": path})
    file_id = json.loads(found.body)["id"]
    room = ("api", "collaboration", "room", f"json:notebook:{file_id}")
    code = await ws_status_at(jp_ws_fetch, room, headers=bob.headers())
    assert code in (302, 403), code  # not a user there: the login page, or refused
    session = await bob.fetch(
        "PUT", "api", "collaboration", "session", path, body={"format": "json", "type": "notebook"}
    )
    assert session.code in (302, 403), session.code
    return ["WS collaboration room", "PUT collaboration session"]


async def ws_status_at(jp_ws_fetch: Any, parts: tuple[str, ...], **kw: Any) -> int:
    try:
        socket = await jp_ws_fetch(*parts, **kw)
    except HTTPClientError as error:
        return int(error.code)
    socket.close()
    return 101


# -- MCP -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def mcp_client(url: str, user: As, mode: str, methods: set[str]) -> AsyncIterator[Client]:
    """The SDK's client as ``user``; ``methods`` collects the HTTP methods it sends."""
    headers = user.headers()
    timeout = httpx2.Timeout(30.0, read=60.0)

    async def record(request: httpx2.Request) -> None:
        methods.add(request.method)

    hooks = {"request": [record]}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout, event_hooks=hooks) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


#: MCP tools that take no notebook, and what they may do for Bob.
MCP_FINDING = {"list_notebooks", "create_notebook"}


def mcp_arguments(schema: dict[str, Any], alice_notebook: dict[str, Any]) -> dict[str, Any]:
    """Arguments for a tool: Alice's ids and path wherever it takes one, and a valid
    value for every other required argument."""
    samples: dict[str, Any] = {
        "notebook_id": alice_notebook["id"],
        "cell_id": alice_notebook["cells"][0],
        "path": alice_notebook["path"],
        "run_id": 1,
        "code": "stolen = secret",
        "name": "stolen",
        "timeout": 1,
    }
    by_type = {"string": "x", "integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}
    properties = schema.get("properties", {})
    arguments = {}
    for name, spec in properties.items():
        if name in ("notebook_id", "cell_id", "path") or name in schema.get("required", []):
            if name in samples:
                arguments[name] = samples[name]
            else:
                kind = spec.get("type", "string")
                arguments[name] = by_type[kind[0] if isinstance(kind, list) else kind]
    return arguments


def text_of(result: CallToolResult) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


async def mcp_walk(
    url: str, bob: As, alice_notebook: dict[str, Any], bobs_folder: str, methods: set[str]
) -> list[str]:
    cases = []
    for mode in ("auto", "legacy"):
        async with mcp_client(url, bob, mode, methods) as client:
            tools = (await client.list_tools()).tools
            assert len(tools) >= 10
            for tool in tools:
                schema = dict(tool.input_schema)
                properties = schema.get("properties", {})
                arguments = mcp_arguments(schema, alice_notebook)
                result = await client.call_tool(tool.name, arguments)
                text = text_of(result)
                where = f"MCP {mode} {tool.name}({arguments}): {text[:200]}"
                assert shows_nothing_of_alices(text, arguments), where
                if "notebook_id" in properties or "path" in properties:
                    assert result.is_error, where
                else:
                    assert tool.name in MCP_FINDING, f"classify the MCP tool {tool.name}"
                    assert not result.is_error, where
                    assert alice_notebook["id"] not in text, where
                    answer = json.loads(text)
                    for listed in answer.get("notebooks", [answer]):
                        assert listed.get("path", bobs_folder + "/").startswith(
                            bobs_folder + "/"
                        ), where
                cases.append(where)
            listed = (await client.list_resources()).resources
            assert all(alice_notebook["id"] not in str(r.uri) for r in listed)
            with pytest.raises(MCPError):
                await client.read_resource(f"reactive-notebook://notebooks/{alice_notebook['id']}")
            cases += [f"MCP {mode} resources/list", f"MCP {mode} resources/read"]
    return cases


# -- the test ----------------------------------------------------------------------------


async def test_another_api_user_reaches_nothing_of_a_users_notebook(
    jp_fetch: Any,
    jp_ws_fetch: Any,
    jp_serverapp: ServerApp,
    jp_root_dir: Path,
    jp_http_port: int,
    jp_base_url: str,
    http_server: Any,
    issuer: Issuer,
    fake_llm: FakeLLM,
    documents: str,
) -> None:
    alice, bob = As(jp_fetch, issuer, ALICE), As(jp_fetch, issuer, BOB)
    notebook = await alices_notebook(alice, fake_llm, jp_root_dir)
    alices_folder = notebook["path"].rsplit("/", 1)[0]
    bobs = await bob("POST", "notebooks", body={"name": "bobs"})
    assert bobs.code == 201
    bobs_id = conforms(bobs)["notebook_id"]
    bobs_folder = notebook_file(jp_root_dir, bobs_id).parent.relative_to(jp_root_dir).as_posix()
    assert bobs_folder != alices_folder

    # While Alice's slow cell runs, Bob interrupts, cancels, runs: none of it is his.
    slow = notebook["cells"][1]
    started = await alice("POST", "notebooks", notebook["id"], "cells", slow, "run", body={})
    assert started.code == 202
    await notebook_when(alice, notebook["id"], lambda n: n["cells"][1]["status"] == "running")
    during_run = [
        ("POST", ("interrupt",), {}),
        ("POST", ("chat", "cancel"), {"interrupt": True}),
        ("POST", ("run",), {}),
        ("POST", ("cells", slow, "run"), {}),
    ]
    for method, parts, body in during_run:
        refused = await bob(method, "notebooks", notebook["id"], *parts, body=body)
        assert refused.code == 404, (parts, refused.code)
    done = await notebook_when(
        alice, notebook["id"], lambda n: n["cells"][1]["status"] != "running"
    )
    assert done["cells"][1]["status"] == "success"  # not interrupted

    before = await stored(alice, jp_root_dir, notebook["id"])
    chat_before = (await alice("GET", "notebooks", notebook["id"], "chat")).body
    asked_the_model = len(fake_llm.requests)
    kernels = sorted(jp_serverapp.kernel_manager.list_kernel_ids())

    routes = list(our_routes(jp_serverapp))
    rest, reached = await rest_walk(bob, notebook, bobs_id, alices_folder, routes)
    ws = await ws_walk(jp_ws_fetch, bob, alice, notebook, bobs_id)
    if documents == "rooms":
        ws += await room_walk(jp_fetch, jp_ws_fetch, bob, notebook["path"])
    reached.add((f"{API_PREFIX}/notebooks/([^/]+)/ws", "GET"))
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}reactive/mcp"
    methods: set[str] = set()
    mcp = await mcp_walk(url, bob, notebook, bobs_folder, methods)
    reached.update(("/reactive/mcp", m) for m in methods)

    # Every route the extension registers, with every verb it answers, was walked.
    registered = {(p, m) for p, h in routes for m in (verbs(h) or ["GET"])}
    assert registered - reached == set(), sorted(registered - reached)

    after = await stored(alice, jp_root_dir, notebook["id"])
    assert after.file == before.file
    assert after.notebook == before.notebook
    assert after.listing == before.listing
    assert outside(bobs_folder, after.files) == outside(bobs_folder, before.files)
    assert (await alice("GET", "notebooks", notebook["id"], "chat")).body == chat_before
    assert len(fake_llm.requests) == asked_the_model  # Bob's chat never reached the model
    assert sorted(jp_serverapp.kernel_manager.list_kernel_ids()) == kernels

    size = len(during_run) + len(rest) + len(ws) + len(mcp)
    print(
        f"\nisolation matrix ({documents}): {size} cases (REST {len(rest)}, "
        f"during a run {len(during_run)}, WebSocket {len(ws)}, MCP {len(mcp)}); "
        f"routes x verbs covered: {len(registered)}"
    )
