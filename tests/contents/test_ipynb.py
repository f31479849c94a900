"""The .ipynb mapping: what we write is valid nbformat 4.5 that stock JupyterLab opens,
and any nbformat notebook opens as a reactive notebook."""

from __future__ import annotations

import copy
from typing import Any

import nbformat
import pytest
from nbformat import v3, v4

from reactive_notebook.contents.ipynb import (
    REACTIVE_KEY,
    carry_over_foreign_fields,
    notebook_from_nbformat,
    notebook_to_nbformat,
)
from reactive_notebook.models import Cell, CellStatus, CellType, Notebook

STREAM = {"output_type": "stream", "name": "stdout", "text": "hello\n"}
STDERR = {"output_type": "stream", "name": "stderr", "text": "careful\n"}
DISPLAY = {
    "output_type": "display_data",
    "data": {"image/png": "iVBORw0KGgo=\n", "text/plain": "<Figure>"},
    "metadata": {"image/png": {"width": 10}},
}
RESULT = {
    "output_type": "execute_result",
    "execution_count": 3,
    "data": {"text/html": "<b>x</b>", "text/plain": "x", "application/json": {"a": [1, 2]}},
    "metadata": {},
}
ERROR = {
    "output_type": "error",
    "ename": "ZeroDivisionError",
    "evalue": "division by zero",
    "traceback": ["Traceback...", "ZeroDivisionError: division by zero"],
}


def _notebook(*cells: Cell, **fields: Any) -> Notebook:
    defaults: dict[str, Any] = {"id": "nb1", "name": "Sales"}
    defaults.update(fields)
    return Notebook(cells=list(cells), **defaults)


ROUND_TRIPS = {
    "empty notebook": _notebook(),
    "python cell without outputs": _notebook(Cell(id="c1", code="x = 1")),
    "stream outputs": _notebook(
        Cell(id="c1", code="print('hello')", outputs=[STREAM, STDERR], execution_count=1)
    ),
    "display_data": _notebook(Cell(id="c1", code="fig", outputs=[DISPLAY], execution_count=2)),
    "execute_result": _notebook(Cell(id="c1", code="x", outputs=[RESULT], execution_count=3)),
    "error output": _notebook(Cell(id="c1", code="1/0", outputs=[ERROR], execution_count=4)),
    "sql cell": _notebook(
        Cell(id="q1", type=CellType.SQL, code="select * from t where a = {x}", output="df_1")
    ),
    "markdown and raw cells": _notebook(
        Cell(id="m1", type=CellType.MARKDOWN, code="# Title\n\ntext"),
        Cell(id="r1", type=CellType.RAW, code="raw \\LaTeX"),
        Cell(id="c1", code="y = 2"),
    ),
    "unicode everywhere": _notebook(
        Cell(id="c-u_1", code="naïve = '日本語 🚀'", outputs=[{**STREAM, "text": "日本語 🚀\n"}]),
        name="Résumé 📊",
        owner="usér",
    ),
    "notebook fields": _notebook(
        owner="user_2abc",
        db_connection="postgresql://app:${PGPASSWORD}@db:5432/sales",
        revision=41,
    ),
}


