"""A real streamable-HTTP MCP server for the bridge's tests: the SDK's ``MCPServer``
served by uvicorn on 127.0.0.1 under a JupyterHub-style prefix, behind an ASGI check
of ``Authorization: token <t>`` like the Jupyter server's own."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

PREFIX = "/user/alice/"
ENDPOINT = PREFIX + "reactive/mcp"
INSTRUCTIONS = "Test server: add numbers, count slowly, read the demo notebook."
README = "# Demo notebook\n\nx = 1"


def build_server() -> MCPServer:
    mcp = MCPServer("remote-test", version="9.8.7", instructions=INSTRUCTIONS)

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.tool()
    async def count(steps: int, ctx: Context) -> str:
        """Count to `steps`, reporting progress at each step."""
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step} of {steps}")
        return f"counted to {steps}"

    @mcp.tool()
    def fail(reason: str) -> str:
        """Always fails, saying why."""
        raise ToolError(reason)

    @mcp.resource("notebook://demo", mime_type="text/markdown")
    def demo() -> str:
        """The demo notebook."""
        return README

    @mcp.prompt()
    def explain(cell: str) -> str:
        """Ask to explain a cell."""
        return f"Explain cell {cell}"

    return mcp


@dataclass
class TokenCheck:
    """ASGI middleware: 401 for an HTTP request without ``Authorization: token <token>``.
    Records every Authorization header it sees."""

    app: Any
    token: str
    seen: list[str] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            authorization = headers.get(b"authorization", b"").decode()
            self.seen.append(authorization)
            if authorization != f"token {self.token}":
                body = json.dumps({"message": "Forbidden"}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401 if not authorization else 403,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


@dataclass
class RunningServer:
    base_url: str
    """``http://127.0.0.1:<port>/user/alice/``"""
    gate: TokenCheck
    uvicorn_server: uvicorn.Server

    @property
    def endpoint(self) -> str:
        return self.base_url + "reactive/mcp"


@contextmanager
def serve(token: str, port: int = 0) -> Iterator[RunningServer]:
    """Serve the test MCP server on 127.0.0.1 (a free port unless given) in a background
    thread."""
    mcp = build_server()
    app = mcp.streamable_http_app(streamable_http_path=ENDPOINT)
    gate = TokenCheck(app, token)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(gate, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test MCP server did not start")
        time.sleep(0.02)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}{PREFIX}", gate, server)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
