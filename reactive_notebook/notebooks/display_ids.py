"""Display ids across a notebook: an update reaches every output showing its id, in any cell.

``h = display(x, display_id=...)`` in one cell and ``h.update(y)`` (an
``update_display_data`` message) in another, or a second ``display(..., display_id=same)``,
change the first cell's output in stock Jupyter. The rules followed are nbclient's
(``NotebookClient._update_display_id`` / ``output`` / ``clear_display_id_mapping``) and
JupyterLab's (``KernelConnection._handleDisplayId``):

- an ``update_display_data`` replaces the data and metadata of every output shown with
  its id and adds no output;
- a ``display_data`` (or ``execute_result``) carrying an id already shown does the same to
  the earlier outputs, then is added to its own cell like any display;
- outputs leave the index when their cell is cleared (``clear_output``), re-run or
  deleted, and all of them when the kernel restarts (transient ids belong to one kernel
  session; outputs loaded from a file are never indexed, as after a reload in JupyterLab).

The index maps display id -> cell id -> the outputs showing it. Since every update and
every re-used id gives all of them the same data, the outputs of one id in one cell are
kept as one shared dict (a *group*) that the cell's ``outputs`` list holds at each of their
positions, and an update changes that dict in place: it costs one output's size, whether
the id is shown once or, by a loop re-displaying it, ten thousand times (nbclient and
JupyterLab rewrite each copy; here that would freeze the event loop quadratically). Outputs
of one id that differ (an ``execute_result``'s count, a copy capped to the truncation note)
form groups of their own.

Each updated cell stays within its size limit as ``CellOutputs`` keeps it: an update that
would grow the cell past its head (``Room.head_limit``) leaves the truncation note, still
carrying the display id, so a later smaller update can take its place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..kernels.outputs import METADATA_KEY, cap_output, output_size
from ..models import NbOutput


class Room(Protocol):
    """A cell's size budget: ``CellOutputs`` while the cell runs, a :class:`Budget` after."""

    used: int
    head_limit: int
    display_limit: int


@dataclass
class Budget:
    """What a finished cell's outputs use of their head (``CellOutputs.used`` at its end)."""

    used: int
    head_limit: int
    display_limit: int


@dataclass
class _Group:
    """Outputs of one display id in one cell holding the same dict, ``shared``."""

    shared: NbOutput
    count: int
    size: int  # output_size(shared)


@dataclass
class _Shown:
    """One cell's indexed outputs: its ``outputs`` list (checked by identity: a cell
    whose outputs were replaced is dropped, whoever replaced them) and their groups."""

    outputs: list[NbOutput]
    room: Room
    groups: dict[str, list[_Group]] = field(default_factory=dict)


@dataclass(frozen=True)
class DisplayChange:
    """The outputs of ``cell_id`` showing ``display_id`` now hold ``output``."""

    cell_id: str
    display_id: str
    output: NbOutput


