"""A JupyterLab tab, played by a pure-Python Y client of a collaboration room.

It does what the stock notebook's model does: asks ``/api/collaboration/session`` for
the room of a file, joins it over the room's WebSocket, and keeps a ``YNotebook`` in
sync both ways (pycrdt's ``Provider`` speaks the Y sync protocol). Tests read the
document, edit it as a person typing would, and wait for what they expect with a
timeout (never a sleep).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Doc, Provider
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

#: Generous: only a failing test waits this long (a loaded 2-core CI machine).
TIMEOUT = 30.0


@dataclass(frozen=True)
class ServerAddress:
    """Where the test server listens, and the headers that authenticate to it."""

    port: int
    base_url: str
    headers: dict[str, str]


class _Channel:
    """pycrdt's ``Channel`` over a Tornado WebSocket client connection."""

    def __init__(self, connection: WebSocketClientConnection, path: str) -> None:
        self._connection = connection
        self._path = path
        #: Cleared: what the tab sends waits (in order) until it is set again.
        self.open_gate = asyncio.Event()
        self.open_gate.set()

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> _Channel:
        return self

    async def __anext__(self) -> bytes:
        message = await self._connection.read_message()
        if message is None:
            raise StopAsyncIteration
        return message if isinstance(message, bytes) else message.encode()

    async def send(self, message: bytes) -> None:
        await self.open_gate.wait()
        await self._connection.write_message(message, binary=True)

    async def recv(self) -> bytes:
        return await self.__anext__()


class YTab:
    """One Y client of a notebook's room."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.room = ""
        self.connection: WebSocketClientConnection | None = None
        self.document = YNotebook(Doc())
        self.provider: Provider | None = None
        self.channel: _Channel | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, fetch: Any, server: ServerAddress, path: str) -> YTab:
        tab = cls(path)
        await tab.connect(fetch, server)
        return tab

    async def connect(self, fetch: Any, server: ServerAddress) -> None:
        """Join the file's room (again, keeping the document: what the stock provider
        does when its WebSocket closes; the room and the tab exchange what each lacks)."""
        response = await fetch(
            "api",
            "collaboration",
            "session",
            self.path,
            method="PUT",
            body=json.dumps({"format": "json", "type": "notebook"}),
        )
        session = json.loads(response.body)
        self.room = f"{session['format']}:{session['type']}:{session['fileId']}"
        # The room's name goes in the URL as it is: the server reads "json:notebook:<id>"
        # literally (escaped colons would name a transient room of another name).
        url = (
            f"ws://127.0.0.1:{server.port}{server.base_url}api/collaboration/room/{self.room}"
            f"?sessionId={session['sessionId']}"
        )
        self.connection = await websocket_connect(HTTPRequest(url, headers=server.headers))
        self.channel = _Channel(self.connection, self.room)
        self.provider = Provider(self.document.ydoc, self.channel)
        self._task = asyncio.create_task(self.provider.start())
        await self.provider.started.wait()
        await asyncio.wait_for(self.provider.synced.wait(), TIMEOUT)

    async def close(self) -> None:
        """Leave the room, as closing the tab does (or as a dropped connection does)."""
        with contextlib.suppress(Exception):
            if self.provider is not None:
                await self.provider.stop()
        if self.connection is not None:
            self.connection.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    # -- reading ------------------------------------------------------------------------

    def cells(self) -> list[dict[str, Any]]:
        return list(self.document.ycells.to_py() or [])

    def ids(self) -> list[str]:
        return [str(cell["id"]) for cell in self.document.ycells]

    def sources(self) -> list[str]:
        return [str(cell["source"]) for cell in self.document.ycells]

    def cell(self, cell_id: str) -> dict[str, Any]:
        for cell in self.cells():
            if cell["id"] == cell_id:
                return cell
        raise KeyError(cell_id)

    async def wait_for(self, check: Callable[[], Any], what: str) -> Any:
        """Wait until ``check()`` is truthy (errors count as not yet); its value."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            with contextlib.suppress(KeyError, IndexError):
                value = check()
                if value:
                    return value
            if time.monotonic() > deadline:
                raise AssertionError(f"the tab never saw {what}: {self.cells()}")
            await asyncio.sleep(0.005)

    # -- a slow connection ------------------------------------------------------------------

    def hold_edits(self) -> None:
        """From now on the tab's changes stay on its side (a slow or stalled WebSocket)
        until :meth:`release_edits`; they are then sent in order."""
        assert self.channel is not None
        self.channel.open_gate.clear()

    def release_edits(self) -> None:
        assert self.channel is not None
        self.channel.open_gate.set()

    # -- editing, as a person in the tab ----------------------------------------------------

    def type_into(self, cell_id: str, text: str) -> None:
        with self.document.ydoc.transaction():
            for cell in self.document.ycells:
                if cell["id"] == cell_id:
                    source = cell["source"]
                    source.insert(len(source), text)
                    return
        raise KeyError(cell_id)

    def replace_source(self, cell_id: str, text: str) -> None:
        with self.document.ydoc.transaction():
            for cell in self.document.ycells:
                if cell["id"] == cell_id:
                    source = cell["source"]
                    del source[0 : len(source)]
                    source.insert(0, text)
                    return
        raise KeyError(cell_id)

    def add_cell(self, index: int, source: str, cell_type: str = "code") -> str:
        cell: dict[str, Any] = {"cell_type": cell_type, "source": source, "metadata": {}}
        if cell_type == "code":
            cell.update(outputs=[], execution_count=None)
        with self.document.ydoc.transaction():
            ycell = self.document.create_ycell(cell)
            self.document.ycells.insert(index, ycell)
            return str(ycell["id"])

    def delete_cell(self, cell_id: str) -> None:
        with self.document.ydoc.transaction():
            self.document.ycells.pop(self.ids().index(cell_id))
