"""Where an open notebook's live document comes from, and who saves its file.

Two sources, one interface (the service never asks which one it has):

- :class:`RoomDocuments`, when jupyter-collaboration's server extension
  (``jupyter_server_ydoc``) is loaded: the document is the room's own ``YNotebook``
  (``YDocExtension.get_document(..., copy=False, create=True)``), the one every JupyterLab
  tab of that file edits. The room saves the file through the contents manager; nothing of
  ours writes it while the room exists, since a write around the room is taken as an
  out-of-band change and the disk would win over unsaved edits in the tabs.
- :class:`PrivateDocuments`, otherwise (``jupyter server`` without collaboration, tests
  without a server): a private ``YNotebook`` made from the file, saved by the service's
  atomic store as before.

A room is replaced behind our back when its last tab leaves: jupyter-collaboration deletes
it after ``document_cleanup_delay`` and the next client gets a new one, loaded from the
file. :meth:`OpenedDocument.current` notices and hands over the new document.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

from jupyter_ydoc import YNotebook

from ..contents.ipynb import notebook_to_nbformat
from ..models import Notebook
from .live_document import LiveNotebook

log = logging.getLogger(__name__)


class OpenedDocument(Protocol):
    """One open notebook's document."""

    #: True when someone else (the room) writes the file: the service must not.
    saves_itself: bool

    @property
    def live(self) -> LiveNotebook: ...

    async def current(self) -> YNotebook | None:
        """None while the document is still the one in use; else the document that
        replaced it (the room was cleaned up and made anew), to move onto."""

    async def close(self, *, save: bool = True) -> None:
        """The service is done with the notebook: save what only the document holds
        (``save=False``: the notebook is being deleted, just let go)."""

    async def flush(self) -> None:
        """Have the file hold what the document holds now (when the document saves
        itself: a room's save, as its autosave makes it)."""

    def moved(self, path: str) -> None:
        """The notebook's file is at ``path`` now."""


class DocumentSource(Protocol):
    async def open(self, notebook: Notebook, path: str | None) -> OpenedDocument:
        """The live document of ``notebook`` (loaded from the file at ``path``)."""


class PrivateDocument:
    """A document only the service holds; the service saves the file."""

    saves_itself = False

    def __init__(self, live: LiveNotebook) -> None:
        self._live = live

    @property
    def live(self) -> LiveNotebook:
        return self._live

    async def current(self) -> YNotebook | None:
        return None

    async def close(self, *, save: bool = True) -> None:
        return None

    async def flush(self) -> None:
        return None  # the service saves a private document itself

    def moved(self, path: str) -> None:
        return None


class PrivateDocuments:
    """Private documents: no collaboration server, or a notebook with no file path."""

    async def open(self, notebook: Notebook, path: str | None) -> OpenedDocument:
        return self.make(notebook)

    @staticmethod
    def make(notebook: Notebook) -> OpenedDocument:
        return PrivateDocument(LiveNotebook.from_nbformat(dict(notebook_to_nbformat(notebook))))


class RoomDocument:
    """The document of a jupyter-collaboration room (the room saves the file)."""

    saves_itself = True

    def __init__(self, source: RoomDocuments, path: str, room_id: str, document: YNotebook):
        self._source = source
        self.path = path
        self.room_id = room_id
        self._live = LiveNotebook(document)
        #: The room's file loader, kept for the last save: jupyter-collaboration drops
        #: it from its mapping when it deletes the room (its cleanup, its shutdown).
        self._loader = source.loader(room_id)
        self._holder = _Holder()
        self._hold()

    @property
    def live(self) -> LiveNotebook:
        return self._live

    async def current(self) -> YNotebook | None:
        room = self._source.room(self.room_id)
        if room is not None and getattr(room, "_document", None) is self._live.document:
            return None
        document = await self._source.document(self.path)
        self._live = LiveNotebook(document)
        self._loader = self._source.loader(self.room_id)
        self._hold()
        return document

    def moved(self, path: str) -> None:
        """The notebook's file was renamed (its room, found by file id, stays)."""
        self.path = path

    def _hold(self) -> None:
        """Keep the room while the service holds the notebook (see :class:`_Holder`);
        a cleanup already waiting for the last tab's return is called off, as a tab
        that comes back calls it off."""
        room = self._source.room(self.room_id)
        if room is None or getattr(room, "_document", None) is not self._live.document:
            return
        room.clients.add(self._holder)
        cleaner = getattr(room, "cleaner", None)
        if cleaner is not None and not cleaner.done():
            cleaner.cancel()

    async def flush(self) -> None:
        await self._source.save(self.room_id, self._loader, self._live.document)

    async def close(self, *, save: bool = True) -> None:
        """A room no tab holds is saved now and removed (a room made by ``create=True``
        has no client whose leaving would clean it up); one a tab holds stays, and the
        room saves it as it always does.

        A room jupyter-collaboration deleted under us (its cleanup after the last tab
        left, or its shutdown, which runs alongside ours) cancelled its pending save,
        and what we wrote since reached no file: the document is saved through the
        room's old file loader, whose out-of-band check lets a file someone else wrote
        since win. A room made anew for the file saves it itself: nothing is written."""
        room = self._source.room(self.room_id)
        ours = room is not None and getattr(room, "_document", None) is self._live.document
        if room is not None and not ours:
            return
        if ours:
            room.clients.discard(self._holder)
            if room.clients:  # a tab holds it: the room saves, and cleans up after it
                return
        if save:
            await self._source.save(self.room_id, self._loader, self._live.document)
        if ours:
            await self._source.remove(self.room_id, room)


