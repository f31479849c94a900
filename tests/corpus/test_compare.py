"""The yardstick itself: what ``compare`` calls agreement, and the automatic edit (no kernel)."""

from __future__ import annotations

from typing import Any

from .compare import MAX_OUTPUT_BYTES, compare
from .edits import pick_edit
from .normalise import outputs
from .runs import CellRun, Run


def result(text: str, count: int = 1) -> dict[str, Any]:
    return {"output_type": "execute_result", "data": {"text/plain": text}, "execution_count": count}


def error(ename: str, evalue: str, line: str = "Cell In[3], line 1") -> dict[str, Any]:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [line]}


def stock(*cells: list[dict[str, Any]]) -> Run:
    return Run([CellRun(list(o), i + 1) for i, o in enumerate(cells)], 0.0)


def product(*cells: CellRun) -> Run:
    return Run(list(cells), 0.0, list(range(len(cells))))


def test_addresses_timings_and_kernel_files_are_not_differences() -> None:
    a = [
        result("<Figure at 0x7f3a12345678>"),
        {"output_type": "stream", "name": "stdout", "text": "Wall time: 1.2 ms\n"},
        error("E", "x", "File /tmp/ipykernel_12/3456.py:1"),
    ]
    b = [
        result("<Figure at 0x7f00deadbeef>"),
        {"output_type": "stream", "name": "stdout", "text": "Wall time: 13 µs\n"},
        error("E", "x", "File /tmp/ipykernel_99/7777.py:1"),
    ]
    assert outputs(a) == outputs(b)
    assert outputs([result("1")]) != outputs([result("2")])


def test_streams_are_joined_and_images_compared_by_type() -> None:
    chunks = [{"output_type": "stream", "name": "stdout", "text": t} for t in ("a", "b\n")]
    assert outputs(chunks) == outputs([{"output_type": "stream", "name": "stdout", "text": "ab\n"}])
    png = {"output_type": "display_data", "data": {"image/png": "AAA"}, "metadata": {"w": 1}}
    other = {"output_type": "display_data", "data": {"image/png": "BBB"}, "metadata": {}}
    assert outputs([png]) == outputs([other])
    svg = {"output_type": "display_data", "data": {"image/svg+xml": "<svg/>"}}
    assert outputs([png]) != outputs([svg])


def test_a_cell_that_ran_must_show_the_stock_outputs_and_count() -> None:
    found = compare(
        stock([result("2", 1)], [result("20", 2)]),
        product(CellRun([result("2", 1)], 1), CellRun([result("2", 5)], 5)),
        ran={0, 1},
        unstable=set(),
        counts=True,
    )
    assert [(d.cell, d.kind) for d in found.differences] == [
        (1, "outputs"),
        (1, "execution-count"),
    ]
    assert found.agreeing_cells == 1


def test_old_outputs_of_a_cell_that_did_not_run_must_be_stale() -> None:
    old = [result("1")]
    claims_fresh = CellRun(old, 1, status="success", stale=False)
    found = compare(stock(old), product(claims_fresh), ran=set(), unstable=set(), counts=False)
    assert {d.kind for d in found.differences} == {"stale", "did-not-run"}


def test_a_blocked_reader_of_an_unbound_name_is_accepted_when_stale() -> None:
    stock_run = stock([error("NameError", "name 'y' is not defined")])
    blocked = CellRun([result("old")], None, status="blocked", stale=True, error="failed")
    found = compare(stock_run, product(blocked), ran=set(), unstable=set(), counts=False)
    assert found.agrees
    assert [a.rule for a in found.accepted] == ["unbound-name"]
    blocked.stale = False
    found = compare(stock_run, product(blocked), ran=set(), unstable=set(), counts=False)
    assert [d.kind for d in found.differences] == ["stale"]


def test_a_blocked_cell_that_stock_ran_is_a_difference() -> None:
    blocked = CellRun([], None, status="blocked", stale=True, error="cell 3 failed")
    found = compare(
        stock([result("3.14")]), product(blocked), ran=set(), unstable=set(), counts=False
    )
    assert [d.kind for d in found.differences] == ["did-not-run"]


