"""A notebook as a live shared document: a ``jupyter_ydoc.YNotebook`` changed by cell id.

An open notebook's state is a Y document: the room's when jupyter-collaboration is loaded
(every JupyterLab tab edits that one document), a private one otherwise (see
:mod:`.documents`). The service changes it only through this adapter:

- Every change made here is one Y transaction whose origin is :data:`LIVE_ORIGIN`, so a
  tab receives it as one update and observers can tell our changes from anyone else's.
- Outputs are written as they arrive: a stream grows its Y text in place (a tab sees a
  print as it happens) and nothing is replaced wholesale (jupyter-server-nbmodel's lesson:
  replacing a nested value under a live tab once left a notebook empty).
- Changes made by others (a tab, another server-side writer) reach the callback given to
  :meth:`LiveNotebook.observe_others` with the ids of the cells they touched, through
  ``ycells.observe_deep``: never ``YNotebook.observe``, which would detach a room's
  autosave from the document.

Cells are found by id through a cache of their Y maps (a map stays the cell's while the
cell is in the list); any change of the list's structure by others drops the cache, and
positions for structural changes come from the caller, who keeps the cells in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Array, Map, Subscription, Text

from ..kernels.outputs import display_id

#: The origin of every transaction made by this adapter.
LIVE_ORIGIN = "reactive-notebook"

#: Changes to the cells made by others: the cells whose content changed (id -> the keys
#: of the cell that changed), and whether the list itself changed (cells added, removed
#: or moved).
OthersCallback = Callable[[dict[str, set[str]], bool], None]


class LiveNotebook:
    """A ``YNotebook`` whose cells are changed by id, one transaction per change."""

    def __init__(self, document: YNotebook | None = None) -> None:
        self.document = document if document is not None else YNotebook()
        self._maps: dict[str, Map[Any]] | None = None

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

    def __contains__(self, cell_id: object) -> bool:
        return cell_id in self._by_id()

    def index(self, cell_id: str) -> int:
        """The cell's position (KeyError when no cell has that id). Linear: for tests
        and rare paths; the service knows positions from its own order."""
        for position, cell in enumerate(self.cells):
            if cell["id"] == cell_id:
                return position
        raise KeyError(cell_id)

    def cell(self, cell_id: str) -> dict[str, Any]:
        """One cell as nbformat (outputs included)."""
        value = self._ycell(cell_id).to_py() or {}
        value.pop("execution_state", None)
        return dict(value)

    def source(self, cell_id: str) -> str:
        return str(self._ycell(cell_id)["source"])

    def cell_head(self, cell_id: str) -> dict[str, Any]:
        """The cell without its outputs (cheap whatever the outputs' size)."""
        ycell = self._ycell(cell_id)
        metadata = ycell.get("metadata")
        return {
            "id": cell_id,
            "cell_type": ycell.get("cell_type"),
            "source": str(ycell["source"]),
            "metadata": metadata.to_py() if isinstance(metadata, Map) else (metadata or {}),
        }

    def cell_outputs(self, cell_id: str) -> tuple[list[dict[str, Any]], Any]:
        """The cell's outputs (nbformat) and execution count."""
        ycell = self._ycell(cell_id)
        outputs = ycell.get("outputs")
        plain = outputs.to_py() if isinstance(outputs, Array) else []
        return list(plain or []), ycell.get("execution_count")

    def set_cell_id(self, index: int, cell_id: str) -> None:
        """Give the cell at ``index`` another id (one nbformat would accept)."""
        with self._change():
            self.cells[index]["id"] = cell_id
            self._maps = None

    def metadata(self) -> dict[str, Any]:
        """The notebook's metadata."""
        return dict(self.document._ymeta.get("metadata", {}).to_py() or {})

    # -- changing the cells ------------------------------------------------------------

    def insert_cell(self, index: int, cell: dict[str, Any]) -> str:
        """Insert an nbformat cell at ``index``; returns its id (given or made)."""
        with self._change():
            ycell = self.document.create_ycell(cell)
            self.cells.insert(index, ycell)
            cell_id = str(ycell["id"])
            if self._maps is not None:
                self._maps[cell_id] = ycell
            return cell_id

    def set_source(self, cell_id: str, source: str) -> None:
        """Replace the cell's code (a tab sees one change)."""
        with self._change():
            text = self._ycell(cell_id)["source"]
            del text[0 : len(text)]
            text.insert(0, source)

    def set_cell(self, cell_id: str, index: int, cell: dict[str, Any]) -> None:
        """Replace the cell at ``index`` (``cell_id``) by ``cell`` (a change of cell type:
        a code cell has outputs, a markdown cell has none), keeping its id."""
        with self._change():
            old = self._ycell(cell_id)
            value = {**cell, "id": cell_id}
            if value.get("cell_type") == "code" and old.get("cell_type") == "code":
                # same kind: change in place (a tab keeps its editor and outputs)
                self._set_cell_metadata(old, value.get("metadata") or {})
                text = old["source"]
                del text[0 : len(text)]
                text.insert(0, _text(value.get("source", "")))
                return
            self.cells.pop(index)
            ycell = self.document.create_ycell(value)
            self.cells.insert(index, ycell)
            self._maps = None

    def set_cell_metadata(self, cell_id: str, metadata: dict[str, Any]) -> None:
        """Set these keys of the cell's metadata (a value None removes the key)."""
        with self._change():
            self._set_cell_metadata(self._ycell(cell_id), metadata)

    def move_cell(self, cell_id: str, index: int, new_index: int) -> None:
        """Move the cell at ``index`` to ``new_index`` (counted without it). Y has no move
        that every client understands: a copy goes in, the original goes out, in one
        transaction (as JupyterLab moves cells)."""
        with self._change():
            value = self._ycell(cell_id).to_py() or {}
            value.pop("execution_state", None)
            self.cells.pop(index)
            self.cells.insert(new_index, self.document.create_ycell(value))
            self._maps = None

    def delete_cell(self, cell_id: str, index: int) -> None:
        with self._change():
            self.cells.pop(index)
            if self._maps is not None:
                self._maps.pop(cell_id, None)

    def set_notebook_metadata(self, key: str, value: Any) -> None:
        """Set one key of the notebook's metadata (ours: ``reactive_notebook``)."""

        with self._change():
            metadata = self.document._ymeta.get("metadata")
            if metadata is None:
                self.document._ymeta["metadata"] = Map({key: value})
            elif metadata.get(key) != value:
                metadata[key] = value

    # -- runs ----------------------------------------------------------------------------

    def begin_run(self, cell_id: str) -> None:
        """The cell starts running: its outputs go, it shows as running (``[*]``), and its
        outputs are trusted (made by this server).

        Its prompt number waits for :meth:`finish_run`: a JupyterLab cell that sees its
        count become a number sets its own state to idle, a write of every open tab that
        would race ours (and end ``[*]`` while the cell still runs)."""
        with self._change():
            ycell = self._ycell(cell_id)
            ycell["outputs"].clear()
            if ycell.get("execution_count") is not None:
                ycell["execution_count"] = None
            if ycell.get("execution_state") != "running":
                ycell["execution_state"] = "running"
            self._set_cell_metadata(ycell, {"trusted": True})

    def finish_run(self, cell_id: str, execution_count: int | None) -> None:
        """The cell ran: its prompt number and its idle state, in one change."""
        with self._change():
            ycell = self._maybe_ycell(cell_id)
            if ycell is None:
                return
            if ycell.get("execution_state") != "idle":
                ycell["execution_state"] = "idle"
            if ycell.get("execution_count") != execution_count:
                ycell["execution_count"] = execution_count

    def set_execution_state(self, cell_ids: Iterable[str], state: str) -> None:
        """``running`` or ``idle``: what JupyterLab shows as the cells' ``[*]`` mark."""
        with self._change():
            for cell_id in cell_ids:
                ycell = self._maybe_ycell(cell_id)
                if ycell is not None and ycell.get("execution_state") != state:
                    ycell["execution_state"] = state

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
                    if isinstance(text, Text):
                        text.insert(len(text), _text(output.get("text", "")))
                        return
            outputs.append(_youtput(output))

    def replace_outputs(
        self, cell_id: str, outputs: list[dict[str, Any]], execution_count: int | None
    ) -> None:
        """Give the cell these outputs and count (restoring what a document lost)."""
        with self._change():
            ycell = self._ycell(cell_id)
            youtputs = ycell["outputs"]
            youtputs.clear()
            for output in outputs:
                youtputs.append(_youtput(output))
            ycell["execution_count"] = execution_count

    def set_all(self, notebook: dict[str, Any]) -> None:
        """Replace the whole document (one that lost what it held)."""
        with self._change():
            self.document.set(notebook)
        self._maps = None

    def update_display(self, cell_id: str, shown_id: str, output: dict[str, Any]) -> None:
        """Every output of the cell showing display id ``shown_id`` takes the data and
        metadata of ``output`` (changed in place, as a tab changes them)."""
        with self._change():
            for youtput in self._ycell(cell_id)["outputs"]:
                if isinstance(youtput, Map) and _display_id_of(youtput) == shown_id:
                    youtput["data"] = output.get("data") or {}
                    youtput["metadata"] = output.get("metadata") or {}

    # -- others' changes -------------------------------------------------------------------

    def observe_others(self, callback: OthersCallback) -> Subscription:
        """Call ``callback(changes, structural)`` after each transaction not made here
        that changed cells: the cells whose content changed, by id, with the keys that
        changed (a deleted cell's id is not known and is left out), and whether cells
        were added, removed or moved."""

        def on_events(events: list[Any]) -> None:
            if not events or events[0].transaction.origin == LIVE_ORIGIN:
                return
            structural = any(not list(getattr(event, "path", ())) for event in events)
            if structural:
                self._maps = None
            callback(_touched(self.cells, events), structural)

        return self.cells.observe_deep(on_events)

    def unobserve(self, subscription: Subscription) -> None:
        self.cells.unobserve(subscription)

    def transaction(self) -> Any:
        """Group the changes made inside into one transaction (one update for the tabs):
        a run makes one per kernel message."""
        return self._change()

    # -- internals -------------------------------------------------------------------------

    def _change(self) -> Any:
        return self.document.ydoc.transaction(origin=LIVE_ORIGIN)

    def _by_id(self) -> dict[str, Map[Any]]:
        if self._maps is None:
            self._maps = {str(cell["id"]): cell for cell in self.cells}
        return self._maps

    def _ycell(self, cell_id: str) -> Map[Any]:
        return self._by_id()[cell_id]

    def _maybe_ycell(self, cell_id: str) -> Map[Any] | None:
        return self._by_id().get(cell_id)

    @staticmethod
    def _set_cell_metadata(ycell: Map[Any], values: dict[str, Any]) -> None:
        metadata = ycell.get("metadata")
        if not isinstance(metadata, Map):
            ycell["metadata"] = Map({k: v for k, v in values.items() if v is not None})
            return
        for key, value in values.items():
            if value is None:
                if key in metadata:
                    del metadata[key]
            elif metadata.get(key) != value:
                metadata[key] = value


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _youtput(output: dict[str, Any]) -> Map[Any]:
    """An nbformat output as JupyterLab's shared model holds it (stream text as Y text)."""
    value = dict(output)
    if value.get("output_type") == "stream":
        value["text"] = Text(_text(value.get("text", "")))
    return Map(value)


def _display_id_of(youtput: Map[Any]) -> str | None:
    metadata = youtput.get("metadata")
    if metadata is None:
        return None
    plain = metadata.to_py() if isinstance(metadata, Map) else metadata
    return display_id({"metadata": plain}) if isinstance(plain, dict) else None


def _touched(cells: Array[Any], events: Iterable[Any]) -> dict[str, set[str]]:
    """The cells the events changed, by id, each with the keys of the cell that changed
    (``source``, ``outputs``, ``execution_count``, ``metadata``...). A change inside a
    cell names it by its path (its index in the cells); an insertion into the cell list
    names the new cells (with the key ``*``: everything is new)."""
    touched: dict[str, set[str]] = {}
    for event in events:
        path = list(getattr(event, "path", ()))
        if path:
            index = path[0]
            if not isinstance(index, int) or index >= len(cells):
                continue
            keys = touched.setdefault(str(cells[index]["id"]), set())
            if len(path) > 1:
                keys.add(str(path[1]))
            else:  # the cell's own map: the keys set or removed
                keys.update(str(key) for key in (getattr(event, "keys", None) or {}))
            continue
        for change in getattr(event, "delta", None) or ():
            for inserted in change.get("insert", ()) if isinstance(change, dict) else ():
                if isinstance(inserted, Map) and "id" in inserted:
                    touched.setdefault(str(inserted["id"]), set()).add("*")
    return touched
