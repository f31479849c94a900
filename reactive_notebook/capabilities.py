"""What this server offers beyond the notebook API, as ``GET .../capabilities`` tells
clients (the JupyterLab extension shows a notice for what is missing).

One place decides each answer: the app builds a ``Capabilities`` at startup and hands it
to the handlers through ``ApiContext``. Only the chat is described so far; it is
unavailable until an LLM provider is configured (``ReactiveNotebook.llm_*``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .agent.llm import Provider
from .agent.llm_config import LlmSettings, NotConfigured, build_provider


@dataclass(frozen=True)
class Capability:
    """One feature: whether it can be used, and a sentence for a person if not."""

    available: bool
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"available": self.available, "message": self.message, **self.details}


def chat_capability(model: Provider | NotConfigured | None = None) -> Capability:
    """Whether the notebook chat can answer: with which model, or what to set."""
    if model is None:
        model = build_provider(LlmSettings(), {})
    if isinstance(model, NotConfigured):
        return Capability(False, model.message, {"provider": None, "model": None})
    return Capability(True, "", {"provider": model.name, "model": model.model})


@dataclass(frozen=True)
class Capabilities:
    """Everything ``GET /reactive/api/v1/capabilities`` answers."""

    chat: Capability = field(default_factory=chat_capability)

    def describe(self) -> dict[str, Any]:
        return {"chat": self.chat.describe()}
