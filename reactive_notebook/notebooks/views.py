"""How the API shows an open notebook and its cells (design.md section 4). Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..kernels.outputs import api_error, api_output, api_streams
from ..models import Cell, CellType
from ..reactive.analysis import CellAnalysis
from .connection import mask_password

if TYPE_CHECKING:
    from .open_notebook import OpenNotebook


def describe_cell(opened: OpenNotebook, cell: Cell) -> dict[str, Any]:
    """A cell as the API shows it (design.md section 4)."""
    outputs = opened.outputs_of(cell)
    stdout, stderr = api_streams(outputs)
    analysis = opened.core.graph.analysis(cell.id) if cell.type.runs else None
    trusted = cell.trusted  # untrusted outputs are shown as their best safe type
    shown = [o for o in (api_output(out, trusted=trusted) for out in outputs) if o is not None]
    described: dict[str, Any] = {
        "id": cell.id,
        "type": cell.type.value,
        "code": cell.code,
        "status": cell.status.value,
        "stale": cell.stale,
        "stdout": stdout,
        "stderr": stderr,
        "outputs": shown,
        "trusted": trusted,
        "error": _shown_error(cell, analysis),
        "execution_count": cell.execution_count,
        "reads": sorted(analysis.reads) if analysis else [],
        "writes": sorted(analysis.writes) if analysis else [],
        "dynamic": opened.core.graph.dynamic_reason(cell.id) if analysis else None,
    }
    failure = next((o for o in outputs if o.get("output_type") == "error"), None)
    if failure is not None:  # what `cell_error` said when it ran, for a later reader
        described["traceback"] = {
            "ename": str(failure.get("ename", "")),
            "evalue": str(failure.get("evalue", "")),
            "traceback": [str(line) for line in failure.get("traceback", [])],
        }
    if cell.type is CellType.SQL:
        described["output"] = cell.output
    return described


def describe_notebook(opened: OpenNotebook) -> dict[str, Any]:
    notebook = opened.notebook
    return {
        "id": notebook.id,
        "name": notebook.name,
        "db_conn_string": mask_password(notebook.db_connection),
        "revision": notebook.revision,
        "cells": [describe_cell(opened, cell) for cell in notebook.cells],
    }


def _shown_error(cell: Cell, analysis: CellAnalysis | None) -> str | None:
    """Why the cell failed or is blocked; else the error its outputs hold; else, for code
    that does not parse, the syntax error (shown before any run, as an editor would)."""
    if cell.error is not None:
        return cell.error
    from_outputs = _error_message(api_error(cell.outputs))
    if from_outputs is not None:
        return from_outputs
    if analysis is not None and analysis.error is not None:
        return analysis.error.describe()
    return None


def _error_message(error: dict[str, Any] | None) -> str | None:
    if error is None:
        return None
    return f"{error.get('ename')}: {error.get('evalue')}"
