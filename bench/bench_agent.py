"""Speed of the assistant's layer, against baselines in the same run (issue 16).

A real ``jupyter server`` with the extension runs in a subprocess on 127.0.0.1, its chat
pointed at the fake model server of the tests (tests/agent/fake_llm.py), which runs in
this process and plays the model from a script.

- Tool overhead: a cell created and run (``create_cell`` then ``run_cell``, waiting for the
  run) through the tool layer (the time the audit log records for the two tool calls of a
  chat turn) against the same two operations over REST (``POST .../cells`` then ``POST
  .../cells/{id}/run`` with ``wait``), interleaved, the same notebook.
- Relay delay: from the model server's first streamed event to the first ``text_delta`` a
  chat client reads, against the same model stream read straight with the official SDK
  (the floor: what any client of the model pays).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

import anthropic
from bench_server import TOKEN, Server, percentile
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tests.agent.fake_llm import FakeLLM, Recorded, Reply, ToolCall

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
KEY_VARIABLE = "BENCH_LLM_KEY"


def ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5) * 1e3:7.2f} ms  p99 {percentile(values, 0.99) * 1e3:7.2f} ms"
    )


async def stream_turn(server: Server, notebook_id: str, message: str) -> tuple[float, str]:
    """Send a message; the time its first ``text_delta`` arrived, and the whole stream."""
    first: list[float] = []
    chunks: list[str] = []

    def on_chunk(chunk: bytes) -> None:
        text = chunk.decode()
        if not first and "event: text_delta" in "".join(chunks) + text:
            first.append(time.monotonic())
        chunks.append(text)

    await AsyncHTTPClient().fetch(
        HTTPRequest(
            f"{server.url}reactive/api/v1/notebooks/{notebook_id}/chat",
            method="POST",
            body=json.dumps({"message": message}),
            headers={"Authorization": f"token {TOKEN}"},
            streaming_callback=on_chunk,
            request_timeout=600,
        )
    )
    stream = "".join(chunks)
    assert "event: done" in stream, stream[-500:]
    return (first[0] if first else float("nan")), stream


async def tool_overhead(server: Server, fake: FakeLLM, audit: str) -> None:
    api = "reactive/api/v1/notebooks"
    notebook_id = (await server.request("POST", api, {"name": "tools"}))["notebook_id"]
    rest: list[float] = []
    for n in range(ROUNDS):
        start = time.perf_counter()
        created = await server.request(
            "POST", f"{api}/{notebook_id}/cells", {"type": "python", "code": f"r{n} = {n}"}
        )
        await server.request(
            "POST", f"{api}/{notebook_id}/cells/{created['cell_id']}/run", {"wait": True}
        )
        rest.append(time.perf_counter() - start)

        def run_created(request: Recorded) -> Reply:
            result = _last_tool_result(request)
            return Reply(tool_calls=[ToolCall("run_cell", {"cell_id": result["cell_id"]})])

        fake.add(
            Reply(tool_calls=[ToolCall("create_cell", {"code": f"t{n} = {n}"})]),
            run_created,
            Reply(text="done"),
        )
        await stream_turn(server, notebook_id, f"make t{n}")
    tools = _tool_pairs(audit, notebook_id)
    print(f"Tool overhead over {ROUNDS} rounds (a cell created and run, waiting for the run):")
    print(f"  REST (2 requests)         {ms(rest)}")
    print(
        f"  tool layer (2 tool calls) {ms(tools)}   "
        f"{percentile(tools, 0.5) / percentile(rest, 0.5):4.2f}x REST at p50"
    )


def _last_tool_result(request: Recorded) -> dict[str, Any]:
    content = request.body["messages"][-1]["content"]
    block = next(b for b in content if b.get("type") == "tool_result")
    return dict(json.loads(block["content"]))


def _tool_pairs(audit: str, notebook_id: str) -> list[float]:
    """Seconds of each create_cell + run_cell pair the audit log recorded."""
    with open(audit, encoding="utf-8") as file:
        lines = [json.loads(line) for line in file]
    durations = [
        entry["duration_ms"] / 1000
        for entry in lines
        if entry["notebook_id"] == notebook_id and entry["tool"] in ("create_cell", "run_cell")
    ]
    return [a + b for a, b in zip(durations[::2], durations[1::2], strict=True)]


async def relay_delay(server: Server, fake: FakeLLM) -> None:
    api = "reactive/api/v1/notebooks"
    notebook_id = (await server.request("POST", api, {"name": "relay"}))["notebook_id"]
    text = "A short answer of a few words."
    ours: list[float] = []
    direct: list[float] = []
    client = anthropic.AsyncAnthropic(base_url=fake.anthropic_base_url, api_key="x", max_retries=0)
    for n in range(ROUNDS):
        fake.add(Reply(text=text))
        before = len(fake.requests)
        arrived, _ = await stream_turn(server, notebook_id, f"hello {n}")
        started = fake.requests[before].streaming_at
        assert started is not None
        ours.append(arrived - started)

        fake.add(Reply(text=text))
        before = len(fake.requests)
        async with client.messages.stream(
            model="m", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            async for event in stream:
                if event.type == "text":
                    seen = time.monotonic()
                    break
            await stream.until_done()
        started = fake.requests[before].streaming_at
        assert started is not None
        direct.append(seen - started)
    print(f"First answer byte after the model's first event, over {ROUNDS} turns:")
    print(f"  the SDK reading the model   {ms(direct)}")
    print(
        f"  our chat stream             {ms(ours)}   "
        f"+{(statistics.median(ours) - statistics.median(direct)) * 1e3:.2f} ms at p50"
    )


async def main() -> None:
    with FakeLLM() as fake, tempfile.TemporaryDirectory() as folder:
        os.environ[KEY_VARIABLE] = "bench-key"
        audit = os.path.join(folder, "audit.jsonl")
        root = os.path.join(folder, "root")
        os.makedirs(root)
        server = Server(
            root,
            extra=[
                "--ReactiveNotebook.llm_provider=anthropic",
                f"--ReactiveNotebook.llm_base_url={fake.anthropic_base_url}",
                f"--ReactiveNotebook.llm_api_key_env={KEY_VARIABLE}",
                "--ReactiveNotebook.llm_model=bench-model",
                "--ReactiveNotebook.chat_messages_per_minute=0",
                f"--ReactiveNotebook.chat_audit_log={audit}",
                f"--ReactiveNotebook.chat_history_dir={os.path.join(folder, 'chats')}",
            ],
        )
        await server.start()
        try:
            await tool_overhead(server, fake, audit)
            await relay_delay(server, fake)
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
