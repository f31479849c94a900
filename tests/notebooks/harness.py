"""A NotebookService over a real folder and real ipykernel kernels, for scenario tests."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, overload

from jupyter_client.multikernelmanager import AsyncMultiKernelManager

from reactive_notebook.contents.atomic import AtomicFileContentsManager
from reactive_notebook.contents.store import NotebookStore
from reactive_notebook.kernels.environment import kernel_environment
from reactive_notebook.kernels.session import KernelSession
from reactive_notebook.notebooks.open_notebook import OpenNotebook
from reactive_notebook.notebooks.quotas import QuotaPolicy
from reactive_notebook.notebooks.reclaim import ReclaimPolicy
from reactive_notebook.notebooks.service import NotebookService
from reactive_notebook.notebooks.sql_cells import SqlOptions

USER = "ada"
Scenario = Callable[..., Awaitable[None]]


class Harness:
    """A service over a real folder and real kernels, plus shortcuts for the tests.

    ``sql`` is the service's ``SqlOptions`` (``ReactiveNotebook.sql_allowed_hosts`` /
    ``sql_result_type``); kernels get ``env`` (default: this process's environment)
    without its secret-looking names, except those in ``env_allow``
    (``ReactiveNotebook.kernel_env_allow``).
    """

    def __init__(
        self,
        root: Path,
        *,
        sql: SqlOptions | None = None,
        env: Mapping[str, str] | None = None,
        env_allow: Iterable[str] = (),
        reclaim: ReclaimPolicy | None = None,
        quotas: QuotaPolicy | None = None,
    ) -> None:
        self.root = root
        self.quotas = quotas
        self.sql = sql or SqlOptions()
        self.reclaim = reclaim
        self.configure_kernels(os.environ if env is None else env, env_allow)
        self.manager = AsyncMultiKernelManager()
        self.service = self._service()
        self.notebook_id = ""

    def _service(self) -> NotebookService:
        self.store = NotebookStore(AtomicFileContentsManager(root_dir=str(self.root)))
        return NotebookService(
            self.store,
            lambda notebook: KernelSession(self.manager, env=self.kernel_env),
            save_delay=0.05,
            sql=self.sql,
            reclaim=self.reclaim,
            quotas=self.quotas,
        )

    def configure_kernels(self, env: Mapping[str, str], allow: Iterable[str] = ()) -> None:
        """The environment of kernels started from now on (``env`` without its secrets,
        except the names in ``allow``: ``ReactiveNotebook.kernel_env_allow``)."""
        self.kernel_env = kernel_environment(env, allow=tuple(allow))

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

    async def run_all(self) -> None:
        await self.service.run_all(USER, self.notebook_id, wait=True)

    async def opened(self) -> OpenNotebook:
        return await self.service.get_notebook(USER, self.notebook_id)

    async def cell(self, cell_id: str) -> dict[str, Any]:
        opened = await self.opened()
        return self.service.describe(opened, opened.notebook.cell(cell_id))

    async def view(self) -> dict[str, Any]:
        """The notebook as the API shows it (GET /notebooks/{id})."""
        return self.service.describe_notebook(await self.opened())

    async def saved(self) -> Path:
        """The notebook's file, once the pending debounced save (if any) has written it."""
        opened = await self.opened()
        while opened._save_task is not None and not opened._save_task.done():
            await asyncio.sleep(0.01)
        path = self.store.known_path(self.notebook_id)
        assert path is not None, "the notebook was never saved"
        return self.root / path

    async def text(self, cell_id: str) -> str:
        """What the cell shows as plain text: its stdout, or its last result."""
        cell = await self.cell(cell_id)
        if cell["stdout"]:
            return str(cell["stdout"]).strip()
        plain = [o["data"] for o in cell["outputs"] if o["mime_type"] == "text/plain"]
        return str(plain[-1]) if plain else ""


@overload
def scenario(test: Scenario) -> Callable[..., None]: ...


@overload
def scenario(
    *,
    sql: SqlOptions | None = None,
    env: Mapping[str, str] | None = None,
    env_allow: Iterable[str] = (),
    reclaim: ReclaimPolicy | None = None,
    quotas: QuotaPolicy | None = None,
) -> Callable[[Scenario], Callable[..., None]]: ...


def scenario(
    test: Scenario | None = None,
    *,
    sql: SqlOptions | None = None,
    env: Mapping[str, str] | None = None,
    env_allow: Iterable[str] = (),
    reclaim: ReclaimPolicy | None = None,
    quotas: QuotaPolicy | None = None,
) -> Any:
    """Run an async scenario with a fresh harness; always shut its kernels down.

    ``@scenario`` or ``@scenario(sql=..., env=..., env_allow=..., reclaim=..., quotas=...)`` (see
    ``Harness``).
    Parameters of the test after the harness are pytest fixtures, passed on.
    """
    if test is None:
        return lambda test: scenario(
            test, sql=sql, env=env, env_allow=env_allow, reclaim=reclaim, quotas=quotas
        )
    fixtures = list(inspect.signature(test).parameters.values())[1:]

    def run(tmp_path: Path, **kwargs: Any) -> None:
        async def main() -> None:
            harness = Harness(
                tmp_path, sql=sql, env=env, env_allow=env_allow, reclaim=reclaim, quotas=quotas
            )
            try:
                await asyncio.wait_for(test(harness, **kwargs), timeout=120)
            finally:
                await harness.service.shutdown()
                await harness.manager.shutdown_all(now=True)

        asyncio.run(main())

    run.__name__ = test.__name__
    run.__doc__ = test.__doc__
    tmp = inspect.Parameter("tmp_path", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = [tmp, *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in fixtures)]
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return run
