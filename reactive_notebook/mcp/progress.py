"""MCP progress notifications while a run is waited for.

A long run does not time the agent out: ``run_cell`` answers a run handle after its
timeout, and while it waits, each cell of the notebook that finishes (succeeded,
failed, or was blocked by a failed ancestor) is reported to the client, which keeps its
connection alive and shows how far the run got.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from ..notebooks.events import Event, EventHub, Subscription

#: Statuses a cell ends a run in.
FINISHED = frozenset({"success", "error", "blocked"})

Report = Callable[[float, str], Awaitable[None]]


@contextlib.asynccontextmanager
async def cells_finishing(hub: EventHub, notebook_id: str, report: Report) -> AsyncIterator[None]:
    """Inside the block, ``report(count, message)`` for each cell of ``notebook_id``
    that finishes; on leaving it, the cells that finished before are all reported (so
    they reach the client before the tool's answer). The caller must own the notebook:
    its events are theirs to see."""
    subscription = hub.listen(notebook_id)  # now: nothing slips in before the pump runs
    stopping = asyncio.Event()
    pump = asyncio.create_task(_pump(subscription, report, stopping))
    try:
        yield
    finally:
        stopping.set()
        try:
            await asyncio.wait_for(pump, timeout=STOP_TIMEOUT)  # cancelled with us
        except TimeoutError:
            pass  # the client does not read: the answer goes without the last reports
        finally:
            subscription.close()


#: Seconds the last reports may take once the tool has its answer.
STOP_TIMEOUT = 5.0


async def _pump(subscription: Subscription, report: Report, stopping: asyncio.Event) -> None:
    finished = 0

    async def emit(event: Event | None) -> None:
        nonlocal finished
        if event is None:  # fell behind: go on from the next event
            subscription.resume()
            return
        status = event.data.get("status")
        if event.type == "cell_status" and status in FINISHED:
            finished += 1
            await report(finished, f"cell {event.data.get('cell_id')}: {status}")

    try:
        while not stopping.is_set():
            getter = asyncio.ensure_future(subscription.get())
            waiter = asyncio.ensure_future(stopping.wait())
            try:
                await asyncio.wait({getter, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                got = getter.done()
                if not got:
                    getter.cancel()  # what it waited for stays queued, for the drain below
            if got:
                await emit(getter.result())
        for event in subscription.pending():
            await emit(event)
    except Exception:  # the client went away: the run goes on, unreported
        return
