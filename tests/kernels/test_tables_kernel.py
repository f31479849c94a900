"""The table formatter inside a real ipykernel: install from source, display frames,
read the bundles from iopub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from queue import Empty
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

from reactive_notebook.kernels.kernel_side import table_formatter_code
from reactive_notebook.kernels.outputs import TABLE_MIME_TYPE

Message = tuple[str, dict[str, Any]]

SETUP = """
import datetime, decimal, uuid
import numpy as np
import pandas as pd
mixed = pd.DataFrame({
    "x": [1.5, float("nan"), float("inf")],
    "when": pd.to_datetime(["2024-01-01 12:00", None, "2024-06-01 00:00"]).tz_localize(
        "Europe/Paris"
    ),
    "naive": [pd.Timestamp("2024-01-02"), pd.NaT, pd.Timestamp("2024-01-03 04:05:06.000007")],
    "price": [decimal.Decimal("1.10"), None, decimal.Decimal("NaN")],
    "id": [uuid.UUID(int=1), None, None],
    "raw": [b"\\x00\\xff", None, b"ok"],
    "age": pd.to_timedelta(["1 day 2h", None, "-1s"]),
    "day": [datetime.date(2024, 1, 1), None, datetime.time(12, 30)],
    "n": pd.array([1, None, 3], dtype="Int64"),
    7: [[1, float("nan")], {"k": np.int64(3)}, (np.float32(0.5),)],
})
"""


def execute(client: Any, code: str, timeout: float = 30.0) -> list[Message]:
    """Run ``code``; the iopub output messages it caused, and fail on an error reply."""
    msg_id = client.execute(code)
    messages: list[Message] = []
    while True:
        try:
            message = client.get_iopub_msg(timeout=timeout)
        except Empty:  # pragma: no cover - a hung kernel
            pytest.fail(f"no idle from the kernel for {code!r}")
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        msg_type = message["msg_type"]
        if msg_type == "status" and message["content"]["execution_state"] == "idle":
            break
        if msg_type in ("stream", "display_data", "execute_result", "error"):
            messages.append((msg_type, message["content"]))
    reply = client.get_shell_msg(timeout=timeout)
    assert reply["content"]["status"] == "ok", reply["content"]
    return messages


def bundles(messages: list[Message]) -> list[dict[str, Any]]:
    return [content["data"] for kind, content in messages if kind != "stream"]


def table_of(
    client: Any, code: str, kind: str = "execute_result", stock: tuple[str, ...] = ("text/html",)
) -> dict[str, Any]:
    """The table of the one result of ``code``, next to the stock reprs (a Series has no
    ``text/html``)."""
    messages = execute(client, code)
    assert [m[0] for m in messages] == [kind], messages
    data = messages[0][1]["data"]
    json.dumps(data, allow_nan=False)  # every value is strict JSON
    assert {"text/plain", TABLE_MIME_TYPE, *stock} <= set(data)
    table = data[TABLE_MIME_TYPE]
    assert table["type"] == "table"
    assert all(isinstance(name, str) for name in table["columns"])
    assert all(len(row) == len(table["columns"]) for row in table["rows"])
    return table  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def kernel() -> Iterator[Any]:
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        assert execute(client, table_formatter_code(1000)) == []
        execute(client, SETUP)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_values_become_strict_json(kernel: Any) -> None:
    table = table_of(kernel, "mixed")
    assert table["columns"] == [
        "index", "x", "when", "naive", "price", "id", "raw", "age", "day", "n", "7"
    ]  # fmt: skip
    assert table["rows"] == [
        [
            0, 1.5, "2024-01-01T12:00:00+01:00", "2024-01-02T00:00:00", "1.10",
            "00000000-0000-0000-0000-000000000001", "AP8=", "P1DT2H", "2024-01-01", 1,
            [1, None],
        ],
        [1, None, None, None, None, None, None, None, None, None, {"k": 3}],
        [
            2, None, "2024-06-01T00:00:00+02:00", "2024-01-03T04:05:06.000007", None, None,
            "b2s=", "-PT1S", "12:30:00", 3, [0.5],
        ],
    ]  # fmt: skip
    assert table["truncated"] is None
    assert table["total_rows"] == 3
    assert table["index_columns"] == 1


def test_display_gives_display_data(kernel: Any) -> None:
    table = table_of(kernel, "display(mixed.head(1))", kind="display_data")
    assert table["total_rows"] == 1


def test_long_frames_are_truncated(kernel: Any) -> None:
    table = table_of(kernel, "pd.DataFrame({'v': range(5000)})")
    assert table["truncated"] == "showing 1000 of 5000 rows"
    assert table["total_rows"] == 5000
    assert len(table["rows"]) == 1000
    assert table["rows"][-1] == [999, 999]


def test_multi_index_rows_and_columns(kernel: Any) -> None:
    code = (
        "frame = pd.DataFrame([[1, 2], [3, 4]], index=pd.MultiIndex.from_tuples("
        "[('a', 1), ('b', 2)], names=['key', None]), columns=pd.MultiIndex.from_tuples("
        "[('sales', 'q1'), ('sales', '')]))\nframe"
    )
    table = table_of(kernel, code)
    assert table["columns"] == ["key", "level_1", "sales / q1", "sales"]
    assert table["rows"] == [["a", 1, 1, 2], ["b", 2, 3, 4]]
    assert table["index_columns"] == 2


def test_empty_frame(kernel: Any) -> None:
    table = table_of(kernel, "pd.DataFrame({'a': [], 'b': []})")
    assert table["columns"] == ["index", "a", "b"]
    assert table["rows"] == []
    assert table["total_rows"] == 0
    assert table["truncated"] is None


def test_series(kernel: Any) -> None:
    code = "pd.Series([1.0, None], name='v', index=pd.Index(['p', 'q'], name='k'))"
    named = table_of(kernel, code, stock=())
    assert named["columns"] == ["k", "v"]
    assert named["rows"] == [["p", 1.0], ["q", None]]
    unnamed = table_of(kernel, "pd.Series(range(3000))", stock=())
    assert unnamed["columns"] == ["index", "0"]
    assert unnamed["truncated"] == "showing 1000 of 3000 rows"


def test_other_values_keep_the_stock_reprs(kernel: Any) -> None:
    (data,) = bundles(execute(kernel, "[1, 2]"))
    assert set(data) == {"text/plain"}


def test_a_failing_frame_shows_no_traceback(kernel: Any) -> None:
    code = (
        "class Broken(pd.DataFrame):\n"
        "    @property\n"
        "    def iloc(self):\n"
        "        raise RuntimeError('no rows for you')\n"
        "Broken({'a': [1]})"
    )
    messages = execute(kernel, code)
    assert [kind for kind, _ in messages] == ["execute_result"]
    assert TABLE_MIME_TYPE not in messages[0][1]["data"]
    assert "text/plain" in messages[0][1]["data"]


def test_user_namespace_stays_clean_and_survives_reset(kernel: Any) -> None:
    code = "print(sorted(n for n in get_ipython().user_ns if 'reactive' in n or 'table' in n))"
    ((kind, content),) = execute(kernel, code)
    assert kind == "stream"
    assert "install_table_formatter" not in content["text"]
    names = json.loads(content["text"].replace("'", '"'))
    assert all(name.startswith("_reactive_") for name in names)
    execute(kernel, "%reset -f")
    table = table_of(kernel, "import pandas as pd\npd.DataFrame({'a': [float('nan')]})")
    assert table["rows"] == [[0, None]]
    execute(kernel, SETUP)  # later tests may rely on it