class DisplayIndex:
    """Where each display id is shown in one notebook, for one kernel session."""

    def __init__(self) -> None:
        self._cells: dict[str, _Shown] = {}
        # display id -> the cells showing it, in the order they first showed it.
        self._ids: dict[str, dict[str, None]] = {}

    def size(self) -> int:
        """How many outputs are indexed (for tests and figures; not on a hot path)."""
        return sum(g.count for e in self._cells.values() for gs in e.groups.values() for g in gs)

    def cells_showing(self, display_id: str) -> list[str]:
        return list(self._ids.get(display_id, ()))

    def used(self, cell_id: str) -> int | None:
        """What the indexed cell's outputs use of its head (None: not indexed)."""
        entry = self._cells.get(cell_id)
        return None if entry is None else entry.room.used

    # -- recording -------------------------------------------------------------------

    def shown(
        self, cell_id: str, outputs: list[NbOutput], room: Room, position: int, display_id: str
    ) -> None:
        """``outputs[position]`` of the running cell ``cell_id`` shows ``display_id`` (and
        was just added: an equal output of the id in the cell joins its group)."""
        entry = self._cells.get(cell_id)
        if entry is None or entry.outputs is not outputs:
            self.forget(cell_id)
            entry = self._cells[cell_id] = _Shown(outputs, room)
        entry.room = room
        output = outputs[position]
        groups = entry.groups.setdefault(display_id, [])
        for group in groups:
            if group.shared == output:  # the usual case: updated to it just before
                outputs[position] = group.shared
                group.count += 1
                break
        else:
            groups.append(_Group(output, 1, output_size(output)))
        self._ids.setdefault(display_id, {})[cell_id] = None

    def attach(self, cell_id: str, room: Room) -> None:
        """The cell's outputs are kept by ``room`` (a ``CellOutputs``) from now on."""
        entry = self._cells.get(cell_id)
        if entry is not None:
            entry.room = room

    def finished(self, cell_id: str) -> None:
        """The cell ended: keep its budget, not its ``CellOutputs`` (and stream buffers)."""
        entry = self._cells.get(cell_id)
        if entry is not None:
            room = entry.room
            entry.room = Budget(room.used, room.head_limit, room.display_limit)

    def forget(self, cell_id: str) -> None:
        """The cell was cleared, re-run or deleted: its outputs leave the index."""
        entry = self._cells.pop(cell_id, None)
        if entry is None:
            return
        for display_id in entry.groups:
            cells = self._ids.get(display_id)
            if cells is not None:
                cells.pop(cell_id, None)
                if not cells:
                    del self._ids[display_id]

    def reset(self) -> None:
        """A new kernel session: no id shown so far can be updated any more."""
        self._cells.clear()
        self._ids.clear()

    # -- updating --------------------------------------------------------------------

    def update(
        self,
        display_id: str,
        source: NbOutput,
        outputs_of: Callable[[str], list[NbOutput] | None],
    ) -> list[DisplayChange]:
        """Give every indexed output showing ``display_id`` the data and metadata of
        ``source`` (an update or a new display of that id); what changed, one per cell.

        ``outputs_of(cell_id)`` is the cell's current outputs list (None: no such cell);
        entries that no longer match it are dropped rather than written to.
        """
        changes: list[DisplayChange] = []
        content = _content(display_id, source)
        for cell_id in list(self._ids.get(display_id, ())):
            entry = self._cells[cell_id]
            if outputs_of(cell_id) is not entry.outputs:
                self.forget(cell_id)  # replaced behind our back: never write to it
                continue
            stored = self._apply(entry, display_id, content)
            if stored is not None:
                changes.append(DisplayChange(cell_id, display_id, stored))
        return changes

    def _apply(self, entry: _Shown, display_id: str, content: NbOutput) -> NbOutput | None:
        """Update ``entry``'s outputs of ``display_id`` in place, within its budget."""
        groups = entry.groups.get(display_id)
        if not groups:
            return None
        capped = cap_output(content, entry.room.display_limit)
        new = [{**g.shared, "data": capped["data"], "metadata": capped["metadata"]} for g in groups]
        sizes = [output_size(output) for output in new]
        grown = sum(g.count * (size - g.size) for g, size in zip(groups, sizes, strict=True))
        if entry.room.used + grown > entry.room.head_limit:
            # Past the cell's head: the note (keeping the id) in place of each output.
            new = [cap_output(output, 0) for output in new]
            sizes = [output_size(output) for output in new]
            grown = sum(g.count * (size - g.size) for g, size in zip(groups, sizes, strict=True))
        for group, output, size in zip(groups, new, sizes, strict=True):
            group.shared.clear()  # in place: every position holding it changes at once
            group.shared.update(output)
            group.size = size
        entry.room.used += grown
        return groups[-1].shared


def _content(display_id: str, source: NbOutput) -> NbOutput:
    """The data and metadata an update of ``display_id`` gives its outputs (our own
    metadata reduced to the id: an update's "update" flag is not part of what is shown)."""
    metadata = {k: v for k, v in (source.get("metadata") or {}).items() if k != METADATA_KEY}
    metadata[METADATA_KEY] = {"display_id": display_id}
    return {"output_type": "display_data", "data": source.get("data") or {}, "metadata": metadata}
