"""Cells run by the reactive runner behave as in stock Jupyter (issue 13, items 1 and 7).

The same cells go to two fresh real ipykernel kernels: a stock one, one
``execute_request`` per cell with history stored (what JupyterLab sends), and one with the
runner, a few cells per plan. Each cell must show what the stock kernel shows: the same
execution count, the same outputs (a trailing ``;`` hides the result, ``In``/``Out``/``_N``
/``_iN``, ``Cell In[N]`` in tracebacks), and user code must see a stock kernel (its
namespace, ``%who``, ``dir()`` and display formatters).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from jupyter_client.multikernelmanager import AsyncMultiKernelManager

from reactive_notebook.kernels.session import (
    CellOutputEvent,
    CellStatusEvent,
    KernelSession,
    RunEvent,
    RunStep,
)

# One plan per inner list: the counts go on from plan to plan, as from cell to cell.
PLANS: list[list[tuple[str, str]]] = [
    [
        ("add", "1+1"),
        ("times", "_*10"),
        ("out", "Out"),
        ("quiet", "x = 1\nx;"),
        ("shown", "x"),
        ("in_last", "In[-1]"),
        ("history", "_i1, _2, _ih[4], _i"),
    ],
    [
        ("magic_quiet", "%time 1+1;"),
        ("magic_then_quiet", "%config InlineBackend.figure_formats = ['png']\nx;"),
        ("magic_then_shown", "%config InlineBackend.figure_formats = ['png']\nx"),
        ("await_quiet", "import asyncio\nawait asyncio.sleep(0)\nx;"),
        ("await_shown", "await asyncio.sleep(0)\nx + 1"),
        ("fails", "def f():\n    return 1 / 0\nf()"),
    ],
    [
        ("plot_quiet", "import matplotlib.pyplot as plt\nplt.plot([1, 2]);"),
        ("plot_shown", "plt.plot([1, 2])"),
        ("comment_after_semicolon", "x;  # a comment"),
        ("again", "_*10"),
        ("out_again", "sorted(Out)"),
    ],
    [
        ("who", "%who"),
        ("dir", "sorted(dir())"),
        ("hidden", "sorted(get_ipython().user_ns_hidden)"),
        ("formatters", "list(get_ipython().display_formatter.formatters)"),
        ("bundle_printers", "get_ipython().display_formatter.mimebundle_formatter.type_printers"),
    ],
]
CELLS = [cell for plan in PLANS for cell in plan]

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ADDRESS = re.compile(r"0x[0-9a-f]+")
DURATION = re.compile(r"[\d.]+(e[+-]?\d+)?\s*(ns|µs|μs|us|ms|s)\b")


@dataclass
class Shown:
    """What one cell showed: its execution count and its outputs, comparable."""

    count: int | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, content: dict[str, Any]) -> None:
        if kind == "stream":
            text = DURATION.sub("T", content["text"])
            last = self.outputs[-1] if self.outputs else None
            if last is not None and last["kind"] == "stream" and last["name"] == content["name"]:
                last["text"] += text
            else:
                self.outputs.append({"kind": kind, "name": content["name"], "text": text})
        elif kind == "error":
            lines = ANSI.sub("", "\n".join(content["traceback"]))
            self.outputs.append({"kind": kind, "ename": content["ename"], "cells": _cells(lines)})
        elif kind in ("display_data", "execute_result"):
            data = content["data"]
            plain = ADDRESS.sub("0x", str(data.get("text/plain", "")))
            shown: dict[str, Any] = {"kind": kind, "mimes": sorted(data), "plain": plain}
            if kind == "execute_result":
                shown["count"] = content.get("execution_count")
            self.outputs.append(shown)

    def kinds(self) -> list[str]:
        return [output["kind"] for output in self.outputs]

    def plain(self) -> str:
        (result,) = [o for o in self.outputs if o["kind"] == "execute_result"]
        return str(result["plain"])


def _cells(traceback: str) -> list[str]:
    """The ``Cell In[N]`` headings of a traceback."""
    return re.findall(r"Cell In\[\d+\]", traceback)


@pytest.fixture(scope="module")
def manager() -> AsyncMultiKernelManager:
    return AsyncMultiKernelManager()


async def run_stock(manager: AsyncMultiKernelManager) -> dict[str, Shown]:
    """Each cell as JupyterLab runs it in a fresh stock kernel."""
    kernel_id = await manager.start_kernel(kernel_name="python3")
    client = manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        shown: dict[str, Shown] = {}
        for name, code in CELLS:
            cell = shown[name] = Shown()
            msg_id = client.execute(code, store_history=True)
            while True:
                message = await client.get_iopub_msg(timeout=60)
                if message["parent_header"].get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "status" and content["execution_state"] == "idle":
                    break
                cell.add(kind, content)
            while True:
                reply = await client.get_shell_msg(timeout=60)
                if reply["parent_header"].get("msg_id") == msg_id:
                    cell.count = reply["content"]["execution_count"]
                    break
        return shown
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(kernel_id, now=True)


async def run_reactive(manager: AsyncMultiKernelManager) -> tuple[dict[str, Shown], set[str]]:
    """The same cells through the runner, one plan per list of ``PLANS``; also which
    events carried a count other than the one the cell's status reported."""
    session = KernelSession(manager)
    await session.start()
    shown: dict[str, Shown] = {name: Shown() for name, _ in CELLS}
    output_counts: dict[str, set[int | None]] = {name: set() for name, _ in CELLS}

    def on_event(event: RunEvent) -> None:
        cell = shown[event.cell_id]
        if isinstance(event, CellOutputEvent):
            output_counts[event.cell_id].add(event.execution_count)
            output = dict(event.output)
            kind = output.pop("output_type")
            if kind == "stream":
                output["text"] = "".join(output["text"])
            cell.add(kind, output)
        elif isinstance(event, CellStatusEvent):
            if cell.count is not None:
                assert event.execution_count == cell.count
            cell.count = event.execution_count

    try:
        for plan in PLANS:
            result = await session.run([RunStep(name, code) for name, code in plan], on_event)
            assert result.runner_error is None
        mismatched = {
            name for name, counts in output_counts.items() if counts - {shown[name].count}
        }
        return shown, mismatched
    finally:
        await session.shutdown()


