"""The MCP endpoint's machinery: the SDK's streamable HTTP session manager, run once
per server, started by the first request and stopped with the extension.

The session manager serves both protocol eras: 2026-07-28 (sessionless: one POST, one
answer, as JSON or as an SSE stream once the handler sends progress) and the legacy
``initialize`` handshake with ``Mcp-Session-Id`` sessions for older clients. A legacy
session is bound to the Jupyter user who opened it: another user's request with its id
is answered as if it did not exist.

The SDK's DNS-rebinding guard is off: the Tornado handler in front of it does the same
checks with the server's own settings (jupyter_server's ``Host`` check,
``allow_remote_access`` / ``local_hostnames``, for every request; and ``Origin``
against the server's host and ``allow_origin`` / ``allow_origin_pat``, see
:mod:`.origin`), which a static host list cannot express (any loopback address, a
pattern of origins).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import MutableMapping
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from .asgi_bridge import Receive, Send
from .caller import SCOPE_KEY, Caller
from .server import NotebookMcp


class McpEndpoint:
    def __init__(
        self,
        handlers: NotebookMcp,
        *,
        max_body_bytes: int,
        session_idle_timeout: float = 30 * 60,
        log: logging.Logger | None = None,
    ) -> None:
        self.handlers = handlers
        self.log = log or logging.getLogger(__name__)
        self.manager = StreamableHTTPSessionManager(
            handlers.server(),
            json_response=False,  # SSE, so progress can stream while a run is waited for
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            session_idle_timeout=session_idle_timeout,
            max_request_body_size=max_body_bytes,
        )
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = asyncio.Event()

    def scope_for(self, caller: Caller) -> dict[str, Any]:
        """What the ASGI scope of a request carries for the SDK: the caller (read by
        each tool call) and, as the SDK's ``user``, the identity a legacy session is
        bound to."""
        token = AccessToken(
            token="",
            client_id="jupyter",
            scopes=[],
            subject=json.dumps([caller.principal, caller.owner]),
        )
        return {SCOPE_KEY: caller, "user": AuthenticatedUser(token)}

    async def handle(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        await self._started()
        await self.manager.handle_request(scope, receive, send)

    async def _started(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="reactive_notebook MCP sessions")
        ready = asyncio.ensure_future(self._ready.wait())
        done, _ = await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            self._task.result()  # the session manager failed to start: say why
            raise RuntimeError("the MCP session manager stopped")

    async def _run(self) -> None:
        async with self.manager.run():
            self._ready.set()
            await self._stopping.wait()

    async def stop(self) -> None:
        """End every session (their requests end with them)."""
        if self._task is None:
            return
        self._stopping.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, timeout=10)


__all__ = ["McpEndpoint"]
