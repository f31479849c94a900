"""Kernels are reclaimed (issue 12 item 10): 30 notebooks run once held 34 kernels (~2 GB)
until each notebook was deleted or the server stopped.

Real kernels through a real kernel manager; "in use" is what the server sees: a WebSocket
subscriber (the hub's subscription, which the socket handler holds), a run, a request.
"""

from __future__ import annotations

import asyncio

import pytest

from reactive_notebook.notebooks.reclaim import ReclaimPolicy, TooManyKernels

from .harness import USER, Harness, scenario


async def running_kernels(h: Harness) -> int:
    return len(h.manager.list_kernel_ids())


async def new_notebook(h: Harness, *codes: str) -> tuple[str, list[str]]:
    cells = await h.new(*codes)
    return h.notebook_id, cells


@scenario(reclaim=ReclaimPolicy(idle_timeout=0.6, max_kernels=0))
async def test_a_notebook_nobody_uses_closes_and_reopens_with_what_a_run_needs(
    h: Harness,
) -> None:
    notebook_id, (a, b) = await new_notebook(h, "a = 20", "print(a + 1)")
    await h.run(a)
    assert await h.text(b) == "21"
    assert await running_kernels(h) == 1

    for _ in range(100):  # the sweep runs every idle_timeout / 4
        await asyncio.sleep(0.1)
        if await running_kernels(h) == 0:
            break
    assert await running_kernels(h) == 0
    assert notebook_id not in h.service._open  # closed, not just its kernel

    # Opened again: the saved outputs are there, and running the leaf runs its ancestor
    # first (the new kernel has nothing defined).
    assert await h.text(b) == "21"
    await h.run(b)
    assert await h.text(b) == "21"
    assert (await h.cell(a))["status"] == "success"
    assert await running_kernels(h) == 1


@scenario(reclaim=ReclaimPolicy(idle_timeout=0.3, max_kernels=0))
async def test_a_notebook_with_a_client_or_a_run_stays_open(h: Harness) -> None:
    watched, (w,) = await new_notebook(h, "w = 1")
    await h.run(w)
    subscription = h.service.hub.listen(watched)  # what a connected WebSocket holds
    running, (r,) = await new_notebook(h, "import time\ntime.sleep(2)\nr = 1")
    run = asyncio.ensure_future(h.service.run_cell(USER, running, r, wait=True))
    await asyncio.sleep(1.5)
    assert set(h.service._open) >= {watched, running}
    assert await running_kernels(h) == 2
    await run
    subscription.close()
    for _ in range(100):
        await asyncio.sleep(0.1)
        if not h.service._open and await running_kernels(h) == 0:
            break
    assert not h.service._open
    assert await running_kernels(h) == 0


@scenario(reclaim=ReclaimPolicy(idle_timeout=0, max_kernels=2))
async def test_beyond_the_cap_an_unused_notebooks_kernel_is_taken_else_429(h: Harness) -> None:
    first, (one,) = await new_notebook(h, "v = 1")
    await h.run(one)
    second, (two,) = await new_notebook(h, "v = 2")
    await h.run(two)
    assert await running_kernels(h) == 2
    await asyncio.sleep(2.1)  # past the grace during which a request may still use them

    # Nobody uses the first two: the least recently used gives up its kernel.
    third, (three,) = await new_notebook(h, "v = 3\nprint(v)")
    await h.run(three)
    assert await h.text(three) == "3"
    assert await running_kernels(h) == 2
    assert first not in h.service._open
    assert second in h.service._open

    # Both kernels in use (a client on each): the next notebook is refused, clearly.
    subscriptions = [h.service.hub.listen(second), h.service.hub.listen(third)]
    fourth, (four,) = await new_notebook(h, "v = 4")
    with pytest.raises(TooManyKernels) as refused:
        await h.service.run_cell(USER, fourth, four)
    assert refused.value.status == 429
    assert "ReactiveNotebook.max_kernels" in refused.value.message
    assert await running_kernels(h) == 2
    for subscription in subscriptions:
        subscription.close()

    # The first notebook, evicted earlier, opens again with its outputs and runs.
    h.notebook_id = first
    assert await h.text(one) == ""  # `v = 1` shows nothing; its status was saved
    await asyncio.sleep(2.1)
    await h.run(one)
    assert (await h.cell(one))["status"] == "success"
    assert await running_kernels(h) == 2
