"""The notebook WebSocket: live events of one notebook, and commands from the client.

On connect the client gets a ``snapshot`` (the whole notebook and the sequence number
it reflects), or with ``?since=<seq>`` the events it missed (a fresh snapshot when they
are no longer kept). Events of other notebooks never reach it. Client messages call
the same service methods as REST; a malformed or unknown message, or one the service
refuses, is answered by an ``error`` message and the socket stays open. A message may
carry ``request_id``: the answer (``ack`` or ``error``) echoes it.

Tornado buffers whatever is written to a socket until the client takes it, without
limit. A client that stops reading (a stalled network, a frozen tab) must not make the
server hold every event for it: once more than ``websocket_max_pending_bytes`` written
to it are still unsent, nothing more is written; its events wait in its subscription,
which gives up past the same bound (the subscription lags), and when the client has
caught up it gets a fresh snapshot. Its commands wait too: an answer is written only
once the client takes what it was sent.

Authentication (the upgrade's credentials, or a first ``auth`` message with the JWT
provider) and the JWT's expiry and ``refresh_auth`` are ``ws_auth``'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..notebooks.errors import InvalidRequest, NotebookError
from ..notebooks.events import Event, Subscription
from .base import ContextHandlerMixin, dumps
from .schemas import AUTH_MESSAGES, CLIENT_MESSAGES
from .validation import parse_json, validate
from .ws_auth import CLOSE_AUTH_FAILED, SocketAuth, ws_authenticated_or_pending

#: Close code sent when the notebook is deleted under a connected client.
CLOSE_NOTEBOOK_DELETED = 4404

Command = Callable[["NotebookSocket", dict[str, Any]], Awaitable[dict[str, Any] | None]]


class NotebookSocket(WebSocketMixin, WebSocketHandler, ContextHandlerMixin, JupyterHandler):
    """``/notebooks/{id}/ws``."""

    auth_resource = "contents"
    notebook_id: str
    subscription: Subscription | None = None
    relay: asyncio.Task[None] | None = None
    batching = False
    #: Bytes written to the client that Tornado has not yet handed to the network.
    unflushed = 0
    _drained: asyncio.Event | None = None
    #: Set while the socket waits for its first message to authenticate it.
    pending = False
    auth: SocketAuth

    @ws_authenticated_or_pending
    async def get(self, notebook_id: str) -> None:
        self.notebook_id = notebook_id
        self.auth = SocketAuth(self)
        if self.current_user is None:  # with the JWT provider: its first message decides
            self.pending = True
        else:
            refusal = await self.refusal()
            if refusal is not None:
                raise web.HTTPError(*refusal)
        await super().get(notebook_id)

    async def refusal(self) -> tuple[int, str] | None:
        """Why the user may not open this notebook's socket (status, message), if so."""
        if not self.authorizer.is_authorized(self, self.current_user, "read", "contents"):
            return 403, "not allowed to read notebooks"
        try:
            await self.service.get_notebook(self.user, self.notebook_id)
        except NotebookError as error:
            return error.status, error.message
        return None

    async def open(self, notebook_id: str) -> None:
        super().open(notebook_id)  # starts the keep-alive pings
        # ?batch=1: events queued together travel in one {"type":"batch","events":[...]}
        # frame (a run's burst of statuses costs one frame per client, not hundreds).
        self.batching = self.get_query_argument("batch", "0") in ("1", "true")
        if self.pending:
            self.auth.await_first_message()
            return
        await self.start()

    async def start(self) -> None:
        """An authenticated connection: events from now on, the greeting, the expiry."""
        self.auth.watch_expiry()
        self.subscription = self.service.hub.listen(self.notebook_id)
        await self.greet(self.get_query_argument("since", None))
        self.relay = asyncio.create_task(self.relay_events())

    async def authenticate(self, message: str | bytes) -> None:
        """A pending socket's first message: authenticated, it starts as if its upgrade
        had carried the token (the same authorizer and ownership checks)."""
        try:
            document = parse_json(message)
        except InvalidRequest:
            document = None
        user = await self.auth.authenticate(document)
        if user is None:
            return
        self.pending = False
        self.current_user = self._jupyter_current_user = user
        refusal = await self.refusal()
        if self.auth.closing():  # the client left meanwhile: nothing to start
            return
        if refusal is not None:
            status, reason = refusal
            code = CLOSE_NOTEBOOK_DELETED if status == 404 else CLOSE_AUTH_FAILED
            self.close(code, reason)
            return
        await self.start()
        request_id = document.get("request_id")
        if request_id is not None:
            result = {"username": user.username, "expires_at": user.expires_at}
            self.send({"type": "ack", "request_id": request_id, "result": result})

    async def greet(self, since: str | None) -> None:
        """A snapshot, or the events after ``since`` when they are all still kept."""
        missed = None
        if since is not None and since.isascii() and since.isdigit() and len(since) < 30:
            missed = self.service.hub.since(self.notebook_id, int(since))  # else: a snapshot
        if missed is None:
            await self.send_snapshot()
            return
        self.send({"type": "resumed", "seq": self.service.hub.last_seq(self.notebook_id)})
        for event in missed:
            self.send_text(event.encoded)

    async def send_snapshot(self) -> None:
        opened = await self.service.get_notebook(self.user, self.notebook_id)
        # Synchronous from here: the snapshot and its seq describe the same moment, and
        # the subscription (opened before) holds every event after it.
        seq = self.service.hub.last_seq(self.notebook_id)
        if self.subscription is not None:
            self.subscription.resume()
        self.send(
            {
                "type": "snapshot",
                "seq": seq,
                "notebook": self.service.describe_notebook(opened),
                "kernel_state": opened.kernel_state,
            }
        )

    @property
    def max_pending_bytes(self) -> int:
        return self.context.websocket_max_pending_bytes

    async def until_drained(self) -> None:
        """Return once the client has at most ``max_pending_bytes`` left to receive."""
        while self.unflushed > self.max_pending_bytes:
            if self._drained is None:
                self._drained = asyncio.Event()
            self._drained.clear()
            await self._drained.wait()

    async def relay_events(self) -> None:
        # Held here: a write to a closed socket calls stop_relay, which clears the
        # attribute and cancels this task (its next await ends it).
        subscription = self.subscription
        assert subscription is not None
        while True:
            await self.until_drained()  # meanwhile events queue, or the subscription lags
            event = await subscription.get()
            if event is None:  # this client fell too far behind: start it afresh
                try:
                    await self.send_snapshot()
                except NotebookError:  # deleted meanwhile (its event was dropped)
                    self.close(CLOSE_NOTEBOOK_DELETED, "the notebook was deleted")
                    return
                continue
            self.send_events([event, *subscription.pending()])

    def flush_events(self) -> None:
        """Send the events queued for this client now: an answer sent next then follows
        every event its command published (a client that gets the ``ack`` of
        ``create_cell`` already has the ``cell_created``)."""
        if self.subscription is not None:
            self.send_events(self.subscription.pending())

    def send_events(self, burst: list[Event]) -> None:
        if not burst:
            return
        if self.batching and len(burst) > 1:
            events = ",".join(queued.encoded for queued in burst)
            self.send_text(f'{{"type":"batch","events":[{events}]}}')
        else:
            for queued in burst:
                self.send_text(queued.encoded)
        if burst[-1].type == "notebook_deleted":
            self.close(CLOSE_NOTEBOOK_DELETED, "the notebook was deleted")

    def send(self, message: dict[str, Any]) -> None:
        self.send_text(dumps(message))

    def send_text(self, text: str) -> None:
        try:
            sent = self.write_message(text)
        except WebSocketClosedError:
            self.stop_relay()
            return
        size = len(text)
        self.unflushed += size
        sent.add_done_callback(lambda done: self._after_send(done, size))

    def _after_send(self, sent: asyncio.Future[None], size: int) -> None:
        """A write handed to the network (or failed): count it off, wake a relay that
        waits for the client to drain, and when it failed because the client went away,
        stop relaying to it (and take the exception, which asyncio would otherwise log
        as never retrieved)."""
        self.unflushed -= size
        if self._drained is not None and self.unflushed <= self.max_pending_bytes:
            self._drained.set()
        if not sent.cancelled() and sent.exception() is not None:
            self.stop_relay()

    async def on_message(self, message: str | bytes) -> None:
        if self.pending:
            await self.authenticate(message)
            return
        request_id: Any = None
        try:
            document = parse_json(message)
            if isinstance(document, dict):
                request_id = document.get("request_id")
            kind = document.get("type") if isinstance(document, dict) else None
            if kind in AUTH_MESSAGES:
                if kind == "auth":
                    raise InvalidRequest(
                        "this connection is already authenticated; renew its token with"
                        " refresh_auth",
                        field="type",
                    )
                refreshed = await self.auth.refresh(document)
                if refreshed is None:  # closing: the token named another user
                    return
                if request_id is not None:
                    self.send({"type": "ack", "request_id": request_id, "result": refreshed})
                return
            if not isinstance(kind, str) or kind not in COMMANDS:
                known = ", ".join(sorted(COMMANDS))
                raise InvalidRequest(f"unknown message type {kind!r}; known: {known}", field="type")
            command = validate(document, CLIENT_MESSAGES[kind])
            action, resource, run = COMMANDS[kind]
            if not self.authorizer.is_authorized(self, self.current_user, action, resource):
                raise _Forbidden(f"not allowed to {action} {resource}")
            result = await run(self, command)
            await self.until_drained()
        except NotebookError as error:
            await self.until_drained()
            self.flush_events()
            self.send(
                {"type": "error", "message": error.message, **_echo(request_id), **error.details()}
            )
            return
        except Exception:  # a bug or a failing store: say so, and keep the socket open
            self.log.exception("WebSocket message on notebook %s failed", self.notebook_id)
            await self.until_drained()
            self.flush_events()
            message = "internal server error: see the server log"
            self.send({"type": "error", "message": message, **_echo(request_id)})
            return
        self.flush_events()
        if request_id is not None:
            self.send({"type": "ack", "request_id": request_id, "result": result or {}})

    def on_close(self) -> None:
        self.auth.cancel()
        self.stop_relay()

    def stop_relay(self) -> None:
        if self.relay is not None:
            self.relay.cancel()
            self.relay = None
        if self.subscription is not None:
            self.subscription.close()
            self.subscription = None


