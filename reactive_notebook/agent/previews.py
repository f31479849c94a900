"""The one preview contract: what an agent (the chat's model, an MCP client) is shown of a
cell's outputs. Pure: nbformat outputs in, JSON-safe dicts out; no I/O.

Each output becomes one preview, in the order the cell shows them, each with its
``index`` in the cell and its stored size in ``bytes`` (so a tool can page the whole of
it with :func:`page_output`):

- ``stream`` (``name``: stdout or stderr): the printed text, its head and its tail within
  ``PreviewLimits.text_bytes`` with ``… [N bytes elided] …`` between them. ANSI escapes are
  removed and carriage-return rewrites resolved first, so a progress bar shows as its
  last state, not as a thousand frames.
- ``error``: ``ename``, ``evalue`` and the traceback's last ``error_frames`` frames (ANSI
  removed), ``frames_elided`` saying how many came before.
- ``table`` (a pandas or polars frame, from the table MIME type the kernel adds):
  ``shape`` [rows, columns], ``dtypes`` (column -> dtype, the index levels included) and
  ``head``: the first ``table_rows`` rows as aligned text.
- ``image``: ``text`` is one line: MIME type, pixel size when the header says it, stored
  size ("image/png 640x480, 23.4 kB"). Never the image's data.
- ``display`` (anything else: a value, HTML, a chart): ``mime_type`` of the bundle, and
  ``text``: its ``text/plain`` (else the data of its best type as text), head and tail as
  a stream's.

:func:`preview_outputs` spends at most ``PreviewLimits.answer_bytes`` of preview text on
one cell's outputs; what does not fit is one last ``{"kind": "elided"}`` entry counting
the outputs and bytes left out.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..kernels.outputs import TABLE_MIME_TYPE, output_size, strip_ansi, text_of

NbOutput = Mapping[str, Any]

#: Image MIME types, best first.
IMAGE_MIME_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
#: The MIME type a display preview names: the richest of its bundle, best first. Its
#: text is the bundle's ``text/plain`` when there is one, else that type's data as text.
RICH_MIME_TYPES = (
    "application/vnd.plotly.v1+json",
    "application/vnd.vegalite.v6+json",
    "application/vnd.vegalite.v5+json",
    "text/html",
    "text/markdown",
    "text/latex",
    "application/json",
    "text/plain",
)


@dataclass(frozen=True)
class PreviewLimits:
    """How much a preview may show."""

    #: Bytes of one output's text (head and tail together).
    text_bytes: int = 2000
    #: Traceback frames of an error (the last ones: where it failed).
    error_frames: int = 3
    #: Rows of a table.
    table_rows: int = 5
    #: Bytes of preview text for all the outputs of one cell.
    answer_bytes: int = 8000


def head_and_tail(text: str, max_bytes: int) -> str:
    """``text`` if it fits in ``max_bytes`` (UTF-8), else its head and its tail with the
    size of what is left out between them. Never cuts a character in two."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    half = max(max_bytes // 2, 0)
    head = encoded[:half].decode("utf-8", errors="ignore")
    tail = encoded[len(encoded) - half :].decode("utf-8", errors="ignore")
    elided = len(encoded) - len(head.encode("utf-8")) - len(tail.encode("utf-8"))
    return f"{head}… [{elided:,} bytes elided] …{tail}"


def resolve_carriage_returns(text: str) -> str:
    """Each line as a terminal leaves it: what follows its last lone ``\\r`` (a progress
    bar's last state). Linear in the text."""
    if "\r" not in text:
        return text
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(line.rsplit("\r", 1)[-1] for line in lines)


def clean_text(text: str) -> str:
    """Printed text as a person reads it: no ANSI escapes, progress bars at their end."""
    return resolve_carriage_returns(strip_ansi(text))


def preview_output(output: NbOutput, index: int, limits: PreviewLimits) -> dict[str, Any]:
    """The preview of one nbformat output (see the module docstring)."""
    base = {"index": index, "bytes": output_size(dict(output))}
    kind = output.get("output_type")
    if kind == "stream":
        text = clean_text(text_of(output.get("text", "")))
        return {
            **base,
            "kind": "stream",
            "name": output.get("name", "stdout"),
            "text": head_and_tail(text, limits.text_bytes),
        }
    if kind == "error":
        return {**base, **_error_preview(output, limits)}
    data = output.get("data") or {}
    table = data.get(TABLE_MIME_TYPE)
    if isinstance(table, Mapping) and table.get("type") == "table":
        return {**base, **_table_preview(table, limits)}
    image = next((mime for mime in IMAGE_MIME_TYPES if mime in data), None)
    if image is not None:
        return {**base, "kind": "image", "text": _image_line(image, data[image], base["bytes"])}
    return {**base, **_display_preview(data, limits)}


def preview_outputs(
    outputs: Sequence[NbOutput], limits: PreviewLimits = PreviewLimits()
) -> list[dict[str, Any]]:
    """Previews of a cell's outputs, within ``limits.answer_bytes`` of text in all."""
    previews: list[dict[str, Any]] = []
    spent = 0
    for index, output in enumerate(outputs):
        preview = preview_output(output, index, limits)
        cost = _text_bytes(preview)
        if previews and spent + cost > limits.answer_bytes:
            left = outputs[index:]
            previews.append(
                {
                    "kind": "elided",
                    "outputs": len(left),
                    "bytes": sum(output_size(dict(o)) for o in left),
                    "text": f"{len(left)} more output(s) not shown: page them by index",
                }
            )
            break
        previews.append(preview)
        spent += cost
    return previews


