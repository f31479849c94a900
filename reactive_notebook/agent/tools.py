"""The notebook tools an agent acts through: one registry, used by the in-app chat and by
MCP (issues 16 and 17). Every tool is a call of :class:`NotebookService`, with the
requesting user: the same ownership rules, locks, revisions, events and shared document
as a person's edit, so an open JupyterLab tab shows an agent's change at once.

A tool answers a JSON-safe dict. A refused call answers ``{"ok": false, "error": ...}``
(the model reads why and can recover) instead of raising; ``update_cell`` answers
``conflict`` with the current code when a person changed the cell since the agent read it.
Cells are addressed by their stable id; answers echo each cell's index.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from ..kernels.variables import variable_listing
from ..models import Cell
from ..notebooks.errors import NotebookError
from ..notebooks.service import NotebookService
from .previews import PreviewLimits, page_output, preview_outputs
from .scrub import Scrubber, connection_secrets, environment_secrets

Handler = Callable[["ToolContext", dict[str, Any]], Awaitable[dict[str, Any]]]

#: Longest a ``run_cell`` or ``wait_for_run`` waits before answering with a run handle.
MAX_WAIT_SECONDS = 120.0


@dataclass(frozen=True)
class Tool:
    """One tool: its name, what it is for (the model reads it), its input's JSON Schema."""

    name: str
    description: str
    input_schema: dict[str, Any]
    handler: Handler

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }


@dataclass
class ToolContext:
    """Who calls, through which service, and with what preview limits. One per chat (or
    MCP session): it keeps the handles of runs still going."""

    service: NotebookService
    user: str
    limits: PreviewLimits = field(default_factory=PreviewLimits)
    #: The server's environment: its secret values never reach the model.
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    runs: dict[str, _Run] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def scrubber(self, notebook_id: Any) -> Scrubber:
        """What an answer about ``notebook_id`` is scrubbed of: the server's secrets and
        the notebook's database password."""
        secrets = environment_secrets(self.environ)
        if isinstance(notebook_id, str):
            try:
                opened = await self.service.get_notebook(self.user, notebook_id)
            except NotebookError:
                pass  # the tool answers the refusal
            else:
                secrets += connection_secrets(opened.notebook.db_connection)
        return Scrubber(secrets)

    def new_run_id(self) -> str:
        return f"run-{next(self._ids)}"


@dataclass
class _Run:
    notebook_id: str
    #: The cell and its dependents, as planned when the run was asked for.
    cell_ids: list[str]
    task: asyncio.Task[None]
    #: The notebook's last event before the run: the cells that ran are in the ones after.
    since_seq: int


class ToolRegistry:
    """The tools by name; :meth:`call` validates the input, never raises for a refusal,
    and scrubs every answer of the secrets (:mod:`.scrub`)."""

    def __init__(self, tools: list[Tool]) -> None:
        self._tools = {tool.name: tool for tool in tools}

    def specs(self) -> list[dict[str, Any]]:
        return [tool.spec() for tool in self._tools.values()]

    def names(self) -> list[str]:
        return list(self._tools)

    async def call(self, context: ToolContext, name: str, arguments: Any) -> dict[str, Any]:
        tool = self._tools.get(name)
        if tool is None:
            return _refused(f"there is no tool {name!r}; the tools are {', '.join(self._tools)}")
        try:
            jsonschema.validate(arguments, tool.input_schema)
        except jsonschema.ValidationError as invalid:
            where = ".".join(str(p) for p in invalid.absolute_path) or "input"
            return _refused(f"{name}: {where}: {invalid.message}")
        try:
            answer = await tool.handler(context, arguments)
        except NotebookError as error:
            answer = _refused(str(error))
        scrub = await context.scrubber(arguments.get("notebook_id"))
        result: dict[str, Any] = scrub(answer)
        return result


