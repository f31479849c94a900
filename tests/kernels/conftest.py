"""Shared fixtures of the kernel tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop per test module: its kernels live as long as it does."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()