def full_text(output: NbOutput) -> str:
    """The whole of an output as text: what :func:`page_output` pages through."""
    kind = output.get("output_type")
    if kind == "stream":
        return clean_text(text_of(output.get("text", "")))
    if kind == "error":
        frames = [strip_ansi(str(frame)) for frame in output.get("traceback") or []]
        return "\n".join([f"{output.get('ename')}: {output.get('evalue')}", *frames])
    data = output.get("data") or {}
    table = data.get(TABLE_MIME_TYPE)
    if isinstance(table, Mapping) and table.get("type") == "table":
        return _grid(table.get("columns") or [], table.get("rows") or [])
    return _display_text(data)


def page_output(output: NbOutput, offset: int = 0, length: int = 8000) -> dict[str, Any]:
    """``length`` characters of the output's whole text from ``offset``; ``next_offset`` is
    None once the end is reached."""
    text = full_text(output)
    offset = min(max(offset, 0), len(text))
    end = min(offset + max(length, 0), len(text))
    return {
        "text": text[offset:end],
        "offset": offset,
        "next_offset": end if end < len(text) else None,
        "total": len(text),
    }


# -- the kinds ------------------------------------------------------------------------


def _error_preview(output: NbOutput, limits: PreviewLimits) -> dict[str, Any]:
    frames = [strip_ansi(str(frame)) for frame in output.get("traceback") or []]
    kept = frames[-limits.error_frames :] if limits.error_frames > 0 else []
    traceback = head_and_tail("\n".join(kept), limits.text_bytes)
    return {
        "kind": "error",
        "ename": str(output.get("ename", "")),
        "evalue": head_and_tail(str(output.get("evalue", "")), limits.text_bytes),
        "traceback": traceback,
        "frames_elided": len(frames) - len(kept),
    }


def _table_preview(table: Mapping[str, Any], limits: PreviewLimits) -> dict[str, Any]:
    columns = [str(c) for c in table.get("columns") or []]
    rows = list(table.get("rows") or [])
    index_columns = int(table.get("index_columns") or 0)
    width = table.get("total_columns")
    if not isinstance(width, int):
        width = len(columns) - index_columns
    height = table.get("total_rows")
    if not isinstance(height, int):
        height = len(rows)
    dtypes = table.get("dtypes")
    preview: dict[str, Any] = {"kind": "table", "shape": [height, width]}
    if isinstance(dtypes, list) and len(dtypes) == len(columns):
        preview["dtypes"] = dict(zip(columns, (str(d) for d in dtypes), strict=True))
    preview["head"] = head_and_tail(_grid(columns, rows[: limits.table_rows]), limits.text_bytes)
    return preview


def _display_preview(data: Mapping[str, Any], limits: PreviewLimits) -> dict[str, Any]:
    rich = next((m for m in RICH_MIME_TYPES if m in data), next(iter(data), ""))
    return {
        "kind": "display",
        "mime_type": rich,
        "text": head_and_tail(_display_text(data), limits.text_bytes),
    }


def _display_text(data: Mapping[str, Any]) -> str:
    """A display as text: its ``text/plain``, else its richest type's data."""
    source = (
        "text/plain"
        if "text/plain" in data
        else next((m for m in RICH_MIME_TYPES if m in data), None)
    )
    return strip_ansi(_as_text(data[source])) if source is not None else ""


def _image_line(mime: str, data: Any, size: int) -> str:
    pixels = _pixel_size(mime, data)
    where = f" {pixels[0]}x{pixels[1]}" if pixels else ""
    return f"{mime}{where}, {_human_bytes(size)}"


def _pixel_size(mime: str, data: Any) -> tuple[int, int] | None:
    """Width and height from a PNG's or GIF's header (the first bytes only)."""
    if not isinstance(data, str) or mime not in ("image/png", "image/gif"):
        return None
    try:
        head = base64.b64decode(re.sub(r"\s", "", data[:64])[:32] + "==", validate=False)
    except (binascii.Error, ValueError):
        return None
    if mime == "image/png" and head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return width, height
    if mime == "image/gif" and head[:4] == b"GIF8" and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return width, height
    return None


# -- helpers --------------------------------------------------------------------------


def _grid(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows under their column names, as aligned plain text."""
    table = [[str(c) for c in columns], *([_cell(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in table if i < len(row)) for i in range(len(columns))]
    return "\n".join(
        "  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in table
    )


def _cell(value: Any) -> str:
    text = "None" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _text_bytes(preview: Mapping[str, Any]) -> int:
    return sum(
        len(str(preview.get(key, "")).encode("utf-8"))
        for key in ("text", "head", "traceback", "evalue")
    )


def _human_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} kB"
    return f"{size / (1024 * 1024):.1f} MB"


__all__ = [
    "PreviewLimits",
    "clean_text",
    "full_text",
    "head_and_tail",
    "page_output",
    "preview_output",
    "preview_outputs",
    "resolve_carriage_returns",
]
