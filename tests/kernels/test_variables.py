"""Listing the user's variables (``KernelSession.list_variables``, the kernel side in
``kernel_side/variables.py``), against a real ipykernel: a silent query that describes
each value without running the user's expensive code, bounded, and serialised with runs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.multikernelmanager import AsyncMultiKernelManager

from reactive_notebook.kernels.session import (
    CellStatusEvent,
    KernelBusy,
    KernelSession,
    QueryFailed,
    RunEvent,
    RunStep,
)

DEFINITIONS = """
import numpy as np
import pandas as pd
import polars as pl

count = 42
items = [1, 2, 3]
frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
grid = np.zeros((4, 5))
def double(x):
    return 2 * x
class Point:
    pass
class _Private:
    pass
_hidden = 1
class LoudRepr:
    def __repr__(self):
        raise ValueError("no repr for you")
loud = LoudRepr()
class LenFails:
    def __len__(self):
        raise RuntimeError("no len for you")
lenfails = LenFails()
asked = []
class Proxy:
    def __getattr__(self, name):
        asked.append(name)
        raise AttributeError(name)
proxy = Proxy()
class DaskLike:
    def __len__(self):
        asked.append("len")
        return 10 ** 9
DaskLike.__module__ = "dask.dataframe.core"
remote = DaskLike()
collected = []
lazy = pl.LazyFrame({"a": [1, 2]}).map_batches(lambda d: collected.append(1) or d)
text = "y" * 10_000
"""

HANGS = (
    "class Hangs:\n    def __repr__(self):\n        import time\n"
    "        time.sleep(60)\n        return 'never'\nhangs = Hangs()"
)


@pytest.fixture(scope="module")
def session(loop: asyncio.AbstractEventLoop) -> Iterator[KernelSession]:
    kernel = KernelSession(AsyncMultiKernelManager())
    loop.run_until_complete(kernel.start())
    yield kernel
    loop.run_until_complete(kernel.shutdown())


def run(loop: asyncio.AbstractEventLoop, session: KernelSession, code: str) -> list[RunEvent]:
    events: list[RunEvent] = []
    result = loop.run_until_complete(session.run([RunStep("c", code)], events.append))
    assert result.statuses == {"c": "success"}, events
    return events


def listing(loop: asyncio.AbstractEventLoop, session: KernelSession, **kw: Any) -> dict[str, Any]:
    answer = loop.run_until_complete(session.list_variables(**kw))
    assert answer is not None
    return answer


def by_name(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in answer["variables"]}


def test_a_kernel_not_started_lists_nothing_and_starts_none(loop) -> None:  # type: ignore[no-untyped-def]
    manager = AsyncMultiKernelManager()
    kernel = KernelSession(manager)
    assert loop.run_until_complete(kernel.list_variables()) is None
    assert manager.list_kernel_ids() == []


def test_each_kind_of_value_is_described(loop, session) -> None:  # type: ignore[no-untyped-def]
    run(loop, session, DEFINITIONS)
    found = by_name(listing(loop, session))
    assert found["count"] == {"name": "count", "type": "int", "repr": "42"}
    assert found["items"] == {"name": "items", "type": "list", "len": 3, "repr": "[1, 2, 3]"}
    assert found["frame"]["type"] == "pandas.DataFrame"
    assert found["frame"]["shape"] == [3, 2]
    assert found["frame"]["columns"] == 2
    assert "len" not in found["frame"]
    assert found["frame"]["repr"].splitlines()[0].split() == ["a", "b"]
    assert found["grid"]["type"] == "numpy.ndarray"
    assert found["grid"]["shape"] == [4, 5]
    assert found["double"]["type"] == "function"
    assert found["double"]["repr"].startswith("<function double at ")
    assert found["Point"]["type"] == "type"
    assert found["loud"] == {
        "name": "loud",
        "type": "LoudRepr",
        "repr": "<repr failed: ValueError: no repr for you>",
    }
    assert found["lenfails"]["type"] == "LenFails"
    assert "len" not in found["lenfails"]
    assert found["text"]["len"] == 10_000
    assert len(found["text"]["repr"]) <= 120
    assert all(len(entry["repr"]) <= 120 for entry in found.values())


def test_modules_private_names_and_ipythons_own_are_left_out(loop, session) -> None:  # type: ignore[no-untyped-def]
    run(loop, session, "import json\nimport os.path\nvisible = 1")
    names = set(by_name(listing(loop, session)))
    assert "visible" in names
    left_out = {"np", "pd", "pl", "json", "os", "_hidden", "_Private", "In", "Out", "exit"}
    assert not names & (left_out | {"quit", "get_ipython", "install_variable_lister"})


def test_a_name_the_user_rebinds_over_ipythons_is_listed(loop, session) -> None:  # type: ignore[no-untyped-def]
    run(loop, session, "exit = 'mine'")
    assert by_name(listing(loop, session))["exit"]["repr"] == "'mine'"
    run(loop, session, "del exit")


def test_describing_runs_no_lazy_computation(loop, session) -> None:  # type: ignore[no-untyped-def]
    """A LazyFrame is not collected, a lazy library's frame is not asked its length (it
    would run a query), and a proxy's ``__getattr__`` is never asked for a shape."""
    run(loop, session, "collected.clear(); asked.clear()")
    found = by_name(listing(loop, session))
    assert found["lazy"]["type"] == "polars.LazyFrame"
    assert "shape" not in found["lazy"]
    assert "len" not in found["lazy"]
    assert found["proxy"]["type"] == "Proxy"
    assert found["remote"]["type"] == "dask.DaskLike"
    assert "len" not in found["remote"]
    events = run(loop, session, "print(len(collected), asked)")
    shown = [e.output["text"] for e in events if hasattr(e, "output")]
    assert shown == ["0 []\n"]


