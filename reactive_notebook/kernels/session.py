"""One notebook's kernel: start it (or attach to its Jupyter session's), install the
runner, run plans, interrupt, restart, shut down.

The kernel is started through the kernel manager it is given: the server's
``serverapp.kernel_manager`` (so it shows in JupyterLab, gets culled, and works through a
gateway) or a ``jupyter_client`` ``AsyncMultiKernelManager`` in tests without a server.
Given the server's session manager and the notebook's path, the kernel is the one of the
notebook's Jupyter session (see :mod:`.notebook_session`): a JupyterLab tab on the same
file shares it. Restarts and shutdowns made by anyone are reported to
:meth:`KernelSession.on_state_change` listeners (see :mod:`.restart_watch`).

A run is one ``execute_request`` carrying the whole plan; its messages become events as
:mod:`.run_protocol` says. Prompts are the kernel's own and restart at 1 with the kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from jupyter_server.utils import ensure_async
from tornado.web import HTTPError

from .kernel_side import runner_source
from .notebook_session import NotebookSession
from .restart_watch import RestartWatch, StateListener
from .run_protocol import (
    CellClearEvent,
    CellOutputEvent,
    CellStatusEvent,
    EventSink,
    RunEvent,
    RunResult,
    RunStep,
    collect_run,
    plan_code,
)

log = logging.getLogger(__name__)

#: How often a run waiting on the kernel checks that the kernel is still alive.
LIVENESS_INTERVAL = 0.5

#: How long IOPub may stay silent after the kernel replied to a request on its shell
#: channel before the request's ``idle`` status is taken as lost (never published, or
#: dropped on the way): the request is over. A kernel sends the reply just before ``idle``,
#: and outputs still on their way keep IOPub from being silent.
LOST_IDLE_GRACE = 5.0

#: How many kernels a start tries when each dies before it answers (a port taken).
START_ATTEMPTS = 3

#: How long a dead kernel's own restarter gets to bring it back before we restart it.
RESTARTER_GRACE = 5.0
#: How long a status of the IOPub probe may take before another probe is sent.
IOPUB_PROBE = 1.0

#: What kernel managers raise for a kernel id they do not know (any more): jupyter_client's
#: a KeyError, the server's (``serverapp.kernel_manager``) an HTTP 404 (see ``_is_gone``).
_UNKNOWN_KERNEL = (KeyError, HTTPError)


def _is_gone(error: Exception) -> bool:
    return isinstance(error, KeyError) or getattr(error, "status_code", None) == 404


class KernelDied(RuntimeError):
    """The kernel process died (or was restarted) while a run was in flight."""


class KernelBusy(RuntimeError):
    """A run held the kernel longer than a query was willing to wait for it."""


class QueryFailed(RuntimeError):
    """A silent query failed in the kernel, was not answered in time (it was then
    interrupted), or the kernel died meanwhile."""


class KernelSession(RestartWatch):
    """The kernel of one notebook.

    ``path``: the kernel's working directory (an API path). ``session_manager`` and
    ``notebook_path``: take the kernel of the notebook's Jupyter session (created when
    there is none); ``manager`` must then be the session manager's kernel manager.
    """

    def __init__(
        self,
        manager: Any,
        *,
        kernel_name: str = "python3",
        env: Mapping[str, str] | None = None,
        path: str | None = None,
        startup_timeout: float = 60.0,
        max_table_rows: int = 1000,
        session_manager: Any = None,
        notebook_path: str | None = None,
    ) -> None:
        super().__init__()
        self.manager = manager
        self.session = (
            NotebookSession(session_manager, notebook_path)
            if session_manager is not None and notebook_path
            else None
        )
        self.kernel_name = kernel_name
        self.env = dict(env) if env is not None else None
        self.path = path
        self.startup_timeout = startup_timeout
        self.max_table_rows = max_table_rows
        self.kernel_id: str | None = None
        self.generation = 0  # bumped whenever a new kernel process serves this session
        self._client: Any = None
        self._installed = False
        self._running = False
        #: Held by whatever reads the kernel's iopub messages (a run, an install, a
        #: silent query): they share one client, and a message read by one is lost to
        #: the others. So a query waits for the run in progress to end.
        self._exchange = asyncio.Lock()

    @property
    def started(self) -> bool:
        """A kernel serves the session (false again once it was shut down from outside)."""
        return self.kernel_id is not None and not self._gone

    async def start(self) -> None:
        """Start the kernel and install the runner in it."""
        async with self._exchange:
            await self._start()

    async def _start(self, attempt: int = 0) -> None:
        if self.kernel_id is not None:
            return
        if self.session is not None:
            kernel_id = await self.session.kernel_for(
                kernel_name=self.kernel_name, env=self.env, cwd=self.path
            )
        else:
            kwargs: dict[str, Any] = {"kernel_name": self.kernel_name}
            if self.env is not None:
                kwargs["env"] = self.env
            if self.path is not None:
                kwargs["path"] = self.path
            kernel_id = await ensure_async(self.manager.start_kernel(**kwargs))
        self.kernel_id = kernel_id
        self.generation += 1
        self._fresh, self._gone, self._installed = True, False, False
        kernel = self.manager.get_kernel(kernel_id)
        self._watch_kernel(kernel, kernel_id)
        self._client = kernel.client()
        self._client.start_channels()
        try:
            await self._install_runner()
        except (RuntimeError, KernelDied) as error:
            if attempt + 1 >= START_ATTEMPTS or await self.is_alive():
                raise
            # Died as it started: most often a port the kernel was told to bind was taken
            # meanwhile by another process (another server's kernel on this host). A new
            # kernel gets new ports; this one served nobody yet.
            log.warning("kernel %s died while starting (%s): starting another", kernel_id, error)
            self._forget_kernel(kernel)
            with contextlib.suppress(Exception):
                await ensure_async(self.manager.shutdown_kernel(kernel_id, now=True))
            await self._start(attempt + 1)

    async def is_alive(self) -> bool:
        if self.kernel_id is None or self._gone:
            return False
        try:
            kernel = self.manager.get_kernel(self.kernel_id)
        except _UNKNOWN_KERNEL as error:
            if not _is_gone(error):
                raise
            return False  # shut down behind our back: culled, or from JupyterLab
        return bool(await ensure_async(kernel.is_alive()))

    async def ensure_running(self) -> None:
        """A live kernel with the runner, whatever happened to the last one.

        ``generation`` changes whenever the kernel is a new process: whoever tracks what
        ran in it (the reactive core) must then forget everything.
        """
        async with self._exchange:
            await self._ensure_running()

    async def _ensure_running(self) -> None:
        if self.kernel_id is None:
            await self._start()
        elif not await self.is_alive():
            await self._recover()
        elif not self._installed:  # restarted (from outside): a new process, maybe starting
            self._restarted.clear()
            await self._install_runner()

    async def run(
        self,
        steps: Sequence[RunStep],
        on_event: EventSink,
        *,
        cleanup: frozenset[str] = frozenset(),
        keep: frozenset[str] = frozenset(),
    ) -> RunResult:
        """Run a plan; events reach ``on_event`` as they happen. ``keep``: names whose
        values are taken out at the start and put back at a step's ``restore``.

        Raises :class:`KernelDied` when the kernel dies or restarts mid-run.
        """
        asked = self.interrupts
        async with self._exchange:
            if self.interrupts != asked:  # while it waited for a query: it never started
                return RunResult(interrupted=True)
            await self._ensure_running()
            run_id = uuid.uuid4().hex[:8]
            code = plan_code(run_id, steps, cleanup, keep)
            self._restarted.clear()
            request_id = self._client.execute(code, silent=False, store_history=False)
            self._running = True
            try:
                messages = self._messages_until_idle(request_id)
                return await collect_run(messages, request_id, run_id, on_event)
            except KernelDied:
                # Restarted: reinstall now. Shut down on purpose: the next run starts one.
                await self._recover(revive=not self._gone)
                raise
            finally:
                self._running = False

    async def list_variables(
        self,
        *,
        limit: int = 200,
        max_bytes: int = 48_000,
        wait: float = 10.0,
        timeout: float = 10.0,
        secrets: Sequence[str] = (),
    ) -> dict[str, Any] | None:
        """The user's variables (``kernel_side/variables.py``), asked silently: no
        execution count, no history, no output anywhere. None when no kernel serves the
        session (none is started just to list nothing).

        Waits up to ``wait`` seconds for a run in progress to end (then
        :class:`KernelBusy`); a listing not answered within ``timeout`` seconds (a
        ``__repr__`` that hangs) is interrupted: :class:`QueryFailed`. ``secrets`` are
        masked in the reprs before they are cut.
        """
        arguments = f"{int(limit)}, {int(max_bytes)}, {tuple(map(str, secrets))!r}"
        code = f"get_ipython().reactive_variables({arguments})"
        return await self._ask(code, "reactive_variables", wait=wait, timeout=timeout)

    async def _ask(
        self, code: str, reply_type: str, *, wait: float, timeout: float
    ) -> dict[str, Any] | None:
        """Run ``code`` silently once no run is in progress; the content of the
        ``reply_type`` message it sends (see :meth:`list_variables`)."""
        if not self.started:
            return None
        try:
            await asyncio.wait_for(self._exchange.acquire(), wait)
        except TimeoutError:
            raise KernelBusy(f"a run kept the kernel busy for more than {wait:g} s") from None
        try:
            if not await self.is_alive():
                return None  # died: the next run revives it
            try:
                if not self._installed:  # restarted from outside: a new process
                    await self._ensure_running()
                self._restarted.clear()
                request_id = self._client.execute(code, silent=True, store_history=False)
                async with asyncio.timeout(timeout):
                    return await self._reply(request_id, reply_type)
            except TimeoutError:
                self._interrupting_own_query()
                if self.kernel_id is not None:  # not self.interrupt(): nobody's run
                    await ensure_async(self.manager.interrupt_kernel(self.kernel_id))
                raise QueryFailed(
                    f"the kernel did not answer within {timeout:g} s (interrupted)"
                ) from None
            except KernelDied as died:
                raise QueryFailed(str(died)) from None
        finally:
            self._exchange.release()

    async def _reply(self, request_id: str, reply_type: str) -> dict[str, Any]:
        reply: dict[str, Any] | None = None
        async for message in self._messages_until_idle(request_id):
            if message["parent_header"].get("msg_id") != request_id:
                continue
            content = message["content"]
            if message["msg_type"] == reply_type:
                reply = content
            elif message["msg_type"] == "error":
                raise QueryFailed(f"{content.get('ename')}: {content.get('evalue')}")
        if reply is None:
            raise QueryFailed(f"the kernel sent no {reply_type}")
        return reply

    async def _recover(self, *, revive: bool = True) -> None:
        """After a death: make sure a live kernel with the runner is there again
        (``revive`` False: only forget a kernel that is gone for good)."""
        assert self.kernel_id is not None
        try:
            kernel = self.manager.get_kernel(self.kernel_id)
        except _UNKNOWN_KERNEL as error:  # gone for good (culled, shut down): a new one
            if not _is_gone(error):
                raise
            self._forget_kernel()
            if revive:
                await self._start()
            return
        if self._gone:  # gave up restarting, or shut down: not in the manager for long
            self._forget_kernel(kernel)
            if revive:
                await self._start()
            return
        if not await self._restarter_revived(kernel):  # (if it did, _on_restart counted it)
            self._fresh = True  # our restart: not news for the listeners
            await ensure_async(self.manager.restart_kernel(self.kernel_id, now=True))
            self.generation += 1
        await self._install_runner()

    async def _restarter_revived(self, kernel: Any) -> bool:
        """Whether the kernel manager's restarter brought the dead kernel back (it polls
        every ``time_to_dead``, 3 s): restarting it ourselves meanwhile would race it."""
        deadline = asyncio.get_running_loop().time() + RESTARTER_GRACE
        while getattr(kernel, "autorestart", False) and not self._gone:
            if self._restarted.is_set() and await self.is_alive():
                return True
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return self._restarted.is_set() and await self.is_alive()

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.stop_channels()
            self._client = None

    def _forget_kernel(self, kernel: Any = None) -> None:
        """Stop watching the kernel and drop our client; the kernel itself is left."""
        if kernel is None and self.kernel_id is not None:
            with contextlib.suppress(*_UNKNOWN_KERNEL):
                kernel = self.manager.get_kernel(self.kernel_id)
        self._stop_watching(kernel)
        self._drop_client()
        self.kernel_id = None
        self._installed = False

    async def interrupt(self) -> None:
        self.interrupts += 1
        if self.kernel_id is not None:
            await ensure_async(self.manager.interrupt_kernel(self.kernel_id))

    async def restart(self) -> None:
        """Restart the kernel: a fresh process, nothing defined, runner reinstalled."""
        async with self._exchange:
            if self.kernel_id is None:
                await self._start()
                return
            self._fresh, self._installed = True, False  # ours: not news for the listeners
            await ensure_async(self.manager.restart_kernel(self.kernel_id))
            self.generation += 1
            await self._install_runner()

    async def moved(self, notebook_path: str) -> None:
        """The notebook's file was renamed or moved: its Jupyter session follows it."""
        if self.session is not None:
            await self.session.moved(notebook_path)

    async def shutdown(self) -> None:
        """Done with the kernel: shut it down, unless it is a session's we did not create
        or a client (a tab) still uses the session we created: then only let go of it."""
        if self.kernel_id is None:
            return
        kernel_id = self.kernel_id
        self._forget_kernel()
        if self.session is not None and self.session.session_id is not None:
            await self.session.close(kernel_id)
            return
        try:
            await ensure_async(self.manager.shutdown_kernel(kernel_id, now=True))
        except _UNKNOWN_KERNEL as error:  # already gone (culled, or shut down in JupyterLab)
            if not _is_gone(error):
                raise

    # -- internals -------------------------------------------------------------

    async def _install_runner(self) -> None:
        """Once the kernel (new, or restarted) answers, and its IOPub reaches us, the
        runner goes in."""
        await ensure_async(self._client.wait_for_ready(timeout=self.startup_timeout))
        await self._hear_iopub()
        code = runner_source(self.max_table_rows)
        request_id = self._client.execute(code, silent=True, store_history=False)
        async for message in self._messages_until_idle(request_id):
            if message["msg_type"] == "error":
                content = message["content"]
                raise RuntimeError(
                    f"installing the reactive runner failed: {content.get('ename')}: "
                    f"{content.get('evalue')}"
                )
        self._installed, self._fresh, self._announced = True, False, False

    async def _hear_iopub(self) -> None:
        """Wait until a request's status reaches us on IOPub.

        After a restart our subscription reconnects to the new process on its own time,
        and what the kernel publishes before that is lost: a lost ``idle`` would leave a
        run waiting for ever on a live kernel. ``wait_for_ready`` takes any IOPub message
        as proof, and one left from the old process passes; only a status naming a
        request sent now does.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.startup_timeout
        while True:
            request_id = self._client.kernel_info()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IOPUB_PROBE):
                    while True:
                        message = await self._client.get_iopub_msg()
                        if message["parent_header"].get("msg_id") == request_id:
                            return
            if not await self.is_alive():
                self._installed = False
                raise KernelDied("the kernel died")
            if loop.time() > deadline:
                raise RuntimeError(
                    f"the kernel's output channel (IOPub) did not reach us within "
                    f"{self.startup_timeout:g} s"
                )

    async def _messages_until_idle(self, request_id: str) -> Any:
        """Iopub messages until the kernel is idle after ``request_id``.

        Checks liveness while waiting: a dead or restarted kernel never answers. A request
        the kernel replied to on its shell channel while IOPub then stays silent for
        ``LOST_IDLE_GRACE`` seconds ends there: its ``idle`` was lost, and waiting for it
        would hold the notebook's runs for ever on a live, idle kernel.
        """
        loop = asyncio.get_running_loop()
        replied = False
        heard = loop.time()
        while True:
            try:
                message = await asyncio.wait_for(
                    self._client.get_iopub_msg(), timeout=LIVENESS_INTERVAL
                )
            except TimeoutError:
                if self._restarted.is_set() or not await self.is_alive():
                    self._installed = False
                    raise KernelDied("the kernel died") from None
                replied = replied or await self._replied(request_id)
                if replied and loop.time() - heard >= LOST_IDLE_GRACE:
                    log.warning(
                        "kernel %s replied to request %s but its idle status never came "
                        "(lost on IOPub): the request is taken as finished",
                        self.kernel_id,
                        request_id,
                    )
                    return
                continue
            heard = loop.time()
            yield message
            if (
                message["msg_type"] == "status"
                and message["parent_header"].get("msg_id") == request_id
                and message["content"].get("execution_state") == "idle"
            ):
                return

    async def _replied(self, request_id: str) -> bool:
        """Whether the kernel's reply to ``request_id`` is among the shell channel's
        waiting messages. Nothing else reads that channel here (every answer comes on
        IOPub), so the replies read on the way, of earlier requests, are dropped."""
        while True:
            try:
                reply = await ensure_async(self._client.get_shell_msg(timeout=0))
            except queue.Empty:
                return False
            except RuntimeError:  # a gateway kernel's channel closed: the liveness check says
                return False
            if reply.get("parent_header", {}).get("msg_id") == request_id:
                return True


__all__ = [
    "CellClearEvent",
    "CellOutputEvent",
    "CellStatusEvent",
    "EventSink",
    "KernelBusy",
    "KernelDied",
    "KernelSession",
    "QueryFailed",
    "RunEvent",
    "RunResult",
    "RunStep",
    "StateListener",
    "runner_source",
]
