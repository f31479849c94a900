"""Speed of a SQL cell on DuckDB, against the same query run by duckdb in a raw kernel.

Through ``NotebookService``: a SQL cell selecting 10 rows from the embedded DuckDB (one
``{n}`` placeholder, bound as a parameter), timed from the run call (``run_cell``, wait)
to its final status, the result bound to ``df_1`` and shown as a table output.

Baselines on a second, raw kernel in the same run, one ``execute_request`` each, timed
to its reply: (a) *shown*, ``df = con.execute(query, params).df()`` then ``df`` as the
cell's value (displayed, as a notebook cell would show it); (b) *bare*, the same without
displaying. Rounds interleave ours and the baselines (the VM's speed drifts); medians.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import duckdb
from bench_kernel import RawKernel
from jupyter_client.multikernelmanager import AsyncMultiKernelManager

from reactive_notebook.contents.atomic import AtomicFileContentsManager
from reactive_notebook.contents.store import NotebookStore
from reactive_notebook.kernels.session import KernelSession
from reactive_notebook.notebooks.service import NotebookService

USER = "bench"
ROUNDS = 30
WARMUP = 3
QUERY = "SELECT i, i * 2 AS twice, 'row ' || i AS label FROM range(100) t(i) WHERE i < {n}"
RAW_QUERY = QUERY.replace("{n}", "$n")
RAW_SETUP = "import duckdb\ncon = duckdb.connect()"
SHOWN = f"df = con.execute({RAW_QUERY!r}, {{'n': 10}}).df()\ndf"
BARE = f"df = con.execute({RAW_QUERY!r}, {{'n': 10}}).df()"
# The raw kernel's code as a Python cell of the same notebook (the service, no SQL layer).
PY_CELL = f"df = con.execute({RAW_QUERY!r}, {{'n': n}}).df()\ndf"


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await work()
    return time.perf_counter() - start


async def main() -> None:
    manager = AsyncMultiKernelManager()
    raw = RawKernel(manager)
    await raw.start()
    with tempfile.TemporaryDirectory() as root:
        store = NotebookStore(AtomicFileContentsManager(root_dir=str(Path(root))))
        service = NotebookService(store, lambda notebook: KernelSession(manager), save_delay=5.0)
        try:
            notebook = await service.create_notebook(USER, "sql bench")
            await service.create_cell(USER, notebook.id, "python", "n = 10")
            await service.create_cell(USER, notebook.id, "python", RAW_SETUP)
            cell = await service.create_cell(USER, notebook.id, "sql", QUERY)
            python = await service.create_cell(USER, notebook.id, "python", PY_CELL)
            opened = await service.get_notebook(USER, notebook.id)

            async def ours() -> None:
                await service.run_cell(USER, notebook.id, cell.id, wait=True)

            async def python_cell() -> None:
                await service.run_cell(USER, notebook.id, python.id, wait=True)

            await raw.execute(RAW_SETUP)
            for _ in range(WARMUP):  # kernel start, imports, the first connection
                await ours()
                await python_cell()
                await raw.execute(SHOWN)
                await raw.execute(BARE)
            described = service.describe(opened, opened.notebook.cell(cell.id))
            assert described["status"] == "success", described
            rows = [o["data"]["rows"] for o in described["outputs"] if o["data"]]
            assert len(rows[0]) == 10, described

            times: dict[str, list[float]] = {"ours": [], "python": [], "shown": [], "bare": []}
            for _ in range(ROUNDS):
                times["ours"].append(await timed(ours))
                times["python"].append(await timed(python_cell))
                times["shown"].append(await timed(lambda: raw.execute(SHOWN)))
                times["bare"].append(await timed(lambda: raw.execute(BARE)))
            ours_ms, python_ms, shown_ms, bare_ms = (
                statistics.median(times[key]) * 1e3 for key in ("ours", "python", "shown", "bare")
            )
            print(
                f"SQL cell on DuckDB, 10 rows (Python {sys.version.split()[0]}, "
                f"duckdb {duckdb.__version__}, medians of {ROUNDS})\n"
            )
            print(f"SQL cell through the service:         {ours_ms:6.1f} ms")
            print(
                f"duckdb in a raw kernel, df shown:     {shown_ms:6.1f} ms   "
                f"ours {ours_ms / shown_ms:4.2f}x"
            )
            print(
                f"duckdb in a raw kernel, df not shown: {bare_ms:6.1f} ms   "
                f"ours {ours_ms / bare_ms:4.2f}x"
            )
            print(
                f"the same duckdb code in a Python cell: {python_ms:5.1f} ms   "
                f"ours {ours_ms / python_ms:4.2f}x"
            )
        finally:
            await service.shutdown()
            await manager.shutdown_all(now=True)


if __name__ == "__main__":
    asyncio.run(main())