class _Forbidden(NotebookError):
    status = 403


def _echo(request_id: Any) -> dict[str, Any]:
    return {} if request_id is None else {"request_id": request_id}


# -- commands: the same service calls REST makes ---------------------------------------


async def _run_cell(socket: NotebookSocket, m: dict[str, Any]) -> dict[str, Any] | None:
    await socket.service.run_cell(socket.user, socket.notebook_id, m["cell_id"], code=m.get("code"))
    return None


async def _run_all(socket: NotebookSocket, m: dict[str, Any]) -> dict[str, Any] | None:
    await socket.service.run_all(
        socket.user, socket.notebook_id, codes=m.get("codes"), cell_ids=m.get("cell_ids")
    )
    return None


async def _update_cell(socket: NotebookSocket, m: dict[str, Any]) -> dict[str, Any] | None:
    await socket.service.update_cell(
        socket.user,
        socket.notebook_id,
        m["cell_id"],
        m["code"],
        cell_type=m.get("cell_type"),
        output=m.get("output"),
        expected_revision=m.get("expected_revision"),
    )
    return None


async def _create_cell(socket: NotebookSocket, m: dict[str, Any]) -> dict[str, Any] | None:
    cell = await socket.service.create_cell(
        socket.user,
        socket.notebook_id,
        m["cell_type"],
        m.get("code", ""),
        after_cell_id=m.get("after_cell_id"),
        at_end="after_cell_id" not in m,
        output=m.get("output"),
        expected_revision=m.get("expected_revision"),
    )
    return {"cell_id": cell.id}


