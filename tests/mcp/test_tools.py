"""An agent builds and runs a notebook over MCP: the SDK's own client on 127.0.0.1 with
the Jupyter token, against a real server and real kernels, in both protocol eras (the
2026-07-28 ``server/discover`` probe, and the legacy ``initialize`` session)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx2
import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from mcp_types import CallToolResult

from ..handlers.conftest import API, payload
from .conftest import Connect

FINDING_TOOLS = {"list_notebooks", "create_notebook", "open_notebook"}
NOTEBOOK_TOOLS = {
    "get_notebook",
    "get_cell_output",
    "create_cell",
    "update_cell",
    "delete_cell",
    "move_cell",
    "run_cell",
    "wait_for_run",
    "list_variables",
    "get_dependencies",
    "interrupt",
}

ERAS = pytest.mark.parametrize(
    ("mode", "version"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")]
)


def answer_of(result: CallToolResult) -> dict[str, Any]:
    """The tool's JSON answer: the text content, which structuredContent repeats."""
    (content,) = result.content
    assert content.type == "text"
    answer: dict[str, Any] = json.loads(content.text)
    assert result.structured_content == answer
    assert result.is_error is (answer.get("ok") is False)
    return answer


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return answer_of(await client.call_tool(tool, arguments))


@ERAS
async def test_an_agent_builds_a_notebook_and_runs_it_in_one_call(
    connect: Connect, jp_fetch: Any, mode: str, version: str
) -> None:
    async with connect(mode=mode) as client:
        assert client.protocol_version == version
        assert client.server_info is not None
        assert client.server_info.name == "reactive-notebook"
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == FINDING_TOOLS | NOTEBOOK_TOOLS
        for tool in tools.values():
            Draft202012Validator.check_schema(tool.input_schema)
            assert tool.description
        for name in NOTEBOOK_TOOLS:  # no "current notebook": every one names its own
            assert "notebook_id" in tools[name].input_schema["required"], name

        made = await call(client, "create_notebook", name="analysis")
        notebook = made["notebook_id"]
        assert made["path"] == "analysis.ipynb"
        cells = [
            (await call(client, "create_cell", notebook_id=notebook, code=code))["cell_id"]
            for code in ("a = 1", "b = a + 1", "print(b)")
        ]

        ran = await call(client, "run_cell", notebook_id=notebook, cell_id=cells[0])
        assert ran["status"] == "done"
        assert [c["id"] for c in ran["cells"]] == cells  # the root and its dependents
        assert [c["status"] for c in ran["cells"]] == ["success"] * 3
        assert ran["cells"][2]["outputs"][0]["text"] == "2\n"

        page = await call(client, "get_cell_output", notebook_id=notebook, cell_id=cells[2])
        assert (page["text"], page["next_offset"]) == ("2\n", None)
        variables = await call(client, "list_variables", notebook_id=notebook)
        found = {v["name"]: v for v in variables["variables"]}
        assert (found["a"]["repr"], found["b"]["repr"]) == ("1", "2")
        graph = await call(client, "get_dependencies", notebook_id=notebook)
        assert next(c for c in graph["cells"] if c["id"] == cells[2])["reads_from"] == {
            "b": cells[1]
        }

        listed = await call(client, "list_notebooks")
        assert {"id": notebook, "name": "analysis", "path": "analysis.ipynb"} in listed["notebooks"]
        opened = await call(client, "open_notebook", path="analysis.ipynb")
        assert opened["notebook_id"] == notebook
        missing = await client.call_tool("open_notebook", {"path": "nowhere.ipynb"})
        assert missing.is_error
        assert "no notebook" in answer_of(missing)["error"]

    # The same notebook through REST: one service, one code path.
    rest = payload(await jp_fetch(*API, "notebooks", notebook))
    assert [c["code"] for c in rest["cells"]] == ["a = 1", "b = a + 1", "print(b)"]
    assert [c["status"] for c in rest["cells"]] == ["success"] * 3


async def test_a_refusal_is_an_error_result_the_agent_can_read(connect: Connect) -> None:
    async with connect() as client:
        notebook = (await call(client, "create_notebook"))["notebook_id"]
        bad = await client.call_tool("create_cell", {"notebook_id": notebook, "type": "rust"})
        assert bad.is_error
        assert "type" in answer_of(bad)["error"]
        unknown = await client.call_tool("run_cell", {"notebook_id": notebook, "cell_id": "nope"})
        assert unknown.is_error
        assert answer_of(unknown)["ok"] is False
        assert (await call(client, "get_notebook", notebook_id=notebook))["cells"] == []