@pytest.fixture(scope="module")
def both(
    loop: asyncio.AbstractEventLoop, manager: AsyncMultiKernelManager
) -> tuple[dict[str, Shown], dict[str, Shown]]:
    async def main() -> tuple[dict[str, Shown], tuple[dict[str, Shown], set[str]]]:
        return await asyncio.gather(run_stock(manager), run_reactive(manager))

    stock, (reactive, mismatched) = loop.run_until_complete(main())
    assert mismatched == set(), "outputs carried another count than their cell's"
    return stock, reactive


@pytest.mark.parametrize("name", [name for name, _ in CELLS])
def test_each_cell_shows_what_stock_jupyter_shows(
    both: tuple[dict[str, Shown], dict[str, Shown]], name: str
) -> None:
    stock, reactive = both
    assert reactive[name].count == stock[name].count
    assert reactive[name].outputs == stock[name].outputs


def test_a_trailing_semicolon_hides_the_result(
    both: tuple[dict[str, Shown], dict[str, Shown]],
) -> None:
    _, reactive = both
    for name in ("quiet", "magic_then_quiet", "await_quiet", "comment_after_semicolon"):
        assert reactive[name].outputs == [], name
    assert reactive["shown"].plain() == "1"
    assert reactive["magic_then_shown"].plain() == "1"
    assert reactive["await_shown"].plain() == "2"


def test_a_plot_ending_in_a_semicolon_shows_only_the_figure(
    both: tuple[dict[str, Shown], dict[str, Shown]],
) -> None:
    _, reactive = both
    (figure,) = reactive["plot_quiet"].outputs
    assert figure["kind"] == "display_data"
    assert "image/png" in figure["mimes"]
    assert reactive["plot_shown"].kinds() == ["execute_result", "display_data"]
    assert "Line2D" in reactive["plot_shown"].plain()


def test_in_out_and_numbered_names_follow_the_execution_counts(
    both: tuple[dict[str, Shown], dict[str, Shown]],
) -> None:
    _, reactive = both
    counts = [reactive[name].count for name, _ in CELLS]
    assert counts == list(range(1, len(CELLS) + 1))  # one per cell, across plans
    assert reactive["out"].plain() == "{1: 2, 2: 20}"
    assert reactive["in_last"].plain() == "'In[-1]'"
    assert reactive["history"].plain() == "('1+1', 20, 'x = 1\\nx;', 'In[-1]')"
    # Out holds the result of every cell that showed one under its count (but Out itself)
    names = [name for name, _ in CELLS]
    before = names[: names.index("out_again")]
    results = [
        reactive[name].count
        for name in before
        if "execute_result" in reactive[name].kinds() and name != "out"
    ]
    assert reactive["out_again"].plain() == str(results)


def test_tracebacks_name_the_cell_by_its_count(
    both: tuple[dict[str, Shown], dict[str, Shown]],
) -> None:
    _, reactive = both
    (error,) = reactive["fails"].outputs
    count = reactive["fails"].count
    assert error["cells"] == [f"Cell In[{count}]", f"Cell In[{count}]"]


def test_user_code_sees_a_stock_kernel(
    both: tuple[dict[str, Shown], dict[str, Shown]],
) -> None:
    stock, reactive = both
    for name in ("who", "dir", "hidden", "formatters", "bundle_printers"):
        assert reactive[name].outputs == stock[name].outputs, name
    assert "reactive" not in reactive["dir"].plain()
    assert "vegalite" not in reactive["formatters"].plain()
    assert "reactive" not in reactive["formatters"].plain()
