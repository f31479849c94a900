"""The checks of what a request asks of a notebook (names, cell types, code, SQL outputs):
each refuses bad input with an ``InvalidRequest`` a person understands."""

from __future__ import annotations

import keyword
import unicodedata
from typing import TYPE_CHECKING

from ..models import CellType
from .errors import CellNotFound, InvalidRequest, RevisionConflict, shown_id

if TYPE_CHECKING:
    from .open_notebook import OpenNotebook

#: The longest notebook name accepted (the API schemas say the same).
MAX_NAME_LENGTH = 200


def valid_cell_type(value: str) -> CellType:
    if value not in ("python", "sql"):
        raise InvalidRequest(
            f"unknown cell type {shown_id(value)}: use 'python' or 'sql'", field="type"
        )
    return CellType(value)


def check_code(code: str) -> None:
    if not isinstance(code, str):
        raise InvalidRequest("code must be a string", field="code")


def check_connection_string(connection: str) -> None:
    if not isinstance(connection, str) or len(connection) > 4096:
        raise InvalidRequest(
            "connection_string must be a string of at most 4096 characters",
            field="connection_string",
        )


def valid_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("a notebook name must be a non-empty string", field="name")
    if len(name) > MAX_NAME_LENGTH or any(ch in "/\\" or is_control(ch) for ch in name):
        raise InvalidRequest(
            f"a notebook name has at most {MAX_NAME_LENGTH} characters, no / or \\, no "
            "control characters and no invisible formatting characters (such as "
            "right-to-left overrides, which make a file name read as another)",
            field="name",
        )
    return name.strip()


def is_control(character: str) -> bool:
    """Control characters, and format characters (Unicode category Cf: bidirectional
    overrides and isolates, zero-width joiners and spaces) that hide what a name says."""
    return unicodedata.category(character) in ("Cc", "Cf")


def valid_output(name: str) -> str:
    if (
        not isinstance(name, str)
        or not name.isidentifier()
        or keyword.iskeyword(name)
        or name.startswith("_")
    ):
        raise InvalidRequest(
            f"output {shown_id(name)} is not a usable variable name for a SQL result "
            "(a Python identifier, not a keyword, not starting with _)",
            field="output",
        )
    return name


def run_targets(
    opened: OpenNotebook, cell_ids: list[str] | None, *, field: str | None = "cell_ids"
) -> set[str]:
    """The cells a run asks for: ``cell_ids`` (CellNotFound for one the notebook lacks,
    InvalidRequest for a cell that does not run), or every cell that runs (None)."""
    if cell_ids is None:
        return {cell.id for cell in opened.cells if cell.type.runs}
    targets: set[str] = set()
    for cell_id in cell_ids:
        try:
            cell = opened.cells.get(cell_id)
        except KeyError:
            raise CellNotFound(cell_id) from None
        if not cell.type.runs:
            raise InvalidRequest(f"a {cell.type.value} cell does not run", field=field)
        targets.add(cell.id)
    return targets


def check_revision(opened: OpenNotebook, expected: int | None) -> None:
    """RevisionConflict unless ``expected`` is None or the notebook's revision."""
    if expected is not None and expected != opened.notebook.revision:
        raise RevisionConflict(expected, opened.notebook.revision)


def cell_index(opened: OpenNotebook, cell_id: str) -> int:
    """Where ``cell_id`` is in an open notebook, or CellNotFound."""
    try:
        return opened.cells.index(cell_id)
    except KeyError:
        raise CellNotFound(cell_id) from None
