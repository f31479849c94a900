"""The notebook chat: one conversation per user and notebook, one turn at a time.

``ChatService`` checks a message may start a turn (a model is configured, the notebook is
the user's, the rate limit, no turn already running), runs the turn in a task of its own
(:class:`.chat_loop.ChatLoop`) whose events any number of HTTP streams follow
(:class:`.chat_stream.TurnEvents`), keeps the history (:class:`.chat_history.ChatHistory`)
and the last turn's journal for revert. No Tornado here: the handlers are a thin layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..notebooks.actor import acting_as, person
from ..notebooks.errors import InvalidRequest, NotebookError
from ..notebooks.service import NotebookService
from .audit import AuditLog, elapsed_ms
from .chat_history import ChatHistory, context_messages
from .chat_loop import ChatLoop, TurnOutcome
from .chat_stream import TurnEvents
from .llm import Provider, ProviderError, UserText
from .llm_config import NotConfigured
from .previews import PreviewLimits
from .rate_limit import RateLimiter
from .revert import TurnJournal
from .tools import ToolContext, ToolRegistry, notebook_tools

log = logging.getLogger(__name__)

#: Longest message a person may send (characters).
MAX_MESSAGE_CHARS = 20_000


class ChatNotConfigured(NotebookError):
    status = 503


class TurnRunning(NotebookError):
    status = 409


class NothingToRevert(NotebookError):
    status = 409


class NoTurn(NotebookError):
    status = 404


@dataclass
class _Conversation:
    """One user's chat on one notebook: its running turn, tool context and journal."""

    context: ToolContext
    turn: TurnEvents | None = None
    task: asyncio.Task[None] | None = None
    journal: TurnJournal | None = None
    interrupt_on_cancel: bool = False
    turn_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()


