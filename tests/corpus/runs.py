"""Running a corpus notebook two ways: stock (nbclient, top to bottom) and in the product.

Both use a real ipykernel ``python3`` kernel started in a folder of its own (notebooks
write files: ``%%file mymodule.py``, ``np.save``), so runs never see each other's files.
"""

from __future__ import annotations

import asyncio
import copy
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.multikernelmanager import AsyncMultiKernelManager
from nbclient import NotebookClient

from reactive_notebook.contents.atomic import AtomicFileContentsManager
from reactive_notebook.contents.store import NotebookStore
from reactive_notebook.kernels.session import KernelSession
from reactive_notebook.notebooks.service import NotebookService

from ..notebooks.harness import USER, Harness

#: Seconds a cell may take in a stock run (the corpus's slowest takes a few).
CELL_TIMEOUT = 120
#: Seconds a whole product run may take.
RUN_TIMEOUT = 600


@dataclass
class CellRun:
    """One code cell after a run: its nbformat outputs and, for the product, its state."""

    outputs: list[dict[str, Any]]
    execution_count: int | None
    status: str = "success"  # stock: always "ran"
    stale: bool = False
    error: str | None = None
    writes: frozenset[str] = frozenset()


@dataclass
class Run:
    cells: list[CellRun]
    seconds: float
    #: Product only: code-cell positions that ran, in the order they started.
    ran: list[int] = field(default_factory=list)


def code_sources(notebook: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def with_code(notebook: nbformat.NotebookNode, index: int, source: str) -> Any:
    """A copy of ``notebook`` whose code cell ``index`` has ``source``."""
    edited = copy.deepcopy(notebook)
    code = [cell for cell in edited.cells if cell.cell_type == "code"]
    code[index].source = source
    return edited


async def stock_run(notebook: nbformat.NotebookNode, folder: Path) -> Run:
    """A top-to-bottom run with nbclient (``allow_errors=True``), as Jupyter's "Restart and
    run all" does; the notebook is not changed. ``seconds``: from the call (kernel start
    included) to the end of the last cell (the kernel's shutdown left out, as the
    product's is)."""
    folder.mkdir(parents=True, exist_ok=True)
    executed = copy.deepcopy(notebook)
    started = time.perf_counter()
    ended = [started]

    def cell_executed(**_: Any) -> None:
        ended[0] = time.perf_counter()

    client = NotebookClient(
        executed,
        timeout=CELL_TIMEOUT,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        on_cell_executed=cell_executed,
    )
    await client.async_execute()
    cells = [
        CellRun(outputs=[dict(o) for o in cell.outputs], execution_count=cell.execution_count)
        for cell in executed.cells
        if cell.cell_type == "code"
    ]
    return Run(cells, ended[0] - started)


class _KernelsIn(AsyncMultiKernelManager):
    """A kernel manager that starts kernels in ``path`` (the server's MappingKernelManager
    takes ``path``; the plain one takes ``cwd``)."""

    async def start_kernel(self, **kwargs: Any) -> str:  # type: ignore[override]
        path = kwargs.pop("path", None)
        if path is not None:
            kwargs["cwd"] = path
        return str(await super().start_kernel(**kwargs))


class CorpusHarness(Harness):
    """The scenario harness, with kernels started in ``kernel_dir`` (not the test's cwd)."""

    def __init__(self, root: Path, kernel_dir: Path) -> None:
        self.kernel_dir = kernel_dir
        kernel_dir.mkdir(parents=True, exist_ok=True)
        root.mkdir(parents=True, exist_ok=True)
        super().__init__(root)
        self.manager = _KernelsIn()

    def _service(self) -> NotebookService:
        self.store = NotebookStore(AtomicFileContentsManager(root_dir=str(self.root)))
        return NotebookService(
            self.store,
            lambda notebook: KernelSession(
                self.manager, env=self.kernel_env, path=str(self.kernel_dir)
            ),
            save_delay=0.5,
        )


class Product:
    """A corpus notebook opened in the product (``NotebookService``, real kernel)."""

    def __init__(self, harness: CorpusHarness) -> None:
        self.harness = harness
        self.ids: list[str] = []
        self._started: list[str] = []
        harness.service.hub.add_listener(self._on_event)

    def _on_event(self, notebook_id: str, event: Any) -> None:
        # Every cell that starts in a run is announced "running" once (statuses may come in
        # batches, but the service announces each start).
        if event.type == "cell_status" and event.data.get("status") == "running":
            self._started.append(str(event.data.get("cell_id")))

    async def open(self, source: Path) -> None:
        """Copy the file into the service's folder and open it as the stock notebook is."""
        target = self.harness.root / source.name
        shutil.copyfile(source, target)
        found = await self.harness.store.notebook_at(source.name, USER)
        assert found is not None, f"the product does not see {source.name} as a notebook"
        self.harness.notebook_id = found[0]
        opened = await self.harness.opened()
        self.ids = [cell.id for cell in opened.notebook.cells if cell.type.runs]

    async def run_all(self) -> Run:
        return await self._timed(self.harness.run_all())

    async def edit_and_run(self, index: int, source: str) -> Run:
        cell_id = self.ids[index]
        await self.harness.edit(cell_id, source)
        return await self._timed(self.harness.run(cell_id))

    async def _timed(self, work: Any) -> Run:
        self._started = []
        started = time.perf_counter()
        await asyncio.wait_for(work, timeout=RUN_TIMEOUT)
        seconds = time.perf_counter() - started
        order = {cell_id: i for i, cell_id in enumerate(self.ids)}
        ran: list[int] = []
        for cell_id in self._started:
            if cell_id in order and order[cell_id] not in ran:
                ran.append(order[cell_id])
        return Run(await self.cells(), seconds, ran)

    async def cells(self) -> list[CellRun]:
        opened = await self.harness.opened()
        runs = []
        for cell_id in self.ids:
            cell = opened.notebook.cell(cell_id)
            analysis = opened.core.graph.analysis(cell_id)
            runs.append(
                CellRun(
                    outputs=[dict(o) for o in opened.outputs_of(cell)],
                    execution_count=cell.execution_count,
                    status=cell.status.value,
                    stale=cell.stale,
                    error=cell.error,
                    writes=frozenset(analysis.writes) if analysis else frozenset(),
                )
            )
        return runs

    async def close(self) -> None:
        await self.harness.service.shutdown()
        await self.harness.manager.shutdown_all(now=True)
