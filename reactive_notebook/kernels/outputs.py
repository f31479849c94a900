"""Kernel iopub messages -> nbformat outputs -> the API's output shapes. Pure, no I/O.

Cells store nbformat 4 outputs (``stream``, ``display_data``, ``execute_result``,
``error``) so a saved notebook opens in stock JupyterLab. The API shows one
``{"mime_type", "data", "metadata"}`` per display output (the best mimetype of its
bundle), the cell's streams as ``stdout``/``stderr`` strings and its error separately.

A display that may later be updated (``display(..., display_id=...)``, or
``update_display_data``) carries its id in ``metadata["reactive_notebook"]["display_id"]``;
``cell_outputs.CellOutputs`` applies updates in place, merges stream chunks and keeps a
cell's outputs within its size limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from nbformat import v4

from ..models import NbOutput
from .kernel_side import tables

#: The kernel-side table formatter's mimetype; served as ``application/json``.
TABLE_MIME_TYPE: str = tables._reactive_TABLE_MIME

#: Best first: the one mimetype of a bundle the API shows.
MIME_PRIORITY: tuple[str, ...] = (
    "application/vnd.plotly.v1+json",
    "application/vnd.vegalite.v6+json",
    "application/vnd.vegalite.v5+json",
    TABLE_MIME_TYPE,
    "image/png",
    "image/svg+xml",
    "text/html",
    "text/markdown",
    "application/json",
    "text/plain",
)

#: MIME types whose JupyterLab renderers are not ``safe`` (they run script, or show
#: nothing untrusted): an untrusted output is shown as another type of its bundle.
UNSAFE_MIME_TYPES: frozenset[str] = frozenset(
    {"application/javascript", "text/javascript", "image/svg+xml"}
)

#: Output metadata key of our own (display ids).
METADATA_KEY = "reactive_notebook"

DEFAULT_MAX_OUTPUT_BYTES = 2_000_000

_OUTPUT_MESSAGES = frozenset({"stream", "display_data", "execute_result", "error"})
_DISPLAYS = frozenset({"display_data", "execute_result"})
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_json_safe, _ = tables._reactive_converters()
# nbformat is untyped: its constructors, as Any.
_new_output: Any = v4.new_output
_output_from_msg: Any = v4.output_from_msg


def json_safe(value: object) -> Any:
    """``value`` as something ``json.dumps(..., allow_nan=False)`` accepts.

    The kernel-side rules: NaN/NaT/inf -> None, datetimes -> ISO 8601, timedeltas -> ISO
    8601 durations, Decimal/UUID -> str, bytes -> base64, numpy scalars -> Python, nested
    containers recursively, anything else -> ``str()``.
    """
    return _json_safe(value)


def _ensure_json_safe(value: Any) -> Any:
    """``value`` unchanged when it already serializes strictly (the common case, fast)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return json_safe(value)
    return value


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def text_of(value: Any) -> str:
    """nbformat stores multiline strings as a list of lines when read from disk."""
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return value if isinstance(value, str) else str(value)


def display_id(output: NbOutput) -> str | None:
    """The display id an output can be updated by, if any."""
    own = (output.get("metadata") or {}).get(METADATA_KEY)
    return own.get("display_id") if isinstance(own, dict) else None


def nb_output_from_message(msg_type: str, content: dict[str, Any]) -> NbOutput | None:
    """An iopub message as an nbformat 4 output; None for non-output messages.

    ``update_display_data`` (with a ``transient.display_id``) becomes a ``display_data``
    whose metadata holds ``{"reactive_notebook": {"display_id": ..., "update": True}}``:
    :func:`updated` gives each output of that display its new data.
    """
    transient = content.get("transient") or {}
    shown_id = transient.get("display_id") if isinstance(transient, dict) else None
    if msg_type == "update_display_data":
        if not shown_id:
            return None
        metadata = {**(content.get("metadata") or {})}
        metadata[METADATA_KEY] = {"display_id": shown_id, "update": True}
        return dict(_new_output("display_data", data=content.get("data") or {}, metadata=metadata))
    if msg_type not in _OUTPUT_MESSAGES:
        return None
    if msg_type in _DISPLAYS:
        content = {"data": {}, "metadata": {}, "execution_count": None, **content}
        # Our key is ours: user metadata naming it must not pass for a display id.
        user = content["metadata"] if isinstance(content["metadata"], dict) else {}
        content["metadata"] = {k: v for k, v in user.items() if k != METADATA_KEY}
    elif msg_type == "error":
        content = {"ename": "", "evalue": "", "traceback": [], **content}
    else:
        content = {"name": "stdout", "text": "", **content}
    output = dict(_output_from_msg({"header": {"msg_type": msg_type}, "content": content}))
    if shown_id and msg_type in _DISPLAYS:
        output["metadata"] = {**output["metadata"], METADATA_KEY: {"display_id": shown_id}}
    return output


