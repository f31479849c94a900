"""Table display for DataFrames, executed INSIDE the kernel: its source is sent at start.

The kernel's environment has no copy of this package, so this file is self-contained:
stdlib at the top, pandas/numpy/polars looked up lazily, and every module-level name is
``install_table_formatter`` or starts with ``_reactive_`` so the user namespace stays
clean. The functions the formatter calls are closures made at install time: they keep
working after ``%reset`` or ``del`` empties the user namespace.

``install_table_formatter(get_ipython())`` makes ``pandas.DataFrame``, ``pandas.Series``
and ``polars.DataFrame`` display with ``application/vnd.reactive-notebook.table+json``::

    {"type": "table", "columns": ["index", "a"], "dtypes": ["int64", "float64"],
     "rows": [[0, 1.5]], "truncated": null | "showing 1000 of 5000 rows",
     "total_rows": 5000, "total_columns": 1,
     "index_columns": 1}

next to the stock ``text/html`` and ``text/plain``. It adds no display formatter (the
kernel's ``display_formatter.formatters`` stay a stock kernel's): the table comes from a
type printer on IPython's own mimebundle formatter, whose bundle ``DisplayFormatter``
completes with every other formatter's output (the object's own ``_repr_mimebundle_``,
if any, is kept in the bundle). The index comes first (one column per
level; unnamed levels are ``index`` or ``level_<i>`` as in ``reset_index``), at most
``max_rows`` rows and ``max_columns`` columns are converted, and every value is JSON-safe:
NaN/NaT/NA/inf -> null; datetime, date, time, Timestamp -> ISO 8601; timedelta ->
ISO 8601 duration (``P1DT2H3M4.5S``, ``-PT1S``, ``PT0S``); Decimal and UUID -> string
(non-finite Decimal -> null); bytes -> base64 (standard alphabet, padded); numpy scalars
-> Python scalars; lists, tuples, sets, dicts and arrays recursively; anything else ->
``str()``. A failure to build the table never shows a traceback: the formatter returns
nothing and the stock reprs are shown.

The server imports this module too (``kernels.outputs`` uses the same ``json_safe``).
"""

import typing as _reactive_typing

_reactive_TABLE_MIME = "application/vnd.reactive-notebook.table+json"

_reactive_Converter = _reactive_typing.Callable[[object], _reactive_typing.Any]


