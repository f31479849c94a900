"""The live-document adapter (issue 14, first step): a YNotebook changed by cell id.

A second pycrdt document kept in sync by Y updates plays a tab, as a room's client would.
"""

from __future__ import annotations

from typing import Any

import nbformat
from jupyter_ydoc import YNotebook
from pycrdt import Doc

from reactive_notebook.notebooks.live_document import LIVE_ORIGIN, LiveNotebook


def _notebook(*codes: str) -> dict[str, Any]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in codes]
    return dict(nbformat.from_dict(notebook))


class Tab:
    """A second document synced with the live one both ways, as a browser tab is."""

    def __init__(self, live: LiveNotebook) -> None:
        self.live = live
        self.document = YNotebook(Doc())
        self.document.ydoc.apply_update(live.document.ydoc.get_update())
        live.document.ydoc.observe(lambda event: self._receive(event.update))
        self.document.ydoc.observe(lambda event: self._send(event.update))
        self._applying = False

    def _receive(self, update: bytes) -> None:
        if not self._applying:
            self._applying = True
            try:
                self.document.ydoc.apply_update(update)
            finally:
                self._applying = False

    def _send(self, update: bytes) -> None:
        if not self._applying:
            self._applying = True
            try:
                self.live.document.ydoc.apply_update(update)
            finally:
                self._applying = False

    def sources(self) -> list[str]:
        return [str(cell["source"]) for cell in self.document.ycells]

    def type_into(self, index: int, text: str) -> None:
        with self.document.ydoc.transaction(origin="tab"):
            source = self.document.ycells[index]["source"]
            source.insert(len(source), text)


def test_a_notebook_goes_in_and_comes_out_as_nbformat() -> None:
    notebook = _notebook("x = 1", "print(x)")
    live = LiveNotebook.from_nbformat(notebook)
    out = live.to_nbformat()
    nbformat.validate(nbformat.from_dict(out))
    assert [c["source"] for c in out["cells"]] == ["x = 1", "print(x)"]
    assert live.cell_ids() == [c["id"] for c in notebook["cells"]]


def test_changes_by_cell_id_reach_a_tab() -> None:
    live = LiveNotebook.from_nbformat(_notebook("a = 1", "b = a"))
    tab = Tab(live)
    first, second = live.cell_ids()
    added = live.insert_cell(1, dict(nbformat.v4.new_code_cell("c = 3")))
    live.set_source(first, "a = 2")
    live.move_cell(second, 2, 0)
    assert tab.sources() == ["b = a", "a = 2", "c = 3"]
    live.delete_cell(added, 2)
    assert tab.sources() == ["b = a", "a = 2"]
    assert live.cell_ids() == [second, first]


def test_a_stream_grows_in_place_and_outputs_reach_a_tab() -> None:
    live = LiveNotebook.from_nbformat(_notebook("for i in range(3): print(i)"))
    tab = Tab(live)
    (cell_id,) = live.cell_ids()
    live.begin_run(cell_id)
    assert live.cells[0].get("execution_state") == "running"
    for i in range(3):
        live.append_output(cell_id, {"output_type": "stream", "name": "stdout", "text": f"{i}\n"})
    live.append_output(
        cell_id,
        {
            "output_type": "execute_result",
            "data": {"text/plain": "7"},
            "metadata": {},
            "execution_count": 4,
        },
    )
    outputs = tab.document.ycells[0]["outputs"].to_py()
    assert [o["output_type"] for o in outputs] == ["stream", "execute_result"]
    assert outputs[0]["text"] == "0\n1\n2\n"
    assert live.cell(cell_id)["execution_count"] is None  # [*] until the run ends
    live.finish_run(cell_id, 4)
    ycell = live.cells[0]
    assert (ycell.get("execution_count"), ycell.get("execution_state")) == (4, "idle")
    nbformat.validate(nbformat.from_dict(live.to_nbformat()))
    live.clear_outputs(cell_id)
    assert tab.document.ycells[0]["outputs"].to_py() == []


def test_each_change_is_one_transaction_with_our_origin() -> None:
    live = LiveNotebook.from_nbformat(_notebook("a = 1"))
    origins: list[Any] = []
    live.cells.observe_deep(lambda events: origins.append(events[0].transaction.origin))
    (cell_id,) = live.cell_ids()
    live.set_source(cell_id, "a = 22")
    live.append_output(cell_id, {"output_type": "stream", "name": "stdout", "text": "x"})
    assert origins == [LIVE_ORIGIN, LIVE_ORIGIN]


def test_a_tabs_edit_is_reported_with_its_cell_and_ours_are_not() -> None:
    live = LiveNotebook.from_nbformat(_notebook("a = 1", "b = a"))
    tab = Tab(live)
    seen: list[tuple[dict[str, set[str]], bool]] = []
    live.observe_others(lambda ids, structural: seen.append((ids, structural)))
    first, second = live.cell_ids()
    live.set_source(first, "a = 5")  # ours: not reported
    tab.type_into(1, " + 1")
    assert seen == [({second: {"source"}}, False)]
    assert live.cell(second)["source"] == "b = a + 1"


def test_a_cell_a_tab_adds_is_reported_by_its_id() -> None:
    live = LiveNotebook.from_nbformat(_notebook("a = 1"))
    tab = Tab(live)
    seen: list[tuple[dict[str, set[str]], bool]] = []
    live.observe_others(lambda ids, structural: seen.append((ids, structural)))
    with tab.document.ydoc.transaction(origin="tab"):
        tab.document.ycells.append(tab.document.create_ycell(dict(nbformat.v4.new_code_cell("z"))))
    (added,) = [c for c in live.cell_ids() if live.cell(c)["source"] == "z"]
    assert seen == [({added: {"*"}}, True)]


def test_a_tab_sees_the_prompt_number_only_with_the_idle_state() -> None:
    """A JupyterLab cell whose count becomes a number sets its state to idle itself unless
    the document already says idle: every open tab would write it, racing the server (and
    each other), and end the cell's ``[*]`` while it still runs. So a run's count comes
    with its idle state, in one change, never before."""
    live = LiveNotebook.from_nbformat(_notebook("a = 1"))
    tab = Tab(live)
    (cell_id,) = live.cell_ids()
    seen: list[tuple[Any, Any]] = []
    ycell = tab.document.ycells[0]
    ycell.observe(
        lambda event: seen.append((ycell.get("execution_count"), ycell.get("execution_state")))
    )
    for count in (1, 2):
        live.begin_run(cell_id)
        live.append_output(cell_id, {"output_type": "stream", "name": "stdout", "text": "x\n"})
        live.finish_run(cell_id, count)
    assert all(state == "idle" for count, state in seen if count is not None), seen
    assert seen[-1] == (2, "idle")