async def _delete_cell(socket: NotebookSocket, m: dict[str, Any]) -> dict[str, Any] | None:
    await socket.service.delete_cell(
        socket.user, socket.notebook_id, m["cell_id"], expected_revision=m.get("expected_revision")
    )
    return None


async def _move_cell(socket: NotebookSocket, m: dict[str, Any]) -> dict[str, Any] | None:
    index = await socket.service.move_cell(
        socket.user,
        socket.notebook_id,
        m["cell_id"],
        m["after_cell_id"],
        expected_revision=m.get("expected_revision"),
    )
    return {"index": index}


async def _update_db(socket: NotebookSocket, m: dict[str, Any]) -> dict[str, Any] | None:
    await socket.service.set_db_connection(
        socket.user, socket.notebook_id, m["connection_string"], m.get("expected_revision")
    )
    return None


async def _rename(socket: NotebookSocket, m: dict[str, Any]) -> dict[str, Any] | None:
    await socket.service.rename_notebook(
        socket.user, socket.notebook_id, m["name"], m.get("expected_revision")
    )
    return None


async def _interrupt(socket: NotebookSocket, m: dict[str, Any]) -> dict[str, Any] | None:
    await socket.service.interrupt(socket.user, socket.notebook_id)
    return None


async def _sync(socket: NotebookSocket, m: dict[str, Any]) -> dict[str, Any] | None:
    await socket.send_snapshot()
    return None


#: message type -> (authorizer action, authorizer resource, command)
COMMANDS: dict[str, tuple[str, str, Command]] = {
    "run_cell": ("execute", "kernels", _run_cell),
    "run_all": ("execute", "kernels", _run_all),
    "interrupt": ("execute", "kernels", _interrupt),
    "cell_update": ("write", "contents", _update_cell),
    "create_cell": ("write", "contents", _create_cell),
    "delete_cell": ("write", "contents", _delete_cell),
    "move_cell": ("write", "contents", _move_cell),
    "update_db_connection": ("write", "contents", _update_db),
    "rename_notebook": ("write", "contents", _rename),
    "sync": ("read", "contents", _sync),
}

__all__ = ["COMMANDS", "NotebookSocket"]
