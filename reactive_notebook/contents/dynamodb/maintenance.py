"""Maintenance of a contents table: the chunks nothing refers to any more, collected.

A mixin of :class:`~.table.ContentsTable`, which supplies the plumbing declared here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from . import keys

Item = dict[str, Any]


class TableMaintenance:
    """Whole-server walks: not on a request's path (``jupyter reactive-notebook
    collect-orphans``, run by an operator, and the bench)."""

    table_name: str
    partition: str
    partition_depth: int

    def _call(self, operation: str, **params: Any) -> Any:
        raise NotImplementedError

    def _key(self, sk: str, pk: str | None = None) -> Item:
        raise NotImplementedError

    def _batch_write(self, requests: list[Item]) -> None:
        raise NotImplementedError

    def collect_orphans(self, min_age: float = 3600.0, *, dry_run: bool = False) -> int:
        """Delete chunks no head, checkpoint or upload refers to, written more than
        ``min_age`` seconds ago: what a save killed between its chunks and its head (or a
        crash before the old chunks were deleted) left behind. Young chunks may belong
        to a save in progress, so they stay. Returns how many were deleted (with
        ``dry_run``: how many would be; nothing is deleted).

        Covers every partition of the server: with ``partition_depth`` it is a ``Scan``
        of the whole table filtered to them (a maintenance call, not a request path)."""
        referenced: set[tuple[str, str]] = set()
        uploads: set[tuple[str, str]] = set()
        for prefix in (keys.HEAD, keys.CHECKPOINT):
            for item in self._items(prefix, "pk, body_id"):
                if "body_id" in item:
                    referenced.add((item["pk"]["S"], item["body_id"]["S"]))
        for item in self._items(keys.UPLOAD, "pk, upload_id"):
            uploads.add((item["pk"]["S"], item["upload_id"]["S"]))
        cutoff = time.time() - min_age
        stale = []
        for item in self._items(keys.CHUNK, "pk, sk, written"):
            pk = item["pk"]["S"]
            body_id = item["sk"]["S"][len(keys.CHUNK) :].rsplit("#", 1)[0]
            if (pk, body_id) in referenced or (pk, body_id.split("-")[0]) in uploads:
                continue
            if int(item.get("written", {}).get("N", "0")) > cutoff:
                continue
            stale.append({"DeleteRequest": {"Key": self._key(item["sk"]["S"], pk)}})
        if not dry_run:
            self._batch_write(stale)
        return len(stale)

    def _items(self, prefix: str, projection: str) -> Iterator[Item]:
        """Every item of the server whose sort key starts with ``prefix``: a ``Query`` of
        the one partition, or (``partition_depth`` > 0) a filtered ``Scan`` of the table
        for the partition and every ``<partition>/...`` one."""
        names = {"#pk": "pk", "#sk": "sk"}
        values: dict[str, Any] = {":pk": {"S": self.partition}, ":prefix": {"S": prefix}}
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "ProjectionExpression": ", ".join(
                f"#a{i}" for i, _ in enumerate(projection.split(", "))
            ),
            "ExpressionAttributeNames": {
                **names,
                **{f"#a{i}": a for i, a in enumerate(projection.split(", "))},
            },
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        if self.partition_depth <= 0:
            operation = "query"
            params["KeyConditionExpression"] = "#pk = :pk AND begins_with(#sk, :prefix)"
        else:
            operation = "scan"
            values[":below"] = {"S": self.partition + "/"}
            params["FilterExpression"] = (
                "(#pk = :pk OR begins_with(#pk, :below)) AND begins_with(#sk, :prefix)"
            )
        while True:
            response = self._call(operation, **params)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def count_chunks(self) -> int:
        """How many chunk items the server's partitions hold (for tests and the bench)."""
        return sum(1 for _ in self._items(keys.CHUNK, "sk"))
