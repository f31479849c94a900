"""A run that names the code it expects waits for that code to reach the live document.

A JupyterLab tab sends its keystrokes over the collaboration room's WebSocket and its
run (Shift+Enter) over HTTP: the run can arrive before the last keystrokes. So the run
request may carry ``code``, the cell's source as the client's editor shows it; the run
then waits until the cell in the live document holds exactly that (a cell the tab has
just added is waited for too), bounded by ``ReactiveNotebook.run_code_timeout``. Waiting
costs nothing while nothing changes: the waiter wakes on others' changes to the document
(the notebook's ``observe_deep`` callback), never on a timer.

Once every expected code is in the document, the caller catches the model up with it
(under the notebook's lock) and runs. If the code never arrives, nothing runs and the
client gets :class:`CodeNotArrived` (409), which says so in words a person understands.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .document_sync import catch_up
from .errors import CodeNotArrived

if TYPE_CHECKING:
    from .open_notebook import OpenNotebook
    from .service import NotebookService


def _arrived(opened: OpenNotebook, codes: Mapping[str, str]) -> bool:
    """Whether every cell of ``codes`` is in the document with exactly that source."""
    live = opened.live
    for cell_id, code in codes.items():
        if cell_id not in live or live.source(cell_id) != code:
            return False
    return True


async def wait_for_codes(
    opened: OpenNotebook, codes: Mapping[str, str], timeout: float, *, field: str = "code"
) -> None:
    """Return once the live document holds every cell of ``codes`` (cell id -> source)
    with that source; CodeNotArrived after ``timeout`` seconds (``field``: the request's
    field named in the error)."""
    if not codes:
        return
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        # Registered before looking, so a change made while we look wakes the wait.
        changed = opened.next_document_change()
        try:
            if _arrived(opened, codes):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CodeNotArrived(timeout, field=field)
            try:
                await asyncio.wait_for(asyncio.shield(changed), remaining)
            except TimeoutError:
                if _arrived(opened, codes):
                    return
                raise CodeNotArrived(timeout, field=field) from None
        finally:
            opened.forget_document_change(changed)


__all__ = ["wait_for_codes"]


async def codes_arrived(
    service: NotebookService, opened: OpenNotebook, codes: Mapping[str, str], field: str
) -> None:
    """Wait until the live document holds ``codes``, then bring the model up to date
    with it (CodeNotArrived, and nothing runs, when the bound passes first)."""
    await wait_for_codes(opened, codes, service.run_code_timeout, field=field)
    async with opened.lock:
        await catch_up(service, opened)
