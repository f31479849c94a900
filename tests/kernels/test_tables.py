"""The kernel-side table converters, in process (the real-kernel tests are in
``test_tables_kernel.py``)."""

from __future__ import annotations

import datetime
import decimal
import json
import math
import time
import types
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from IPython.core.formatters import DisplayFormatter

from reactive_notebook.kernels.kernel_side import kernel_source, table_formatter_code, tables

json_safe, table = tables._reactive_converters(max_rows=1000, max_columns=1000)
MIME = tables._reactive_TABLE_MIME
PARIS = datetime.timezone(datetime.timedelta(hours=1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("s", "s"),
        (3, 3),
        (True, True),
        (1.5, 1.5),
        (math.nan, None),
        (math.inf, None),
        (-math.inf, None),
        (np.float64("nan"), None),
        (np.float32(0.5), 0.5),
        (np.int64(7), 7),
        (np.bool_(True), True),
        (np.str_("x"), "x"),
        (pd.NaT, None),
        (pd.NA, None),
        (np.datetime64("NaT"), None),
        (np.datetime64("2024-01-02"), "2024-01-02"),
        (np.datetime64("2024-01-02T03:04:05", "ns"), "2024-01-02T03:04:05.000000000"),
        (np.timedelta64(90, "s"), "PT1M30S"),
        (np.timedelta64("NaT"), None),
        (datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=PARIS), "2024-01-02T03:04:05+01:00"),
        (
            pd.Timestamp("2024-01-02 03:04:05.123456789", tz="UTC"),
            "2024-01-02T03:04:05.123456789+00:00",
        ),
        (datetime.date(2024, 1, 2), "2024-01-02"),
        (datetime.time(3, 4, 5), "03:04:05"),
        (datetime.timedelta(0), "PT0S"),
        (datetime.timedelta(days=1, hours=2, minutes=3, seconds=4.5), "P1DT2H3M4.5S"),
        (datetime.timedelta(seconds=-1), "-PT1S"),
        (datetime.timedelta(days=3), "P3D"),
        (pd.Timedelta(nanoseconds=1500), "PT0.0000015S"),
        (decimal.Decimal("1.10"), "1.10"),
        (decimal.Decimal("NaN"), None),
        (decimal.Decimal("-Infinity"), None),
        (uuid.UUID(int=255), "00000000-0000-0000-0000-0000000000ff"),
        (b"\x00\xff", "AP8="),
        (bytearray(b"ok"), "b2s="),
        (memoryview(b"ok"), "b2s="),
        ([1, math.nan, (2, {3})], [1, None, [2, [3]]]),
        ({"a": math.inf, 1: b"x", (1, 2): None}, {"a": None, "1": "eA==", "[1, 2]": None}),
        (np.array([1.0, np.nan]), [1.0, None]),
        (np.array(["2024-01-01", "NaT"], dtype="datetime64[D]"), ["2024-01-01", None]),
        (complex(1, 2), "(1+2j)"),
        (pd.Period("2024-01", "M"), "2024-01"),
    ],
)
def test_json_safe(value: object, expected: object) -> None:
    assert json_safe(value) == expected
    json.dumps(json_safe(value), allow_nan=False)


def test_json_safe_survives_self_reference_and_broken_str() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    json.dumps(json_safe(loop), allow_nan=False)

    class Unprintable:
        def __str__(self) -> str:
            raise ValueError("no")

    assert json_safe(Unprintable()) == "<Unprintable>"


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary()
    | st.decimals()
    | st.datetimes(timezones=st.none() | st.timezones())
    | st.dates()
    | st.times()
    | st.timedeltas()
    | st.uuids(),
    lambda inner: (
        st.lists(inner) | st.tuples(inner) | st.dictionaries(st.text() | st.integers(), inner)
    ),
    max_leaves=20,
)


@given(values)
def test_json_safe_always_gives_strict_json(value: object) -> None:
    json.dumps(json_safe(value), allow_nan=False)


def test_only_the_shown_rows_are_converted() -> None:
    frame = pd.DataFrame(np.random.default_rng(0).random((200_000, 10)))
    frame["when"] = pd.Timestamp("2024-01-01")
    frame["label"] = "x"
    started = time.perf_counter()
    result = table(frame)
    elapsed = time.perf_counter() - started
    assert result["truncated"] == "showing 1000 of 200000 rows"
    assert len(result["rows"]) == 1000
    assert elapsed < 0.5


def test_wide_frames_keep_the_first_columns() -> None:
    _, narrow = tables._reactive_converters(max_rows=10, max_columns=3)
    result = narrow(pd.DataFrame(np.zeros((20, 5))))
    assert result["columns"] == ["index", "0", "1", "2"]
    assert result["truncated"] == "showing 10 of 20 rows and 3 of 5 columns"


def test_duplicate_and_odd_column_names() -> None:
    frame = pd.DataFrame([[1, 2, 3]], columns=["a", "a", pd.Timestamp("2024-01-01")])
    assert table(frame)["columns"] == ["index", "a", "a", "2024-01-01T00:00:00"]