def test_a_reader_blocked_by_a_definer_that_failed_before_binding_is_accepted() -> None:
    # Stock read the name's earlier definition; the design blocks the reader instead.
    reason = "cell c3 failed before defining `d3` (AttributeError: np.object)"
    blocked = CellRun([result("old")], None, status="blocked", stale=True, error=reason)
    found = compare(
        stock([result("frame")]), product(blocked), ran=set(), unstable=set(), counts=False
    )
    assert found.agrees
    assert [a.rule for a in found.accepted] == ["failed-before-defining"]


def test_the_products_table_next_to_the_stock_bundle_is_no_difference() -> None:
    html = {"text/html": "<table/>", "text/plain": "   a\n0  1"}
    ours = {**html, "application/vnd.reactive-notebook.table+json": {"type": "table"}}
    plain = {"output_type": "execute_result", "data": html, "execution_count": 1}
    with_table = {"output_type": "execute_result", "data": ours, "execution_count": 1}
    assert outputs([plain]) == outputs([with_table])
    lacking_html = {"output_type": "execute_result", "data": {"text/plain": "   a\n0  1"}}
    assert outputs([plain]) != outputs([lacking_html])


def test_unstable_cells_compare_by_shape() -> None:
    found = compare(
        stock([result("0.12")]),
        product(CellRun([result("0.97")], 1)),
        ran={0},
        unstable={0},
        counts=False,
    )
    assert found.agrees
    shown = CellRun([{"output_type": "display_data", "data": {"text/plain": "0.9"}}], 1)
    found = compare(stock([result("0.12")]), product(shown), ran={0}, unstable={0}, counts=False)
    assert not found.agrees


def test_a_cell_over_the_output_cap_agrees_up_to_the_note() -> None:
    big = {"output_type": "execute_result", "data": {"text/html": "x" * MAX_OUTPUT_BYTES}}
    note = {
        "output_type": "display_data",
        "data": {"text/plain": "output truncated"},
        "metadata": {"reactive_notebook": {"truncated": True}},
    }
    found = compare(
        stock([big]), product(CellRun([note], 1)), ran={0}, unstable=set(), counts=False
    )
    assert [a.rule for a in found.accepted] == ["output-cap"]
    one_too_large = {**note, "metadata": {"reactive_notebook": {"truncated_bytes": 2_000_100}}}
    found = compare(
        stock([big]), product(CellRun([one_too_large], 1)), ran={0}, unstable=set(), counts=False
    )
    assert [a.rule for a in found.accepted] == ["output-cap"]
    small = {"output_type": "execute_result", "data": {"text/html": "x"}}
    found = compare(
        stock([small]), product(CellRun([note], 1)), ran={0}, unstable=set(), counts=False
    )
    assert not found.agrees


def test_the_edit_prefers_a_re_used_name_and_is_deterministic() -> None:
    sources = ["import numpy as np", "n = 3\nscale = 2.5", "x = 10", "x = 'a'", "print(x, n)"]
    edit = pick_edit(sources)
    assert edit is not None
    assert (edit.cell, edit.name, edit.after) == (2, "x", "x = 11")
    assert pick_edit(sources) == edit
    assert pick_edit(["%time n = 3", "n"]) is None  # magics are not edited
    fallback = pick_edit(["n = 3\nscale = 2.5", "print(scale)"])
    assert fallback is not None
    assert fallback.after == "n = 3\nscale = 3.5"


def test_after_an_edit_messages_printed_once_a_process_are_left_out() -> None:
    warned = {
        "output_type": "stream",
        "name": "stderr",
        "text": "findfont: Font family 'Comic Sans MS' not found.\n"
        "/x/y.py:3: FutureWarning: old\n  f(x)\nreal error text\n",
    }
    assert outputs([warned], once=False) == outputs(
        [{"output_type": "stream", "name": "stderr", "text": "real error text\n"}]
    )
    assert outputs([warned]) != outputs(
        [{"output_type": "stream", "name": "stderr", "text": "real error text\n"}]
    )
