"""Events of one notebook, delivered to that notebook's subscribers only.

Event types mirror the WebSocket protocol (design.md section 4): ``cell_status``,
``cell_stdout``, ``cell_output``, ``cell_error``, ``cell_updated``, ``cell_created``,
``cell_deleted``, ``cell_moved``, ``notebook_updated``, ``kernel_status``, ``error``,
plus ``cell_cleared`` (the cell called ``clear_output``: drop what it showed so far),
``cell_output_updated`` (a display the cell shows was updated, by any cell: see
``display_ids``) and ``notebook_deleted``. Each carries the notebook's revision and a per-notebook
sequence number, so a client that reconnects can ask for what it missed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..kernels.outputs import json_safe


@dataclass(frozen=True)
class Event:
    type: str
    data: dict[str, Any]
    seq: int = 0

    def message(self) -> dict[str, Any]:
        """The WebSocket message: ``{"type", "seq", ...data}``."""
        return {"type": self.type, "seq": self.seq, **self.data}

    @cached_property
    def encoded(self) -> str:
        """The message as strict JSON, encoded once however many clients receive it."""
        message = self.message()
        try:
            return json.dumps(message, allow_nan=False)
        except (TypeError, ValueError):
            return json.dumps(json_safe(message), allow_nan=False)

    @cached_property
    def size(self) -> int:
        """Bytes of the encoded message (ASCII JSON: one byte a character)."""
        return len(self.encoded)


class Subscription:
    """One subscriber's queue of a notebook's events.

    A subscriber that falls ``limit`` events or ``limit_bytes`` bytes of events behind
    is not fed more: its queue is dropped and ``lagged`` set, so it can resynchronise
    from a fresh snapshot instead of holding the server's memory hostage.
    """

    def __init__(
        self, hub: EventHub, notebook_id: str, limit: int, limit_bytes: int | None = None
    ) -> None:
        self.notebook_id = notebook_id
        self.lagged = False
        self._hub = hub
        self._limit = limit
        self._limit_bytes = limit_bytes
        #: Bytes of the events queued now.
        self.queued_bytes = 0
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def deliver(self, event: Event) -> None:
        if self.lagged:
            return
        if self._queue.qsize() >= self._limit or (
            self._limit_bytes is not None
            and self.queued_bytes + event.size > self._limit_bytes
            and not self._queue.empty()  # one event alone always fits
        ):
            self.lag()
            return
        self._queue.put_nowait(event)
        self.queued_bytes += event.size

    def lag(self) -> None:
        """Give up on delivering what is queued: the subscriber resyncs from a
        snapshot (``get`` reports None, then ``resume``)."""
        if self.lagged:
            return
        self.lagged = True
        self._drain()
        self._queue.put_nowait(None)  # wake the reader: it must resync

    async def get(self) -> Event | None:
        """The next event, or None once the subscriber has lagged (see ``lagged``)."""
        event = await self._queue.get()
        if event is not None:
            self.queued_bytes -= event.size
        return event

    def pending(self) -> list[Event]:
        """Events queued now, without waiting (for batching a burst into one write).
        Nothing once lagged: the lag marker stays queued for ``get`` to report."""
        taken: list[Event] = []
        if self.lagged:
            return taken
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if event is None:
                break
            self.queued_bytes -= event.size
            taken.append(event)
        return taken

    def resume(self) -> None:
        """Start afresh after a resync: deliver again from the next event on."""
        self._drain()
        self.lagged = False

    def close(self) -> None:
        self._hub._unsubscribe(self)

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self.queued_bytes = 0


@dataclass
class _Channel:
    #: The seq before this channel's first event (what a client saw before any).
    base: int
    history: deque[Event] = field(default_factory=deque)
    history_bytes: int = 0
    subscribers: set[Subscription] = field(default_factory=set)
    sequence: itertools.count[int] = field(init=False)
    last_seq: int = field(init=False)

    def __post_init__(self) -> None:
        self.sequence = itertools.count(self.base + 1)
        self.last_seq = self.base

    def remember(self, event: Event, count: int, size: int) -> None:
        """Keep ``event``, then forget the oldest while more than ``count`` events or
        ``size`` bytes are kept (the latest event is always kept)."""
        self.history.append(event)
        self.history_bytes += event.size
        while len(self.history) > 1 and (len(self.history) > count or self.history_bytes > size):
            self.history_bytes -= self.history.popleft().size


class EventHub:
    """Fan-out of events per notebook. Slow subscribers lose nothing up to ``limit``
    events and ``limit_bytes`` bytes behind; ``history`` events, at most
    ``history_bytes`` bytes of them, are kept per notebook for clients that reconnect.

    Sequence numbers start at ``first_seq``. The app starts them from the clock, so
    that those of a restarted server are beyond any the previous process handed out:
    a client resuming with an old ``since`` then gets a snapshot, not a replay of the
    new process's events as if they were the ones it missed.
    """

    def __init__(
        self,
        *,
        history: int = 1000,
        limit: int = 10_000,
        history_bytes: int = 8 * 1024 * 1024,
        limit_bytes: int = 8 * 1024 * 1024,
        first_seq: int = 1,
    ) -> None:
        self._channels: dict[str, _Channel] = {}
        self._history = history
        self._history_bytes = history_bytes
        self._limit = limit
        self._limit_bytes = limit_bytes
        self._base = first_seq - 1
        self._listeners: list[Callable[[str, Event], None]] = []

    def add_listener(self, listener: Callable[[str, Event], None]) -> None:
        """Call ``listener(notebook_id, event)`` for every event of every notebook
        (the app records activity this way, so idle culling sees runs)."""
        self._listeners.append(listener)

    def publish(self, notebook_id: str, type_: str, **data: Any) -> Event:
        channel = self._channel(notebook_id)
        event = Event(type_, data, next(channel.sequence))
        channel.last_seq = event.seq
        channel.remember(event, self._history, self._history_bytes)
        for subscription in list(channel.subscribers):
            subscription.deliver(event)
        for listener in self._listeners:
            listener(notebook_id, event)
        return event

    def last_seq(self, notebook_id: str) -> int:
        """The sequence number of the notebook's latest event (``first_seq - 1``
        before any)."""
        channel = self._channels.get(notebook_id)
        return channel.last_seq if channel else self._base

    def since(self, notebook_id: str, seq: int) -> list[Event] | None:
        """Events after ``seq``, or None when they are no longer all kept (or ``seq``
        is not one this server handed out)."""
        channel = self._channels.get(notebook_id)
        if channel is None:
            return [] if seq == self._base else None
        if seq < channel.base or seq > channel.last_seq:
            return None
        kept = list(channel.history)
        if kept and kept[0].seq > seq + 1:
            return None
        return [event for event in kept if event.seq > seq]

    def listen(self, notebook_id: str) -> Subscription:
        """Subscribe now (synchronously: no event can slip between this call and a
        snapshot taken right after it). Close the subscription when done."""
        subscription = Subscription(self, notebook_id, self._limit, self._limit_bytes)
        self._channel(notebook_id).subscribers.add(subscription)
        return subscription

    def subscriber_count(self, notebook_id: str) -> int:
        channel = self._channels.get(notebook_id)
        return len(channel.subscribers) if channel else 0

    async def subscribe(self, notebook_id: str) -> AsyncIterator[Event]:
        """Events of one notebook from now on, until the consumer stops iterating."""
        subscription = self.listen(notebook_id)
        try:
            while True:
                event = await subscription.get()
                if event is None:
                    subscription.resume()
                    continue
                yield event
        finally:
            subscription.close()

    def _channel(self, notebook_id: str) -> _Channel:
        channel = self._channels.get(notebook_id)
        if channel is None:
            channel = _Channel(self._base)
            self._channels[notebook_id] = channel
        return channel

    def _unsubscribe(self, subscription: Subscription) -> None:
        channel = self._channels.get(subscription.notebook_id)
        if channel is not None:
            channel.subscribers.discard(subscription)

    def forget(self, notebook_id: str) -> None:
        """Drop a deleted notebook's history; its subscribers are told by the
        ``notebook_deleted`` event published just before."""
        self._channels.pop(notebook_id, None)
