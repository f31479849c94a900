"""``NotebookStore``: the one place the service loads and saves notebooks.

It sits on top of whatever contents manager the server runs (files, a database, sync or
async), so notebooks are ordinary ``.ipynb`` files that JupyterLab lists, opens, renames
and moves. That freedom is why ids are not paths: a notebook's id lives in its file's
metadata, and an id -> path index is rebuilt by scanning whenever an id is not where we
left it (a rename or move through the file browser is found by the next miss).

Files without our metadata (a plain ``.ipynb`` a user dropped in) are notebooks too.
Their id is derived from their path, so it is stable across restarts, and it is written
into the file on its first save through us; from then on it survives renames. A copy of
a notebook (same id in two files) keeps the id on the file the index already knew (or
the shortest path); the copy gets an id derived from the original id and its path.

Concurrency: ids are resolved under no lock; scans are serialised and coalesced, and
file-name allocation (create, rename) is serialised so two creates never pick the same
name. Per-notebook ordering of writes is the service's job (it holds the notebook lock).
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
import re
import unicodedata
import urllib.parse
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jupyter_server.utils import ensure_async
from nbformat import NotebookNode
from tornado.web import HTTPError

from reactive_notebook.contents.ipynb import (
    REACTIVE_KEY,
    carry_over_foreign_fields,
    is_valid_notebook_id,
    notebook_from_nbformat,
    notebook_to_nbformat,
    read_reactive_metadata,
)
from reactive_notebook.models import Notebook

NOTEBOOK_SUFFIX = ".ipynb"
#: Folders never worth scanning for notebooks (hidden ones are skipped as well).
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", ".ipynb_checkpoints"})
#: Namespace of the ids derived from paths (plain files, copies): any fixed UUID works.
_DERIVED_ID_NAMESPACE = uuid.UUID("7c1f5a52-2f0e-4d55-9a8e-3b1b0f3c6a11")
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
#: Invisible format characters (bidirectional overrides and isolates, zero-width ones):
#: in a file name they make "report\u202eexe.ipynb" read as another name.
_INVISIBLE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]+")
_MAX_STEM_BYTES = 150  # leaves room for "-NNN.ipynb" and temp-file prefixes in NAME_MAX
_MAX_NAME_ATTEMPTS = 10_000


class StoreError(Exception):
    """Base of the store's errors (besides :class:`NotebookNotFound`)."""


class NotebookNotFound(StoreError, KeyError):
    """No notebook has this id (under the store's folder)."""

    def __init__(self, notebook_id: str) -> None:
        super().__init__(notebook_id)
        self.notebook_id = notebook_id

    def __str__(self) -> str:  # KeyError would print the repr of the key
        return f"notebook not found: {self.notebook_id}"


class RevisionConflict(StoreError):
    """The file holds another revision than the writer based its change on."""

    def __init__(self, current_revision: int) -> None:
        super().__init__(f"the notebook is at revision {current_revision}")
        self.current_revision = current_revision


class NotebookUnreadable(StoreError):
    """The file exists but is not a notebook we can read; it is left untouched."""


class NotebookAlreadyExists(StoreError):
    """``create`` was given an id that already names a notebook."""


class FolderNotAllowed(StoreError, ValueError):
    """``create`` was asked for a folder the owner's notebooks may not be in, or one the
    store would never look in (hidden, skipped, too deep, missing)."""


@dataclass(frozen=True)
class _Entry:
    """What the index knows of one file; ``stamp`` tells whether it changed since."""

    stored_id: str | None
    name: str
    stamp: tuple[Any, Any]


def file_stem(name: str) -> str:
    """A safe file name (without extension) for a display name.

    No path separators, control or shell-hostile characters, no leading dot (so no
    hidden files and no ``..``), bounded length; never empty.
    """
    stem = unicodedata.normalize("NFC", name)
    stem = _INVISIBLE.sub("", stem)
    stem = _UNSAFE_IN_NAME.sub("-", stem)
    stem = re.sub(r"\s+", " ", stem).strip(" .-")
    encoded = stem.encode("utf-8")[:_MAX_STEM_BYTES]
    stem = encoded.decode("utf-8", errors="ignore").strip(" .-")
    return stem or "Untitled"


def derived_id(base: str, path: str) -> str:
    """A stable notebook id for a file whose own id is missing or taken."""
    return uuid.uuid5(_DERIVED_ID_NAMESPACE, f"{base}\0{path}").hex