@ERAS
async def test_a_long_run_reports_progress_and_answers_a_handle_to_wait_for(
    connect: Connect, mode: str, version: str
) -> None:
    async with connect(mode=mode) as client:
        assert client.protocol_version == version
        notebook = (await call(client, "create_notebook", name="slow"))["notebook_id"]
        quick = (await call(client, "create_cell", notebook_id=notebook, code="x = 1"))["cell_id"]
        # Once alone, so the kernel is up and the timeout below is the slow cell's doing.
        await call(client, "run_cell", notebook_id=notebook, cell_id=quick)
        slow = await call(
            client, "create_cell", notebook_id=notebook, code="import time\ntime.sleep(3)\ny = x"
        )
        after = await call(client, "create_cell", notebook_id=notebook, code="z = y + 1")
        progress: list[tuple[float, str | None]] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append((done, message))

        started = await client.call_tool(
            "run_cell",
            {"notebook_id": notebook, "cell_id": quick, "timeout": 0.5},
            progress_callback=on_progress,
        )
        handle = answer_of(started)
        assert handle["status"] == "running"
        assert handle["cell_ids"] == [quick, slow["cell_id"], after["cell_id"]]
        assert progress == [(1, f"cell {quick}: success")]  # the quick cell, as it ended

        finished = await client.call_tool(
            "wait_for_run",
            {"notebook_id": notebook, "run_id": handle["run_id"], "timeout": 30},
            progress_callback=on_progress,
        )
        done = answer_of(finished)
        assert done["status"] == "done"
        assert [c["status"] for c in done["cells"]] == ["success"] * 3
        assert progress[1:] == [
            (1, f"cell {slow['cell_id']}: success"),
            (2, f"cell {after['cell_id']}: success"),
        ]
        again = await client.call_tool(
            "wait_for_run", {"notebook_id": notebook, "run_id": handle["run_id"]}
        )
        assert again.is_error  # reported once, then forgotten


async def test_a_client_that_goes_away_mid_run_leaves_the_run_and_the_server_well(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[httpx2.Request] = []
    async with connect(record=sent) as client:
        notebook = (await call(client, "create_notebook"))["notebook_id"]
        cell_code = "import time\ntime.sleep(1)\nx = 7"
        cell = await call(client, "create_cell", notebook_id=notebook, code=cell_code)
        arguments = {"notebook_id": notebook, "cell_id": cell["cell_id"], "timeout": 0}
        await call(client, "run_cell", **arguments)  # recorded; the kernel starts
        await call(client, "wait_for_run", notebook_id=notebook, run_id="run-1", timeout=30)
        await call(
            client,
            "update_cell",
            code="import time\ntime.sleep(1)\nx = 8",
            expected_code=cell_code,
            notebook_id=notebook,
            cell_id=cell["cell_id"],
        )
        (recorded,) = [r for r in sent if b'"run_cell"' in r.content]
        body = json.loads(recorded.content)
        body["params"]["arguments"]["timeout"] = 30  # this time it waits
        async with httpx2.AsyncClient(timeout=30) as http:
            headers = {k: v for k, v in recorded.headers.items() if k != "content-length"}
            request = http.build_request("POST", recorded.url, headers=headers, json=body)
            waiting = asyncio.ensure_future(http.send(request, stream=True))
            await asyncio.sleep(0.3)
            waiting.cancel()  # the client hangs up while the tool waits for the run
            with contextlib.suppress(asyncio.CancelledError):
                await waiting

        listed = await call(client, "list_variables", notebook_id=notebook)  # waits for the run
        assert {v["name"]: v["repr"] for v in listed["variables"]}["x"] == "8"  # it ran
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


class TestAuditLog:
    """MCP clients' tool calls go to the assistant's audit log, scrubbed like its own."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
        reactive = {**jp_server_config["ReactiveNotebook"], "chat_audit_log": str(tmp_path / "a")}
        return {**jp_server_config, "ReactiveNotebook": reactive}

    async def test_each_call_is_a_line_without_the_notebooks_password(
        self, connect: Connect, jp_fetch: Any, tmp_path: Any
    ) -> None:
        async with connect() as client:
            notebook = (await call(client, "create_notebook", name="audited"))["notebook_id"]
            await jp_fetch(
                *API,
                "notebooks",
                notebook,
                "db",
                method="PUT",
                body=json.dumps({"connection_string": "postgresql://me:s3cr3t-pw@127.0.0.1/db"}),
            )
            await call(client, "create_cell", notebook_id=notebook, code="pw = 's3cr3t-pw'")
            refused = await call(client, "get_notebook", notebook_id="no-such-notebook")
            assert refused["ok"] is False
        text = (tmp_path / "a").read_text()
        assert "s3cr3t-pw" not in text
        lines = [json.loads(line) for line in text.splitlines()]
        assert [(line["via"], line["tool"]) for line in lines] == [
            ("mcp", "create_notebook"),
            ("mcp", "create_cell"),
            ("mcp", "get_notebook"),
        ]
        created, cell, missing = lines
        assert cell["notebook_id"] == notebook
        assert cell["outcome"] == {"ok": True}
        assert cell["input"]["code"] != "pw = 's3cr3t-pw'"  # masked, not dropped
        assert missing["outcome"]["ok"] is False
        assert missing["notebook_id"] == "no-such-notebook"
        assert {line["user"] for line in lines} == {created["user"]}
        assert all(line["client"] and line["duration_ms"] >= 0 for line in lines)
