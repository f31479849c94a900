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
skips the steps that read a name it did not bind (it reports them, ``unbound``); the
names it bound before raising are read as usual. Values kept by cells that do not re-run
(``keep``) are taken out when the run starts and put back before the step that says so,
or when the run ends, whatever happens. An interrupt ends the running cell "interrupted"
and cancels the rest.

Every cell runs as if the user had run it in Jupyter: it takes the next execution count
and its input is stored in IPython's history (``store_history=True``), so ``In``, ``Out``,
``_N``, ``_iN``, a trailing ``;`` (the display hook reads the last stored input) and
``Cell In[N]`` in tracebacks behave as in a stock kernel. The enclosing plan request is
not stored and takes no count. The count travels to the server in the cell's parent
header and status entries (``execution_count``).

Plain Python cells (they parse, need no input transform and do not await) take a fast
path built from ``run_cell``'s own public pieces: ``compile.cache`` (tracebacks show the
cell's lines), ``compile.ast_parse``, ``transform_ast``, ``run_ast_nodes`` (display
hook, ``showtraceback``, the ExecutionResult), the history manager's ``store_inputs`` /
``store_output`` and the four execution events. It skips what a cell does not need
(input transforms, a second parse, the ``last_execution_*`` traits, which the enclosing
request sets when the run ends), and keeps each parsed cell and its compiled nodes for
the next run of the same code: a re-run costs ~55 us a cell instead of ~200 us (CPU
time), plus ~20 us for storing the history as ``run_cell`` does (``store_inputs`` sets
four traits and the execution count one; measured on a loaded 2-core machine: 28 -> 52
us of kernel CPU a cell for a 500-cell chain). Every other cell (magics, ``!cmd``,
top-level await, a cell that does not parse) goes through ``run_cell_async``. Both paths
fire ``post_execute``/``post_run_cell`` after each cell, as ipykernel does after a
request, so inline figures are flushed into the cell that drew them.

