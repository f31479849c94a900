"""Per-user quotas (issue 18): notebooks, running kernels (the user's unused ones are
closed first), concurrent runs. Each refusal is 429, names its limit and trait, and
says when to retry. Real kernels through a real kernel manager."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from reactive_notebook.notebooks.quotas import QuotaExceeded, QuotaPolicy, Quotas
from reactive_notebook.notebooks.reclaim import Reclaimer, ReclaimPolicy

from .harness import USER, Harness, scenario


async def running_kernels(h: Harness) -> int:
    return len(h.manager.list_kernel_ids())


async def new_notebook(h: Harness, *codes: str) -> tuple[str, list[str]]:
    cells = await h.new(*codes)
    return h.notebook_id, cells


def assert_refusal(refused: QuotaExceeded, trait: str, limit: int) -> None:
    assert refused.status == 429
    assert f"ReactiveNotebook.{trait}" in refused.message
    assert "limit reached" in refused.message
    details = refused.details()
    assert details["limit"] == limit
    assert details["quota"] == f"ReactiveNotebook.{trait}"
    assert details["retry_after"] >= 1


@scenario(quotas=QuotaPolicy(notebooks=2))
async def test_beyond_the_notebook_quota_creation_is_refused_until_one_is_deleted(
    h: Harness,
) -> None:
    first = await h.service.create_notebook(USER, "one")
    await h.service.create_notebook(USER, "two")
    with pytest.raises(QuotaExceeded) as refused:
        await h.service.create_notebook(USER, "three")
    assert_refusal(refused.value, "quota_notebooks", 2)
    assert "you have 2 notebooks" in refused.value.message
    assert sorted(n["name"] for n in await h.service.list_notebooks(USER)) == ["one", "two"]

    await h.service.delete_notebook(USER, first.id)
    await h.service.create_notebook(USER, "three")
    assert sorted(n["name"] for n in await h.service.list_notebooks(USER)) == ["three", "two"]


@scenario(quotas=QuotaPolicy(kernels=1), reclaim=ReclaimPolicy(idle_timeout=0, max_kernels=0))
async def test_the_users_unused_kernel_is_shut_down_first_else_429(h: Harness) -> None:
    first, (one,) = await new_notebook(h, "v = 1")
    await h.run(one)
    assert await running_kernels(h) == 1
    await asyncio.sleep(2.1)  # past the grace during which a request may still use it

    # Nobody uses the first notebook: it gives up its kernel for the second.
    second, (two,) = await new_notebook(h, "v = 2\nprint(v)")
    await h.run(two)
    assert await h.text(two) == "2"
    assert await running_kernels(h) == 1
    assert first not in h.service._open
    assert second in h.service._open

    # The second is in use (a client is connected): the third is refused, clearly.
    subscription = h.service.hub.listen(second)
    third, (three,) = await new_notebook(h, "v = 3")
    with pytest.raises(QuotaExceeded) as refused:
        await h.service.run_cell(USER, third, three)
    assert_refusal(refused.value, "quota_kernels", 1)
    assert await running_kernels(h) == 1
    assert (await h.cell(three))["status"] == "idle"  # nothing ran
    subscription.close()

    # Once it is unused, the third takes its kernel.
    await asyncio.sleep(2.1)
    await h.run(three)
    assert (await h.cell(three))["status"] == "success"
    assert await running_kernels(h) == 1


@scenario(quotas=QuotaPolicy(concurrent_runs=1))
async def test_beyond_the_concurrent_run_quota_a_run_is_refused(h: Harness) -> None:
    slow, (sleeper,) = await new_notebook(h, "import time\ntime.sleep(1.5)\ns = 1")
    quick, (q,) = await new_notebook(h, "q = 1")
    running = asyncio.ensure_future(h.service.run_cell(USER, slow, sleeper, wait=True))
    await asyncio.sleep(0.3)
    assert (await h.service.get_notebook(USER, slow)).running

    with pytest.raises(QuotaExceeded) as refused:
        await h.service.run_cell(USER, quick, q)
    assert_refusal(refused.value, "quota_concurrent_runs", 1)
    # A run asked for in the notebook that runs joins its run: not a second run.
    await h.service.run_cell(USER, slow, sleeper, wait=True)
    await running
    h.notebook_id = slow
    assert (await h.cell(sleeper))["status"] == "success"

    # The run over, the other notebook may run.
    await h.service.run_cell(USER, quick, q, wait=True)
    h.notebook_id = quick
    assert (await h.cell(q))["status"] == "success"


@scenario
async def test_without_quotas_nothing_is_counted(h: Harness) -> None:
    for name in ("a", "b", "c"):
        await h.service.create_notebook(USER, name)
    assert len(await h.service.list_notebooks(USER)) == 3


@dataclass
class IdleNotebook:
    """An open notebook as the quotas and the reclaimer see it: no run, long unused."""

    id: str
    owner: str
    running: bool = False
    busy: bool = False
    last_activity: float = 0.0


async def test_closing_one_users_unused_notebook_never_holds_up_another_users_run() -> None:
    """Making room under Alice's kernel quota closes her unused notebook (a save and a
    kernel shutdown: seconds). Bob's run, which needs no room, gets its slot meanwhile.

    The real Quotas and Reclaimer; the close they call waits on an event instead of
    saving and shutting a kernel down, so the test holds it open exactly as long as it
    needs (the service's own close is tested with real kernels above)."""
    notebooks = [
        IdleNotebook("a1", "alice"),
        IdleNotebook("a2", "alice"),
        IdleNotebook("b1", "bob"),
    ]
    closing = asyncio.Event()
    may_close = asyncio.Event()

    async def close(notebook_id: str) -> None:
        closing.set()
        await may_close.wait()

    reclaimer = Reclaimer(
        ReclaimPolicy(idle_timeout=0, max_kernels=0),
        open_notebooks=lambda: list(notebooks),
        clients=lambda notebook_id: 0,
        close=close,
    )
    quotas = Quotas(QuotaPolicy(kernels=1), reclaimer, lambda: notebooks)
    await quotas.reserve_kernel("a1")

    alice = asyncio.ensure_future(quotas.reserve_kernel("a2"))  # must close a1 first
    await asyncio.wait_for(closing.wait(), 5)
    await asyncio.wait_for(quotas.reserve_kernel("b1"), 1)  # Bob is not held up
    assert reclaimer.holds("b1")
    assert not alice.done()
    may_close.set()
    await asyncio.wait_for(alice, 5)
    assert reclaimer.holds("a2")
    assert not reclaimer.holds("a1")
