"""The notebook-wide display id index, pure (notebooks/display_ids.py): nbclient's rules,
the cell size bound, and an update's cost (the outputs it changes, not the cell's)."""

from __future__ import annotations

from typing import Any

from reactive_notebook.kernels.cell_outputs import CellOutputs
from reactive_notebook.kernels.outputs import display_id, nb_output_from_message
from reactive_notebook.models import NbOutput
from reactive_notebook.notebooks.display_ids import DisplayIndex


def display(text: str, shown_id: str | None = None, kind: str = "display_data") -> NbOutput:
    content: dict[str, Any] = {"data": {"text/plain": text}, "metadata": {}}
    if kind == "execute_result":
        content["execution_count"] = 3
    if shown_id:
        content["transient"] = {"display_id": shown_id}
    output = nb_output_from_message(kind, content)
    assert output is not None
    return output


def update(text: str, shown_id: str) -> NbOutput:
    content = {"data": {"text/plain": text}, "metadata": {}, "transient": {"display_id": shown_id}}
    output = nb_output_from_message("update_display_data", content)
    assert output is not None
    return output


class Notebook:
    """Cells' outputs as ``OpenNotebook`` keeps them: a running cell's ``CellOutputs``."""

    def __init__(self, limit: int = 100_000) -> None:
        self.index = DisplayIndex()
        self.outputs: dict[str, list[NbOutput]] = {}
        self.kept: dict[str, CellOutputs] = {}
        self.limit = limit

    def run(self, cell_id: str, outputs: list[NbOutput] | None = None) -> CellOutputs:
        self.index.forget(cell_id)
        self.outputs[cell_id] = outputs if outputs is not None else []
        self.kept[cell_id] = CellOutputs(self.outputs[cell_id], self.limit)
        return self.kept[cell_id]

    def show(self, cell_id: str, output: NbOutput) -> None:
        kept = self.kept[cell_id]
        shown_id = display_id(output)
        if shown_id:
            self.index.update(shown_id, output, self.outputs.get)
        shown = kept.add(output)
        if shown_id and shown is not None and kept.outputs[-1] is shown:
            self.index.shown(cell_id, kept.outputs, kept, len(kept.outputs) - 1, shown_id)

    def texts(self, cell_id: str) -> list[str]:
        return [o["data"]["text/plain"] for o in self.outputs[cell_id] if "data" in o]


def test_an_update_reaches_every_cell_showing_the_id_and_adds_nothing() -> None:
    nb = Notebook()
    nb.run("a")
    nb.show("a", display("0%", "bar"))
    nb.show("a", display("other"))
    nb.index.finished("a")
    nb.run("b")
    nb.show("b", display("0%", "bar"))
    changes = nb.index.update("bar", update("50%", "bar"), nb.outputs.get)
    assert [(c.cell_id, c.display_id, c.output["data"]) for c in changes] == [
        ("a", "bar", {"text/plain": "50%"}),
        ("b", "bar", {"text/plain": "50%"}),
    ]
    assert nb.texts("a") == ["50%", "other"]
    assert nb.texts("b") == ["50%"]
    # The stored metadata names the id, not the update (nothing says "update" on disk).
    assert nb.outputs["a"][0]["metadata"] == {"reactive_notebook": {"display_id": "bar"}}
    assert nb.index.update("nobody", update("x", "nobody"), nb.outputs.get) == []


def test_a_result_keeps_its_type_and_count_when_updated_as_in_nbclient() -> None:
    nb = Notebook()
    nb.run("a")
    nb.show("a", display("1", "r", kind="execute_result"))
    nb.index.update("r", update("2", "r"), nb.outputs.get)
    (result,) = nb.outputs["a"]
    assert result["output_type"] == "execute_result"
    assert result["execution_count"] == 3
    assert result["data"] == {"text/plain": "2"}