def test_the_listing_is_bounded_in_count_and_bytes(loop, session) -> None:  # type: ignore[no-untyped-def]
    run(loop, session, "for _i in range(300):\n    globals()[f'v{_i:03d}'] = _i")
    full = listing(loop, session, limit=1000)
    assert full["truncated"] == 0
    total = full["total"]
    assert total >= 300
    assert {f"v{i:03d}" for i in range(300)} <= set(by_name(full))

    limited = listing(loop, session)  # 200 by default
    assert len(limited["variables"]) == 200
    assert limited["truncated"] == total - 200
    assert limited["total"] == total
    names = [entry["name"] for entry in limited["variables"]]
    assert names == sorted(names, key=lambda name: (name.lower(), name))

    small = listing(loop, session, limit=1000, max_bytes=2000)
    assert 0 < len(small["variables"]) < 40
    assert len(json.dumps(small["variables"])) <= 2000
    assert small["truncated"] == total - len(small["variables"])


def test_the_listing_is_silent(loop, session) -> None:  # type: ignore[no-untyped-def]
    """No execution count taken, nothing in the history, no output of its own."""
    before = run(loop, session, "print(len(In))")
    for _ in range(3):
        listing(loop, session)
    after = run(loop, session, "print(len(In))")
    counts = [
        e.execution_count
        for e in before + after
        if isinstance(e, CellStatusEvent) and e.status == "success"
    ]
    assert counts[-1] == counts[0] + 1
    printed = [e.output["text"] for e in before + after if hasattr(e, "output")]
    assert int(printed[1]) == int(printed[0]) + 1


def test_a_listing_waits_for_the_run_in_progress(loop, session) -> None:  # type: ignore[no-untyped-def]
    """The run and the listing read the same kernel's messages: the listing waits its
    turn, and the run loses none of its events."""

    async def both() -> tuple[list[RunEvent], dict[str, Any] | None, float, float]:
        events: list[RunEvent] = []
        step = RunStep("slow", "import time\ntime.sleep(1)\nprint('done')\nafter_sleep = 1")
        started = time.perf_counter()
        running = asyncio.create_task(session.run([step], events.append))
        await asyncio.sleep(0.2)
        listed = await session.list_variables()
        listed_at = time.perf_counter() - started
        await running
        return events, listed, listed_at, time.perf_counter() - started

    events, listed, listed_at, _ = loop.run_until_complete(both())
    assert listed is not None
    assert "after_sleep" in by_name(listed)
    assert listed_at >= 1.0
    assert [e.status for e in events if isinstance(e, CellStatusEvent)] == ["running", "success"]
    assert [e.output["text"] for e in events if hasattr(e, "output")] == ["done\n"]


def test_a_listing_that_cannot_wait_for_a_long_run_says_busy(loop, session) -> None:  # type: ignore[no-untyped-def]
    async def busy() -> None:
        step = RunStep("slow", "import time\ntime.sleep(1.5)")
        running = asyncio.create_task(session.run([step], lambda event: None))
        await asyncio.sleep(0.2)
        with pytest.raises(KernelBusy):
            await session.list_variables(wait=0.3)
        result = await running
        assert result.statuses == {"slow": "success"}

    loop.run_until_complete(busy())


