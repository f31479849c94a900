"""A WebSocket client that stops reading holds a bounded part of the server's memory,
and catches up with a snapshot when it reads again (issue 12, item 8).

Tornado buffers what is written to a socket until the client takes it, without limit:
before, every event of a long run was written to a client that read nothing (+443 MB of
server memory for a cell printing 100 MB), and kept again in the notebook's history.
"""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
from typing import Any

import pytest
from tornado.websocket import WebSocketClientConnection

from .conftest import Api, payload

BOUND = 1_000_000
EVENT = 1_000_000  # bytes of each event published
EVENTS = 40


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    reactive = {
        **jp_server_config["ReactiveNotebook"],
        "websocket_max_pending_bytes": BOUND,
        "event_history_bytes": BOUND,
    }
    return {**jp_server_config, "ReactiveNotebook": reactive}


async def read(connection: WebSocketClientConnection) -> dict[str, Any]:
    raw = await asyncio.wait_for(connection.read_message(), 30)
    assert raw is not None, "the socket closed"
    message: dict[str, Any] = json.loads(raw)
    return message


async def test_a_client_that_stops_reading_is_not_written_past_the_bound_then_resyncs(
    api: Api, jp_serverapp: Any, jp_ws_fetch: Any
) -> None:
    created = await api("POST", "notebooks", body={"name": "slow reader"})
    notebook_id = payload(created)["notebook_id"]
    hub = jp_serverapp.web_app.settings["reactive_notebook_service"].hub
    # Tornado's client reads one message ahead of read_message, then stops reading the
    # socket: once the system's socket buffers are full, the server's writes wait.
    client = await jp_ws_fetch("reactive", "api", "v1", "notebooks", notebook_id, "ws")
    assert (await read(client))["type"] == "snapshot"

    gc.collect()
    tracemalloc.start()
    try:
        # 40 MB of events stand for a long run's output (a kernel takes longer).
        for n in range(EVENTS):
            hub.publish(notebook_id, "notebook_updated", name=f"{n:03d}" + "x" * (EVENT - 3))
            await asyncio.sleep(0.01)  # the relay writes what it may
        await asyncio.sleep(0.5)
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Before: every event written to Tornado's buffer and kept in the history (> 100 MB
    # held). Now: the bound written and not yet sent (plus the frame that crossed it),
    # the bound queued, the bound of history. An event is held as its data and its
    # JSON, and Tornado copies a frame up to three times on its way out: ~8 MB.
    assert held < 12 * BOUND, f"{held / 1e6:.1f} MB held"

    # Reading again: the events written before it stalled, in order with no gap, then
    # a snapshot of the present; from there on, live events.
    received = []
    while (message := await read(client))["type"] != "snapshot":
        received.append(message)
    seqs = [m["seq"] for m in received]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert len(received) < EVENTS  # the rest was dropped, not queued
    assert message["seq"] == hub.last_seq(notebook_id)
    await api("PUT", "notebooks", notebook_id, "name", body={"name": "caught up"})
    renamed = await read(client)
    assert (renamed["type"], renamed["name"], renamed["seq"]) == (
        "notebook_updated",
        "caught up",
        message["seq"] + 1,
    )
    client.close()
