"""REST handlers for notebooks and cells (design.md section 4): parse, call, serialize."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..notebooks.errors import InvalidRequest, NotFound, shown_id
from .base import ReactiveHandler, authorized_execute
from .openapi import API_PREFIX
from .schemas import MAX_PATH_LENGTH


class NotebooksHandler(ReactiveHandler):
    """``/notebooks``: the caller's notebooks; create one."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        path = self.get_query_argument("path", None)
        if path is None:
            await self.welcome()  # a new user's first listing shows it
            self.reply({"notebooks": await self.service.list_notebooks(self.user)})
            return
        if len(path) > MAX_PATH_LENGTH:
            raise InvalidRequest(
                f"path is too long ({len(path)} characters; at most {MAX_PATH_LENGTH})",
                field="path",
            )
        self.reply({"notebooks": await self.service.notebooks_at(self.user, path)})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body("NotebookCreate")
        notebook = await self.service.create_notebook(
            self.user, body.get("name"), body.get("folder")
        )
        self.set_header("Location", self.notebook_url(notebook.id))
        created: dict[str, object] = {
            "notebook_id": notebook.id,
            "name": notebook.name,
            "revision": notebook.revision,
        }
        path = self.service.file_path(notebook.id)
        if path is not None:
            created["path"] = path
        self.reply(created, 201)

    def notebook_url(self, notebook_id: str) -> str:
        return f"{self.request.path.rstrip('/')}/{notebook_id}"


class NotebookHandler(ReactiveHandler):
    """``/notebooks/{id}``: the whole notebook; delete it (its kernel too)."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def get(self, notebook_id: str) -> None:
        opened = await self.service.get_notebook(self.user, notebook_id)
        self.reply(self.service.describe_notebook(opened))

    @web.authenticated
    @authorized
    async def delete(self, notebook_id: str) -> None:
        await self.service.delete_notebook(self.user, notebook_id)
        self.no_content()


class NotebookNameHandler(ReactiveHandler):
    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def put(self, notebook_id: str) -> None:
        body = self.body("NotebookRename")
        notebook = await self.service.rename_notebook(
            self.user, notebook_id, body["name"], body.get("expected_revision")
        )
        renamed: dict[str, object] = {"name": notebook.name, "revision": notebook.revision}
        path = self.service.file_path(notebook.id)
        if path is not None:
            renamed["path"] = path
        self.reply(renamed)


class NotebookDbHandler(ReactiveHandler):
    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def put(self, notebook_id: str) -> None:
        body = self.body("DbConnection")
        await self.service.set_db_connection(
            self.user, notebook_id, body["connection_string"], body.get("expected_revision")
        )
        opened = await self.service.get_notebook(self.user, notebook_id)
        described = self.service.describe_notebook(opened)
        self.reply(
            {"db_conn_string": described["db_conn_string"], "revision": described["revision"]}
        )


class NotebookRunHandler(ReactiveHandler):
    """``/notebooks/{id}/run``: run every cell, or the cells ``cell_ids`` names."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized_execute
    async def post(self, notebook_id: str) -> None:
        body = self.body("RunRequest")
        wait = bool(body.get("wait"))
        codes, cell_ids = body.get("codes"), body.get("cell_ids")
        await self.service.run_all(
            self.user, notebook_id, wait=wait, codes=codes, cell_ids=cell_ids
        )
        await self.reply_run(notebook_id, wait)

    async def reply_run(self, notebook_id: str, wait: bool) -> None:
        if not wait:
            self.reply({"status": "queued"}, 202)
            return
        opened = await self.service.get_notebook(self.user, notebook_id)
        self.reply(self.service.describe_notebook(opened))


class InterruptHandler(ReactiveHandler):
    auth_resource = "kernels"

    @web.authenticated
    @authorized_execute
    async def post(self, notebook_id: str) -> None:
        await self.service.interrupt(self.user, notebook_id)
        self.reply({"status": "interrupted"})


class CellsHandler(ReactiveHandler):
    """``/notebooks/{id}/cells``: add a cell."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def post(self, notebook_id: str) -> None:
        body = self.body("CellCreate")
        cell = await self.service.create_cell(
            self.user,
            notebook_id,
            body["type"],
            body.get("code", ""),
            after_cell_id=body.get("after_cell_id"),
            at_end="after_cell_id" not in body,
            output=body.get("output"),
            expected_revision=body.get("expected_revision"),
        )
        opened = await self.service.get_notebook(self.user, notebook_id)
        self.reply(
            {
                "cell_id": cell.id,
                "index": opened.cells.index(cell.id),
                "revision": opened.notebook.revision,
                "cell": self.service.describe(opened, cell),
            },
            201,
        )


class CellHandler(ReactiveHandler):
    """``/notebooks/{id}/cells/{cell_id}``: read, change (without running) or delete."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def get(self, notebook_id: str, cell_id: str) -> None:
        self.reply(await self.described_cell(notebook_id, cell_id))

    @web.authenticated
    @authorized
    async def put(self, notebook_id: str, cell_id: str) -> None:
        body = self.body("CellUpdate")
        await self.service.update_cell(
            self.user,
            notebook_id,
            cell_id,
            body["code"],
            cell_type=body.get("type"),
            output=body.get("output"),
            expected_revision=body.get("expected_revision"),
        )
        self.reply(await self.described_cell(notebook_id, cell_id))

    @web.authenticated
    @authorized
    async def delete(self, notebook_id: str, cell_id: str) -> None:
        await self.service.delete_cell(self.user, notebook_id, cell_id)
        self.no_content()

    async def described_cell(self, notebook_id: str, cell_id: str) -> dict[str, object]:
        opened = await self.service.get_notebook(self.user, notebook_id)
        cell = self.service.cell(opened, cell_id)
        return {**self.service.describe(opened, cell), "revision": opened.notebook.revision}


class CellMoveHandler(ReactiveHandler):
    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def post(self, notebook_id: str, cell_id: str) -> None:
        body = self.body("CellMove")
        index = await self.service.move_cell(
            self.user,
            notebook_id,
            cell_id,
            body["after_cell_id"],
            expected_revision=body.get("expected_revision"),
        )
        opened = await self.service.get_notebook(self.user, notebook_id)
        self.reply({"index": index, "revision": opened.notebook.revision})


class CellRunHandler(NotebookRunHandler):
    """``/notebooks/{id}/cells/{cell_id}/run``: the cell and what depends on it."""

    @web.authenticated
    @authorized_execute
    async def post(self, notebook_id: str, cell_id: str) -> None:
        body = self.body("CellRunRequest")
        wait = bool(body.get("wait"))
        await self.service.run_cell(
            self.user, notebook_id, cell_id, wait=wait, code=body.get("code")
        )
        await self.reply_run(notebook_id, wait)


class UnknownPathHandler(ReactiveHandler):
    """Anything else under ``/reactive/api/v1``: a JSON 404 (not Jupyter's HTML page),
    so a client with a typo in a path reads what went wrong."""

    auth_resource = "contents"

    @web.authenticated
    def get(self, path: str) -> None:
        raise NotFound(f"no such API path: {shown_id(path)}; see {API_PREFIX}/openapi.json")

    post = put = delete = patch = get
