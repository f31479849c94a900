"""What this server offers beyond the notebook API, as ``GET .../capabilities`` tells
clients (the JupyterLab extension shows a notice for what is missing).

One place decides each answer: the app builds a ``Capabilities`` at startup and hands it
to the handlers through ``ApiContext``. Only the chat is described so far; it is
unavailable until an LLM provider is configured (the chat issue replaces
``chat_capability`` with a check of the configured provider).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_LLM_PROVIDER = (
    "No LLM provider is configured: the notebook chat is off. A server administrator "
    "can configure one (Anthropic or an OpenAI-compatible endpoint)."
)


@dataclass(frozen=True)
class Capability:
    """One feature: whether it can be used, and a sentence for a person if not."""

    available: bool
    message: str = ""

    def describe(self) -> dict[str, Any]:
        return {"available": self.available, "message": self.message}


def chat_capability() -> Capability:
    """Whether the notebook chat can answer. No provider exists yet: never."""
    return Capability(available=False, message=NO_LLM_PROVIDER)


@dataclass(frozen=True)
class Capabilities:
    """Everything ``GET /reactive/api/v1/capabilities`` answers."""

    chat: Capability = field(default_factory=chat_capability)

    def describe(self) -> dict[str, Any]:
        return {"chat": self.chat.describe()}