def update_target(output: NbOutput) -> str | None:
    """The display id ``output`` updates, when it is an update (``update_display_data``,
    see :func:`nb_output_from_message`); None for any other output."""
    own = (output.get("metadata") or {}).get(METADATA_KEY)
    if isinstance(own, dict) and own.get("update"):
        target = own.get("display_id")
        return target if isinstance(target, str) else None
    return None


def updated(existing: NbOutput, update: NbOutput) -> NbOutput:
    """``existing`` (a display of the updated id) with the update's data and metadata."""
    target = update_target(update)
    metadata = {**update.get("metadata", {}), METADATA_KEY: {"display_id": target}}
    return {**existing, "data": update.get("data", {}), "metadata": metadata}


def shows(output: NbOutput, shown_id: str) -> bool:
    """Whether ``output`` is a display an update of ``shown_id`` replaces."""
    return output.get("output_type") in _DISPLAYS and display_id(output) == shown_id


def _shown_mime_type(bundle: dict[str, Any], trusted: bool) -> str:
    """The bundle's best MIME type (:data:`MIME_PRIORITY`, then the bundle's order); for
    an untrusted output the best one that is safe to show (JupyterLab's
    ``preferredMimeType(bundle, 'ensure')``), if the bundle has one."""
    ranked = [m for m in MIME_PRIORITY if m in bundle]
    ranked += [m for m in bundle if m not in MIME_PRIORITY]
    if not trusted:
        ranked = [m for m in ranked if m not in UNSAFE_MIME_TYPES] or ranked
    return ranked[0]


def api_output(output: NbOutput, *, trusted: bool = False) -> dict[str, Any] | None:
    """A display output in the API shape ``{"mime_type", "data", "metadata"}``.

    The best mimetype of the bundle (:data:`MIME_PRIORITY`) wins; for an untrusted output
    (``trusted`` False: see ``Cell.trusted``) the best one JupyterLab would show
    untrusted, skipping :data:`UNSAFE_MIME_TYPES` when the bundle has another. A table is
    served as ``application/json`` with the table dict as data. Streams and errors give
    None.
    """
    if output.get("output_type") not in _DISPLAYS:
        return None
    bundle: dict[str, Any] = output.get("data") or {}
    if not bundle:
        return None
    mime = _shown_mime_type(bundle, trusted)
    value = bundle[mime]
    if mime == "image/png":
        data: Any = "".join(text_of(value).split())
    elif isinstance(value, str | list) and not mime.endswith("json"):
        data = text_of(value)
    else:
        data = _ensure_json_safe(value)
    all_metadata = output.get("metadata") or {}
    metadata = all_metadata.get(mime)
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    shown_id = display_id(output)
    if shown_id:
        metadata["display_id"] = shown_id
    return {
        "mime_type": "application/json" if mime == TABLE_MIME_TYPE else mime,
        "data": data,
        "metadata": _ensure_json_safe(metadata),
    }


def api_outputs(outputs: Iterable[NbOutput], *, trusted: bool = False) -> list[dict[str, Any]]:
    """The API outputs of a cell: its displays, in order (streams and errors left out)."""
    shown = (api_output(output, trusted=trusted) for output in outputs)
    return [output for output in shown if output is not None]


def api_streams(outputs: Iterable[NbOutput]) -> tuple[str, str]:
    """``(stdout, stderr)``: a cell's stream outputs, concatenated."""
    stdout: list[str] = []
    stderr: list[str] = []
    for output in outputs:
        if output.get("output_type") == "stream":
            target = stderr if output.get("name") == "stderr" else stdout
            target.append(text_of(output.get("text", "")))
    return "".join(stdout), "".join(stderr)


