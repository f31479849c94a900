"""``KernelSession.on_state_change`` with jupyter_client's own kernel manager (no server,
so no ``kernel_actions`` events: the restarter's callbacks are what is heard). The server
side, restarts and shutdowns through its API, is in tests/handlers/test_notebook_session.py.
"""

from __future__ import annotations

import asyncio
import os
import signal

from jupyter_client.multikernelmanager import AsyncMultiKernelManager

from reactive_notebook.kernels.session import KernelSession, RunStep

#: The restarter polls every ``time_to_dead`` (3 s) seconds: a death is heard within it.
HEARD_WITHIN = 30.0


async def wait_for(states: list[str], count: int) -> None:
    async def enough() -> None:
        while len(states) < count:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(enough(), HEARD_WITHIN)


async def statuses(kernel: KernelSession, code: str) -> dict[str, str]:
    result = await kernel.run([RunStep("c", code)], lambda event: None)
    return result.statuses


def test_a_kernel_process_that_dies_while_idle_is_announced_and_the_runner_comes_back(
    loop: asyncio.AbstractEventLoop,
) -> None:
    async def scenario() -> None:
        kernel = KernelSession(AsyncMultiKernelManager())
        states: list[str] = []
        kernel.on_state_change(states.append)
        try:
            await kernel.start()
            assert await statuses(kernel, "x = 1") == {"c": "success"}
            generation = kernel.generation

            process = kernel.manager.get_kernel(kernel.kernel_id).provisioner.process
            os.kill(process.pid, signal.SIGKILL)
            # Said by the restarter's callback, before it restarts the kernel; "idle"
            # comes from the server's events only (or the next run).
            await wait_for(states, 1)
            assert states == ["restarting"]
            assert kernel.generation == generation + 1

            # The new process has nothing of the old one; the runner is installed again.
            assert await statuses(kernel, "x") == {"c": "error"}
            assert await statuses(kernel, "y = 2") == {"c": "success"}
            assert states == ["restarting"]

            # A restart the session makes itself is not news for its listeners.
            await kernel.restart()
            assert kernel.generation == generation + 2
            assert await statuses(kernel, "y") == {"c": "error"}
            assert states == ["restarting"]
        finally:
            await kernel.shutdown()

    loop.run_until_complete(scenario())
