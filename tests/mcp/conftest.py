"""A real Jupyter server with the extension (under pytest-jupyter's ``/a%40b/`` base URL,
as behind JupyterHub), and the MCP SDK's own client talking to its endpoint over
streamable HTTP on 127.0.0.1 with the Jupyter token."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from ..handlers.test_auth import HeaderIdentityProvider

#: The header :class:`HeaderIdentityProvider` names the user by (the token still decides
#: who gets in).
USER_HEADER = "X-Test-User"


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {"reactive_notebook": True, "jupyter_server_terminals": False},
            "contents_manager_class": (
                "reactive_notebook.contents.atomic.AtomicFileContentsManager"
            ),
            "allow_unauthenticated_access": False,
        },
        "ReactiveNotebook": {"save_delay": 0.05},
    }


def with_users(config: dict[str, Any]) -> dict[str, Any]:
    """Several users on one server, each with their own notebooks."""
    return {
        **config,
        "ServerApp": {**config["ServerApp"], "identity_provider_class": HeaderIdentityProvider},
        "ReactiveNotebook": {**config["ReactiveNotebook"], "per_user_notebooks": True},
    }


@pytest.fixture
def mcp_url(http_server: Any, jp_http_port: int, jp_base_url: str) -> str:
    """What a client is configured with: the server's URL, its base URL, reactive/mcp
    (``http_server``: the test server listening on the port)."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}reactive/mcp"


Connect = Callable[..., contextlib.AbstractAsyncContextManager[Client]]


@pytest.fixture
def connect(mcp_url: str, jp_auth_header: dict[str, str]) -> Connect:
    """``async with connect(user=None, mode="auto", headers=None, record=None) as
    client``: the SDK's client with the token header (and the test user's header, if
    any); ``record``, a list, gets every HTTP request it sends."""

    @contextlib.asynccontextmanager
    async def connected(
        user: str | None = None,
        mode: str = "auto",
        headers: dict[str, str] | None = None,
        record: list[httpx2.Request] | None = None,
    ) -> AsyncIterator[Client]:
        sent = dict(jp_auth_header if headers is None else headers)
        if user is not None:
            sent[USER_HEADER] = user
        timeout = httpx2.Timeout(30.0, read=60.0)

        async def recorded(request: httpx2.Request) -> None:
            if record is not None:
                record.append(request)

        hooks = {"request": [recorded]}
        async with httpx2.AsyncClient(headers=sent, timeout=timeout, event_hooks=hooks) as http:
            transport = streamable_http_client(mcp_url, http_client=http)
            async with Client(transport, mode=mode) as client:
                yield client

    return connected
