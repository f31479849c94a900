"""From the server's settings to a language model, or a sentence saying what to set.

The key is never in a config file: ``api_key_env`` names the environment variable that
holds it; with none named, the SDK's own variable applies (``ANTHROPIC_API_KEY``,
``OPENAI_API_KEY``), as does its base-URL variable when no ``base_url`` is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .llm import ModelOptions, Provider
from .providers.anthropic import AnthropicProvider
from .providers.openai import NO_KEY, OpenAIProvider

DEFAULT_MODELS = {"anthropic": "claude-sonnet-4-5", "openai": "gpt-4.1"}
KEY_VARIABLES = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
BASE_URL_VARIABLES = {"anthropic": "ANTHROPIC_BASE_URL", "openai": "OPENAI_BASE_URL"}

HOW_TO_CONFIGURE = (
    "To turn it on, start the server with --ReactiveNotebook.llm_provider=anthropic and "
    "the key in ANTHROPIC_API_KEY, or --ReactiveNotebook.llm_provider=openai and the key "
    "in OPENAI_API_KEY (add --ReactiveNotebook.llm_base_url=http://127.0.0.1:11434/v1 for "
    "a local OpenAI-compatible server such as Ollama, vLLM or llama.cpp, which needs no "
    "key). --ReactiveNotebook.llm_model names the model; "
    "--ReactiveNotebook.llm_api_key_env=NAME reads the key from another variable."
)


@dataclass(frozen=True)
class LlmSettings:
    """The ``llm_*`` traits of ``ReactiveNotebook``."""

    provider: str = ""
    model: str = ""
    base_url: str = ""
    api_key_env: str = ""
    max_tokens: int = 4096
    timeout: float = 120.0
    max_retries: int = 2

    def key_variable(self) -> str:
        return self.api_key_env or KEY_VARIABLES.get(self.provider, "")


@dataclass(frozen=True)
class NotConfigured:
    """Why there is no model, and what to set: for ``capabilities`` and the chat's 503."""

    message: str


def build_provider(settings: LlmSettings, environ: Mapping[str, str]) -> Provider | NotConfigured:
    """The configured model, or what is missing. The key is read from ``environ`` once,
    here, and held by the SDK's client only."""
    name = settings.provider
    if not name:
        return NotConfigured(
            f"No LLM provider is configured: the notebook chat is off. {HOW_TO_CONFIGURE}"
        )
    variable = settings.key_variable()
    key = environ.get(variable) or None
    base_url = settings.base_url or environ.get(BASE_URL_VARIABLES[name]) or None
    if key is None:
        if name == "openai" and base_url:
            key = NO_KEY  # a server of one's own (Ollama...) that asks for no key
        else:
            return NotConfigured(
                f"llm_provider is {name!r} but the server has no API key: set {variable} "
                "in the server's environment (or name another variable with "
                "--ReactiveNotebook.llm_api_key_env), then restart it."
            )
    cls = AnthropicProvider if name == "anthropic" else OpenAIProvider
    return cls(
        ModelOptions(
            model=settings.model or DEFAULT_MODELS[name],
            api_key=key,
            base_url=base_url,
            max_tokens=settings.max_tokens,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
        )
    )
