"""Launching the stdio bridge from the tests: the SDK's stdio client on
``python -m reactive_notebook.cli mcp`` from this tree, the token in the variable ``T``."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret"
BRIDGE = [sys.executable, "-m", "reactive_notebook.cli", "mcp"]


def bridge_params(url: str, token: str | None) -> StdioServerParameters:
    """Launch the bridge as an MCP client config would: the token in the environment."""
    env = {"T": token} if token is not None else {}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "reactive_notebook.cli", "mcp", "--url", url, "--token-env", "T"],
        env=env,
        cwd=ROOT,
    )


@dataclass
class Stderr:
    text: str = ""
    """The bridge's stderr, once it has exited."""


@asynccontextmanager
async def bridged(
    url: str, token: str | None = TOKEN, mode: str = "auto"
) -> AsyncIterator[tuple[Client, Stderr]]:
    """The SDK's stdio client on the bridge, and the bridge's stderr (read after exit)."""
    captured = Stderr()
    with tempfile.TemporaryFile("w+") as stderr:
        try:
            params = bridge_params(url, token)
            async with Client(stdio_client(params, errlog=stderr), mode=mode) as client:
                yield client, captured
        finally:
            stderr.seek(0)
            captured.text = stderr.read()
