"""Hostile sizes against a real server (issue 12 item 2), against baselines in the same run.

A real ``jupyter server`` with the extension in a subprocess on 127.0.0.1 (see
``bench_server.Server``); this process is the client.

- **cells over the WebSocket**: create N cells one by one (each waits for its ``ack``), for
  N = 500 and N = 5000; the per-cell cost at 5000 against the per-cell cost at 500 (a
  linear server gives ~1x; before the fix 5,000 cells took 29 s).
- **status while a slow cell is analysed**: ``GET /api/status`` latency while a PUT sends
  a cell CPython takes seconds to compile (an f-string of 60,000 fields), against the
  same request on an idle server (before the fix: blocked 5.7-9.9 s).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from typing import Any

from bench_server import Server
from tornado.websocket import WebSocketClientConnection

SLOW_TO_COMPILE = 'f"' + "{a}" * 60_000 + '"\nb = 1'


async def create_cells(ws: WebSocketClientConnection, count: int) -> float:
    """Seconds to create ``count`` cells, each after the last, each waiting for its ack."""
    after = None
    start = time.perf_counter()
    for number in range(count):
        message: dict[str, Any] = {
            "type": "create_cell",
            "cell_type": "python",
            "code": f"v{number} = {number}",
            "request_id": number,
        }
        if after is not None:
            message["after_cell_id"] = after
        await ws.write_message(json.dumps(message))
        while True:
            reply = json.loads(await ws.read_message())  # type: ignore[arg-type]
            if reply.get("type") == "ack" and reply.get("request_id") == number:
                after = reply["result"]["cell_id"]
                break
            if reply.get("type") == "error":
                raise RuntimeError(reply)
    return time.perf_counter() - start


async def cells_over_websocket(server: Server) -> None:
    per_cell = {}
    for count in (500, 5000):
        created = await server.request(
            "POST", "reactive/api/v1/notebooks", {"name": f"scale {count}"}
        )
        ws = await server.socket(created["notebook_id"])
        await ws.read_message()  # the snapshot
        seconds = await create_cells(ws, count)
        ws.close()
        per_cell[count] = seconds / count
        print(
            f"create {count:>5} cells over the WebSocket: {seconds:6.2f} s "
            f"({per_cell[count] * 1e3:.2f} ms per cell)"
        )
    print(f"  per-cell cost at 5000 / at 500: {per_cell[5000] / per_cell[500]:.2f}x (linear: ~1x)")


async def status_latency(server: Server) -> float:
    start = time.perf_counter()
    await server.request("GET", "api/status")
    return time.perf_counter() - start


async def status_during_slow_analysis(server: Server) -> None:
    idle = [await status_latency(server) for _ in range(20)]
    created = await server.request("POST", "reactive/api/v1/notebooks", {"name": "slow"})
    notebook = f"reactive/api/v1/notebooks/{created['notebook_id']}"
    cell = await server.request("POST", f"{notebook}/cells", {"type": "python"})
    start = time.perf_counter()
    put = asyncio.ensure_future(
        server.request("PUT", f"{notebook}/cells/{cell['cell_id']}", {"code": SLOW_TO_COMPILE})
    )
    during = []
    while not put.done():
        during.append(await status_latency(server))
        await asyncio.sleep(0.05)
    await put
    analysed = time.perf_counter() - start
    print(f"PUT of a cell that takes seconds to compile: answered after {analysed:.2f} s")
    print(
        f"  GET /api/status meanwhile: {len(during)} answered, max {max(during) * 1e3:.1f} ms,"
        f" median {statistics.median(during) * 1e3:.1f} ms; idle server: median "
        f"{statistics.median(idle) * 1e3:.1f} ms "
        f"({statistics.median(during) / statistics.median(idle):.2f}x)"
    )


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = f"{folder}/root"
        os.makedirs(root)
        server = Server(root)
        await server.start()
        try:
            await cells_over_websocket(server)
            await status_during_slow_analysis(server)
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
