"""The OpenAPI 3.1 document of the REST API, assembled from the schemas the handlers
validate with (``schemas.py``) and the route table (``routes.py``).

A test checks it against the registered routes and against real responses.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from .schemas import MAX_PATH_LENGTH, REQUEST_BODIES, RESPONSES

API_PREFIX = "/reactive/api/v1"

_NOTEBOOK_ID = {
    "name": "notebook_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The notebook's id (stable across renames).",
}
_CELL_ID = {
    "name": "cell_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The cell's id (nbformat's cell id).",
}

_PATH_QUERY = {
    "name": "path",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_PATH_LENGTH},
    "description": (
        "A file's contents path: answers the notebook in that file, as JupyterLab's file "
        "browser names it (a copied file has an id of its own, not the one in its metadata)."
    ),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


#: What a 409 means for most operations.
_STALE_REVISION = "`expected_revision` is stale; `revision` is the current one."
#: What a 409 means for a run.
_CODE_NOT_ARRIVED = (
    "The code the request names (`code`, or `codes`: see `field`) has not reached the "
    "notebook's live document within `ReactiveNotebook.run_code_timeout`: nothing ran."
)


def _errors(*codes: int, conflict: str = _STALE_REVISION) -> dict[str, Any]:
    meaning = {
        400: "Malformed JSON or a field of the wrong type or value (`field` names it).",
        403: "No credentials, or not allowed.",
        404: "No such notebook or cell (another user's notebook counts as none).",
        409: conflict,
        413: "The body is over the configured size limit.",
        429: "A limit is reached (`limit`): every kernel this server may run "
        "(`ReactiveNotebook.max_kernels`) is in use, or a quota of the caller (`quota`: "
        "`ReactiveNotebook.quota_notebooks`, `quota_kernels`, `quota_concurrent_runs`); "
        "`Retry-After` says when to try again.",
    }
    return {str(code): _json("Error", meaning[code]) for code in (403, *codes)}


def _operation(
    summary: str,
    answer: tuple[int, str | None, str],
    *,
    body: str | None = None,
    errors: tuple[int, ...] = (404,),
    parameters: tuple[dict[str, Any], ...] = (_NOTEBOOK_ID,),
    extra: dict[int, tuple[str, str]] | None = None,
    conflict: str = _STALE_REVISION,
) -> dict[str, Any]:
    status, schema, description = answer
    responses: dict[str, Any] = {
        str(status): _json(schema, description) if schema else {"description": description}
    }
    for code, (name, text) in (extra or {}).items():
        responses[str(code)] = _json(name, text)
    responses.update(_errors(*errors, conflict=conflict))
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        required = bool(REQUEST_BODIES[body]["required"])
        operation["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return operation


_BODY_ERRORS = (400, 404, 409, 413)
_RUN_ERRORS = (400, 404, 409, 413, 429)
_CELL = (_NOTEBOOK_ID, _CELL_ID)

#: path (relative to the server's base URL) -> method -> operation
PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/reactive/health": {
        "get": {
            "summary": "Liveness check (no credentials needed).",
            "security": [],
            "responses": {"200": _json("Health", "The extension is up.")},
        }
    },
    f"{API_PREFIX}/capabilities": {
        "get": _operation(
            "What the server offers: whether the notebook chat has an LLM provider.",
            (200, "Capabilities", "Each feature, available or not, and why not."),
            errors=(),
            parameters=(),
        )
    },
    f"{API_PREFIX}/welcome": {
        "post": _operation(
            "The caller's first visit (JupyterLab's extension says so once when it starts): "
            "a new user's welcome notebook is made, once (`ReactiveNotebook.welcome_notebook`).",
            (200, "Welcome", "What the caller's first visit decided."),
            errors=(),
            parameters=(),
        )
    },
    f"{API_PREFIX}/notebooks": {
        "get": _operation(
            "The caller's notebooks; with `path`, the one in that file (or none). A new "
            "user's first listing makes their welcome notebook (as `POST .../welcome`).",
            (200, "NotebookList", "Id and name of each notebook."),
            errors=(400,),
            parameters=(_PATH_QUERY,),
        ),
        "post": _operation(
            "Create a notebook.",
            (201, "NotebookCreated", "The new notebook's id (and its file's path)."),
            body="NotebookCreate",
            errors=(400, 413, 429),
            parameters=(),
        ),
    },
    f"{API_PREFIX}/notebooks/{{notebook_id}}": {
        "get": _operation("A notebook with its cells.", (200, "Notebook", "The notebook.")),
        "delete": _operation(
            "Delete a notebook (its kernel is shut down).", (204, None, "Deleted.")
        ),
    },
    f"{API_PREFIX}/notebooks/{{notebook_id}}/name": {
        "put": _operation(
            "Rename a notebook (its id does not change).",
            (200, "Renamed", "Renamed."),
            body="NotebookRename",
            errors=_BODY_ERRORS,
        )
    },
    f"{API_PREFIX}/notebooks/{{notebook_id}}/db": {
        "put": _operation(
            "Set the database connection of SQL cells (they become stale).",
            (200, "DbConnectionSet", "Set; `db_conn_string` comes back with its password masked."),
            body="DbConnection",
            errors=_BODY_ERRORS,
        )
    },
    f"{API_PREFIX}/notebooks/{{notebook_id}}/run": {
        "post": _operation(
            "Run every cell, or the cells `cell_ids` names, and what depends on them.",
            (202, "RunAccepted", "Queued; follow it on the WebSocket."),
            body="RunRequest",
            errors=_RUN_ERRORS,
            conflict=_CODE_NOT_ARRIVED,
            extra={200: ("Notebook", "With `wait`: the notebook after the run.")},
        )
    },
    f"{API_PREFIX}/notebooks/{{notebook_id}}/interrupt": {
        "post": _operation(
            "Interrupt the running cell and cancel the rest of the run.",
            (200, "Interrupted", "Interrupted (or nothing was running)."),
        )
    },
    f"{API_PREFIX}/notebooks/{{notebook_id}}/cells": {
        "post": _operation(
            "Add a cell (it does not run).",
            (201, "CellCreated", "The new cell."),
            body="CellCreate",
            errors=_BODY_ERRORS,
        )
    },
    f"{API_PREFIX}/notebooks/{{notebook_id}}/cells/{{cell_id}}": {
        "get": _operation("One cell.", (200, "CellWithRevision", "The cell."), parameters=_CELL),
        "put": _operation(
            "Change a cell's code (re-analysed; it does not run).",
            (200, "CellWithRevision", "The cell with its new reads and writes."),
            body="CellUpdate",
            errors=_BODY_ERRORS,
            parameters=_CELL,
        ),
        "delete": _operation(
            "Delete a cell: its variables leave the kernel and its dependents re-run.",
            (204, None, "Deleted."),
            parameters=_CELL,
        ),
    },
    f"{API_PREFIX}/notebooks/{{notebook_id}}/cells/{{cell_id}}/move": {
        "post": _operation(
            "Move a cell after another (`after_cell_id: null` makes it first).",
            (200, "CellMoved", "Its new index."),
            body="CellMove",
            errors=_BODY_ERRORS,
            parameters=_CELL,
        )
    },
    f"{API_PREFIX}/notebooks/{{notebook_id}}/cells/{{cell_id}}/run": {
        "post": _operation(
            "Run a cell and every cell that depends on it (and stale ancestors first).",
            (202, "RunAccepted", "Queued; follow it on the WebSocket."),
            body="CellRunRequest",
            errors=_RUN_ERRORS,
            conflict=_CODE_NOT_ARRIVED,
            parameters=_CELL,
            extra={200: ("Notebook", "With `wait`: the notebook after the run.")},
        )
    },
}

_EVENT_STREAM = {
    "description": "Server-Sent Events of the turn (`turn`, `text_delta`, `tool_call`, "
    "`tool_result`, `cells_changed`, then `done` or `error`): docs/chat-api.md.",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}
_CHAT_REFUSALS = {
    409: ("Error", "A turn is already running in this notebook (or nothing to revert)."),
    429: ("Error", "Over `ReactiveNotebook.chat_messages_per_minute`: see `Retry-After`."),
    503: ("Error", "No LLM provider is configured: `message` says what to set."),
}
_CHAT = f"{API_PREFIX}/notebooks/{{notebook_id}}/chat"

CHAT_PATHS: dict[str, dict[str, dict[str, Any]]] = {
    _CHAT: {
        "post": {
            **_operation(
                "Send the assistant a message; the answer streams as Server-Sent Events.",
                (200, None, ""),
                body="ChatMessage",
                errors=(400, 404, 413),
                extra=_CHAT_REFUSALS,
            ),
        },
        "get": _operation(
            "The caller's conversation on this notebook, and the running turn.",
            (200, "ChatHistory", "The messages, oldest first."),
        ),
        "delete": _operation(
            "Clear the conversation (a running turn is stopped first).",
            (204, None, "Cleared."),
        ),
    },
    f"{_CHAT}/stream": {
        "get": _operation(
            "Resume a turn's events after `Last-Event-ID` (header, or `last_event_id`).",
            (200, None, ""),
        )
    },
    f"{_CHAT}/cancel": {
        "post": _operation(
            "Stop the running turn (the model's request and its tools).",
            (200, "ChatCancelled", "Whether a turn was running."),
            body="ChatCancel",
            errors=(400, 404, 413),
        )
    },
    f"{_CHAT}/revert": {
        "post": _operation(
            "Put back what the assistant's last turn changed; those cells re-run.",
            (200, "ChatReverted", "What was put back, what was kept and why."),
            body="ChatRevert",
            errors=(400, 404, 413),
            extra={409: _CHAT_REFUSALS[409]},
        )
    },
}
for _streaming in (CHAT_PATHS[_CHAT]["post"], CHAT_PATHS[f"{_CHAT}/stream"]["get"]):
    _streaming["responses"]["200"] = _EVENT_STREAM
PATHS.update(CHAT_PATHS)


def openapi_document(base_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.1 document, with the server's base URL as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "reactive-notebook",
            "version": __version__,
            "description": (
                "Reactive notebooks over REST. Live events and commands travel on the "
                f"WebSocket `{API_PREFIX}/notebooks/{{notebook_id}}/ws` (not described "
                "here: see docs/websocket.md, which also lists its close codes; with the "
                "JWT identity provider it takes the JWT as `?token=` or as its first "
                'message `{"type": "auth", "token": ...}`, closes with 4401 when the JWT '
                'expires, and `{"type": "refresh_auth", "token": ...}` renews it). '
                "Every mutating body may carry `expected_revision`. Agents reach the "
                "same notebook tools over MCP (streamable HTTP, protocol 2026-07-28 and the "
                "legacy initialize handshake) at `/reactive/mcp`, with the same credentials "
                "(not described here)."
            ),
        },
        "servers": [{"url": base_url.rstrip("/") or "/"}],
        "security": [{"token": []}],
        "paths": PATHS,
        "components": {
            "schemas": {**REQUEST_BODIES, **RESPONSES},
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token <jupyter token>` (or `Bearer <jwt>` with JWT auth).",
                }
            },
        },
    }
