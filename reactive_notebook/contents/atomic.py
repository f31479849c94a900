"""A contents manager whose saves survive a crash at any moment.

jupyter_server's ``atomic_writing`` copies the old file aside and then rewrites the target
in place: a process killed mid-write leaves a truncated notebook (pitfalls.md, Storage).
Here every save writes a temp file in the same directory, flushes and fsyncs it, and
``os.replace``-s it over the target, then fsyncs the directory. A reader (or the next
start) sees the old file or the new one, never half of one.

What is overridden, and why:

- ``atomic_writing``: the single context manager that both ``_save_notebook`` and
  ``_save_file`` (and the first chunk of a large upload) write through; replacing it makes
  every one of those paths atomic without copying their code.
- ``_save_notebook`` / ``_save_file``: the stock async versions run the fsync and the
  rename on the event loop; ours run the whole write in a worker thread.
- The checkpoints class: restoring a checkpoint copies it over the notebook with
  ``shutil.copyfile`` (in place); ours copies through the same temp-file-and-replace path.

Left as is: later chunks of a chunked upload append to the file in place (the upload is
incomplete until its last chunk anyway), and ``use_atomic_writing = False`` still means
"write in place" for filesystems where rename is unreliable.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import stat
import time
from base64 import decodebytes
from collections.abc import Iterator
from functools import partial
from typing import IO, Any

import nbformat
from anyio.to_thread import run_sync
from jupyter_server.services.contents.filecheckpoints import AsyncFileCheckpoints
from jupyter_server.services.contents.fileio import _simple_writing
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError
from traitlets import Float, default

#: Temp files start with ``.~`` like jupyter_server's own, so they are hidden from the
#: file browser and ignored by Dropbox; the random part keeps concurrent writers apart.
TEMP_PREFIX = ".~"
TEMP_SUFFIX = ".tmp"
_MAX_BASENAME_IN_TEMP = 180  # keeps the temp name under NAME_MAX (255) for long names


def _temp_name_pattern(basename: str) -> re.Pattern[str]:
    prefix = re.escape(TEMP_PREFIX + basename[:_MAX_BASENAME_IN_TEMP])
    return re.compile(rf"^{prefix}\.[0-9a-f]{{12}}{re.escape(TEMP_SUFFIX)}$")


def remove_stale_temp_files(path: str, max_age: float) -> None:
    """Remove temp files of ``path`` older than ``max_age`` seconds: what a killed save
    left behind (a SIGKILL or power cut runs no cleanup). Young ones may belong to a
    save in progress in another process, so they stay."""
    directory, basename = os.path.split(path)
    pattern = _temp_name_pattern(basename)
    now = time.time()
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return
    for name in names:
        if not pattern.match(name):
            continue
        candidate = os.path.join(directory, name)
        with contextlib.suppress(OSError):
            if now - os.lstat(candidate).st_mtime > max_age:
                os.unlink(candidate)


def temp_path_for(path: str) -> str:
    """A fresh, unused-looking temp file name next to ``path``."""
    directory, basename = os.path.split(path)
    token = secrets.token_hex(6)
    name = f"{TEMP_PREFIX}{basename[:_MAX_BASENAME_IN_TEMP]}.{token}{TEMP_SUFFIX}"
    return os.path.join(directory, name)


@contextlib.contextmanager
def atomic_replace(
    path: str, text: bool = True, encoding: str = "utf-8", **kwargs: Any
) -> Iterator[IO[Any]]:
    """Yield a file object; on a clean exit its content replaces ``path`` atomically.

    On any exception the temp file is removed and ``path`` is untouched. An existing
    target keeps its permission bits (and owner, when we are allowed to set it); a new
    one gets the usual ``0o666 & ~umask``. A symlinked target is written through the
    link, as jupyter_server does, so the link stays a link.
    """
    kwargs.pop("log", None)  # jupyter_server passes its logger to atomic_writing
    target = os.path.realpath(path) if os.path.islink(path) else path
    directory = os.path.dirname(target) or "."
    try:
        existing: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        existing = None

    tmp = temp_path_for(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    replaced = False
    try:
        if existing is not None:
            _copy_ownership(fd, existing)
        if text:
            kwargs.setdefault("newline", "\n")  # Unix line ends, as jupyter_server writes
            fileobj: IO[Any] = os.fdopen(fd, "w", encoding=encoding, **kwargs)
        else:
            fileobj = os.fdopen(fd, "wb", **kwargs)
    except BaseException:
        os.close(fd)
        _remove_quietly(tmp)
        raise
    try:
        with fileobj:
            yield fileobj
            fileobj.flush()
            os.fsync(fileobj.fileno())
        os.replace(tmp, target)
        replaced = True
    finally:
        if not replaced:
            _remove_quietly(tmp)
    fsync_directory(directory)


def atomic_copy(src: str, dest: str) -> None:
    """``shutil.copy2`` that replaces ``dest`` atomically (content, mode and times)."""
    with atomic_replace(dest, text=False) as out, open(src, "rb") as source:
        shutil.copyfileobj(source, out)
        out.flush()
        info = os.fstat(source.fileno())
        os.fchmod(out.fileno(), stat.S_IMODE(info.st_mode))
        with contextlib.suppress(OSError):
            os.utime(out.fileno(), ns=(info.st_atime_ns, info.st_mtime_ns))


def fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable; a no-op where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _copy_ownership(fd: int, existing: os.stat_result) -> None:
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))
    if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
        # Only root (or a member of the group) may do this; otherwise the new file is
        # ours, exactly as with any editor that saves by rename.
        with contextlib.suppress(OSError):
            os.fchown(fd, existing.st_uid, existing.st_gid)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class AtomicFileCheckpoints(AsyncFileCheckpoints):
    """File checkpoints whose copies (create *and* restore) replace atomically."""

    async def _copy(self, src: str, dest: str) -> None:
        with self.perm_to_403(dest):
            await run_sync(atomic_copy, src, dest)


class AtomicFileContentsManager(AsyncLargeFileManager):
    """jupyter_server's default async manager, with crash-safe saves.

    Select it with ``--ServerApp.contents_manager_class=``
    ``reactive_notebook.contents.atomic.AtomicFileContentsManager``.
    """

    stale_temp_file_age = Float(
        3600.0,
        config=True,
        help="""Temp files of an interrupted save (named '.~<file>.<random>.tmp') older
        than this many seconds are removed on the next save of that file.""",
    )

    @default("checkpoints_class")
    def _checkpoints_class_default(self) -> type[AtomicFileCheckpoints]:
        return AtomicFileCheckpoints

    @contextlib.contextmanager
    def atomic_writing(self, os_path: str, *args: Any, **kwargs: Any) -> Iterator[IO[Any]]:
        """Temp file + fsync + ``os.replace`` (instead of the stock rewrite in place)."""
        kwargs.pop("log", None)
        with self.perm_to_403(os_path):
            if not self.use_atomic_writing or not self._directory_writable(os_path):
                # Same fallback as jupyter_server: no temp file can be created here, or
                # the admin asked for in-place writes (some network filesystems).
                with _simple_writing(os_path, *args, **kwargs) as f:
                    yield f
                return
            with atomic_replace(os_path, *args, **kwargs) as f:
                yield f

    async def _save_notebook(
        self, os_path: str, nb: Any, capture_validation_error: dict[str, Any] | None = None
    ) -> None:
        await run_sync(partial(self._write_notebook, os_path, nb, capture_validation_error))

    def _write_notebook(
        self, os_path: str, nb: Any, capture_validation_error: dict[str, Any] | None
    ) -> None:
        with self.atomic_writing(os_path, encoding="utf-8") as f:
            nbformat.write(  # type: ignore[no-untyped-call]
                nb,
                f,
                version=nbformat.NO_CONVERT,
                capture_validation_error=capture_validation_error,
            )
        remove_stale_temp_files(os_path, self.stale_temp_file_age)

    async def _save_file(self, os_path: str, content: Any, format: Any) -> None:
        data = _decode_file_content(os_path, content, format)
        await run_sync(self._write_bytes, os_path, data)

    def _write_bytes(self, os_path: str, data: bytes) -> None:
        with self.atomic_writing(os_path, text=False) as f:
            f.write(data)
        remove_stale_temp_files(os_path, self.stale_temp_file_age)

    @staticmethod
    def _directory_writable(os_path: str) -> bool:
        target = os.path.realpath(os_path) if os.path.islink(os_path) else os_path
        return os.access(os.path.dirname(target) or ".", os.W_OK)


def _decode_file_content(os_path: str, content: Any, format: Any) -> bytes:
    """The bytes of a ``file`` model, with jupyter_server's 400 errors for bad input."""
    if format not in {"text", "base64"}:
        raise HTTPError(400, "Must specify format of file contents as 'text' or 'base64'")
    try:
        if format == "text":
            return content.encode("utf8")  # type: ignore[no-any-return]
        return decodebytes(content.encode("ascii"))
    except Exception as e:
        raise HTTPError(400, f"Encoding error saving {os_path}: {e}") from e
