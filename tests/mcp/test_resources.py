"""Notebooks as read-only MCP resources: each of the caller's notebooks is listed, and
reads as its cells (code, status, output previews); another user's is neither."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from .conftest import Connect, with_users
from .test_tools import ERAS, call


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return with_users(jp_server_config)


@ERAS
async def test_a_users_notebooks_are_resources_only_they_can_read(
    connect: Connect, mode: str, version: str
) -> None:
    async with connect(user="alice", mode=mode) as alice:
        assert alice.protocol_version == version
        made = await call(alice, "create_notebook", name="shown")
        notebook = made["notebook_id"]
        cell = (await call(alice, "create_cell", notebook_id=notebook, code="print(6 * 7)"))[
            "cell_id"
        ]
        await call(alice, "run_cell", notebook_id=notebook, cell_id=cell)

        (listed,) = (await alice.list_resources()).resources
        uri = f"reactive-notebook://notebooks/{notebook}"
        assert (str(listed.uri), listed.name, listed.mime_type) == (
            uri,
            "shown",
            "application/json",
        )
        assert "alice/shown.ipynb" in (listed.description or "")
        (contents,) = (await alice.read_resource(uri)).contents
        assert contents.mime_type == "application/json"
        read = json.loads(contents.text)  # type: ignore[union-attr]
        assert (read["id"], read["name"]) == (notebook, "shown")
        (shown,) = read["cells"]
        assert (shown["id"], shown["code"], shown["status"]) == (cell, "print(6 * 7)", "success")
        assert shown["outputs"][0]["text"] == "42\n"

    async with connect(user="bob", mode=mode) as bob:
        assert (await bob.list_resources()).resources == []
        for unknown in (uri, "reactive-notebook://notebooks/nope", "file:///etc/passwd"):
            with pytest.raises(MCPError) as refused:
                await bob.read_resource(unknown)
            assert "no such resource" in str(refused.value), unknown
