"""An open notebook's cells in order, found by id in O(1) and placed in O(log n).

The model keeps its cells in a plain list (what is saved and shown). Looking a cell up by
scanning that list made each edit cost O(cells), so building a notebook of 10,000 cells
one request at a time cost O(n^2). ``CellOrder`` owns that list while the notebook is
open and keeps an id index and sortable position keys in step with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..models import Cell
from ..reactive.ordering import PositionIndex


class CellOrder:
    """The notebook's own ``cells`` list, changed only through these methods."""

    def __init__(self, cells: list[Cell]) -> None:
        self._cells = cells
        self._by_id: dict[str, Cell] = {}
        self._positions = PositionIndex()
        for cell in cells:
            self._by_id[cell.id] = cell
            self._positions.append(cell.id)

    def __len__(self) -> int:
        return len(self._cells)

    def __iter__(self) -> Iterator[Cell]:
        return iter(self._cells)

    def __contains__(self, cell_id: object) -> bool:
        return cell_id in self._by_id

    def get(self, cell_id: str) -> Cell:
        """The cell, or KeyError."""
        return self._by_id[cell_id]

    def index(self, cell_id: str) -> int:
        """Its position, or KeyError."""
        return self._positions.index(cell_id)

    def at(self, index: int) -> Cell:
        return self._cells[index]

    def insert(self, index: int, cell: Cell) -> None:
        """Put ``cell`` at ``index`` (0 <= index <= len)."""
        after = self._cells[index - 1].id if index > 0 else None
        self._positions.insert(cell.id, after)
        self._cells.insert(index, cell)
        self._by_id[cell.id] = cell

    def remove(self, cell_id: str) -> tuple[int, Cell]:
        """Take the cell out; its former position and the cell."""
        index = self._positions.index(cell_id)
        cell = self._cells.pop(index)
        self._positions.remove(cell_id)
        del self._by_id[cell_id]
        return index, cell

    def sort(self, cell_ids: Iterable[str]) -> list[str]:
        """The given cells (ids of cells in the notebook) in notebook order."""
        return self._positions.sort(list(cell_ids))