def normalize_folder(folder: str) -> str:
    """An API path inside the contents root; rejects ``..`` and ``.`` parts."""
    parts = [part for part in folder.replace("\\", "/").split("/") if part]
    if any(part in {".", ".."} for part in parts):
        raise ValueError(f"folder must stay inside the contents root: {folder!r}")
    return "/".join(parts)


def _join(*parts: str) -> str:
    return "/".join(part.strip("/") for part in parts if part.strip("/"))


def _is_under(path: str, folder: str) -> bool:
    return not folder or path.startswith(folder + "/")


def _stem_of(path: str) -> str:
    name = posixpath.basename(path)
    return name[: -len(NOTEBOOK_SUFFIX)] if name.endswith(NOTEBOOK_SUFFIX) else name


class NotebookStore:
    """Loads, saves, lists, creates, renames and deletes notebooks by id.

    ``folder`` is where notebooks live, relative to the contents root. With
    ``per_user=True`` each owner gets a sub-folder (see :meth:`user_dir`), the layout of
    the multi-tenant mode; override :meth:`user_dir` for another layout.
    """

    def __init__(
        self,
        contents_manager: Any,
        *,
        folder: str = "",
        per_user: bool = False,
        max_depth: int = 8,
        log: logging.Logger | None = None,
    ) -> None:
        self.contents_manager = contents_manager
        self.folder = normalize_folder(folder)
        self.per_user = per_user
        self.max_depth = max_depth
        self.log = log or logging.getLogger(__name__)
        self._entries: dict[str, _Entry] = {}  # path -> entry
        self._paths: dict[str, str] = {}  # notebook id -> path
        self._scanned = False
        self._scan_lock = asyncio.Lock()
        self._scan_generation = 0
        self._scanned_at: dict[str, int] = {}  # folder -> generation of its last scan
        self._naming_lock = asyncio.Lock()

    # ------------------------------------------------------------------ layout

    def user_dir(self, owner: str) -> str:
        """The folder holding ``owner``'s notebooks: the store's folder, or with
        ``per_user`` a sub-folder named by the (percent-quoted, so injective) owner."""
        if not self.per_user:
            return self.folder
        if not owner:
            raise ValueError("a per-user store needs an owner")
        quoted = urllib.parse.quote(owner, safe="")
        if quoted.startswith("."):
            quoted = "%2E" + quoted[1:]
        return _join(self.folder, quoted)

    # ------------------------------------------------------------------ queries

    async def list(self, owner: str = "") -> list[tuple[str, str]]:
        """``(id, name)`` of every notebook in ``owner``'s folder, sorted by name.

        Always rescans that folder (cheaply: unchanged files are not re-read), so files
        added behind our back show up.
        """
        folder = self.user_dir(owner)
        await self._scan(folder)
        found = [
            (notebook_id, self._entries[path].name)
            for notebook_id, path in self._paths.items()
            if _is_under(path, folder)
        ]
        return sorted(found, key=lambda item: (item[1].casefold(), item[1], item[0]))

    async def path_of(self, notebook_id: str, owner: str | None = None) -> str:
        """The contents path of the notebook (rescanning once if it is not where the
        index says, e.g. after a rename in the file browser).

        With ``owner``, only a notebook in that owner's folder is found, and a miss
        rescans that folder only: ownership is where the file is, never a field in it,
        and a guessed id costs the guesser a scan of their own notebooks, no more.
        """
        if not is_valid_notebook_id(notebook_id):
            raise NotebookNotFound(notebook_id)
        folder = self.folder if owner is None else self.user_dir(owner)
        if not self._scanned:
            await self._scan(self.folder)
        path = self._paths.get(notebook_id)
        if path is None or not _is_under(path, folder):
            await self._rescan_after_miss(self._generation_covering(folder), folder)
            path = self._paths.get(notebook_id)
        if path is None or not _is_under(path, folder):
            raise NotebookNotFound(notebook_id)
        return path

    def owns(self, owner: str, notebook_id: str) -> bool:
        """Whether the notebook was last seen in ``owner``'s folder (no I/O)."""
        path = self._paths.get(notebook_id)
        return path is not None and _is_under(path, self.user_dir(owner))

    async def notebook_at(self, path: str, owner: str = "") -> tuple[str, str] | None:
        """``(id, name)`` of the notebook in the file at contents path ``path`` (None
        when it is not a notebook in ``owner``'s folder).

        What a client that opened a file (JupyterLab's file browser) asks by: a copy of
        a notebook still holds its original's id in its metadata, and only the index
        knows the copy's own id. Rescans the file's folder (cheap for unchanged files).
        """
        parts = [part for part in path.replace("\\", "/").split("/") if part]
        if not parts or any(part in {".", ".."} for part in parts):
            return None
        path = "/".join(parts)
        if not path.endswith(NOTEBOOK_SUFFIX) or not _is_under(path, self.user_dir(owner)):
            return None
        await self._scan(posixpath.dirname(path))
        entry = self._entries.get(path)
        notebook_id = next((i for i, known in self._paths.items() if known == path), None)
        return None if entry is None or notebook_id is None else (notebook_id, entry.name)

    def known_path(self, notebook_id: str) -> str | None:
        """Where the notebook was last seen (no I/O; None if never seen)."""
        return self._paths.get(notebook_id)

    async def load(self, notebook_id: str, owner: str | None = None) -> Notebook:
        """The notebook, with run state reset (every cell idle, not stale). With
        ``owner``, only one in that owner's folder (else NotebookNotFound); it is theirs
        whatever its metadata says."""
        path, node = await self._read_located(notebook_id, owner)
        try:
            notebook = notebook_from_nbformat(node, fallback_name=_stem_of(path))
        except ValueError as error:
            raise NotebookUnreadable(f"{path}: {error}") from error
        notebook.id = notebook_id
        if owner is not None:
            notebook.owner = owner
        return notebook

    # ------------------------------------------------------------------ writes

    async def save(self, nb: Notebook, *, expected_revision: int | None = None) -> None:
        """Write ``nb`` over its file (atomically, with an atomic contents manager).

        With ``expected_revision``, raise :class:`RevisionConflict` when the file holds
        another revision. Metadata of other tools in the file (cell tags, widget state)
        is kept. The notebook must exist: use :meth:`create` for a new one.
        """
        node = notebook_to_nbformat(nb)  # bad input fails before the disk is touched
        async with self._naming_lock:  # a rename must not move the file mid-save
            path, current = await self._read_located(nb.id)
            if expected_revision is not None:
                revision = read_reactive_metadata(current).revision
                if revision != expected_revision:
                    raise RevisionConflict(revision)
            carry_over_foreign_fields(node, current)
            await self._write(path, node, stored_id=nb.id, name=nb.name)

    async def create(self, nb: Notebook, folder: str | None = None) -> None:
        """Write a new notebook, named after ``nb.name`` (made safe and unique), in
        ``folder`` (a contents path, e.g. the file browser's current folder; it must
        exist and be one the store scans in the owner's folder) or else in the owner's
        folder (created when missing)."""
        if not is_valid_notebook_id(nb.id):
            raise ValueError(f"invalid notebook id {nb.id!r}")
        node = notebook_to_nbformat(nb)
        home = self.user_dir(nb.owner)
        target = home if folder is None else self._creatable_folder(folder, home)
        async with self._naming_lock:
            if not self._scanned:
                await self._scan(self.folder)
            if nb.id in self._paths:
                raise NotebookAlreadyExists(f"a notebook with id {nb.id} already exists")
            if target == home:
                await self._ensure_directory(home)
            elif not await ensure_async(self.contents_manager.dir_exists(target)):
                raise FolderNotAllowed(f"there is no folder {target!r}")
            path = await self._free_path(target, file_stem(nb.name))
            await self._write(path, node, stored_id=nb.id, name=nb.name)

    def _creatable_folder(self, folder: str, home: str) -> str:
        """``folder`` normalized, if a notebook created there would be one of the
        owner's notebooks that the store finds again by scanning."""
        try:
            target = normalize_folder(folder)
        except ValueError as error:
            raise FolderNotAllowed(str(error)) from None
        if target != home and not _is_under(target, home):
            where = f"in {home!r}" if home else "under the contents root"
            raise FolderNotAllowed(f"{target!r} is not a folder of yours: notebooks go {where}")
        # How the scan sees it: from the store's folder down (which holds ``home``).
        below = [part for part in target[len(self.folder) :].split("/") if part]
        for part in below:
            if part.startswith(".") or part in SKIPPED_DIRS:
                raise FolderNotAllowed(
                    f"notebooks are not looked for in {part!r} (hidden and tool folders "
                    "are skipped); choose another folder"
                )
        if len(below) > self.max_depth:
            raise FolderNotAllowed(
                f"{target!r} is {len(below)} folders deep; notebooks are looked for at "
                f"most {self.max_depth} deep"
            )
        return target

    async def rename(self, notebook_id: str, new_name: str, *, write_name: bool = True) -> None:
        """Change the display name and the file name (in the file's current folder).

        The new name is written into the file first, then the file is moved: if the
        move fails the notebook keeps its id and content under its old file name. With
        ``write_name=False`` the file is only moved: its collaboration room holds it, and
        the caller wrote the name into the room's document and had the room save it (a
        write around the room would make the room reload the file: the disk would win).
        """
        if not isinstance(new_name, str) or not new_name.strip():
            raise ValueError("a notebook name must not be empty")
        async with self._naming_lock:
            path, node = await self._read_located(notebook_id)
            metadata = node.setdefault("metadata", {})
            ours = metadata.get(REACTIVE_KEY)
            fields = dict(ours) if isinstance(ours, dict) else {}
            fields.update(id=notebook_id, name=new_name)
            metadata[REACTIVE_KEY] = fields
            if write_name:
                await self._write(path, node, stored_id=notebook_id, name=new_name)
            directory = posixpath.dirname(path)
            new_path = await self._free_path(directory, file_stem(new_name), current=path)
            if new_path == path:
                return
            await ensure_async(self.contents_manager.rename(path, new_path))
            self._forget_path(path)
            model = await ensure_async(self.contents_manager.get(new_path, content=False))
            self._remember(new_path, notebook_id, new_name, model)

    async def delete(self, notebook_id: str) -> None:
        """Delete the notebook's file (to the trash if the contents manager does so)."""
        path = await self.path_of(notebook_id)
        try:
            await ensure_async(self.contents_manager.delete(path))
        except HTTPError as error:
            if error.status_code != 404:
                raise
            # Moved behind our back since we last looked: find it and try again.
            await self._rescan_after_miss(self._generation_covering(self.folder), self.folder)
            path = await self.path_of(notebook_id)
            await ensure_async(self.contents_manager.delete(path))
        self._forget_path(path)

    # ------------------------------------------------------------------ internals

    async def _read_located(
        self, notebook_id: str, owner: str | None = None
    ) -> tuple[str, NotebookNode]:
        """The notebook's path and file content, checked to really be that notebook
        (the index can be stale: a file moved away, or another one moved in)."""
        path = await self.path_of(notebook_id, owner)
        for attempt in range(2):
            try:
                model = await ensure_async(
                    self.contents_manager.get(path, content=True, type="notebook")
                )
            except HTTPError as error:
                if error.status_code == 503:
                    raise  # a busy storage: the client is told when to come back
                if error.status_code != 404:
                    raise NotebookUnreadable(f"{path}: {error.log_message}") from error
                node = None
            else:
                node = model["content"]
                stored_id = read_reactive_metadata(node).id
                entry = _Entry(stored_id, self._name_of(node, path), _stamp(model))
                self._entries[path] = entry
                if self._identify(path, stored_id) == notebook_id:
                    return path, node
            if attempt == 0:
                folder = self.folder if owner is None else self.user_dir(owner)
                await self._rescan_after_miss(self._generation_covering(folder), folder)
                path = await self.path_of(notebook_id, owner)
        raise NotebookNotFound(notebook_id)

    async def _write(self, path: str, node: NotebookNode, *, stored_id: str, name: str) -> None:
        model = {"type": "notebook", "format": "json", "content": node}
        saved = await ensure_async(self.contents_manager.save(model, path))
        self._remember(path, stored_id, name, saved)

    def _remember(self, path: str, notebook_id: str, name: str, model: Any) -> None:
        """Record a file we just wrote: it holds ``notebook_id`` in its metadata."""
        stale_path = self._paths.get(notebook_id)
        if stale_path is not None and stale_path != path:
            self._forget_path(stale_path)
        self._forget_path(path)
        self._entries[path] = _Entry(notebook_id, name, _stamp(model))
        self._paths[notebook_id] = path

    def _forget_path(self, path: str) -> None:
        self._entries.pop(path, None)
        for notebook_id in [i for i, p in self._paths.items() if p == path]:
            del self._paths[notebook_id]

    def _identify(self, path: str, stored_id: str | None) -> str:
        """The id the file at ``path`` goes by: its own, unless another file holds it."""
        if stored_id is None:
            return derived_id("", path)
        if self._paths.get(stored_id, path) == path:
            return stored_id
        return derived_id(stored_id, path)

    @staticmethod
    def _name_of(node: Any, path: str) -> str:
        return read_reactive_metadata(node).name or _stem_of(path)

    async def _rescan_after_miss(self, seen_generation: int, folder: str) -> None:
        """Rescan ``folder``, unless a scan covering it finished since the caller looked
        (:meth:`_generation_covering`; misses that arrive together share one scan)."""
        async with self._scan_lock:
            if self._generation_covering(folder) != seen_generation:
                return
            await self._scan_locked(folder)

    def _generation_covering(self, folder: str) -> int:
        """The generation of the latest scan of ``folder`` or of a folder holding it."""
        parts = folder.split("/") if folder else []
        covering = ["/".join(parts[:depth]) for depth in range(len(parts) + 1)]
        return max((self._scanned_at.get(f, -1) for f in covering), default=-1)

    async def _scan(self, folder: str) -> None:
        async with self._scan_lock:
            await self._scan_locked(folder)

    async def _scan_locked(self, folder: str) -> None:
        found: dict[str, _Entry] = {}
        await self._walk(folder, 0, found)
        kept = {p: e for p, e in self._entries.items() if not _is_under(p, folder)}
        kept.update(found)
        self._entries = kept
        self._paths = self._assign_ids(kept)
        if folder == self.folder:
            self._scanned = True
        self._scan_generation += 1
        self._scanned_at[folder] = self._scan_generation

    def _assign_ids(self, entries: dict[str, _Entry]) -> dict[str, str]:
        """id -> path; a file keeps its own id unless another file already claimed it."""
        claims: dict[str, list[str]] = {}
        for path, entry in entries.items():
            if entry.stored_id is not None:
                claims.setdefault(entry.stored_id, []).append(path)
        paths: dict[str, str] = {}
        for stored_id, holders in claims.items():
            known = self._paths.get(stored_id)
            keeper = known if known in holders else min(holders, key=lambda p: (len(p), p))
            for path in holders:
                paths[stored_id if path == keeper else derived_id(stored_id, path)] = path
        for path, entry in entries.items():
            if entry.stored_id is None:
                paths[derived_id("", path)] = path
        return paths

    async def _walk(self, folder: str, depth: int, found: dict[str, _Entry]) -> None:
        try:
            listing = await ensure_async(
                self.contents_manager.get(folder, content=True, type="directory")
            )
        except HTTPError as error:
            if error.status_code not in (400, 403, 404):
                raise
            return  # the folder does not exist (yet) or may not be read
        for item in _children(listing):
            path = str(item.get("path", "")).strip("/")
            name = posixpath.basename(path)
            if item.get("type") == "directory":
                if depth < self.max_depth and not name.startswith(".") and name not in SKIPPED_DIRS:
                    await self._walk(path, depth + 1, found)
            elif name.endswith(NOTEBOOK_SUFFIX):
                entry = await self._entry_for(path, _stamp(item))
                if entry is not None:
                    found[path] = entry

    async def _entry_for(self, path: str, stamp: tuple[Any, Any]) -> _Entry | None:
        known = self._entries.get(path)
        if known is not None and known.stamp == stamp:
            return known
        try:
            model = await ensure_async(
                self.contents_manager.get(path, content=True, type="notebook")
            )
        except HTTPError as error:
            if error.status_code == 503:
                raise  # a busy storage: not an unreadable file, the listing fails whole
            self.log.warning("Skipping unreadable notebook %s: %s", path, error)
            return None
        except Exception as error:  # one bad file must not hide all the others
            self.log.warning("Skipping unreadable notebook %s: %s", path, error)
            return None
        node = model["content"]
        return _Entry(read_reactive_metadata(node).id, self._name_of(node, path), _stamp(model))

    async def _ensure_directory(self, folder: str) -> None:
        parts = folder.split("/") if folder else []
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            if not await ensure_async(self.contents_manager.dir_exists(path)):
                await ensure_async(self.contents_manager.save({"type": "directory"}, path))

    async def _free_path(self, folder: str, stem: str, *, current: str | None = None) -> str:
        """``folder/stem.ipynb``, or ``stem-1``, ``stem-2``... the first one not taken
        (``current``, the file being renamed, counts as free)."""
        cm = self.contents_manager
        for attempt in range(_MAX_NAME_ATTEMPTS):
            candidate = stem if attempt == 0 else f"{stem}-{attempt}"
            path = _join(folder, candidate + NOTEBOOK_SUFFIX)
            if path == current:
                return path
            taken = await ensure_async(cm.file_exists(path)) or await ensure_async(
                cm.dir_exists(path)
            )
            if not taken:
                return path
        raise StoreError(f"no free file name for {stem!r} in {folder!r}")


def _children(listing: Any) -> Iterable[dict[str, Any]]:
    content = listing.get("content") if isinstance(listing, dict) else None
    return [item for item in content or [] if isinstance(item, dict)]


def _stamp(model: Any) -> tuple[Any, Any]:
    return (model.get("last_modified"), model.get("size"))
