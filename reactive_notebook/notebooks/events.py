"""Events of one notebook, delivered to that notebook's subscribers only.

Event types mirror the WebSocket protocol (design.md section 4): ``cell_status``,
``cell_stdout``, ``cell_output``, ``cell_error``, ``cell_updated``, ``cell_created``,
``cell_deleted``, ``cell_moved``, ``notebook_updated``, ``kernel_status``, ``error``,
plus ``cell_cleared`` (the cell called ``clear_output``: drop what it showed so far).
Each carries the notebook's revision and a per-notebook sequence number, so a client
that reconnects can ask for what it missed.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: dict[str, Any]
    seq: int = 0

    def message(self) -> dict[str, Any]:
        """The WebSocket message: ``{"type", "seq", ...data}``."""
        return {"type": self.type, "seq": self.seq, **self.data}


@dataclass
class _Channel:
    history: deque[Event]
    subscribers: set[asyncio.Queue[Event]] = field(default_factory=set)
    sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class EventHub:
    """Fan-out of events per notebook. Slow subscribers lose nothing up to ``limit``."""

    def __init__(self, *, history: int = 1000, limit: int = 10_000) -> None:
        self._channels: dict[str, _Channel] = {}
        self._history = history
        self._limit = limit

    def publish(self, notebook_id: str, type_: str, **data: Any) -> Event:
        channel = self._channel(notebook_id)
        event = Event(type_, data, next(channel.sequence))
        channel.history.append(event)
        for queue in list(channel.subscribers):
            if queue.qsize() < self._limit:
                queue.put_nowait(event)
        return event

    def since(self, notebook_id: str, seq: int) -> list[Event] | None:
        """Events after ``seq``, or None when they are no longer all kept."""
        channel = self._channels.get(notebook_id)
        if channel is None:
            return [] if seq == 0 else None
        kept = list(channel.history)
        if kept and kept[0].seq > seq + 1:
            return None
        return [event for event in kept if event.seq > seq]

    async def subscribe(self, notebook_id: str) -> AsyncIterator[Event]:
        """Events of one notebook from now on, until the consumer stops iterating."""
        channel = self._channel(notebook_id)
        queue: asyncio.Queue[Event] = asyncio.Queue()
        channel.subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            channel.subscribers.discard(queue)

    def _channel(self, notebook_id: str) -> _Channel:
        channel = self._channels.get(notebook_id)
        if channel is None:
            channel = self._channels[notebook_id] = _Channel(deque(maxlen=self._history))
        return channel

    def forget(self, notebook_id: str) -> None:
        self._channels.pop(notebook_id, None)