@pytest.mark.parametrize("nb", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_a_notebook_survives_writing_and_reading_back(nb: Notebook) -> None:
    text = nbformat.writes(notebook_to_nbformat(nb))
    back = notebook_from_nbformat(nbformat.reads(text, as_version=4), fallback_name="unused")
    assert back == nb


@pytest.mark.parametrize("nb", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_what_we_write_is_valid_nbformat_4_5(nb: Notebook) -> None:
    node = notebook_to_nbformat(nb)
    nbformat.validate(node)
    assert (node.nbformat, node.nbformat_minor) == (4, 5)


def test_cell_ids_are_nbformat_cell_ids() -> None:
    node = notebook_to_nbformat(_notebook(Cell(id="a1"), Cell(id="b2", type=CellType.MARKDOWN)))
    assert [cell.id for cell in node.cells] == ["a1", "b2"]


def test_a_sql_cell_is_a_code_cell_tagged_with_its_output_variable() -> None:
    node = notebook_to_nbformat(
        _notebook(Cell(id="q", type=CellType.SQL, code="select 1", output="totals"))
    )
    (cell,) = node.cells
    assert cell.cell_type == "code"
    assert cell.source == "select 1"
    assert cell.metadata[REACTIVE_KEY] == {"type": "sql", "output": "totals"}


def test_a_python_cell_carries_no_reactive_cell_metadata() -> None:
    node = notebook_to_nbformat(_notebook(Cell(id="c", code="x = 1")))
    assert REACTIVE_KEY not in node.cells[0].metadata


def test_notebook_metadata_holds_identity_and_a_python_kernelspec() -> None:
    nb = _notebook(owner="me", db_connection="duckdb:///x.db", revision=7)
    metadata = notebook_to_nbformat(nb).metadata
    assert metadata[REACTIVE_KEY] == {
        "id": "nb1",
        "name": "Sales",
        "owner": "me",
        "db_connection": "duckdb:///x.db",
        "revision": 7,
    }
    assert metadata.kernelspec.name == "python3"
    assert metadata.kernelspec.language == "python"
    assert metadata.language_info.name == "python"


def test_run_state_is_not_stored_and_loads_as_idle() -> None:
    nb = _notebook(
        Cell(id="c", code="1/0", status=CellStatus.ERROR, stale=True, error="boom", outputs=[ERROR])
    )
    back = notebook_from_nbformat(notebook_to_nbformat(nb), fallback_name="x")
    cell = back.cells[0]
    assert (cell.status, cell.stale, cell.error) == (CellStatus.IDLE, False, None)
    assert cell.outputs == [ERROR]


@pytest.mark.parametrize("bad_id", ["", "has space", "x" * 65, "a/b"])
def test_writing_refuses_a_cell_id_nbformat_would_reject(bad_id: str) -> None:
    with pytest.raises(ValueError, match="not a valid nbformat cell id"):
        notebook_to_nbformat(_notebook(Cell(id=bad_id)))


def test_writing_refuses_duplicate_cell_ids() -> None:
    with pytest.raises(ValueError, match="duplicate cell id"):
        notebook_to_nbformat(_notebook(Cell(id="c"), Cell(id="c")))


def test_writing_does_not_alias_the_models_outputs() -> None:
    outputs = [copy.deepcopy(RESULT)]
    node = notebook_to_nbformat(_notebook(Cell(id="c", outputs=outputs)))
    node.cells[0].outputs[0]["data"]["text/plain"] = "changed"
    assert outputs[0]["data"]["text/plain"] == "x"


# ----------------------------------------------------------------- foreign notebooks


def _stock_notebook() -> nbformat.NotebookNode:
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# Analysis"),
        v4.new_code_cell(
            "import math\nprint(math.pi)",
            execution_count=1,
            outputs=[v4.new_output("stream", name="stdout", text="3.14159\n")],
        ),
        v4.new_code_cell(
            "math.tau",
            execution_count=2,
            outputs=[v4.new_output("execute_result", {"text/plain": "6.28"}, execution_count=2)],
        ),
        v4.new_raw_cell("raw text"),
    ]
    return nb


def test_a_stock_nbformat_notebook_opens_with_its_code_cells_as_python_cells() -> None:
    stock = _stock_notebook()
    nb = notebook_from_nbformat(stock, fallback_name="analysis")
    assert [c.type for c in nb.cells] == [
        CellType.MARKDOWN,
        CellType.PYTHON,
        CellType.PYTHON,
        CellType.RAW,
    ]
    assert [c.id for c in nb.cells] == [c.id for c in stock.cells]
    assert nb.cells[1].code == "import math\nprint(math.pi)"
    assert nb.cells[1].outputs == [{"output_type": "stream", "name": "stdout", "text": "3.14159\n"}]
    assert nb.cells[2].execution_count == 2
    assert all(c.status is CellStatus.IDLE and not c.stale for c in nb.cells)


def test_a_notebook_without_our_metadata_gets_a_fresh_id_and_the_fallback_name() -> None:
    first = notebook_from_nbformat(_stock_notebook(), fallback_name="analysis")
    second = notebook_from_nbformat(_stock_notebook(), fallback_name="analysis")
    assert first.name == "analysis"
    assert first.id
    assert first.id != second.id
    assert (first.owner, first.db_connection, first.revision) == ("", "", 0)


def test_reading_never_modifies_the_given_notebook() -> None:
    stock = _stock_notebook()
    before = copy.deepcopy(stock)
    nb = notebook_from_nbformat(stock, fallback_name="x")
    nb.cells[1].outputs[0]["text"] = "changed"
    assert stock == before


def test_a_stock_notebook_written_back_by_us_is_still_valid() -> None:
    nb = notebook_from_nbformat(_stock_notebook(), fallback_name="analysis")
    nbformat.validate(notebook_to_nbformat(nb))


def test_multiline_list_sources_are_joined() -> None:
    stock = _stock_notebook().copy()
    raw = {**stock, "cells": [{**stock.cells[1], "source": ["a = 1\n", "b = 2"]}]}
    assert notebook_from_nbformat(raw, fallback_name="x").cells[0].code == "a = 1\nb = 2"


def test_an_nbformat_4_4_notebook_without_cell_ids_gets_unique_valid_ids() -> None:
    old = {
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": "x = 1",
                "outputs": [],
                "execution_count": None,
            },
            {"cell_type": "markdown", "metadata": {}, "source": "hi"},
        ],
    }
    nb = notebook_from_nbformat(old, fallback_name="old")
    assert len({c.id for c in nb.cells}) == 2
    assert [c.code for c in nb.cells] == ["x = 1", "hi"]
    nbformat.validate(notebook_to_nbformat(nb))


