"""The assistant's audit log: one JSON line per tool call (and per turn's end), appended
to a file named by ``ReactiveNotebook.chat_audit_log``. It records who, which notebook,
which model, which tool with what input, the outcome and how long it took; inputs and
outcomes pass the same scrubber as the model's answers, so no key or password is
written. Writes go through a thread so a slow disk never holds the event loop."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from typing import Any

from .scrub import Scrubber

#: Longest a logged input or outcome is (characters of its JSON).
MAX_FIELD_CHARS = 4000


class AuditLog:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    async def record(self, scrubber: Scrubber, **entry: Any) -> None:
        line = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **entry}
        for key in ("input", "outcome"):
            if key in line:
                line[key] = _bounded(scrubber(line[key]))
        text = json.dumps(line, default=str, ensure_ascii=False) + "\n"
        async with self._lock:  # lines whole and in order
            await asyncio.to_thread(self._append, text)

    def _append(self, text: str) -> None:
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


def _bounded(value: Any) -> Any:
    text = json.dumps(value, default=str, ensure_ascii=False)
    if len(text) <= MAX_FIELD_CHARS:
        return value
    return {"elided": True, "head": text[:MAX_FIELD_CHARS], "chars": len(text)}


def elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
