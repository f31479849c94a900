"""``jupyter reactive-notebook copy SRC DEST``: copy a tree of notebooks, files and folders
between stores (the file store and DynamoDB, either way; see ``stores``).

What is copied: everything the server lists under SRC (notebooks, other files, folders,
empty ones too), recursively, into DEST (DEST mirrors SRC: ``SRC/a/b.ipynb`` lands at
``DEST/a/b.ipynb``). Hidden entries (``.name``) and what the file store hides
(``__pycache__``, ``*.pyc``...) are not listed by the managers, so not copied; nor are
checkpoints. Each file is read and written as bytes through the contents managers
(``type="file"``, base64), so a notebook lands byte for byte, whatever formatting or
nbformat minor version it has, and the destination serves exactly what the source did.

An existing destination file is skipped unless ``overwrite``; ``dry_run`` reads both
sides and writes nothing. The summary counts copied, skipped and failed files; one failure
does not stop the others, and makes the exit status 1.
"""

from __future__ import annotations

import asyncio
import base64
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from tornado.web import HTTPError

from .stores import (
    DynamoDBOptions,
    Store,
    StoreError,
    default_region,
    make_local_root,
    open_store,
    overlaps,
)


@dataclass
class Counts:
    copied: int = 0
    skipped: int = 0
    failed: int = 0
    folders: int = 0


def describe(error: BaseException) -> str:
    """A one-line reason. botocore's messages name endpoints and operations, never
    credentials; an HTTPError's text is its log message."""
    if isinstance(error, HTTPError):
        return str(error.log_message or error.reason or f"HTTP {error.status_code}")
    if isinstance(error, ClientError | BotoCoreError):
        return str(error)
    return f"{type(error).__name__}: {error}"


_BASE_FORM = {
    "copied": "copy",
    "skipped": "skip",
    "overwritten": "overwrite",
    "created folder": "create folder",
}


def _join(folder: str, rel: str) -> str:
    return "/".join(part for part in (folder, rel) if part)


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB"


class TreeCopy:
    def __init__(
        self,
        source: Store,
        dest: Store,
        *,
        overwrite: bool,
        dry_run: bool,
        verify: bool,
        out: TextIO,
        err: TextIO,
    ) -> None:
        self.source, self.dest = source, dest
        self.overwrite, self.dry_run, self.verify = overwrite, dry_run, verify
        self.out, self.err = out, err
        self.counts = Counts()

    def _say(self, verb: str, path: str, note: str = "") -> None:
        if self.dry_run:
            verb = "would " + _BASE_FORM[verb]
        self.out.write(f"{verb:<20} {path}{note}" + "\n")

    def _fail(self, path: str, reason: str) -> None:
        self.counts.failed += 1
        self.err.write(f"failed  {path or '/'}: {reason}" + "\n")

    async def _dest_exists(self, path: str) -> str | None:
        """``"directory"``, ``"file"`` or ``None`` at ``path`` of the destination."""
        manager = self.dest.manager
        if manager is None:
            return None  # a destination folder still to be made (dry run)
        if not path:
            return "directory"
        try:
            model = await manager.get(path, content=False)  # one read: no body
        except HTTPError as error:
            if error.status_code == 404:
                return None
            raise
        return "directory" if model["type"] == "directory" else "file"

    async def _ensure_folder(self, path: str, label: str) -> bool:
        """The destination folder ``path`` exists afterwards (or would, in a dry run)."""
        try:
            there = await self._dest_exists(path)
            if there == "directory":
                return True
            if there == "file":
                self._fail(label, "a file by that name exists at the destination")
                return False
            if not self.dry_run:
                await self.dest.manager.save({"type": "directory"}, path)
        except Exception as error:
            self._fail(label, f"cannot create the folder: {describe(error)}")
            return False
        self.counts.folders += 1
        self._say("created folder", label + "/")
        return True

    async def make_folder(self, rel: str) -> bool:
        """The destination folder of the source folder ``rel``."""
        return await self._ensure_folder(_join(self.dest.folder, rel), rel)

    async def make_root(self) -> bool:
        """The destination's root folder, with its parents (``dynamodb://t/a/b``)."""
        parts = self.dest.folder.split("/") if self.dest.folder else []
        for i in range(1, len(parts) + 1):
            path = "/".join(parts[:i])
            if not await self._ensure_folder(path, path):
                return False
        return True

    async def copy_folder(self, rel: str) -> None:
        try:
            listing = await self.source.manager.get(
                _join(self.source.folder, rel), content=True, type="directory"
            )
        except Exception as error:
            self._fail(rel, f"cannot list the folder: {describe(error)}")
            return
        for entry in sorted(listing["content"], key=lambda e: str(e["name"])):
            child = _join(rel, entry["name"])
            if entry["type"] == "directory":
                if await self.make_folder(child):
                    await self.copy_folder(child)
            else:
                await self.copy_file(child)

    async def copy_file(self, rel: str) -> None:
        dest_path = _join(self.dest.folder, rel)
        try:
            there = await self._dest_exists(dest_path)
            if there == "directory":
                self._fail(rel, "a folder by that name exists at the destination")
                return
            if there == "file" and not self.overwrite:
                self.counts.skipped += 1
                self._say("skipped", rel, " (exists; --overwrite replaces it)")
                return
            if self.dry_run:
                self.counts.copied += 1
                self._say("overwritten" if there else "copied", rel)
                return
            model: dict[str, Any] = await self.source.manager.get(
                _join(self.source.folder, rel), content=True, type="file", format="base64"
            )
            await self.dest.manager.save(
                {"type": "file", "format": "base64", "content": model["content"]}, dest_path
            )
            data = base64.b64decode(model["content"])
            if self.verify:
                back = await self.dest.manager.get(
                    dest_path, content=True, type="file", format="base64"
                )
                if base64.b64decode(back["content"]) != data:
                    self._fail(rel, "verify: the destination reads back different bytes")
                    return
        except Exception as error:
            self._fail(rel, describe(error))
            return
        self.counts.copied += 1
        verb = "overwritten" if there else "copied"
        self._say(verb, rel, f" ({_size(len(data))}{', verified' if self.verify else ''})")

    def summary(self) -> str:
        c = self.counts
        if self.dry_run:
            return (
                f"dry run: {c.copied} to copy, {c.skipped} to skip, {c.failed} failed "
                f"({c.folders} folders to create); nothing was written"
            )
        return (
            f"{c.copied} copied, {c.skipped} skipped, {c.failed} failed "
            f"({c.folders} folders created)"
        )


