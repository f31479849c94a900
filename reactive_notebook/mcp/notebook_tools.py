"""The tools an MCP client has beyond the assistant's: finding and making notebooks.

The in-app chat works on the notebook it is opened in; an outside agent first has to
find one. These three are the only ones that take no ``notebook_id``: every other tool
names its notebook, so there is no server-wide "current notebook" for one agent to
write into another's (jupyter-mcp-server#181). They are :class:`Tool` s of the same
registry type as the assistant's (same validation, refusals and scrubbing).
"""

from __future__ import annotations

from typing import Any

from ..agent.tools import Tool, ToolContext, ToolRegistry, object_schema


async def list_notebooks(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    notebooks = await context.service.list_notebooks(context.user)
    for notebook in notebooks:
        path = context.service.file_path(notebook["id"])
        if path is not None:
            notebook["path"] = path
    return {"ok": True, "notebooks": notebooks}


async def create_notebook(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    notebook = await context.service.create_notebook(
        context.user, args.get("name"), args.get("folder")
    )
    answer: dict[str, Any] = {"ok": True, "notebook_id": notebook.id, "name": notebook.name}
    path = context.service.file_path(notebook.id)
    if path is not None:
        answer["path"] = path
    return answer


async def open_notebook(context: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    found = await context.service.notebooks_at(context.user, args["path"])
    if not found:
        return {"ok": False, "error": f"no notebook of yours at {args['path']!r}"}
    (notebook,) = found
    return {
        "ok": True,
        "notebook_id": notebook["id"],
        "name": notebook["name"],
        "path": notebook["path"],
    }


def finding_tools() -> ToolRegistry:
    """``list_notebooks``, ``create_notebook``, ``open_notebook``."""
    return ToolRegistry(
        [
            Tool(
                "list_notebooks",
                "Your notebooks: id, name, and the file's path. Every other tool takes the "
                "notebook's id.",
                object_schema({}),
                list_notebooks,
            ),
            Tool(
                "create_notebook",
                "Create an empty notebook (a .ipynb file, also open in JupyterLab) and "
                "answer its id. folder: a folder of the server's files (default: your "
                "notebooks folder).",
                object_schema(
                    {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "folder": {"type": "string", "maxLength": 4096},
                    }
                ),
                create_notebook,
            ),
            Tool(
                "open_notebook",
                "The notebook in a .ipynb file of the server (path relative to the server's "
                "root, as JupyterLab shows it): its id, for the other tools.",
                object_schema(
                    {"path": {"type": "string", "minLength": 1, "maxLength": 4096}}, "path"
                ),
                open_notebook,
            ),
        ]
    )
