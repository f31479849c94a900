"""The reactive runner, executed INSIDE the kernel: its source is sent at kernel start.

The kernel's environment has no copy of this package (remote kernels, other virtualenvs),
so this file is self-contained: stdlib and IPython only, nothing at module level but
``install_reactive_runner``. It attaches ``get_ipython().reactive_runner``.

One ``execute_request`` carries a whole plan (``await ...reactive_runner.run(plan)``).
For each cell the runner deletes the names the planner says, points the kernel's parent
header at the cell (``msg_id`` = ``reactive:<run>:<cell>``) so every stream, display,
result and error on iopub is attributed to the cell at no extra message, runs the code
with IPython's own machinery (magics, display hook, inline figures, top-level await),
and reports statuses in time-batched ``reactive_status`` iopub messages. A failed cell
skips the steps that read from it; an interrupt ends the running cell "interrupted" and
cancels the rest.
"""

from typing import Any


def install_reactive_runner(shell: Any, batch_interval: float = 0.015) -> None:
    import ast
    import contextlib
    import json
    import signal
    import sys
    import threading
    import time
    import warnings

    kernel = shell.kernel

    _interrupt = signal.default_int_handler

    def _prepare(code: str) -> tuple[str, Any]:
        """(code to run, preprocessing error) as ``run_cell`` would compute them.

        Plain Python is left alone by IPython's input transforms, which cost ~0.2 ms a
        cell; only code that does not parse (magics, ``!cmd``) goes through them.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the run itself shows them, once
                ast.parse(code)
            return code, None
        except (SyntaxError, ValueError):
            pass
        try:
            return shell.transform_cell(code), None
        except Exception:
            return code, sys.exc_info()

    def _current_ident() -> Any:
        """The shell request's routing identity (input() prompts are routed by it)."""
        variable = getattr(kernel, "_shell_parent_ident", None)
        try:
            return variable.get() if variable is not None else None
        except LookupError:
            return None

    class ReactiveRunner:
        """Runs plans sent by the server; one at a time (the kernel is single-threaded)."""

        def __init__(self) -> None:
            self._lock = threading.Lock()
            self._pending: list[dict[str, Any]] = []
            self._last_flush = 0.0
            self._parent: Any = None
            self._ident: Any = None
            self._done = threading.Event()
            self._kernel_sigint: Any = None

        # -- status batching ---------------------------------------------------

        def _report(self, cell_id: str, status: str, **extra: Any) -> None:
            entry: dict[str, Any] = {"cell_id": cell_id, "status": status}
            entry.update(extra)
            with self._lock:
                self._pending.append(entry)
            if time.monotonic() - self._last_flush >= batch_interval:
                self._flush()

        def _flush(self) -> None:
            with self._lock:
                pending, self._pending = self._pending, []
                self._last_flush = time.monotonic()
            if pending and self._parent is not None:
                kernel.session.send(
                    kernel.iopub_socket,
                    "reactive_status",
                    {"statuses": pending},
                    parent=self._parent,
                    ident=b"reactive_status",
                )

        def _ticker(self) -> None:
            """Flush statuses a slow cell would otherwise hold back."""
            while not self._done.wait(batch_interval):
                if self._pending and time.monotonic() - self._last_flush >= batch_interval:
                    self._flush()

        # -- running -------------------------------------------------------------

        def _cell_parent(self, run_id: str, cell_id: str) -> Any:
            header = dict(self._parent["header"])
            header["msg_id"] = f"reactive:{run_id}:{cell_id}"
            parent = dict(self._parent)
            parent["header"] = header
            return parent

        def _flush_streams(self) -> None:
            """Send what the cell printed before its status (a no-op when it printed
            nothing: ipykernel's flush waits on its IO thread)."""
            for stream in (sys.stdout, sys.stderr):
                if getattr(stream, "_flush_pending", True):
                    with contextlib.suppress(Exception):
                        stream.flush()

        async def run(self, plan_json: str) -> None:
            plan = json.loads(plan_json)
            run_id = plan["run_id"]
            steps = plan["steps"]
            self._parent = kernel.get_parent("shell")
            self._ident = _current_ident()
            original_parent = self._parent
            for name in plan.get("cleanup", ()):
                shell.user_ns.pop(name, None)
            dead: set[int] = set()
            # ipykernel answers SIGINT during an awaited request by cancelling it, which
            # never stops a busy loop: during the run, SIGINT raises KeyboardInterrupt
            # wherever the code is (set once per run; swapping per cell costs 50 us).
            self._kernel_sigint = signal.signal(signal.SIGINT, _interrupt)
            self._done.clear()
            ticker = threading.Thread(target=self._ticker, daemon=True)
            ticker.start()
            try:
                for index, step in enumerate(steps):
                    cell_id = step["cell_id"]
                    if any(parent in dead for parent in step.get("after", ())):
                        dead.add(index)
                        self._report(cell_id, "blocked")
                        continue
                    for name in step.get("delete", ()):
                        shell.user_ns.pop(name, None)
                    outcome = await self._run_cell(run_id, cell_id, step["code"])
                    if outcome == "interrupted":
                        for later in steps[index + 1 :]:
                            self._report(later["cell_id"], "cancelled")
                        break
                    if outcome != "success":
                        dead.add(index)
            finally:
                signal.signal(signal.SIGINT, self._kernel_sigint)
                self._done.set()  # wakes the ticker at once: the run ends without waiting
                self._flush_streams()
                kernel.set_parent(self._ident, original_parent, "shell")
                self._flush()
                ticker.join(timeout=1)

        async def _run_cell(self, run_id: str, cell_id: str, code: str) -> str:
            kernel.set_parent(self._ident, self._cell_parent(run_id, cell_id), "shell")
            self._report(cell_id, "running")
            started = time.perf_counter()
            extra: dict[str, Any]
            try:
                transformed, preprocessing = _prepare(code)
                awaits = ("await" in code or "async" in code) and shell.should_run_async(
                    code, transformed_cell=transformed, preprocessing_exc_tuple=preprocessing
                )
                # The run swapped SIGINT to a plain KeyboardInterrupt (see run); a cell that
                # awaits gets ipykernel's handler back, which cancels it cleanly.
                previous = signal.signal(signal.SIGINT, self._kernel_sigint) if awaits else None
                try:
                    result = await shell.run_cell_async(
                        code,
                        store_history=False,
                        silent=False,
                        transformed_cell=transformed,
                        preprocessing_exc_tuple=preprocessing,
                    )
                finally:
                    if previous is not None:
                        signal.signal(signal.SIGINT, previous)
            except KeyboardInterrupt:
                outcome, extra = "interrupted", {}
            else:
                error = result.error_before_exec or result.error_in_exec
                if error is None:
                    outcome, extra = "success", {}
                elif isinstance(error, KeyboardInterrupt):
                    outcome, extra = "interrupted", {}
                else:
                    outcome = "error"
                    extra = {"ename": type(error).__name__, "evalue": str(error)}
            self._flush_streams()
            duration = time.perf_counter() - started
            self._report(cell_id, outcome, duration=duration, **extra)
            return outcome

    shell.reactive_runner = ReactiveRunner()
