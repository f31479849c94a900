"""Speed of reactive runs in a real kernel, against two baselines in the same run.

Through ``NotebookService`` (planning, one request per run, events applied to the cells),
timed from the run call to the last cell's final status:

- root run of a 100-cell and a 500-cell chain (``v1 = v0 + 1`` ...), after editing the root;
- the chain's first run (one sample: the kernel parses and compiles every cell, which a
  re-run of unchanged cells skips);
- leaf run in the 500-cell notebook with everything current (one cell planned).

Baselines on a second, raw kernel: (a) naive, the same cells sent one ``execute_request``
per cell, each waiting for its reply; (b) floor, all the cells' code in one request.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from jupyter_client.multikernelmanager import AsyncMultiKernelManager

from reactive_notebook.contents.atomic import AtomicFileContentsManager
from reactive_notebook.contents.store import NotebookStore
from reactive_notebook.kernels.session import KernelSession
from reactive_notebook.notebooks.service import NotebookService

USER = "bench"
REPEATS = 5


def chain(size: int) -> list[str]:
    return ["v0 = 0", *(f"v{i} = v{i - 1} + 1" for i in range(1, size))]


async def median_of(repeats: int, work: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        await work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class RawKernel:
    """A plain kernel and client, for the baselines."""

    def __init__(self, manager: AsyncMultiKernelManager) -> None:
        self.manager = manager
        self.client: object = None

    async def start(self) -> None:
        kernel_id = await self.manager.start_kernel(kernel_name="python3")
        self.client = self.manager.get_kernel(kernel_id).client()
        self.client.start_channels()  # type: ignore[attr-defined]
        await self.client.wait_for_ready(timeout=60)  # type: ignore[attr-defined]

    async def execute(self, code: str) -> None:
        client = self.client
        msg_id = client.execute(code, store_history=False)  # type: ignore[attr-defined]
        while True:
            reply = await client.get_shell_msg(timeout=60)  # type: ignore[attr-defined]
            if reply["parent_header"].get("msg_id") == msg_id:
                return

    async def naive(self, cells: list[str]) -> None:
        for code in cells:
            await self.execute(code)

    async def floor(self, cells: list[str]) -> None:
        await self.execute("\n".join(cells))


async def service_runs(service: NotebookService, size: int) -> tuple[float, float, float]:
    """(root run, leaf run, first run) through the service for a ``size``-cell chain."""
    notebook = await service.create_notebook(USER, f"chain {size}")
    ids = []
    for code in chain(size):
        cell = await service.create_cell(USER, notebook.id, "python", code)
        ids.append(cell.id)
        if len(ids) == 1:  # the kernel starts with the first cell, before the timed run
            await service.run_cell(USER, notebook.id, ids[0], wait=True)
    await service.update_cell(USER, notebook.id, ids[0], "v0 = -1")
    start = time.perf_counter()
    await service.run_cell(USER, notebook.id, ids[0], wait=True)  # everything runs once
    first = time.perf_counter() - start

    edits = iter(range(1, 1000))

    async def root_run() -> None:
        await service.update_cell(USER, notebook.id, ids[0], f"v0 = {next(edits)}")
        await service.run_cell(USER, notebook.id, ids[0], wait=True)

    async def leaf_run() -> None:
        await service.run_cell(USER, notebook.id, ids[-1], wait=True)

    root = await median_of(REPEATS, root_run)
    opened = await service.get_notebook(USER, notebook.id)
    last = opened.notebook.cells[-1]
    assert last.status.value == "success", last
    leaf = await median_of(REPEATS * 2, leaf_run)
    return root, leaf, first


async def main() -> None:
    manager = AsyncMultiKernelManager()
    raw = RawKernel(manager)
    await raw.start()
    with tempfile.TemporaryDirectory() as root:
        store = NotebookStore(AtomicFileContentsManager(root_dir=str(Path(root))))
        service = NotebookService(store, lambda notebook: KernelSession(manager), save_delay=5.0)
        try:
            print(f"reactive runs in a real kernel (Python {sys.version.split()[0]})\n")
            rows = []
            for size in (100, 500):
                cells = chain(size)
                await raw.floor(cells)  # warm the baseline kernel too
                naive = await median_of(REPEATS, lambda cells=cells: raw.naive(cells))
                floor = await median_of(REPEATS, lambda cells=cells: raw.floor(cells))
                root_run, leaf_run, first_run = await service_runs(service, size)
                rows.append((size, root_run, leaf_run, naive, floor, first_run))
            for size, root_run, _, naive, floor, first_run in rows:
                print(
                    f"{size:4d}-cell chain, root run: {root_run * 1e3:7.1f} ms   "
                    f"{root_run / floor:5.2f}x floor ({floor * 1e3:6.1f} ms)   "
                    f"{naive / root_run:5.1f}x faster than naive ({naive * 1e3:7.1f} ms)"
                )
                print(
                    f"{size:4d}-cell chain, first run: {first_run * 1e3:6.1f} ms   "
                    f"{first_run / floor:5.2f}x floor (one sample, nothing cached)"
                )
            size, _, leaf_run, naive, floor, _ = rows[-1]
            one_cell = naive / size
            print(
                f"{size:4d}-cell notebook, leaf run: {leaf_run * 1e3:7.1f} ms   "
                f"{leaf_run / one_cell:5.2f}x one naive request ({one_cell * 1e3:5.1f} ms)"
            )
        finally:
            await service.shutdown()
            await manager.shutdown_all(now=True)


if __name__ == "__main__":
    asyncio.run(main())
