"""The notebook chat's routes (docs/chat-api.md): parse, call the injected
:class:`~reactive_notebook.agent.chat.ChatService`, and stream a turn's events as
Server-Sent Events.

A stream ends when its turn ends, or when the client goes away: then the turn keeps
going for ``ReactiveNotebook.chat_resume_grace`` seconds in case the client resumes
(``GET .../chat/stream`` with ``Last-Event-ID``), and is cancelled if none does.
"""

from __future__ import annotations

import asyncio
import contextlib

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ..agent.chat import ChatService, check_message
from ..agent.chat_stream import TurnEvents
from ..notebooks.errors import NotebookError
from .base import ReactiveHandler, authorized_execute


class ChatUnavailable(NotebookError):
    status = 503


class _ChatHandler(ReactiveHandler):
    """Common ground: the chat service, and streaming a turn."""

    _pump: asyncio.Future[None] | None = None

    @property
    def chat(self) -> ChatService:
        if self.context.chat is None:  # the app always builds one; a test may not
            raise ChatUnavailable("the notebook chat is not set up on this server")
        return self.context.chat

    async def stream(self, events: TurnEvents, start: int) -> None:
        """Write the turn's events from ``start`` until it ends or the client goes."""
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache, no-transform")
        self.set_header("X-Accel-Buffering", "no")  # nginx: do not hold the stream back
        self._pump = asyncio.ensure_future(self._write_events(events, start))
        with contextlib.suppress(asyncio.CancelledError, StreamClosedError):
            await self._pump
        if not self.request.connection or self._finished:
            return
        with contextlib.suppress(StreamClosedError):
            self.finish()

    async def _write_events(self, events: TurnEvents, start: int) -> None:
        async for event in events.follow(start, keep_alive=self.context.chat_keep_alive):
            self.write(": keep-alive\n\n" if event is None else event.frame())
            await self.flush()

    def on_connection_close(self) -> None:
        """The client went away: stop following (the turn's grace period starts)."""
        if self._pump is not None:
            self._pump.cancel()
        super().on_connection_close()


class ChatHandler(_ChatHandler):
    """``/notebooks/{id}/chat``: send a message (SSE answer), the history, clear it."""

    auth_resource = "contents"

    @web.authenticated
    @authorized_execute  # the assistant runs code in the notebook's kernel
    async def post(self, notebook_id: str) -> None:
        message = check_message(self.body("ChatMessage")["message"])
        events = await self.chat.start(self.user, notebook_id, message)
        await self.stream(events, 0)

    @web.authenticated
    @authorized
    async def get(self, notebook_id: str) -> None:
        self.reply(await self.chat.records(self.user, notebook_id))

    @web.authenticated
    @authorized
    async def delete(self, notebook_id: str) -> None:
        await self.chat.clear(self.user, notebook_id)
        self.no_content()


class ChatStreamHandler(_ChatHandler):
    """``/notebooks/{id}/chat/stream``: resume the running (or last) turn's events after
    ``Last-Event-ID``."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def get(self, notebook_id: str) -> None:
        await self.service.get_notebook(self.user, notebook_id)  # 404 if not theirs
        last = self.request.headers.get("Last-Event-ID") or self.get_query_argument(
            "last_event_id", None
        )
        events = self.chat.last_turn(self.user, notebook_id)
        await self.stream(events, events.position_after(last))


class ChatCancelHandler(_ChatHandler):
    """``/notebooks/{id}/chat/cancel``: stop the running turn (and its run, if asked)."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized_execute
    async def post(self, notebook_id: str) -> None:
        body = self.body("ChatCancel")
        cancelled = await self.chat.cancel(
            self.user, notebook_id, interrupt=bool(body.get("interrupt", False))
        )
        self.reply({"cancelled": cancelled})


class ChatRevertHandler(_ChatHandler):
    """``/notebooks/{id}/chat/revert``: put back what the assistant's last turn changed."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized_execute
    async def post(self, notebook_id: str) -> None:
        self.body("ChatRevert")
        self.reply(await self.chat.revert(self.user, notebook_id))
