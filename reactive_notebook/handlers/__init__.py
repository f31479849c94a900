"""Thin Tornado handlers over ``NotebookService`` (design.md section 4)."""

from __future__ import annotations

from typing import Any

from .base import ApiContext
from .capabilities import CapabilitiesHandler
from .chat import ChatCancelHandler, ChatHandler, ChatRevertHandler, ChatStreamHandler
from .health import HealthHandler, OpenAPIHandler
from .mcp import McpHandler
from .notebooks import (
    CellHandler,
    CellMoveHandler,
    CellRunHandler,
    CellsHandler,
    InterruptHandler,
    NotebookDbHandler,
    NotebookHandler,
    NotebookNameHandler,
    NotebookRunHandler,
    NotebooksHandler,
    UnknownPathHandler,
)
from .openapi import API_PREFIX
from .websocket import NotebookSocket
from .welcome import WelcomeHandler

_ID = r"([^/]+)"
_NOTEBOOK = rf"{API_PREFIX}/notebooks/{_ID}"
_CELL = rf"{_NOTEBOOK}/cells/{_ID}"


def routes(context: ApiContext) -> list[tuple[str, type, dict[str, Any]]]:
    """The extension's routes, relative to the server's base URL."""
    api = {"context": context}
    return [
        ("/reactive/health", HealthHandler, {}),
        ("/reactive/mcp", McpHandler, api),
        (f"{API_PREFIX}/openapi.json", OpenAPIHandler, {}),
        (f"{API_PREFIX}/capabilities", CapabilitiesHandler, api),
        (f"{API_PREFIX}/welcome", WelcomeHandler, api),
        (f"{API_PREFIX}/notebooks", NotebooksHandler, api),
        (_NOTEBOOK, NotebookHandler, api),
        (f"{_NOTEBOOK}/name", NotebookNameHandler, api),
        (f"{_NOTEBOOK}/db", NotebookDbHandler, api),
        (f"{_NOTEBOOK}/run", NotebookRunHandler, api),
        (f"{_NOTEBOOK}/interrupt", InterruptHandler, api),
        (f"{_NOTEBOOK}/ws", NotebookSocket, api),
        (f"{_NOTEBOOK}/chat", ChatHandler, api),
        (f"{_NOTEBOOK}/chat/stream", ChatStreamHandler, api),
        (f"{_NOTEBOOK}/chat/cancel", ChatCancelHandler, api),
        (f"{_NOTEBOOK}/chat/revert", ChatRevertHandler, api),
        (f"{_NOTEBOOK}/cells", CellsHandler, api),
        (_CELL, CellHandler, api),
        (f"{_CELL}/move", CellMoveHandler, api),
        (f"{_CELL}/run", CellRunHandler, api),
        (f"{API_PREFIX}/(.*)", UnknownPathHandler, api),  # last: what nothing above matched
    ]


__all__ = ["ApiContext", "routes"]
