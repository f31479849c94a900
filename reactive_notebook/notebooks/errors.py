"""What can go wrong in a notebook operation, in words a person understands.

Handlers map these to HTTP answers: invalid -> 400 (naming the field when there is
one), not found -> 404 (also for another user's notebook, so ids do not leak),
conflict -> 409 with the current revision. ``details()`` is what the answer carries
besides the message.
"""

from __future__ import annotations

from typing import Any

#: Ids are echoed in messages; a 10 KB id is shown cut to this many characters.
MAX_SHOWN_ID = 64


def shown_id(value: object) -> str:
    """An id as a message quotes it: repr'd, and cut when it is absurdly long."""
    text = repr(value)
    if len(text) > MAX_SHOWN_ID:
        text = text[: MAX_SHOWN_ID - 4] + "...'"
    return text


class NotebookError(Exception):
    """Base of the service's errors; ``message`` is shown to the user."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> dict[str, Any]:
        """Extra fields of the error answer (besides ``message`` and ``reason``)."""
        return {}


class InvalidRequest(NotebookError):
    """The request names something impossible (an unknown cell type, a bad name...)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def details(self) -> dict[str, Any]:
        return {"field": self.field} if self.field else {}


class RequestTooLarge(NotebookError):
    status = 413


class NotFound(NotebookError):
    status = 404


class NotebookNotFound(NotFound):
    def __init__(self, notebook_id: str) -> None:
        super().__init__(f"notebook {shown_id(notebook_id)} not found")
        self.notebook_id = notebook_id


class CellNotFound(NotFound):
    def __init__(self, cell_id: str) -> None:
        super().__init__(f"cell {shown_id(cell_id)} not found in this notebook")
        self.cell_id = cell_id


class RevisionConflict(NotebookError):
    """The change was based on an older revision: someone else changed the notebook."""

    status = 409

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"the notebook changed since revision {expected}; it is now at revision "
            f"{current}: reload it and try again"
        )
        self.expected = expected
        self.current = current

    def details(self) -> dict[str, Any]:
        return {"revision": self.current}


class CodeNotArrived(NotebookError):
    """A run named the code the client's editor shows, and the live document did not
    hold it within the bound: the editor's last changes have not reached the server."""

    status = 409

    def __init__(self, waited: float, *, field: str = "code") -> None:
        super().__init__(
            "the cell's code in your editor has not reached the server yet (waited "
            f"{waited:g} s for it): nothing ran. Your connection to the server may be slow "
            "or lost; check it, then run the cell again."
        )
        self.field = field

    def details(self) -> dict[str, Any]:
        return {"field": self.field}
