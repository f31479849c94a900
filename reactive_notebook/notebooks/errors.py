"""What can go wrong in a notebook operation, in words a person understands.

Handlers map these to HTTP answers: not found -> 404 (also for another user's notebook,
so ids do not leak), conflict -> 409 with the current revision, invalid -> 400.
"""

from __future__ import annotations


class NotebookError(Exception):
    """Base of the service's errors; ``message`` is shown to the user."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(NotebookError):
    """The request names something impossible (an unknown cell type, a bad name...)."""


class NotFound(NotebookError):
    status = 404


class NotebookNotFound(NotFound):
    def __init__(self, notebook_id: str) -> None:
        super().__init__(f"notebook {notebook_id!r} not found")
        self.notebook_id = notebook_id


class CellNotFound(NotFound):
    def __init__(self, cell_id: str) -> None:
        super().__init__(f"cell {cell_id!r} not found in this notebook")
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
