"""Clients that vanish without a close handshake (a killed tab, a dropped network): the
server goes on publishing to the notebook, and its writes to the dead connections fail.

Tornado's ``write_message`` returns a task that fails with ``WebSocketClosedError`` once
the peer's TCP connection is gone; a handler that drops that task makes asyncio log "Task
exception was never retrieved" with a traceback (jupyter_server 2.21's own event stream,
``/api/events/subscribe``, does, which is why the browser tests' log check lets exactly
that upstream traceback through). Ours must take every such failure and stop relaying.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import os
import socket
import struct
from typing import Any

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from .conftest import Api, payload
from .wsclient import WsClient


async def open_raw_socket(port: int, path: str, auth: dict[str, str]) -> asyncio.StreamWriter:
    """A WebSocket upgrade done by hand over a plain TCP connection (a real client would
    not let the test reset the connection without a close frame)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    headers = {
        "Host": f"127.0.0.1:{port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
        **auth,
    }
    request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write((request + "\r\n").encode())
    status = await asyncio.wait_for(reader.readline(), 30)
    assert b" 101 " in status, status
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    return writer


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset: no close frame, no FIN handshake."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def test_writes_to_clients_that_vanished_leave_no_unretrieved_exception(
    api: Api,
    jp_serverapp: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    jp_ws_fetch: Any,
) -> None:
    created = await api("POST", "notebooks", body={"name": "dropped clients"})
    notebook_id = payload(created)["notebook_id"]
    path = f"{jp_base_url}reactive/api/v1/notebooks/{notebook_id}/ws"
    hub = jp_serverapp.web_app.settings["reactive_notebook_service"].hub

    loop = asyncio.get_running_loop()
    unretrieved: list[dict[str, Any]] = []
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: unretrieved.append(context))
    try:
        for _ in range(3):
            writer = await open_raw_socket(jp_http_port, path, jp_auth_header)
            # The client reads nothing: once the socket buffers are full, the server's
            # writes wait in Tornado, and the reset fails them (not the next write).
            # Published on the hub directly: 13 MB of events stand for a long run's
            # output, which a kernel would take far longer to print.
            for _ in range(200):
                hub.publish(notebook_id, "notebook_updated", name="x" * 65536)
                await asyncio.sleep(0)
            reset(writer)
            await asyncio.sleep(0.3)
        gc.collect()  # an unretrieved task exception is reported when the task is freed
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous_handler)

    # Only failed writes to a closed connection are this test's; other tests of the same
    # process leave tasks of their own (closed loops, SSE watchers) that may be freed now.
    reported = [
        f"{context.get('message')}: {context.get('exception')!r}"
        for context in unretrieved
        if isinstance(context.get("exception"), WebSocketClosedError | StreamClosedError)
    ]
    assert reported == []
    # A new client of the notebook is served as ever.
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        assert (await client.next())["type"] == "snapshot"
