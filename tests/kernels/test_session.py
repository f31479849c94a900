"""A notebook's kernel session, against real ipykernel kernels (no server needed).

The kernels are started by jupyter_client's AsyncMultiKernelManager, which is what the
session gets from ``serverapp.kernel_manager`` in the extension.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.multikernelmanager import AsyncMultiKernelManager

from reactive_notebook.kernels.environment import kernel_environment
from reactive_notebook.kernels.session import (
    CellOutputEvent,
    CellStatusEvent,
    KernelDied,
    KernelSession,
    RunEvent,
    RunStep,
)


@pytest.fixture(scope="module")
def session(loop: asyncio.AbstractEventLoop) -> Iterator[KernelSession]:
    """One kernel for the module: starting one costs about a second."""
    env = dict(os.environ, SERVER_API_KEY="sk-secret", AWS_SECRET_ACCESS_KEY="x")
    kernel = KernelSession(AsyncMultiKernelManager(), env=kernel_environment(env))
    loop.run_until_complete(kernel.start())
    yield kernel
    loop.run_until_complete(kernel.shutdown())


class Recorder:
    """Collects a run's events with the time each arrived."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.events: list[tuple[float, RunEvent]] = []

    def __call__(self, event: RunEvent) -> None:
        self.events.append((time.perf_counter() - self.started, event))

    def statuses(self, cell_id: str) -> list[str]:
        return [
            e.status
            for _, e in self.events
            if isinstance(e, CellStatusEvent) and e.cell_id == cell_id
        ]

    def outputs(self, cell_id: str) -> list[dict[str, Any]]:
        return [
            e.output
            for _, e in self.events
            if isinstance(e, CellOutputEvent) and e.cell_id == cell_id
        ]

    def stdout(self, cell_id: str) -> str:
        return "".join(o["text"] for o in self.outputs(cell_id) if o["output_type"] == "stream")


def run(loop: asyncio.AbstractEventLoop, session: KernelSession, *steps: RunStep, **kw: Any):  # type: ignore[no-untyped-def]
    recorder = Recorder()
    result = loop.run_until_complete(session.run(steps, recorder, **kw))
    return result, recorder


def test_outputs_land_on_their_cell_in_one_request(loop, session) -> None:  # type: ignore[no-untyped-def]
    result, events = run(
        loop,
        session,
        RunStep("a", "x = 1\nprint('hello', x)"),
        RunStep("b", "y = x + 1\ny"),
        RunStep("c", "from IPython.display import HTML\ndisplay(HTML('<b>hi</b>'))"),
    )
    assert result.statuses == {"a": "success", "b": "success", "c": "success"}
    assert events.statuses("a") == ["running", "success"]
    assert events.stdout("a") == "hello 1\n"
    assert events.outputs("b")[0]["data"]["text/plain"] == "2"
    assert "<b>hi</b>" in events.outputs("c")[0]["data"]["text/html"]


def test_a_failing_cell_skips_only_the_cells_that_read_from_it(loop, session) -> None:  # type: ignore[no-untyped-def]
    result, events = run(
        loop,
        session,
        RunStep("bad", "boom = 1 / 0", binds=frozenset({"boom"}), fresh=frozenset({"boom"})),
        RunStep("reader", "after = boom + 1", needs=((0, frozenset({"boom"})),)),
        RunStep("other", "independent = 42"),
    )
    assert result.statuses == {"bad": "error", "reader": "blocked", "other": "success"}
    error = events.outputs("bad")[0]
    assert error["output_type"] == "error"
    assert error["ename"] == "ZeroDivisionError"
    assert events.outputs("reader") == []


