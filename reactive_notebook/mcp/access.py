"""What each tool needs of the server's Authorizer, as its REST twin does.

The HTTP request to the endpoint is authorized as reading ``contents`` (every MCP
message is a POST, so the method says nothing of what it does); each tool call is then
authorized for what it does: reading, changing a notebook (``write contents``), or
running code (``execute kernels``). A read-only user (a JupyterHub role, say) can read
notebooks over MCP and nothing more.
"""

from __future__ import annotations

READ = ("read", "contents")
WRITE = ("write", "contents")
EXECUTE = ("execute", "kernels")

TOOL_ACCESS: dict[str, tuple[str, str]] = {
    "list_notebooks": READ,
    "open_notebook": READ,
    "get_notebook": READ,
    "get_cell_output": READ,
    "get_dependencies": READ,
    "list_variables": ("read", "kernels"),
    "create_notebook": WRITE,
    "create_cell": WRITE,
    "update_cell": WRITE,
    "delete_cell": WRITE,
    "move_cell": WRITE,
    "run_cell": EXECUTE,
    "wait_for_run": EXECUTE,
    "interrupt": EXECUTE,
}


def access_of(tool: str) -> tuple[str, str]:
    """What calling ``tool`` needs (an unknown tool, or one added later without an
    entry here, needs the most: it may run code)."""
    return TOOL_ACCESS.get(tool, EXECUTE)
