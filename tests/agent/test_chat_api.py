"""The notebook chat over HTTP (docs/chat-api.md), end to end: a real Jupyter server with
the extension, real kernels, and the official Anthropic and OpenAI SDKs talking to the
fake model server (fake_llm.py) on 127.0.0.1, which plays the model from a script and
records every request it gets. Every scenario runs on both providers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tornado.httpclient import HTTPResponse

from tests.handlers.contract import check_against_document

from .fake_llm import FakeLLM, Recorded, Reply, ToolCall

API = ("reactive", "api", "v1")
KEY_VARIABLE = "REACTIVE_TEST_LLM_KEY"
LLM_KEY = "sk-test-the-model-key-4242"
AWS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTSECRET"
DB_PASSWORD = "s3cret-pg-password"

Script = Callable[[Recorded], Reply]


@pytest.fixture(params=["anthropic", "openai"])
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def chat_settings() -> dict[str, Any]:
    """What a test changes of the chat's traits (before the server starts)."""
    return {}


@pytest.fixture
def jp_server_config(
    fake_llm: FakeLLM,
    provider: str,
    chat_settings: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    monkeypatch.setenv(KEY_VARIABLE, LLM_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_KEY)
    base_url = fake_llm.anthropic_base_url if provider == "anthropic" else fake_llm.openai_base_url
    return {
        "ServerApp": {
            "jpserver_extensions": {"reactive_notebook": True, "jupyter_server_terminals": False},
            "contents_manager_class": (
                "reactive_notebook.contents.atomic.AtomicFileContentsManager"
            ),
        },
        "ReactiveNotebook": {
            "save_delay": 0.05,
            "llm_provider": provider,
            "llm_model": "test-model",
            "llm_base_url": base_url,
            "llm_api_key_env": KEY_VARIABLE,
            "llm_max_retries": 0,
            "llm_timeout": 20.0,
            "chat_history_dir": str(tmp_path / "chats"),
            "chat_audit_log": str(tmp_path / "audit.jsonl"),
            "chat_resume_grace": 0.3,
            "chat_keep_alive": 0.5,
            **chat_settings,
        },
    }


# -- a client --------------------------------------------------------------------------


class Chat:
    """The extension's API as the chat panel uses it."""

    def __init__(self, jp_fetch: Any, http: httpx.AsyncClient, base: str) -> None:
        self.fetch = jp_fetch
        self.http = http
        self.base = base

    async def call(self, method: str, *parts: str, body: Any = None) -> HTTPResponse:
        payload = json.dumps(body) if body is not None else (b"" if method == "POST" else None)
        response: HTTPResponse = await self.fetch(
            *API, *parts, method=method, body=payload, raise_error=False
        )
        return response

    async def new_notebook(self, *codes: str) -> str:
        created = await self.call("POST", "notebooks", body={"name": "analysis"})
        notebook_id = str(json.loads(created.body)["notebook_id"])
        for code in codes:
            await self.call(
                "POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": code}
            )
        return notebook_id

    async def notebook(self, notebook_id: str) -> dict[str, Any]:
        return dict(json.loads((await self.call("GET", "notebooks", notebook_id)).body))

    async def send(self, notebook_id: str, message: str) -> tuple[int, list[dict[str, Any]]]:
        """POST a message; the status and the whole event stream, parsed."""
        async with self.http.stream(
            "POST", self.url(notebook_id, "chat"), json={"message": message}
        ) as response:
            if response.status_code != 200:
                await response.aread()
                return response.status_code, [json.loads(response.text)]
            assert response.headers["content-type"].startswith("text/event-stream")
            text = "".join([chunk async for chunk in response.aiter_text()])
        return 200, parse_events(text)

    def url(self, notebook_id: str, *parts: str) -> str:
        return "/".join([self.base, *API, "notebooks", notebook_id, *parts])