async def _check_table(store: Store) -> None:
    """A DynamoDB store's table exists (or is made, with ``create_table``) and answers."""
    if store.kind == "dynamodb" and store.manager is not None:
        await store.manager.run(lambda: None)  # the manager checks its table on first use


async def _check_source(source: Store) -> None:
    """The source tree exists and can be read (its table too): else a StoreError."""
    try:
        await _check_table(source)
        is_folder = await source.manager.dir_exists(source.folder)
    except Exception as error:
        raise StoreError(f"{source.label}: {describe(error)}") from error
    if not is_folder:
        raise StoreError(f"{source.label}: no such folder")


async def _check_dest(dest: Store, *, dry_run: bool, create_table: bool) -> None:
    if dest.manager is None:
        return
    try:
        await _check_table(dest)
    except HTTPError as error:
        missing = "does not exist" in str(error.log_message)
        if missing and dry_run and create_table:
            dest.manager = None  # a table still to be made: nothing in it yet
            return
        hint = " (pass --create-table to create it)" if missing and not create_table else ""
        raise StoreError(f"{dest.label}: {describe(error)}{hint}") from error
    except Exception as error:
        raise StoreError(f"{dest.label}: {describe(error)}") from error


async def copy(
    source_spec: str,
    dest_spec: str,
    options: DynamoDBOptions,
    *,
    overwrite: bool = False,
    dry_run: bool = False,
    verify: bool = False,
    create_table: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Copy the tree; the exit status: 0 all copied or skipped, 1 some failed, 2 a store
    that cannot be used (nothing copied, nothing created)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        source = open_store(source_spec, options, dest=False, create_table=False)
        dest = open_store(dest_spec, options, dest=True, create_table=create_table and not dry_run)
        if overlaps(source, dest):
            raise StoreError(f"{dest_spec} is {source_spec} or inside it")
        await _check_source(source)
        await _check_dest(dest, dry_run=dry_run, create_table=create_table)
    except StoreError as error:
        err.write(f"error: {error}" + "\n")
        return 2
    if not dry_run:
        make_local_root(dest)
    run = TreeCopy(
        source, dest, overwrite=overwrite, dry_run=dry_run, verify=verify, out=out, err=err
    )
    if await run.make_root():
        await run.copy_folder("")
    out.write(run.summary() + "\n")
    return 1 if run.counts.failed else 0


def main(args: Any) -> int:
    """``jupyter reactive-notebook copy`` with the parsed arguments of ``cli``."""
    options = DynamoDBOptions(
        region_name=args.region or default_region(),
        endpoint_url=args.endpoint_url or "",
        partition=args.partition,
        partition_depth=getattr(args, "partition_depth", 0),
    )
    return asyncio.run(
        copy(
            args.src,
            args.dest,
            options,
            overwrite=args.overwrite,
            dry_run=args.dry_run,
            verify=args.verify,
            create_table=args.create_table,
        )
    )
