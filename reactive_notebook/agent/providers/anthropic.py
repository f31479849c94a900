"""Anthropic's Messages API through the official ``anthropic`` SDK (streaming, tool use)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic

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


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, options: ModelOptions) -> None:
        self.model = options.model
        self.max_tokens = options.max_tokens
        self.client = anthropic.AsyncAnthropic(
            api_key=options.api_key,
            base_url=options.base_url,
            timeout=options.timeout,
            max_retries=options.max_retries,
        )

    async def stream(
        self, *, system: str, messages: list[Message], tools: list[ToolSpec]
    ) -> AsyncIterator[StreamEvent]:
        finished = False
        try:
            async with self.client.messages.stream(
                model=self.model,
                max_tokens=self.max_tokens,
                system=system,
                messages=[wire_message(message) for message in messages],  # type: ignore[misc]
                tools=[
                    {"name": t.name, "description": t.description, "input_schema": t.input_schema}
                    for t in tools
                ],
            ) as stream:
                async for event in stream:
                    if event.type == "text":
                        yield TextDelta(event.text)
                    elif event.type == "message_stop":
                        finished = True
                if not finished:
                    raise ProviderError("the model's answer was cut off before its end")
                final = await stream.get_final_message()
        except anthropic.APIStatusError as error:
            raise ProviderError(
                f"Anthropic answered {error.status_code}: {error.message}", error.status_code
            ) from error
        except anthropic.APIConnectionError as error:
            raise ProviderError(f"Anthropic could not be reached: {error}") from error
        text = "".join(block.text for block in final.content if block.type == "text")
        calls = tuple(
            ToolCall(id=block.id, name=block.name, input=_as_object(block.input))
            for block in final.content
            if block.type == "tool_use"
        )
        yield Completed(
            AssistantMessage(text=text, tool_calls=calls),
            Usage(final.usage.input_tokens, final.usage.output_tokens),
            final.stop_reason,
        )


def _as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def wire_message(message: Message) -> dict[str, Any]:
    """One message as the Messages API takes it."""
    if isinstance(message, UserText):
        return {"role": "user", "content": message.text}
    if isinstance(message, ToolResults):
        return {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": result.tool_call_id,
                    "content": result.content,
                    "is_error": result.is_error,
                }
                for result in message.results
            ],
        }
    content: list[dict[str, Any]] = []
    if message.text:
        content.append({"type": "text", "text": message.text})
    content.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}
        for call in message.tool_calls
    )
    if not content:  # the API refuses an empty assistant turn
        content.append({"type": "text", "text": "(no answer)"})
    return {"role": "assistant", "content": content}