def _reactive_converters(
    max_rows: int = 1000, max_columns: int = 1000
) -> tuple[_reactive_Converter, _reactive_Converter]:
    """``(json_safe, table)``: the value converter and the frame -> table dict builder."""
    import base64
    import datetime
    import decimal
    import math
    import sys
    import uuid

    missing_types = ("NaTType", "NAType")
    max_depth = 32

    def iso_duration(nanoseconds: int) -> str:
        sign = "-" if nanoseconds < 0 else ""
        seconds, fraction = divmod(abs(nanoseconds), 1_000_000_000)
        minutes, second = divmod(seconds, 60)
        hours, minute = divmod(minutes, 60)
        days, hour = divmod(hours, 24)
        time = ""
        if hour:
            time += f"{hour}H"
        if minute:
            time += f"{minute}M"
        if second or fraction:
            digits = f".{fraction:09d}".rstrip("0") if fraction else ""
            time += f"{second}{digits}S"
        if not days and not time:
            return "PT0S"
        return f"{sign}P{f'{days}D' if days else ''}{f'T{time}' if time else ''}"

    def timedelta_nanoseconds(value: datetime.timedelta) -> int:
        exact = getattr(value, "value", None)  # pandas.Timedelta keeps nanoseconds
        if isinstance(exact, int):
            return exact
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        return micros * 1000

    def safe_key(key: object) -> str:
        if isinstance(key, str):
            return str(key)
        converted = json_safe(key)
        return converted if isinstance(converted, str) else str(converted)

    def as_text(value: object) -> str:
        try:
            return str(value)
        except Exception:
            return f"<{type(value).__name__}>"

    def numpy_value(value: object, depth: int) -> tuple[bool, _reactive_typing.Any]:
        numpy: _reactive_typing.Any = sys.modules.get("numpy")
        if numpy is None:
            return False, None
        if isinstance(value, numpy.datetime64):
            return True, None if numpy.isnat(value) else str(numpy.datetime_as_string(value))
        if isinstance(value, numpy.timedelta64):
            if numpy.isnat(value):
                return True, None
            return True, iso_duration(int(value.astype("timedelta64[ns]").astype(numpy.int64)))
        if isinstance(value, numpy.generic):
            return True, json_safe(value.item(), depth + 1)
        if isinstance(value, numpy.ndarray) and depth < max_depth:
            if value.dtype.kind in "Mm" or value.dtype.kind == "O":
                return True, [json_safe(item, depth + 1) for item in value]
            return True, json_safe(value.tolist(), depth + 1)
        return False, None

    def json_safe(value: object, depth: int = 0) -> _reactive_typing.Any:
        """``value`` as something ``json.dumps(..., allow_nan=False)`` accepts."""
        kind = type(value)
        if value is None or kind is str or kind is int or kind is bool:
            return value
        if kind is float:
            return value if math.isfinite(value) else None  # type: ignore[arg-type]
        if kind.__name__ in missing_types:
            return None
        if isinstance(value, str):
            return str(value)
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            number = float(value)
            return number if math.isfinite(number) else None
        if isinstance(value, datetime.datetime | datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, datetime.timedelta):
            return iso_duration(timedelta_nanoseconds(value))
        if isinstance(value, decimal.Decimal):
            return str(value) if value.is_finite() else None
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return base64.b64encode(value).decode("ascii")
        if depth < max_depth:
            if isinstance(value, dict):
                return {safe_key(k): json_safe(v, depth + 1) for k, v in value.items()}
            if isinstance(value, list | tuple | set | frozenset):
                return [json_safe(item, depth + 1) for item in value]
        handled, converted = numpy_value(value, depth)
        if handled:
            return converted
        return as_text(value)

    def column_name(label: object) -> str:
        if isinstance(label, tuple):
            return " / ".join(as_text(level) for level in label if level != "")
        return label if isinstance(label, str) else as_text(json_safe(label))

    def pandas_values(values: _reactive_typing.Any) -> list[_reactive_typing.Any]:
        """One column (a Series or an Index) as JSON-safe Python values."""
        import numpy

        dtype = values.dtype
        items = values.tolist()
        if isinstance(dtype, numpy.dtype) and dtype.kind in "biu":
            return list(items)
        if isinstance(dtype, numpy.dtype) and dtype.kind == "f":
            return [item if math.isfinite(item) else None for item in items]
        return [json_safe(item) for item in items]

    def truncation(rows: int, total_rows: int, columns: int, total_columns: int) -> str | None:
        parts = []
        if rows < total_rows:
            parts.append(f"{rows} of {total_rows} rows")
        if columns < total_columns:
            parts.append(f"{columns} of {total_columns} columns")
        return "showing " + " and ".join(parts) if parts else None

    def pandas_table(obj: _reactive_typing.Any) -> dict[str, _reactive_typing.Any]:
        import pandas

        total_rows = len(obj)
        if isinstance(obj, pandas.Series):
            name = obj.name if obj.name is not None else 0
            obj = obj.iloc[:max_rows].to_frame(name=name)
        total_columns = obj.shape[1]
        head = obj.iloc[:max_rows, :max_columns]
        index = head.index
        names = list(index.names)
        columns: list[str] = []
        dtypes: list[str] = []
        values: list[list[_reactive_typing.Any]] = []
        for level, name in enumerate(names):
            if name is None:
                name = "index" if len(names) == 1 else f"level_{level}"
            level_values = index.get_level_values(level)
            columns.append(column_name(name))
            dtypes.append(str(level_values.dtype))
            values.append(pandas_values(level_values))
        for label, series in head.items():
            columns.append(column_name(label))
            dtypes.append(str(series.dtype))
            values.append(pandas_values(series))
        return {
            "type": "table",
            "columns": columns,
            "dtypes": dtypes,
            "rows": [list(row) for row in zip(*values, strict=True)],
            "truncated": truncation(len(head), total_rows, head.shape[1], total_columns),
            "total_rows": total_rows,
            "total_columns": total_columns,
            "index_columns": len(names),
        }

    def polars_table(obj: _reactive_typing.Any) -> dict[str, _reactive_typing.Any]:
        total_rows, total_columns = obj.height, obj.width
        head = obj.head(max_rows)
        if total_columns > max_columns:
            head = head.select(head.columns[:max_columns])
        return {
            "type": "table",
            "columns": [column_name(name) for name in head.columns],
            "dtypes": [str(dtype) for dtype in head.dtypes],
            "rows": [[json_safe(item) for item in row] for row in head.iter_rows()],
            "truncated": truncation(head.height, total_rows, head.width, total_columns),
            "total_rows": total_rows,
            "total_columns": total_columns,
            "index_columns": 0,
        }

    def table(obj: _reactive_typing.Any) -> dict[str, _reactive_typing.Any] | None:
        """The table dict of a pandas or polars frame (None for anything else)."""
        module = type(obj).__module__ or ""
        if module.split(".")[0] == "polars":
            return polars_table(obj)
        if module.split(".")[0] == "pandas":
            return pandas_table(obj)
        return None

    return json_safe, table


def _reactive_bundle_printer(
    mime: str, convert: _reactive_Converter
) -> _reactive_typing.Callable[[object], _reactive_typing.Any]:
    """A type printer for IPython's mimebundle formatter that adds ``convert(obj)`` under
    ``mime`` to the object's own ``_repr_mimebundle_`` (a registered printer replaces the
    method, so it is called here). ``DisplayFormatter.format`` then adds the outputs of
    the per-mime formatters (``text/html``, ``text/plain``...) the bundle lacks."""
    from IPython.utils.dir2 import get_real_method

    def printer(obj: object) -> _reactive_typing.Any:
        data: dict[str, _reactive_typing.Any] = {}
        metadata: dict[str, _reactive_typing.Any] = {}
        method = get_real_method(obj, "_repr_mimebundle_")
        if method is not None:
            own = method(include=None, exclude=None)
            if isinstance(own, tuple) and len(own) == 2:
                data, metadata = dict(own[0] or {}), dict(own[1] or {})
            elif isinstance(own, dict):
                data = dict(own)
        try:
            extra = convert(obj)
        except Exception:
            extra = None  # the stock reprs are still shown
        if extra is not None:
            data[mime] = extra
        return data, metadata

    return printer


def install_table_formatter(shell: _reactive_typing.Any, max_rows: int = 1000) -> None:
    """Display frames with their table too (idempotent; see the module's docstring)."""
    _, table = _reactive_converters(max_rows)
    printer = _reactive_bundle_printer(_reactive_TABLE_MIME, table)
    formatter = shell.display_formatter.mimebundle_formatter
    for module, name in (
        ("pandas", "DataFrame"),
        ("pandas.core.frame", "DataFrame"),
        ("pandas", "Series"),
        ("pandas.core.series", "Series"),
        ("polars", "DataFrame"),
        ("polars.dataframe.frame", "DataFrame"),
    ):
        formatter.for_type_by_name(module, name, printer)
