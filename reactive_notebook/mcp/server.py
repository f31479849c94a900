"""The MCP server: the assistant's notebook tools, the finding tools, notebooks as
resources; every call as the Jupyter user of the HTTP request that carried it.

Built on the SDK's low-level :class:`mcp.server.lowlevel.Server`, so the tools keep the
registry's own JSON Schemas (the registry validates the input, refuses without raising
and scrubs every answer). A tool answers its JSON as text content and as
``structuredContent``; a refusal (``"ok": false``) is ``isError: true``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from .. import __version__
from ..agent.audit import AuditLog, elapsed_ms
from ..agent.tools import ToolContext, ToolRegistry, notebook_tools
from ..kernels.outputs import json_safe
from ..notebooks.actor import acting_as, mcp_client
from ..notebooks.errors import NotebookError
from ..notebooks.service import NotebookService
from .access import READ, access_of
from .caller import Caller, caller_of
from .contexts import ToolContexts
from .notebook_tools import finding_tools
from .progress import cells_finishing
from .resources import MIME_TYPE, notebook_id_of, notebook_uri, resource_entry

#: Tools that wait for a run: they report progress.
RUN_TOOLS = frozenset({"run_cell", "wait_for_run"})

INSTRUCTIONS = """\
Reactive notebooks of this Jupyter server: a cell re-runs when a name it reads changes.
Find a notebook with list_notebooks or open_notebook(path), or make one with
create_notebook; every other tool takes its notebook_id. Cells are addressed by their
stable id (answers echo each cell's index). update_cell needs the code you last saw
(expected_code): when a person changed the cell since, nothing changes and the answer
is a conflict with the current code. run_cell runs a cell and every cell that depends
on it, and answers each cell that ran; a run longer than its timeout answers a run_id
for wait_for_run."""


class NotebookMcp:
    """The handlers of the MCP server (one per Jupyter server)."""

    def __init__(
        self, service: NotebookService, contexts: ToolContexts, *, audit: AuditLog | None = None
    ) -> None:
        self.service = service
        self.contexts = contexts
        #: The assistant's audit log: MCP calls are recorded there too, ``"via": "mcp"``.
        self.audit = audit
        self.finding = finding_tools()
        self.notebook = notebook_tools()
        self._schemas = {
            spec["name"]: spec["input_schema"]
            for registry in (self.finding, self.notebook)
            for spec in registry.specs()
        }

    def server(self) -> Server[Any]:
        return Server(
            "reactive-notebook",
            version=__version__,
            title="Reactive notebooks",
            instructions=INSTRUCTIONS,
            get_tool_input_schema=self._schemas.get,
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
            on_list_resources=self.list_resources,
            on_read_resource=self.read_resource,
        )

    # -- tools -----------------------------------------------------------------------

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        caller_of(ctx.request)
        specs = [*self.finding.specs(), *self.notebook.specs()]
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=spec["name"],
                    description=spec["description"],
                    input_schema=spec["input_schema"],
                )
                for spec in specs
            ]
        )

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        started = time.monotonic()
        caller = caller_of(ctx.request)
        name, arguments = params.name, dict(params.arguments or {})
        action, resource = access_of(name)
        context = self.contexts.get(caller.principal, caller.owner)
        if not caller.authorize(action, resource):
            answer: dict[str, Any] = {
                "ok": False,
                "error": f"you are not allowed to {action} {resource}",
            }
        else:
            registry = self.finding if name in self._finding_names else self.notebook
            actor = mcp_client(
                caller.username, client=_client_name(ctx), request_id=str(ctx.request_id)
            )
            with acting_as(actor):
                if name in RUN_TOOLS and _wants_progress(ctx):
                    answer = await self._with_progress(ctx, context, registry, name, arguments)
                else:
                    answer = await registry.call(context, name, arguments)
        await self._audit(ctx, context, name, arguments, answer, started)
        return _result(answer)

    async def _audit(
        self,
        ctx: ServerRequestContext[Any],
        context: ToolContext,
        name: str,
        arguments: dict[str, Any],
        answer: dict[str, Any],
        started: float,
    ) -> None:
        """One line of the audit log per call, as the chat's tool calls have (its input
        and a refusal's answer pass the same scrubber as the answer did)."""
        if self.audit is None:
            return
        notebook_id = arguments.get("notebook_id")
        ok = answer.get("ok") is not False
        await self.audit.record(
            await context.scrubber(notebook_id),
            via="mcp",
            user=context.user,
            client=_client_name(ctx),
            notebook_id=notebook_id,
            tool=name,
            input=arguments,
            outcome={"ok": True} if ok else answer,
            duration_ms=elapsed_ms(started),
        )

    @property
    def _finding_names(self) -> set[str]:
        return set(self.finding.names())

    async def _with_progress(
        self,
        ctx: ServerRequestContext[Any],
        context: ToolContext,
        registry: ToolRegistry,
        name: str,
        arguments: dict[str, Any],
    ) -> dict[str, Any]:
        notebook_id = arguments.get("notebook_id")
        try:  # its events are only the owner's to see
            await self.service.get_notebook(context.user, str(notebook_id))
        except NotebookError:
            return await registry.call(context, name, arguments)  # which refuses it

        async def report(count: float, message: str) -> None:
            await ctx.session.report_progress(count, None, message)

        async with cells_finishing(self.service.hub, str(notebook_id), report):
            return await registry.call(context, name, arguments)

    # -- resources -------------------------------------------------------------------

    async def list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        caller = caller_of(ctx.request)
        _check(caller, READ)
        context = self.contexts.get(caller.principal, caller.owner)
        listed = await self.finding.call(context, "list_notebooks", {})
        return types.ListResourcesResult(
            resources=[types.Resource(**resource_entry(n)) for n in listed.get("notebooks", [])]
        )

    async def read_resource(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        caller = caller_of(ctx.request)
        _check(caller, READ)
        uri = str(params.uri)
        notebook_id = notebook_id_of(uri)
        if notebook_id is None:
            raise MCPError(types.INVALID_PARAMS, f"no such resource: {uri}")
        context = self.contexts.get(caller.principal, caller.owner)
        answer = await self.notebook.call(context, "get_notebook", {"notebook_id": notebook_id})
        if not answer.get("ok"):  # not theirs, or gone: the same answer
            raise MCPError(types.INVALID_PARAMS, f"no such resource: {uri}")
        del answer["ok"]
        answer = {"id": notebook_id, **answer}
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(
                    uri=notebook_uri(notebook_id), mime_type=MIME_TYPE, text=_json(answer)
                )
            ]
        )


def _check(caller: Caller, access: tuple[str, str]) -> None:
    if not caller.authorize(*access):
        raise MCPError(types.INVALID_REQUEST, f"you are not allowed to {access[0]} {access[1]}")


def _result(answer: dict[str, Any]) -> types.CallToolResult:
    text = _json(answer)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content=json.loads(text),
        is_error=answer.get("ok") is False,
    )


def _json(value: Any) -> str:
    """Strict JSON (no NaN); odd values made safe rather than failing the call."""
    try:
        return json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError):
        return json.dumps(json_safe(value), allow_nan=False, ensure_ascii=False)


def _client_name(ctx: ServerRequestContext[Any]) -> str:
    """The name the client gave (``initialize`` or the request's ``_meta``), if any."""
    params = ctx.session.client_params
    info = params.client_info if params is not None else None
    return info.name if info is not None else "unknown"


def _wants_progress(ctx: ServerRequestContext[Any]) -> bool:
    meta: Any = ctx.meta
    if meta is None:
        return False
    token = (
        meta.get("progress_token")
        if isinstance(meta, dict)
        else getattr(meta, "progress_token", None)
    )
    return token is not None