def api_error(outputs: Iterable[NbOutput]) -> dict[str, Any] | None:
    """The cell's (first) error: ``ename``, ``evalue``, ``message`` (``ename: evalue``,
    no ANSI), the raw ``traceback`` lines (ANSI colours kept, as JupyterLab renders them)
    and ``traceback_text`` (the same, ANSI stripped, one string)."""
    for output in outputs:
        if output.get("output_type") == "error":
            ename = text_of(output.get("ename", ""))
            evalue = text_of(output.get("evalue", ""))
            lines = [text_of(line) for line in output.get("traceback") or []]
            message = strip_ansi(f"{ename}: {evalue}" if evalue else ename)
            return {
                "ename": ename,
                "evalue": evalue,
                "message": message,
                "traceback": lines,
                "traceback_text": strip_ansi("\n".join(lines)),
            }
    return None


def output_size(output: NbOutput) -> int:
    """The output's size as stored (UTF-8 JSON bytes)."""
    return len(json.dumps(output, ensure_ascii=False, default=str).encode("utf-8"))


def truncation_note(size: int, max_bytes: int) -> str:
    return (
        f"output truncated: {size / 1_000_000:.1f} MB exceeds the "
        f"{max_bytes / 1_000_000:g} MB limit"
    )


def display_truncation_note(output: NbOutput, size: int, max_bytes: int) -> str:
    """What a display too large to keep was, and the limit it broke."""
    data = output.get("data")
    kinds = [str(k) for k in data if k != "text/plain"] if isinstance(data, dict) else []
    shown = ", ".join(kinds[:4]) + (", ..." if len(kinds) > 4 else "") if kinds else "text"
    return (
        f"output truncated: a {size / 1_000_000:.1f} MB display ({shown}) exceeds the "
        f"{max_bytes / 1_000_000:g} MB limit of one output"
    )


def _cut(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding fits ``max_bytes``."""
    return text.encode("utf-8")[: max(0, max_bytes)].decode("utf-8", errors="ignore")


def cap_output(output: NbOutput, max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES) -> NbOutput:
    """``output`` unchanged when its JSON fits ``max_bytes``; otherwise a smaller one.

    A stream keeps its first bytes and ends with the note; an error keeps its name, the
    start of its value and the last traceback lines that fit; a display becomes a
    ``display_data`` with the note as ``text/plain`` and ``text/markdown`` (keeping its
    display id). The note reads "output truncated: N MB exceeds the M MB limit"; for a
    display it names what was cut ("a 7.8 MB text/html display exceeds ...").
    """
    size = output_size(output)
    if size <= max_bytes:
        return output
    note = truncation_note(size, max_bytes)
    kind = output.get("output_type")
    if kind == "stream":
        return _cap_stream(output, note, max_bytes)
    if kind == "error":
        return _cap_error(output, note, max_bytes)
    note = display_truncation_note(output, size, max_bytes)
    metadata: dict[str, Any] = {METADATA_KEY: {"truncated_bytes": size}}
    shown_id = display_id(output)
    if shown_id:
        metadata[METADATA_KEY]["display_id"] = shown_id
    return dict(
        _new_output(
            "display_data",
            data={"text/plain": note, "text/markdown": f"*{note}*"},
            metadata=metadata,
        )
    )


def _stored_size(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2


def _cap_stream(output: NbOutput, note: str, max_bytes: int) -> NbOutput:
    suffix = f"\n[{note}]\n"
    budget = max_bytes - output_size({**output, "text": suffix})
    kept = _cut(text_of(output.get("text", "")), budget)
    # JSON escapes (newlines, control characters) make the stored text longer than the
    # raw text: shrink in proportion until it fits.
    for _ in range(8):
        stored = _stored_size(kept)
        if stored <= budget:
            break
        kept = _cut(kept, len(kept.encode("utf-8")) * budget // stored - 1)
    return {**output, "text": kept + suffix}


def _cap_error(output: NbOutput, note: str, max_bytes: int) -> NbOutput:
    quarter = max(64, max_bytes // 4)
    evalue = text_of(output.get("evalue", ""))
    if len(evalue.encode("utf-8")) > quarter:
        evalue = _cut(evalue, quarter) + " [...]"
    kept: list[str] = []
    used = 0
    for line in reversed([text_of(line) for line in output.get("traceback") or []]):
        line = line if len(line.encode("utf-8")) <= quarter else _cut(line, quarter) + " [...]"
        used += len(json.dumps(line, ensure_ascii=False).encode("utf-8")) + 2
        if used > 2 * quarter:
            break
        kept.append(line)
    return {
        **output,
        "evalue": evalue,
        "traceback": [f"[{note}]", *reversed(kept)],
    }