def test_stdout_streams_before_the_cell_ends(loop, session) -> None:  # type: ignore[no-untyped-def]
    _, events = run(
        loop,
        session,
        RunStep("slow", "import time\nprint('first')\ntime.sleep(1)\nprint('second')"),
    )
    arrivals = {
        e.output["text"].strip(): t
        for t, e in events.events
        if isinstance(e, CellOutputEvent) and e.output["output_type"] == "stream"
    }
    finished = next(
        t for t, e in events.events if isinstance(e, CellStatusEvent) and e.status == "success"
    )
    assert arrivals["first"] < finished - 0.5
    assert events.statuses("slow") == ["running", "success"]


def test_names_are_deleted_before_the_cell_runs(loop, session) -> None:  # type: ignore[no-untyped-def]
    run(loop, session, RunStep("w", "stale_name = 1"))
    _, events = run(
        loop,
        session,
        RunStep("r", "print('stale_name' in globals())", delete=frozenset({"stale_name"})),
    )
    assert events.stdout("r") == "False\n"


def test_the_kernel_namespace_holds_no_runner_names(loop, session) -> None:  # type: ignore[no-untyped-def]
    names = "('Any', 'install_reactive_runner', 'history_batching', 'install_table_formatter')"
    probe = f"print([n for n in {names} if n in globals()])"
    _, events = run(loop, session, RunStep("ns", probe))
    assert events.stdout("ns") == "[]\n"


def test_the_kernel_does_not_inherit_the_servers_secrets(loop, session) -> None:  # type: ignore[no-untyped-def]
    _, events = run(
        loop,
        session,
        RunStep(
            "env",
            "import os\nprint(sorted(k for k in os.environ if 'SECRET' in k or 'API_KEY' in k))",
        ),
    )
    assert events.stdout("env") == "[]\n"


def test_interrupt_ends_the_running_cell_and_cancels_the_rest(loop, session) -> None:  # type: ignore[no-untyped-def]
    async def interrupt_soon() -> None:
        await asyncio.sleep(0.5)
        await session.interrupt()

    async def both() -> Any:
        return await asyncio.gather(session.run(steps, Recorder()), interrupt_soon())

    steps = [RunStep("spin", "while True: pass"), RunStep("later", "never = 1")]
    started = time.perf_counter()
    result, _ = loop.run_until_complete(both())
    assert time.perf_counter() - started < 2.5
    assert result.interrupted
    assert result.statuses == {"spin": "interrupted", "later": "cancelled"}
    after, _ = run(loop, session, RunStep("next", "ok = 1"))
    assert after.statuses == {"next": "success"}


def test_a_killed_kernel_reports_death_and_the_next_run_works(loop, session) -> None:  # type: ignore[no-untyped-def]
    kernel = session.manager.get_kernel(session.kernel_id)
    pid = kernel.provisioner.process.pid

    async def kill_soon() -> None:
        await asyncio.sleep(0.5)
        os.kill(pid, signal.SIGKILL)

    async def both() -> Any:
        steps = [RunStep("spin", "import time\ntime.sleep(30)")]
        return await asyncio.gather(session.run(steps, Recorder()), kill_soon())

    with pytest.raises(KernelDied):
        loop.run_until_complete(both())
    result, events = run(loop, session, RunStep("again", "print('alive')"))
    assert result.statuses == {"again": "success"}
    assert events.stdout("again") == "alive\n"


def test_a_hundred_cell_chain_runs_in_one_request(loop, session) -> None:  # type: ignore[no-untyped-def]
    steps = [RunStep(f"c{i}", f"v{i} = {f'v{i - 1}' if i else 0} + 1") for i in range(100)]
    result, _ = run(loop, session, *steps)
    assert all(status == "success" for status in result.statuses.values())
    assert len(result.statuses) == 100
    _, out = run(loop, session, RunStep("check", "print(v99)"))
    assert out.stdout("check") == "100\n"


# -- IPython semantics the runner keeps (plain Python takes a fast path, a re-run reuses
# the parsed and compiled cell; magics, shell escapes and top-level await do not) ------

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def traceback_text(events: Recorder, cell_id: str) -> str:
    (error,) = [o for o in events.outputs(cell_id) if o["output_type"] == "error"]
    return ANSI.sub("", "\n".join(error["traceback"]))


