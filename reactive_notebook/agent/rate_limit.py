"""Per-user limit of chat messages per minute (a sliding window)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..notebooks.errors import NotebookError


class RateLimited(NotebookError):
    """Over the limit: try again in ``retry_after`` seconds (429, ``Retry-After``)."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def details(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class RateLimiter:
    """At most ``per_minute`` messages per user in any 60 s (0: no limit)."""

    WINDOW = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._sent: dict[str, deque[float]] = {}

    def take(self, user: str) -> None:
        """Count one message of ``user``, or raise :class:`RateLimited`."""
        if self.per_minute <= 0:
            return
        now = self.clock()
        sent = self._sent.setdefault(user, deque())
        while sent and now - sent[0] >= self.WINDOW:
            sent.popleft()
        if len(sent) >= self.per_minute:
            wait = max(1, math.ceil(self.WINDOW - (now - sent[0])))
            raise RateLimited(
                f"chat limit reached: {self.per_minute} messages per minute per user "
                f"(ReactiveNotebook.chat_messages_per_minute); try again in {wait} s",
                wait,
            )
        sent.append(now)
