"""Who a notebook WebSocket belongs to, for as long as it is open (issue 18).

Three ways in, one rule after: the upgrade request authenticates as every request does
(the Jupyter token or cookie, ``Authorization``, with the JWT provider ``?token=<jwt>``);
or, only when the server's identity provider is ``JWTIdentityProvider`` and the upgrade
presents no credential at all, the socket is accepted *pending*: nothing is sent to it
and the only message it may send is ``{"type": "auth", "token": "<jwt>"}``, within
``JWTIdentityProvider.websocket_auth_timeout`` seconds. A bad or missing first message
closes it with :data:`CLOSE_AUTH_FAILED`; a valid one makes the connection exactly what an
authenticated upgrade would have been (the authorizer, then ownership: another user's
notebook closes with 4404, as its upgrade would have been refused with 404).

A connection whose user came from a JWT (any of the ways) is closed with
:data:`CLOSE_TOKEN_EXPIRED` when the token expires (``exp`` plus the provider's
``leeway``): one timer per connection, cancelled on close. ``{"type": "refresh_auth",
"token": ...}`` with a valid token of the same user moves the deadline to the new
token's; a token that fails verification is answered with an ``error`` and changes
nothing; a valid token of another user closes the socket (:data:`CLOSE_AUTH_FAILED`)
and never changes who the connection belongs to.

Why the upgrade may be unauthenticated at all: a browser cannot put headers on a
WebSocket, and a JWT in the URL lands in proxies' access logs. The pending socket costs
the server one idle connection for a few seconds and reveals nothing (not even whether
the notebook exists).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from tornado import web

from ..auth.jwt_provider import JWTIdentityProvider, JWTRefused
from ..auth.users import JWTUser, is_jwt_user
from ..notebooks.errors import InvalidRequest, NotebookError
from .schemas import AUTH_MESSAGES
from .validation import validate

#: The connection's JWT expired (and no ``refresh_auth`` replaced it): reconnect with a
#: fresh token.
CLOSE_TOKEN_EXPIRED = 4401
#: Authentication failed: the first message of a pending socket was not a valid ``auth``,
#: its token was refused, it did not come in time, the user may not read notebooks, or
#: a ``refresh_auth`` token named another user.
CLOSE_AUTH_FAILED = 4403

F = TypeVar("F", bound=Callable[..., Any])


class TokenRefused(NotebookError):
    """A ``refresh_auth`` token failed verification (the connection is unchanged)."""

    status = 401


def ws_authenticated_or_pending(method: F) -> F:
    """``@ws_authenticated``, except that with the JWT provider an upgrade presenting no
    credential is let through as a pending connection (see the module's docstring).

    Marked as allowing unauthenticated requests, since jupyter_server's own check in
    ``prepare`` (``allow_unauthenticated_access=False``) would refuse the pending upgrade;
    this wrapper makes that check itself, and the socket does nothing until its first
    message authenticates it.
    """

    @wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.current_user is None:
            if not accepts_first_message(self):
                self.log.warning("Couldn't authenticate WebSocket connection")
                raise web.HTTPError(403)
            provider = jwt_provider(self)
            assert provider is not None
            if len(provider.pending_websockets) >= provider.websocket_max_pending:
                self.log.warning(
                    "WebSocket refused: %d sockets already wait for their auth message",
                    len(provider.pending_websockets),
                )
                self.set_status(503)  # not HTTPError: send_error would drop Retry-After
                self.set_header("Retry-After", str(max(1, round(provider.websocket_auth_timeout))))
                self.finish(
                    {
                        "message": "too many WebSockets are waiting for their auth message"
                        " (JWTIdentityProvider.websocket_max_pending)"
                    }
                )
                return None
        return method(self, *args, **kwargs)

    setattr(wrapper, "__allow_unauthenticated", True)  # jupyter_server's marker
    return wrapper  # type: ignore[return-value]


def jwt_provider(handler: Any) -> JWTIdentityProvider | None:
    provider = getattr(handler, "identity_provider", None)
    return provider if isinstance(provider, JWTIdentityProvider) else None


def accepts_first_message(handler: web.RequestHandler) -> bool:
    """Whether an unauthenticated upgrade may wait for an ``auth`` message: only with
    the JWT provider, and only when it presented no credential (a refused ``?token=``
    or ``Authorization`` stays a 403, as before)."""
    if jwt_provider(handler) is None:
        return False
    request = handler.request
    return not request.headers.get("Authorization", "").strip() and not handler.get_argument(
        "token", ""
    )


class SocketAuth:
    """The authentication state of one socket: pending or whose, and until when."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self._timer: asyncio.TimerHandle | None = None

    @property
    def provider(self) -> JWTIdentityProvider | None:
        return jwt_provider(self.handler)

    def await_first_message(self) -> None:
        """A pending socket: close it unless an ``auth`` message comes in time."""
        provider = self.provider
        assert provider is not None
        provider.pending_websockets.add(
            self.handler
        )  # counted once open: no leak on a failed upgrade
        self._arm(provider.websocket_auth_timeout, self._auth_timed_out)

    def _auth_timed_out(self) -> None:
        self._timer = None
        self.handler.log.info("WebSocket closed: no auth message in time")
        self.handler.close(CLOSE_AUTH_FAILED, "no auth message in time")

    async def authenticate(self, document: Any) -> JWTUser | None:
        """The user of a pending socket's first message, or None (the socket is then
        closing with :data:`CLOSE_AUTH_FAILED`)."""
        provider = self.provider
        assert provider is not None
        if not isinstance(document, dict) or document.get("type") != "auth":
            self._fail('the first message must be {"type": "auth", "token": ...}')
            return None
        try:
            token = validate(document, AUTH_MESSAGES["auth"])["token"]
            user = await provider.verify(token)
        except (InvalidRequest, JWTRefused) as refusal:
            self.handler.log.info("WebSocket auth refused: %s", refusal)
            self._fail("authentication failed")
            return None
        if self.closing():  # timed out (or the client left) during the verification
            return None
        self.cancel()
        return user

    async def refresh(self, document: dict[str, Any]) -> dict[str, Any] | None:
        """Apply a ``refresh_auth``: the ``ack``'s result, or None when the socket is
        closing because the token named another user. Raises ``InvalidRequest`` /
        ``TokenRefused`` (answered with an ``error``; nothing changes)."""
        token = validate(document, AUTH_MESSAGES["refresh_auth"])["token"]
        current = self.handler.current_user
        provider = self.provider
        if provider is None or not is_jwt_user(current):
            raise InvalidRequest("this connection was not authenticated with a JWT", field="type")
        try:
            user = await provider.verify(token)
        except JWTRefused as refusal:
            self.handler.log.info("WebSocket refresh_auth refused: %s", refusal)
            raise TokenRefused("the token was refused; the connection keeps its old one") from None
        if self.closing():
            return None
        if user.username != current.username:
            self.handler.log.warning(
                "WebSocket of %s closed: refresh_auth with a token of another user",
                current.username,
            )
            self.handler.close(CLOSE_AUTH_FAILED, "refresh_auth token names another user")
            return None
        self.handler.current_user = self.handler._jupyter_current_user = user
        self.watch_expiry()
        return {"expires_at": user.expires_at}

    def watch_expiry(self) -> None:
        """Close the socket when its user's JWT expires (no timer for other users)."""
        self.cancel()
        user = self.handler.current_user
        if not is_jwt_user(user):
            return
        provider = self.provider
        leeway = provider.leeway if provider is not None else 0.0
        self._arm(user.expires_at + leeway - time.time(), self._expired)

    def _expired(self) -> None:
        self._timer = None
        self.handler.log.info(
            "WebSocket of %s closed: its token expired", self.handler.current_user.username
        )
        self.handler.close(CLOSE_TOKEN_EXPIRED, "token expired")

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        self._stop_timer()
        self._timer = asyncio.get_running_loop().call_later(max(0.0, delay), callback)

    def _fail(self, reason: str) -> None:
        self.cancel()
        self.handler.close(CLOSE_AUTH_FAILED, reason)

    def closing(self) -> bool:
        connection = self.handler.ws_connection
        return connection is None or connection.is_closing()

    def cancel(self) -> None:
        """Stop the timer; the socket no longer counts as waiting for its auth message."""
        self._stop_timer()
        provider = self.provider
        if provider is not None:
            provider.pending_websockets.discard(self.handler)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