def test_every_cell_fires_ipythons_execution_events(loop, session) -> None:  # type: ignore[no-untyped-def]
    setup = (
        "seen_events = []\n"
        "def _record(kind):\n"
        "    def record(arg=None):\n"
        "        if kind == 'post_run_cell':\n"
        "            arg = (arg.info.raw_cell, arg.success, arg.result)\n"
        "        elif kind == 'pre_run_cell':\n"
        "            arg = arg.raw_cell\n"
        "        seen_events.append((kind, arg))\n"
        "    return record\n"
        "for _kind in ('pre_execute', 'pre_run_cell', 'post_execute', 'post_run_cell'):\n"
        "    get_ipython().events.register(_kind, _record(_kind))\n"
    )
    run(loop, session, RunStep("setup", setup))
    cells = ["plain = 1", "plain + 1", "%time timed = 3", "import asyncio\nawait asyncio.sleep(0)"]
    steps = [RunStep(f"c{i}", code) for i, code in enumerate(cells)]
    for _ in range(2):  # the second run reuses the cached cells
        run(loop, session, RunStep("reset", "seen_events.clear()"))
        result, _ = run(loop, session, *steps, RunStep("bad", "1 / 0"))
        assert result.statuses == {**{s.cell_id: "success" for s in steps}, "bad": "error"}
        probe = "print(repr(seen_events))"
        _, events = run(loop, session, RunStep("probe", probe))
        seen = eval(events.stdout("probe"))
        expected = []
        for code, value in zip([*cells, "1 / 0"], [None, 2, None, None, None], strict=True):
            expected += [
                ("pre_execute", None),
                ("pre_run_cell", code),
                ("post_execute", None),
                ("post_run_cell", (code, code != "1 / 0", value)),
            ]
        # the runner's own request fires them too, around the whole run
        first = seen.index(("pre_run_cell", cells[0])) - 1
        assert seen[first : first + len(expected)] == expected


def test_a_traceback_shows_the_failing_lines_of_the_cell(loop, session) -> None:  # type: ignore[no-untyped-def]
    code = "def divide(a):\n    return a / 0\n\ndivide(1)"
    for clear in ("", "import linecache\nlinecache.clearcache()"):
        if clear:
            run(loop, session, RunStep("clear", clear))
        result, events = run(loop, session, RunStep("tb", code))
        assert result.statuses == {"tb": "error"}
        text = traceback_text(events, "tb")
        assert "ZeroDivisionError" in text
        assert "return a / 0" in text
        assert "divide(1)" in text


def test_a_syntax_error_is_reported_on_the_cell(loop, session) -> None:  # type: ignore[no-untyped-def]
    result, events = run(loop, session, RunStep("syntax", "x = (1,\n"), RunStep("ret", "return 5"))
    assert result.statuses == {"syntax": "error", "ret": "error"}
    assert "SyntaxError" in traceback_text(events, "syntax")
    assert "'return' outside function" in traceback_text(events, "ret")


def test_a_last_expression_is_displayed_on_every_run(loop, session) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        _, events = run(
            loop,
            session,
            RunStep("expr", "answer = 40\nanswer + 2"),
            RunStep("quiet", "if True:\n    answer * 2"),
            RunStep("under", "print(_)"),
        )
        assert [o["data"]["text/plain"] for o in events.outputs("expr")] == ["42"]
        assert events.outputs("quiet") == []
        assert events.stdout("under") == "42\n"


def test_a_dataframe_and_an_inline_figure_reach_their_cells(loop, session) -> None:  # type: ignore[no-untyped-def]
    result, events = run(
        loop,
        session,
        RunStep("inline", "%matplotlib inline"),
        RunStep("plot", "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])"),
        RunStep("frame", "import pandas as pd\npd.DataFrame({'a': [1, 2]})"),
    )
    assert set(result.statuses.values()) == {"success"}
    # drawn without plt.show(): flushed by post_execute while the cell still owns iopub
    assert any("image/png" in o.get("data", {}) for o in events.outputs("plot"))
    (shown,) = events.outputs("frame")
    assert "application/vnd.reactive-notebook.table+json" in shown["data"]


