"""What a cell that prints a lot costs the server (issue 12, item 8).

A real ``jupyter server`` with the extension runs in a subprocess on 127.0.0.1. One cell
prints ``--mb`` MB (1000-byte lines, flushed every MB, as a long loop's prints arrive).
Measured, for a run with no client and for a run with a WebSocket client that never
reads: the run's time (REST ``run`` with ``wait``), the server's peak RSS above its RSS
before the run (``VmHWM``, reset through ``/proc/<pid>/clear_refs``) and its RSS still
held 1.5 s after it, the saved
``.ipynb`` and the GET answer. Baseline in the same run: a cell printing 1 MB the same
way (the cost of a run itself).

``--source DIR`` serves the extension from another checkout (a folder holding
``reactive_notebook/``), e.g. the code before a change, to compare the two.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import bench_server
from bench_server import BASE, TOKEN

CELL = """\
import sys
for _i in range({lines}):
    print("x" * 999)
    if _i % 1000 == 999:
        sys.stdout.flush()
"""


class Server(bench_server.Server):
    """The benchmark server, telling its memory too."""

    def memory(self, field: str) -> int:
        """``VmRSS`` or ``VmHWM`` (peak) of the server process, in bytes."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)

    def reset_peak(self) -> None:
        assert self.process is not None
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")


async def silent_client(server: Server, notebook_id: str) -> asyncio.StreamWriter:
    """A WebSocket client that completes the upgrade, then never reads."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    path = f"{BASE}reactive/api/v1/notebooks/{notebook_id}/ws"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nAuthorization: token {TOKEN}\r\n\r\n"
    )
    writer.write(request.encode())
    await reader.readuntil(b"\r\n\r\n")
    return writer


async def scenario(server: Server, name: str, megabytes: int, silent: bool) -> str:
    api = "reactive/api/v1/notebooks"
    notebook_id = (await server.request("POST", api, {"name": name}))["notebook_id"]
    code = CELL.format(lines=megabytes * 1000)
    cell = await server.request(
        "POST", f"{api}/{notebook_id}/cells", {"type": "python", "code": code}
    )
    writer = await silent_client(server, notebook_id) if silent else None
    await asyncio.sleep(0.5)
    before = server.memory("VmRSS")
    server.reset_peak()
    start = time.perf_counter()
    await server.request("POST", f"{api}/{notebook_id}/cells/{cell['cell_id']}/run", {"wait": True})
    took = time.perf_counter() - start
    peak = server.memory("VmHWM") - before
    answer, get_size = await server.request_sized("GET", f"{api}/{notebook_id}")
    await asyncio.sleep(1.5)  # the debounced save
    held = server.memory("VmRSS") - before
    status = next(c["status"] for c in answer["cells"] if c["id"] == cell["cell_id"])
    file_size = (Path(server.root) / f"{name}.ipynb").stat().st_size
    if writer is not None:
        writer.close()
    client = "a client that never reads" if silent else "no client"
    return (
        f"{megabytes:4d} MB printed, {client:<26} run {took:6.2f} s ({status}), "
        f"peak RSS +{peak / 1e6:6.1f} MB, held after +{held / 1e6:6.1f} MB, "
        f".ipynb {file_size / 1e6:7.2f} MB, GET {get_size / 1e6:7.2f} MB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="MB the cell prints")
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--server-arg", action="append", default=[], help="e.g. --Reactive...")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir) / "root"
        root.mkdir()
        server = Server(str(root), extra=args.server_arg, source=str(args.source.resolve()))
        await server.start()
        try:
            print(f"a cell printing a lot (Python {sys.version.split()[0]}, {args.source})")
            print("  " + await scenario(server, "warmup", 1, silent=False))
            print("  " + await scenario(server, "baseline", 1, silent=False))
            print("  " + await scenario(server, "printed", args.mb, silent=False))
            print("  " + await scenario(server, "unread", args.mb, silent=True))
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
