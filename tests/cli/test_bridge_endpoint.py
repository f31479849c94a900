"""The stdio bridge in front of our own endpoint: a real Jupyter server with the extension
(under pytest-jupyter's ``/a%40b/`` base URL, as behind JupyterHub) and real kernels,
reached by the SDK's stdio client through ``python -m reactive_notebook.cli mcp``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from .bridge import bridged


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {"reactive_notebook": True, "jupyter_server_terminals": False},
            "allow_unauthenticated_access": False,
        },
        "ReactiveNotebook": {"save_delay": 0.05},
    }


@pytest.fixture
def base_url(http_server: Any, jp_http_port: int, jp_base_url: str) -> str:
    """What a user gives ``--url``: the server's base URL."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


@pytest.fixture
def token(jp_auth_header: dict[str, str]) -> str:
    return jp_auth_header["Authorization"].removeprefix("token ")


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    answer: dict[str, Any] = json.loads(result.content[0].text)  # type: ignore[union-attr]
    return answer


@pytest.mark.parametrize("mode", ["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
async def test_an_agent_builds_and_runs_a_notebook_through_the_bridge(
    base_url: str, token: str, mode: str
) -> None:
    async with bridged(base_url, token=token, mode=mode) as (client, stderr):
        assert client.server_info is not None
        assert client.server_info.name == "reactive-notebook"
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert {"list_notebooks", "create_notebook", "open_notebook", "run_cell"} <= tools

        notebook = (await call(client, "create_notebook", name="bridged"))["notebook_id"]
        cells = [
            (await call(client, "create_cell", notebook_id=notebook, code=code))["cell_id"]
            for code in ("a = 20", "print(a + 22)")
        ]
        ran = await call(client, "run_cell", notebook_id=notebook, cell_id=cells[0])
        assert [c["status"] for c in ran["cells"]] == ["success", "success"]
        assert ran["cells"][1]["outputs"][0]["text"] == "42\n"

        (resource,) = (await client.list_resources()).resources
        (contents,) = (await client.read_resource(str(resource.uri))).contents
        assert "print(a + 22)" in contents.text  # type: ignore[union-attr]
    assert f"connected to {base_url}reactive/mcp" in stderr.text


async def test_the_servers_refusal_of_a_wrong_token_names_the_variable(base_url: str) -> None:
    async with bridged(base_url, token="not-the-token") as (client, stderr):
        with pytest.raises(MCPError, match="check the token in the environment variable T"):
            await client.list_tools()
    assert "refused the token (HTTP 403)" in stderr.text
