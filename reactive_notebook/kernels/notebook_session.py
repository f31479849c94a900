"""The Jupyter session of a notebook: where its kernel comes from inside a server.

JupyterLab's notebook tab joins the session the server holds for the tab's file path
(``SessionContext`` reuses a running session of the same path). So when reactive runs
take their kernel from that session, the tab's completer, tooltip, debugger, variable
inspector and Kernel menu act on the kernel the runs use, and the tab's own Shift+Enter
sees what a reactive run defined.

- A session for the path exists (a tab opened the notebook first): its kernel is used,
  and left running when we are done with it.
- None exists: we start the kernel ourselves (our filtered environment, the notebook's
  folder as its working directory), then register a ``"notebook"`` session for the path
  around it (``create_session(kernel_id=...)`` adopts a running kernel). We do not let
  ``create_session`` start it: the session manager hands a kernel the server's whole
  ``os.environ`` (``get_kernel_env``), secrets included.

``SessionManager.get_session(path=...)`` raises ``tornado.web.HTTPError(404)`` when no
session has the path, and also when the session's kernel is gone (culled, shut down): it
then deletes the stale row itself.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Mapping
from typing import Any

from jupyter_server.utils import ensure_async
from tornado.web import HTTPError

log = logging.getLogger(__name__)

#: The variable the session manager sets for a session's kernel (IPython's ``__session__``).
SESSION_NAME_VARIABLE = "JPY_SESSION_NAME"


def _not_found(error: HTTPError) -> bool:
    return error.status_code == 404


class NotebookSession:
    """The session of the notebook at ``path`` (an API path), found or created."""

    def __init__(self, session_manager: Any, path: str) -> None:
        self.session_manager = session_manager
        self.path = path
        #: The session in use, once :meth:`kernel_for` has found or made one.
        self.session_id: str | None = None
        #: Whether we created it (then :meth:`close` deletes it; a tab's is left alone).
        self.created = False

    async def find(self) -> dict[str, Any] | None:
        """The session model of the path, or None."""
        try:
            model: dict[str, Any] = await self.session_manager.get_session(path=self.path)
        except HTTPError as error:
            if not _not_found(error):
                raise
            return None
        return model

    def session_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """``env`` plus the session's name, as the session manager would set it."""
        name = posixpath.basename(self.path)
        stock = self.session_manager.get_kernel_env(self.path, name)
        return {**env, SESSION_NAME_VARIABLE: stock[SESSION_NAME_VARIABLE]}

    async def kernel_for(
        self, *, kernel_name: str, env: Mapping[str, str] | None, cwd: str | None
    ) -> str:
        """The kernel id of the path's session: an existing one's, or a new one's."""
        found = await self.find()
        if found is not None:
            self.session_id, self.created = found["id"], False
            kernel_id: str = found["kernel"]["id"]
            log.info("notebook %s: using the kernel %s of its session", self.path, kernel_id)
            return kernel_id
        kernel_manager = self.session_manager.kernel_manager
        kwargs: dict[str, Any] = {"kernel_name": kernel_name}
        if env is not None:
            kwargs["env"] = self.session_env(env)
        if cwd is not None:
            kwargs["path"] = cwd
        kernel_id = await ensure_async(kernel_manager.start_kernel(**kwargs))
        if env is not None:
            keep_secrets_out(kernel_manager.get_kernel(kernel_id))
        try:
            model = await self.session_manager.create_session(
                path=self.path,
                name=posixpath.basename(self.path),
                type="notebook",
                kernel_name=kernel_name,
                kernel_id=kernel_id,
            )
        except Exception:
            await ensure_async(kernel_manager.shutdown_kernel(kernel_id, now=True))
            raise
        self.session_id, self.created = model["id"], True
        return kernel_id

    async def moved(self, path: str) -> None:
        """The notebook's file is now at ``path``: its session follows, as JupyterLab
        moves a tab's session when it renames the file (so a tab opened on the new path
        joins this kernel rather than starting a second one)."""
        self.path = path
        if self.session_id is None:
            return
        try:
            await self.session_manager.update_session(
                self.session_id, path=path, name=posixpath.basename(path)
            )
        except HTTPError as error:  # ended meanwhile: the next run makes a new one
            if not _not_found(error):
                raise
            self.session_id = None

    async def close(self, kernel_id: str) -> bool:
        """Done with the session: delete it if we created it and no client (a tab's
        kernel WebSocket) is connected to its kernel. Whether its kernel is shut down."""
        session_id, self.session_id = self.session_id, None
        if session_id is None or not self.created:
            return False
        kernel_manager = self.session_manager.kernel_manager
        try:
            connections = kernel_manager.kernel_model(kernel_id).get("connections", 0)
        except (KeyError, HTTPError):
            connections = 0  # the kernel is gone: the session row goes with it
        if connections:
            log.info("notebook %s: a client uses its kernel, left running", self.path)
            return False
        try:
            await self.session_manager.delete_session(session_id)
        except HTTPError as error:  # deleted meanwhile (or its kernel is gone)
            if not _not_found(error):
                raise
            return False
        return True


def keep_secrets_out(kernel: Any) -> None:
    """Make a kernel we started keep its filtered environment across restarts.

    ``SessionManager.update_session`` (a tab's ``PATCH /api/sessions/{id}``, sent when
    the file is renamed) calls ``kernel_manager.update_env`` with
    ``get_kernel_env(...)``: the server's whole ``os.environ``, merged into the kernel's
    launch environment, which the next restart would pass to the new process. Only the
    session's name is taken from such an update.
    """
    update_env = getattr(kernel, "update_env", None)
    if update_env is None:
        return

    def update_session_name_only(*, env: Mapping[str, str]) -> None:
        if SESSION_NAME_VARIABLE in env:
            update_env(env={SESSION_NAME_VARIABLE: env[SESSION_NAME_VARIABLE]})

    kernel.update_env = update_session_name_only
