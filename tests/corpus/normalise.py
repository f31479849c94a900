"""What "the same output" means when a product cell is compared with a stock run.

Each rule below removes a difference that a person reading the notebook would not call a
difference, and nothing else:

- **Memory addresses** ``0x7f3a...`` (reprs such as ``<Figure at 0x...>``, ``<function f at
  0x...>``) become ``0x…``: they differ between any two runs.
- **Timings**: a number followed by a time unit (``12.3 ms``, ``1.2 µs ± 3 ns``, ``Wall
  time: 2 s``) becomes ``<time>``.
- **Kernel file names**: ipykernel compiles each cell into ``/tmp/ipykernel_<pid>/<hash>.py``;
  the name becomes ``<cell file>``.
- **ANSI colours** in tracebacks are removed.
- **Execution counts** (``execution_count`` of results, and ``Cell In[N]`` in
  tracebacks) are kept when ``counts`` is true (after a run-all in a fresh kernel the
  product must number cells as Jupyter does, issue 13 item 1) and replaced by ``N``
  otherwise (after an edit the product's kernel has run more cells than a fresh one).
- **Images** (``image/*``, ``application/pdf``) are compared by presence and mime type,
  not bytes (renderers differ in a pixel); **output metadata** (image sizes) and
  ``transient`` (the display id travels there) are left out.
- **The product's table** (``application/vnd.reactive-notebook.table+json``, the rows of
  a DataFrame for API clients and the product's own table view, design.md section 4) is
  left out of a bundle: it comes next to the stock MIME types, which must all be there
  and equal; JupyterLab ignores a MIME type it has no renderer for.
- **Streams**: consecutive stream outputs of the same name are joined (how a kernel
  chunks a print is not part of what a cell shows).
- **Messages printed once a process** (``once=False``, used after an edit, when the
  product's kernel has already run the notebook and a fresh stock kernel has not): Python
  warnings (``file.py:12: FutureWarning: ...`` and the source line under it) and
  matplotlib's ``findfont:`` lines are left out of stderr; a kernel that printed them
  once does not print them again.

``shape`` is the coarser view used for cells whose output differs between two stock runs
of the same notebook (random numbers, times): the output types and mime types only.
"""

from __future__ import annotations

import re
from typing import Any

Output = dict[str, Any]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")
_TIME = re.compile(
    r"\d+(?:\.\d+)?(?:e[-+]?\d+)?\s?(?:ns|µs|us|ms|s|sec|seconds|min)\b(?:\s*±\s*"
    r"\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s))?"
)
_KERNEL_FILE = re.compile(r"/\S*ipykernel_\d+/\d+\.py")
_CELL_IN = re.compile(r"Cell In\[\d+\]")
_BINARY = ("image/", "application/pdf")
_ONCE = re.compile(r"^findfont: .*\n?|^\S+:\d+: \w*Warning: .*\n(?:  .*\n?)?", re.MULTILINE)


def text(value: Any, *, counts: bool = True) -> str:
    """A text field (a list of lines or a string) normalised as the module docstring says."""
    joined = "".join(value) if isinstance(value, list) else str(value)
    joined = _ANSI.sub("", joined)
    joined = _ADDRESS.sub("0x…", joined)
    joined = _KERNEL_FILE.sub("<cell file>", joined)
    joined = _TIME.sub("<time>", joined)
    if not counts:
        joined = _CELL_IN.sub("Cell In[N]", joined)
    return joined


_PRODUCT_TABLE = "application/vnd.reactive-notebook.table+json"


def _data(bundle: dict[str, Any], counts: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for mime, value in sorted(bundle.items()):
        if mime == _PRODUCT_TABLE:
            continue
        if mime.startswith(_BINARY):
            shown[mime] = "<binary>"
        elif isinstance(value, (str, list)) and not mime.endswith("json"):
            shown[mime] = text(value, counts=counts)
        else:
            shown[mime] = value
    return shown


def outputs(raw: list[Output], *, counts: bool = True, once: bool = True) -> list[Output]:
    """A cell's nbformat outputs, normalised for comparison (see the module docstring)."""
    shown: list[Output] = []
    for output in raw:
        kind = output.get("output_type")
        if kind == "stream":
            body = text(output.get("text", ""), counts=counts)
            if not once and output.get("name") == "stderr":
                body = _ONCE.sub("", body)
            previous = shown[-1] if shown else {}
            if previous.get("output_type") == "stream" and previous["name"] == output.get("name"):
                previous["text"] += body
                continue
            shown.append({"output_type": "stream", "name": output.get("name"), "text": body})
        elif kind in ("display_data", "execute_result"):
            item: Output = {"output_type": kind, "data": _data(output.get("data", {}), counts)}
            if kind == "execute_result" and counts:
                item["execution_count"] = output.get("execution_count")
            shown.append(item)
        elif kind == "error":
            shown.append(
                {
                    "output_type": "error",
                    "ename": output.get("ename"),
                    "evalue": text(output.get("evalue", ""), counts=counts),
                    "traceback": text("\n".join(output.get("traceback", [])), counts=counts),
                }
            )
        else:
            shown.append(dict(output))
    # Joined streams may have become empty-equal; drop empty stream texts as Jupyter shows none.
    return [o for o in shown if not (o["output_type"] == "stream" and not o["text"])]


def shape(normalised: list[Output]) -> list[tuple[str, ...]]:
    """Output types and mime types only (for cells that differ between two stock runs)."""
    result: list[tuple[str, ...]] = []
    for output in normalised:
        kind = output["output_type"]
        if kind == "stream":
            result.append((kind, output["name"]))
        elif kind == "error":
            result.append((kind, output["ename"]))
        else:
            result.append((kind, *sorted(output.get("data", {}))))
    return result


def name_error(raw: list[Output]) -> str | None:
    """The name of a ``NameError: name 'x' is not defined`` among the outputs, if any."""
    for output in raw:
        if output.get("output_type") == "error" and output.get("ename") == "NameError":
            found = re.search(r"name '([^']+)' is not defined", str(output.get("evalue", "")))
            if found:
                return found.group(1)
    return None
