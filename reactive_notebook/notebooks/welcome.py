"""The welcome notebook: made once for each new user, on their first visit.

A user's first visit is their first listing of their notebooks (``GET .../notebooks``
without ``path``), the call every client makes to show its home screen; JupyterLab's
extension makes it once when it starts (``POST .../welcome`` answers the same). At
that moment, once per user:

- a user who already has notebooks is not new: nothing is made (a server started in a
  project folder full of notebooks never drops a demo into it);
- a file or folder already at the welcome notebook's file name is never touched:
  nothing is made (it is most likely the demo of an earlier visit whose record was
  lost, or the user's own file of that name; a second copy would only be clutter);
- otherwise the notebook is created through the service (an ordinary notebook of
  theirs, counted in their quota), with code only: nothing runs until they run it.

Whatever was decided is recorded in a per-user marker (a small JSON file named by the
hash of the user's name, written atomically, under ``ReactiveNotebook.welcome_state_dir``),
so a user who deletes or renames the notebook never gets it back. Concurrent first
visits of one user wait on one lock and the marker: one notebook. A failure (the folder
is read-only, the quota is zero) is logged and never fails the listing; it is not
retried until the server restarts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import posixpath
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jupyter_server.utils import ensure_async

from ..contents.atomic import atomic_replace
from ..contents.store import NOTEBOOK_SUFFIX, NotebookStore, file_stem
from .service import NotebookService
from .welcome_content import DEFAULT_NAME, welcome_cells

log = logging.getLogger(__name__)

#: The outcomes a marker records.
_RECORDED = frozenset({"created", "has_notebooks", "name_taken"})


@dataclass(frozen=True)
class Welcome:
    """What a user's first visit decided: ``outcome`` is ``created`` (with the new
    notebook's id and file path), ``has_notebooks``, ``name_taken`` or ``failed``."""

    outcome: str
    notebook_id: str | None = None
    path: str | None = None
    #: True for the one call that made it (a client may open it then, and only then).
    made_now: bool = False

    @property
    def created(self) -> bool:
        return self.outcome == "created"

    def describe(self) -> dict[str, Any]:
        found = {"notebook_id": self.notebook_id, "path": self.path}
        return {"outcome": self.outcome, **{k: v for k, v in found.items() if v is not None}}


class WelcomeNotebooks:
    """Makes each user's welcome notebook, once (see the module's docstring)."""

    def __init__(
        self,
        service: NotebookService,
        store: NotebookStore,
        state_dir: str,
        *,
        name: str = DEFAULT_NAME,
        log: logging.Logger | None = None,
    ) -> None:
        self.service = service
        self.store = store
        self.state_dir = state_dir
        self.name = name
        self.log = log or logging.getLogger(__name__)
        self._locks: dict[str, asyncio.Lock] = {}
        #: Users (their marker keys) already decided in this process: no disk I/O.
        self._decided: dict[str, Welcome] = {}

    def marker_path(self, user: str) -> str:
        """The user's marker: named by a hash, so no user name reaches the file system."""
        return os.path.join(self.state_dir, f"{_key(user)}.json")

    async def ensure(self, user: str) -> Welcome:
        """The user's welcome notebook, made if this is their first visit; what was
        decided (now, or on their first visit)."""
        key = _key(user)
        known = self._decided.get(key)
        if known is not None:
            return known
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                known = self._decided.get(key)
                if known is not None:
                    return known
                decided = await self._decide(user)
                self._decided[key] = dataclasses.replace(decided, made_now=False)
                return decided
        finally:
            if self._locks.get(key) is lock and not lock.locked():
                del self._locks[key]

    async def _decide(self, user: str) -> Welcome:
        path = self.marker_path(user)
        recorded = await asyncio.to_thread(_read_marker, path)
        if recorded is not None:
            return recorded
        try:
            welcome = await self._first_visit(user)
        except Exception:
            self.log.warning("reactive_notebook: no welcome notebook was made", exc_info=True)
            return Welcome("failed")  # kept in memory only: tried again after a restart
        try:
            await asyncio.to_thread(_write_marker, path, welcome)
        except OSError:  # decided all the same (in memory): the listing goes on
            self.log.warning("reactive_notebook: could not record %s", path, exc_info=True)
        if welcome.created:
            self.log.info("reactive_notebook: made the welcome notebook %s", welcome.path)
        return welcome

    async def _first_visit(self, user: str) -> Welcome:
        if await self.service.list_notebooks(user):
            return Welcome("has_notebooks")
        target = posixpath.join(self.store.user_dir(user), file_stem(self.name) + NOTEBOOK_SUFFIX)
        manager = self.store.contents_manager
        if await ensure_async(manager.file_exists(target)) or await ensure_async(
            manager.dir_exists(target)
        ):
            return Welcome("name_taken", path=target)
        notebook = await self.service.create_notebook(user, self.name, cells=welcome_cells())
        return Welcome("created", notebook.id, self.service.file_path(notebook.id), made_now=True)


def _key(user: str) -> str:
    return hashlib.sha256(user.encode()).hexdigest()[:24]


def _read_marker(path: str) -> Welcome | None:
    """The recorded decision (None: no marker, this is the first visit). A marker that
    cannot be read still counts as a decision: never a second notebook."""
    try:
        with open(path, encoding="utf-8") as file:
            stored = json.load(file)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return Welcome("unreadable_marker")
    if not isinstance(stored, dict):
        return Welcome("unreadable_marker")
    found = [stored.get(field) for field in ("notebook_id", "path")]
    notebook_id, where = (value if isinstance(value, str) else None for value in found)
    outcome = stored.get("outcome")
    if outcome not in _RECORDED:
        return Welcome("unreadable_marker")
    return Welcome(outcome, notebook_id, where)


def _write_marker(path: str, welcome: Welcome) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    record = {"version": 1, **welcome.describe(), "at": datetime.now(UTC).isoformat()}
    with atomic_replace(path) as file:
        file.write(json.dumps(record))
