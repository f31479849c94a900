"""``jupyter reactive-notebook mcp``: the stdio bridge, driven by the SDK's own stdio client
(and once by hand, reading its stdout byte for byte) against a real streamable-HTTP MCP
server on 127.0.0.1 that refuses requests without ``Authorization: token s3cret``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from reactive_notebook.mcp_bridge import BridgeUsageError, endpoint_url

from .bridge import BRIDGE, ROOT, TOKEN, bridged
from .remote_server import INSTRUCTIONS, README, RunningServer, serve


@pytest.fixture
def remote() -> Iterator[RunningServer]:
    with serve(TOKEN) as server:
        yield server


async def direct_tools(remote: RunningServer) -> list[dict[str, Any]]:
    """The remote's tools as a streamable-HTTP client sees them without the bridge."""
    http = httpx2.AsyncClient(headers={"Authorization": f"token {TOKEN}"})
    async with http, Client(streamable_http_client(remote.endpoint, http_client=http)) as c:
        listed = await c.list_tools()
    return [tool.model_dump() for tool in listed.tools]


@pytest.mark.parametrize("mode", ["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
async def test_the_bridge_forwards_tools_progress_resources_and_prompts(
    remote: RunningServer, mode: str
) -> None:
    async with bridged(remote.base_url, mode=mode) as (client, stderr):
        assert client.server_info is not None
        assert (client.server_info.name, client.server_info.version) == ("remote-test", "9.8.7")
        assert client.instructions == INSTRUCTIONS

        tools = await client.list_tools()
        assert [tool.model_dump() for tool in tools.tools] == await direct_tools(remote)

        added = await client.call_tool("add", {"a": 2, "b": 3})
        assert (added.is_error, added.structured_content) == (False, {"result": 5})

        progress: list[tuple[float, float | None, str | None]] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append((done, total, message))

        counted = await client.call_tool("count", {"steps": 3}, progress_callback=on_progress)
        assert counted.structured_content == {"result": "counted to 3"}
        assert progress == [(step, 3, f"step {step} of 3") for step in (1, 2, 3)]

        failed = await client.call_tool("fail", {"reason": "no such cell"})
        assert failed.is_error
        assert "no such cell" in failed.content[0].text  # type: ignore[union-attr]

        resources = await client.list_resources()
        assert [str(r.uri) for r in resources.resources] == ["notebook://demo"]
        read = await client.read_resource("notebook://demo")
        assert read.contents[0].text == README  # type: ignore[union-attr]

        prompt = await client.get_prompt("explain", {"cell": "c1"})
        assert prompt.messages[0].content.text == "Explain cell c1"  # type: ignore[union-attr]
    assert remote.gate.seen, "no request reached the server"
    assert set(remote.gate.seen) == {f"token {TOKEN}"}
    assert f"connected to {remote.endpoint}" in stderr.text


def test_stdout_carries_only_jsonrpc(remote: RunningServer) -> None:
    """What Claude Desktop does (a 2025-06-18 handshake, a call with a progress token),
    over raw pipes: every line of stdout is a JSON-RPC message, progress comes before
    the result, and the bridge exits 0 when stdin closes."""
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw-pipes", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "count", "arguments": {"steps": 2}, "_meta": {"progressToken": 7}},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "resources/read",
            "params": {"uri": "notebook://demo"},
        },
    ]
    bridge = subprocess.Popen(
        [*BRIDGE, "--url", remote.base_url, "--token-env", "T"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "T": TOKEN},
        cwd=ROOT,
    )
    assert bridge.stdin is not None
    assert bridge.stdout is not None
    received: list[dict[str, Any]] = []
    for request in requests:
        bridge.stdin.write(json.dumps(request).encode() + b"\n")
        bridge.stdin.flush()
        while "id" in request and not any(m.get("id") == request["id"] for m in received):
            received.append(json.loads(bridge.stdout.readline()))
    bridge.stdin.close()
    rest = bridge.stdout.read()
    assert bridge.wait(20) == 0
    assert rest == b""
    assert all(message["jsonrpc"] == "2.0" for message in received)
    by_id = {message.get("id"): message for message in received}
    assert by_id[1]["result"]["protocolVersion"] == "2025-06-18"
    assert by_id[1]["result"]["serverInfo"]["name"] == "remote-test"
    assert [tool["name"] for tool in by_id[2]["result"]["tools"]] == ["add", "count", "fail"]
    assert by_id[4]["result"]["contents"][0]["text"] == README
    after_call = [m for m in received if m.get("id") != 2 and received.index(m) > 1]
    assert [m.get("method") or m["id"] for m in after_call[:3]] == [
        "notifications/progress",
        "notifications/progress",
        3,
    ]
    assert [m["params"]["progress"] for m in after_call[:2]] == [1, 2]
    assert {m["params"]["progressToken"] for m in after_call[:2]} == {7}


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("wrong", "refused the token (HTTP 403): check the token in the environment variable T"),
        (None, "without a token (HTTP 401): set the environment variable T"),
    ],
    ids=["wrong-token", "no-token"],
)
async def test_a_refused_token_is_a_clear_error_naming_the_variable(
    remote: RunningServer, token: str | None, says: str
) -> None:
    async with bridged(remote.base_url, token=token) as (client, stderr):
        assert says in (client.instructions or "")
        with pytest.raises(MCPError, match="environment variable T"):
            await client.list_tools()
        with pytest.raises(MCPError, match="environment variable T"):
            await client.call_tool("add", {"a": 1, "b": 2})
    logged = stderr.text
    assert says in logged
    if token is None:
        assert "environment variable T is not set" in logged
    assert remote.gate.seen
    assert set(remote.gate.seen) == {f"token {token}" if token else ""}


