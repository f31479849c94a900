"""A small client of the notebook WebSocket for tests.

A background reader collects every message as it arrives; tests then wait for the one
they expect with a timeout (never a sleep), and can look back at everything received
(``received``), e.g. to compare the sequence numbers two clients saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable, Iterable
from typing import Any

from tornado.websocket import WebSocketClientConnection

from .conftest import API

Message = dict[str, Any]
Predicate = Callable[[Message], bool]

#: How long a wait may take before the test fails (kernels start in ~1-3 s; the margin
#: is for a loaded 2-core CI machine). Only failing tests ever wait this long.
TIMEOUT = 60.0

_request_ids = itertools.count(1)


class WsClient:
    """One connection to ``/reactive/api/v1/notebooks/{id}/ws``."""

    def __init__(self, connection: WebSocketClientConnection) -> None:
        self.connection = connection
        #: Every message received so far, in order.
        self.received: list[Message] = []
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._closed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls,
        ws_fetch: Any,
        notebook_id: str,
        *,
        since: int | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> WsClient:
        """Open a socket (``jp_ws_fetch`` adds the token header unless ``headers`` has
        its own ``Authorization``)."""
        params = {} if since is None else {"since": str(since)}
        connection = await ws_fetch(
            *API, "notebooks", notebook_id, "ws", params=params, headers=dict(headers or {})
        )
        return cls(connection)

    async def _read(self) -> None:
        while True:
            raw = await self.connection.read_message()
            if raw is None:
                self._closed.set()
                await self._queue.put(None)
                return
            message = json.loads(raw)
            self.received.append(message)
            await self._queue.put(message)

    # -- receiving -------------------------------------------------------------------

    async def next(self, timeout: float = TIMEOUT) -> Message:
        """The next message not yet taken; fails on a timeout or a closed socket."""
        try:
            message = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            raise AssertionError(f"no message within {timeout} s") from None
        if message is None:
            self._queue.put_nowait(None)  # stays closed for later calls
            raise AssertionError(f"the socket closed ({self.close_code}, {self.close_reason!r})")
        return message

    async def until(self, predicate: Predicate, timeout: float = TIMEOUT) -> list[Message]:
        """Messages taken up to and including the first one matching ``predicate``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        taken: list[Message] = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"nothing matched within {timeout} s; got {taken}")
            try:
                message = await self.next(remaining)
            except AssertionError as error:
                raise AssertionError(f"{error}; before a match, got {taken}") from None
            taken.append(message)
            if predicate(message):
                return taken

    async def quiet(self, seconds: float = 0.2) -> list[Message]:
        """Whatever arrives within ``seconds`` (for asserting that nothing does)."""
        taken: list[Message] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(self._queue.get(), remaining)
            except TimeoutError:
                break
            if message is None:
                self._queue.put_nowait(None)
                break
            taken.append(message)
        return taken

    async def run_done(self, timeout: float = TIMEOUT) -> list[Message]:
        """Messages up to the end of the next run: through ``kernel_status`` busy (the
        run reached the kernel) to ``kernel_status`` idle (it has finished)."""
        started = await self.until(lambda m: kernel_state(m) == "busy", timeout)
        return started + await self.until(lambda m: kernel_state(m) == "idle", timeout)

    # -- sending ---------------------------------------------------------------------

    def send(self, message: Message | str | bytes) -> None:
        """Send a message (a dict is sent as JSON; text or bytes as they are)."""
        text = message if isinstance(message, str | bytes) else json.dumps(message)
        self.connection.write_message(text, binary=isinstance(text, bytes))

    async def request(self, message: Message, timeout: float = TIMEOUT) -> Message:
        """Send ``message`` with a fresh ``request_id``; its ``ack`` or ``error``."""
        request_id = f"r{next(_request_ids)}"
        self.send({**message, "request_id": request_id})
        taken = await self.until(lambda m: answers(m, request_id), timeout)
        return taken[-1]

    async def command(self, message: Message, timeout: float = TIMEOUT) -> Any:
        """``request`` that must succeed: the ``ack``'s result."""
        answer = await self.request(message, timeout)
        assert answer["type"] == "ack", answer
        return answer["result"]

    # -- closing ---------------------------------------------------------------------

    @property
    def close_code(self) -> int | None:
        return self.connection.close_code

    @property
    def close_reason(self) -> str | None:
        return self.connection.close_reason

    async def wait_closed(self, timeout: float = TIMEOUT) -> int | None:
        """The close code once the server has closed the socket."""
        try:
            await asyncio.wait_for(self._closed.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"the socket is still open after {timeout} s") from None
        return self.close_code

    async def close(self) -> None:
        self.connection.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def __aenter__(self) -> WsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def kernel_state(message: Message) -> str | None:
    """The state a ``kernel_status`` event announces (None for other messages)."""
    return message.get("state") if message.get("type") == "kernel_status" else None


def answers(message: Message, request_id: str) -> bool:
    """Whether ``message`` is the ``ack`` or ``error`` answering ``request_id``."""
    return message.get("type") in ("ack", "error") and message.get("request_id") == request_id


def events(messages: Iterable[Message], *types: str) -> list[Message]:
    """The messages of the given types (all events when none given)."""
    return [m for m in messages if "seq" in m and (not types or m["type"] in types)]


def statuses(messages: Iterable[Message], cell_id: str) -> list[str]:
    """The statuses ``cell_id`` went through, in order, repeated ones collapsed
    (a stale-flag update re-announces the same status)."""
    seen: list[str] = []
    for message in messages:
        mine = message["type"] == "cell_status" and message["cell_id"] == cell_id
        if mine and (not seen or seen[-1] != message["status"]):
            seen.append(message["status"])
    return seen