def test_a_warning_is_shown_once_each_run(loop, session) -> None:  # type: ignore[no-untyped-def]
    code = "import warnings\nfor _ in range(3):\n    warnings.warn('careful')"
    for _ in range(2):
        _, events = run(loop, session, RunStep("warn", code))
        stderr = "".join(o["text"] for o in events.outputs("warn") if o.get("name") == "stderr")
        assert stderr.count("UserWarning: careful") == 1


def test_magics_shell_escapes_and_top_level_await_still_work(loop, session) -> None:  # type: ignore[no-untyped-def]
    result, events = run(
        loop,
        session,
        RunStep("magic", "%load_ext autoreload"),
        RunStep("shell", "!echo from-a-shell"),
        RunStep("await", "import asyncio\nawait asyncio.sleep(0.01)\nprint('awaited')"),
        RunStep("future", "from __future__ import annotations\ndef f(x: Undefined): pass"),
        RunStep("after", "def g(y: AlsoUndefined): pass\nprint(g.__annotations__)"),
    )
    assert set(result.statuses.values()) == {"success"}
    assert "from-a-shell" in events.stdout("shell")
    assert events.stdout("await") == "awaited\n"
    assert events.stdout("after") == "{'y': 'AlsoUndefined'}\n"


def test_registered_input_and_ast_transformers_apply_to_plain_cells(loop, session) -> None:  # type: ignore[no-untyped-def]
    run(loop, session, RunStep("before", "print(7)"))  # cached before the transformers
    setup = (
        "import ast\n"
        "class _Negate(ast.NodeTransformer):\n"
        "    def visit_Constant(self, node):\n"
        "        if type(node.value) is int:\n"
        "            return ast.copy_location(ast.Constant(-node.value), node)\n"
        "        return node\n"
        "_negate = _Negate()\n"
        "get_ipython().ast_transformers.append(_negate)\n"
    )
    run(loop, session, RunStep("ast", setup))
    for _ in range(2):
        _, events = run(loop, session, RunStep("before", "print(7)"))
        assert events.stdout("before") == "-7\n"
    run(loop, session, RunStep("off", "get_ipython().ast_transformers.remove(_negate)"))
    # (lines of the runner's own request, "await get_ipython()...", are left alone)
    louder = (
        "def _louder(lines):\n"
        "    return [l.replace('quiet', 'loud') if l[:5] == 'print' else l for l in lines]\n"
    )
    add = "get_ipython().input_transformers_post.append(_louder)"
    run(loop, session, RunStep("input", louder + add))
    _, events = run(loop, session, RunStep("shout", "print('quiet')"))
    run(loop, session, RunStep("off", "get_ipython().input_transformers_post.clear()"))
    assert events.stdout("shout") == "loud\n"
    _, events = run(loop, session, RunStep("before", "print(7)"))
    assert events.stdout("before") == "7\n"


def test_a_runs_inputs_reach_the_kernels_history_database(loop, session) -> None:  # type: ignore[no-untyped-def]
    """As in stock Jupyter every executed cell is in the history database (written in one
    go when the run ends, not one commit per cell); the plan request itself is not."""
    marker = f"history_marker_{time.monotonic_ns()}"
    steps = [RunStep(f"h{i}", f"{marker}_{i} = {i}") for i in range(3)]
    run(loop, session, *steps)
    probe = (
        "import time\n"
        "history = get_ipython().history_manager\n"
        "for _ in range(100):\n"
        "    rows = history.db.execute(\n"
        "        'SELECT source_raw FROM history WHERE session = ? AND source_raw LIKE ?',\n"
        f"        (history.session_number, '%{marker}%'),\n"
        "    ).fetchall()\n"
        "    if len(rows) >= 3:\n"
        "        break\n"
        "    time.sleep(0.05)\n"
        "print(sorted(r[0] for r in rows))\n"
        "print(any('reactive_runner' in r[0] for r in history.db.execute("
        "'SELECT source_raw FROM history WHERE session = ?', (history.session_number,))))"
    )
    _, events = run(loop, session, RunStep("probe", probe))
    expected = sorted(f"{marker}_{i} = {i}" for i in range(3))
    assert events.stdout("probe") == f"{expected}\nFalse\n"


