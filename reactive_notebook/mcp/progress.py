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

from ..notebooks.events import EventHub, Subscription

#: Statuses a cell ends a run in.
FINISHED = frozenset({"success", "error", "blocked"})

Report = Callable[[float, str], Awaitable[None]]


@contextlib.asynccontextmanager
async def cells_finishing(hub: EventHub, notebook_id: str, report: Report) -> AsyncIterator[None]:
    """Inside the block, ``report(count, message)`` for each cell of ``notebook_id``
    that finishes. The caller must own the notebook: its events are theirs to see."""
    subscription = hub.listen(notebook_id)  # now: nothing slips in before the pump runs
    pump = asyncio.create_task(_pump(subscription, report))
    try:
        yield
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        subscription.close()


async def _pump(subscription: Subscription, report: Report) -> None:
    finished = 0
    while True:
        event = await subscription.get()
        if event is None:  # fell behind: go on from the next event
            subscription.resume()
            continue
        status = event.data.get("status")
        if event.type != "cell_status" or status not in FINISHED:
            continue
        finished += 1
        try:
            await report(finished, f"cell {event.data.get('cell_id')}: {status}")
        except Exception:  # the client went away: the run goes on, unreported
            return
