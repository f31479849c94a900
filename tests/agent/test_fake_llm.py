"""The fake LLM provider (fake_llm.py), driven by the official SDKs themselves: what it
streams, the SDKs' own helpers assemble into the right text, tool calls and usage; its
failures are the SDKs' own exceptions; it sees a client go away; it records every request."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from .fake_llm import FakeLLM, Reply, ToolCall

PROVIDERS = ["anthropic", "openai"]
RUN_CELL: Any = {
    "name": "run_cell",
    "description": "Run a cell and its dependents.",
    "input_schema": {
        "type": "object",
        "properties": {"cell_id": {"type": "string"}, "wait": {"type": "number"}},
        "required": ["cell_id"],
    },
}
MESSAGES: Any = [{"role": "user", "content": "Sum the squares below ten."}]
ARGS = {"cell_id": "c-2f9", "wait": 2.5, "note": 'quotes " and ☃ across pieces'}


@dataclass
class Turn:
    """One answer as the SDK assembled it, in neutral form."""

    deltas: list[str] = field(default_factory=list)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # id, name, input
    usage: tuple[int, int] = (0, 0)
    stop: str = ""

    @property
    def text(self) -> str:
        return "".join(self.deltas)


async def anthropic_turn(fake: FakeLLM, *, stop_early: bool = False) -> Turn:
    client = anthropic.AsyncAnthropic(
        base_url=fake.anthropic_base_url, api_key="test", max_retries=0, timeout=10
    )
    turn = Turn()
    async with (
        client,
        client.messages.stream(
            model="claude-test", max_tokens=512, messages=MESSAGES, tools=[RUN_CELL]
        ) as stream,
    ):
        async for text in stream.text_stream:
            turn.deltas.append(text)
            if stop_early:
                return turn
        message = await stream.get_final_message()
    turn.calls = [(b.id, b.name, b.input) for b in message.content if b.type == "tool_use"]
    turn.usage = (message.usage.input_tokens, message.usage.output_tokens)
    turn.stop = message.stop_reason or ""
    return turn


async def openai_turn(fake: FakeLLM, *, stop_early: bool = False) -> Turn:
    function = {k: v for k, v in RUN_CELL.items() if k != "input_schema"}
    tool: Any = {
        "type": "function",
        "function": {**function, "parameters": RUN_CELL["input_schema"]},
    }
    turn, calls = Turn(), dict[int, dict[str, str]]()
    async with openai.AsyncOpenAI(
        base_url=fake.openai_base_url, api_key="test", max_retries=0, timeout=10
    ) as client:
        stream = await client.chat.completions.create(
            model="gpt-test",
            messages=MESSAGES,
            tools=[tool],
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            if chunk.usage:
                turn.usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices:
                if choice.delta.content:
                    turn.deltas.append(choice.delta.content)
                    if stop_early:
                        return turn
                for d in choice.delta.tool_calls or []:
                    call = calls.setdefault(d.index, {"id": "", "name": "", "arguments": ""})
                    call["id"] += d.id or ""
                    call["name"] += (d.function and d.function.name) or ""
                    call["arguments"] += (d.function and d.function.arguments) or ""
                turn.stop = choice.finish_reason or turn.stop
    turn.calls = [(c["id"], c["name"], json.loads(c["arguments"])) for c in calls.values()]
    return turn


TURN = {"anthropic": anthropic_turn, "openai": openai_turn}
STOP = {"anthropic": ("end_turn", "tool_use"), "openai": ("stop", "tool_calls")}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_streamed_answer_is_reassembled_by_the_sdk(
    fake_llm: FakeLLM, provider: str
) -> None:
    text = "Let me run the cell that sums the squares — ☃ then read its output."
    fake_llm.add(Reply(text=text, tool_calls=[ToolCall("run_cell", ARGS)], usage=(321, 45)))
    fake_llm.add(Reply(text="The total is 285.", usage=(400, 9)))

    first = await TURN[provider](fake_llm)
    second = await TURN[provider](fake_llm)

    assert first.text == text
    assert len(first.deltas) > 5
    assert [(name, args) for _, name, args in first.calls] == [("run_cell", ARGS)]
    assert first.calls[0][0].startswith(("toolu_", "call_"))
    assert first.usage == (321, 45)
    assert first.stop == STOP[provider][1]
    assert (second.text, second.calls, second.usage) == ("The total is 285.", [], (400, 9))
    assert second.stop == STOP[provider][0]
    assert fake_llm.pending == 0


async def test_openai_stream_helper_assembles_two_tool_calls(fake_llm: FakeLLM) -> None:
    calls = [ToolCall("run_cell", ARGS, id="call_one"), ToolCall("run_cell", {"cell_id": "b"})]
    fake_llm.add(Reply(text="Two runs.", tool_calls=calls, usage=(5, 6)))
    client = openai.AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="test", max_retries=0)
    async with (
        client,
        client.chat.completions.stream(
            model="gpt-test", messages=MESSAGES, stream_options={"include_usage": True}
        ) as stream,
    ):
        completion = await stream.get_final_completion()
    message = completion.choices[0].message
    assert message.content == "Two runs."
    assert [(c.id, json.loads(c.function.arguments)) for c in message.tool_calls or []] == [
        ("call_one", ARGS),
        ("call_fake0001", {"cell_id": "b"}),
    ]
    assert completion.usage is not None
    assert completion.usage.total_tokens == 11


async def test_answers_without_stream_are_whole_messages(fake_llm: FakeLLM) -> None:
    fake_llm.add(Reply(text="Plain.", usage=(3, 4)), Reply(tool_calls=[ToolCall("run_cell", ARGS)]))
    async with anthropic.AsyncAnthropic(base_url=fake_llm.url, api_key="test") as claude:
        message = await claude.messages.create(model="m", max_tokens=10, messages=MESSAGES)
    async with openai.AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="test") as gpt:
        completion = await gpt.chat.completions.create(model="m", messages=MESSAGES)

    assert message.content[0].type == "text"
    assert message.content[0].text == "Plain."
    assert (message.usage.input_tokens, message.usage.output_tokens) == (3, 4)
    call: Any = (completion.choices[0].message.tool_calls or [])[0]
    assert json.loads(call.function.arguments) == ARGS
    assert completion.choices[0].finish_reason == "tool_calls"


def raw_stream(fake: FakeLLM, path: str, body: dict[str, Any]) -> tuple[list[bytes], bytes]:
    """POST over a bare socket: the chunks of the chunked body as the server wrote them."""
    payload = json.dumps(body).encode()
    with socket.create_connection(("127.0.0.1", fake.port)) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        sock.sendall(f"{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
        data = b""
        while part := sock.recv(65536):
            data += part
    rest = data.split(b"\r\n\r\n", 1)[1]
    chunks: list[bytes] = []
    while True:
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line, 16)
        if size == 0:
            return chunks, b"".join(chunks)
        chunks.append(rest[:size])
        rest = rest[size + 2 :]


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
def test_events_are_written_in_pieces_that_straddle_event_boundaries(
    fake_llm: FakeLLM, path: str
) -> None:
    fake_llm.add(Reply(text="Several words of text.", tool_calls=[ToolCall("run_cell", ARGS)]))
    body = {"stream": True, "messages": MESSAGES, "stream_options": {"include_usage": True}}
    chunks, whole = raw_stream(fake_llm, path, body)
    events = whole.split(b"\n\n")[:-1]
    assert len(events) >= 10
    assert len(chunks) > len(events)
    straddling = [c for c in chunks if b"\n\n" in c and not c.endswith(b"\n\n")]
    assert len(straddling) >= len(events) - 2  # a chunk is never one whole event
    if path == "/v1/messages":
        assert events[0].startswith(b"event: message_start\ndata: {")
        assert events[-1] == b'event: message_stop\ndata: {"type": "message_stop"}'
    else:
        assert events[-1] == b"data: [DONE]"
        assert json.loads(events[-2][len(b"data: ") :])["choices"] == []  # the usage chunk


ERRORS = {
    ("anthropic", 429): anthropic.RateLimitError,
    ("anthropic", 500): anthropic.InternalServerError,
    ("anthropic", 529): anthropic.OverloadedError,
    ("openai", 429): openai.RateLimitError,
    ("openai", 500): openai.InternalServerError,
    ("openai", 529): openai.InternalServerError,  # answered 503
}
ERROR_TYPE = {
    ("anthropic", 429): "rate_limit_error",
    ("anthropic", 500): "api_error",
    ("anthropic", 529): "overloaded_error",
    ("openai", 429): "rate_limit_exceeded",
    ("openai", 500): "server_error",
    ("openai", 529): "server_error",
}


@pytest.mark.parametrize(("provider", "status"), list(ERRORS))
async def test_an_error_status_is_the_sdks_own_error(
    fake_llm: FakeLLM, provider: str, status: int
) -> None:
    reply = Reply.overloaded() if status == 529 else Reply.status(status, retry_after=1)
    fake_llm.add(reply)
    with pytest.raises(ERRORS[provider, status]) as raised:
        await TURN[provider](fake_llm)
    error: Any = raised.value
    body = error.body if provider == "openai" else error.body["error"]  # openai unwraps it
    assert body["type"] == ERROR_TYPE[provider, status]
    expected = 503 if (provider, status) == ("openai", 529) else status
    assert error.status_code == expected
    if status == 429:
        assert error.response.headers["retry-after"] == "1"
    assert len(fake_llm.requests) == 1  # max_retries=0: no retry


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_request_with_nothing_scripted_fails_saying_so(
    fake_llm: FakeLLM, provider: str
) -> None:
    with pytest.raises((anthropic.InternalServerError, openai.InternalServerError)) as raised:
        await TURN[provider](fake_llm)
    assert "no reply scripted for request #0" in str(raised.value)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_cut_stream_raises_in_the_sdk(fake_llm: FakeLLM, provider: str) -> None:
    fake_llm.add(Reply.cut(after_events=4, text="The beginning of a long answer"))
    with pytest.raises((anthropic.APIConnectionError, openai.APIConnectionError)):
        await TURN[provider](fake_llm)
    record = await fake_llm.wait_ended()
    assert not record.disconnected  # the server cut it, the client did not leave


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_overloaded_in_the_middle_of_a_stream_raises(
    fake_llm: FakeLLM, provider: str
) -> None:
    fake_llm.add(Reply.overloaded(after_events=3))
    with pytest.raises((anthropic.APIStatusError, openai.APIError)) as raised:
        await TURN[provider](fake_llm)
    error: Any = raised.value
    body = error.body if provider == "openai" else error.body["error"]
    assert "overloaded" in json.dumps(body).lower()


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("reply", [Reply.hang(after_events=4), Reply.slow(0.1)])
async def test_the_server_sees_a_client_that_leaves_mid_stream(
    fake_llm: FakeLLM, provider: str, reply: Reply
) -> None:
    fake_llm.add(reply, Reply(text="after"))
    turn = await TURN[provider](fake_llm, stop_early=True)
    assert turn.deltas
    record = await fake_llm.wait_ended(0, timeout=5)
    assert record.disconnected
    assert (await TURN[provider](fake_llm)).text == "after"  # the server still answers
    assert not (await fake_llm.wait_ended(1)).disconnected


async def test_every_request_is_recorded_with_its_body_and_headers(fake_llm: FakeLLM) -> None:
    fake_llm.add(Reply(text="one"), Reply(text="two"))
    await anthropic_turn(fake_llm)
    await openai_turn(fake_llm)
    first, second = fake_llm.requests
    assert (first.index, first.path, second.index, second.path) == (
        0, "/v1/messages", 1, "/v1/chat/completions",
    )  # fmt: skip
    assert first.body["messages"] == MESSAGES
    assert first.body["tools"] == [RUN_CELL]
    assert first.body["stream"] is True
    # anthropic 2.17 sends its API key as a bearer token (no x-api-key), as openai does
    assert first.headers["authorization"] == "Bearer test"
    assert "anthropic-version" in first.headers
    assert second.body["stream_options"] == {"include_usage": True}
    assert second.headers["authorization"] == "Bearer test"
    assert second.body["tools"][0]["function"]["name"] == "run_cell"
    assert all(r.ended.is_set() and not r.disconnected for r in (first, second))


def control(url: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


async def test_the_command_line_server_is_scripted_over_http() -> None:
    script = Path(__file__).with_name("fake_llm.py")
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        replies = [
            {"text": "From JSON.", "tool_calls": [{"name": "run_cell", "input": ARGS}]},
            {"status_code": 429, "retry_after": 2},
        ]
        assert control(url, "POST", "/_fake/replies", {"replies": replies}) == {"pending": 2}
        with pytest.raises(urllib.error.HTTPError) as bad:
            control(url, "POST", "/_fake/replies", [{"txt": "typo"}])
        assert bad.value.code == 400

        async with anthropic.AsyncAnthropic(base_url=url, api_key="test", max_retries=0) as client:
            async with client.messages.stream(
                model="m", max_tokens=5, messages=MESSAGES, tools=[RUN_CELL]
            ) as stream:
                message = await stream.get_final_message()
            with pytest.raises(anthropic.RateLimitError):
                await client.messages.create(model="m", max_tokens=5, messages=MESSAGES)
        assert message.content[0].type == "text"
        assert message.content[0].text == "From JSON."
        assert message.content[1].type == "tool_use"
        assert message.content[1].input == ARGS

        recorded = control(url, "GET", "/_fake/requests")
        assert [r["body"]["messages"] for r in recorded] == [MESSAGES, MESSAGES]
        assert all(r["ended"] and not r["disconnected"] for r in recorded)
        assert control(url, "POST", "/_fake/reset") == {"pending": 0}
        assert control(url, "GET", "/_fake/requests") == []
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 5)
    assert process.returncode == 0
