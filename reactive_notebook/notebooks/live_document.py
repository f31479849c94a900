"""A notebook as a live shared document: a ``jupyter_ydoc.YNotebook`` changed by cell id.

Issue 14 moves the service onto Jupyter's collaboration model: an open notebook's state is
a Y document (the room's when jupyter-collaboration is loaded, a private one otherwise),
and every writer changes that document. This module is the one adapter the service will
use for both; it is not wired into the service yet.

- Every change made here is one Y transaction whose origin is :data:`LIVE_ORIGIN`, so a
  tab receives it as one update and observers can tell our changes from anyone else's.
- Outputs are written as they arrive: a stream grows its Y text in place (a tab sees a
  print as it happens) and nothing is replaced wholesale.
- Changes made by others (a tab, another server-side writer) reach the callback given to
  :meth:`LiveNotebook.observe_others` with the ids of the cells they touched, through
  ``ycells.observe_deep``: never ``YNotebook.observe``, which would detach a room's
  autosave from the document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Array, Map, Subscription, Text

#: The origin of every transaction made by this adapter.
LIVE_ORIGIN = "reactive-notebook"


class LiveNotebook:
    """A ``YNotebook`` whose cells are changed by id, one transaction per change."""

    def __init__(self, document: YNotebook | None = None) -> None:
        self.document = document if document is not None else YNotebook()

    @classmethod
    def from_nbformat(cls, notebook: dict[str, Any]) -> LiveNotebook:
        """A private document holding ``notebook`` (an nbformat 4 dict)."""
        live = cls()
        with live.document.ydoc.transaction(origin=LIVE_ORIGIN):
            live.document.set(notebook)
        return live

    def to_nbformat(self) -> dict[str, Any]:
        """The document as an nbformat 4 dict (what a save writes)."""
        return dict(self.document.get())

    # -- reading -----------------------------------------------------------------------

    @property
    def cells(self) -> Array[Any]:
        cells: Array[Any] = self.document.ycells
        return cells

    def cell_ids(self) -> list[str]:
        return [str(cell["id"]) for cell in self.cells]

    def index(self, cell_id: str) -> int:
        """The cell's position (KeyError when no cell has that id)."""
        for position, cell in enumerate(self.cells):
            if cell["id"] == cell_id:
                return position
        raise KeyError(cell_id)

    def cell(self, cell_id: str) -> dict[str, Any]:
        """One cell as nbformat (outputs included)."""
        value = self.cells[self.index(cell_id)].to_py()
        value.pop("execution_state", None)
        return dict(value)

    # -- changing ------------------------------------------------------------------------

    def insert_cell(self, index: int, cell: dict[str, Any]) -> str:
        """Insert an nbformat cell at ``index``; returns its id (given or made)."""
        with self._change():
            ycell = self.document.create_ycell(cell)
            self.cells.insert(index, ycell)
            return str(ycell["id"])

    def set_source(self, cell_id: str, source: str) -> None:
        """Replace the cell's code (a tab sees one change)."""
        with self._change():
            text = self._ycell(cell_id)["source"]
            del text[0 : len(text)]
            text.insert(0, source)

    def move_cell(self, cell_id: str, index: int) -> None:
        """Move the cell to ``index`` (positions counted without it)."""
        with self._change():
            value = self.cell(cell_id)
            self.cells.pop(self.index(cell_id))
            self.cells.insert(index, self.document.create_ycell(value))

    def delete_cell(self, cell_id: str) -> None:
        with self._change():
            self.cells.pop(self.index(cell_id))

    def clear_outputs(self, cell_id: str) -> None:
        with self._change():
            self._ycell(cell_id)["outputs"].clear()

    def append_output(self, cell_id: str, output: dict[str, Any]) -> None:
        """Add an nbformat output; a stream continuing the cell's last output (same name)
        grows that output's text instead, as a notebook shows a print."""
        with self._change():
            outputs = self._ycell(cell_id)["outputs"]
            if output.get("output_type") == "stream" and len(outputs):
                last = outputs[len(outputs) - 1]
                if last.get("output_type") == "stream" and last.get("name") == output.get("name"):
                    text = last["text"]
                    text.insert(len(text), _text(output.get("text", "")))
                    return
            outputs.append(_youtput(output))

    def set_execution_count(self, cell_id: str, count: int | None) -> None:
        with self._change():
            self._ycell(cell_id)["execution_count"] = count

    def set_execution_state(self, cell_id: str, state: str) -> None:
        """``busy`` or ``idle``: what JupyterLab shows as the cell's running mark."""
        with self._change():
            self._ycell(cell_id)["execution_state"] = state

    # -- others' changes -------------------------------------------------------------------

    def observe_others(self, callback: Callable[[set[str]], None]) -> Subscription:
        """Call ``callback(cell_ids)`` after each transaction not made here that changed
        cells (their ids; a deleted cell's id is not known and is left out)."""

        def on_events(events: list[Any]) -> None:
            if not events or events[0].transaction.origin == LIVE_ORIGIN:
                return
            callback(set(_touched(self.cells, events)))

        return self.cells.observe_deep(on_events)

    def unobserve(self, subscription: Subscription) -> None:
        self.cells.unobserve(subscription)

    # -- internals -------------------------------------------------------------------------

    def _change(self) -> Any:
        return self.document.ydoc.transaction(origin=LIVE_ORIGIN)

    def _ycell(self, cell_id: str) -> Map[Any]:
        cell: Map[Any] = self.cells[self.index(cell_id)]
        return cell


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _youtput(output: dict[str, Any]) -> Map[Any]:
    """An nbformat output as JupyterLab's shared model holds it (stream text as Y text)."""
    value = dict(output)
    if value.get("output_type") == "stream":
        value["text"] = Text(_text(value.get("text", "")))
    return Map(value)


def _touched(cells: Array[Any], events: Iterable[Any]) -> Iterable[str]:
    """The ids of the cells the events changed: a change inside a cell names it by its
    path (its index in the cells); an insertion into the cell list names the new cells."""
    for event in events:
        path = list(getattr(event, "path", ()))
        if path:
            index = path[0]
            if isinstance(index, int) and index < len(cells):
                yield str(cells[index]["id"])
            continue
        for change in getattr(event, "delta", None) or ():
            for inserted in change.get("insert", ()) if isinstance(change, dict) else ():
                if isinstance(inserted, Map) and "id" in inserted:
                    yield str(inserted["id"])
