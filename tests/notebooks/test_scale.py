"""Building a notebook cell by cell costs time linear in its size (issue 12 item 2).

5,000 cells created over the WebSocket took 29 s and 10,000 took 74 s: every edit walked
the whole notebook (stale flags, cell lookups by scanning) and every new definer of a name
rebuilt all of that name's edges. The cost is measured here as the number of Python calls
the service makes (cProfile's count: deterministic, unlike a clock on a shared machine):
building 4x the cells must cost about 4x the calls, not 16x.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from pathlib import Path

import pytest

from reactive_notebook.contents.atomic import AtomicFileContentsManager
from reactive_notebook.contents.store import NotebookStore
from reactive_notebook.notebooks.service import NotebookService

from .harness import USER

SMALL, LARGE = 300, 1200

SHAPES: dict[str, Callable[[int], str]] = {
    "empty cells": lambda i: "",
    "a chain": lambda i: f"v{i} = v{i - 1} + 1" if i else "v0 = 0",
    "one name defined by every cell": lambda i: f"x = {i}",
    "definers and readers of one name": lambda i: f"x = {i}" if i % 2 else "print(x)",
    "one definer, many readers": lambda i: "x = 1" if i == 0 else "y = x",
    "a dynamic cell at the top": lambda i: "print(globals())" if i == 0 else f"v{i} = {i}",
    "dynamic cells reading one name": lambda i: f"x = {i}" if i == 0 else "print(eval(s))",
}


class _IdleKernel:
    """Nothing runs in these tests: the kernel is never started, so none is needed."""

    started = False

    async def shutdown(self) -> None:
        return None


async def calls_to_build(
    root: Path, cells: int, code: Callable[[int], str], *, below: str | None = None
) -> int:
    """Python calls made creating ``cells`` cells one by one, each after the last, then
    editing each once (saves are held off: their cost is one write per burst). With
    ``below``, a cell of that code is created first and the others above it."""
    root.mkdir()
    store = NotebookStore(AtomicFileContentsManager(root_dir=str(root)))
    service = NotebookService(store, lambda notebook: _IdleKernel(), save_delay=3600)
    notebook = await service.create_notebook(USER, "scale")
    await service.get_notebook(USER, notebook.id)
    profile = cProfile.Profile()
    last = None
    ids = []
    profile.enable()
    if below is not None:
        await service.create_cell(USER, notebook.id, "python", below, after_cell_id=None)
    for i in range(cells):
        cell = await service.create_cell(USER, notebook.id, "python", code(i), after_cell_id=last)
        last = cell.id
        ids.append(last)
    for i, cell_id in enumerate(ids):
        await service.update_cell(USER, notebook.id, cell_id, code(i) + "  # edited")
    profile.disable()
    await service.shutdown()
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_building_a_notebook_costs_linear_work(tmp_path: Path, shape: str) -> None:
    small = await calls_to_build(tmp_path / "small", SMALL, SHAPES[shape])
    large = await calls_to_build(tmp_path / "large", LARGE, SHAPES[shape])
    ratio = large / small
    assert ratio < 5.5, f"{LARGE} cells cost {ratio:.1f}x the calls of {SMALL} (linear: 4x)"


async def test_definitions_inserted_above_a_dynamic_cell_cost_linear_work(tmp_path: Path) -> None:
    """A cell that reads every name above it, at the end of the notebook: each definition
    inserted or edited above it re-links that one cell for the names that changed."""
    code = SHAPES["a chain"]
    small = await calls_to_build(tmp_path / "small", SMALL, code, below="print(globals())")
    large = await calls_to_build(tmp_path / "large", LARGE, code, below="print(globals())")
    ratio = large / small
    assert ratio < 5.5, f"{LARGE} cells cost {ratio:.1f}x the calls of {SMALL} (linear: 4x)"
