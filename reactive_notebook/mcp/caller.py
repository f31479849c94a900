"""Who a request to the MCP endpoint comes from, carried to the SDK's handlers.

jupyter_server authenticates the HTTP request (``JupyterHandler.prepare``); the Tornado
handler then puts a :class:`Caller` into the ASGI scope it builds for the SDK
(``scope[SCOPE_KEY]``). The SDK hands every request handler the Starlette request of
the HTTP request that carried the message (``ctx.request``), so each tool call reads its
caller from there. A context variable would not do: a legacy (pre-2026) session's
messages are served in a task the session's *first* request started, so its context
is that request's, whoever sends the later ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST

#: The ASGI scope key of the caller (an extension key: ASGI servers ignore it).
SCOPE_KEY = "reactive_notebook.caller"


@dataclass(frozen=True)
class Caller:
    """The Jupyter user behind one HTTP request to the endpoint."""

    #: Whose run handles these are: the Jupyter user's name, or "" when the identity
    #: provider names no one (Jupyter's own token: whoever holds it is one person).
    principal: str
    #: Whose notebooks the request sees (``ApiContext.owner``: "" when users share them).
    owner: str
    #: The user's name, as events and logs say who acted.
    username: str
    #: ``authorize(action, resource)``: the server's Authorizer, for this user.
    authorize: Callable[[str, str], bool]


def caller_of(request: Any) -> Caller:
    """The caller the endpoint put into ``request``'s scope (a Starlette request)."""
    scope = getattr(request, "scope", None)
    caller = scope.get(SCOPE_KEY) if isinstance(scope, dict) else None
    if not isinstance(caller, Caller):  # not through our handler: nobody to act for
        raise MCPError(INVALID_REQUEST, "the request carries no authenticated Jupyter user")
    return caller
