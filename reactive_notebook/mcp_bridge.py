"""The stdio bridge: an MCP server on stdin/stdout that forwards every request to a
running server's streamable-HTTP MCP endpoint (``jupyter reactive-notebook mcp``).

For MCP clients that only launch local commands (Claude Desktop, some IDEs). The
bridge is a client of the remote endpoint (the SDK's ``Client`` over its streamable
HTTP transport, with ``Authorization: token <t>``) and a server to the local client
(the SDK's low-level ``Server`` on its stdio transport), so each side negotiates its
own protocol version: a handshake-era client (``initialize``) works with a
2026-era endpoint and the other way round. It declares what the remote declares
(tools, resources, prompts, completions) under the remote's name, version and
instructions, and relays a tool's progress notifications to the local client.

The SDK 2.3 ships no proxy of its own (checked: nothing in ``mcp`` forwards one
session to another), so this is the small forwarding layer on top of both halves.

stdout carries nothing but JSON-RPC: the SDK's stdio transport points fd 1 at stderr
while it serves, and every message of ours goes to stderr through ``logging``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import MCP_SESSION_ID, streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR

logger = logging.getLogger("reactive_notebook.mcp_bridge")

#: The endpoint's path under the Jupyter server's base URL.
ENDPOINT_PATH = "reactive/mcp"
DEFAULT_TOKEN_ENV = "JUPYTER_TOKEN"

#: Exit statuses of ``run_bridge``.
EXIT_OK = 0
EXIT_UNREACHABLE = 1
EXIT_USAGE = 2

_E = TypeVar("_E", bound=BaseException)


class BridgeUsageError(ValueError):
    """A command line the bridge cannot work with (said on stderr, exit status 2)."""


def endpoint_url(url: str) -> str:
    """The MCP endpoint for ``--url``.

    A URL whose path already ends in ``/reactive/mcp`` is the endpoint itself; any
    other URL is the Jupyter server's base URL (``http://127.0.0.1:8888/``, or under
    JupyterHub ``https://hub.example.org/user/alice/``) and gets ``reactive/mcp``
    appended. A query string or fragment is refused: a token in the URL would be
    visible to every user of the machine in the process list.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BridgeUsageError(f"--url must be an http:// or https:// URL, not {url!r}")
    if "token" in parse_qs(parts.query):
        raise BridgeUsageError(
            "--url must not carry the token (anyone on this machine can read a command "
            "line): drop ?token=... and put the token in the environment variable "
            "named by --token-env"
        )
    if parts.query or parts.fragment:
        raise BridgeUsageError(f"--url must have no query string or fragment: {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/" + ENDPOINT_PATH):
        path = f"{path}/{ENDPOINT_PATH}"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class BridgeConfig:
    """What the bridge connects to and how it authenticates."""

    url: str
    """The remote MCP endpoint (already resolved by ``endpoint_url``)."""
    token: str | None
    token_env: str
    """The name of the environment variable the token came from (for messages)."""

    @classmethod
    def from_args(
        cls, url: str, token_env: str, environ: Mapping[str, str] | None = None
    ) -> BridgeConfig:
        env = os.environ if environ is None else environ
        token = env.get(token_env, "").strip() or None
        return cls(url=endpoint_url(url), token=token, token_env=token_env)


def explain_status(status: int, config: BridgeConfig, ended_session: bool = False) -> str:
    """A sentence saying what an HTTP error status from the endpoint means for the user."""
    if status in (401, 403):
        if config.token is None:
            return (
                f"{config.url} refused a request without a token (HTTP {status}): set the "
                f"environment variable {config.token_env} to the Jupyter server's token"
            )
        return (
            f"{config.url} refused the token (HTTP {status}): check the token in the "
            f"environment variable {config.token_env} (it must be the Jupyter server's "
            "token, and the user must be allowed to use its notebooks)"
        )
    if status == 404 and ended_session:
        return (
            f"{config.url} no longer knows this MCP session (HTTP 404; was the server "
            "restarted?): restart the MCP client"
        )
    if status == 404:
        return (
            f"no MCP endpoint at {config.url} (HTTP 404): check --url (the Jupyter "
            f"server's base URL, or its .../{ENDPOINT_PATH} endpoint) and that the "
            "reactive_notebook server extension is enabled"
        )
    if status == 421:
        return (
            f"{config.url} refused the request's Host header (HTTP 421): use the host "
            "name the server is configured to answer for"
        )
    if status >= 500:
        return f"{config.url} failed (HTTP {status}): see the Jupyter server's log"
    return f"{config.url} answered HTTP {status}"


