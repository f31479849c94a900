"""The preview contract (reactive_notebook/agent/previews.py): what an agent is shown of a
cell's outputs. The outputs here are made as the kernel makes them: real pandas frames
through the kernel's own table converter, a real matplotlib PNG, a real IPython traceback."""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib
import pandas as pd
from IPython.core.interactiveshell import InteractiveShell
from nbformat import v4

from reactive_notebook.agent.previews import (
    PreviewLimits,
    head_and_tail,
    page_output,
    preview_output,
    preview_outputs,
    resolve_carriage_returns,
)
from reactive_notebook.kernels.kernel_side import tables

matplotlib.use("Agg")
_, table = tables._reactive_converters(max_rows=1000, max_columns=1000)
LIMITS = PreviewLimits(text_bytes=200, error_frames=2, table_rows=3, answer_bytes=600)


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return dict(v4.new_output("stream", name=name, text=text))


def test_a_long_print_shows_its_head_and_tail_and_how_much_is_left_out() -> None:
    text = "".join(f"line {i}\n" for i in range(100_000))
    preview = preview_output(stream(text), 0, LIMITS)
    assert preview["kind"] == "stream"
    assert preview["name"] == "stdout"
    assert preview["text"].startswith("line 0\nline 1\n")
    assert preview["text"].endswith("line 99999\n")
    elided = len(text.encode()) - len(preview["text"].split("… [")[0].encode()) * 2
    assert f"[{elided:,} bytes elided]" in preview["text"]
    assert preview["bytes"] > len(text)  # the stored size, the whole of it


def test_the_cut_never_splits_a_character() -> None:
    text = "é" * 1000 + "🙂" * 1000
    cut = head_and_tail(text, 101)
    assert cut.startswith("é" * 25)
    assert cut.endswith("🙂" * 12)
    cut.encode("utf-8")  # whole characters only
    assert head_and_tail("short", 101) == "short"


def test_a_progress_bar_shows_its_last_state_without_ansi() -> None:
    bar = "\x1b[32m 10%\r 50%\r100%\x1b[0m\ndone\r\n"
    assert resolve_carriage_returns(bar) == "100%\x1b[0m\ndone\n"
    assert preview_output(stream(bar), 0, LIMITS)["text"] == "100%\ndone\n"


def test_an_error_shows_its_last_frames() -> None:
    shell = InteractiveShell.instance()
    result = shell.run_cell("def f(n):\n    return 1 / n if n == 0 else f(n - 1)\nf(3)")
    error = result.error_in_exec
    assert error is not None
    etype, value, tb = type(error), error, error.__traceback__
    frames = shell.InteractiveTB.structured_traceback(etype, value, tb)
    output = dict(v4.new_output("error", ename=etype.__name__, evalue=str(value), traceback=frames))
    preview = preview_output(output, 2, LIMITS)
    assert (preview["kind"], preview["index"]) == ("error", 2)
    assert (preview["ename"], preview["evalue"]) == ("ZeroDivisionError", "division by zero")
    assert "\x1b[" not in preview["traceback"]
    assert "ZeroDivisionError" in preview["traceback"]
    assert preview["frames_elided"] == len(frames) - 2


def test_a_dataframe_shows_its_shape_dtypes_and_first_rows() -> None:
    frame = pd.DataFrame({"n": range(5000), "x": [i / 2 for i in range(5000)]})
    frame.index.name = "id"
    bundle = {
        "text/html": frame.to_html(),
        "text/plain": repr(frame),
        tables._reactive_TABLE_MIME: table(frame),
    }
    preview = preview_output(dict(v4.new_output("execute_result", data=bundle)), 0, LIMITS)
    assert preview["kind"] == "table"
    assert preview["shape"] == [5000, 2]
    assert preview["dtypes"] == {"id": "int64", "n": "int64", "x": "float64"}
    assert preview["head"].splitlines() == ["id  n  x", "0   0  0.0", "1   1  0.5", "2   2  1.0"]


def test_an_image_is_one_line_with_its_size() -> None:
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(4, 3), dpi=100)
    plt.plot([1, 2, 3])
    png = io.BytesIO()
    figure.savefig(png, format="png")
    plt.close(figure)
    data = base64.b64encode(png.getvalue()).decode()
    output = dict(v4.new_output("display_data", data={"image/png": data, "text/plain": "<Figure>"}))
    preview = preview_output(output, 0, LIMITS)
    assert preview["kind"] == "image"
    assert preview["text"].startswith("image/png 400x300, ")
    assert data[:20] not in str(preview)  # never the image itself


def test_a_value_shows_its_text_and_names_its_richest_type() -> None:
    output = dict(
        v4.new_output("execute_result", data={"text/html": "<b>42</b>", "text/plain": "42"})
    )
    assert preview_output(output, 0, LIMITS) | {"bytes": 0} == {
        "index": 0,
        "bytes": 0,
        "kind": "display",
        "mime_type": "text/html",
        "text": "42",
    }


def test_one_cells_previews_stay_within_the_answer_budget() -> None:
    outputs = [stream("x" * 400), stream("y" * 400), stream("z" * 400), stream("w" * 10)]
    previews = preview_outputs(outputs, LIMITS)
    # Each 400-byte print shows 200 bytes and the elision mark: two fit in 600.
    assert [p["kind"] for p in previews] == ["stream", "stream", "elided"]
    assert previews[-1]["outputs"] == 2
    # The first output always shows, however large the budget says it is.
    tight = preview_outputs(outputs, PreviewLimits(text_bytes=200, answer_bytes=10))
    assert [p["kind"] for p in tight] == ["stream", "elided"]
    assert tight[-1]["outputs"] == 3


def test_paging_gives_back_the_whole_output() -> None:
    text = "".join(f"row {i}\n" for i in range(3000))
    output = stream(text)
    pages, offset = [], 0
    while offset is not None:
        page = page_output(output, offset, 5000)
        pages.append(page["text"])
        offset = page["next_offset"]
        assert page["total"] == len(text)
    assert "".join(pages) == text
    assert page_output(output, 10**9, 10)["text"] == ""
