"""What the service needs of the place notebooks live (``contents.store.NotebookStore``
in the extension; tests may give another)."""

from __future__ import annotations

from typing import Protocol

from ..models import Notebook


class Store(Protocol):
    """Where notebooks live (``contents.store.NotebookStore`` in the extension)."""

    async def list(self, owner: str) -> list[tuple[str, str]]: ...
    async def notebook_at(self, path: str, owner: str) -> tuple[str, str] | None: ...
    async def load(self, notebook_id: str, owner: str) -> Notebook:
        """Only a notebook in ``owner``'s folder (else KeyError)."""

    def owns(self, owner: str, notebook_id: str) -> bool:
        """Whether the notebook's file is in ``owner``'s folder (no I/O)."""

    async def save(self, notebook: Notebook) -> None: ...
    async def create(self, notebook: Notebook, folder: str | None = None) -> None:
        """Raises ValueError, with a message for a person, for a folder it refuses."""

    async def rename(self, notebook_id: str, name: str, *, write_name: bool = True) -> None:
        """``write_name=False``: move the file only (its room holds the new name)."""

    async def delete(self, notebook_id: str) -> None: ...
    def known_path(self, notebook_id: str) -> str | None: ...
