"""A listing that hangs, with the server's kernel manager: its interrupt is the session's
own, so it is not told to the listeners as an interrupt of a run (that would cancel the
runs queued meanwhile); an interrupt from anyone else still is."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reactive_notebook.kernels.session import KernelSession, QueryFailed, RunStep

HANGS = (
    "class Hangs:\n    def __repr__(self):\n        import time\n"
    "        time.sleep(60)\n        return 'never'\nhangs = Hangs()"
)


async def test_the_interrupt_of_a_hung_listing_is_not_an_interrupt_of_a_run(
    jp_serverapp: Any,
) -> None:
    manager = jp_serverapp.kernel_manager
    kernel = KernelSession(manager)
    states: list[str] = []
    kernel.on_state_change(states.append)
    try:
        await kernel.start()
        result = await kernel.run([RunStep("c", HANGS)], lambda event: None)
        assert result.statuses == {"c": "success"}
        with pytest.raises(QueryFailed, match="interrupted"):
            await kernel.list_variables(timeout=1.0)
        await asyncio.sleep(0.5)  # the server's event comes as a task of its own
        assert states == []

        # Anyone else's interrupt (the Kernel menu's) is still heard.
        await manager.interrupt_kernel(kernel.kernel_id)
        for _ in range(50):
            if states:
                break
            await asyncio.sleep(0.05)
        assert states == ["interrupted"]
        result = await kernel.run([RunStep("c", "del hangs")], lambda event: None)
        assert result.statuses == {"c": "success"}
    finally:
        await kernel.shutdown()