def test_categorical_and_nullable_columns() -> None:
    frame = pd.DataFrame(
        {
            "c": pd.Categorical(["x", None]),
            "s": pd.array(["y", None], dtype="string"),
            "b": pd.array([True, None], dtype="boolean"),
            "f": pd.array([0.5, None], dtype="Float64"),
        }
    )
    assert table(frame)["rows"] == [[0, "x", "y", True, 0.5], [1, None, None, None, None]]


class FakePolarsFrame:
    """The slice of polars' DataFrame API the converter uses."""

    def __init__(self, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.columns = columns
        self._rows = rows

    @property
    def height(self) -> int:
        return len(self._rows)

    @property
    def width(self) -> int:
        return len(self.columns)

    @property
    def dtypes(self) -> list[str]:
        first = self._rows[0] if self._rows else ()
        return [type(value).__name__ for value in first] or ["Null"] * len(self.columns)

    def head(self, n: int) -> FakePolarsFrame:
        return FakePolarsFrame(self.columns, self._rows[:n])

    def select(self, names: list[str]) -> FakePolarsFrame:
        keep = [self.columns.index(name) for name in names]
        return FakePolarsFrame(names, [tuple(row[i] for i in keep) for row in self._rows])

    def iter_rows(self) -> list[tuple[Any, ...]]:
        return self._rows


FakePolarsFrame.__module__ = "polars.dataframe.frame"


def test_a_table_says_each_columns_dtype_and_the_frames_whole_width() -> None:
    """What a reader of the JSON (an API client, the assistant's previews) needs to
    describe a frame without its HTML: the shape and the dtypes."""
    frame = pd.DataFrame(
        {"n": range(3), "x": [0.5, 1.5, 2.5], "name": ["a", "b", "c"]},
        index=pd.Index([10, 20, 30], name="id"),
    )
    result = table(frame)
    assert result["columns"] == ["id", "n", "x", "name"]
    assert result["dtypes"] == ["int64", "int64", "float64", str(frame["name"].dtype)]
    assert (result["total_rows"], result["total_columns"]) == (3, 3)


def test_polars_frames_have_no_index() -> None:
    rows = [(i, math.nan, datetime.date(2024, 1, 1)) for i in range(1500)]
    result = table(FakePolarsFrame(["a", "b", "c"], rows))
    assert result["columns"] == ["a", "b", "c"]
    assert result["rows"][0] == [0, None, "2024-01-01"]
    assert result["truncated"] == "showing 1000 of 1500 rows"
    assert result["index_columns"] == 0


def test_other_objects_are_not_tables() -> None:
    assert table([1, 2]) is None


def fake_shell() -> Any:
    return types.SimpleNamespace(display_formatter=DisplayFormatter())


def test_install_adds_the_table_to_the_stock_reprs_and_no_formatter() -> None:
    shell = fake_shell()
    stock = list(shell.display_formatter.formatters)
    namespace: dict[str, Any] = {}
    exec(kernel_source("tables"), namespace)
    namespace["install_table_formatter"](shell, 2)
    namespace["install_table_formatter"](shell, 2)  # idempotent
    data, _ = shell.display_formatter.format(pd.DataFrame({"a": [1, 2, 3]}))
    assert {"text/plain", "text/html", MIME} <= set(data)
    assert data[MIME]["truncated"] == "showing 2 of 3 rows"
    assert list(shell.display_formatter.formatters) == stock  # user code sees a stock kernel
    assert MIME not in shell.display_formatter.format([1])[0]


class OwnBundle(pd.DataFrame):
    """A frame with a ``_repr_mimebundle_`` of its own (the table printer replaces the
    method in IPython's lookup, so it must keep what the method gives). Tables are made
    for pandas' and polars' own types: this one poses as pandas'."""

    __module__ = "pandas.core.frame"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        return {"text/markdown": "**own**"}, {"text/markdown": {"own": True}}


def test_a_frames_own_bundle_is_kept_next_to_its_table() -> None:
    shell = fake_shell()
    namespace: dict[str, Any] = {}
    exec(kernel_source("tables"), namespace)
    namespace["install_table_formatter"](shell, 5)
    data, metadata = shell.display_formatter.format(OwnBundle({"a": [1]}))
    assert data["text/markdown"] == "**own**"
    assert metadata["text/markdown"] == {"own": True}
    assert data[MIME]["rows"] == [[0, 1]]
    assert {"text/plain", "text/html"} <= set(data)


def test_install_code_leaves_only_private_names() -> None:
    shell = fake_shell()
    namespace: dict[str, Any] = {"get_ipython": lambda: shell}
    exec(table_formatter_code(5), namespace)
    public = {name for name in namespace if not name.startswith("_")}
    assert public == {"get_ipython"}
    assert {name for name in namespace if name.startswith("_") and name != "__builtins__"} <= {
        "_reactive_typing",
        "_reactive_TABLE_MIME",
        "_reactive_Converter",
        "_reactive_converters",
        "_reactive_bundle_printer",
        "__doc__",
    }
    assert MIME in shell.display_formatter.format(pd.DataFrame({"a": [1]}))[0]
