"""One chat turn: the model answers, calls tools, reads their results, answers again,
until it stops calling tools or the turn reaches its tool-turn limit.

Tool calls run only once the model's message is complete: a stream cut in the middle
applies nothing of it. Each call acts as the assistant (:mod:`..notebooks.actor`), is
noted for revert, audited, and reported to the person as ``tool_call``/``tool_result``
events. The chat works on one notebook: a call naming another is refused.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from ..notebooks.actor import acting_as, assistant
from .audit import AuditLog, elapsed_ms
from .chat_stream import TurnEvents
from .llm import (
    Completed,
    Message,
    Provider,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolResults,
    ToolSpec,
    Usage,
)
from .revert import TurnJournal
from .tools import ToolContext, ToolRegistry

#: Characters of a tool's answer shown in a ``tool_result`` event (the model gets it whole).
PREVIEW_CHARS = 2000


@dataclass
class TurnOutcome:
    """What the turn left for the history."""

    text: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = "end_turn"
    error: str | None = None
    #: The provider's HTTP status of that error, when it came from one.
    error_status: int | None = None
    #: The cells the turn created, edited, moved, deleted or ran, in order, once each.
    cells_changed: list[str] = field(default_factory=list)


def system_prompt(notebook_id: str, name: str) -> str:
    return (
        "You are the assistant of a reactive Jupyter notebook. When a cell runs, every "
        "cell that reads a name it defines re-runs after it, in dependency order, in the "
        "notebook's kernel; each name is defined by one cell. You read and change the "
        "notebook only through the tools; a person may be editing it at the same time.\n"
        f"This chat is about the notebook {name!r} (notebook_id {notebook_id!r}); every "
        "tool takes that notebook_id.\n"
        "Read the notebook (get_notebook) before changing it. Pass update_cell the code "
        "you last saw as expected_code: when it answers conflict, a person changed the "
        "cell; work from current_code and do not overwrite their change without asking. "
        "run_cell answers every cell that ran with its status and output preview; when "
        "it answers a run_id, call wait_for_run. Keep cells small: one idea per cell. "
        "Answer in short markdown."
    )


def tool_specs(registry: ToolRegistry) -> list[ToolSpec]:
    return [ToolSpec(s["name"], s["description"], s["input_schema"]) for s in registry.specs()]


@dataclass
class ChatLoop:
    """Everything one turn needs; :meth:`run` plays it."""

    provider: Provider
    registry: ToolRegistry
    context: ToolContext
    notebook_id: str
    notebook_name: str
    events: TurnEvents
    journal: TurnJournal
    audit: AuditLog | None
    max_tool_turns: int

    async def run(self, messages: list[Message], outcome: TurnOutcome) -> None:
        """Play the turn; ``outcome`` holds what happened so far, also when it is
        cancelled or fails (the caller records it and emits the last event)."""
        system = system_prompt(self.notebook_id, self.notebook_name)
        tools = tool_specs(self.registry)
        for model_turn in range(self.max_tool_turns + 1):
            completed = await self._answer(system, messages, tools, outcome)
            message = completed.message
            messages.append(message)
            outcome.usage.add(completed.usage)
            if not message.tool_calls:
                outcome.stop_reason = "end_turn"
                return
            if model_turn == self.max_tool_turns:
                break
            results = [await self._call(call, outcome) for call in message.tool_calls]
            messages.append(ToolResults(tuple(results)))
        outcome.stop_reason = "max_turns"
        note = (
            f"\n\n(Stopped: the assistant reached its limit of {self.max_tool_turns} tool "
            "turns for one message; ask again to continue.)"
        )
        outcome.text += note
        self.events.emit("text_delta", text=note)

    async def _answer(
        self, system: str, messages: list[Message], tools: list[ToolSpec], outcome: TurnOutcome
    ) -> Completed:
        if outcome.text and not outcome.text.endswith("\n"):
            outcome.text += "\n\n"
            self.events.emit("text_delta", text="\n\n")
        async for event in self.provider.stream(system=system, messages=messages, tools=tools):
            if isinstance(event, TextDelta):
                outcome.text += event.text
                self.events.emit("text_delta", text=event.text)
            else:
                return event
        raise RuntimeError("the provider's stream ended without a message")  # pragma: no cover

    async def _call(self, call: ToolCall, outcome: TurnOutcome) -> ToolResult:
        args = dict(call.input)
        self.events.emit("tool_call", id=call.id, name=call.name, input=args)
        started = time.monotonic()
        note = None
        if call.invalid_input is not None:
            answer: dict[str, Any] = {
                "ok": False,
                "error": f"the arguments were not a JSON object: {call.invalid_input[:200]!r}",
            }
        elif args.setdefault("notebook_id", self.notebook_id) != self.notebook_id:
            answer = {
                "ok": False,
                "error": f"this chat works on notebook {self.notebook_id} only",
            }
        else:
            actor = assistant(
                self.context.user,
                provider=self.provider.name,
                model=self.provider.model,
                tool_call_id=call.id,
            )
            with acting_as(actor):
                note = await self.journal.before(
                    self.context.service, self.context.user, self.notebook_id, call.name, args
                )
                answer = await self.registry.call(self.context, call.name, args)
                self.journal.after(note, args, answer)
        ok = bool(answer.get("ok"))
        cell_ids = touched_cells(call.name, args, answer)
        text = json.dumps(answer, default=str, ensure_ascii=False)
        step = {
            "id": call.id,
            "name": call.name,
            "input": args,
            "ok": ok,
            "error": None if ok else str(answer.get("error", "")),
            "preview": _preview(text),
            "cell_ids": cell_ids,
        }
        outcome.steps.append({**step, "at": len(outcome.text)})  # where it came in the text
        self.events.emit("tool_result", **{k: v for k, v in step.items() if k != "input"})
        if cell_ids and (call.name in _CHANGING or call.name in _RUNNING):
            self.events.emit("cells_changed", cell_ids=cell_ids)
            outcome.cells_changed = list(dict.fromkeys([*outcome.cells_changed, *cell_ids]))
        if self.audit is not None:
            await self.audit.record(
                await self.context.scrubber(self.notebook_id),
                user=self.context.user,
                notebook_id=self.notebook_id,
                provider=self.provider.name,
                model=self.provider.model,
                tool=call.name,
                tool_call_id=call.id,
                input=args,
                outcome=answer if not ok else {"ok": True, "cell_ids": cell_ids},
                duration_ms=elapsed_ms(started),
            )
        return ToolResult(call.id, text, is_error=not ok)


_CHANGING = {"create_cell", "update_cell", "delete_cell", "move_cell"}
_RUNNING = {"run_cell", "wait_for_run"}


def touched_cells(tool: str, args: dict[str, Any], answer: dict[str, Any]) -> list[str]:
    """The cells a call named, created or ran, in order, once each."""
    ids: list[str] = []
    for value in (args.get("cell_id"), answer.get("cell_id")):
        if isinstance(value, str):
            ids.append(value)
    ran = answer.get("cells") if tool in _RUNNING else None
    for cell in ran if isinstance(ran, list) else []:
        if isinstance(cell, dict) and isinstance(cell.get("id"), str):
            ids.append(cell["id"])
    return list(dict.fromkeys(ids))


def _preview(text: str) -> str:
    if len(text) <= PREVIEW_CHARS:
        return text
    return f"{text[:PREVIEW_CHARS]}… ({len(text) - PREVIEW_CHARS} more characters)"