def _refused(message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": message, **extra}


# -- what the tools show --------------------------------------------------------------


def _cell_view(context: ToolContext, opened: Any, cell: Cell, index: int) -> dict[str, Any]:
    described = context.service.describe(opened, cell)
    view = {
        "id": cell.id,
        "index": index,
        "type": described["type"],
        "code": cell.code,
        "status": described["status"],
        "stale": described["stale"],
        "reads": described["reads"],
        "writes": described["writes"],
        "error": described["error"],
        "outputs": preview_outputs(opened.outputs_of(cell), context.limits),
    }
    if "output" in described:
        view["result_variable"] = described["output"]
    return view


async def _opened(context: ToolContext, notebook_id: str) -> Any:
    return await context.service.get_notebook(context.user, notebook_id)


def _index_of(opened: Any, cell_id: str) -> int:
    return next(i for i, cell in enumerate(opened.cells) if cell.id == cell_id)


# -- the tools ------------------------------------------------------------------------


async def get_notebook(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    opened = await _opened(context, args["notebook_id"])
    cells = [_cell_view(context, opened, cell, i) for i, cell in enumerate(opened.cells)]
    return {
        "ok": True,
        "name": opened.notebook.name,
        "revision": opened.notebook.revision,
        "cells": cells,
    }


async def get_cell_output(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    opened = await _opened(context, args["notebook_id"])
    cell = context.service.cell(opened, args["cell_id"])
    outputs = opened.outputs_of(cell)
    index = args.get("index", 0)
    if index >= len(outputs):
        return _refused(f"the cell has {len(outputs)} output(s); index {index} is past them")
    page = page_output(outputs[index], args.get("offset", 0), args.get("length", 8000))
    return {"ok": True, "cell_id": cell.id, "index": index, **page}


async def create_cell(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    cell = await context.service.create_cell(
        context.user,
        args["notebook_id"],
        args.get("type", "python"),
        args.get("code", ""),
        after_cell_id=args.get("after_cell_id"),
        at_end="after_cell_id" not in args,
    )
    opened = await _opened(context, args["notebook_id"])
    return {"ok": True, "cell_id": cell.id, "index": _index_of(opened, cell.id)}


async def update_cell(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    opened = await _opened(context, args["notebook_id"])
    current = context.service.cell(opened, args["cell_id"]).code
    if current != args["expected_code"]:
        return _refused(
            "conflict: the cell changed since you read it (a person edited it); nothing "
            "was changed. Its current code is in current_code.",
            conflict=True,
            current_code=current,
        )
    cell = await context.service.update_cell(
        context.user, args["notebook_id"], args["cell_id"], args["code"]
    )
    return {"ok": True, "cell_id": cell.id, "index": _index_of(opened, cell.id)}


async def delete_cell(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    await context.service.delete_cell(context.user, args["notebook_id"], args["cell_id"])
    return {"ok": True}


async def move_cell(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    await context.service.move_cell(
        context.user, args["notebook_id"], args["cell_id"], args.get("after_cell_id")
    )
    opened = await _opened(context, args["notebook_id"])
    return {"ok": True, "index": _index_of(opened, args["cell_id"])}


async def run_cell(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    notebook_id, cell_id = args["notebook_id"], args["cell_id"]
    opened = await _opened(context, notebook_id)
    context.service.cell(opened, cell_id)  # unknown: refused before anything runs
    affected = [cell_id, *opened.core.graph.descendants([cell_id])]
    ordered = [c.id for c in opened.cells if c.id in set(affected)]
    since_seq = context.service.hub.last_seq(notebook_id)
    task = asyncio.create_task(
        context.service.run_cell(context.user, notebook_id, cell_id, wait=True)
    )
    run_id = context.new_run_id()
    context.runs[run_id] = _Run(notebook_id, ordered, task, since_seq)
    return await _await_run(context, run_id, args.get("timeout", 30.0))


async def wait_for_run(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    run_id = args["run_id"]
    run = context.runs.get(run_id)
    if run is None or run.notebook_id != args["notebook_id"]:  # MCP: any id may come
        return _refused(
            f"no run {run_id} is going on in this notebook (it finished and was reported, "
            "or never was)"
        )
    return await _await_run(context, run_id, args.get("timeout", 30.0))


async def _await_run(context: ToolContext, run_id: str, timeout: float) -> dict[str, Any]:
    run = context.runs[run_id]
    done, _ = await asyncio.wait({run.task}, timeout=min(max(timeout, 0.0), MAX_WAIT_SECONDS))
    if not done:
        return {"ok": True, "status": "running", "run_id": run_id, "cell_ids": run.cell_ids}
    del context.runs[run_id]
    failure = run.task.exception()
    if isinstance(failure, NotebookError):
        return _refused(str(failure))
    if failure is not None:
        raise failure
    opened = await _opened(context, run.notebook_id)
    touched = set(run.cell_ids) | _cells_that_ran(context, run)
    cells = [
        _cell_view(context, opened, cell, index)
        for index, cell in enumerate(opened.cells)
        if cell.id in touched  # a cell deleted meanwhile is left out
    ]
    return {"ok": True, "status": "done", "cells": cells}


def _cells_that_ran(context: ToolContext, run: _Run) -> set[str]:
    """Every cell a status event since the run began names: the ancestors a run replays
    first too (the planned dependents alone when those events are no longer kept)."""
    events = context.service.hub.since(run.notebook_id, run.since_seq) or []
    return {
        str(event.data["cell_id"])
        for event in events
        if event.type == "cell_status" and event.data.get("status") != "queued"
    }


async def list_variables(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """The variables the notebook's kernel holds, asked silently once no run is in
    progress; without a kernel yet, none (none is started to list nothing). The kernel
    masks the notebook's connection secrets before it cuts a repr (a cut piece of a
    password would escape the answer's scrub)."""
    opened = await _opened(context, args["notebook_id"])
    listing = await variable_listing(
        opened.kernel, limit=args.get("limit", 200), connection=opened.notebook.db_connection
    )
    if "error" in listing:
        return _refused(listing["error"], kernel=listing["kernel"])
    answer = {"ok": True, "variables": listing["variables"], "truncated": listing["truncated"]}
    if listing["kernel"] != "ready":
        answer["kernel"] = listing["kernel"]  # not started: nothing is defined yet
    return answer


async def get_dependencies(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    opened = await _opened(context, args["notebook_id"])
    graph = opened.core.graph
    cells = []
    for index, cell in enumerate(opened.cells):
        if not cell.type.runs or cell.id not in graph:
            continue
        cells.append(
            {
                "id": cell.id,
                "index": index,
                "reads_from": graph.providers(cell.id),
                "read_by": graph.readers_of(cell.id),
                "stale": cell.stale,
            }
        )
    cycles = {cell_id: problem.message for cell_id, problem in graph.cycles().items()}
    return {"ok": True, "cells": cells, "cycles": cycles}


async def interrupt(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    await context.service.interrupt(context.user, args["notebook_id"])
    return {"ok": True}


# -- the registry ---------------------------------------------------------------------

_NOTEBOOK = {"type": "string", "minLength": 1, "description": "The notebook's id."}
_CELL = {"type": "string", "minLength": 1, "description": "The cell's stable id."}
_TIMEOUT = {
    "type": "number",
    "minimum": 0,
    "maximum": MAX_WAIT_SECONDS,
    "description": "Seconds to wait for the run before answering with a run_id (default 30).",
}


def object_schema(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    """A tool's input: an object of exactly these properties."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def notebook_tools() -> ToolRegistry:
    """The tools of a reactive notebook."""
    return ToolRegistry(
        [
            Tool(
                "get_notebook",
                "The notebook's cells in order: id, index, type, code, status, whether it is "
                "stale, the names it reads and writes, its error and previews of its outputs.",
                object_schema({"notebook_id": _NOTEBOOK}, "notebook_id"),
                get_notebook,
            ),
            Tool(
                "get_cell_output",
                "One output of a cell, whole, a page at a time (offset, length in characters).",
                object_schema(
                    {
                        "notebook_id": _NOTEBOOK,
                        "cell_id": _CELL,
                        "index": {"type": "integer", "minimum": 0},
                        "offset": {"type": "integer", "minimum": 0},
                        "length": {"type": "integer", "minimum": 1, "maximum": 100_000},
                    },
                    "notebook_id",
                    "cell_id",
                ),
                get_cell_output,
            ),
            Tool(
                "create_cell",
                "Add a cell (python or sql) after after_cell_id (null: first; omitted: last). "
                "It does not run.",
                object_schema(
                    {
                        "notebook_id": _NOTEBOOK,
                        "code": {"type": "string"},
                        "type": {"type": "string", "enum": ["python", "sql"]},
                        "after_cell_id": {"type": ["string", "null"]},
                    },
                    "notebook_id",
                ),
                create_cell,
            ),
            Tool(
                "update_cell",
                "Replace a cell's code. expected_code is the code you last saw: if the cell "
                "changed since, nothing changes and the answer is a conflict with the current "
                "code. It does not run.",
                object_schema(
                    {
                        "notebook_id": _NOTEBOOK,
                        "cell_id": _CELL,
                        "code": {"type": "string"},
                        "expected_code": {"type": "string"},
                    },
                    "notebook_id",
                    "cell_id",
                    "code",
                    "expected_code",
                ),
                update_cell,
            ),
            Tool(
                "delete_cell",
                "Delete a cell; the cells that read its names re-run.",
                object_schema(
                    {"notebook_id": _NOTEBOOK, "cell_id": _CELL}, "notebook_id", "cell_id"
                ),
                delete_cell,
            ),
            Tool(
                "move_cell",
                "Move a cell after after_cell_id (null: first).",
                object_schema(
                    {
                        "notebook_id": _NOTEBOOK,
                        "cell_id": _CELL,
                        "after_cell_id": {"type": ["string", "null"]},
                    },
                    "notebook_id",
                    "cell_id",
                ),
                move_cell,
            ),
            Tool(
                "run_cell",
                "Run a cell and every cell that depends on it. Answers each cell that ran "
                "with its status, error and output previews; a run still going after timeout "
                "seconds answers a run_id for wait_for_run.",
                object_schema(
                    {"notebook_id": _NOTEBOOK, "cell_id": _CELL, "timeout": _TIMEOUT},
                    "notebook_id",
                    "cell_id",
                ),
                run_cell,
            ),
            Tool(
                "wait_for_run",
                "Wait for a run that run_cell answered with a run_id.",
                object_schema(
                    {"notebook_id": _NOTEBOOK, "run_id": {"type": "string"}, "timeout": _TIMEOUT},
                    "notebook_id",
                    "run_id",
                ),
                wait_for_run,
            ),
            Tool(
                "list_variables",
                "The variables the notebook's kernel holds, by name: type, shape (arrays, "
                "DataFrames) or len (containers), a short repr. At most limit of them "
                "(default 200); truncated counts the others.",
                object_schema(
                    {
                        "notebook_id": _NOTEBOOK,
                        "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                    "notebook_id",
                ),
                list_variables,
            ),
            Tool(
                "get_dependencies",
                "For each cell: which cell each name it reads comes from, which cells read "
                "it, whether it is stale; and the cycles.",
                object_schema({"notebook_id": _NOTEBOOK}, "notebook_id"),
                get_dependencies,
            ),
            Tool(
                "interrupt",
                "Interrupt the running cell and cancel the rest of the run.",
                object_schema({"notebook_id": _NOTEBOOK}, "notebook_id"),
                interrupt,
            ),
        ]
    )


__all__ = ["Tool", "ToolContext", "ToolRegistry", "notebook_tools"]
