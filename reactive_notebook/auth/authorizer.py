"""Who may use which of the server's APIs (issue 18): ``ReactiveAuthorizer``.

Select it with ``c.ServerApp.authorizer_class =
"reactive_notebook.auth.authorizer.ReactiveAuthorizer"``.

API users (a :class:`~reactive_notebook.auth.users.JWTUser`, made by the JWT identity
provider) may use this extension's routes: the reactive REST API, its WebSocket, the chat
and MCP. Those check ownership in every service operation. Jupyter's own APIs do not:
``/api/contents`` reads and writes any file under the server's root, ``/api/kernels`` and
``/api/sessions`` reach every kernel, ``/api/collaboration`` opens any document's room,
``/files``, ``/nbconvert`` and ``/api/fileid`` read files by path, ``/api/config`` and
``/api/events`` are server-wide, ``/api/shutdown`` stops everyone's server. So for an API
user every request that reaches the authorizer from a handler that is not ours is refused
(403), except the few in :data:`ALLOWED_FOREIGN` (default deny).

Our handlers ask with Jupyter's resource names too (``contents``, ``kernels``; a run is
``execute`` on ``kernels``), so the resource cannot tell them apart: the handler's class
can, by the module it was defined in (``reactive_notebook.*``).

Operators (a plain jupyter_server ``User``: the Jupyter token, a password login, any
identity provider that does not make ``JWTUser``) keep everything.

The authorizer only decides what it is asked. Handlers that never ask it (jupyterlab's
page, settings, workspaces, themes and translations, static files; ``/api/me``, which
asks it only to report permissions) are not refused by it: see the README.
"""

from __future__ import annotations

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import User
from tornado import web

from .users import is_jwt_user

#: The package whose handlers apply ownership checks of their own.
OURS = "reactive_notebook"

#: ``(handler class, action, resource)`` of Jupyter's that API users may still use.
#: ``GET /api/status``: a liveness probe answering only aggregate figures (when the
#: server started, its last activity, how many kernels and connections it has): no
#: names, no ids, no paths. Issue 18's own JWKS-outage test probes it to show the event
#: loop stays responsive. Nothing else: kernelspecs look harmless to read, but a
#: ``kernel.json`` may carry an ``env`` with values and names the server's interpreters,
#: and the reactive API lets no API user choose a kernel, so they need none of it.
ALLOWED_FOREIGN: frozenset[tuple[str, str, str]] = frozenset(
    {("jupyter_server.services.api.handlers.APIStatusHandler", "read", "api")}
)


#: Jupyter's handlers an API user is a user on at all (the identity provider answers no
#: user elsewhere, so routes that never ask the authorizer, as JupyterLab's settings,
#: workspaces, build and extension manager, are closed to them too): the status probe
#: above, and ``GET /api/me``, which tells a user who they are.
API_USER_FOREIGN_HANDLERS = frozenset(
    {
        "jupyter_server.services.api.handlers.APIStatusHandler",
        "jupyter_server.services.api.handlers.IdentityHandler",
    }
)


def serves_api_users(handler: web.RequestHandler) -> bool:
    """Whether an API (JWT) user may be authenticated on ``handler`` at all."""
    return is_ours(handler) or qualified_name(type(handler)) in API_USER_FOREIGN_HANDLERS


def qualified_name(handler_class: type) -> str:
    return f"{handler_class.__module__}.{handler_class.__qualname__}"


def is_ours(handler: web.RequestHandler) -> bool:
    """Whether the handler is one of this extension's (by the module of its class)."""
    module = type(handler).__module__
    return module == OURS or module.startswith(OURS + ".")


class ReactiveAuthorizer(Authorizer):
    """API users (JWT) get the reactive API only; operators get everything."""

    def is_authorized(
        self, handler: web.RequestHandler, user: User, action: str, resource: str
    ) -> bool:
        if not is_jwt_user(user):
            return True
        if is_ours(handler):
            return True
        allowed = (qualified_name(type(handler)), action, resource) in ALLOWED_FOREIGN
        if not allowed:
            self.log.info(
                "refused %s %s (%s on %s) to API user %s: only the reactive API is theirs",
                handler.request.method,
                handler.request.path,
                action,
                resource,
                user.username,
            )
        return allowed
