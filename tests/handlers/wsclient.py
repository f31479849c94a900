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
        #: How many ``batch`` frames arrived (their events are in ``received``).
        self.batch_frames = 0
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
        batch: bool = False,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> WsClient:
        """Open a socket (``jp_ws_fetch`` adds the token header unless ``headers`` has
        its own ``Authorization``). With ``batch``, the server's batch frames are
        unpacked into their events (and counted in ``batch_frames``)."""
        params = dict(params or {})
        if since is not None:
            params["since"] = str(since)
        if batch:
            params["batch"] = "1"
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
            unpacked = [message]
            if message.get("type") == "batch":
                self.batch_frames += 1
                unpacked = message["events"]
            for one in unpacked:
                self.received.append(one)
                await self._queue.put(one)

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

    async def exchange(self, message: Message, timeout: float = TIMEOUT) -> list[Message]:
        """Send ``message`` with a fresh ``request_id``; the messages taken up to and
        including its ``ack`` or ``error``."""
        request_id = f"r{next(_request_ids)}"
        self.send({**message, "request_id": request_id})
        return await self.until(lambda m: answers(m, request_id), timeout)

    async def request(self, message: Message, timeout: float = TIMEOUT) -> Message:
        """Send ``message`` with a fresh ``request_id``; its ``ack`` or ``error``."""
        return (await self.exchange(message, timeout))[-1]

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
    """The events (not snapshots, answers...) of the given types, or all of them."""
    return [
        m
        for m in messages
        if "seq" in m and m["type"] not in NOT_EVENTS and (not types or m["type"] in types)
    ]


#: Messages that carry a ``seq`` but are not events.
NOT_EVENTS = frozenset({"snapshot", "resumed"})


def statuses(messages: Iterable[Message], cell_id: str) -> list[str]:
    """The statuses ``cell_id`` went through, in order, repeated ones collapsed
    (a stale-flag update re-announces the same status)."""
    seen: list[str] = []
    for message in messages:
        mine = message["type"] == "cell_status" and message["cell_id"] == cell_id
        if mine and (not seen or seen[-1] != message["status"]):
            seen.append(message["status"])
    return seen


class Mirror:
    """A notebook as a client keeps it: the snapshot, then every event applied the way
    docs/websocket.md describes them. After a run it must agree with REST."""

    def __init__(self, snapshot: Message) -> None:
        self.notebook: dict[str, Any] = {}
        self.seq = 0
        self.reset(snapshot)

    def reset(self, snapshot: Message) -> None:
        assert snapshot["type"] == "snapshot", snapshot
        self.notebook = json.loads(json.dumps(snapshot["notebook"]))
        self.seq = snapshot["seq"]

    @property
    def cells(self) -> list[dict[str, Any]]:
        cells: list[dict[str, Any]] = self.notebook["cells"]
        return cells

    def cell(self, cell_id: str) -> dict[str, Any]:
        return next(c for c in self.cells if c["id"] == cell_id)

    def apply_all(self, messages: Iterable[Message]) -> None:
        for message in messages:
            self.apply(message)

    def apply(self, message: Message) -> None:
        if message["type"] == "snapshot":
            self.reset(message)
            return
        if "seq" not in message or message["seq"] <= self.seq:
            return  # not an event, or one the snapshot already holds
        assert message["seq"] == self.seq + 1, f"a gap before {message}"
        self.seq = message["seq"]
        kind = message["type"]
        if "revision" in message:
            self.notebook["revision"] = max(self.notebook["revision"], message["revision"])
        if kind == "cell_status":
            cell = self.cell(message["cell_id"])
            cell["status"] = message["status"]
            cell["stale"] = message.get("stale", cell["stale"])
            cell["error"] = message.get("error")  # no reason given: none
        elif kind in ("cell_created", "cell_updated"):
            if kind == "cell_created":
                self.cells.insert(message["index"], message["cell"])
            else:
                self.cells[self.cells.index(self.cell(message["cell_id"]))] = message["cell"]
        elif kind == "cell_deleted":
            self.cells.remove(self.cell(message["cell_id"]))
        elif kind == "cell_moved":
            cell = self.cell(message["cell_id"])
            self.cells.remove(cell)
            self.cells.insert(message["index"], cell)
        elif kind == "notebook_updated":
            self.notebook.update(
                {k: message[k] for k in ("name", "db_conn_string") if k in message}
            )

    def states(self) -> list[tuple[str, str, bool, str | None, str]]:
        """``(id, status, stale, error, code)`` of every cell, in order."""
        return [(c["id"], c["status"], c["stale"], c["error"], c["code"]) for c in self.cells]


def states(notebook: dict[str, Any]) -> list[tuple[str, str, bool, str | None, str]]:
    """``Mirror.states`` of a notebook as REST returns it."""
    return [(c["id"], c["status"], c["stale"], c["error"], c["code"]) for c in notebook["cells"]]
