"""A NotebookService over a real folder and real ipykernel kernels, for scenario tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jupyter_client.multikernelmanager import AsyncMultiKernelManager

from reactive_notebook.contents.atomic import AtomicFileContentsManager
from reactive_notebook.contents.store import NotebookStore
from reactive_notebook.kernels.environment import kernel_environment
from reactive_notebook.kernels.session import KernelSession
from reactive_notebook.notebooks.open_notebook import OpenNotebook
from reactive_notebook.notebooks.service import NotebookService

USER = "ada"
Scenario = Callable[["Harness"], Awaitable[None]]


class Harness:
    """A service over a real folder and real kernels, plus shortcuts for the tests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.manager = AsyncMultiKernelManager()
        self.service = self._service()
        self.notebook_id = ""

    def _service(self) -> NotebookService:
        store = NotebookStore(AtomicFileContentsManager(root_dir=str(self.root)))
        env = kernel_environment(os.environ)
        return NotebookService(
            store, lambda notebook: KernelSession(self.manager, env=env), save_delay=0.05
        )

    async def restart_service(self) -> None:
        """A server restart: everything saved, kernels gone, a fresh service."""
        await self.service.shutdown()
        self.service = self._service()

    async def new(self, *codes: str) -> list[str]:
        notebook = await self.service.create_notebook(USER, "scenario")
        self.notebook_id = notebook.id
        return [await self.add(code) for code in codes]

    async def add(self, code: str, cell_type: str = "python") -> str:
        cell = await self.service.create_cell(USER, self.notebook_id, cell_type, code)
        return cell.id

    async def add_sql(self, code: str, output: str | None = None) -> str:
        cell = await self.service.create_cell(USER, self.notebook_id, "sql", code, output=output)
        return cell.id

    async def connect(self, connection: str) -> None:
        await self.service.set_db_connection(USER, self.notebook_id, connection)

    async def edit(self, cell_id: str, code: str) -> None:
        await self.service.update_cell(USER, self.notebook_id, cell_id, code)

    async def run(self, cell_id: str) -> None:
        await self.service.run_cell(USER, self.notebook_id, cell_id, wait=True)

    async def opened(self) -> OpenNotebook:
        return await self.service.get_notebook(USER, self.notebook_id)

    async def cell(self, cell_id: str) -> dict[str, Any]:
        opened = await self.opened()
        return self.service.describe(opened, opened.notebook.cell(cell_id))

    async def text(self, cell_id: str) -> str:
        """What the cell shows as plain text: its stdout, or its last result."""
        cell = await self.cell(cell_id)
        if cell["stdout"]:
            return str(cell["stdout"]).strip()
        plain = [o["data"] for o in cell["outputs"] if o["mime_type"] == "text/plain"]
        return str(plain[-1]) if plain else ""


def scenario(test: Scenario) -> Callable[[Path], None]:
    """Run an async scenario with a fresh harness; always shut its kernels down."""

    def run(tmp_path: Path) -> None:
        async def main() -> None:
            harness = Harness(tmp_path)
            try:
                await asyncio.wait_for(test(harness), timeout=120)
            finally:
                await harness.service.shutdown()
                await harness.manager.shutdown_all(now=True)

        asyncio.run(main())

    run.__name__ = test.__name__
    run.__doc__ = test.__doc__
    return run
