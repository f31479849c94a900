"""Speed of the extension over HTTP and WebSocket, against baselines in the same run.

A real ``jupyter server`` with the extension runs in a subprocess on 127.0.0.1; this
process is the client (Tornado's HTTP and WebSocket clients).

- GET notebook (20 cells), PUT cell code, create cell: p50/p99 over many requests,
  interleaved with the server's own ``GET /api/contents/<the same file>`` (baseline).
- A run of a 100-cell chain, from the REST request to the last cell's final status on a
  WebSocket; baseline: the same cells as one execute request to a raw kernel (floor).
- Fan-out: 50 WebSocket clients of one notebook. For edits, the delay from the REST
  request to each client's receipt of the event (against the same with one client);
  for a 100-cell run, each event's spread from the first client's receipt to the last.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench_kernel import RawKernel, chain
from jupyter_client.multikernelmanager import AsyncMultiKernelManager
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

TOKEN = "bench-token"
BASE = "/bench%40base/"
REQUESTS = 300
CLIENTS = 50
PER_PROCESS = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(name: str, ours: list[float], base: list[float]) -> str:
    p50, p99 = percentile(ours, 0.5), percentile(ours, 0.99)
    b50, b99 = percentile(base, 0.5), percentile(base, 0.99)
    return (
        f"{name:<24} p50 {p50 * 1e3:6.2f} ms  p99 {p99 * 1e3:6.2f} ms   "
        f"{p50 / b50:4.2f}x / {p99 / b99:4.2f}x contents GET "
        f"(p50 {b50 * 1e3:5.2f} ms, p99 {b99 * 1e3:5.2f} ms)"
    )


class Server:
    """``jupyter server`` with the extension, in a subprocess: with ``extra`` options, and
    the extension from the checkout ``source`` (a folder holding ``reactive_notebook/``;
    default: the installed one)."""

    def __init__(
        self, root: str, *, extra: list[str] | None = None, source: str | None = None
    ) -> None:
        self.root = root
        self.extra = extra or []
        self.source = source
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{BASE}"
        self.process: subprocess.Popen[bytes] | None = None
        self.http = AsyncHTTPClient(max_body_size=1 << 30)

    async def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--port={self.port}",
            "--ip=127.0.0.1",
            "--no-browser",
            f"--ServerApp.base_url={BASE}",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.jpserver_extensions=reactive_notebook=True",
            "--ServerApp.contents_manager_class="
            "reactive_notebook.contents.atomic.AtomicFileContentsManager",
            "--ServerApp.log_level=WARN",
            *self.extra,
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        env = {**os.environ, **({"PYTHONPATH": self.source} if self.source else {})}
        log = open(os.path.join(self.root, "..", "server.log"), "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            command, stdout=log, stderr=log, env=env, cwd=self.source or None
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                await self.request("GET", "reactive/health")
                return
            except OSError:
                await asyncio.sleep(0.2)
        raise RuntimeError("the server did not start; see server.log")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """The JSON answer."""
        return (await self.request_sized(method, path, body))[0]

    async def request_sized(self, method: str, path: str, body: Any = None) -> tuple[Any, int]:
        """The JSON answer and its size in bytes."""
        payload = None if body is None else json.dumps(body)
        if payload is None and method in ("POST", "PUT"):
            payload = ""
        response = await self.http.fetch(
            HTTPRequest(
                self.url + path,
                method=method,
                body=payload,
                headers={"Authorization": f"token {TOKEN}"},
                request_timeout=600,
            )
        )
        return (json.loads(response.body) if response.body else None), len(response.body)

    async def socket(self, notebook_id: str, batch: bool = False) -> WebSocketClientConnection:
        url = self.url.replace("http", "ws", 1)
        return await websocket_connect(
            HTTPRequest(
                f"{url}reactive/api/v1/notebooks/{notebook_id}/ws{'?batch=1' if batch else ''}",
                headers={"Authorization": f"token {TOKEN}"},
            )
        )


async def timed(work: Any) -> float:
    start = time.perf_counter()
    await work
    return time.perf_counter() - start


async def new_notebook(server: Server, name: str, cells: list[str]) -> tuple[str, list[str]]:
    api = "reactive/api/v1/notebooks"
    notebook_id = (await server.request("POST", api, {"name": name}))["notebook_id"]
    ids = []
    for code in cells:
        created = await server.request(
            "POST", f"{api}/{notebook_id}/cells", {"type": "python", "code": code}
        )
        ids.append(created["cell_id"])
    return notebook_id, ids


async def http_latencies(server: Server) -> None:
    cells = [f"a{i} = {i}\nb{i} = a{i} * 2" for i in range(20)]
    notebook_id, ids = await new_notebook(server, "latency", cells)
    api = f"reactive/api/v1/notebooks/{notebook_id}"
    await asyncio.sleep(1.0)  # the debounced save has written the file
    contents = f"api/contents/latency.ipynb?content=1&type=notebook&_={time.time()}"
    get_ours, put_ours, create_ours, contents_get = [], [], [], []
    for n in range(REQUESTS):
        contents_get.append(await timed(server.request("GET", contents)))
        get_ours.append(await timed(server.request("GET", api)))
        put_ours.append(
            await timed(server.request("PUT", f"{api}/cells/{ids[n % 20]}", {"code": f"z = {n}"}))
        )
        if n % 3 == 0:  # then deleted again: the notebook stays at 20 cells
            start = time.perf_counter()
            created = await server.request("POST", f"{api}/cells", {"type": "python"})
            create_ours.append(time.perf_counter() - start)
            await server.request("DELETE", f"{api}/cells/{created['cell_id']}")
    print(f"HTTP over {REQUESTS} interleaved requests (20-cell notebook):")
    print("  " + describe("GET notebook", get_ours, contents_get))
    print("  " + describe("PUT cell code", put_ours, contents_get))
    print("  " + describe("create cell", create_ours, contents_get))


async def final_status_of(ws: WebSocketClientConnection, cell_id: str) -> None:
    while True:
        message = json.loads(await ws.read_message())  # type: ignore[arg-type]
        if (
            message.get("type") == "cell_status"
            and message.get("cell_id") == cell_id
            and message.get("status") in ("success", "error", "blocked")
        ):
            return


async def chain_run(server: Server, raw: RawKernel) -> None:
    cells = chain(100)
    notebook_id, ids = await new_notebook(server, "chain", cells)
    api = f"reactive/api/v1/notebooks/{notebook_id}"
    await server.request("POST", f"{api}/cells/{ids[0]}/run", {"wait": True})
    ws = await server.socket(notebook_id)
    await ws.read_message()  # the snapshot
    ours, floor = [], []
    for n in range(1, 11):
        floor.append(await timed(raw.floor(cells)))
        await server.request("PUT", f"{api}/cells/{ids[0]}", {"code": f"v0 = {n}"})
        start = time.perf_counter()
        await server.request("POST", f"{api}/cells/{ids[0]}/run")
        await final_status_of(ws, ids[-1])
        ours.append(time.perf_counter() - start)
    ws.close()
    run, base = statistics.median(ours), statistics.median(floor)
    print(
        f"100-cell chain, REST run -> last status on WS: {run * 1e3:6.1f} ms   "
        f"{run / base:4.2f}x floor ({base * 1e3:5.1f} ms, one execute request)"
    )


async def receive_until(ws: WebSocketClientConnection, done: Any, log: list[Any]) -> None:
    while True:
        raw = await ws.read_message()
        if raw is None:
            return
        message = json.loads(raw)
        at = time.perf_counter()
        for one in message["events"] if message.get("type") == "batch" else [message]:
            log.append((at, one))
            if done(one):
                return


async def fan_out(server: Server) -> None:
    cells = chain(100)
    notebook_id, ids = await new_notebook(server, "fan-out", cells)
    api = f"reactive/api/v1/notebooks/{notebook_id}"
    await server.request("POST", f"{api}/cells/{ids[0]}/run", {"wait": True})

    async def edit_delays(clients: int) -> list[float]:
        sockets = [await server.socket(notebook_id) for _ in range(clients)]
        for ws in sockets:
            await ws.read_message()  # snapshot
        delays: list[float] = []
        for n in range(30):
            logs: list[list[Any]] = [[] for _ in sockets]
            start = time.perf_counter()
            readers = [
                receive_until(ws, lambda m: m.get("type") == "cell_updated", log)
                for ws, log in zip(sockets, logs, strict=True)
            ]
            await asyncio.gather(
                server.request("PUT", f"{api}/cells/{ids[50]}", {"code": f"v50 = v49 + {n}"}),
                *readers,
            )
            delays.extend(log[-1][0] - start for log in logs)
        for ws in sockets:
            ws.close()
        return delays

    one, many = await edit_delays(1), await edit_delays(CLIENTS)
    print(
        f"fan-out of an edit, request -> event: 1 client p99 {percentile(one, 0.99) * 1e3:5.1f}"
        f" ms; {CLIENTS} clients p50 {percentile(many, 0.5) * 1e3:5.1f} ms, "
        f"p99 {percentile(many, 0.99) * 1e3:5.1f} ms "
        f"({percentile(many, 0.99) / percentile(one, 0.99):4.1f}x one client)"
    )

    for batch in (False, True):
        await run_fan_out(server, api, notebook_id, ids, batch, -1 - batch)


async def run_fan_out(
    server: Server, api: str, notebook_id: str, ids: list[str], batch: bool, value: int
) -> None:
    """A 100-cell run watched by CLIENTS sockets living in other processes
    (CLIENTS // PER_PROCESS of them), so what is measured is the server's delivery, not
    one client process decoding every frame of all 50 sockets in turn. perf_counter is
    the system's monotonic clock, comparable across processes."""
    await server.request("PUT", f"{api}/cells/{ids[0]}", {"code": f"v0 = {value}"})
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    ready = context.Barrier(CLIENTS // PER_PROCESS + 1)
    processes = [
        context.Process(
            target=client_process,
            args=(server.url, notebook_id, ids[-1], batch, ready, results),
        )
        for _ in range(CLIENTS // PER_PROCESS)
    ]
    for process in processes:
        process.start()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, ready.wait)
    start = time.perf_counter()
    await server.request("POST", f"{api}/cells/{ids[0]}/run")
    received: dict[int, list[float]] = {}
    for _ in processes:
        for log in await loop.run_in_executor(None, results.get):
            for at, seq in log:
                received.setdefault(seq, []).append(at)
    for process in processes:
        process.join()
    spreads = [max(times) - min(times) for times in received.values()]
    delays = [max(times) - start for times in received.values()]
    ends = max(delays)
    print(
        f"fan-out of a 100-cell run ({len(received)} events) to {CLIENTS} clients "
        f"({'batch frames' if batch else 'one frame per event'}): spread first->last client "
        f"p50 {percentile(spreads, 0.5) * 1e3:5.1f} ms, p99 {percentile(spreads, 0.99) * 1e3:5.1f}"
        f" ms; request -> last client has it all {ends * 1e3:6.1f} ms"
    )


def client_process(
    url: str, notebook_id: str, last: str, batch: bool, ready: Any, results: Any
) -> None:
    """PER_PROCESS WebSocket clients; each logs (receipt time, seq) until the run ends."""

    async def clients() -> list[list[tuple[float, int]]]:
        server = Server.__new__(Server)
        server.url = url
        sockets = [await server.socket(notebook_id, batch) for _ in range(PER_PROCESS)]
        for ws in sockets:
            await ws.read_message()  # snapshot
        await asyncio.get_running_loop().run_in_executor(None, ready.wait)
        logs: list[list[Any]] = [[] for _ in sockets]

        def finished(message: dict[str, Any]) -> bool:
            return (
                message.get("type") == "cell_status"
                and message.get("cell_id") == last
                and message.get("status") == "success"
            )

        await asyncio.gather(
            *(receive_until(ws, finished, log) for ws, log in zip(sockets, logs, strict=True))
        )
        for ws in sockets:
            ws.close()
        return [[(at, message["seq"]) for at, message in log] for log in logs]

    results.put(asyncio.run(clients()))


async def main() -> None:
    manager = AsyncMultiKernelManager()
    raw = RawKernel(manager)
    await raw.start()
    with tempfile.TemporaryDirectory() as workdir:
        root = os.path.join(workdir, "root")
        os.mkdir(root)
        server = Server(root)
        await server.start()
        try:
            print(f"the extension over HTTP and WebSocket (Python {sys.version.split()[0]})\n")
            await http_latencies(server)
            await chain_run(server, raw)
            await fan_out(server)
        finally:
            server.stop()
            await manager.shutdown_all(now=True)


if __name__ == "__main__":
    asyncio.run(main())