def explain_unreachable(error: BaseException, config: BridgeConfig) -> str:
    detail = str(error) or type(error).__name__
    return f"cannot reach {config.url} ({detail}): is the Jupyter server running at that address?"


def find_error(error: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of ``kind`` in ``error`` or the exception groups around it (the
    SDK's task groups wrap a failed handshake in one or two)."""
    if isinstance(error, kind):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = find_error(inner, kind)
            if found is not None:
                return found
    return None


class RemoteTransport(httpx2.AsyncHTTPTransport):
    """The HTTP transport under the SDK's streamable-HTTP client, turning failures into
    JSON-RPC errors that say what to check.

    The SDK answers an HTTP error status with a generic JSON-RPC error ("Server returned
    an error response"), and a network failure during a request's POST ends its whole
    transport (every later request hangs). Here a failure becomes a response carrying a
    JSON-RPC error with a sentence (``explain_status``, ``explain_unreachable``), which
    the SDK hands to the waiting request as it is; the bridge keeps serving, and the next
    request reaches the server again once it is back (2026-era requests carry no session).
    """

    def __init__(self, config: BridgeConfig) -> None:
        super().__init__()
        self.config = config
        self.network_error: httpx2.TransportError | None = None
        """The last request's network failure (None once a request gets an answer)."""
        self._said = ""  # a failure is said on stderr once until a request succeeds

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx2.TransportError as error:
            self.network_error = error
            return self._error_response(request, explain_unreachable(error, self.config))
        self.network_error = None
        if response.status_code < 400 or response.status_code == 405:
            self._said = ""
            return response  # 405: the server does not allow a GET stream or DELETE
        body = await response.aread()
        await response.aclose()
        if _is_jsonrpc_error(body):  # the server's own answer: pass it on
            return httpx2.Response(
                response.status_code,
                headers=response.headers,
                content=body,
                request=request,
                extensions=response.extensions,
            )
        ended_session = response.status_code == 404 and MCP_SESSION_ID in request.headers
        return self._error_response(
            request, explain_status(response.status_code, self.config, ended_session)
        )

    def _error_response(self, request: httpx2.Request, message: str) -> httpx2.Response:
        if message != self._said:
            logger.error("%s", message)
            self._said = message
        error = {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": INTERNAL_ERROR, "message": message},
        }
        return httpx2.Response(502, json=error, request=request)


def _is_jsonrpc_error(body: bytes) -> bool:
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("jsonrpc") == "2.0" and "error" in message


def remote_client(config: BridgeConfig, transport: RemoteTransport) -> Client:
    """The SDK client of the remote endpoint, authenticating with the Jupyter token."""
    headers = {"Authorization": f"token {config.token}"} if config.token else None
    http = httpx2.AsyncClient(
        headers=headers,
        # The SDK's defaults: a long read timeout, as a response stream may stay open.
        timeout=httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT),
        transport=transport,
    )
    # No response cache: the remote's lists change as notebooks open and close, and the
    # local client keeps its own. No read timeout on requests: long runs report progress.
    return Client(streamable_http_client(config.url, http_client=http), cache=None)


class Forwarder:
    """The local server's request handlers: each one calls the remote and returns its
    answer (a remote error is raised as the same JSON-RPC error)."""

    def __init__(self, remote: Client) -> None:
        self.remote = remote

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return await self.remote.list_tools(cursor=_cursor(params))

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        async def relay(progress: float, total: float | None, message: str | None) -> None:
            # A no-op when the local client asked for no progress.
            await ctx.session.report_progress(progress, total, message)

        return await self.remote.call_tool(params.name, params.arguments, progress_callback=relay)

    async def list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return await self.remote.list_resources(cursor=_cursor(params))

    async def list_resource_templates(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return await self.remote.list_resource_templates(cursor=_cursor(params))

    async def read_resource(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        return await self.remote.read_resource(str(params.uri))

    async def list_prompts(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return await self.remote.list_prompts(cursor=_cursor(params))

    async def get_prompt(
        self, ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        return await self.remote.get_prompt(params.name, params.arguments)

    async def complete(
        self, ctx: ServerRequestContext[Any], params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        context = params.context.arguments if params.context else None
        argument = {params.argument.name: params.argument.value}
        return await self.remote.complete(params.ref, argument, context)

    def local_server(self) -> Server[Any]:
        """The stdio side: the remote's identity, and a handler for each capability the
        remote declares (the SDK derives the declared capabilities from the handlers)."""
        caps = self.remote.server_capabilities
        info = self.remote.server_info
        handlers: dict[str, Any] = {}
        if caps.tools is not None:
            handlers.update(on_list_tools=self.list_tools, on_call_tool=self.call_tool)
        if caps.resources is not None:
            handlers.update(
                on_list_resources=self.list_resources,
                on_list_resource_templates=self.list_resource_templates,
                on_read_resource=self.read_resource,
            )
        if caps.prompts is not None:
            handlers.update(on_list_prompts=self.list_prompts, on_get_prompt=self.get_prompt)
        if caps.completions is not None:
            handlers.update(on_completion=self.complete)
        return Server(
            info.name if info else "reactive-notebook",
            version=info.version if info else "",
            title=info.title if info else None,
            description=info.description if info else None,
            instructions=self.remote.instructions,
            **handlers,
        )


def refusing_server(message: str) -> Server[Any]:
    """The stdio side when the endpoint refused the bridge at start (wrong token, wrong
    URL): it answers the handshake, so the client shows the reason, and fails every
    request with it."""

    async def refuse(ctx: ServerRequestContext[Any], params: Any) -> Any:
        raise MCPError(code=types.INTERNAL_ERROR, message=message)

    return Server(
        "reactive-notebook",
        instructions=f"Not connected: {message}",
        on_list_tools=refuse,
        on_call_tool=refuse,
        on_list_resources=refuse,
        on_read_resource=refuse,
        on_list_prompts=refuse,
        on_get_prompt=refuse,
    )


async def serve_stdio(server: Server[Any]) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def run_bridge(config: BridgeConfig) -> int:
    """Connect to the endpoint, then serve stdio until the local client closes stdin.

    Returns the exit status: 1 when the endpoint cannot be reached at start (nothing
    is served) or refused the bridge (the refusal is served, then 1); 0 otherwise.
    """
    if config.token is None:
        logger.warning(
            "the environment variable %s is not set: connecting to %s without a token",
            config.token_env,
            config.url,
        )
    transport = RemoteTransport(config)
    async with AsyncExitStack() as stack:
        remote = remote_client(config, transport)
        try:
            await stack.enter_async_context(remote)
        except Exception as error:
            refused = find_error(error, MCPError)
            if refused is None:
                raise
            if transport.network_error is not None:
                return EXIT_UNREACHABLE  # said on stderr by the transport
            # Refused (token, URL): the local client gets the reason with every request.
            await serve_stdio(refusing_server(refused.message))
            return EXIT_UNREACHABLE
        info = remote.server_info
        logger.info(
            "connected to %s (%s, protocol %s)",
            config.url,
            f"{info.name} {info.version}".strip() if info else "unnamed server",
            remote.protocol_version,
        )
        await serve_stdio(Forwarder(remote).local_server())
    return EXIT_OK


def main(url: str, token_env: str = DEFAULT_TOKEN_ENV) -> int:
    """Run the bridge (the ``mcp`` subcommand). Logs go to stderr only."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="reactive-notebook mcp: %(message)s"
    )
    logger.setLevel(logging.INFO)
    try:
        config = BridgeConfig.from_args(url, token_env)
    except BridgeUsageError as error:
        logger.error("%s", error)
        return EXIT_USAGE
    try:
        return anyio.run(run_bridge, config)
    except KeyboardInterrupt:
        return EXIT_OK


def _cursor(params: types.PaginatedRequestParams | None) -> str | None:
    return params.cursor if params is not None else None
