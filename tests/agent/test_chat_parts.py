"""The chat's parts that need no server: what the settings make of a provider, how
conversations are kept on disk and given back to the model, the rate limit, the event
buffer's resume positions, and the protocols' message shapes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from reactive_notebook.agent.chat_history import CONTEXT_TURNS, ChatHistory, context_messages
from reactive_notebook.agent.chat_stream import TurnEvents
from reactive_notebook.agent.llm import (
    AssistantMessage,
    ToolCall,
    ToolResult,
    ToolResults,
    UserText,
)
from reactive_notebook.agent.llm_config import LlmSettings, NotConfigured, build_provider
from reactive_notebook.agent.providers import anthropic as anthropic_wire
from reactive_notebook.agent.providers import openai as openai_wire
from reactive_notebook.agent.rate_limit import RateLimited, RateLimiter

# -- settings -> provider ----------------------------------------------------------------


def test_no_provider_names_every_setting_a_person_needs() -> None:
    answer = build_provider(LlmSettings(), {"ANTHROPIC_API_KEY": "sk-x"})
    assert isinstance(answer, NotConfigured)
    for needed in ("llm_provider=anthropic", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "llm_base_url"):
        assert needed in answer.message


def test_a_provider_without_its_key_says_which_variable_to_set() -> None:
    answer = build_provider(LlmSettings(provider="anthropic"), {})
    assert isinstance(answer, NotConfigured)
    assert "ANTHROPIC_API_KEY" in answer.message
    named = build_provider(LlmSettings(provider="openai", api_key_env="TEAM_LLM_KEY"), {})
    assert isinstance(named, NotConfigured)
    assert "TEAM_LLM_KEY" in named.message


def test_the_key_comes_from_the_named_variable_and_never_from_the_settings() -> None:
    model = build_provider(
        LlmSettings(provider="anthropic", api_key_env="TEAM_LLM_KEY", model="m"),
        {"TEAM_LLM_KEY": "sk-team", "ANTHROPIC_API_KEY": "sk-other"},
    )
    assert not isinstance(model, NotConfigured)
    assert model.client.api_key == "sk-team"  # type: ignore[attr-defined]
    assert model.model == "m"


def test_a_local_openai_compatible_server_needs_no_key() -> None:
    model = build_provider(LlmSettings(provider="openai", base_url="http://127.0.0.1:11434/v1"), {})
    assert not isinstance(model, NotConfigured)
    assert model.model == "gpt-4.1"
    # Compatible servers know max_tokens; OpenAI's own API wants max_completion_tokens.
    assert model.token_limit == "max_tokens"  # type: ignore[attr-defined]
    own = build_provider(LlmSettings(provider="openai"), {"OPENAI_API_KEY": "sk-x"})
    assert own.token_limit == "max_completion_tokens"  # type: ignore[union-attr]


def test_the_sdks_base_url_variable_applies_when_no_base_url_is_set() -> None:
    model = build_provider(
        LlmSettings(provider="anthropic"),
        {"ANTHROPIC_API_KEY": "sk-x", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9/"},
    )
    assert str(model.client.base_url).startswith("http://127.0.0.1:9")  # type: ignore[union-attr]


# -- the protocols' shapes -----------------------------------------------------------------


CONVERSATION = [
    UserText("sum my prices"),
    AssistantMessage("Let me look.", (ToolCall("t1", "get_notebook", {"notebook_id": "nb"}),)),
    ToolResults((ToolResult("t1", '{"ok": true}'),)),
    AssistantMessage(""),
]


def test_anthropic_gets_tool_results_as_a_user_turn_and_no_empty_assistant_turn() -> None:
    wire = [anthropic_wire.wire_message(m) for m in CONVERSATION]
    assert wire[1]["content"][1] == {
        "type": "tool_use", "id": "t1", "name": "get_notebook", "input": {"notebook_id": "nb"},
    }  # fmt: skip
    assert wire[2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "t1",
                "content": '{"ok": true}',
                "is_error": False,
            }
        ],
    }
    assert wire[3]["content"] == [{"type": "text", "text": "(no answer)"}]


def test_openai_gets_one_tool_message_per_result_and_arguments_as_json_text() -> None:
    wire = [w for m in CONVERSATION for w in openai_wire.wire_messages(m)]
    call = wire[1]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"notebook_id": "nb"}
    assert wire[2] == {"role": "tool", "tool_call_id": "t1", "content": '{"ok": true}'}
    assert wire[3] == {"role": "assistant", "content": None}


def test_tool_arguments_that_are_not_a_json_object_are_kept_for_the_model_to_see() -> None:
    partial = openai_wire._PartialCall(id="c1", name="run_cell", arguments='{"cell_id": ')
    call = partial.call()
    assert call.input == {}
    assert call.invalid_input == '{"cell_id": '
    assert openai_wire._PartialCall("c2", "x", "[1]").call().invalid_input == "[1]"


# -- history ---------------------------------------------------------------------------


async def test_a_conversation_survives_a_restart_and_is_written_atomically(tmp_path: Path) -> None:
    history = ChatHistory(str(tmp_path))
    await history.append("alice", "nb1", {"role": "user", "turn_id": "t1", "text": "hi"})
    await history.append("alice", "nb1", {"role": "assistant", "turn_id": "t1", "text": "hello"})
    again = ChatHistory(str(tmp_path))  # a new server
    assert [r["text"] for r in await again.records("alice", "nb1")] == ["hi", "hello"]
    assert await again.records("bob", "nb1") == []
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert not files[0].name.startswith(".chat-")  # no temporary file left
    assert "alice" not in str(files[0])  # the user's name is hashed, not a path part
    await again.clear("alice", "nb1")
    assert not files[0].exists()


async def test_a_notebook_id_cannot_name_a_path_outside_the_history_folder(tmp_path: Path) -> None:
    history = ChatHistory(str(tmp_path / "chats"))
    await history.append("u", "../../escape", {"role": "user", "turn_id": "t", "text": "x"})
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written
    assert all((tmp_path / "chats") in p.parents for p in written)


async def test_an_unreadable_history_starts_afresh(tmp_path: Path) -> None:
    history = ChatHistory(str(tmp_path))
    await history.append("u", "nb", {"role": "user", "turn_id": "t", "text": "x"})
    (path,) = list(tmp_path.rglob("*.json"))
    path.write_text("{not json")
    assert await ChatHistory(str(tmp_path)).records("u", "nb") == []


async def test_old_turns_are_dropped_past_the_limit(tmp_path: Path) -> None:
    history = ChatHistory(str(tmp_path), max_turns=2)
    for turn in ("t1", "t2", "t3"):
        await history.append(
            "u", "nb",
            {"role": "user", "turn_id": turn, "text": turn},
            {"role": "assistant", "turn_id": turn, "text": turn},
        )  # fmt: skip
    assert [r["turn_id"] for r in await history.records("u", "nb")] == ["t2", "t2", "t3", "t3"]


def test_the_model_gets_the_last_turns_back_as_text_with_the_tools_it_used() -> None:
    records = []
    for n in range(CONTEXT_TURNS + 3):
        records.append({"role": "user", "turn_id": f"t{n}", "text": f"question {n}"})
        records.append(
            {
                "role": "assistant",
                "turn_id": f"t{n}",
                "text": f"answer {n}",
                "steps": [{"name": "run_cell", "ok": True}],
            }
        )
    messages = context_messages(records)
    assert len(messages) == 2 * CONTEXT_TURNS
    assert messages[0] == UserText("question 3")
    last = messages[-1]
    assert isinstance(last, AssistantMessage)
    assert last.text == f"answer {CONTEXT_TURNS + 2}\n\n[tools used: run_cell(ok)]"


# -- rate limit and events ---------------------------------------------------------------


def test_the_rate_limit_is_a_sliding_minute_per_user() -> None:
    now = [1000.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    limiter.take("a")
    limiter.take("a")
    limiter.take("b")  # another user's count is their own
    with pytest.raises(RateLimited) as refused:
        limiter.take("a")
    assert refused.value.status == 429
    assert refused.value.retry_after == 60
    now[0] += 30
    with pytest.raises(RateLimited) as still:
        limiter.take("a")
    assert still.value.retry_after == 30
    now[0] += 30
    limiter.take("a")
    unlimited = RateLimiter(0)
    for _ in range(1000):
        unlimited.take("a")


async def test_a_resume_position_is_taken_from_the_last_event_id() -> None:
    abandoned: list[bool] = []
    events = TurnEvents("t9", grace=0.05, on_abandoned=lambda: abandoned.append(True))
    for n in range(3):
        events.emit("text_delta", text=str(n))
    assert events.position_after(None) == 0
    assert events.position_after("t9:2") == 2
    assert events.position_after("t9:0") == 0
    assert events.position_after("t8:2") == 0  # another turn's id: this turn from its start
    assert events.position_after("t9:99") == 3
    assert events.position_after("garbage") == 0
    frame = events.events[0].frame()
    assert frame == 'id: t9:1\nevent: text_delta\ndata: {"text": "0"}\n\n'

    async def read_one() -> None:
        async for _ in events.follow(0, keep_alive=None):
            return

    await read_one()  # the only reader leaves: the grace starts
    await asyncio.sleep(0.15)
    assert abandoned == [True]


async def test_a_reader_that_comes_back_within_the_grace_keeps_the_turn() -> None:
    abandoned: list[bool] = []
    events = TurnEvents("t1", grace=0.2, on_abandoned=lambda: abandoned.append(True))
    events.emit("turn", turn_id="t1")
    async for _ in events.follow(0, keep_alive=None):
        break
    got: list[str] = []

    async def resume() -> None:
        async for event in events.follow(1, keep_alive=0.05):
            got.append("keep-alive" if event is None else event.type)

    reader = asyncio.ensure_future(resume())
    await asyncio.sleep(0.3)
    events.emit("done", turn_id="t1")
    events.finish()
    await reader
    assert abandoned == []
    assert "keep-alive" in got
    assert got[-1] == "done"


def test_frames_hold_one_data_line_whatever_the_text() -> None:
    events = TurnEvents("t", grace=1, on_abandoned=lambda: None)
    frame = events.emit("text_delta", text="two\nlines\r\nand\n\nblank").frame()
    assert frame.count("\n") == 4  # id, event, data, blank line