async def test_a_wrong_url_says_which_url_was_tried(remote: RunningServer) -> None:
    wrong = remote.base_url.replace("/user/alice/", "/user/bob/")
    async with bridged(wrong) as (client, stderr):
        with pytest.raises(MCPError) as refused:
            await client.list_tools()
    tried = wrong + "reactive/mcp"
    assert f"no MCP endpoint at {tried} (HTTP 404)" in str(refused.value)
    assert f"no MCP endpoint at {tried} (HTTP 404)" in stderr.text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_ends_the_bridge_at_start() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    bridge = subprocess.run(
        [*BRIDGE, "--url", url, "--token-env", "T"],
        stdin=subprocess.PIPE,  # open and silent: the bridge must not wait for a client
        capture_output=True,
        env={**os.environ, "T": TOKEN},
        cwd=ROOT,
        timeout=30,
    )
    assert bridge.returncode == 1
    assert bridge.stdout == b""
    assert f"cannot reach {url}reactive/mcp" in bridge.stderr.decode()
    assert "Traceback" not in bridge.stderr.decode()


async def test_the_bridge_outlives_a_server_restart() -> None:
    port = free_port()
    with serve(TOKEN, port) as first:
        async with bridged(first.base_url) as (client, stderr):
            assert (await client.call_tool("add", {"a": 1, "b": 1})).structured_content == {
                "result": 2
            }
            first.uvicorn_server.should_exit = True
            await anyio.to_thread.run_sync(lambda: _wait_closed(port))
            # The SDK's own transport would die here and leave the call hanging.
            with (
                anyio.fail_after(20),
                pytest.raises(MCPError, match=f"cannot reach {first.endpoint}"),
            ):
                await client.call_tool("add", {"a": 1, "b": 2})
            with serve(TOKEN, port):
                added = await client.call_tool("add", {"a": 1, "b": 3})
                assert added.structured_content == {"result": 4}
    assert "is the Jupyter server running at that address?" in stderr.text


