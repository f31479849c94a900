"""Reverting an assistant's turn (reactive_notebook/agent/revert.py) on a real service with
real kernels: every kind of change goes back, newest first, a person's later edit is kept,
and the cells whose code came back re-run with what depends on them."""

from __future__ import annotations

from typing import Any

from reactive_notebook.agent.revert import TurnJournal
from reactive_notebook.agent.tools import ToolContext, notebook_tools
from tests.notebooks.harness import USER, Harness, scenario

TOOLS = notebook_tools()


async def act(h: Harness, journal: TurnJournal, tool: str, **args: Any) -> dict[str, Any]:
    """A tool call as the chat makes it: noted before, kept after if it changed something."""
    args["notebook_id"] = h.notebook_id
    note = await journal.before(h.service, USER, h.notebook_id, tool, args)
    answer = await TOOLS.call(ToolContext(h.service, USER), tool, args)
    journal.after(note, args, answer)
    return answer


async def codes(h: Harness) -> list[str]:
    opened = await h.service.get_notebook(USER, h.notebook_id)
    return [cell.code for cell in opened.cells]


@scenario
async def test_deleted_moved_edited_and_created_cells_all_go_back(h: Harness) -> None:
    first, second, third = await h.new("base = 2", "double = base * 2", "print(double)")
    await h.service.run_all(USER, h.notebook_id, wait=True)
    journal = TurnJournal("t1")
    await act(h, journal, "update_cell", cell_id=first, expected_code="base = 2", code="base = 5")
    await act(h, journal, "move_cell", cell_id=third, after_cell_id=None)
    await act(h, journal, "delete_cell", cell_id=second)
    created = await act(h, journal, "create_cell", code="double = base * 3")
    await act(h, journal, "run_cell", cell_id=first)  # runs change nothing to note
    await act(h, journal, "get_notebook")
    assert [n.kind for n in journal.notes] == ["updated", "moved", "deleted", "created"]
    assert await codes(h) == ["print(double)", "base = 5", "double = base * 3"]

    result = await journal.revert(h.service, USER, h.notebook_id)

    assert await codes(h) == ["base = 2", "double = base * 2", "print(double)"]
    opened = await h.service.get_notebook(USER, h.notebook_id)
    ids = [cell.id for cell in opened.cells]
    assert ids[0] == first
    assert ids[2] == third
    assert ids[1] != second  # a deleted cell comes back with an id of its own
    assert created["cell_id"] not in ids
    assert result["skipped"] == []
    assert set(result["rerun"]) == {first, ids[1]}
    assert opened.outputs_of(opened.cells.get(third))[-1]["text"] == "4\n"
    assert journal.reverted


@scenario
async def test_a_cell_a_person_edited_after_the_assistant_keeps_the_persons_code(
    h: Harness,
) -> None:
    (cell,) = await h.new("rate = 0.1")
    journal = TurnJournal("t2")
    await act(
        h, journal, "update_cell", cell_id=cell, expected_code="rate = 0.1", code="rate = 0.2"
    )
    await h.service.update_cell(USER, h.notebook_id, cell, "rate = 0.3")  # the person, later
    result = await journal.revert(h.service, USER, h.notebook_id)
    assert await codes(h) == ["rate = 0.3"]
    assert result["skipped"] == [{"cell_id": cell, "reason": "edited by a person since: kept"}]
    assert result["reverted"] == []
    assert result["rerun"] == []


@scenario
async def test_refused_calls_are_not_noted(h: Harness) -> None:
    (cell,) = await h.new("x = 1")
    journal = TurnJournal("t3")
    await act(h, journal, "update_cell", cell_id=cell, expected_code="stale", code="x = 2")
    await act(h, journal, "delete_cell", cell_id="no-such-cell")
    await act(h, journal, "move_cell", cell_id="no-such-cell", after_cell_id=None)
    assert not journal.changed
