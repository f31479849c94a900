"""What the assistant changed in one turn, and how to put it back.

Before each tool call that changes the notebook, the journal notes what the call is
about to change (a cell's code and type, where a cell stood); after it, what it became.
Reverting walks the notes backwards: created cells go, edited cells get their code back
(unless a person edited them since: theirs is kept, and the answer says so), deleted
cells come back where they stood (with a new id), moved cells go back after the cell
they followed. Then the cells whose code came back re-run, with what depends on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..notebooks.errors import NotebookError
from ..notebooks.service import NotebookService

CHANGING_TOOLS = frozenset({"create_cell", "update_cell", "delete_cell", "move_cell"})


@dataclass
class _Note:
    kind: str  # "created", "updated", "deleted", "moved"
    cell_id: str
    code: str = ""
    type: str = "python"
    after_code: str = ""
    #: The cell right above it before the change (None: it was first).
    above: str | None = None


@dataclass
class TurnJournal:
    turn_id: str
    notes: list[_Note] = field(default_factory=list)
    reverted: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.notes)

    async def before(
        self, service: NotebookService, user: str, notebook_id: str, tool: str, args: dict[str, Any]
    ) -> _Note | None:
        """What ``tool`` is about to change (None for a tool that changes nothing)."""
        if tool not in CHANGING_TOOLS:
            return None
        if tool == "create_cell":
            return _Note("created", "")
        try:
            opened = await service.get_notebook(user, notebook_id)
            cells = list(opened.cells)
            index = next(i for i, c in enumerate(cells) if c.id == args["cell_id"])
        except (NotebookError, StopIteration, KeyError):
            return None  # the tool refuses it: nothing to note
        cell = cells[index]
        above = cells[index - 1].id if index > 0 else None
        kind = {"update_cell": "updated", "delete_cell": "deleted", "move_cell": "moved"}[tool]
        return _Note(kind, cell.id, code=cell.code, type=cell.type.value, above=above)

    def after(self, note: _Note | None, args: dict[str, Any], answer: dict[str, Any]) -> None:
        """The call answered ``answer``: keep the note if it changed something."""
        if note is None or not answer.get("ok"):
            return
        if note.kind == "created":
            note.cell_id = str(answer["cell_id"])
        if note.kind == "updated":
            note.after_code = str(args["code"])
        self.notes.append(note)

    async def revert(self, service: NotebookService, user: str, notebook_id: str) -> dict[str, Any]:
        """Undo the notes, newest first; re-run the cells whose code came back."""
        renamed: dict[str, str] = {}  # a deleted cell's id -> the id it came back with
        reverted: list[str] = []
        skipped: list[dict[str, str]] = []
        rerun: list[str] = []

        def now(cell_id: str | None) -> str | None:
            return renamed.get(cell_id, cell_id) if cell_id else None

        for note in reversed(self.notes):
            cell_id = now(note.cell_id)
            assert cell_id is not None
            try:
                opened = await service.get_notebook(user, notebook_id)
                present = {c.id: c for c in opened.cells}
                if note.kind == "created":
                    if cell_id in present:
                        await service.delete_cell(user, notebook_id, cell_id)
                    reverted.append(cell_id)
                elif note.kind == "updated":
                    current = present.get(cell_id)
                    if current is None:
                        skipped.append({"cell_id": cell_id, "reason": "deleted since"})
                    elif current.code != note.after_code:
                        skipped.append(
                            {"cell_id": cell_id, "reason": "edited by a person since: kept"}
                        )
                    else:
                        await service.update_cell(
                            user, notebook_id, cell_id, note.code, cell_type=note.type
                        )
                        reverted.append(cell_id)
                        rerun.append(cell_id)
                elif note.kind == "deleted":
                    above = now(note.above)
                    cell = await service.create_cell(
                        user,
                        notebook_id,
                        note.type,
                        note.code,
                        after_cell_id=above if above in present else None,
                        at_end=False,
                    )
                    renamed[note.cell_id] = cell.id
                    reverted.append(cell.id)
                    rerun.append(cell.id)
                elif cell_id in present:  # moved
                    above = now(note.above)
                    await service.move_cell(
                        user, notebook_id, cell_id, above if above in present else None
                    )
                    reverted.append(cell_id)
            except NotebookError as error:
                skipped.append({"cell_id": cell_id, "reason": str(error)})
        self.reverted = True
        runnable = await _runnable(service, user, notebook_id, rerun)
        if runnable:
            await service.run_all(user, notebook_id, cell_ids=runnable, wait=True)
        return {
            "turn_id": self.turn_id,
            "reverted": list(dict.fromkeys(reverted)),
            "skipped": skipped,
            "rerun": runnable,
        }


async def _runnable(
    service: NotebookService, user: str, notebook_id: str, cell_ids: list[str]
) -> list[str]:
    opened = await service.get_notebook(user, notebook_id)
    wanted = set(cell_ids)
    return [c.id for c in opened.cells if c.id in wanted and c.type.runs]
