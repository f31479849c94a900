"""One chat turn's events, kept so a dropped connection can resume (``Last-Event-ID``).

The turn's task appends events; each open HTTP stream reads them from where it stands.
When the last reader goes away before the turn ends, the turn is cancelled after a grace
period unless another reader (a resume) comes first: a closed tab stops the model and the
tools, a network blip does not.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from ..kernels.outputs import json_safe


@dataclass(frozen=True)
class ChatEvent:
    id: str
    type: str
    data: dict[str, Any]

    def frame(self) -> str:
        """The event in Server-Sent Events framing (one ``data`` line of strict JSON:
        ``json.dumps`` escapes newlines, so the data is one line)."""
        data = json.dumps(json_safe(self.data), allow_nan=False, ensure_ascii=False)
        return f"id: {self.id}\nevent: {self.type}\ndata: {data}\n\n"


class TurnEvents:
    """The events of turn ``turn_id`` in order, and who is reading them."""

    def __init__(self, turn_id: str, *, grace: float, on_abandoned: Callable[[], None]) -> None:
        self.turn_id = turn_id
        self.events: list[ChatEvent] = []
        self.finished = False
        self.grace = grace
        self._on_abandoned = on_abandoned
        self._readers = 0
        self._changed = asyncio.Event()
        self._abandon: asyncio.TimerHandle | None = None

    def emit(self, type_: str, **data: Any) -> ChatEvent:
        event = ChatEvent(f"{self.turn_id}:{len(self.events) + 1}", type_, data)
        self.events.append(event)
        self._wake()
        return event

    def finish(self) -> None:
        self.finished = True
        self._cancel_abandon()
        self._wake()

    def position_after(self, last_event_id: str | None) -> int:
        """Index of the first event after ``last_event_id`` (0: from the start)."""
        if not last_event_id:
            return 0
        turn, _, number = last_event_id.rpartition(":")
        if turn != self.turn_id or not number.isdigit():
            return 0
        return min(int(number), len(self.events))

    async def follow(
        self, start: int, *, keep_alive: float | None
    ) -> AsyncIterator[ChatEvent | None]:
        """The events from index ``start``, then the new ones as they come, until the
        turn ends; ``None`` after ``keep_alive`` seconds of silence (time for a comment
        that keeps proxies from closing the stream). Counts as a reader meanwhile."""
        self._readers += 1
        self._cancel_abandon()
        try:
            position = start
            while True:
                while position < len(self.events):
                    position += 1
                    yield self.events[position - 1]
                if self.finished:
                    return
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), keep_alive)
                except TimeoutError:
                    yield None
        finally:
            self._readers -= 1
            if self._readers == 0 and not self.finished:
                self._abandon = asyncio.get_running_loop().call_later(self.grace, self._abandoned)

    def _abandoned(self) -> None:
        self._abandon = None
        if self._readers == 0 and not self.finished:
            self._on_abandoned()

    def _cancel_abandon(self) -> None:
        if self._abandon is not None:
            self._abandon.cancel()
            self._abandon = None

    def _wake(self) -> None:
        self._changed.set()
