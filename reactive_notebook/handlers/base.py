"""The base of every REST handler: body parsing, validation and error answers.

Handlers hold no state and no business logic: parse, call the injected
``NotebookService``, serialize. Every error is JSON ``{"message", "reason", ...}``:
400 naming the field at fault, 404 (also for another user's notebook), 409 with the
current revision, 413 for a body over ``ReactiveNotebook.max_body_bytes``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import responses
from typing import Any, TypeVar, cast

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..agent.chat import ChatService
from ..capabilities import Capabilities
from ..kernels.outputs import json_safe
from ..notebooks.errors import NotebookError, RequestTooLarge
from ..notebooks.service import NotebookService
from ..notebooks.welcome import Welcome, WelcomeNotebooks
from .retry_after import retry_after
from .schemas import REQUEST_BODIES
from .validation import parse_json, validate


@dataclass(frozen=True)
class ApiContext:
    """What the app hands every handler (built once in ``initialize_settings``)."""

    service: NotebookService
    #: Bodies over this many bytes get 413 (Tornado's own limit is 512 MiB).
    max_body_bytes: int = 10 * 1024 * 1024
    #: Each authenticated user owns their notebooks (multi-tenant). Off: the server's
    #: users share them, as in single-user Jupyter (a shared token names no user).
    per_user: bool = False
    #: What ``GET .../capabilities`` answers (whether the chat has an LLM provider).
    capabilities: Capabilities = field(default_factory=Capabilities)
    #: Bytes written to one WebSocket client and not yet received past which the server
    #: stops writing to it (``ReactiveNotebook.websocket_max_pending_bytes``).
    websocket_max_pending_bytes: int = 8 * 1024 * 1024
    #: The notebook chat (None: the routes answer 503).
    chat: ChatService | None = None
    #: Seconds of silence after which a chat stream sends a keep-alive comment.
    chat_keep_alive: float = 15.0
    #: Makes each new user's welcome notebook on their first visit (None: off).
    welcome: WelcomeNotebooks | None = None

    def owner(self, user: Any) -> str:
        """Whose notebooks a request sees: the user's own, or the shared ones ("")."""
        return str(user.username) if self.per_user and user is not None else ""


class ContextHandlerMixin(ExtensionHandlerMixin):
    """Takes the ``ApiContext`` the app hands every handler (REST and WebSocket)."""

    context: ApiContext
    current_user: Any

    def initialize(self, name: str, context: ApiContext, **kwargs: Any) -> None:
        super().initialize(name, **kwargs)
        self.context = context

    @property
    def service(self) -> NotebookService:
        return self.context.service

    @property
    def user(self) -> str:
        """The requesting user as the service's ownership checks know them."""
        return self.context.owner(self.current_user)

    async def welcome(self) -> Welcome:
        """The caller's first visit: their welcome notebook, made once (see
        :mod:`..notebooks.welcome`); ``off`` when the server makes none."""
        if self.context.welcome is None:
            return Welcome("off")
        return await self.context.welcome.ensure(self.user)


class ReactiveHandler(ContextHandlerMixin, APIHandler):
    """Common ground of the ``/reactive/api/v1`` REST handlers."""

    @property
    def max_body_bytes(self) -> int:
        return self.context.max_body_bytes

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        declared = self.request.headers.get("Content-Length", "0")
        size = max(len(self.request.body or b""), int(declared) if declared.isdigit() else 0)
        if size > self.max_body_bytes:
            raise RequestTooLarge(
                f"the request body has {size} bytes; the limit is {self.max_body_bytes} "
                "(ReactiveNotebook.max_body_bytes)"
            )

    def body(self, schema: str) -> dict[str, Any]:
        """The request's JSON body, checked against ``REQUEST_BODIES[schema]``; an
        empty body counts as ``{}`` when the schema requires nothing."""
        raw = self.request.body
        if not raw and not REQUEST_BODIES[schema]["required"]:
            return {}
        return validate(parse_json(raw), REQUEST_BODIES[schema])

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(dumps(data))

    def no_content(self) -> None:
        self.set_status(204)
        self.finish()

    # -- errors ----------------------------------------------------------------------

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        error = _exception(kwargs)
        if isinstance(error, NotebookError):
            status_code = error.status
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, NotebookError):
            self.log.info("%s %s: %s", self.request.method, self.request.path, value.message)
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = _exception(kwargs)
        reason = responses.get(status_code, "Unknown HTTP Error")
        reply: dict[str, Any] = {"message": reason, "reason": reason}
        if isinstance(error, NotebookError):
            reply = {"message": error.message, "reason": reason, **error.details()}
            if "retry_after" in reply:
                self.set_header("Retry-After", str(reply["retry_after"]))
        elif isinstance(error, web.HTTPError):
            # Also what the contents manager raises under the service (a busy storage:
            # 503 and its ``retry_after``, see ``retry_after.py``).
            reply = {"message": error.log_message or reason, "reason": error.reason or reason}
            seconds = retry_after(error)
            if seconds is not None:
                reply["retry_after"] = seconds
                self.set_header("Retry-After", str(seconds))
        elif error is not None:
            reply["message"] = "internal server error: see the server log"
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(reply))


F = TypeVar("F", bound=Callable[..., Any])

#: ``@authorized`` for runs: the authorizer sees them as ``execute`` on ``kernels``.
authorized_execute: Callable[[F], F] = cast(Callable[[F], F], authorized("execute"))


def dumps(data: Any) -> str:
    """Strict JSON (no NaN, which browsers reject); odd values made safe, never a 500."""
    try:
        return json.dumps(data, allow_nan=False)
    except (TypeError, ValueError):
        return json.dumps(json_safe(data), allow_nan=False)


def _exception(kwargs: dict[str, Any]) -> BaseException | None:
    exc_info = kwargs.get("exc_info")
    return exc_info[1] if exc_info else None