def test_an_nbformat_3_notebook_is_converted() -> None:
    old = v3.new_notebook(
        worksheets=[
            v3.new_worksheet(
                cells=[
                    v3.new_text_cell("markdown", source="# Old"),
                    v3.new_code_cell(input="x = 1", prompt_number=1),
                ]
            )
        ]
    )
    nb = notebook_from_nbformat(old, fallback_name="ancient")
    assert [(c.type, c.code) for c in nb.cells] == [
        (CellType.MARKDOWN, "# Old"),
        (CellType.PYTHON, "x = 1"),
    ]
    assert nb.cells[1].execution_count == 1
    nbformat.validate(notebook_to_nbformat(nb))


def test_duplicate_cell_ids_in_a_file_are_made_unique_on_read() -> None:
    stock = _stock_notebook()
    stock.cells[2].id = stock.cells[1].id
    nb = notebook_from_nbformat(stock, fallback_name="x")
    assert nb.cells[1].id == stock.cells[1].id
    assert len({c.id for c in nb.cells}) == 4


@pytest.mark.parametrize("value", ["not a notebook", ["cells"], 42])
def test_something_that_is_not_a_notebook_is_a_value_error(value: Any) -> None:
    with pytest.raises(ValueError, match="not a notebook"):
        notebook_from_nbformat(value, fallback_name="x")


def test_an_unknown_nbformat_major_version_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unsupported nbformat"):
        notebook_from_nbformat({"nbformat": 9, "cells": []}, fallback_name="x")


def _with_reactive_metadata(value: Any) -> dict[str, Any]:
    node = dict(_stock_notebook())
    node["metadata"] = {REACTIVE_KEY: value}
    return node


GARBAGE_METADATA = {
    "revision is a string": ({"id": "nb1", "name": "N", "revision": "abc"}, "nb1", "N", 0),
    "revision is a bool": ({"id": "nb1", "name": "N", "revision": True}, "nb1", "N", 0),
    "revision is negative": ({"id": "nb1", "name": "N", "revision": -3}, "nb1", "N", 0),
    "id is a number": ({"id": 42, "name": "N", "revision": 2}, None, "N", 2),
    "id is a path": ({"id": "../etc", "name": "N", "revision": 2}, None, "N", 2),
    "name is blank": ({"id": "nb1", "name": "   ", "revision": 2}, "nb1", "fallback", 2),
    "name is a list": ({"id": "nb1", "name": ["N"]}, "nb1", "fallback", 0),
    "metadata is a string": ("garbage", None, "fallback", 0),
    "metadata is a list": ([1, 2], None, "fallback", 0),
}


