"""Checkpoints as records of the same table: one per file (id ``"checkpoint"``, like
jupyter_server's file checkpoints), stored under ``K#<path>`` with a body of its own,
so a later save of the file never deletes what the checkpoint holds. No local disk."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from jupyter_server.services.contents.checkpoints import AsyncCheckpoints
from tornado.web import HTTPError

from . import keys
from .table import ConflictError, Record

if TYPE_CHECKING:
    from .manager import DynamoDBContentsManager

CHECKPOINT_ID = "checkpoint"


class DynamoDBCheckpoints(AsyncCheckpoints):
    """Create, list, restore, rename and delete checkpoints in the contents table."""

    @property
    def manager(self) -> DynamoDBContentsManager:
        parent = self.parent
        assert parent is not None, "checkpoints are made by their contents manager"
        return parent  # type: ignore[no-any-return]

    @staticmethod
    def _model(record: Record) -> dict[str, Any]:
        return {"id": CHECKPOINT_ID, "last_modified": record.last_modified_dt()}

    async def _record(self, path: str) -> Record | None:
        manager = self.manager
        return await manager.run(manager.table.get_record, keys.checkpoint_key(path))

    async def create_checkpoint(
        self, contents_mgr: DynamoDBContentsManager, path: str
    ) -> dict[str, Any]:
        table = contents_mgr.table
        path = path.strip("/")
        head = await contents_mgr.run(table.head, path)
        if head is None or head.type == "directory":
            raise HTTPError(404, f"No such file: {path}")
        data = await contents_mgr.run(table.read_body, head)
        current = await self._record(path)
        record = await contents_mgr.run(
            table.put, keys.checkpoint_key(path), path, head.type, data, current
        )
        return self._model(record)

    async def restore_checkpoint(
        self, contents_mgr: DynamoDBContentsManager, checkpoint_id: str, path: str
    ) -> None:
        path = path.strip("/")
        record = await self._existing(checkpoint_id, path)
        data = await contents_mgr.run(contents_mgr.table.read_body, record)
        await contents_mgr._put(path, record.type, data)

    async def _existing(self, checkpoint_id: str, path: str) -> Record:
        record = await self._record(path.strip("/"))
        if record is None or checkpoint_id != CHECKPOINT_ID:
            raise HTTPError(404, f"Checkpoint does not exist: {path}@{checkpoint_id}")
        return record

    async def rename_checkpoint(self, checkpoint_id: str, old_path: str, new_path: str) -> None:
        record = await self._existing(checkpoint_id, old_path)
        new_path = new_path.strip("/")
        table = self.manager.table
        stale = await self._record(new_path)
        if stale is not None:
            await self.manager.run(table.delete, stale)
        moves = [(record, keys.checkpoint_key(new_path), new_path)]
        await self.manager.run(table.move, moves)

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        record = await self._existing(checkpoint_id, path)
        # Replaced meanwhile by a newer checkpoint: that one stays.
        with contextlib.suppress(ConflictError):
            await self.manager.run(self.manager.table.delete, record)

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        record = await self._record(path.strip("/"))
        return [self._model(record)] if record is not None else []
