"""The notebook as the extension sees it: plain data, no I/O.

Outputs are kept as nbformat output dicts (``stream``, ``display_data``,
``execute_result``, ``error``) so a saved notebook opens in stock JupyterLab;
``kernels.outputs`` turns them into the API's ``{mime_type, data, metadata}``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: One nbformat output (``{"output_type": "stream", "name": "stdout", "text": ...}``).
NbOutput = dict[str, Any]


class CellType(StrEnum):
    """Python and SQL cells run; markdown and raw cells of an imported ``.ipynb`` are
    kept in place and never run."""

    PYTHON = "python"
    SQL = "sql"
    MARKDOWN = "markdown"
    RAW = "raw"

    @property
    def runs(self) -> bool:
        return self in (CellType.PYTHON, CellType.SQL)


class CellStatus(StrEnum):
    IDLE = "idle"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    BLOCKED = "blocked"


def new_cell_id() -> str:
    """An nbformat-valid cell id (1-64 chars of letters, digits, ``-`` and ``_``)."""
    return uuid.uuid4().hex[:12]


def new_notebook_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Cell:
    """One cell. ``output`` is the result variable of a SQL cell (None for Python).

    ``trusted`` says whether the cell's outputs may run script when shown (HTML, markdown
    and JavaScript rendered as they are, not sanitized), decided as the stock notebook
    decides: the outputs came from a run on this server, or the file they were loaded
    from carries a valid notebook signature (Jupyter's notary, checked by the contents
    manager). False by default: outputs of unknown origin are untrusted.
    """

    id: str
    type: CellType = CellType.PYTHON
    code: str = ""
    output: str | None = None
    status: CellStatus = CellStatus.IDLE
    stale: bool = False
    outputs: list[NbOutput] = field(default_factory=list)
    error: str | None = None
    execution_count: int | None = None
    trusted: bool = False

    def fingerprint(self, db_connection: str = "") -> str:
        """Changes exactly when the cell must re-run: its code, and for SQL its output
        variable and the connection it queries."""
        if self.type is CellType.SQL:
            return f"sql\0{self.output}\0{db_connection}\0{self.code}"
        return self.code


@dataclass
class Notebook:
    """A reactive notebook. ``revision`` grows with every change."""

    id: str
    name: str
    owner: str = ""
    db_connection: str = ""
    revision: int = 0
    cells: list[Cell] = field(default_factory=list)

    def cell(self, cell_id: str) -> Cell:
        for cell in self.cells:
            if cell.id == cell_id:
                return cell
        raise KeyError(cell_id)

    def index(self, cell_id: str) -> int:
        for index, cell in enumerate(self.cells):
            if cell.id == cell_id:
                return index
        raise KeyError(cell_id)
