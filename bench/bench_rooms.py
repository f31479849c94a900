"""Speed of the live shared document (issue 14), against baselines in the same run.

Two real ``jupyter server`` subprocesses on 127.0.0.1 run side by side: one with
jupyter-collaboration's rooms (open notebooks are room documents, written to by the
service), one without (the private document, saved by our own store). A pure-Python Y
client (``tests/rooms/ytab.py``) plays a JupyterLab tab.

- A REST edit -> the new code in a connected tab: p50/p99 (target p50 < 30 ms, p99 <
  100 ms); baseline: the same PUT's own answer time.
- A kernel output -> in the tab, against the same output's event on our WebSocket (the
  delay the document adds; target < 10 ms).
- A root run of a 100-cell chain, REST run -> last status on the WebSocket: with the
  room document, against the private document (target within 1.5x).
- Opening a 1000-cell notebook: the first GET, time and the server's memory growth, room
  against private.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from bench_kernel import chain
from bench_server import BASE, TOKEN, Server, final_status_of, new_notebook, percentile
from tornado.httpclient import HTTPRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.rooms.ytab import ServerAddress, YTab

ROOMS = [
    "--ServerApp.jpserver_extensions=jupyter_server_ydoc=True",
    "--ServerApp.jpserver_extensions=jupyter_server_fileid=True",
    "--YDocExtension.document_save_delay=0.5",
]
EDITS = 200


class _Response:
    def __init__(self, body: bytes) -> None:
        self.body = body


async def open_tab(server: Server, path: str) -> YTab:
    async def fetch(*parts: str, method: str, body: str) -> _Response:
        response = await server.http.fetch(
            HTTPRequest(
                server.url + "/".join(parts),
                method=method,
                body=body,
                headers={"Authorization": f"token {TOKEN}"},
            )
        )
        return _Response(response.body)

    address = ServerAddress(server.port, BASE, {"Authorization": f"token {TOKEN}"})
    return await YTab.open(fetch, address, path)


async def path_of(server: Server, notebook_id: str) -> str:
    listed = await server.request("GET", "reactive/api/v1/notebooks")
    names = {n["id"]: n["name"] for n in listed["notebooks"]}
    return f"{names[notebook_id]}.ipynb"


async def edit_to_tab(server: Server) -> None:
    notebook_id, ids = await new_notebook(server, "edits", ["x = 0", "y = x"])
    tab = await open_tab(server, await path_of(server, notebook_id))
    api = f"reactive/api/v1/notebooks/{notebook_id}/cells/{ids[0]}"
    seen, answered = [], []
    for n in range(EDITS):
        code = f"x = {n + 1}"
        start = time.perf_counter()
        request = asyncio.ensure_future(server.request("PUT", api, {"code": code}))
        done: list[float] = []
        request.add_done_callback(lambda _, done=done: done.append(time.perf_counter()))
        while tab.cell(ids[0])["source"] != code:
            await asyncio.sleep(0.0005)
        seen.append(time.perf_counter() - start)
        await request
        answered.append(done[0] - start)
    await tab.close()
    print(
        f"REST edit -> in the tab       p50 {percentile(seen, 0.5) * 1e3:6.2f} ms  "
        f"p99 {percentile(seen, 0.99) * 1e3:6.2f} ms   (the PUT's own answer: "
        f"p50 {percentile(answered, 0.5) * 1e3:5.2f} ms, "
        f"p99 {percentile(answered, 0.99) * 1e3:5.2f} ms)"
    )


async def output_to_tab(server: Server) -> None:
    notebook_id, ids = await new_notebook(server, "outputs", ["print('hello')"])
    tab = await open_tab(server, await path_of(server, notebook_id))
    ws = await server.socket(notebook_id)
    await ws.read_message()
    api = f"reactive/api/v1/notebooks/{notebook_id}/cells/{ids[0]}/run"
    await server.request("POST", api, {"wait": True})
    added, to_event = [], []
    for n in range(30):
        await server.request("PUT", api.rsplit("/", 1)[0], {"code": f"print('hello {n}')"})
        start = time.perf_counter()
        await server.request("POST", api)
        event_at = tab_at = None
        while event_at is None:
            message = json.loads(await ws.read_message())  # type: ignore[arg-type]
            if message.get("type") == "cell_stdout":
                event_at = time.perf_counter()
        while tab_at is None:
            outputs = tab.cell(ids[0])["outputs"]
            if outputs and f"hello {n}" in str(outputs[0].get("text", "")):
                tab_at = time.perf_counter()
            else:
                await asyncio.sleep(0.0002)
        added.append(max(0.0, tab_at - event_at))
        to_event.append(event_at - start)
        await final_status_of(ws, ids[0])
    ws.close()
    await tab.close()
    print(
        f"kernel output -> in the tab, after our WS event: p50 "
        f"{percentile(added, 0.5) * 1e3:5.2f} ms  "
        f"p99 {percentile(added, 0.99) * 1e3:5.2f} ms added"
        f"   (REST run -> the WS event: p50 {percentile(to_event, 0.5) * 1e3:5.2f} ms)"
    )


async def chain_run(server: Server) -> float:
    notebook_id, ids = await new_notebook(server, "chain", chain(100))
    api = f"reactive/api/v1/notebooks/{notebook_id}"
    await server.request("POST", f"{api}/cells/{ids[0]}/run", {"wait": True})
    ws = await server.socket(notebook_id)
    await ws.read_message()
    times = []
    for n in range(1, 11):
        await server.request("PUT", f"{api}/cells/{ids[0]}", {"code": f"v0 = {n}"})
        start = time.perf_counter()
        await server.request("POST", f"{api}/cells/{ids[0]}/run")
        await final_status_of(ws, ids[-1])
        times.append(time.perf_counter() - start)
    ws.close()
    return statistics.median(times)


def rss_kib(server: Server) -> int:
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def open_large(server: Server, root: str, copies: int = 5) -> tuple[float, float]:
    """Median first-GET time of a 1000-cell notebook, and MiB the server grew per one."""
    times = []
    before = rss_kib(server)
    for n in range(copies):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [
            nbformat.v4.new_code_cell(f"v{i} = {i}\nprint(v{i})") for i in range(1000)
        ]
        path = f"large-{n}.ipynb"
        Path(root, path).write_text(nbformat.writes(notebook))
        found = await server.request("GET", f"reactive/api/v1/notebooks?path={path}")
        notebook_id = found["notebooks"][0]["id"]
        start = time.perf_counter()
        await server.request("GET", f"reactive/api/v1/notebooks/{notebook_id}")
        times.append(time.perf_counter() - start)
    grown = (rss_kib(server) - before) / 1024 / copies
    return statistics.median(times), grown


async def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        roots = {name: os.path.join(workdir, name, "root") for name in ("rooms", "private")}
        for root in roots.values():
            os.makedirs(root)
        rooms = Server(roots["rooms"], extra=[*ROOMS, f"--SQLiteYStore.db_path={workdir}/y.db"])
        private = Server(roots["private"])
        await rooms.start()
        await private.start()
        try:
            print(f"the live shared document (Python {sys.version.split()[0]})\n")
            await edit_to_tab(rooms)
            await output_to_tab(rooms)
            in_room, in_private = await chain_run(rooms), await chain_run(private)
            print(
                f"100-cell chain root run: room {in_room * 1e3:6.1f} ms, private "
                f"{in_private * 1e3:6.1f} ms   {in_room / in_private:4.2f}x"
            )
            room_open, room_mib = await open_large(rooms, roots["rooms"])
            private_open, private_mib = await open_large(private, roots["private"])
            print(
                f"open a 1000-cell notebook: room {room_open * 1e3:6.1f} ms "
                f"(+{room_mib:5.1f} MiB), private {private_open * 1e3:6.1f} ms "
                f"(+{private_mib:5.1f} MiB)   {room_open / private_open:4.2f}x time"
            )
        finally:
            rooms.stop()
            private.stop()


if __name__ == "__main__":
    asyncio.run(main())
