"""Any OpenAI-compatible chat-completions endpoint through the official ``openai`` SDK:
OpenAI itself, or with ``base_url`` a local Ollama, vLLM or llama.cpp server, a LiteLLM
proxy."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai

from ..llm import (
    AssistantMessage,
    Completed,
    Message,
    ModelOptions,
    ProviderError,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolResults,
    ToolSpec,
    Usage,
    UserText,
)

#: The key sent to a server of one's own that asks for none (the SDK insists on one).
NO_KEY = "no-key-needed"


class OpenAIProvider:
    name = "openai"

    def __init__(self, options: ModelOptions) -> None:
        self.model = options.model
        self.max_tokens = options.max_tokens
        # OpenAI's own API takes max_completion_tokens (its reasoning models refuse
        # max_tokens); compatible servers (Ollama, vLLM, llama.cpp) know max_tokens.
        self.token_limit = "max_tokens" if options.base_url else "max_completion_tokens"
        self.client = openai.AsyncOpenAI(
            api_key=options.api_key,
            base_url=options.base_url,
            timeout=options.timeout,
            max_retries=options.max_retries,
        )

    async def stream(
        self, *, system: str, messages: list[Message], tools: list[ToolSpec]
    ) -> AsyncIterator[StreamEvent]:
        wire = [{"role": "system", "content": system}]
        for message in messages:
            wire.extend(wire_messages(message))
        options: dict[str, Any] = {self.token_limit: self.max_tokens}
        if tools:
            options["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.input_schema,
                    },
                }
                for t in tools
            ]
        text: list[str] = []
        calls: dict[int, _PartialCall] = {}
        usage = Usage()
        finish: str | None = None
        try:
            # Any: the SDK's overloads cannot see through the options built above.
            create: Any = self.client.chat.completions.create
            stream = await create(
                model=self.model,
                messages=wire,
                stream=True,
                stream_options={"include_usage": True},
                **options,
            )
            async with stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices:
                        delta = choice.delta
                        if delta.content:
                            text.append(delta.content)
                            yield TextDelta(delta.content)
                        for part in delta.tool_calls or ():
                            call = calls.setdefault(part.index, _PartialCall())
                            call.take(part)
                        if choice.finish_reason:
                            finish = choice.finish_reason
        except openai.APIStatusError as error:
            raise ProviderError(
                f"the model's server answered {error.status_code}: {error.message}",
                error.status_code,
            ) from error
        except openai.APIConnectionError as error:
            raise ProviderError(f"the model's server could not be reached: {error}") from error
        if finish is None:
            raise ProviderError("the model's answer was cut off before its end")
        yield Completed(
            AssistantMessage(
                text="".join(text), tool_calls=tuple(calls[i].call() for i in sorted(calls))
            ),
            usage,
            finish,
        )


@dataclass
class _PartialCall:
    """A tool call as its deltas arrive: id and name once, the arguments in pieces."""

    id: str = ""
    name: str = ""
    arguments: str = ""

    def take(self, part: Any) -> None:
        self.id = part.id or self.id
        if part.function is not None:
            self.name = part.function.name or self.name
            self.arguments += part.function.arguments or ""

    def call(self) -> ToolCall:
        try:
            value = json.loads(self.arguments or "{}")
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            return ToolCall(self.id, self.name, {}, invalid_input=self.arguments)
        return ToolCall(self.id, self.name, value)


def wire_messages(message: Message) -> list[dict[str, Any]]:
    """One message as chat completions take it (tool results are one message each)."""
    if isinstance(message, UserText):
        return [{"role": "user", "content": message.text}]
    if isinstance(message, ToolResults):
        return [
            {"role": "tool", "tool_call_id": result.tool_call_id, "content": result.content}
            for result in message.results
        ]
    wire: dict[str, Any] = {"role": "assistant", "content": message.text or None}
    if message.tool_calls:
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.input)},
            }
            for call in message.tool_calls
        ]
    return [wire]
