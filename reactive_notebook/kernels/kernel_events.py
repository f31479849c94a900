"""Restarts and shutdowns of one kernel, whoever asked for them.

Inside a server every restart, shutdown and interrupt goes through ``serverapp.kernel_manager``:
JupyterLab's Kernel menu and Running panel, ``POST /api/kernels/{id}/restart``,
``DELETE /api/kernels/{id}``, ``DELETE /api/sessions/{id}``, the idle culler, and the
automatic restart after a death (the ``KernelRestarter`` calls the kernel's
``restart_kernel``). jupyter_server's per-kernel manager (``ServerKernelManager``, 2.x)
emits a ``kernel_actions`` event on the server's event logger for each of them, once the
action has succeeded: so one listener sees them all, and only real ones.

Why not the other signals: ``add_restart_callback(..., "restart")`` fires only for the
automatic restart after a death, never for a requested one; the new process's iopub
``status: starting`` is lost when our client's subscription reconnects too late (ZMQ's
slow joiner), and the ``restarting``/``dead`` statuses a tab sees are made up by the
server's kernel WebSocket handler, not sent by the kernel. A plain ``jupyter_client``
manager (tests, no server) emits nothing: there only the restart callbacks and the
liveness checks of a run apply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: The schema of jupyter_server's kernel manager events (``event_schemas/kernel_actions``).
KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"

#: The actions that end the kernel's process, and ``interrupt`` (the Kernel menu's
#: Interrupt stops a run as our own interrupt does); ``start`` is ours.
WATCHED_ACTIONS = frozenset({"restart", "shutdown", "interrupt"})


class KernelActionWatch:
    """Calls ``callback(action)`` after each successful ``restart``, ``shutdown`` or
    ``interrupt`` of the kernel ``kernel_id`` done through the kernel manager behind
    ``event_logger``."""

    def __init__(self, event_logger: Any, kernel_id: str, callback: Callable[[str], None]) -> None:
        self.event_logger = event_logger
        self.kernel_id = kernel_id
        self.callback = callback
        self._active = False

    @classmethod
    def of_kernel(
        cls, kernel: Any, kernel_id: str, callback: Callable[[str], None]
    ) -> KernelActionWatch | None:
        """A started watch of a server's kernel; None for a kernel manager that emits
        no events (jupyter_client's own)."""
        event_logger = getattr(kernel, "event_logger", None)
        if event_logger is None or not hasattr(event_logger, "add_listener"):
            return None
        watch = cls(event_logger, kernel_id, callback)
        watch.start()
        return watch

    def start(self) -> None:
        if not self._active:
            self.event_logger.add_listener(schema_id=KERNEL_ACTIONS, listener=self._listener)
            self._active = True

    def stop(self) -> None:
        if self._active:
            self._active = False
            self.event_logger.remove_listener(schema_id=KERNEL_ACTIONS, listener=self._listener)

    async def _listener(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        """Runs as a task of its own, soon after the action (``EventLogger.emit``)."""
        if not self._active or data.get("kernel_id") != self.kernel_id:
            return
        action = data.get("action")
        if action in WATCHED_ACTIONS and data.get("status") == "success":
            try:
                self.callback(str(action))
            except Exception:  # a listener's failure is only logged by the event logger
                log.exception("handling %s of kernel %s failed", action, self.kernel_id)
