"""Hearing of a kernel's restarts, deaths and shutdowns made behind a session's back.

JupyterLab's Kernel menu, the kernels or sessions API, the culler and the kernel
manager's automatic restart after a death all change the process serving a notebook's
session without asking it. :class:`RestartWatch` (mixed into
:class:`.session.KernelSession`) hears of them through the server's ``kernel_actions``
events (see :mod:`.kernel_events`) and, for any manager, the restarter's callbacks, and
tells :meth:`~RestartWatch.on_state_change` listeners.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from .kernel_events import KernelActionWatch

log = logging.getLogger(__name__)

#: Told the kernel's state when it changes behind a run's back: "restarting" (a new
#: process serves the session: nothing defined survives), "idle" (it is up again),
#: "dead" (shut down or gone for good: the next run starts a new one).
StateListener = Callable[[str], None]


class RestartWatch:
    """The restart and shutdown bookkeeping of a kernel session.

    ``kernel_id``, ``generation``, ``_installed`` and ``_running`` belong to the session;
    this part sets ``_installed`` False and bumps ``generation`` when a new process
    serves the session.
    """

    kernel_id: str | None
    #: bumped whenever a new kernel process serves this session
    generation: int
    #: the kernel-side runner is installed in the current process
    _installed: bool
    #: a run is in flight (it reports the kernel's end state itself)
    _running: bool

    def __init__(self) -> None:
        self._restarted = asyncio.Event()
        self._listeners: list[StateListener] = []
        self._watch: KernelActionWatch | None = None
        self._callbacks: list[tuple[Callable[[], None], str]] = []
        #: A new process is known to serve the session and nothing ran in it yet (the
        #: runner is not installed): a second report of the same restart changes nothing.
        self._fresh = False
        #: The kernel was shut down (or gave up restarting) behind our back.
        self._gone = False
        self._announced = False  # "restarting" said, "idle" not yet
        #: Interrupts this session made to stop a query of its own, whose event is still
        #: to come: not an interrupt of anyone's run, so not told to the listeners.
        self._own_interrupts = 0
        #: Interrupts of the kernel asked by anyone but a query of ours (a run that was
        #: waiting for a query to end when one came must not start after it).
        self.interrupts = 0

    def on_state_change(self, listener: StateListener) -> None:
        """Call ``listener(state)`` when the kernel is restarted or shut down by anyone
        other than this session (JupyterLab, the kernels or sessions API, the culler,
        the automatic restart after a death), and ``listener("interrupted")`` after any
        interrupt through the server's kernel manager (the Kernel menu's, or ours)."""
        self._listeners.append(listener)

    def _watch_kernel(self, kernel: Any, kernel_id: str) -> None:
        """Hear of the kernel's restarts and shutdowns, whoever makes them: the server's
        ``kernel_actions`` events (see :mod:`.kernel_events`) and, for any manager, the
        restarter's callbacks (a new process after a death; ``dead``: it gave up)."""

        def restarted() -> None:
            if self.kernel_id == kernel_id:
                self._on_restart(done=False)

        def died() -> None:
            if self.kernel_id == kernel_id:
                self._on_gone()

        self._callbacks = [(restarted, "restart"), (died, "dead")]
        for callback, event in self._callbacks:
            kernel.add_restart_callback(callback, event)
        self._watch = KernelActionWatch.of_kernel(kernel, kernel_id, self._on_action)

    def _stop_watching(self, kernel: Any) -> None:
        """Stop listening (``kernel``: the kernel manager's kernel, None if gone)."""
        self._own_interrupts = 0
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        callbacks, self._callbacks = self._callbacks, []
        for callback, event in callbacks if kernel is not None else ():
            with contextlib.suppress(ValueError):
                kernel.remove_restart_callback(callback, event)

    def _on_action(self, action: str) -> None:
        if action == "restart":
            self._on_restart(done=True)
        elif action == "shutdown":
            self._on_gone()
        elif action == "interrupt" and self._own_interrupts:
            self._own_interrupts -= 1  # a query of ours that hung: nobody's run
        elif action == "interrupt":
            self.interrupts += 1
            # Not a kernel state: listeners stop what is queued (the kernel-side runner
            # already ends the running cell and cancels the rest of its plan).
            self._notify("interrupted")

    def _interrupting_own_query(self) -> None:
        """The next interrupt event is ours, for a query (heard only through a server's
        kernel manager: with none, nothing is expected)."""
        if self._watch is not None:
            self._own_interrupts += 1

    def _on_restart(self, *, done: bool) -> None:
        """A new process is about to serve the session (the restarter's callback, fired
        before it restarts a dead kernel) or does (``done``: the server's event after
        any restart): nothing defined survives. Said once per restart; "idle" follows
        once the server says the restart is done, unless a run reports its own end."""
        self._restarted.set()
        if self._gone:
            return
        if not self._fresh:  # else already known (or ours): nothing ran in it since
            self._fresh, self._installed = True, False
            self.generation += 1
            self._announced = True
            self._notify("restarting")
        if done and self._announced and not self._running:
            self._announced = False
            self._notify("idle")

    def _on_gone(self) -> None:
        """Shut down from outside, or the restarter gave up: the next run starts anew."""
        if self._gone:
            return
        self._gone, self._installed = True, False
        self._restarted.set()
        self._notify("dead")

    def _notify(self, state: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:
                log.exception("a kernel state listener failed on %r", state)
