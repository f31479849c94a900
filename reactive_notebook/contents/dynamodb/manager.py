"""``DynamoDBContentsManager``: Jupyter's contents API over one DynamoDB table.

Selected only by an operator: ``ServerApp.contents_manager_class =
reactive_notebook.contents.DynamoDBContentsManager``. Every boto3 call runs in
a worker thread (``asyncio.to_thread``); the table layer (``table.py``) holds the key
schema, the chunked bodies and the conditional writes.

Inherited as is: ``new``, ``new_untitled``, ``copy`` of a file, ``update``,
``trust_notebook`` (the notary signs what ``save`` writes), ``increment_filename``. A
folder is copied here, file by file, as the file manager copies one.
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import posixpath
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

import nbformat
from botocore.exceptions import ClientError
from jupyter_server.services.contents.manager import AsyncContentsManager, copy_pat
from tornado.web import HTTPError
from traitlets import Bool, Float, Int, TraitError, Unicode, default, validate

from . import chunks, keys
from .checkpoints import DynamoDBCheckpoints
from .retry import error_code
from .table import ContentsTable, NotFoundError, Record, make_client

T = TypeVar("T")

_EPOCH = datetime(1970, 1, 1).astimezone()


def _depth(record: Record) -> int:
    return record.path.count("/")


def _hidden(path: str) -> bool:
    """A path is hidden if any of its parts starts with a dot (like ``.git/x``)."""
    return any(part.startswith(".") for part in path.strip("/").split("/") if part)


class DynamoDBContentsManager(AsyncContentsManager):
    """Notebooks, files and directories of any size in DynamoDB (no local disk)."""

    table_name = Unicode(
        "reactive-notebook-contents",
        config=True,
        help="The DynamoDB table holding the notebooks (key: pk string, sk string).",
    )
    region_name = Unicode("us-east-1", config=True, help="The AWS region of the table.")
    endpoint_url = Unicode(
        "",
        config=True,
        help="A DynamoDB-compatible endpoint, e.g. http://127.0.0.1:5000 for a local "
        "moto server; empty means AWS's own endpoint for the region.",
    )
    create_table = Bool(
        False,
        config=True,
        help="Create the table (on-demand billing) at the first use if it is missing. "
        "Off by default: in production the table is usually made by infrastructure code.",
    )
    partition = Unicode(
        "default",
        config=True,
        help="The partition key of this server's tree: one owner or root prefix per "
        "partition, so per-user servers of the multi-user mode can share one table.",
    )
    partition_depth = Int(
        0,
        config=True,
        help="0: the whole tree is one partition (pk = partition). N > 0: everything below "
        "the first N path components lives in a partition of its own, named "
        "'<partition>/<first N components>' (a path of N or fewer components stays in "
        "'partition'). With ReactiveNotebook.per_user_notebooks, N=1 (notebooks_dir '') or "
        "N=2 (notebooks_dir 'nb') gives each user's tree its own partition: one user's "
        "requests then spread over other partitions than another's, and an IAM policy can "
        "confine a role to 'dynamodb:LeadingKeys' = '<partition>/<user>' for the user's "
        "files (but the user's own folder entry, and the listing of its parent, are in "
        "'partition'). Change it only on an empty table: existing items are not moved.",
    )
    retry_attempts = Int(
        6, config=True, help="Attempts per DynamoDB call while it is throttled, then 503."
    )
    retry_base_delay = Float(
        0.05, config=True, help="First backoff (seconds) after a throttled call; doubles."
    )

    inline_body_bytes = Int(
        chunks.INLINE_MAX,
        config=True,
        help="A file whose compressed body is at most this many bytes is kept inside its "
        "head item (one item to write and read); a larger one in chunk items beside it. "
        "The head is what a collaboration room polls every second and what a folder "
        "listing reads, and DynamoDB charges a read by the whole item (4 KB per unit): "
        "the default, 3 KiB, keeps a head within one unit. At most 65536. Changing it "
        "applies to new writes; items written before stay readable.",
    )

    @validate("inline_body_bytes")
    def _valid_inline_body_bytes(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if not 0 <= value <= chunks.INLINE_LIMIT:
            raise TraitError(
                f"inline_body_bytes must be between 0 and {chunks.INLINE_LIMIT}, not {value}"
            )
        return value

    always_delete_dir = Bool(
        False,
        config=True,
        help="Let a folder that is not empty be deleted with everything in it (and their "
        "checkpoints). The table has no trash: what is deleted is gone. Off: deleting a "
        "folder that holds anything answers 400, as the file manager does without a trash.",
    )
    max_copy_folder_size_mb = Int(
        500,
        config=True,
        help="Largest folder (its files' sizes added up) that can be copied, as the file "
        "manager's trait of the same name.",
    )

    #: What ``hash`` is (named like the file manager's trait; fixed here: the hash is
    #: computed once, at the write, and kept in the head item).
    hash_algorithm = "sha256"

    @default("checkpoints_class")
    def _checkpoints_class_default(self) -> type:
        return DynamoDBCheckpoints

    @cached_property
    def table(self) -> ContentsTable:
        client = make_client(self.region_name, self.endpoint_url or None)
        return ContentsTable(
            client,
            self.table_name,
            self.partition,
            partition_depth=self.partition_depth,
            retry_attempts=self.retry_attempts,
            retry_base_delay=self.retry_base_delay,
            inline_max=self.inline_body_bytes,
        )

    _table_checked = False

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run a table call in a worker thread (the table is checked on first use)."""
        if not self._table_checked:
            try:
                await asyncio.to_thread(self.table.ensure_table, self.create_table)
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise
                raise HTTPError(
                    500,
                    f"The DynamoDB table {self.table_name!r} does not exist in "
                    f"{self.region_name}: create it, or set "
                    "DynamoDBContentsManager.create_table = True",
                ) from error
            self._table_checked = True
        return await asyncio.to_thread(function, *args)

    # -- existence ---------------------------------------------------------------------

    async def dir_exists(self, path: str) -> bool:
        path = path.strip("/")
        if not path:
            return True
        record = await self.run(self.table.head, path)
        return record is not None and record.type == "directory"

    async def file_exists(self, path: str = "") -> bool:
        record = await self.run(self.table.head, path.strip("/"))
        return record is not None and record.type != "directory"

    async def exists(self, path: str) -> bool:
        path = path.strip("/")
        return not path or await self.run(self.table.head, path) is not None

    async def is_hidden(self, path: str) -> bool:
        return _hidden(path)

    # -- models ------------------------------------------------------------------------

    def _base_model(self, record: Record, require_hash: bool) -> dict[str, Any]:
        model: dict[str, Any] = {
            "name": record.name,
            "path": record.path,
            "type": record.type,
            "created": record.created_dt(),
            "last_modified": record.last_modified_dt(),
            "content": None,
            "format": None,
            "mimetype": None,
            "size": record.size if record.type != "directory" else None,
            "writable": True,
            "hash": None,
            "hash_algorithm": None,
        }
        if require_hash and record.type != "directory":
            model["hash"] = record.hash
            model["hash_algorithm"] = self.hash_algorithm
        if record.type == "file":
            model["mimetype"] = mimetypes.guess_type(record.path)[0]
        return model

    def _root_model(self) -> dict[str, Any]:
        return {
            "name": "",
            "path": "",
            "type": "directory",
            "created": _EPOCH,
            "last_modified": _EPOCH,
            "content": None,
            "format": None,
            "mimetype": None,
            "size": None,
            "writable": True,
            "hash": None,
            "hash_algorithm": None,
        }

    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        path = path.strip("/")
        record = await self.run(self.table.head, path) if path else None
        if path and record is None:
            raise HTTPError(404, f"No such file or directory: {path}")
        if record is None or record.type == "directory":
            if type not in (None, "directory"):
                raise HTTPError(400, f"{path} is a directory, not a {type}", reason="bad type")
            model = self._root_model() if record is None else self._base_model(record, False)
            if content:
                model["content"] = await self._listing(path)
                model["format"] = "json"
            return model
        if type == "directory":
            raise HTTPError(400, f"{path} is not a directory", reason="bad type")
        if type == "notebook" and record.type != "notebook":
            raise HTTPError(400, f"{path} is not a notebook", reason="bad type")
        model = self._base_model(record, require_hash)
        if type == "file" and record.type == "notebook":
            model["type"] = "file"
            model["mimetype"] = "application/x-ipynb+json"
        if not content:
            return model  # the hash is in the head: no body read
        data = await self.run(self.table.read_body, record)
        if model["type"] == "notebook":
            # Validated once, by the read (as the file manager does): a second pass
            # over a 5 MB notebook would double the cost of a load.
            validation_error: dict[str, Any] = {}
            try:
                nb = nbformat.reads(  # type: ignore[no-untyped-call]
                    data.decode("utf-8"), as_version=4, capture_validation_error=validation_error
                )
            except Exception as e:
                raise HTTPError(400, f"Unreadable Notebook: {path} {e!r}") from e
            self.mark_trusted_cells(nb, path)  # type: ignore[no-untyped-call]
            model["content"] = nb
            model["format"] = "json"
            self.validate_notebook_model(model, validation_error)  # type: ignore[no-untyped-call]
        else:
            model.update(self._file_content(path, data, format))
        return model

    def _file_content(self, path: str, data: bytes, format: str | None) -> dict[str, Any]:
        if format != "base64":
            try:
                return {"content": data.decode("utf-8"), "format": "text"}
            except UnicodeDecodeError:
                if format == "text":
                    raise HTTPError(
                        400, f"{path} is not UTF-8 encoded", reason="bad format"
                    ) from None
        return {
            "content": base64.b64encode(data).decode("ascii"),
            "format": "base64",
            "mimetype": mimetypes.guess_type(path)[0] or "application/octet-stream",
        }

    async def _listing(self, path: str) -> list[dict[str, Any]]:
        """The folder's entries from ONE query (one per 1 MB page): no call per entry."""
        records = await self.run(self.table.children, path)
        listing = []
        for record in records:
            if not self.allow_hidden and _hidden(record.path):
                continue
            if not self.should_list(record.name):  # type: ignore[no-untyped-call]
                continue
            listing.append(self._base_model(record, False))
        return listing

    # -- save --------------------------------------------------------------------------

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        path = path.strip("/")
        if not path:
            raise HTTPError(400, "Can't save the root directory")
        if "type" not in model:
            raise HTTPError(400, "No file type provided")
        if "content" not in model and model["type"] != "directory":
            raise HTTPError(400, "No file content provided")
        chunk = model.get("chunk")
        if chunk is None or chunk == 1:
            self.run_pre_save_hooks(model=model, path=path)  # type: ignore[no-untyped-call]
        if chunk is not None:
            return await self._save_chunk(model, path, int(chunk))

        parent = keys.split_path(path)[0]
        if not await self.dir_exists(parent):
            raise HTTPError(404, f"No such directory: {parent}")
        message = None
        if model["type"] == "directory":
            record = await self.run(self.table.put_directory, path)
        elif model["type"] == "notebook":
            nb = nbformat.from_dict(model["content"])  # type: ignore[no-untyped-call]
            self.check_and_sign(nb, path)  # type: ignore[no-untyped-call]
            validation_error: dict[str, Any] = {}
            text = nbformat.writes(  # type: ignore[no-untyped-call]
                nb, version=nbformat.NO_CONVERT, capture_validation_error=validation_error
            )
            # The bytes nbformat.write puts in a file, so hashes match the file store's.
            data = (text if text.endswith("\n") else text + "\n").encode("utf-8")
            record = await self._put(path, "notebook", data)
            checked = self.validate_notebook_model({"content": nb}, validation_error)  # type: ignore[no-untyped-call]
            message = checked.get("message")
        elif model["type"] == "file":
            data = self._decode(model["content"], model.get("format"))
            record = await self._put(path, "file", data)
        else:
            raise HTTPError(400, f"Unhandled contents type: {model['type']}")
        saved = self._base_model(record, False)  # what get(content=False) returns
        if message:
            saved["message"] = message
        self.emit(data={"action": "save", "path": path})  # type: ignore[no-untyped-call]
        return saved

    @staticmethod
    def _decode(content: str, format: str | None) -> bytes:
        if format not in {"text", "base64"}:
            raise HTTPError(400, "Must specify format of file contents as 'text' or 'base64'")
        try:
            if format == "text":
                return content.encode("utf-8")
            return base64.b64decode(content.encode("ascii"), validate=False)
        except Exception as e:
            raise HTTPError(400, f"Encoding error saving file: {e}") from e

    async def _put(self, path: str, type_: str, data: bytes) -> Record:
        current = await self.run(self.table.head, path)
        if current is not None and current.type == "directory":
            raise HTTPError(400, f"{path} is a directory")
        kind = keys.content_type(path)
        return await self.run(self.table.put, keys.head_key(path), path, kind, data, current)

    async def _save_chunk(self, model: dict[str, Any], path: str, chunk: int) -> dict[str, Any]:
        """JupyterLab's chunked upload (``chunk`` = 1, 2, ..., -1): parts are staged in the
        table and the file appears whole, in one head write, on the last one."""
        if model["type"] != "file":
            raise HTTPError(
                400, f'File type "{model["type"]}" is not supported for large file transfer'
            )
        part = self._decode(model["content"], model.get("format"))
        staged = await self.run(self.table.stage_part, path, part, chunk == 1)
        if chunk != -1:
            return {
                "name": keys.split_path(path)[1],
                "path": path,
                "type": "file",
                "format": None,
                "content": None,
                "mimetype": None,
                "created": _EPOCH,
                "last_modified": _EPOCH,
                "size": staged,
                "writable": True,
                "hash": None,
                "hash_algorithm": None,
            }
        data = await self.run(self.table.take_upload, path)
        saved = self._base_model(await self._put(path, "file", data), False)
        self.emit(data={"action": "save", "path": path})  # type: ignore[no-untyped-call]
        return saved

    # -- delete / rename ----------------------------------------------------------------

    async def delete_file(self, path: str) -> None:
        path = path.strip("/")
        record = await self.run(self.table.head, path)
        if record is None:
            raise HTTPError(404, f"File or directory does not exist: {path}")
        if record.type == "directory":
            below = await self.run(self.table.descendants, path)
            if below and not self.always_delete_dir:
                # The file manager's words (clients match them); the way out goes to the log.
                self.log.info(
                    "%s not deleted: the table has no trash; "
                    "DynamoDBContentsManager.always_delete_dir lets a folder go with its contents",
                    path,
                )
                raise HTTPError(400, f"Directory {path} not empty")
            # Listed before the heads go: above the partition depth, the folders below
            # say which partitions hold checkpoints.
            checkpoints = await self.run(self.table.subtree, path, keys.CHECKPOINT)
            # Deepest first: a delete cut short leaves no file without its folder.
            for child in sorted(below, key=_depth, reverse=True):
                await self.run(self.table.delete, child)
            for checkpoint in checkpoints:
                await self.run(self.table.delete, checkpoint)
        await self.run(self.table.delete, record)

    async def copy(self, from_path: str, to_path: str | None = None) -> dict[str, Any]:
        """A copy of a file (inherited) or of a folder with everything in it, named as
        the file manager names it (``data`` -> ``data-Copy1`` next to it, or ``data`` in
        ``to_path`` when free there). Not atomic: a copy cut short leaves part of it."""
        path = from_path.strip("/")
        record = await self.run(self.table.head, path)
        if record is None or record.type != "directory":
            model: dict[str, Any] = await super().copy(from_path, to_path)  # type: ignore[no-untyped-call]
            return model
        below = await self.run(self.table.descendants, path)
        size = sum(child.size for child in below)
        if size > self.max_copy_folder_size_mb * 1024 * 1024:
            raise HTTPError(
                400,
                f"Can't copy folders larger than {self.max_copy_folder_size_mb} MB: "
                f"{path} holds {size} bytes",
            )
        from_dir, from_name = keys.split_path(path)
        to_dir = from_dir if to_path is None else to_path.strip("/")
        if to_dir == path or to_dir.startswith(path + "/"):
            raise HTTPError(400, f"Cannot copy {path} into itself")
        for depth in range(1, len(to_dir.split("/")) + 1 if to_dir else 0):
            folder = "/".join(to_dir.split("/")[:depth])  # made if missing, as copytree does
            found = await self.run(self.table.head, folder)
            if found is None:
                await self.run(self.table.put_directory, folder)
            elif found.type != "directory":
                raise HTTPError(400, f"{folder} is not a directory")
        name = await self.increment_filename(  # type: ignore[no-untyped-call]
            copy_pat.sub(".", from_name), to_dir, insert="-Copy"
        )
        target = posixpath.join(to_dir, name)
        await self.run(self.table.put_directory, target)
        for child in sorted(below, key=_depth):
            copied = target + child.path[len(path) :]
            if child.type == "directory":
                await self.run(self.table.put_directory, copied)
            else:
                data = await self.run(self.table.read_body, child)
                kind = keys.content_type(copied)
                await self.run(self.table.put, keys.head_key(copied), copied, kind, data, None)
        return await self.get(target, content=False)

    async def rename_file(self, old_path: str, new_path: str) -> None:
        old_path, new_path = old_path.strip("/"), new_path.strip("/")
        if old_path == new_path:
            return
        record = await self.run(self.table.head, old_path)
        if record is None:
            raise NotFoundError(old_path)
        if await self.exists(new_path):
            raise HTTPError(409, f"File already exists: {new_path}")
        if not await self.dir_exists(keys.split_path(new_path)[0]):
            raise HTTPError(404, f"No such directory: {keys.split_path(new_path)[0]}")
        moves = [(record, keys.head_key(new_path), new_path)]
        if record.type == "directory":
            if new_path.startswith(old_path + "/"):
                raise HTTPError(400, f"Cannot move {old_path} into itself")
            for child in await self.run(self.table.descendants, old_path):
                moved_path = new_path + child.path[len(old_path) :]
                moves.append((child, keys.head_key(moved_path), moved_path))
            # The checkpoints of the files below move with them (the inherited
            # ``rename`` moves only those of ``old_path`` itself).
            for checkpoint in await self.run(self.table.subtree, old_path, keys.CHECKPOINT):
                moved_path = new_path + checkpoint.path[len(old_path) :]
                moves.append((checkpoint, keys.checkpoint_key(moved_path), moved_path))
        await self.run(self.table.move, moves)
