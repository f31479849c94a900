"""Fixtures of the agent's tests: a fake LLM provider (``fake_llm.py``) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake_llm import FakeLLM


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A fake Anthropic / OpenAI endpoint on 127.0.0.1, its own for the test: script it
    with ``fake_llm.add(Reply(...))``, point an SDK at ``fake_llm.anthropic_base_url`` or
    ``fake_llm.openai_base_url``, read what it was sent in ``fake_llm.requests``."""
    with FakeLLM() as fake:
        yield fake
