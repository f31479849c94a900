"""Per-user quotas (issue 18): notebooks, running kernels, concurrent runs.

The service consults :class:`Quotas` where each limit is reached: creating a notebook,
reserving a kernel for a notebook about to run, starting a run. A user is the owner the
service knows (``""``, the shared owner, when ``per_user_notebooks`` is off: the limits
then hold for the whole server). The chat's messages per minute are limited by
``agent.rate_limit`` (``ReactiveNotebook.chat_messages_per_minute``).

A refusal is :class:`QuotaExceeded` (429) naming the limit and its trait, with
``retry_after`` (the handlers send it as ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import NotebookError
from .reclaim import IN_USE_GRACE_SECONDS, RETRY_KERNELS, Reclaimer

log = logging.getLogger(__name__)

#: Seconds a refused client is told to wait. Nothing frees a notebook slot but a
#: delete, so its figure is only a polite pace; a kernel frees once one of the user's
#: notebooks has gone unused (no tab, no run) past the reclaimer's grace
#: (``reclaim.RETRY_KERNELS``, shared with the server-wide ``max_kernels``); a run slot
#: frees when a run ends, often within seconds.
RETRY_NOTEBOOKS = 60
RETRY_RUNS = 2


@dataclass(frozen=True)
class QuotaPolicy:
    """``ReactiveNotebook.quota_notebooks``, ``quota_kernels``, ``quota_concurrent_runs``
    (0: unlimited)."""

    notebooks: int = 0
    kernels: int = 0
    concurrent_runs: int = 0


class QuotaExceeded(NotebookError):
    status = 429

    def __init__(self, message: str, *, limit: int, trait: str, retry_after: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.trait = trait
        self.retry_after = retry_after

    def details(self) -> dict[str, Any]:
        return {"limit": self.limit, "quota": self.trait, "retry_after": self.retry_after}


class UserNotebook(Protocol):
    """What the quotas read of an open notebook (``OpenNotebook``)."""

    @property
    def id(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def running(self) -> bool: ...


class Quotas:
    """Counts a user's notebooks, kernels and runs against the policy."""

    def __init__(
        self,
        policy: QuotaPolicy,
        reclaimer: Reclaimer,
        open_notebooks: Callable[[], Iterable[UserNotebook]],
    ) -> None:
        self.policy = policy
        self.reclaimer = reclaimer
        self._open_notebooks = open_notebooks
        #: Per user, held from a kernel quota's check to the slot's reservation. Both
        #: may await reclaims (closing notebooks), and a second run checked meanwhile
        #: would not count the first's kernel yet: one user would get two slots on a
        #: quota of one. Per user, so closing one user's unused notebook (seconds: it
        #: saves and shuts a kernel down) never holds up another user's first run.
        self._reserving: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        #: The server's ``max_kernels`` is one count for everyone: its check and
        #: reservation are one step for the server (taken inside a user's lock).
        self._reserving_server = asyncio.Lock()
        #: Per user, held from the notebook quota's count to the creation (same reason).
        self._creating: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def creating(self, user: str) -> asyncio.Lock:
        """Hold it from :meth:`check_new_notebook`'s count to the notebook's creation,
        so that concurrent creations of one user count each other."""
        return _lock_of(self._creating, user)

    def check_new_notebook(self, user: str, owned: int) -> None:
        """Before creating a notebook for ``user``, who has ``owned`` already."""
        limit = self.policy.notebooks
        if 0 < limit <= owned:
            raise QuotaExceeded(
                f"notebook limit reached: you have {owned} notebooks and may have {limit} "
                "(ReactiveNotebook.quota_notebooks): delete one to create another",
                limit=limit,
                trait="ReactiveNotebook.quota_notebooks",
                retry_after=RETRY_NOTEBOOKS,
            )

    async def reserve_kernel(self, notebook_id: str) -> None:
        """A kernel slot for a notebook about to start its kernel: within its owner's
        ``kernels`` quota (closing the owner's unused notebooks first, least recently
        used first), then within the server's ``max_kernels`` (the reclaimer's).

        Check and reservation are one step for the owner (and the server's part for the
        server): one user's concurrent runs that need a kernel are served one after the
        other, each seeing the slots taken before; other users' are not held up by them
        but at the server's count."""
        owner = self._owner(notebook_id)
        async with _lock_of(self._reserving, owner):
            await self._reserve_kernel(notebook_id, owner)

    async def _reserve_kernel(self, notebook_id: str, owner: str) -> None:
        limit = self.policy.kernels
        if limit > 0 and not self.reclaimer.holds(notebook_id):
            while len(self._kernel_holders(owner)) >= limit:
                mine = self._kernel_holders(owner)
                unused = self.reclaimer.unused(IN_USE_GRACE_SECONDS)
                victim = next((n.id for n in unused if n.id in mine), None)
                if victim is None:
                    raise QuotaExceeded(
                        f"kernel limit reached: {limit} of your notebooks run a kernel "
                        "(ReactiveNotebook.quota_kernels) and every one is in use: close "
                        "one (or leave it unused for a moment) and run again",
                        limit=limit,
                        trait="ReactiveNotebook.quota_kernels",
                        retry_after=RETRY_KERNELS,
                    )
                log.info("closing unused notebook %s: its owner's kernel quota", victim)
                await self.reclaimer.reclaim(victim)
        async with self._reserving_server:
            await self.reclaimer.reserve(notebook_id)

    def check_run(self, notebook: UserNotebook) -> None:
        """Before a run of ``notebook`` starts (a run requested while one goes on joins
        it, and counts as none)."""
        limit = self.policy.concurrent_runs
        if limit <= 0 or notebook.running:
            return
        runs = sum(1 for n in self._open_notebooks() if n.owner == notebook.owner and n.running)
        if runs >= limit:
            raise QuotaExceeded(
                f"run limit reached: {runs} of your notebooks are running "
                f"(ReactiveNotebook.quota_concurrent_runs is {limit}): wait for one to "
                "finish, or interrupt it, and run again",
                limit=limit,
                trait="ReactiveNotebook.quota_concurrent_runs",
                retry_after=RETRY_RUNS,
            )

    def _owner(self, notebook_id: str) -> str:
        return next((n.owner for n in self._open_notebooks() if n.id == notebook_id), "")

    def _kernel_holders(self, owner: str) -> set[str]:
        return {
            n.id for n in self._open_notebooks() if n.owner == owner and self.reclaimer.holds(n.id)
        }


def _lock_of(locks: weakref.WeakValueDictionary[str, asyncio.Lock], user: str) -> asyncio.Lock:
    """``user``'s lock in ``locks``, made on first use (and forgotten once unused)."""
    lock = locks.get(user)
    if lock is None:
        lock = locks[user] = asyncio.Lock()
    return lock
