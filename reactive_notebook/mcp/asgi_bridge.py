"""Serve one Tornado request with an ASGI application (the MCP SDK's session manager).

Tornado is not ASGI. :class:`AsgiBridge` builds the ASGI scope from the Tornado
request, hands the (already read) body to ``receive``, and turns the ``send`` events
into Tornado's status, headers and writes: each body chunk is flushed at once, so a
Server-Sent Events response streams. A client that goes away is reported to the
application as ``http.disconnect`` (the SDK then cancels what the request was doing);
what it sends afterwards is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from tornado.iostream import StreamClosedError
from tornado.web import RequestHandler

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class AsgiBridge:
    """One request: ``await AsgiBridge(handler, extra_scope).serve(app)``; call
    :meth:`disconnected` from the handler's ``on_connection_close``."""

    def __init__(self, handler: RequestHandler, extra_scope: dict[str, Any] | None = None) -> None:
        self.handler = handler
        self.extra_scope = extra_scope or {}
        #: The response's Content-Type, as the application set it ("" before it did).
        self.content_type = ""
        self.started = False
        self.finished = False
        self._body_sent = False
        self._gone = asyncio.Event()

    def scope(self) -> dict[str, Any]:
        request = self.handler.request
        host, port = _host_and_port(request.host, request.protocol)
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": request.version.rpartition("/")[2] or "1.1",
            "method": request.method,
            "scheme": request.protocol,
            "path": unquote(request.path),
            "raw_path": request.path.encode("latin-1"),
            "root_path": "",
            "query_string": request.query.encode("latin-1"),
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers.get_all()
            ],
            "client": (request.remote_ip or "", 0),
            "server": (host, port),
            "state": {},
            **self.extra_scope,
        }

    async def serve(self, app: AsgiApp) -> None:
        """Run ``app`` for this request; a 500 if it answered nothing."""
        await app(self.scope(), self.receive, self.send)
        if not self.started and not self._gone.is_set():
            self.handler.send_error(500)
        elif not self.finished and not self._gone.is_set():
            self._finish()

    def disconnected(self) -> None:
        self._gone.set()

    async def receive(self) -> Message:
        if not self._body_sent:
            self._body_sent = True
            return {
                "type": "http.request",
                "body": self.handler.request.body or b"",
                "more_body": False,
            }
        await self._gone.wait()  # the body was whole: what is left to hear is the hang-up
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.finished or self._gone.is_set():
            return
        if message["type"] == "http.response.start":
            self._start(int(message["status"]), message.get("headers", []))
        elif message["type"] == "http.response.body":
            body = bytes(message.get("body", b""))
            if body:
                self.handler.write(body)
            if message.get("more_body", False):
                try:
                    await self.handler.flush()
                except StreamClosedError:
                    self._gone.set()
            else:
                self._finish()

    def _start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.started = True
        handler = self.handler
        handler.set_status(status)
        handler.clear_header("Content-Type")
        seen: set[str] = set()
        for raw_name, raw_value in headers:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            if name.lower() == "content-type":
                self.content_type = value
            if name.lower() in seen:
                handler.add_header(name, value)
            else:
                handler.set_header(name, value)
                seen.add(name.lower())

    def _finish(self) -> None:
        self.finished = True
        try:
            self.handler.finish()
        except StreamClosedError:
            self._gone.set()


def _host_and_port(host: str, scheme: str) -> tuple[str, int]:
    default = 443 if scheme == "https" else 80
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit() and (":" not in name or name.endswith("]")):
        return name, int(port)
    return host, default
