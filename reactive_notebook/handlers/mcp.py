"""``/reactive/mcp``: the MCP endpoint (streamable HTTP), inside jupyter_server's auth.

jupyter_server authenticates the request as for any API route (``Authorization: token
<t>``, or the JWT identity provider's bearer token; a cookie-only request needs the XSRF
token as well), checks ``Host`` (``allow_remote_access``, ``local_hostnames``) and
authorizes reading ``contents``; this handler checks ``Origin`` on every request
(:mod:`reactive_notebook.mcp.origin`), then hands the request to the SDK through an
ASGI bridge, with the caller in the scope: each tool call acts as this request's user,
under the same ownership rule as REST, and is authorized for what it does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..auth.identity import names_users
from ..mcp.asgi_bridge import AsgiBridge
from ..mcp.caller import Caller
from ..mcp.endpoint import McpEndpoint
from ..mcp.origin import origin_allowed
from ..notebooks.errors import NotebookError
from .base import ReactiveHandler

F = TypeVar("F", bound=Callable[..., Any])

#: Every MCP request is authorized as reading; each tool call then for what it does.
authorized_read: Callable[[F], F] = cast(Callable[[F], F], authorized("read"))

#: The web app's setting holding the endpoint (the app builds it once).
ENDPOINT_SETTING = "reactive_notebook_mcp"


class McpUnavailable(NotebookError):
    status = 503


class McpForbiddenOrigin(NotebookError):
    status = 403


class McpHandler(ReactiveHandler):
    """POST (messages), GET (a legacy session's event stream), DELETE (end a legacy
    session): all of them the SDK's to answer."""

    auth_resource = "contents"
    _bridge: AsgiBridge | None = None

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        origin = self.request.headers.get("Origin")
        if not origin_allowed(origin, self.request.headers.get("Host"), self.settings):
            self.log.warning("MCP: refused a request from Origin %s", origin)
            raise McpForbiddenOrigin(
                f"requests from {origin} are not allowed (ServerApp.allow_origin)"
            )

    @web.authenticated
    @authorized_read
    async def post(self) -> None:
        await self._serve()

    @web.authenticated
    @authorized_read
    async def get(self) -> None:
        await self._serve()

    @web.authenticated
    @authorized_read
    async def delete(self) -> None:
        await self._serve()

    async def _serve(self) -> None:
        endpoint = self.settings.get(ENDPOINT_SETTING)
        if not isinstance(endpoint, McpEndpoint):
            raise McpUnavailable("the MCP endpoint is not set up on this server")
        self._bridge = AsgiBridge(self, endpoint.scope_for(self._caller()))
        await self._bridge.serve(endpoint.handle)

    def _caller(self) -> Caller:
        user = self.current_user
        username = str(getattr(user, "username", "") or "")
        authorizer, handler = self.authorizer, self

        def authorize(action: str, resource: str) -> bool:
            return bool(authorizer.is_authorized(handler, user, action, resource))

        return Caller(
            principal=username if names_users(self.identity_provider) else "",
            owner=self.user,
            username=username,
            authorize=authorize,
        )

    def finish(self, *args: Any, **kwargs: Any) -> Any:
        """The SDK's Content-Type (APIHandler would make every answer JSON)."""
        if self._bridge is not None and self._bridge.content_type:
            kwargs.setdefault("set_content_type", self._bridge.content_type)
        return super().finish(*args, **kwargs)

    def on_connection_close(self) -> None:
        if self._bridge is not None:
            self._bridge.disconnected()
        super().on_connection_close()

    def on_finish(self) -> None:
        if self._bridge is not None:
            self._bridge.disconnected()  # nothing more to hear from this request
        super().on_finish()