def _wait_closed(port: int) -> None:
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"port {port} still accepts connections")


@pytest.mark.parametrize(
    ("given", "endpoint"),
    [
        ("http://127.0.0.1:8888", "http://127.0.0.1:8888/reactive/mcp"),
        ("http://127.0.0.1:8888/", "http://127.0.0.1:8888/reactive/mcp"),
        ("https://hub.example.org/user/alice/", "https://hub.example.org/user/alice/reactive/mcp"),
        ("https://hub.example.org/user/alice", "https://hub.example.org/user/alice/reactive/mcp"),
        ("http://127.0.0.1:8888/reactive/mcp", "http://127.0.0.1:8888/reactive/mcp"),
        ("http://h/user/a%40b/reactive/mcp/", "http://h/user/a%40b/reactive/mcp"),
    ],
)
def test_the_url_is_the_base_url_or_the_endpoint(given: str, endpoint: str) -> None:
    assert endpoint_url(given) == endpoint


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("http://127.0.0.1:8888/lab?token=abc", "must not carry the token"),
        ("ftp://127.0.0.1/", "http:// or https://"),
        ("127.0.0.1:8888", "http:// or https://"),
        ("http://127.0.0.1:8888/?x=1", "no query string"),
    ],
)
def test_a_url_it_cannot_use_is_refused(given: str, says: str) -> None:
    with pytest.raises(BridgeUsageError, match=says):
        endpoint_url(given)


def test_a_token_in_the_url_is_refused_before_anything_is_sent() -> None:
    bridge = subprocess.run(
        [*BRIDGE, "--url", "http://127.0.0.1:9/lab?token=abc"],
        capture_output=True,
        cwd=ROOT,
        timeout=30,
    )
    assert bridge.returncode == 2
    assert "must not carry the token" in bridge.stderr.decode()


@pytest.fixture
def installed_bin(tmp_path: Path) -> Path:
    """A bin directory as ``pip install`` fills it: ``jupyter`` and the console script
    pyproject declares, a launcher of ``reactive_notebook.cli:main`` from this tree."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["jupyter-reactive-notebook"] == "reactive_notebook.cli:main"
    module, _, function = scripts["jupyter-reactive-notebook"].partition(":")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "jupyter-reactive-notebook"
    launcher.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        f"from {module} import {function}\nsys.exit({function}())\n"
    )
    jupyter = bin_dir / "jupyter"
    jupyter.write_text(Path(sys.executable).with_name("jupyter").read_text())
    for script in (launcher, jupyter):
        script.chmod(0o755)
    return bin_dir


def test_jupyter_finds_the_command(installed_bin: Path) -> None:
    shown = subprocess.run(
        [str(installed_bin / "jupyter"), "reactive-notebook", "mcp", "--help"],
        capture_output=True,
        timeout=30,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr
    assert "usage: jupyter reactive-notebook mcp" in shown.stdout
    assert "--token-env VAR" in shown.stdout


async def test_the_claude_desktop_config_snippet_works(
    remote: RunningServer, installed_bin: Path
) -> None:
    """The README's snippet for Claude Desktop's claude_desktop_config.json, as Claude
    Desktop runs it (a 2025-era handshake, only the listed environment variables)."""
    entry = {
        "command": str(installed_bin / "jupyter"),
        "args": ["reactive-notebook", "mcp", "--url", remote.base_url],
        "env": {"JUPYTER_TOKEN": TOKEN},
    }
    params = StdioServerParameters(**entry)  # type: ignore[arg-type]
    async with Client(stdio_client(params), mode="legacy") as client:
        assert client.protocol_version != "2026-07-28"
        assert [tool.name for tool in (await client.list_tools()).tools] == ["add", "count", "fail"]
        added = await client.call_tool("add", {"a": 20, "b": 22})
        assert added.structured_content == {"result": 42}
    assert set(remote.gate.seen) == {f"token {TOKEN}"}