def test_a_repr_that_hangs_is_interrupted_and_the_kernel_goes_on(loop, session) -> None:  # type: ignore[no-untyped-def]
    run(loop, session, HANGS)
    started = time.perf_counter()
    with pytest.raises(QueryFailed, match="interrupted"):
        loop.run_until_complete(session.list_variables(timeout=1.0))
    assert time.perf_counter() - started < 10
    run(loop, session, "del hangs")
    events = run(loop, session, "print('still here')")
    assert [e.output["text"] for e in events if hasattr(e, "output")] == ["still here\n"]
    assert "hangs" not in by_name(listing(loop, session))


def test_secrets_are_masked_before_a_repr_is_cut(loop, session) -> None:  # type: ignore[no-untyped-def]
    """A cut through the password would leave a piece of it that no later scrub knows:
    the kernel masks the secrets it is given first."""
    password = "pw-Sup3rSecret"
    long = f"'x' * 50 + {password!r} + 'y' * 200"
    run(
        loop,
        session,
        f"dsn = {long}\nnested = [{long}]\n"
        f"class Holder:\n    def __repr__(self):\n        return {long}\nholder = Holder()",
    )

    def pieces(text: str) -> list[str]:
        return [
            password[i : i + 4] for i in range(len(password) - 3) if password[i : i + 4] in text
        ]

    unmasked = by_name(listing(loop, session))
    assert pieces(unmasked["dsn"]["repr"])  # the cut alone leaves a piece of it
    masked = by_name(listing(loop, session, secrets=(password,)))
    for name in ("dsn", "nested", "holder"):
        assert "****" in masked[name]["repr"]
        assert pieces(masked[name]["repr"]) == []


def test_an_interrupt_while_a_run_waits_for_a_listing_cancels_the_run(loop, session) -> None:  # type: ignore[no-untyped-def]
    """The interrupt meant for the run lands on the listing the run waits behind: the run
    must not start after it."""
    run(loop, session, HANGS)

    async def interrupted() -> tuple[Any, BaseException | None]:
        listing = asyncio.create_task(session.list_variables(timeout=30.0))
        await asyncio.sleep(0.3)  # the listing holds the kernel, stuck in a repr
        step = RunStep("late", "ran_after_interrupt = True")
        running = asyncio.create_task(session.run([step], lambda event: None))
        await asyncio.sleep(0.2)
        await session.interrupt()
        failed = (await asyncio.gather(listing, return_exceptions=True))[0]
        return await running, failed if isinstance(failed, BaseException) else None

    result, failed = loop.run_until_complete(interrupted())
    assert isinstance(failed, QueryFailed)
    assert result.interrupted
    assert result.statuses == {}
    run(loop, session, "del hangs")
    assert "ran_after_interrupt" not in by_name(listing(loop, session))


def test_a_kernel_restarted_behind_the_sessions_back_lists_a_fresh_namespace(loop) -> None:  # type: ignore[no-untyped-def]
    """The new process has the runner installed by the listing, and nothing of the old."""

    async def scenario() -> None:
        kernel = KernelSession(AsyncMultiKernelManager())
        states: list[str] = []
        kernel.on_state_change(states.append)
        try:
            await kernel.start()
            await kernel.run([RunStep("c", "before_death = 1")], lambda event: None)
            listed = await kernel.list_variables()
            assert listed is not None
            assert [v["name"] for v in listed["variables"]] == ["before_death"]
            process = kernel.manager.get_kernel(kernel.kernel_id).provisioner.process
            os.kill(process.pid, signal.SIGKILL)
            for _ in range(600):  # the restarter polls every 3 s
                if states:
                    break
                await asyncio.sleep(0.05)
            assert states == ["restarting"]
            for _ in range(100):  # the new process is being started
                if await kernel.is_alive():
                    break
                await asyncio.sleep(0.05)
            listed = await kernel.list_variables()
            assert listed is not None
            assert listed["variables"] == []
            result = await kernel.run([RunStep("c", "after = 2")], lambda event: None)
            assert result.statuses == {"c": "success"}
        finally:
            await kernel.shutdown()

    loop.run_until_complete(scenario())
