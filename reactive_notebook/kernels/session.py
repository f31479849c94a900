"""One notebook's kernel: start it, install the runner, run plans, interrupt, restart.

The kernel is started through the kernel manager it is given: the server's
``serverapp.kernel_manager`` (so it shows in JupyterLab, gets culled, and works through a
gateway) or a ``jupyter_client`` ``AsyncMultiKernelManager`` in tests without a server.
Given the server's session manager and the notebook's path, the kernel is the one of the
notebook's Jupyter session (see :mod:`.notebook_session`): a JupyterLab tab on the same
file shares it. Restarts and shutdowns made by anyone are reported to
:meth:`KernelSession.on_state_change` listeners (see :mod:`.kernel_events`).

A run is one ``execute_request`` carrying the whole plan (see
``kernel_side/runner.py``). Every iopub message the run causes carries a parent
``msg_id`` of ``reactive:<run>:<cell>``, so outputs are attributed to their cell as they
arrive; statuses come in batched ``reactive_status`` messages; the run ends with the
kernel's ``idle`` for the request. Each cell takes the kernel's next execution count, as
if the user had run it; every event of the cell carries it (``execution_count``: the
runner puts it in the cell's parent header and status entries), so prompts are the
kernel's own and restart at 1 with the kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jupyter_server.utils import ensure_async
from tornado.web import HTTPError

from ..models import NbOutput
from .kernel_events import KernelActionWatch
from .kernel_side import kernel_source, module_code, private_code, table_formatter_code
from .notebook_session import NotebookSession
from .outputs import nb_output_from_message

log = logging.getLogger(__name__)

#: How often a run waiting on the kernel checks that the kernel is still alive.
LIVENESS_INTERVAL = 0.5

#: How long a dead kernel's own restarter gets to bring it back before we restart it.
RESTARTER_GRACE = 5.0

#: What kernel managers raise for a kernel id they do not know (any more): jupyter_client's
#: a KeyError, the server's (``serverapp.kernel_manager``) an HTTP 404 (see ``_is_gone``).
_UNKNOWN_KERNEL = (KeyError, HTTPError)


def _is_gone(error: Exception) -> bool:
    return isinstance(error, KeyError) or getattr(error, "status_code", None) == 404


class KernelDied(RuntimeError):
    """The kernel process died (or was restarted) while a run was in flight."""


@dataclass(frozen=True, slots=True)
class RunStep:
    """One cell of a plan as the kernel runs it.

    ``history``: what the kernel's history records as the cell's input (``In[N]``) when
    ``code`` is generated: a SQL cell's SQL, never the call carrying its connection.
    """

    cell_id: str
    code: str
    delete: frozenset[str] = frozenset()
    #: (earlier step, the names read from it): skipped if that step lacks one of them
    needs: tuple[tuple[int, frozenset[str]], ...] = ()
    binds: frozenset[str] = frozenset()
    fresh: frozenset[str] = frozenset()
    deletes: frozenset[str] = frozenset()
    restore: frozenset[str] = frozenset()
    #: modules the cell imports with ``*``: the runner reports the names they bound
    stars: tuple[str, ...] = ()
    #: what IPython's history records for generated code (a SQL cell's SQL)
    history: str | None = None


@dataclass(frozen=True, slots=True)
class CellStatusEvent:
    """``status``: running, success, error, interrupted, blocked or cancelled."""

    cell_id: str
    status: str
    ename: str | None = None
    evalue: str | None = None
    duration: float | None = None
    #: names the cell left alone (their last writer does not change)
    untouched: frozenset[str] = frozenset()
    #: names a failed cell did not bind (the cells reading them were skipped)
    unbound: frozenset[str] = frozenset()
    execution_count: int | None = None  # the kernel's prompt number for the cell
    #: the names the cell's star imports bound (``from m import *``)
    star_names: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CellOutputEvent:
    """An nbformat output of a cell, as it happened (streams arrive in chunks)."""

    cell_id: str
    output: NbOutput
    execution_count: int | None = None


@dataclass(frozen=True, slots=True)
class CellClearEvent:
    """The cell called ``clear_output``: drop its outputs now, or (``wait``) just
    before its next output arrives, as Jupyter does (progress displays rely on it)."""

    cell_id: str
    wait: bool = False
    execution_count: int | None = None


RunEvent = CellStatusEvent | CellOutputEvent | CellClearEvent
EventSink = Callable[[RunEvent], Awaitable[None] | None]
#: Told the kernel's state when it changes behind a run's back: "restarting" (a new
#: process serves the session: nothing defined survives), "idle" (it is up again),
#: "dead" (shut down or gone for good: the next run starts a new one).
StateListener = Callable[[str], None]


@dataclass
class RunResult:
    """How a run ended: the final status of every cell that reported one."""

    statuses: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    runner_error: str | None = None


def runner_source(max_table_rows: int = 1000) -> str:
    """The kernel-side code installed at kernel start: runner, table and chart formatters.

    It runs in a namespace of its own (``private_code``): the user namespace of the
    kernel stays a stock kernel's.
    """
    runner = kernel_source("history") + "\n" + kernel_source("runner")
    install = (
        "install_reactive_runner(get_ipython(), history_batching)\n"
        "del install_reactive_runner, history_batching, Any\n"
    )
    charts = kernel_source("charts")
    install_charts = "install_chart_formatters(get_ipython())\ndel install_chart_formatters\n"
    tables = table_formatter_code(max_table_rows)
    sql = kernel_source("sql")
    install_sql = (
        module_code("connection_strings", "_reactive_strings")
        + module_code("host_policy", "_reactive_hosts")
        + "install_sql_runner(get_ipython(), _reactive_strings, _reactive_hosts)\n"
        + "del install_sql_runner, Any, _reactive_strings, _reactive_hosts\n"
    )
    return private_code(
        "\n".join((runner, install, tables, charts, install_charts, sql, install_sql))
    )


class KernelSession:
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
        self._restarted = asyncio.Event()
        self._listeners: list[StateListener] = []
        self._watch: KernelActionWatch | None = None
        self._callbacks: list[tuple[Callable[[], None], str]] = []
        #: A new process is known to serve the session and nothing ran in it yet (the
        #: runner is not installed): a second report of the same restart changes nothing.
        self._fresh = False
        #: The kernel was shut down (or gave up restarting) behind our back.
        self._gone = False
        self._running = False
        self._announced = False  # "restarting" said, "idle" not yet

    def on_state_change(self, listener: StateListener) -> None:
        """Call ``listener(state)`` when the kernel is restarted or shut down by anyone
        other than this session (JupyterLab, the kernels or sessions API, the culler,
        the automatic restart after a death), and ``listener("interrupted")`` after any
        interrupt through the server's kernel manager (the Kernel menu's, or ours)."""
        self._listeners.append(listener)

    @property
    def started(self) -> bool:
        """A kernel serves the session (false again once it was shut down from outside)."""
        return self.kernel_id is not None and not self._gone

    async def start(self) -> None:
        """Start the kernel and install the runner in it."""
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
        await ensure_async(self._client.wait_for_ready(timeout=self.startup_timeout))
        await self._install_runner()

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
        if self.kernel_id is None:
            await self.start()
        elif not await self.is_alive():
            await self._recover()
        elif not self._installed:  # restarted (from outside): a new process, maybe starting
            self._restarted.clear()
            await ensure_async(self._client.wait_for_ready(timeout=self.startup_timeout))
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
        await self.ensure_running()
        run_id = uuid.uuid4().hex[:8]
        plan = {
            "run_id": run_id,
            "cleanup": sorted(cleanup),
            "keep": sorted(keep),
            "steps": [_step_message(step) for step in steps],
        }
        code = f"await get_ipython().reactive_runner.run({json.dumps(plan)!r})"
        self._restarted.clear()
        request_id = self._client.execute(code, silent=False, store_history=False)
        self._running = True
        try:
            return await self._collect(request_id, run_id, on_event)
        except KernelDied:
            # Restarted: reinstall now. Shut down on purpose: the next run starts one.
            await self._recover(revive=not self._gone)
            raise
        finally:
            self._running = False

    async def _collect(self, request_id: str, run_id: str, on_event: EventSink) -> RunResult:
        """Turn the run's iopub messages into events until the kernel is idle."""
        prefix = f"reactive:{run_id}:"
        result = RunResult()
        async for message in self._messages_until_idle(request_id):
            parent = message["parent_header"]
            parent_id = parent.get("msg_id", "")
            msg_type = message["msg_type"]
            content = message["content"]
            if parent_id.startswith(prefix) and msg_type == "clear_output":
                clear = CellClearEvent(
                    parent_id[len(prefix) :],
                    bool(content.get("wait")),
                    execution_count=parent.get("execution_count"),
                )
                await _deliver(on_event, clear)
            elif parent_id.startswith(prefix):
                output = nb_output_from_message(msg_type, content)
                if output is not None:
                    shown = CellOutputEvent(
                        parent_id[len(prefix) :],
                        output,
                        execution_count=parent.get("execution_count"),
                    )
                    await _deliver(on_event, shown)
            elif parent_id == request_id and msg_type == "reactive_status":
                for entry in content.get("statuses", ()):
                    event = CellStatusEvent(
                        cell_id=entry["cell_id"],
                        status=entry["status"],
                        ename=entry.get("ename"),
                        evalue=entry.get("evalue"),
                        duration=entry.get("duration"),
                        untouched=frozenset(entry.get("untouched", ())),
                        unbound=frozenset(entry.get("unbound", ())),
                        execution_count=entry.get("execution_count"),
                        star_names=frozenset(entry.get("star_names", ())),
                    )
                    result.statuses[event.cell_id] = event.status
                    result.interrupted |= event.status == "interrupted"
                    await _deliver(on_event, event)
            elif parent_id == request_id and msg_type == "error":
                if content.get("ename") == "KeyboardInterrupt":
                    result.interrupted = True  # between two cells
                else:  # a bug of ours, not of the user's code: say so
                    result.runner_error = f"{content.get('ename')}: {content.get('evalue')}"
                    log.error("the reactive runner failed: %s", result.runner_error)
        return result

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
                await self.start()
            return
        if self._gone:  # gave up restarting, or shut down: not in the manager for long
            self._forget_kernel(kernel)
            if revive:
                await self.start()
            return
        if not await self._restarter_revived(kernel):  # (if it did, _on_restart counted it)
            self._fresh = True  # our restart: not news for the listeners
            await ensure_async(self.manager.restart_kernel(self.kernel_id, now=True))
            self.generation += 1
        await ensure_async(self._client.wait_for_ready(timeout=self.startup_timeout))
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
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        callbacks, self._callbacks = self._callbacks, []
        if kernel is None and self.kernel_id is not None:
            with contextlib.suppress(*_UNKNOWN_KERNEL):
                kernel = self.manager.get_kernel(self.kernel_id)
        for callback, event in callbacks if kernel is not None else ():
            with contextlib.suppress(ValueError):
                kernel.remove_restart_callback(callback, event)
        self._drop_client()
        self.kernel_id = None
        self._installed = False

    async def interrupt(self) -> None:
        if self.kernel_id is not None:
            await ensure_async(self.manager.interrupt_kernel(self.kernel_id))

    async def restart(self) -> None:
        """Restart the kernel: a fresh process, nothing defined, runner reinstalled."""
        if self.kernel_id is None:
            await self.start()
            return
        self._fresh, self._installed = True, False  # our restart: not news for the listeners
        await ensure_async(self.manager.restart_kernel(self.kernel_id))
        self.generation += 1
        await ensure_async(self._client.wait_for_ready(timeout=self.startup_timeout))
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

    def _on_action(self, action: str) -> None:
        if action == "restart":
            self._on_restart(done=True)
        elif action == "shutdown":
            self._on_gone()
        elif action == "interrupt":
            # Not a kernel state: listeners stop what is queued (the kernel-side runner
            # already ends the running cell and cancels the rest of its plan).
            self._notify("interrupted")

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

    async def _install_runner(self) -> None:
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

    async def _messages_until_idle(self, request_id: str) -> Any:
        """Iopub messages until the kernel is idle after ``request_id``.

        Checks liveness while waiting: a dead or restarted kernel never answers.
        """
        while True:
            try:
                message = await asyncio.wait_for(
                    self._client.get_iopub_msg(), timeout=LIVENESS_INTERVAL
                )
            except TimeoutError:
                if self._restarted.is_set() or not await self.is_alive():
                    self._installed = False
                    raise KernelDied("the kernel died") from None
                continue
            yield message
            if (
                message["msg_type"] == "status"
                and message["parent_header"].get("msg_id") == request_id
                and message["content"].get("execution_state") == "idle"
            ):
                return


def _step_message(step: RunStep) -> dict[str, Any]:
    """A step as the runner reads it (empty fields left out: most cells have none)."""
    message: dict[str, Any] = {
        "cell_id": step.cell_id,
        "code": step.code,
        "needs": [[index, sorted(names)] for index, names in step.needs],
    }
    for key, names in (
        ("delete", step.delete),
        ("binds", step.binds),
        ("fresh", step.fresh),
        ("deletes", step.deletes),
        ("restore", step.restore),
    ):
        if names:
            message[key] = sorted(names)
    if step.stars:
        message["stars"] = list(step.stars)
    if step.history is not None:
        message["history"] = step.history
    return message


async def _deliver(sink: EventSink, event: RunEvent) -> None:
    result = sink(event)
    if result is not None:
        await result
