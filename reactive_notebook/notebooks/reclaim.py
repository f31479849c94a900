"""Kernels are reclaimed: idle notebooks close, and running kernels are capped.

Every notebook that ever ran kept its kernel until the notebook was deleted or the server
stopped (30 notebooks run once held 34 kernels, ~2 GB). Now:

- a notebook nobody uses (no WebSocket client, no run, no request) for ``idle_timeout``
  seconds is closed: saved, its kernel shut down, forgotten. Opening it again loads it
  afresh, and its next run re-runs the ancestors it needs, as after a kernel restart;
- at most ``max_kernels`` notebooks hold a kernel at once. A notebook that needs one
  beyond that first takes the slot of the least recently used notebook nobody uses;
  when every slot is in use, the run is refused with :class:`TooManyKernels` (429,
  ``Retry-After``: :data:`RETRY_KERNELS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from .errors import NotebookError

log = logging.getLogger(__name__)

#: A notebook touched this recently is never taken for another's kernel: a request may
#: still be working on it.
IN_USE_GRACE_SECONDS = 2.0

#: Seconds a client refused a kernel (``TooManyKernels``, or the ``quota_kernels`` quota)
#: is told to wait (``Retry-After``): a slot frees once one of the notebooks holding one
#: has had no tab and no run for ``IN_USE_GRACE_SECONDS``, or when it is closed or
#: deleted, which no server-side timer predicts; a few seconds paces retries without
#: making a client that closed a tab wait long.
RETRY_KERNELS = max(5, int(IN_USE_GRACE_SECONDS) + 1)


@dataclass(frozen=True)
class ReclaimPolicy:
    """``ReactiveNotebook.notebook_idle_timeout`` and ``max_kernels`` (0: no limit)."""

    idle_timeout: float = 3600.0
    max_kernels: int = 20


class TooManyKernels(NotebookError):
    status = 429

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"this server already runs {limit} notebook kernels, its limit "
            "(ReactiveNotebook.max_kernels), and every one of those notebooks is in use: "
            "close one (or wait until one has been unused for a while) and run again"
        )
        self.limit = limit
        self.retry_after = RETRY_KERNELS

    def details(self) -> dict[str, int]:
        return {"limit": self.limit, "retry_after": self.retry_after}


class Reclaimable(Protocol):
    """What the reclaimer needs of an open notebook (``OpenNotebook``)."""

    @property
    def id(self) -> str: ...
    @property
    def busy(self) -> bool: ...
    @property
    def last_activity(self) -> float: ...


class Reclaimer:
    """Decides which open notebooks may keep their kernels; the service closes them."""

    def __init__(
        self,
        policy: ReclaimPolicy,
        *,
        open_notebooks: Callable[[], list[Reclaimable]],
        clients: Callable[[str], int],
        close: Callable[[str], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._open_notebooks = open_notebooks
        self._clients = clients
        self._close = close
        self._clock = clock
        self._holders: set[str] = set()  # notebooks holding a kernel slot
        self._sweeper: asyncio.Task[None] | None = None

    # -- kernel slots ----------------------------------------------------------------

    async def reserve(self, notebook_id: str) -> None:
        """A kernel slot for the notebook (kept until :meth:`release`), or TooManyKernels."""
        limit = self.policy.max_kernels
        if notebook_id in self._holders or limit <= 0:
            self._holders.add(notebook_id)
            return
        while len(self._holders) >= limit:
            unused = self.unused(IN_USE_GRACE_SECONDS)
            victim = next((n.id for n in unused if n.id in self._holders), None)
            if victim is None:
                raise TooManyKernels(limit)
            log.info("closing unused notebook %s: its kernel slot is needed", victim)
            await self.reclaim(victim)
        self._holders.add(notebook_id)

    async def reclaim(self, notebook_id: str) -> None:
        """Close the notebook, freeing its kernel slot."""
        await self._close(notebook_id)
        self._holders.discard(notebook_id)

    def holds(self, notebook_id: str) -> bool:
        """Whether the notebook holds a kernel slot."""
        return notebook_id in self._holders

    def release(self, notebook_id: str) -> None:
        self._holders.discard(notebook_id)

    @property
    def kernels(self) -> int:
        """Notebooks holding a kernel slot."""
        return len(self._holders)

    # -- idle notebooks --------------------------------------------------------------

    def start(self) -> None:
        """Sweep idle notebooks periodically (from now on, in the running loop)."""
        if self.policy.idle_timeout > 0 and self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def sweep(self) -> list[str]:
        """Close every notebook unused for ``idle_timeout`` seconds; their ids."""
        closed = []
        for notebook in self.unused(self.policy.idle_timeout):
            log.info("closing notebook %s: unused for %g s", notebook.id, self.policy.idle_timeout)
            await self._close(notebook.id)
            self._holders.discard(notebook.id)
            closed.append(notebook.id)
        return closed

    async def _sweep_forever(self) -> None:
        interval = min(60.0, max(self.policy.idle_timeout / 4, 0.05))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:  # one failed close must not stop reclaiming the others
                log.exception("closing idle notebooks failed")

    def unused(self, for_seconds: float) -> list[Reclaimable]:
        """Open notebooks with no client and no run, unused for ``for_seconds``, least
        recently used first."""
        now = self._clock()
        unused = [
            notebook
            for notebook in self._open_notebooks()
            if not notebook.busy
            and self._clients(notebook.id) == 0
            and now - notebook.last_activity >= for_seconds
        ]
        return sorted(unused, key=lambda notebook: notebook.last_activity)