A step may carry ``history``: the text IPython's history records for a cell whose code
is generated (a SQL cell's own SQL, never the call that carries its connection string).
Such code always takes the fast path (user input transforms are not meant for it).
"""

from typing import Any


def install_reactive_runner(
    shell: Any, history_batching: Any, batch_interval: float = 0.015
) -> None:
    """Attach the runner to ``shell``. ``history_batching(shell)`` is
    ``kernel_side/history.py``'s: (hold, write) for the run's history writes."""
    import __future__

    import ast
    import builtins
    import contextlib
    import copy
    import json
    import keyword
    import linecache
    import signal
    import sys
    import threading
    import time

    from IPython.core.error import InputRejected
    from IPython.core.inputtransformer2 import TransformerManager
    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

    kernel = shell.kernel
    hold_history_writes, write_history = history_batching(shell)

    _interrupt = signal.default_int_handler
    CACHED_CELLS = 4096
    _defaults = TransformerManager()  # type: ignore[no-untyped-call]

    def _default_transforms() -> bool:
        """True while nobody added an input transform (they may rewrite plain Python)."""
        manager = shell.input_transformer_manager
        return (
            not shell.input_transformers_post
            and manager.cleanup_transforms == _defaults.cleanup_transforms
            and manager.line_transforms == _defaults.line_transforms
            and manager.token_transformers == _defaults.token_transformers
        )

    # __future__ imports a compiled cell turns on for the cells after it (codeop does it)
    _future_flags = 0
    for _feature in __future__.all_feature_names:
        _future_flags |= getattr(__future__, _feature).compiler_flag

    class _Cell:
        """A plain Python cell as parsed once: its name, its AST, its compiled nodes."""

        __slots__ = ("codes", "name", "nodes", "tree")

        def __init__(self, name: str, tree: Any) -> None:
            self.name = name
            self.tree = tree
            self.nodes = {id(node) for node in tree.body}
            self.codes: dict[Any, Any] = {}

    class _NodeCompiler:
        """``shell.compile`` for ``run_ast_nodes`` that compiles each node of a cached
        cell once per set of compiler flags (a re-run executes the same code objects).
        """

        def __init__(self, cell: _Cell) -> None:
            self.cell = cell

        def extra_flags(self, flags: int) -> Any:
            return shell.compile.extra_flags(flags)

        def __call__(self, mod: Any, name: str, mode: str) -> Any:
            compiler = shell.compile
            node = mod.body[0]
            if id(node) not in self.cell.nodes:  # made for this run (last_expr_or_assign)
                return compiler(mod, name, mode)
            key = (id(node), mode, compiler.flags)
            code = self.cell.codes.get(key)
            if code is None:
                code = self.cell.codes[key] = compiler(mod, name, mode)
            else:
                compiler.flags |= code.co_flags & _future_flags
            return code

    _cells: dict[tuple[str, int], _Cell] = {}

    def _names_ignore_count() -> bool:
        """True when the compiler names a cell by its code alone (ipykernel's does, for
        the debugger): a parsed cell is then kept across execution counts."""
        probe = shell.compile.get_code_name
        return bool(probe("pass", "pass", 1) == probe("pass", "pass", 2))

    _stable_names = _names_ignore_count()

    def _count_cell(cell: "_Cell", code: str, number: int) -> None:
        """Point the cached cell's name at its new execution count (tracebacks say
        ``Cell In[number]``) without re-hashing the code; its lines stay in linecache."""
        compiler = shell.compile
        names = getattr(compiler, "_filename_map", None)
        if names is None or cell.name not in linecache.cache:
            compiler.cache(code, number, raw_code=code)
        else:
            names[cell.name] = number

    def _automagic(code: str) -> bool:
        """A one-line cell IPython's prefilter runs as a magic although it parses
        (``cd /tmp``, ``ls -la``, a lone ``pwd``): its first word names a line magic or
        alias that no variable, builtin or keyword shadows (IPython's AutoMagicChecker).
        """
        line = code.strip()
        if not line or "\n" in line or not shell.automagic:
            return False
        word = line.split(None, 1)[0]
        if not word.isidentifier() or keyword.iskeyword(word):
            return False
        if word in shell.user_ns or word in shell.user_global_ns or hasattr(builtins, word):
            return False
        return shell.find_magic(word, "line") is not None

    def _plain_python(code: str, generated: bool = False) -> Any:
        """The ``_Cell`` of a cell the fast path can run, else None.

        IPython's input transforms leave code that parses as it is (magics, ``!cmd``
        and ``x?`` do not parse), so plain Python is parsed as ``run_cell`` would parse
        it: with the shell's compiler flags, under the name ``compile.cache`` gives the
        cell (tracebacks and ``linecache`` show its lines; a parse warning names it).
        Code that awaits at top level keeps ``run_cell_async`` (and ipykernel's
        cancelling SIGINT handler). A reactive notebook re-runs the same code often: the
        parsed cell is kept (a bounded cache keyed by code, and by execution count when
        the compiler's cell names include it), unless AST transformers are registered
        (they may rewrite a tree each time). ``generated`` code (ours) skips the checks
        for user input transforms and top-level await.
        """
        if not code or code.isspace() or not (generated or _default_transforms()):
            return None
        if not generated and _automagic(code):
            return None
        compiler = shell.compile
        number = shell.execution_count
        key = (code, 0 if _stable_names else number)
        transformers = bool(shell.ast_transformers)
        cell = None if transformers else _cells.get(key)
        if cell is not None:
            _count_cell(cell, code, number)
            return cell
        awaits = not generated and ("await" in code or "async" in code)
        if awaits and not shell.autoawait:
            return None
        name = compiler.cache(code, number, raw_code=code)
        try:
            tree = compiler.ast_parse(code, filename=name)
        except (SyntaxError, ValueError, OverflowError, TypeError, MemoryError):
            return None
        if awaits and shell.should_run_async(
            code, transformed_cell=code, preprocessing_exc_tuple=None
        ):
            return None
        cell = _Cell(name, tree)
        if not transformers:
            if len(_cells) >= CACHED_CELLS:
                del _cells[next(iter(_cells))]
            _cells[key] = cell
        return cell

    def _transform(code: str) -> tuple[str, Any]:
        """(code to run, preprocessing error) as ipykernel computes them for a request."""
        try:
            return shell.transform_cell(code), None
        except Exception:
            return code, sys.exc_info()

    def _store_error(number: int, error: Any) -> None:
        """The failed cell's error in the history, as ``run_cell`` stores it."""
        history = shell.history_manager
        exceptions = getattr(history, "exceptions", None)
        formatter = getattr(shell, "_format_exception_for_storage", None)
        if exceptions is not None and formatter is not None:
            with contextlib.suppress(Exception):
                exceptions[number] = formatter(error)

    async def _run_fast(code: str, cell: _Cell, history: str) -> Any:
        """``run_cell_async(code, store_history=True)`` plus ipykernel's post events,
        for a plain Python cell already parsed (see ``_plain_python``); ``history`` is
        the input recorded for it (the code itself, unless generated)."""
        info = ExecutionInfo(code, True, False, True, None)  # type: ignore[no-untyped-call]
        info.transformed_cell = code
        result = ExecutionResult(info)  # type: ignore[no-untyped-call]
        number = result.execution_count = shell.execution_count
        shell.execution_count = number + 1
        try:
            shell.events.trigger("pre_execute")
            shell.events.trigger("pre_run_cell", info)
            # run_cell stores no paste/cpaste magic (it would replay the paste)
            pasted = "get_ipython().run_line_magic(" in code and "paste" in code
            if shell.history_manager is not None and not pasted:
                shell.history_manager.store_inputs(number, history, history)
            shell.logger.log(history, history)
            with shell.builtin_trap, shell.display_trap:
                if shell.ast_transformers:
                    # transformers may rewrite a tree in place: a cached one (met by a
                    # transformer that a pre_run_cell callback registered) is copied
                    key = (code, 0 if _stable_names else number)
                    cached = _cells.get(key) is cell
                    try:
                        tree = shell.transform_ast(
                            copy.deepcopy(cell.tree) if cached else cell.tree
                        )
                    except InputRejected as error:
                        shell.showtraceback()
                        result.error_before_exec = error
                        if not pasted:
                            _store_error(number, error)
                        return result
                    compiler = shell.compile
                else:
                    tree, compiler = cell.tree, _NodeCompiler(cell)
                body = list(tree.body)  # run_ast_nodes may append to it
                interactivity = shell.ast_node_interactivity
                # The display hook fills result.result; pointing it at the result is a
                # traitlets assignment, worth skipping when no value can be shown.
                shows = bool(body) and interactivity != "none"
                if interactivity == "last_expr" and shows:
                    shows = isinstance(body[-1], ast.Expr)
                displayhook = shell.displayhook
                enclosing = displayhook.exec_result
                if shows:
                    displayhook.exec_result = result
                try:
                    await shell.run_ast_nodes(
                        body,
                        cell.name,
                        interactivity=interactivity,
                        compiler=compiler,
                        result=result,
                    )
                finally:
                    if shows:
                        displayhook.exec_result = enclosing
            if shell.history_manager is not None and not pasted:
                shell.history_manager.store_output(number)
                if result.error_in_exec is not None:
                    _store_error(number, result.error_in_exec)
        finally:
            shell.events.trigger("post_execute")
            shell.events.trigger("post_run_cell", result)
        return result

    async def _run_slow(code: str, awaits: bool, kernel_sigint: Any, store: bool) -> Any:
        """The cell through ``run_cell_async``, then the post events ipykernel fires.
        ``store`` is False only for generated code the fast path could not take (it
        never happens): its text must not reach the history."""
        transformed, preprocessing = _transform(code)
        awaits = awaits and shell.should_run_async(
            code, transformed_cell=transformed, preprocessing_exc_tuple=preprocessing
        )
        # The run swapped SIGINT to a plain KeyboardInterrupt (see run); a cell that
        # awaits gets ipykernel's handler back, which cancels it cleanly.
        previous = signal.signal(signal.SIGINT, kernel_sigint) if awaits else None
        result = None
        try:
            result = await shell.run_cell_async(
                code,
                store_history=store,
                silent=False,
                transformed_cell=transformed,
                preprocessing_exc_tuple=preprocessing,
            )
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            shell.events.trigger("post_execute")
            shell.events.trigger("post_run_cell", result)
        return result

    _MISSING = object()

    class _Bindings:
        """Which of a cell's names its run bound.

        ``fresh`` names (bound without being read) are hidden while the cell runs, so a
        name present afterwards was bound by this run, not left over from the last one.
        One the cell did not bind gets its old value back (``untouched``: its last writer
        does not change), except the ``deletes`` of a cell that succeeded (bound, then
        deleted). A name the cell reads and binds counts as bound when it holds another
        object afterwards. ``unbound``: the names a failed cell did not bind (the cells
        reading them cannot run).
        """

        __slots__ = (
            "before",
            "binds",
            "deletes",
            "fresh",
            "hidden",
            "star_names",
            "stars",
            "unbound",
            "untouched",
        )

        def __init__(self, step: dict[str, Any]) -> None:
            self.binds: list[str] = step.get("binds", [])
            self.fresh: list[str] = step.get("fresh", [])
            self.deletes: list[str] = step.get("deletes", [])
            self.stars: list[str] = step.get("stars", [])
            self.star_names: list[str] = []
            self.hidden: dict[str, Any] = {}
            self.before: dict[str, Any] = {}
            self.untouched: list[str] = []
            self.unbound: list[str] = []

        def start(self) -> None:
            namespace = shell.user_ns
            for name in self.fresh:
                if name in namespace:
                    self.hidden[name] = namespace.pop(name)
            if len(self.fresh) < len(self.binds):
                fresh = set(self.fresh)
                for name in self.binds:
                    if name not in fresh:
                        self.before[name] = namespace.get(name, _MISSING)

        def finish(self, ok: bool) -> None:
            namespace = shell.user_ns
            deleted = set(self.deletes) if ok else ()
            for name in self.fresh:
                if name not in namespace and name not in deleted:
                    self.untouched.append(name)
                    if name in self.hidden:
                        namespace[name] = self.hidden[name]
            if not ok:
                self.unbound = self.untouched + [
                    name
                    for name, value in self.before.items()
                    if namespace.get(name, _MISSING) is value
                ]
            self.hidden.clear()
            self.before.clear()
            if self.stars:
                self.star_names = _public_names(self.stars)

    def _public_names(modules: Any) -> list[str]:
        """The names ``from module import *`` binds, for the imported modules (what the
        server's analysis cannot know before the cell runs)."""
        names: set[str] = set()
        for module_name in modules:
            module = sys.modules.get(module_name)
            if module is None:
                continue
            public = getattr(module, "__all__", None)
            if public is None:
                public = [n for n in vars(module) if not n.startswith("_")]
            names.update(n for n in public if isinstance(n, str) and n.isidentifier())
            if len(names) > 20000:
                break
        return sorted(names)

    def _lacks(lacking: dict[int, Any], parent: int, names: Any) -> bool:
        """A step reading ``names`` from step ``parent`` cannot run: that step did not
        run (None), or failed before binding one of those names."""
        if parent not in lacking:
            return False
        missing = lacking[parent]
        return missing is None or any(name in missing for name in names)

    def _put_back(kept: dict[str, Any], names: Any) -> None:
        """Put kept values back (a kept ``del`` deletes the name again)."""
        namespace = shell.user_ns
        for name in names:
            if name not in kept:
                continue
            value = kept.pop(name)
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value

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

        def _cell_parent(self, run_id: str, cell_id: str, count: Any) -> Any:
            header = dict(self._parent["header"])
            header["msg_id"] = f"reactive:{run_id}:{cell_id}"
            header["execution_count"] = count
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
            namespace = shell.user_ns
            for name in plan.get("cleanup", ()):
                namespace.pop(name, None)
            # Values of cells that keep them while an earlier definer re-runs: out now,
            # back once the readers of the earlier definition have run (see the planner).
            kept = {name: namespace.get(name, _MISSING) for name in plan.get("keep", ())}
            # step index -> names it failed to bind (None: it did not run)
            lacking: dict[int, Any] = {}
            # ipykernel answers SIGINT during an awaited request by cancelling it, which
            # never stops a busy loop: during the run, SIGINT raises KeyboardInterrupt
            # wherever the code is (set once per run; swapping per cell costs 50 us).
            self._kernel_sigint = signal.signal(signal.SIGINT, _interrupt)
            cache_size = hold_history_writes()
            self._done.clear()
            ticker = threading.Thread(target=self._ticker, daemon=True)
            ticker.start()
            try:
                for index, step in enumerate(steps):
                    cell_id = step["cell_id"]
                    _put_back(kept, step.get("restore", ()))
                    if any(_lacks(lacking, parent, names) for parent, names in step["needs"]):
                        lacking[index] = None
                        self._report(cell_id, "blocked")
                        continue
                    for name in step.get("delete", ()):
                        namespace.pop(name, None)
                    watch = _Bindings(step)
                    outcome = await self._run_cell(
                        run_id, cell_id, step["code"], watch, step.get("history")
                    )
                    if outcome == "interrupted":
                        for later in steps[index + 1 :]:
                            self._report(later["cell_id"], "cancelled")
                        break
                    if outcome != "success":
                        lacking[index] = set(watch.unbound)
            finally:
                _put_back(kept, list(kept))
                signal.signal(signal.SIGINT, self._kernel_sigint)
                write_history(cache_size)
                self._done.set()  # wakes the ticker at once: the run ends without waiting
                self._flush_streams()
                kernel.set_parent(self._ident, original_parent, "shell")
                self._flush()
                ticker.join(timeout=1)

        async def _run_cell(
            self, run_id: str, cell_id: str, code: str, watch: Any, history: str | None = None
        ) -> str:
            # the count run_cell gives the cell (none for an empty cell, as in JupyterLab)
            count = None if not code or code.isspace() else shell.execution_count
            parent = self._cell_parent(run_id, cell_id, count)
            kernel.set_parent(self._ident, parent, "shell")
            self._report(cell_id, "running", execution_count=count)
            started = time.perf_counter()
            extra: dict[str, Any]
            watch.start()
            try:
                cell = _plain_python(code, generated=history is not None)
                if cell is not None:
                    result = await _run_fast(code, cell, code if history is None else history)
                else:
                    awaits = "await" in code or "async" in code
                    result = await _run_slow(
                        code, awaits, self._kernel_sigint, store=history is None
                    )
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
            watch.finish(outcome == "success")
            if watch.untouched:
                extra["untouched"] = watch.untouched
            if outcome != "success" and watch.unbound:
                extra["unbound"] = watch.unbound
            if watch.star_names:
                extra["star_names"] = watch.star_names
            self._flush_streams()
            duration = time.perf_counter() - started
            self._report(cell_id, outcome, duration=duration, execution_count=count, **extra)
            return outcome

    shell.reactive_runner = ReactiveRunner()