class _Holder:
    """Stands in a room's set of clients while the service holds its notebook open.

    jupyter-collaboration deletes a document room once its last WebSocket client has
    been gone for ``document_cleanup_delay`` (cancelling its pending save); a room made
    by ``get_document(create=True)`` has no client at all. A run writing into a room
    deleted under it would write into a document nobody saves or sees. While this
    holder is among the clients, the room stays; the service lets go in
    :meth:`RoomDocument.close`. It receives what the room broadcasts and drops it."""

    path = "reactive-notebook:service"

    async def send(self, message: bytes) -> None:
        return None


class RoomDocuments:
    """Documents of jupyter-collaboration rooms, through ``YDocExtension``."""

    def __init__(self, extension: Any) -> None:
        self.extension = extension

    async def open(self, notebook: Notebook, path: str | None) -> OpenedDocument:
        if path is None:  # no file: nothing a room could be about
            return PrivateDocuments.make(notebook)
        document = await self.document(path)
        return RoomDocument(self, path, self.room_id(path), document)

    async def document(self, path: str) -> YNotebook:
        document = await self.extension.get_document(
            path=path, content_type="notebook", file_format="json", copy=False, create=True
        )
        if not isinstance(document, YNotebook):
            raise RuntimeError(f"the collaboration server gave no notebook document for {path}")
        return document

    def room_id(self, path: str) -> str:
        from jupyter_server_ydoc.utils import encode_file_path, room_id_from_encoded_path

        file_ids = self.extension.serverapp.web_app.settings["file_id_manager"]
        file_id = file_ids.index(path)
        return str(room_id_from_encoded_path(encode_file_path("json", "notebook", file_id)))

    def room(self, room_id: str) -> Any:
        return self.extension.ywebsocket_server.rooms.get(room_id)

    def loader(self, room_id: str) -> Any:
        """The file loader of the room's file (None when there is none)."""
        from jupyter_server_ydoc.utils import decode_file_path

        _, _, file_id = decode_file_path(room_id)
        loaders = self.extension.file_loaders
        # FileLoaderMapping has no get(), and its [] makes a loader when there is none.
        return loaders[file_id] if file_id in loaders else None  # noqa: SIM401

    async def save(self, room_id: str, loader: Any, document: YNotebook) -> None:
        """Save the room's document through its file loader: the contents manager, with
        the loader's out-of-band check (a file changed on disk since the room last
        loaded or saved it wins, as in a room)."""
        if loader is None:
            return
        try:
            model = {"format": "json", "type": "notebook", "content": document.get()}
            await loader.maybe_save_content(model)
        except Exception:  # out-of-band changes on disk: the disk wins, as in a room
            log.warning("saving room %s before closing it failed", room_id, exc_info=True)

    async def remove(self, room_id: str, room: Any) -> None:
        """Delete the room and, if nothing else uses it, its loader: what
        jupyter-collaboration does when the last tab leaves."""
        from jupyter_server_ydoc.utils import decode_file_path

        _, _, file_id = decode_file_path(room_id)
        loaders = self.extension.file_loaders
        lock = self.extension._room_locks[room_id]
        async with lock:
            if self.room(room_id) is room:
                with contextlib.suppress(KeyError):
                    await self.extension.ywebsocket_server.delete_room(room=room)
            if file_id in loaders and loaders[file_id].number_of_subscriptions == 0:
                await loaders.remove(file_id)


class ServerDocuments:
    """Rooms when the server runs jupyter-collaboration (and RTC is on), else private
    documents; decided at the first open, once every extension of the server is loaded."""

    def __init__(self, serverapp: Any) -> None:
        self.serverapp = serverapp
        self._chosen: DocumentSource | None = None

    @property
    def chosen(self) -> DocumentSource:
        if self._chosen is None:
            self._chosen = _choose(self.serverapp)
        return self._chosen

    async def open(self, notebook: Notebook, path: str | None) -> OpenedDocument:
        return await self.chosen.open(notebook, path)


def _choose(serverapp: Any) -> DocumentSource:
    manager = getattr(serverapp, "extension_manager", None)
    apps = manager.extension_apps.get("jupyter_server_ydoc", set()) if manager else set()
    for app in apps:
        if hasattr(app, "get_document") and not getattr(app, "disable_rtc", False):
            log.info("reactive_notebook: open notebooks are jupyter-collaboration rooms")
            return RoomDocuments(app)
    log.info("reactive_notebook: no jupyter-collaboration: open notebooks are private")
    return PrivateDocuments()
