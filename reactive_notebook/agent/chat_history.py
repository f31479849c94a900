"""The conversations, kept per user and notebook on the server (never in the ``.ipynb``,
which colleagues share): one JSON file each under ``ReactiveNotebook.chat_history_dir``,
written whole and atomically (a temporary file renamed over the old one) in a thread.

A conversation is a list of records as ``GET .../chat`` shows them (docs/chat-api.md): a
person's message, then the assistant's answer with its tool steps. The model is given
the last turns back as plain text (:func:`context_messages`), not their tool calls:
what it did is summarised, and fresh state comes from the tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import tempfile
from typing import Any

from .llm import AssistantMessage, Message, UserText

#: Turns given back to the model as context (older ones are kept for the person only).
CONTEXT_TURNS = 10
#: Characters of one earlier answer given back to the model.
CONTEXT_ANSWER_CHARS = 4000

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class ChatHistory:
    """Conversations on disk under ``folder`` (kept to ``max_turns`` turns each)."""

    def __init__(self, folder: str, *, max_turns: int = 200) -> None:
        self.folder = folder
        self.max_turns = max_turns
        self._cache: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def _path(self, user: str, notebook_id: str) -> str:
        owner = hashlib.sha256(user.encode()).hexdigest()[:24]
        name = (
            notebook_id
            if _SAFE_ID.match(notebook_id)
            else hashlib.sha256(notebook_id.encode()).hexdigest()
        )
        return os.path.join(self.folder, owner, f"{name}.json")

    async def records(self, user: str, notebook_id: str) -> list[dict[str, Any]]:
        key = (user, notebook_id)
        if key not in self._cache:
            self._cache[key] = await asyncio.to_thread(self._read, self._path(user, notebook_id))
        return self._cache[key]

    async def append(self, user: str, notebook_id: str, *records: dict[str, Any]) -> None:
        kept = await self.records(user, notebook_id)
        kept.extend(records)
        turns = [r["turn_id"] for r in kept if r["role"] == "user"]
        if len(turns) > self.max_turns:
            first_kept = turns[len(turns) - self.max_turns]
            start = next(i for i, r in enumerate(kept) if r["turn_id"] == first_kept)
            del kept[:start]
        await self.save(user, notebook_id)

    async def save(self, user: str, notebook_id: str) -> None:
        key = (user, notebook_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            snapshot = json.dumps({"version": 1, "records": self._cache.get(key, [])})
            await asyncio.to_thread(_write_atomically, self._path(user, notebook_id), snapshot)

    async def clear(self, user: str, notebook_id: str) -> None:
        self._cache[(user, notebook_id)] = []
        path = self._path(user, notebook_id)
        await asyncio.to_thread(_remove, path)

    @staticmethod
    def _read(path: str) -> list[dict[str, Any]]:
        try:
            with open(path, encoding="utf-8") as file:
                stored = json.load(file)
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []  # unreadable: start afresh rather than refuse the chat
        records = stored.get("records") if isinstance(stored, dict) else None
        return records if isinstance(records, list) else []


def context_messages(records: list[dict[str, Any]]) -> list[Message]:
    """The last :data:`CONTEXT_TURNS` turns as the model is given them again."""
    messages: list[Message] = []
    turns = [r["turn_id"] for r in records if r["role"] == "user"][-CONTEXT_TURNS:]
    for record in records:
        if record["turn_id"] not in turns:
            continue
        if record["role"] == "user":
            messages.append(UserText(record["text"]))
            continue
        text = record.get("text", "")[:CONTEXT_ANSWER_CHARS]
        steps = record.get("steps", [])
        if steps:
            used = ", ".join(f"{s['name']}({'ok' if s.get('ok') else 'refused'})" for s in steps)
            text = f"{text}\n\n[tools used: {used}]".strip()
        messages.append(AssistantMessage(text or "(no answer)"))
    return messages


def _write_atomically(path: str, text: str) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".chat-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
