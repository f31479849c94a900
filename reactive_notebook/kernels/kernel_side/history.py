"""A run's inputs written to IPython's history in one go, executed INSIDE the kernel.

Sent as source text with the runner (``kernel_side/runner.py``), into the same private
namespace: only ``history_batching`` is defined at module level, deleted after use.
"""

from typing import Any


def history_batching(shell: Any) -> Any:
    """(hold, write): ``hold()`` before a run, ``write(hold's result)`` after it."""
    import contextlib

    def hold() -> Any:
        """Keep the run's inputs in the history manager's cache until the run ends: its
        saving thread then writes them in one transaction, not one per cell (a wake-up
        and an SQLite commit per cell cost more than a fast cell). Returns the
        configured ``db_cache_size`` to restore, or None."""
        history = shell.history_manager
        if history is None or not getattr(history, "using_thread", False):
            return None
        size = history.db_cache_size
        history.db_cache_size = 1 << 30
        return size

    def write(size: Any) -> None:
        """Restore ``db_cache_size`` and hand the held inputs to the saving thread, as
        ``store_inputs`` would have."""
        if size is None:
            return
        history = shell.history_manager
        history.db_cache_size = size
        if len(history.db_input_cache) >= size:
            with contextlib.suppress(Exception):
                history._restart_thread_if_stopped()
            if history.save_flag is not None:
                history.save_flag.set()

    return hold, write