class ChatService:
    def __init__(
        self,
        notebooks: NotebookService,
        provider: Provider | NotConfigured,
        history: ChatHistory,
        *,
        registry: ToolRegistry | None = None,
        rate_limiter: RateLimiter | None = None,
        audit: AuditLog | None = None,
        max_tool_turns: int = 10,
        resume_grace: float = 10.0,
        limits: PreviewLimits | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.notebooks = notebooks
        self.provider = provider
        self.history = history
        self.registry = registry or notebook_tools()
        self.rate_limiter = rate_limiter or RateLimiter(0)
        self.audit = audit
        self.max_tool_turns = max_tool_turns
        self.resume_grace = resume_grace
        self.limits = limits or PreviewLimits()
        self.environ = dict(os.environ if environ is None else environ)
        self._conversations: dict[tuple[str, str], _Conversation] = {}

    # -- what the handlers call --------------------------------------------------------

    async def start(self, user: str, notebook_id: str, message: str) -> TurnEvents:
        """Start a turn answering ``message``; its events follow in the returned stream."""
        opened = await self.notebooks.get_notebook(user, notebook_id)  # 404 if not theirs
        provider = self._provider()
        conversation = self._conversation(user, notebook_id)
        if conversation.running:
            raise TurnRunning(
                "the assistant is still answering the last message in this notebook: "
                "wait for it, or stop it (POST .../chat/cancel)"
            )
        self.rate_limiter.take(user)
        records = await self.history.records(user, notebook_id)
        messages = [*context_messages(records), UserText(message)]
        turn_id = f"t{int(time.time() * 1000)}-{next(conversation.turn_ids)}"
        events = TurnEvents(
            turn_id, grace=self.resume_grace, on_abandoned=lambda: self._abandoned(conversation)
        )
        events.emit("turn", turn_id=turn_id)
        user_record = {"role": "user", "turn_id": turn_id, "text": message, "time": _now()}
        await self.history.append(user, notebook_id, user_record)
        journal = TurnJournal(turn_id)
        loop = ChatLoop(
            provider=provider,
            registry=self.registry,
            context=conversation.context,
            notebook_id=notebook_id,
            notebook_name=opened.notebook.name,
            events=events,
            journal=journal,
            audit=self.audit,
            max_tool_turns=self.max_tool_turns,
        )
        conversation.turn = events
        conversation.interrupt_on_cancel = False
        conversation.task = asyncio.create_task(
            self._play(conversation, loop, messages, user, notebook_id)
        )
        return events

    def last_turn(self, user: str, notebook_id: str) -> TurnEvents:
        """The running (or last) turn, which a client resumes; 404 when there is none.
        A ``Last-Event-ID`` of an older turn resumes it from its first event."""
        conversation = self._conversations.get((user, notebook_id))
        turn = conversation.turn if conversation else None
        if turn is None:
            raise NoTurn("this notebook has had no chat turn since the server started")
        return turn

    async def records(self, user: str, notebook_id: str) -> dict[str, Any]:
        await self.notebooks.get_notebook(user, notebook_id)
        conversation = self._conversations.get((user, notebook_id))
        records = [dict(r) for r in await self.history.records(user, notebook_id)]
        revertible = self._revertible_turn(conversation)
        for record in records:
            if record["role"] == "assistant":
                record["revertible"] = record["turn_id"] == revertible
        turn = conversation.turn if conversation and conversation.running else None
        running = turn.turn_id if turn else None
        model = None if isinstance(self.provider, NotConfigured) else self.provider
        return {
            "messages": records,
            "running": running,
            "provider": model.name if model else None,
            "model": model.model if model else None,
        }

    async def clear(self, user: str, notebook_id: str) -> None:
        await self.notebooks.get_notebook(user, notebook_id)
        conversation = self._conversations.get((user, notebook_id))
        if conversation is not None:
            await self._stop(conversation, interrupt=False)
            conversation.journal = None
        await self.history.clear(user, notebook_id)

    async def cancel(self, user: str, notebook_id: str, *, interrupt: bool = False) -> bool:
        await self.notebooks.get_notebook(user, notebook_id)
        conversation = self._conversations.get((user, notebook_id))
        if conversation is None or not conversation.running:
            return False
        await self._stop(conversation, interrupt=interrupt)
        return True

    async def revert(self, user: str, notebook_id: str) -> dict[str, Any]:
        """Put back what the assistant's last turn changed; the cells re-run."""
        await self.notebooks.get_notebook(user, notebook_id)
        conversation = self._conversations.get((user, notebook_id))
        if conversation is not None and conversation.running:
            raise TurnRunning("the assistant is still answering: stop it before reverting")
        journal = conversation.journal if conversation else None
        if journal is None or journal.reverted or not journal.changed:
            raise NothingToRevert("the assistant's last turn changed nothing that can be reverted")
        with acting_as({**person(user), "reverting": journal.turn_id}):
            result = await journal.revert(self.notebooks, user, notebook_id)
        return result

    async def shutdown(self) -> None:
        for conversation in list(self._conversations.values()):
            await self._stop(conversation, interrupt=False)

    # -- the turn --------------------------------------------------------------------

    async def _play(
        self,
        conversation: _Conversation,
        loop: ChatLoop,
        messages: list[Any],
        user: str,
        notebook_id: str,
    ) -> None:
        events = loop.events
        outcome = TurnOutcome()
        started = time.monotonic()
        try:
            await loop.run(messages, outcome)
        except asyncio.CancelledError:
            outcome.stop_reason = "cancelled"
            if conversation.interrupt_on_cancel:
                with contextlib.suppress(NotebookError):
                    await self.notebooks.interrupt(user, notebook_id)
        except ProviderError as error:
            outcome.error = error.message
            outcome.error_status = error.status
        except Exception as error:  # a bug of ours: the person is told, the log has it
            log.exception("chat turn %s in notebook %s failed", events.turn_id, notebook_id)
            outcome.error = f"the assistant failed: {error}"
        finally:
            conversation.journal = loop.journal if loop.journal.changed else conversation.journal
            try:
                await self._record(user, notebook_id, events, outcome, started, loop)
            finally:
                # The turn's last event, then the end of its stream, with nothing awaited
                # after them: a client that sees either finds the turn in the history (and
                # no longer running), and its next message may start at once.
                if outcome.error is None:
                    events.emit(
                        "done",
                        turn_id=events.turn_id,
                        usage=outcome.usage.describe(),
                        stop_reason=outcome.stop_reason,
                    )
                else:
                    events.emit("error", message=outcome.error, status=outcome.error_status)
                events.finish()

    async def _record(
        self,
        user: str,
        notebook_id: str,
        events: TurnEvents,
        outcome: TurnOutcome,
        started: float,
        loop: ChatLoop,
    ) -> None:
        record = {
            "role": "assistant",
            "turn_id": events.turn_id,
            "text": outcome.text,
            "steps": outcome.steps,
            "cells_changed": outcome.cells_changed,
            "usage": outcome.usage.describe(),
            "stop_reason": outcome.stop_reason,
            "error": outcome.error,
            "time": _now(),
        }
        try:
            await self.history.append(user, notebook_id, record)
        except OSError:
            log.exception("keeping the chat history of notebook %s failed", notebook_id)
        if self.audit is not None:
            with contextlib.suppress(OSError):
                await self.audit.record(
                    await loop.context.scrubber(notebook_id),
                    user=user,
                    notebook_id=notebook_id,
                    provider=loop.provider.name,
                    model=loop.provider.model,
                    tool=None,
                    outcome={
                        "turn_id": events.turn_id,
                        "stop_reason": outcome.stop_reason,
                        "error": outcome.error,
                        "tool_calls": len(outcome.steps),
                        "usage": outcome.usage.describe(),
                    },
                    duration_ms=elapsed_ms(started),
                )

    async def _stop(self, conversation: _Conversation, *, interrupt: bool) -> None:
        task = conversation.task
        if task is None or task.done():
            return
        conversation.interrupt_on_cancel = interrupt
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _abandoned(self, conversation: _Conversation) -> None:
        """No one reads the turn any more (and none came back within the grace)."""
        if conversation.task is not None and not conversation.task.done():
            conversation.task.cancel()

    # -- the parts -------------------------------------------------------------------

    def _provider(self) -> Provider:
        if isinstance(self.provider, NotConfigured):
            raise ChatNotConfigured(self.provider.message)
        return self.provider

    def _conversation(self, user: str, notebook_id: str) -> _Conversation:
        key = (user, notebook_id)
        if key not in self._conversations:
            context = ToolContext(self.notebooks, user, limits=self.limits, environ=self.environ)
            self._conversations[key] = _Conversation(context)
        return self._conversations[key]

    @staticmethod
    def _revertible_turn(conversation: _Conversation | None) -> str | None:
        journal = conversation.journal if conversation else None
        if journal is None or journal.reverted or not journal.changed:
            return None
        return journal.turn_id


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def check_message(message: Any) -> str:
    """The person's message, or a 400 saying what is wrong with it."""
    if not isinstance(message, str) or not message.strip():
        raise InvalidRequest("message: write something for the assistant", field="message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise InvalidRequest(
            f"message: {len(message)} characters; the limit is {MAX_MESSAGE_CHARS}",
            field="message",
        )
    return message
