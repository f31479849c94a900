"""One :class:`ToolContext` per caller, kept between requests.

A ``run_cell`` still going after its timeout answers a ``run_id`` that ``wait_for_run``
continues. The context holds those runs; with the sessionless 2026-07-28 protocol the
``wait_for_run`` comes in another HTTP request, with no session to find it by, so the
contexts are kept per caller (the Jupyter user and the notebooks they see): a later
request of the same user finds the run, another user's never does.

Bounded: at most ``max_callers`` contexts (the least recently used one goes first), and
a finished run nobody waited for is forgotten ``run_ttl`` seconds after it was first
seen finished.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from ..agent.previews import PreviewLimits
from ..agent.tools import ToolContext
from ..notebooks.service import NotebookService

Key = tuple[str, str]


class ToolContexts:
    def __init__(
        self,
        service: NotebookService,
        *,
        limits: PreviewLimits | None = None,
        environ: Mapping[str, str] | None = None,
        max_callers: int = 1000,
        run_ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.limits = limits or PreviewLimits()
        self.environ = environ
        self.max_callers = max_callers
        self.run_ttl = run_ttl
        self._clock = clock
        self._contexts: OrderedDict[Key, ToolContext] = OrderedDict()
        #: When each finished run was first seen finished.
        self._finished: dict[tuple[Key, str], float] = {}

    def get(self, principal: str, owner: str) -> ToolContext:
        """The context of ``principal`` acting on ``owner``'s notebooks."""
        key = (principal, owner)
        context = self._contexts.get(key)
        if context is None:
            context = ToolContext(self.service, owner, limits=self.limits)
            if self.environ is not None:
                context.environ = self.environ
            self._contexts[key] = context
            self._evict()
        self._contexts.move_to_end(key)
        self._expire_runs(key, context)
        return context

    def __len__(self) -> int:
        return len(self._contexts)

    def _evict(self) -> None:
        while len(self._contexts) > self.max_callers:
            key, _ = self._contexts.popitem(last=False)
            for seen in [s for s in self._finished if s[0] == key]:
                del self._finished[seen]

    def _expire_runs(self, key: Key, context: ToolContext) -> None:
        now = self._clock()
        for run_id, run in list(context.runs.items()):
            if not run.task.done():
                continue
            first_seen = self._finished.setdefault((key, run_id), now)
            if now - first_seen >= self.run_ttl:
                del context.runs[run_id]
                del self._finished[(key, run_id)]
        for seen in [s for s in self._finished if s[0] == key and s[1] not in context.runs]:
            del self._finished[seen]  # reported by wait_for_run meanwhile
