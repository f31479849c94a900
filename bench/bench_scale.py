"""Hostile sizes against a real server (issue 12 item 2), against baselines in the same run.

A real ``jupyter server`` with the extension in a subprocess on 127.0.0.1 (see
``bench_server.Server``); this process is the client.

- **cells over the WebSocket**: N ``create_cell`` messages sent at once (each cell goes
  last), until the last ``ack``, for N = 500, 5000 and 10000; the per-cell cost at 5000 and
  10000 against the per-cell cost at 500 (a linear server gives ~1x; before the fix 5,000
  cells took 29 s and 10,000 took 74 s).
- **status while a slow cell is analysed**: ``GET /api/status`` latency while a PUT sends
  a cell CPython takes seconds to compile (an f-string of 60,000 fields), against the
  same request on an idle server (before the fix: blocked 5.7-9.9 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time

from bench_server import Server
from tornado.websocket import WebSocketClientConnection

SLOW_TO_COMPILE = 'f"' + "{a}" * 60_000 + '"\nb = 1'


async def create_cells(ws: WebSocketClientConnection, count: int) -> float:
    """Seconds from sending ``count`` create_cell messages at once (each cell goes last) to
    the last one's ``ack``: the server's own cost, not the round trips."""
    start = time.perf_counter()
    for number in range(count):
        message = {
            "type": "create_cell",
            "cell_type": "python",
            "code": f"v{number} = {number}",
            "request_id": number,
        }
        await ws.write_message(json.dumps(message))
    while True:
        reply = json.loads(await ws.read_message())  # type: ignore[arg-type]
        if reply.get("type") == "error":
            raise RuntimeError(reply)
        if reply.get("type") == "ack" and reply.get("request_id") == count - 1:
            return time.perf_counter() - start


async def cells_over_websocket(server: Server) -> None:
    per_cell = {}
    for count in (500, 5000, 10000):
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
    for count in (5000, 10000):
        ratio = per_cell[count] / per_cell[500]
        print(f"  per-cell cost at {count} / at 500: {ratio:.2f}x (linear: ~1x)")


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


async def main(source: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = f"{folder}/root"
        os.makedirs(root)
        server = Server(root, source=source)
        await server.start()
        try:
            await cells_over_websocket(server)
            await status_during_slow_analysis(server)
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        help="serve the extension from this checkout (a folder holding reactive_notebook/), "
        "e.g. the code before a change, to compare the two",
    )
    asyncio.run(main(parser.parse_args().source))
