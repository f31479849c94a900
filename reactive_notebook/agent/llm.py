"""What the chat needs of a language model, whatever its wire protocol.

A conversation is a list of :data:`Message` (a person's text, the model's answer with its
tool calls, the tools' results); a provider streams one answer to it as
:class:`TextDelta` pieces and ends with :class:`Completed`. Providers (``providers/``)
translate to and from the Anthropic and OpenAI protocols; the chat loop
(:mod:`.chat_turn`) knows only these types.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    input: dict[str, Any]
    #: The arguments as the model wrote them, when they were not a JSON object (the
    #: tool is not called; the model is told).
    invalid_input: str | None = None


@dataclass(frozen=True)
class UserText:
    text: str


@dataclass(frozen=True)
class AssistantMessage:
    text: str
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ToolResult:
    tool_call_id: str
    #: The tool's answer as JSON text (what the model reads).
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ToolResults:
    results: tuple[ToolResult, ...]


Message = UserText | AssistantMessage | ToolResults


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens

    def describe(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Completed:
    message: AssistantMessage
    usage: Usage = field(default_factory=Usage)
    #: Why the model stopped, in the provider's words ("end_turn", "tool_use", "stop"...).
    stop_reason: str | None = None


StreamEvent = TextDelta | Completed


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model is told of it."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ModelOptions:
    """How a provider reaches its model. None for the key or the URL: the SDK's own
    environment variables (``ANTHROPIC_API_KEY``, ``OPENAI_BASE_URL``...)."""

    model: str
    api_key: str | None
    base_url: str | None
    max_tokens: int
    timeout: float
    max_retries: int


class ProviderError(Exception):
    """The model's server refused or failed (``status`` is its HTTP status, None when
    no answer came: a cut stream, a timeout, no connection). The message is for a person
    and never holds the key."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Provider(Protocol):
    """One language model behind one protocol."""

    #: "anthropic" or "openai": what the audit log and the actor name.
    name: str
    model: str

    def stream(
        self, *, system: str, messages: list[Message], tools: list[ToolSpec]
    ) -> AsyncIterator[StreamEvent]:
        """The model's answer to ``messages``: text as it comes, then one
        :class:`Completed`. Raises :class:`ProviderError`. Cancelling the iteration
        closes the upstream request."""
        ...
