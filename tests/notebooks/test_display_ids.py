"""Display updates reach every output showing the display id, in any cell (issue 13, item 2).

Stock Jupyter (JupyterLab, nbclient): ``h = display('x', display_id='d')`` | ``h.update('z')``
shows ``'z'`` in the first cell; ``display('a', display_id='q')`` | ``display('b',
display_id='q')`` shows ``'b'`` in both. Here with real kernels, through the service: what
GET answers, what the saved file holds, and the events clients receive.
"""

from __future__ import annotations

import json
from typing import Any

import nbformat

from reactive_notebook.kernels.outputs import display_id

from .harness import Harness, scenario


async def shown(h: Harness, cell_id: str) -> list[Any]:
    """The data of the cell's outputs, as GET shows them."""
    return [o["data"] for o in (await h.cell(cell_id))["outputs"]]


async def saved(h: Harness, cell_id: str) -> list[Any]:
    """The ``text/plain`` of the cell's display outputs in the saved file."""
    notebook = nbformat.read(await h.saved(), as_version=4)  # type: ignore[no-untyped-call]
    (cell,) = [c for c in notebook.cells if c.get("id") == cell_id]
    return [o["data"].get("text/plain") for o in cell.outputs if "data" in o]


def events_since(h: Harness, seq: int, type_: str) -> list[dict[str, Any]]:
    events = h.service.hub.since(h.notebook_id, seq)
    assert events is not None
    return [e.data for e in events if e.type == type_]


@scenario
async def test_a_handle_updates_the_display_another_cell_showed(h: Harness) -> None:
    first, second = await h.new("h = display('x', display_id='d')", "h.update('z')")
    seq = h.service.hub.last_seq(h.notebook_id)
    await h.run_all()
    assert await shown(h, first) == ["'z'"]
    assert await shown(h, second) == [], "an update adds no output"
    assert await saved(h, first) == ["'z'"]
    updates = events_since(h, seq, "cell_output_updated")
    assert [(u["cell_id"], u["display_id"], u["output"]["data"]) for u in updates] == [
        (first, "d", "'z'")
    ]
    # The cell that showed it was run here, and stays trusted; so is the update.
    assert updates[0]["trusted"] is True
    assert (await h.cell(first))["trusted"] is True
    assert updates[0]["output"]["metadata"]["display_id"] == "d"


@scenario
async def test_a_display_reusing_an_id_updates_the_earlier_one(h: Harness) -> None:
    first, second = await h.new(
        "a = display('a', display_id='q')", "b = display('b', display_id='q')"
    )
    await h.run_all()
    assert await shown(h, first) == ["'b'"]
    assert await shown(h, second) == ["'b'"]
    assert await saved(h, first) == ["'b'"]
    assert await saved(h, second) == ["'b'"]
    # Within one cell too: both displays of the id show the last one.
    third = await h.add("c = display('c', display_id='r')\ne = display('e', display_id='r')")
    await h.run(third)
    assert await shown(h, third) == ["'e'", "'e'"]
    assert await saved(h, third) == ["'e'", "'e'"]
    # What was saved is what a restarted server shows (no display ids to update then).
    await h.restart_service()
    assert [await shown(h, c) for c in (first, second, third)] == [["'b'"], ["'b'"], ["'e'", "'e'"]]
    # Outputs loaded from the file belong to no kernel session: a new display of their
    # id leaves them alone, as JupyterLab does after a reload.
    fourth = await h.add("d = display('z', display_id='q')")
    await h.run(fourth)
    assert [await shown(h, c) for c in (first, fourth)] == [["'b'"], ["'z'"]]


@scenario
async def test_a_progress_bar_updated_from_another_cell_ends_full(h: Harness) -> None:
    bar, loop = await h.new(
        "h = display('0%', display_id=True)",
        "for i in range(5):\n    h.update(f'{(i + 1) * 20}%')",
    )
    seq = h.service.hub.last_seq(h.notebook_id)
    await h.run_all()
    assert await shown(h, bar) == ["'100%'"]
    assert await shown(h, loop) == []
    updates = events_since(h, seq, "cell_output_updated")
    assert [u["output"]["data"] for u in updates] == ["'20%'", "'40%'", "'60%'", "'80%'", "'100%'"]
    assert {u["cell_id"] for u in updates} == {bar}