def test_a_display_reusing_an_id_updates_the_earlier_ones_then_is_added() -> None:
    nb = Notebook()
    nb.run("a")
    nb.show("a", display("a", "q"))
    nb.run("b")
    nb.show("b", display("b", "q"))
    nb.show("b", display("c", "q"))
    assert nb.texts("a") == ["c"]
    assert nb.texts("b") == ["c", "c"]
    assert nb.index.cells_showing("q") == ["a", "b"]
    assert nb.index.size() == 3
    # The outputs of one id in a cell are one shared dict: an update changes it once.
    assert nb.outputs["b"][0] is nb.outputs["b"][1]


def test_a_loop_redisplaying_one_id_costs_linear_time_not_quadratic() -> None:
    nb = Notebook(limit=50_000_000)
    nb.run("a")
    for n in range(3000):
        nb.show("a", display(f"{n}", "same"))
    assert nb.texts("a") == ["2999"] * 3000
    assert len({id(output) for output in nb.outputs["a"]}) == 1
    assert nb.index.size() == 3000
    # The cell's budget counts every copy, as the saved file holds them all.
    assert nb.index.used("a") == CellOutputs(nb.outputs["a"], nb.limit).used


def test_forgotten_and_replaced_cells_are_never_written_to() -> None:
    nb = Notebook()
    nb.run("a")
    nb.show("a", display("a", "q"))
    nb.run("b")
    nb.show("b", display("b", "q"))
    nb.index.forget("b")  # cleared, re-run or deleted
    assert nb.index.cells_showing("q") == ["a"]
    # Outputs replaced without the index being told (a reload, say): dropped, untouched.
    old = nb.outputs["a"]
    nb.outputs["a"] = [dict(o) for o in old]
    assert nb.index.update("q", update("z", "q"), nb.outputs.get) == []
    assert nb.texts("a") == ["b"]
    assert nb.index.size() == 0
    nb.index.reset()
    assert nb.index.cells_showing("q") == []


def test_an_update_that_does_not_fit_the_cell_leaves_the_note_and_can_be_undone() -> None:
    limit = 20_000
    nb = Notebook(limit)
    kept = nb.run("a")
    nb.show("a", display("0%", "bar"))
    nb.show("a", display("filler " * 1000))
    nb.index.finished("a")
    used = kept.used
    big = "x" * (limit // 2)
    (change,) = nb.index.update("bar", update(big, "bar"), nb.outputs.get)
    assert "output truncated" in change.output["data"]["text/plain"]
    assert display_id(change.output) == "bar"
    assert nb.outputs["a"][0] is change.output
    nb.index.update("bar", update("100%", "bar"), nb.outputs.get)
    assert nb.texts("a")[0] == "100%"
    # The budget the cell ended with is kept up to date: what its outputs use now.
    assert nb.index.used("a") == CellOutputs(nb.outputs["a"], limit).used == used + 2


class CountingList(list[NbOutput]):
    """A cell's outputs that count how many of them are read."""

    reads = 0

    def __getitem__(self, index: Any) -> Any:
        CountingList.reads += 1
        return super().__getitem__(index)

    def __iter__(self) -> Any:
        CountingList.reads += len(self)
        return super().__iter__()


def test_an_update_costs_the_outputs_it_changes_not_the_cell_or_the_notebook() -> None:
    nb = Notebook(limit=50_000_000)
    for n in range(50):  # other cells, each with displays of their own
        nb.run(f"c{n}")
        nb.show(f"c{n}", display("x", f"id{n}"))
    outputs = CountingList()
    nb.run("big", outputs)
    nb.show("big", display("0%", "bar"))
    for n in range(20_000):
        nb.show("big", display(f"{n}"))
    nb.index.finished("big")
    CountingList.reads = 0
    for n in range(1000):
        nb.index.update("bar", update(f"{n}%", "bar"), nb.outputs.get)
    assert CountingList.reads <= 1000 * 4, "a few reads per update, whatever the cell holds"
    assert nb.texts("big")[0] == "999%"
