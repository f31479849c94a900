"""Notebooks as read-only MCP resources, so clients that browse resources can attach one.

Each of the caller's notebooks is ``reactive-notebook://notebooks/{id}``; reading it
answers what the ``get_notebook`` tool answers (cells in order with code, status,
errors and output previews) as JSON, through the same registry call: the same
ownership check and the same scrubbing of secrets.
"""

from __future__ import annotations

from typing import Any

SCHEME = "reactive-notebook"
PREFIX = f"{SCHEME}://notebooks/"
MIME_TYPE = "application/json"


def notebook_uri(notebook_id: str) -> str:
    return f"{PREFIX}{notebook_id}"


def notebook_id_of(uri: str) -> str | None:
    """The notebook a resource URI names (None: not one of ours)."""
    if not uri.startswith(PREFIX):
        return None
    notebook_id = uri[len(PREFIX) :]
    return notebook_id if notebook_id and "/" not in notebook_id else None


def resource_entry(notebook: dict[str, Any]) -> dict[str, Any]:
    """A ``resources/list`` entry of a notebook listed by ``list_notebooks``."""
    where = f" ({notebook['path']})" if notebook.get("path") else ""
    return {
        "uri": notebook_uri(notebook["id"]),
        "name": notebook["name"],
        "description": f"Reactive notebook {notebook['name']}{where}: its cells, with "
        "code, status and output previews.",
        "mime_type": MIME_TYPE,
    }
