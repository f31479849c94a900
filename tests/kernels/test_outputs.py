"""iopub messages -> nbformat outputs -> API shapes, and the output size cap."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import nbformat
import pytest
from nbformat import v4

from reactive_notebook.kernels.cell_outputs import CellOutputs
from reactive_notebook.kernels.outputs import (
    MIME_PRIORITY,
    TABLE_MIME_TYPE,
    UNSAFE_MIME_TYPES,
    api_error,
    api_output,
    api_outputs,
    api_streams,
    cap_output,
    display_id,
    json_safe,
    nb_output_from_message,
    output_size,
)

# nbformat is untyped
new_notebook: Any = v4.new_notebook
new_code_cell: Any = v4.new_code_cell
from_dict: Any = nbformat.from_dict
TABLE = {"type": "table", "columns": ["a"], "rows": [[1]], "truncated": None, "total_rows": 1}
PNG = base64.b64encode(b"\x89PNG fake").decode()
TRACEBACK = ["\x1b[0;31mValueError\x1b[0m Traceback", "\x1b[1;32mbad\x1b[0m input"]


def display(data: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": metadata or {}}


# --- nb_output_from_message ----------------------------------------------------------

MESSAGES: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
    (
        "stream",
        {"name": "stdout", "text": "hi\n"},
        {"output_type": "stream", "name": "stdout", "text": "hi\n"},
    ),
    (
        "display_data",
        {"data": {"text/plain": "x"}, "metadata": {}, "transient": {}},
        {"output_type": "display_data", "data": {"text/plain": "x"}, "metadata": {}},
    ),
    (
        "display_data",
        {"data": {"text/plain": "x"}, "metadata": {}, "transient": {"display_id": "d1"}},
        {
            "output_type": "display_data",
            "data": {"text/plain": "x"},
            "metadata": {"reactive_notebook": {"display_id": "d1"}},
        },
    ),
    (
        "execute_result",
        {"data": {"text/plain": "2"}, "metadata": {}, "execution_count": 4},
        {
            "output_type": "execute_result",
            "data": {"text/plain": "2"},
            "metadata": {},
            "execution_count": 4,
        },
    ),
    (
        "error",
        {"ename": "ValueError", "evalue": "bad", "traceback": TRACEBACK},
        {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": TRACEBACK},
    ),
    (
        "update_display_data",
        {"data": {"text/plain": "y"}, "metadata": {}, "transient": {"display_id": "d1"}},
        {
            "output_type": "display_data",
            "data": {"text/plain": "y"},
            "metadata": {"reactive_notebook": {"display_id": "d1", "update": True}},
        },
    ),
    ("update_display_data", {"data": {"text/plain": "y"}, "metadata": {}}, None),
    # User metadata cannot pose as a display id or an update of one (our key is ours).
    (
        "display_data",
        {
            "data": {"text/plain": "x"},
            "metadata": {"reactive_notebook": {"display_id": "d1", "update": True}, "k": 1},
        },
        {"output_type": "display_data", "data": {"text/plain": "x"}, "metadata": {"k": 1}},
    ),
    ("status", {"execution_state": "idle"}, None),
    ("clear_output", {"wait": False}, None),
    ("execute_input", {"code": "1", "execution_count": 1}, None),
    # lenient about missing keys
    (
        "display_data",
        {"data": {"text/plain": "x"}},
        {"output_type": "display_data", "data": {"text/plain": "x"}, "metadata": {}},
    ),
]


@pytest.mark.parametrize(("msg_type", "content", "expected"), MESSAGES)
def test_nb_output_from_message(
    msg_type: str, content: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    assert nb_output_from_message(msg_type, content) == expected


def test_cell_outputs_merge_streams_and_apply_updates() -> None:
    outputs: list[dict[str, Any]] = []
    cell = CellOutputs(outputs, 2_000_000)
    messages: list[tuple[str, dict[str, Any]]] = [
        ("stream", {"name": "stdout", "text": "a"}),
        ("stream", {"name": "stdout", "text": "b"}),
        ("stream", {"name": "stderr", "text": "!"}),
        ("display_data", {"data": {"text/plain": "0%"}, "transient": {"display_id": "bar"}}),
        ("display_data", {"data": {"text/plain": "other"}}),
        (
            "update_display_data",
            {"data": {"text/plain": "100%"}, "transient": {"display_id": "bar"}},
        ),
        (
            "update_display_data",
            {"data": {"text/plain": "lost"}, "transient": {"display_id": "no"}},
        ),
        ("stream", {"name": "stdout", "text": "c"}),
    ]
    for msg_type, content in messages:
        output = nb_output_from_message(msg_type, content)
        assert output is not None
        cell.add(output)
    cell.finish()
    assert [o.get("text") or o["data"]["text/plain"] for o in outputs] == [
        "ab", "!", "100%", "other", "c"
    ]  # fmt: skip
    assert display_id(outputs[2]) == "bar"
    assert outputs[2]["metadata"]["reactive_notebook"] == {"display_id": "bar"}


# --- api_output ------------------------------------------------------------------------

ALL = {
    "application/vnd.plotly.v1+json": {"data": [], "layout": {}},
    "application/vnd.vegalite.v6+json": {"mark": "bar", "v": 6},
    "application/vnd.vegalite.v5+json": {"mark": "bar", "v": 5},
    TABLE_MIME_TYPE: TABLE,
    "image/png": PNG,
    "image/svg+xml": "<svg/>",
    "text/html": "<b>x</b>",
    "text/markdown": "**x**",
    "application/json": {"k": 1},
    "text/plain": "x",
}


@pytest.mark.parametrize("winner", MIME_PRIORITY)
def test_the_best_mimetype_wins(winner: str) -> None:
    """Each mimetype beats every one after it in the priority list (a trusted output)."""
    after = MIME_PRIORITY[MIME_PRIORITY.index(winner) :]
    result = api_output(display({mime: ALL[mime] for mime in after}), trusted=True)
    assert result is not None
    expected_mime = "application/json" if winner == TABLE_MIME_TYPE else winner
    assert result == {"mime_type": expected_mime, "data": ALL[winner], "metadata": {}}


@pytest.mark.parametrize(
    ("data", "mime_type", "expected"),
    [
        (
            {"text/plain": "df", TABLE_MIME_TYPE: TABLE, "text/html": "<t/>"},
            "application/json",
            TABLE,
        ),
        (
            {"image/png": PNG[:4] + "\n" + PNG[4:] + "\n", "text/plain": "<Figure>"},
            "image/png",
            PNG,
        ),
        ({"text/plain": ["line 1\n", "line 2"]}, "text/plain", "line 1\nline 2"),
        ({"text/html": ["<p>", "</p>"]}, "text/html", "<p></p>"),
        ({"application/json": {"x": math.nan}}, "application/json", {"x": None}),
        ({"application/json": [1, 2]}, "application/json", [1, 2]),
        ({"application/vnd.custom": "c"}, "application/vnd.custom", "c"),
        ({"application/vnd.jupyter.widget-view+json": {}, "text/plain": "w"}, "text/plain", "w"),
    ],
)
def test_api_output_data(data: dict[str, Any], mime_type: str, expected: Any) -> None:
    result = api_output(display(data))
    assert result is not None
    assert (result["mime_type"], result["data"]) == (mime_type, expected)
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize(
    ("data", "trusted_mime", "untrusted_mime"),
    [
        # JupyterLab renders an untrusted SVG as nothing: the bundle's next type is shown.
        ({"image/svg+xml": "<svg/>", "text/html": "<b>x</b>"}, "image/svg+xml", "text/html"),
        ({"image/svg+xml": "<svg/>", "text/plain": "x"}, "image/svg+xml", "text/plain"),
        ({"application/javascript": "f()", "text/plain": "js"}, "text/plain", "text/plain"),
        (
            {"application/javascript": "f()", "application/vnd.custom": "c"},
            "application/javascript",
            "application/vnd.custom",
        ),
        # Sanitized when untrusted, so still the best choice.
        ({"text/html": "<b>x</b>", "text/plain": "x"}, "text/html", "text/html"),
        ({"text/markdown": "*x*", "text/plain": "x"}, "text/markdown", "text/markdown"),
        # Nothing safe to fall back on: the client refuses to render it (UNSAFE_MIME_TYPES).
        ({"application/javascript": "f()"}, "application/javascript", "application/javascript"),
    ],
)
def test_an_untrusted_output_is_shown_as_its_best_safe_mimetype(
    data: dict[str, Any], trusted_mime: str, untrusted_mime: str
) -> None:
    assert {"application/javascript", "text/javascript", "image/svg+xml"} == UNSAFE_MIME_TYPES
    trusted = api_output(display(data), trusted=True)
    untrusted = api_output(display(data), trusted=False)
    assert trusted is not None
    assert untrusted is not None
    assert (trusted["mime_type"], untrusted["mime_type"]) == (trusted_mime, untrusted_mime)
    assert api_output(display(data)) == untrusted, "untrusted unless said otherwise"
    assert untrusted["data"] == data[untrusted_mime]


def test_api_output_metadata_and_display_id() -> None:
    output = display(
        {"image/png": PNG},
        {"image/png": {"width": 640, "height": 480}, "reactive_notebook": {"display_id": "d"}},
    )
    assert api_output(output) == {
        "mime_type": "image/png",
        "data": PNG,
        "metadata": {"width": 640, "height": 480, "display_id": "d"},
    }


@pytest.mark.parametrize(
    "output",
    [
        {"output_type": "stream", "name": "stdout", "text": "x"},
        {"output_type": "error", "ename": "E", "evalue": "", "traceback": []},
        display({}),
    ],
)
def test_streams_errors_and_empty_bundles_are_not_api_outputs(output: dict[str, Any]) -> None:
    assert api_output(output) is None


def test_api_outputs_streams_and_error() -> None:
    outputs: list[dict[str, Any]] = [
        {"output_type": "stream", "name": "stdout", "text": "a\n"},
        {"output_type": "stream", "name": "stderr", "text": ["warn", "ing\n"]},
        display({"text/plain": "1"}),
        {"output_type": "stream", "name": "stdout", "text": "b\n"},
        {
            "output_type": "execute_result",
            "execution_count": 1,
            "data": {"text/plain": "2"},
            "metadata": {},
        },
        {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": TRACEBACK},
    ]
    assert api_streams(outputs) == ("a\nb\n", "warning\n")
    assert [o["data"] for o in api_outputs(outputs)] == ["1", "2"]
    assert api_error(outputs) == {
        "ename": "ValueError",
        "evalue": "bad",
        "message": "ValueError: bad",
        "traceback": TRACEBACK,
        "traceback_text": "ValueError Traceback\nbad input",
    }
    assert api_error(outputs[:-1]) is None
    assert api_streams([]) == ("", "")


# --- cap_output --------------------------------------------------------------------------


def big_png_output() -> dict[str, Any]:
    png = base64.b64encode(b"\x89PNG" + bytes(2_250_000)).decode()  # ~3 MB of base64
    return display({"image/png": png, "text/plain": "<Figure>"})


def test_a_3mb_png_is_replaced_by_a_note() -> None:
    output = big_png_output()
    assert output_size(output) > 3_000_000
    capped = cap_output(output)
    # The note says what was cut, and the limit.
    note = "output truncated: a 3.0 MB display (image/png) exceeds the 2 MB limit of one output"
    assert capped["output_type"] == "display_data"
    assert capped["data"] == {"text/plain": note, "text/markdown": f"*{note}*"}
    assert output_size(capped) < 2_000_000
    assert api_output(capped) == {"mime_type": "text/markdown", "data": f"*{note}*", "metadata": {}}


@pytest.mark.parametrize(
    "output",
    [
        display({"text/plain": "small"}),
        {"output_type": "stream", "name": "stdout", "text": "x" * 1000},
        {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["t"]},
    ],
)
def test_small_outputs_are_unchanged(output: dict[str, Any]) -> None:
    assert cap_output(output, max_bytes=2000) is output


def test_a_big_execute_result_becomes_a_display_keeping_its_display_id() -> None:
    output = {
        "output_type": "execute_result",
        "execution_count": 3,
        "data": {"text/html": "<p>" * 100_000},
        "metadata": {"reactive_notebook": {"display_id": "d"}},
    }
    capped = cap_output(output, max_bytes=10_000)
    assert capped["output_type"] == "display_data"
    assert "execution_count" not in capped
    assert display_id(capped) == "d"
    assert "exceeds the 0.01 MB limit" in capped["data"]["text/plain"]


@pytest.mark.parametrize("text", ["x" * 50_000, "é\n" * 30_000, "\x00\x01" * 20_000])
def test_a_big_stream_is_cut_to_the_cap(text: str) -> None:
    output = {"output_type": "stream", "name": "stdout", "text": text}
    capped = cap_output(output, max_bytes=10_000)
    assert capped["name"] == "stdout"
    assert output_size(capped) <= 10_000
    assert capped["text"].endswith("MB limit]\n")
    assert text.startswith(capped["text"].split("\n[output truncated")[0])
    assert output_size(capped) > 9_000  # the budget is used, not over-cut


def test_a_big_error_keeps_its_name_and_last_lines() -> None:
    output = {
        "output_type": "error",
        "ename": "RecursionError",
        "evalue": "v" * 50_000,
        "traceback": [f"frame {i}" for i in range(20_000)],
    }
    capped = cap_output(output, max_bytes=10_000)
    assert capped["ename"] == "RecursionError"
    assert capped["traceback"][0].startswith("[output truncated")
    assert capped["traceback"][-1] == "frame 19999"
    assert output_size(capped) <= 10_000
    assert api_error([capped]) is not None


def test_produced_outputs_make_a_valid_notebook() -> None:
    outputs = [
        output
        for msg_type, content, _ in MESSAGES
        if (output := nb_output_from_message(msg_type, content)) is not None
    ]
    outputs.append(display({TABLE_MIME_TYPE: TABLE, "text/plain": "df"}))
    outputs.append(cap_output(big_png_output()))
    outputs.append(
        cap_output({"output_type": "stream", "name": "stderr", "text": "e" * 5000}, 1000)
    )
    outputs.append(
        cap_output(
            {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["x" * 5000]}, 1000
        )
    )
    notebook = new_notebook(cells=[new_code_cell("x", outputs=outputs, execution_count=1)])
    nbformat.validate(from_dict(json.loads(json.dumps(notebook))))


def test_json_safe_is_the_kernel_rule() -> None:
    assert json_safe({"a": [math.nan, b"\x00"]}) == {"a": [None, "AA=="]}