def parse_events(text: str) -> list[dict[str, Any]]:
    """Server-Sent Events as ``{"id", "event", "data"}`` (comments left out)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if "event" in fields:
            events.append(
                {
                    "id": fields.get("id"),
                    "event": fields["event"],
                    "data": json.loads(fields["data"]),
                }
            )
    return events


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["event"] == kind]


@pytest.fixture
def chat(
    jp_fetch: Any,
    jp_serverapp: Any,
    jp_base_url: str,
    jp_http_port: int,
    jp_auth_header: dict[str, str],
    jp_asyncio_loop: Any,
) -> Iterator[Chat]:
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}"
    http = httpx.AsyncClient(headers=jp_auth_header, timeout=60)
    yield Chat(jp_fetch, http, base)
    jp_asyncio_loop.run_until_complete(http.aclose())


# -- reading what the model was sent ---------------------------------------------------


def tool_results(request: Recorded) -> list[dict[str, Any]]:
    """The tool answers the last request carried, parsed, whichever the protocol."""
    messages = request.body["messages"]
    found: list[dict[str, Any]] = []
    for message in messages[-1:] if "/v1/messages" in request.path else messages:
        content = message.get("content")
        if message.get("role") == "tool":
            found.append(json.loads(content))
        elif isinstance(content, list):
            found.extend(
                json.loads(b["content"]) for b in content if b.get("type") == "tool_result"
            )
    if "/chat/completions" in request.path:  # the last assistant message's results only
        last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
        found = [json.loads(m["content"]) for m in messages[last + 1 :] if m["role"] == "tool"]
    return found


def calls(*tool_calls: tuple[str, dict[str, Any]]) -> Reply:
    return Reply(tool_calls=[ToolCall(name, args) for name, args in tool_calls])


# -- scenarios -------------------------------------------------------------------------


async def test_the_agent_builds_a_three_cell_analysis_and_answers_with_what_it_shows(
    chat: Chat, fake_llm: FakeLLM, jp_serverapp: Any, tmp_path: Path, provider: str
) -> None:
    nb = await chat.new_notebook()
    hub = jp_serverapp.web_app.settings["reactive_notebook_service"].hub
    before = hub.last_seq(nb)
    ids: list[str] = []

    def create(code: str, after: bool) -> Script:
        def reply(request: Recorded) -> Reply:
            if request.index > 0:
                ids.append(tool_results(request)[0]["cell_id"])
            args: dict[str, Any] = {"code": code}
            if after:
                args["after_cell_id"] = ids[-1]
            return calls(("create_cell", args))

        return reply

    def run_first(request: Recorded) -> Reply:
        ids.append(tool_results(request)[0]["cell_id"])
        return calls(("run_cell", {"cell_id": ids[0]}))

    fake_llm.add(
        create("prices = [3, 5, 8]", after=False),
        create("total = sum(prices)", after=True),
        create("print('total is', total)", after=True),
        run_first,
        Reply(text="The total of the prices is **16**."),
    )
    status, events = await chat.send(nb, "Add up my prices")
    assert status == 200
    assert next(e["event"] for e in events) == "turn"
    assert events[-1]["event"] == "done"
    assert of(events, "done")[0]["stop_reason"] == "end_turn"
    assert "".join(d["text"] for d in of(events, "text_delta")).endswith("**16**.")
    assert [c["name"] for c in of(events, "tool_call")] == ["create_cell"] * 3 + ["run_cell"]
    assert all(r["ok"] for r in of(events, "tool_result"))

    # The run answered every cell that re-ran, with its output, in one call.
    ran = tool_results(fake_llm.requests[4])[0]
    assert ran["status"] == "done"
    assert [c["id"] for c in ran["cells"]] == ids
    assert ran["cells"][2]["outputs"][0]["text"] == "total is 16\n"
    assert of(events, "cells_changed")[-1]["cell_ids"] == ids

    notebook = await chat.notebook(nb)
    assert [c["code"] for c in notebook["cells"]] == [
        "prices = [3, 5, 8]",
        "total = sum(prices)",
        "print('total is', total)",
    ]
    assert [c["status"] for c in notebook["cells"]] == ["success"] * 3

    # The history keeps the turn; the events say the assistant made the cells.
    history = json.loads((await chat.call("GET", "notebooks", nb, "chat")).body)
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]
    assert history["messages"][1]["revertible"] is True
    assert [s["name"] for s in history["messages"][1]["steps"]][-1] == "run_cell"
    assert history["messages"][1]["cells_changed"] == ids
    created = [e for e in hub.since(nb, before) or [] if e.type == "cell_created"]
    assert [e.data["cell_id"] for e in created] == ids
    for event, call in zip(created, of(events, "tool_call"), strict=False):
        assert event.data["actor"] == {
            "kind": "assistant",
            "user": "",
            "provider": provider,
            "model": "test-model",
            "tool_call_id": call["id"],
        }

    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [a["tool"] for a in audit] == ["create_cell"] * 3 + ["run_cell", None]
    assert all(a["notebook_id"] == nb and a["model"] == "test-model" for a in audit)
    assert LLM_KEY not in (tmp_path / "audit.jsonl").read_text()


async def test_a_tool_error_goes_back_to_the_model_and_it_recovers(
    chat: Chat, fake_llm: FakeLLM
) -> None:
    nb = await chat.new_notebook()
    fake_llm.add(
        calls(("run_cell", {"cell_id": "no-such-cell"})),
        calls(("create_cell", {"code": "x = 1"})),
        Reply(text="Created it instead."),
    )
    status, events = await chat.send(nb, "run something")
    assert status == 200
    first, second = of(events, "tool_result")
    assert first["ok"] is False
    assert "no-such-cell" in first["error"]
    assert second["ok"] is True
    refused = tool_results(fake_llm.requests[1])[0]
    assert refused["ok"] is False
    assert "no-such-cell" in refused["error"]
    assert [c["code"] for c in (await chat.notebook(nb))["cells"]] == ["x = 1"]


async def test_update_after_a_persons_edit_answers_conflict_and_keeps_their_code(
    chat: Chat, fake_llm: FakeLLM
) -> None:
    nb = await chat.new_notebook("rate = 0.1")
    cell = (await chat.notebook(nb))["cells"][0]["id"]
    # The person edits after the model read the cell.
    await chat.call("PUT", "notebooks", nb, "cells", cell, body={"code": "rate = 0.25"})
    fake_llm.add(
        calls(
            ("update_cell", {"cell_id": cell, "expected_code": "rate = 0.1", "code": "rate = 0.2"})
        ),
        Reply(text="You changed it meanwhile; I left it."),
    )
    _, events = await chat.send(nb, "set the rate to 0.2")
    result = tool_results(fake_llm.requests[1])[0]
    assert result["ok"] is False
    assert result["conflict"] is True
    assert result["current_code"] == "rate = 0.25"
    assert of(events, "tool_result")[0]["ok"] is False
    assert (await chat.notebook(nb))["cells"][0]["code"] == "rate = 0.25"


async def test_a_slow_run_answers_a_handle_and_wait_for_run_gets_its_result(
    chat: Chat, fake_llm: FakeLLM
) -> None:
    nb = await chat.new_notebook("import time\ntime.sleep(1.5)\ndone = 'yes'", "print(done)")
    first = (await chat.notebook(nb))["cells"][0]["id"]
    handle: dict[str, Any] = {}

    def wait(request: Recorded) -> Reply:
        handle.update(tool_results(request)[0])
        return calls(("wait_for_run", {"run_id": handle["run_id"], "timeout": 30}))

    fake_llm.add(calls(("run_cell", {"cell_id": first, "timeout": 0.2})), wait, Reply(text="ok"))
    status, _ = await chat.send(nb, "run it")
    assert status == 200
    assert handle["status"] == "running"
    finished = tool_results(fake_llm.requests[2])[0]
    assert finished["status"] == "done"
    assert finished["cells"][1]["outputs"][0]["text"] == "yes\n"


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        pytest.param(Reply.status(429, retry_after=1), 429, id="429"),
        pytest.param(Reply.status(500), 500, id="500"),
        pytest.param(Reply.overloaded(), None, id="overloaded"),
        pytest.param(None, None, id="cut-stream"),
    ],
)
async def test_an_upstream_failure_is_an_sse_error_and_nothing_is_half_applied(
    chat: Chat, fake_llm: FakeLLM, reply: Reply | None, status: int | None, provider: str
) -> None:
    nb = await chat.new_notebook("a = 1")
    if reply is None:  # a tool call whose stream is cut before its end
        reply = Reply(tool_calls=[ToolCall("create_cell", {"code": "half = 1"})])
        reply.interrupt, reply.after_events = "cut", 5
    fake_llm.add(reply)
    code, events = await chat.send(nb, "go")
    assert code == 200
    assert events[-1]["event"] == "error"
    error = events[-1]["data"]
    assert error["message"]
    if status is not None:
        assert error["status"] == status
    assert of(events, "tool_call") == []
    assert [c["code"] for c in (await chat.notebook(nb))["cells"]] == ["a = 1"]
    history = json.loads((await chat.call("GET", "notebooks", nb, "chat")).body)
    assert history["messages"][-1]["error"] == error["message"]


async def test_a_client_that_goes_away_cancels_the_upstream_request(
    chat: Chat, fake_llm: FakeLLM
) -> None:
    nb = await chat.new_notebook()
    fake_llm.add(Reply.hang(after_events=2))
    async with chat.http.stream("POST", chat.url(nb, "chat"), json={"message": "hi"}) as response:
        async for _ in response.aiter_bytes():
            break  # the first bytes came: the turn is under way; the client leaves
    record = await fake_llm.wait_ended(0, timeout=15)
    assert record.disconnected
    history = await wait_for(
        lambda: chat.call("GET", "notebooks", nb, "chat"), lambda h: h["running"] is None
    )
    assert history["messages"][-1]["stop_reason"] == "cancelled"


async def test_cancel_stops_the_model_and_the_turn_says_so(chat: Chat, fake_llm: FakeLLM) -> None:
    nb = await chat.new_notebook()
    fake_llm.add(Reply.hang(after_events=3))
    turn = asyncio.ensure_future(chat.send(nb, "talk forever"))
    await fake_llm.wait_requests(1)
    cancelled = await chat.call("POST", "notebooks", nb, "chat", "cancel", body={})
    assert json.loads(cancelled.body) == {"cancelled": True}
    _, events = await turn
    assert events[-1]["event"] == "done"
    assert events[-1]["data"]["stop_reason"] == "cancelled"
    assert (await fake_llm.wait_ended(0)).disconnected
    again = await chat.call("POST", "notebooks", nb, "chat", "cancel", body={})
    assert json.loads(again.body) == {"cancelled": False}


async def test_cancel_with_interrupt_stops_the_run_the_assistant_started(
    chat: Chat, fake_llm: FakeLLM
) -> None:
    nb = await chat.new_notebook("import time\ntime.sleep(60)")
    cell = (await chat.notebook(nb))["cells"][0]["id"]
    fake_llm.add(calls(("run_cell", {"cell_id": cell, "timeout": 100})))
    turn = asyncio.ensure_future(chat.send(nb, "run the slow cell"))
    await wait_for(
        lambda: chat.call("GET", "notebooks", nb),
        lambda n: n["cells"][0]["status"] == "running",
    )
    response = await chat.call("POST", "notebooks", nb, "chat", "cancel", body={"interrupt": True})
    assert json.loads(response.body) == {"cancelled": True}
    _, events = await asyncio.wait_for(turn, 20)
    assert events[-1]["data"]["stop_reason"] == "cancelled"
    notebook = await wait_for(
        lambda: chat.call("GET", "notebooks", nb),
        lambda n: n["cells"][0]["status"] not in ("queued", "running"),
    )
    assert notebook["cells"][0]["status"] == "error"
    assert notebook["cells"][0]["error"] == "interrupted"  # not left to sleep its 60 s


async def test_a_dropped_stream_resumes_from_last_event_id(chat: Chat, fake_llm: FakeLLM) -> None:
    nb = await chat.new_notebook()
    fake_llm.add(Reply.slow(0.02, text="one two three four five six seven eight nine ten"))
    seen: list[dict[str, Any]] = []
    async with chat.http.stream(
        "POST", chat.url(nb, "chat"), json={"message": "count"}
    ) as response:
        buffer = ""
        async for text in response.aiter_text():
            buffer += text
            if buffer.count("event: text_delta") >= 2:
                break
    seen = parse_events(buffer[: buffer.rindex("\n\n") + 2])
    last_id = seen[-1]["id"]
    resumed = await chat.http.get(
        chat.url(nb, "chat", "stream"), headers={"Last-Event-ID": last_id}
    )
    rest = parse_events(resumed.text)
    whole = seen + rest
    numbers = [int(e["id"].rpartition(":")[2]) for e in whole]
    assert numbers == list(range(1, len(whole) + 1)), "every event once, in order"
    assert whole[-1]["event"] == "done"
    assert "".join(d["text"] for d in of(whole, "text_delta")) == (
        "one two three four five six seven eight nine ten"
    )


@pytest.mark.parametrize("chat_settings", [{"chat_max_tool_turns": 2}])
async def test_the_turn_stops_at_its_tool_turn_limit(chat: Chat, fake_llm: FakeLLM) -> None:
    nb = await chat.new_notebook()
    fake_llm.add(*[calls(("get_notebook", {}))] * 3)
    _, events = await chat.send(nb, "look forever")
    assert of(events, "done")[0]["stop_reason"] == "max_turns"
    assert len(fake_llm.requests) == 3
    assert len(of(events, "tool_call")) == 2
    assert "limit of 2 tool turns" in "".join(d["text"] for d in of(events, "text_delta"))


@pytest.mark.parametrize("chat_settings", [{"chat_messages_per_minute": 2}])
async def test_the_per_user_rate_limit_answers_429_with_retry_after(
    chat: Chat, fake_llm: FakeLLM
) -> None:
    nb = await chat.new_notebook()
    fake_llm.add(Reply(text="one"), Reply(text="two"))
    assert (await chat.send(nb, "1"))[0] == 200
    assert (await chat.send(nb, "2"))[0] == 200
    response = await chat.http.post(chat.url(nb, "chat"), json={"message": "3"})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "2 messages per minute" in response.json()["message"]
    assert len(fake_llm.requests) == 2


async def test_another_notebook_or_an_unknown_one_is_404(chat: Chat, fake_llm: FakeLLM) -> None:
    for method, parts in [
        ("POST", ("chat",)),
        ("GET", ("chat",)),
        ("DELETE", ("chat",)),
        ("POST", ("chat", "cancel")),
        ("POST", ("chat", "revert")),
        ("GET", ("chat", "stream")),
    ]:
        response = await chat.http.request(
            method,
            chat.url("0123456789abcdef", *parts),
            json={"message": "x"} if parts == ("chat",) and method == "POST" else None,
        )
        assert response.status_code == 404, (method, parts)
    assert fake_llm.requests == []


async def test_no_secret_of_the_server_reaches_the_model(chat: Chat, fake_llm: FakeLLM) -> None:
    nb = await chat.new_notebook(
        "import os\nprint(os.environ.get('AWS_SECRET_ACCESS_KEY'), "
        f"os.environ.get('{KEY_VARIABLE}'))",
        f"print('{DB_PASSWORD}', '{AWS_KEY}', '{LLM_KEY}')",
    )
    await chat.call(
        "PUT", "notebooks", nb, "db",
        body={"connection_string": f"postgresql://me:{DB_PASSWORD}@127.0.0.1/db"},
    )  # fmt: skip
    cells = (await chat.notebook(nb))["cells"]
    fake_llm.add(
        calls(("run_cell", {"cell_id": cells[0]["id"]}), ("run_cell", {"cell_id": cells[1]["id"]})),
        calls(("get_notebook", {})),
        Reply(text="done"),
    )
    _, events = await chat.send(nb, "run them")
    assert events[-1]["event"] == "done"
    sent = json.dumps(fake_llm.bodies())
    for secret in (DB_PASSWORD, AWS_KEY, LLM_KEY):
        assert secret not in sent
    assert "None None" in sent  # the kernel never had the server's secrets
    assert "print('" in sent  # the cells' code did reach the model (masked)
    # The key travels only where the provider expects it: its auth header.
    for request in fake_llm.requests:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert LLM_KEY in (headers.get("x-api-key", "") + headers.get("authorization", ""))


@pytest.mark.parametrize("chat_settings", [{"llm_provider": ""}])
async def test_no_provider_says_exactly_what_to_set(chat: Chat, fake_llm: FakeLLM) -> None:
    nb = await chat.new_notebook()
    status, (refusal,) = await chat.send(nb, "hello?")
    assert status == 503
    assert "--ReactiveNotebook.llm_provider=anthropic" in refusal["message"]
    assert "ANTHROPIC_API_KEY" in refusal["message"]
    assert "OPENAI_API_KEY" in refusal["message"]
    capabilities = json.loads((await chat.call("GET", "capabilities")).body)["chat"]
    assert capabilities["available"] is False
    assert capabilities["message"] == refusal["message"]
    assert fake_llm.requests == []


async def test_capabilities_name_the_configured_model(chat: Chat, provider: str) -> None:
    capabilities = json.loads((await chat.call("GET", "capabilities")).body)["chat"]
    assert capabilities == {
        "available": True, "message": "", "provider": provider, "model": "test-model",
    }  # fmt: skip


async def test_revert_puts_back_the_cells_and_their_outputs_after_the_rerun(
    chat: Chat, fake_llm: FakeLLM
) -> None:
    nb = await chat.new_notebook("n = 2", "print(n * 10)")
    await chat.call("POST", "notebooks", nb, "run", body={"wait": True})
    first, second = [c["id"] for c in (await chat.notebook(nb))["cells"]]
    fake_llm.add(
        calls(
            ("update_cell", {"cell_id": first, "expected_code": "n = 2", "code": "n = 7"}),
            ("create_cell", {"code": "extra = n + 1"}),
            ("run_cell", {"cell_id": first}),
        ),
        Reply(text="Changed n to 7."),
    )
    await chat.send(nb, "make n 7")
    changed = await chat.notebook(nb)
    assert changed["cells"][1]["stdout"] == "70\n"
    assert len(changed["cells"]) == 3

    response = await chat.call("POST", "notebooks", nb, "chat", "revert", body={})
    assert response.code == 200
    reverted = json.loads(response.body)
    check_against_document("POST", response.effective_url, 200, reverted)
    assert first in reverted["reverted"]
    assert reverted["skipped"] == []
    assert reverted["rerun"] == [first]
    after = await chat.notebook(nb)
    assert [c["code"] for c in after["cells"]] == ["n = 2", "print(n * 10)"]
    assert after["cells"][1]["id"] == second
    assert after["cells"][1]["stdout"] == "20\n"
    again = await chat.call("POST", "notebooks", nb, "chat", "revert", body={})
    assert again.code == 409


async def test_history_is_kept_per_notebook_and_cleared_on_delete(
    chat: Chat, fake_llm: FakeLLM
) -> None:
    nb, other = await chat.new_notebook(), await chat.new_notebook()
    fake_llm.add(Reply(text="first answer"), Reply(text="second answer"))
    await chat.send(nb, "first question")
    await chat.send(nb, "second question")
    response = await chat.call("GET", "notebooks", nb, "chat")
    history = json.loads(response.body)
    check_against_document("GET", response.effective_url, 200, history)
    assert [m["text"] for m in history["messages"]] == [
        "first question", "first answer", "second question", "second answer",
    ]  # fmt: skip
    assert history["provider"]
    assert history["model"] == "test-model"
    # The second request carried the first exchange as context.
    assert "first answer" in json.dumps(fake_llm.requests[1].body["messages"])
    assert json.loads((await chat.call("GET", "notebooks", other, "chat")).body)["messages"] == []
    assert (await chat.call("DELETE", "notebooks", nb, "chat")).code == 204
    assert json.loads((await chat.call("GET", "notebooks", nb, "chat")).body)["messages"] == []


async def test_the_history_places_each_step_where_it_came_in_the_answer(
    chat: Chat, fake_llm: FakeLLM
) -> None:
    nb = await chat.new_notebook()
    fake_llm.add(
        calls(("create_cell", {"code": "a = 1"})),  # before any words
        Reply(
            text="Je crée la cellule 😀 suivante.",
            tool_calls=[ToolCall("create_cell", {"code": "b = a + 1"})],
        ),
        Reply(text="Les deux cellules sont là."),
    )
    await chat.send(nb, "deux cellules")
    history = json.loads((await chat.call("GET", "notebooks", nb, "chat")).body)
    answer = history["messages"][-1]
    first, second = answer["steps"]
    assert first["at"] == 0
    # Counted in characters (code points), as Python counts them: the emoji is one.
    assert answer["text"][: second["at"]] == "Je crée la cellule 😀 suivante."
    assert answer["text"][second["at"] :].strip() == "Les deux cellules sont là."


@pytest.mark.parametrize("ending", ["done", "cancelled", "error"])
async def test_a_client_that_reads_the_last_event_finds_the_turn_in_the_history(
    chat: Chat, fake_llm: FakeLLM, ending: str
) -> None:
    """The panel reads the history as soon as a turn's last event arrives (the stream may
    still be open): the turn is recorded there and not running, and a next message starts
    at once. It did not when the last event went out before the history was written: the
    panel then saw the stopped turn still running and went back to busy."""
    nb = await chat.new_notebook()
    if ending == "done":
        fake_llm.add(Reply(text="an answer"))
    elif ending == "cancelled":
        fake_llm.add(Reply.hang(after_events=3))
    else:
        fake_llm.add(Reply.status(500, message="the model is down"))
    fake_llm.add(Reply(text="the next answer"))
    last: dict[str, Any] | None = None
    cancel_sent = False
    async with chat.http.stream("POST", chat.url(nb, "chat"), json={"message": "go"}) as response:
        text = ""
        async for chunk in response.aiter_text():
            text += chunk
            if ending == "cancelled" and not cancel_sent:
                cancel_sent = True
                await fake_llm.wait_requests(1)  # the model answers, and hangs
                await chat.call("POST", "notebooks", nb, "chat", "cancel", body={})
            ends = [e for e in parse_events(text) if e["event"] in ("done", "error")]
            if ends:
                last = ends[0]
                break  # read nothing more of the stream
        assert last is not None
        history = json.loads((await chat.call("GET", "notebooks", nb, "chat")).body)
        assert history["running"] is None
        assert history["messages"][-1]["turn_id"] == parse_events(text)[0]["data"]["turn_id"]
        code, events = await chat.send(nb, "and now?")
    assert code == 200, events
    assert of(events, "done")
    assert of(events, "text_delta")
    expected = {"done": "end_turn", "cancelled": "cancelled"}
    if ending == "error":
        assert last["event"] == "error"
        assert history["messages"][-1]["error"] == last["data"]["message"]
    else:
        assert last["data"]["stop_reason"] == expected[ending]
        assert history["messages"][-1]["stop_reason"] == expected[ending]


# -- helpers ---------------------------------------------------------------------------


async def wait_for(fetch: Any, ready: Callable[[Any], bool], timeout: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = json.loads((await fetch()).body)
        if ready(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, value
        await asyncio.sleep(0.05)