@scenario
async def test_rerunning_the_first_cell_drops_its_old_outputs_from_the_index(h: Harness) -> None:
    bar, _loop = await h.new(
        "h = display('0%', display_id=True)",
        "for i in range(5):\n    h.update(f'{i}')",
    )
    await h.run_all()
    opened = await h.opened()
    (old_id,) = [display_id(o) for o in opened.notebook.cell(bar).outputs]
    assert old_id is not None
    assert opened.displays.cells_showing(old_id) == [bar]
    await h.run(bar)  # re-runs the loop too (it reads h)
    (new_id,) = [display_id(o) for o in opened.notebook.cell(bar).outputs]
    assert new_id != old_id
    assert opened.displays.cells_showing(old_id) == []
    assert opened.displays.cells_showing(new_id) == [bar]
    assert opened.displays.size() == 1, "one output shows a display id: the new one"
    assert await shown(h, bar) == ["'4'"]


@scenario
async def test_cleared_rerun_and_deleted_cells_leave_the_index(h: Harness) -> None:
    first, second = await h.new(
        "a = display('a', display_id='q')", "b = display('b', display_id='q')"
    )
    await h.run_all()
    opened = await h.opened()
    assert opened.displays.cells_showing("q") == [first, second]
    # Re-running the first cell: its old output leaves, its new one comes in after.
    await h.run(first)
    assert opened.displays.cells_showing("q") == [second, first]
    assert await shown(h, second) == ["'a'"], "the re-run display updated the other cell"
    # A cell that clears its outputs shows nothing, and an update does not bring it back.
    await h.edit(first, "from IPython.display import clear_output\nclear_output()")
    await h.run(first)
    assert opened.displays.cells_showing("q") == [second]
    third = await h.add("c = display('c', display_id='q')")
    await h.run(third)
    assert await shown(h, first) == []
    assert await shown(h, second) == ["'c'"]
    await h.service.delete_cell("ada", h.notebook_id, second)
    assert opened.displays.cells_showing("q") == [third]
    assert opened.displays.size() == 1


@scenario
async def test_a_clear_output_waiting_for_the_next_output_ignores_display_updates(
    h: Harness,
) -> None:
    code = (
        "from IPython.display import clear_output\n"
        "h = display('a', display_id='w')\n"
        "clear_output(wait=True)\n"
        "h.update('b')\n"
    )
    (cell,) = await h.new(code)
    await h.run(cell)
    # nbclient and JupyterLab clear on the cell's next output; an update is none.
    assert await shown(h, cell) == ["'b'"]
    await h.edit(cell, code + "print('next')")
    await h.run(cell)
    described = await h.cell(cell)
    assert described["outputs"] == []
    assert described["stdout"] == "next\n"


@scenario
async def test_an_update_that_does_not_fit_the_other_cell_shows_the_note(h: Harness) -> None:
    limit = 50_000
    h.service.max_output_bytes = limit
    first, second, third = await h.new(
        "h = display('x', display_id='d')",
        "h.update('y' * 200_000)",
        "h.update('small')",
    )
    await h.run(second)
    (note,) = (await h.cell(first))["outputs"]
    assert "output truncated" in note["data"]
    assert note["metadata"]["display_id"] == "d"
    size = len(json.dumps((await h.cell(first))["outputs"]))
    assert size < limit
    # The note keeps the id: a later update that fits takes its place.
    await h.run(third)
    assert await shown(h, first) == ["'small'"]


@scenario
async def test_a_kernel_restart_ends_every_display_id(h: Harness) -> None:
    first, second = await h.new(
        "a = display('a', display_id='q')", "b = display('b', display_id='q')"
    )
    await h.run(first)
    opened = await h.opened()
    assert opened.displays.cells_showing("q") == [first]
    await opened.kernel.restart()  # as from JupyterLab's Kernel menu
    await h.run(second)  # the run notices the new kernel process
    assert opened.displays.cells_showing("q") == [second]
    assert await shown(h, first) == ["'a'"], "an id of the old kernel session is not updated"
    assert await shown(h, second) == ["'b'"]