# Run in the kernel: the next request whose code carries the marker publishes no ``idle``
# (as when IOPub drops it); its reply on the shell channel still goes out.
LOSE_NEXT_IDLE = """
_k = get_ipython().kernel
_publish = _k._publish_status
def _lossy(status, channel, parent=None, _k=_k, _publish=_publish):
    request = parent or _k.get_parent(channel)
    if status == 'idle' and 'LOSE-' 'THIS-IDLE' in request.get('content', {}).get('code', ''):
        del _k._publish_status
        return
    return _publish(status, channel, parent)
_k._publish_status = _lossy
del _k, _publish, _lossy
"""


def test_a_run_whose_idle_is_lost_ends_after_the_grace(loop, session, caplog) -> None:  # type: ignore[no-untyped-def]
    from reactive_notebook.kernels import session as session_module

    run(loop, session, RunStep("arm", LOSE_NEXT_IDLE))
    grace, session_module.LOST_IDLE_GRACE = session_module.LOST_IDLE_GRACE, 1.0
    try:
        started = time.monotonic()
        result, events = run(loop, session, RunStep("lossy", "# LOSE-THIS-IDLE\nprint('ran')"))
        took = time.monotonic() - started
    finally:
        session_module.LOST_IDLE_GRACE = grace
    assert result.statuses == {"lossy": "success"}
    assert events.stdout("lossy") == "ran\n"
    assert 1.0 <= took < 10, took
    assert "its idle status never came" in caplog.text
    # The kernel is fine, and the next run ends on its idle as usual.
    started = time.monotonic()
    result, events = run(loop, session, RunStep("after", "print('next')"))
    assert result.statuses == {"after": "success"}
    assert time.monotonic() - started < 1.0


# A kernel whose first process dies before it answers, as a kernel does when another
# process took one of its ports between their choice and its bind; the next one starts.
DIES_ONCE = """
import os, sys
marker, connection_file = sys.argv[1], sys.argv[2]
if not os.path.exists(marker):
    open(marker, "w").close()
    sys.exit("Address already in use (as if)")
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file])
"""


def test_a_kernel_that_dies_while_starting_is_replaced(loop, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    import json
    import sys

    from jupyter_client.kernelspec import KernelSpecManager

    spec = tmp_path / "kernels" / "dies-once"
    spec.mkdir(parents=True)
    (tmp_path / "launch.py").write_text(DIES_ONCE)
    argv = [sys.executable, str(tmp_path / "launch.py"), str(tmp_path / "died")]
    kernel_json = {"argv": [*argv, "{connection_file}"], "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel_json | {"display_name": "dies once"}))
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    manager = AsyncMultiKernelManager(kernel_spec_manager=specs)
    session = KernelSession(manager, kernel_name="dies-once", env=kernel_environment(os.environ))
    try:
        result, events = run(loop, session, RunStep("a", "print('second process')"))
        assert result.statuses == {"a": "success"}
        assert events.stdout("a") == "second process\n"
        assert (tmp_path / "died").exists()  # the first one did die
        assert "died while starting" in caplog.text
        assert len(manager.list_kernel_ids()) == 1  # the dead one is not left behind
    finally:
        loop.run_until_complete(session.shutdown())
        loop.run_until_complete(manager.shutdown_all(now=True))