@pytest.mark.parametrize(
    ("metadata", "expected_id", "expected_name", "expected_revision"),
    GARBAGE_METADATA.values(),
    ids=GARBAGE_METADATA.keys(),
)
def test_garbage_notebook_metadata_falls_back_field_by_field(
    metadata: Any, expected_id: str | None, expected_name: str, expected_revision: int
) -> None:
    nb = notebook_from_nbformat(_with_reactive_metadata(metadata), fallback_name="fallback")
    if expected_id is None:
        assert nb.id
        assert nb.id != metadata
    else:
        assert nb.id == expected_id
    assert nb.name == expected_name
    assert nb.revision == expected_revision


def test_owner_and_connection_of_the_wrong_type_become_empty() -> None:
    nb = notebook_from_nbformat(
        _with_reactive_metadata({"id": "nb1", "owner": 5, "db_connection": {"x": 1}}),
        fallback_name="x",
    )
    assert (nb.owner, nb.db_connection) == ("", "")


@pytest.mark.parametrize("output", [None, "", "1abc", "class", 7])
def test_a_sql_cell_with_an_unusable_output_variable_gets_a_default_one(output: Any) -> None:
    stock = _stock_notebook()
    stock.cells[1].metadata[REACTIVE_KEY] = {"type": "sql", "output": output}
    cell = notebook_from_nbformat(stock, fallback_name="x").cells[1]
    assert (cell.type, cell.output) == (CellType.SQL, "df_1")


def test_code_cell_metadata_of_another_type_stays_python() -> None:
    stock = _stock_notebook()
    stock.cells[1].metadata[REACTIVE_KEY] = {"type": "something-else"}
    assert notebook_from_nbformat(stock, fallback_name="x").cells[1].type is CellType.PYTHON


def test_garbage_outputs_and_execution_counts_are_dropped_not_fatal() -> None:
    stock = _stock_notebook()
    stock.cells[1].outputs = ["junk", STREAM]
    stock.cells[1].execution_count = "three"
    cell = notebook_from_nbformat(stock, fallback_name="x").cells[1]
    assert cell.outputs == [STREAM]
    assert cell.execution_count is None


# ----------------------------------------------------------------- foreign fields


def test_saving_keeps_other_tools_metadata_tags_and_attachments() -> None:
    old = _stock_notebook()
    old.metadata["jupytext"] = {"formats": "ipynb,py"}
    old.cells[0]["attachments"] = {"a.png": {"image/png": "iVBOR="}}
    old.cells[1].metadata["tags"] = ["parameters"]
    nb = notebook_from_nbformat(old, fallback_name="x")
    nb.cells[1].code = "changed"

    new = notebook_to_nbformat(nb)
    carry_over_foreign_fields(new, old)

    assert new.metadata.jupytext == {"formats": "ipynb,py"}
    assert new.cells[0].attachments == {"a.png": {"image/png": "iVBOR="}}
    assert new.cells[1].metadata.tags == ["parameters"]
    assert new.cells[1].source == "changed"
    nbformat.validate(new)


def test_our_own_fields_win_over_the_old_files() -> None:
    old = notebook_to_nbformat(
        _notebook(Cell(id="q", type=CellType.SQL, output="df_1"), revision=1, name="Old")
    )
    new = notebook_to_nbformat(_notebook(Cell(id="q", type=CellType.PYTHON), revision=2))
    carry_over_foreign_fields(new, old)
    assert new.metadata[REACTIVE_KEY]["revision"] == 2
    assert new.metadata[REACTIVE_KEY]["name"] == "Sales"
    assert REACTIVE_KEY not in new.cells[0].metadata  # a former SQL cell stays Python
