"""The per-caller tool contexts the endpoint keeps between requests are bounded: the
least recently used caller goes first, and a finished run nobody waited for is forgotten
``run_ttl`` seconds after it was first seen finished (a running one is kept)."""

from __future__ import annotations

import asyncio
from typing import Any

from reactive_notebook.agent.tools import _Run
from reactive_notebook.mcp.contexts import ToolContexts


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def contexts(**kwargs: Any) -> tuple[ToolContexts, Clock]:
    clock = Clock()
    # The service is only handed on to the contexts; none of this calls it.
    return ToolContexts(service=None, clock=clock, **kwargs), clock  # type: ignore[arg-type]


def test_a_caller_gets_their_own_context_back_and_others_never_see_it() -> None:
    kept, _ = contexts()
    alice = kept.get("alice", "alice")
    assert kept.get("alice", "alice") is alice
    assert kept.get("bob", "bob") is not alice
    assert kept.get("alice", "") is not alice  # the same person on shared notebooks
    assert alice.user == "alice"


def test_the_least_recently_used_caller_goes_first() -> None:
    kept, _ = contexts(max_callers=2)
    alice, bob = kept.get("alice", "alice"), kept.get("bob", "bob")
    assert kept.get("alice", "alice") is alice  # alice used last
    kept.get("carol", "carol")
    assert len(kept) == 2
    assert kept.get("alice", "alice") is alice
    assert kept.get("bob", "bob") is not bob  # bob's was dropped


async def test_a_finished_run_is_forgotten_after_its_ttl_a_running_one_is_kept() -> None:
    kept, clock = contexts(run_ttl=60)
    context = kept.get("alice", "alice")
    finished = asyncio.create_task(asyncio.sleep(0))
    running = asyncio.create_task(asyncio.sleep(3600))
    await finished
    context.runs["run-1"] = _Run("nb", ["c1"], finished, 0)
    context.runs["run-2"] = _Run("nb", ["c2"], running, 0)
    clock.now = 1000.0
    kept.get("alice", "alice")  # first seen finished now
    assert set(context.runs) == {"run-1", "run-2"}
    clock.now = 1059.0
    kept.get("alice", "alice")
    assert set(context.runs) == {"run-1", "run-2"}
    clock.now = 1060.0
    kept.get("alice", "alice")
    assert set(context.runs) == {"run-2"}
    running.cancel()
