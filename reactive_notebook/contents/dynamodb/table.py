"""The table layer: heads and chunked bodies in one DynamoDB table, synchronous boto3.

The contents manager calls every method here in a worker thread (``asyncio.to_thread``),
never on the event loop. Each DynamoDB call goes through :func:`retry.with_retries`.

A save (:meth:`ContentsTable.put`):

1. writes the new body's chunks under a fresh body id (nobody points at them yet);
2. writes the head LAST, with a condition on the version it replaces: the new version is
   visible at once, whole, or not at all. A lost race (condition failed) deletes the
   chunks of step 1 and raises :class:`ConflictError` (409);
3. deletes the chunks of the replaced body.

A reader fetches the head, then its chunks; if a concurrent save deleted them in
between (step 3), it reads the head again.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from tornado.web import HTTPError

from . import chunks, keys
from .maintenance import TableMaintenance
from .records import ConflictError, NotFoundError, Record, _now, _now_after, make_client
from .retry import error_code, with_retries

__all__ = ["ConflictError", "ContentsTable", "NotFoundError", "Record", "make_client"]

T = TypeVar("T")
Item = dict[str, Any]

#: Attributes a head copies from record to record (rename, checkpoint).
_BATCH_WRITE_MAX = 25
_BATCH_GET_MAX = 50  # 50 x 256 KiB stays under BatchGetItem's 16 MB response
_TRANSACT_MAX = 100


class ContentsTable(TableMaintenance):
    """Files, notebooks and directories of one partition (owner) of one table."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        partition: str = "default",
        *,
        partition_depth: int = 0,
        retry_attempts: int = 6,
        retry_base_delay: float = 0.05,
        chunk_size: int = chunks.CHUNK_SIZE,
        inline_max: int = chunks.INLINE_MAX,
    ) -> None:
        self.client = client
        self.table_name = table_name
        self.partition = partition
        self.partition_depth = partition_depth
        self.retry_attempts = retry_attempts
        self.retry_base_delay = retry_base_delay
        self.chunk_size = chunk_size
        self.inline_max = inline_max

    # -- plumbing --------------------------------------------------------------------

    def _call(self, operation: str, **params: Any) -> Any:
        method: Callable[..., Any] = getattr(self.client, operation)
        return with_retries(
            operation,
            lambda: method(**params),
            attempts=self.retry_attempts,
            base_delay=self.retry_base_delay,
        )

    def pk_of(self, path: str) -> str:
        """The partition key of the items of ``path`` (see :func:`keys.partition_of`)."""
        return keys.partition_of(self.partition, self.partition_depth, path)

    def _key(self, sk: str, pk: str | None = None) -> Item:
        """The key of ``sk``; its pk comes from the path the sort key names (a chunk's
        sort key names none: its caller passes the pk of the file it belongs to)."""
        if pk is None:
            pk = self.pk_of(keys.path_of(sk))
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    def ensure_table(self, create: bool) -> None:
        """Check the table exists; create it (on-demand billing) when ``create``."""
        try:
            self._call("describe_table", TableName=self.table_name)
            return
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException" or not create:
                raise
        self._call(
            "create_table",
            TableName=self.table_name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        self.client.get_waiter("table_exists").wait(TableName=self.table_name)

    # -- records ---------------------------------------------------------------------

    @staticmethod
    def _decode(item: Item) -> Record:
        return Record(
            sk=item["sk"]["S"],
            path=item["path"]["S"],
            type=item["type"]["S"],
            version=int(item["version"]["N"]),
            size=int(item["size"]["N"]),
            hash=item["hash"]["S"],
            created=item["created"]["S"],
            last_modified=item["last_modified"]["S"],
            body_id=item.get("body_id", {}).get("S", ""),
            chunks=int(item.get("chunks", {}).get("N", "0")),
            inline=item["inline"]["B"] if "inline" in item else None,
        )

    def _encode(self, record: Record) -> Item:
        item: Item = {
            **self._key(record.sk),
            "path": {"S": record.path},
            "type": {"S": record.type},
            "version": {"N": str(record.version)},
            "size": {"N": str(record.size)},
            "hash": {"S": record.hash},
            "created": {"S": record.created},
            "last_modified": {"S": record.last_modified},
            "chunks": {"N": str(record.chunks)},
        }
        if record.body_id:
            item["body_id"] = {"S": record.body_id}
        if record.inline is not None:
            item["inline"] = {"B": record.inline}
        return item

    def get_record(self, sk: str) -> Record | None:
        response = self._call(
            "get_item", TableName=self.table_name, Key=self._key(sk), ConsistentRead=True
        )
        item = response.get("Item")
        return self._decode(item) if item else None

    def head(self, path: str) -> Record | None:
        return self.get_record(keys.head_key(path)) if path.strip("/") else None

    def query_prefix(
        self, prefix: str, full: bool = False, pk: str | None = None
    ) -> Iterator[Record]:
        """Every head whose sort key starts with ``prefix`` in partition ``pk`` (default:
        the server's own): one ``Query`` per 1 MB page.
        Without ``full``, the body fields (inline body, chunk ids) are left on the server."""
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": self.partition if pk is None else pk},
                ":prefix": {"S": prefix},
            },
            # The listing needs no body: inline bodies stay on the server.
            "ProjectionExpression": "sk, #p, #t, version, #s, #h, created, last_modified",
            "ExpressionAttributeNames": {
                "#p": "path",
                "#t": "type",
                "#s": "size",
                "#h": "hash",
            },
            "ConsistentRead": True,
        }
        if full:
            del params["ProjectionExpression"], params["ExpressionAttributeNames"]
        while True:
            response = self._call("query", **params)
            for item in response.get("Items", []):
                yield self._decode(item)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def query_records(self, prefix: str, pk: str | None = None) -> list[Record]:
        """Every record (with its body fields) whose sort key starts with ``prefix``."""
        return list(self.query_prefix(prefix, full=True, pk=pk))

    def children(self, folder: str) -> list[Record]:
        """The direct entries of ``folder``: one ``Query`` (they share one pk)."""
        pk = keys.children_partition(self.partition, self.partition_depth, folder)
        return list(self.query_prefix(keys.children_prefix(folder), pk=pk))

    def descendants(self, folder: str) -> list[Record]:
        """Every record below ``folder``, with its body fields (for a move)."""
        return self.subtree(folder, keys.HEAD)

    def subtree(self, folder: str, kind: str) -> list[Record]:
        """Every head (``kind`` ``keys.HEAD``) or checkpoint (``keys.CHECKPOINT``) below
        the non-root ``folder``, with body fields. Below the partition depth it is one
        partition; above it, one ``Query`` in the folder's own partition, then one per
        folder at the partition depth below it (each holds its whole subtree)."""
        folder = folder.strip("/")
        prefix = f"{kind}{folder}/"
        depth = self.partition_depth
        if depth <= 0 or folder.count("/") + 1 >= depth:
            return self.query_records(
                prefix, keys.children_partition(self.partition, depth, folder)
            )
        heads = prefix if kind == keys.HEAD else keys.subtree_prefix(folder)
        found = [] if kind == keys.HEAD else self.query_records(prefix)
        for record in self.query_records(heads):
            if kind == keys.HEAD:
                found.append(record)
            if record.type == "directory" and record.path.count("/") + 1 == depth:
                sub = f"{kind}{record.path}/"
                found.extend(self.query_records(sub, self.pk_of(record.path + "/x")))
        return found

    # -- bodies ----------------------------------------------------------------------

    def _write_chunks(self, body_id: str, pieces: list[bytes], pk: str) -> None:
        written = str(int(time.time()))
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        **self._key(keys.chunk_key(body_id, i), pk),
                        "data": {"B": p},
                        # When it was written: the collector spares young chunks.
                        "written": {"N": written},
                    }
                }
            }
            for i, p in enumerate(pieces)
        ]
        self._batch_write(requests)

    def _batch_write(self, requests: list[Item]) -> None:
        for start in range(0, len(requests), _BATCH_WRITE_MAX):
            pending = requests[start : start + _BATCH_WRITE_MAX]
            while pending:
                response = self._call("batch_write_item", RequestItems={self.table_name: pending})
                pending = response.get("UnprocessedItems", {}).get(self.table_name, [])

    def delete_chunks(self, body_id: str, count: int, pk: str) -> None:
        if not body_id or not count:
            return
        self._batch_write(
            [
                {"DeleteRequest": {"Key": self._key(keys.chunk_key(body_id, i), pk)}}
                for i in range(count)
            ]
        )

    def _read_chunks(self, record: Record, pk: str | None = None) -> bytes | None:
        """The record's compressed body, or ``None`` if a chunk is gone (replaced).
        The chunks are in the pk of the record's path unless ``pk`` is given."""
        pk = self.pk_of(record.path) if pk is None else pk
        wanted = [keys.chunk_key(record.body_id, i) for i in range(record.chunks)]
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), _BATCH_GET_MAX):
            pending: list[Item] = [
                self._key(sk, pk) for sk in wanted[start : start + _BATCH_GET_MAX]
            ]
            while pending:
                response = self._call(
                    "batch_get_item",
                    RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": True}},
                )
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[item["sk"]["S"]] = item["data"]["B"]
                unprocessed = response.get("UnprocessedKeys", {}).get(self.table_name)
                pending = unprocessed["Keys"] if unprocessed else []
        if len(found) != len(wanted):
            return None
        return b"".join(found[sk] for sk in wanted)

    def read_body(self, record: Record) -> bytes:
        """The bytes of ``record``; re-reads the head if a save replaced it meanwhile."""
        for _ in range(5):
            if record.inline is not None:
                return chunks.decompress(record.inline)
            blob = self._read_chunks(record)
            if blob is not None:
                return chunks.decompress(blob)
            fresh = self.get_record(record.sk)
            if fresh is None:
                raise NotFoundError(record.path)
            record = fresh
        raise HTTPError(503, f"{record.path} changes too fast to be read; try again")

    # -- writes ----------------------------------------------------------------------

    def _condition(self, expected: Record | None) -> dict[str, Any]:
        if expected is None:
            return {"ConditionExpression": "attribute_not_exists(sk)"}
        return {
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(expected.version)}},
        }

    def put(
        self,
        sk: str,
        path: str,
        type_: str,
        data: bytes,
        expected: Record | None,
    ) -> Record:
        """Write ``data`` as the new body of ``sk``, replacing ``expected`` (``None``: the
        item must not exist). Raises :class:`ConflictError` if ``expected`` is stale."""
        blob = chunks.compress(data)
        now = _now_after(expected.last_modified if expected else None)
        record = Record(
            sk=sk,
            path=path,
            type=type_,
            version=(expected.version + 1) if expected else 1,
            size=len(data),
            hash=hashlib.sha256(data).hexdigest(),
            created=expected.created if expected else now,
            last_modified=now,
        )
        if len(blob) <= self.inline_max:
            record.inline = blob
        else:
            pieces = chunks.split(blob, self.chunk_size)
            record.body_id = uuid.uuid4().hex
            record.chunks = len(pieces)
            self._write_chunks(record.body_id, pieces, self.pk_of(path))
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=self._encode(record),
                **self._condition(expected),
            )
        except ClientError as error:
            self.delete_chunks(record.body_id, record.chunks, self.pk_of(path))
            if error_code(error) == "ConditionalCheckFailedException":
                raise ConflictError(path, "this save was not applied") from error
            raise
        if expected is not None:
            self.delete_chunks(expected.body_id, expected.chunks, self.pk_of(expected.path))
        return record

    def import_new(self, entries: list[tuple[str, str, bytes]]) -> int:
        """Bulk-write new ``(path, type, data)`` entries, 25 per ``BatchWriteItem``; for
        filling an empty tree (a migration), since a batch write takes no condition: an
        existing entry at the same path would be overwritten (and its chunks orphaned).
        Entries too big to be inline go through :meth:`put` (conditional) one by one.
        Returns the number of entries written."""
        now = _now()
        requests: list[Item] = []
        for path, type_, data in entries:
            blob = chunks.compress(data)
            if len(blob) > self.inline_max:
                self.put(keys.head_key(path), path, type_, data, None)
                continue
            record = Record(
                sk=keys.head_key(path),
                path=path,
                type=type_,
                version=1,
                size=len(data),
                hash=hashlib.sha256(data).hexdigest(),
                created=now,
                last_modified=now,
                inline=blob,
            )
            requests.append({"PutRequest": {"Item": self._encode(record)}})
        self._batch_write(requests)
        return len(entries)

    def put_directory(self, path: str) -> Record:
        """Create the directory ``path`` (nothing happens if it exists)."""
        now = _now()
        record = Record(
            sk=keys.head_key(path),
            path=path,
            type="directory",
            version=1,
            size=0,
            hash="",
            created=now,
            last_modified=now,
        )
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item=self._encode(record),
                ConditionExpression="attribute_not_exists(sk)",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            existing = self.head(path)
            if existing is None or existing.type != "directory":
                raise ConflictError(path, "it is not a directory") from error
            return existing
        return record

    def delete(self, record: Record) -> None:
        """Delete ``record`` if it is still at its version, then its chunks."""
        try:
            self._call(
                "delete_item",
                TableName=self.table_name,
                Key=self._key(record.sk),
                **self._condition(record),
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise ConflictError(record.path, "it was not deleted") from error
            raise
        self.delete_chunks(record.body_id, record.chunks, self.pk_of(record.path))

    def move(self, moves: list[tuple[Record, str, str]]) -> None:
        """Move records to new (sort key, path) pairs, keeping their bodies: each batch of
        up to 25 moves is one transaction (put new if absent + delete old if unchanged).
        A larger folder moves in several transactions: not all-or-nothing as a whole.

        A transaction may span partitions. A chunked body whose record changes partition
        (``partition_depth``) is copied into the new partition first, under the same body
        id; the old chunks are deleted once the transaction commits (the copies, if not)."""
        # 25 moves = 50 items: inside the 100-item cap, and with inline bodies of at most
        # chunks.INLINE_LIMIT (64 KiB) each, far inside the 4 MB a transaction may carry.
        per_transaction = min(_TRANSACT_MAX // 2, 25)
        for start in range(0, len(moves), per_transaction):
            items: list[Item] = []
            batch = moves[start : start + per_transaction]
            crossing = [
                (record, self.pk_of(record.path), self.pk_of(new_path))
                for record, _, new_path in batch
                if record.chunks and self.pk_of(record.path) != self.pk_of(new_path)
            ]
            copied: dict[str, int] = {}  # body id -> chunks written in the new partition
            for record, old_pk, new_pk in crossing:
                blob = self._read_chunks(record, old_pk)
                if blob is None:
                    raise ConflictError(record.path, "the rename was not applied")
                pieces = chunks.split(blob, self.chunk_size)
                self._write_chunks(record.body_id, pieces, new_pk)
                copied[record.body_id] = len(pieces)
            for record, new_sk, new_path in batch:
                moved = Record(**{**record.__dict__, "sk": new_sk, "path": new_path})
                if moved.type != "directory":
                    moved.type = keys.content_type(new_path)
                moved.chunks = copied.get(record.body_id, moved.chunks)
                items.append(
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": self._encode(moved),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    }
                )
                items.append(
                    {
                        "Delete": {
                            "TableName": self.table_name,
                            "Key": self._key(record.sk),
                            **self._condition(record),
                        }
                    }
                )
            try:
                self._call("transact_write_items", TransactItems=items)
            except ClientError as error:
                for record, _, new_pk in crossing:
                    self.delete_chunks(record.body_id, copied[record.body_id], new_pk)
                if error_code(error) == "TransactionCanceledException":
                    raise ConflictError(
                        moves[start][0].path, "the rename was not applied"
                    ) from error
                raise
            for record, old_pk, _ in crossing:
                self.delete_chunks(record.body_id, record.chunks, old_pk)

    # -- chunked uploads ---------------------------------------------------------------

    def stage_part(self, path: str, data: bytes, first: bool) -> int:
        """Stage one part of a chunked upload of ``path``; the first part starts over.
        Returns the bytes staged so far. Each part is a body of its own (compressed,
        chunked) named ``<upload id>-<n>``; the upload item lists their chunk counts."""
        sk = keys.upload_key(path)
        if first:
            self.drop_upload(path)
            upload_id = uuid.uuid4().hex
            self._call(
                "put_item",
                TableName=self.table_name,
                Item={
                    **self._key(sk),
                    "upload_id": {"S": upload_id},
                    "parts": {"L": []},
                    "size": {"N": "0"},
                },
            )
        item = self._call(
            "get_item", TableName=self.table_name, Key=self._key(sk), ConsistentRead=True
        ).get("Item")
        if item is None:
            raise HTTPError(400, f"Upload of {path} was not started (no chunk 1)")
        upload_id = item["upload_id"]["S"]
        number = len(item["parts"]["L"])
        pieces = chunks.split(chunks.compress(data), self.chunk_size)
        self._write_chunks(f"{upload_id}-{number}", pieces, self.pk_of(path))
        response = self._call(
            "update_item",
            TableName=self.table_name,
            Key=self._key(sk),
            UpdateExpression="SET parts = list_append(parts, :p), #s = #s + :n",
            ConditionExpression="upload_id = :u",
            ExpressionAttributeNames={"#s": "size"},
            ExpressionAttributeValues={
                ":p": {"L": [{"N": str(len(pieces))}]},
                ":n": {"N": str(len(data))},
                ":u": {"S": upload_id},
            },
            ReturnValues="ALL_NEW",
        )
        return int(response["Attributes"]["size"]["N"])

    def _upload_parts(self, path: str) -> tuple[str, list[int]] | None:
        item = self._call(
            "get_item",
            TableName=self.table_name,
            Key=self._key(keys.upload_key(path)),
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        return item["upload_id"]["S"], [int(p["N"]) for p in item["parts"]["L"]]

    def take_upload(self, path: str) -> bytes:
        """The whole uploaded file (all parts joined); the staging items are deleted."""
        staged = self._upload_parts(path)
        if staged is None:
            raise HTTPError(400, f"Upload of {path} was not started (no chunk 1)")
        upload_id, parts = staged
        data = []
        for number, count in enumerate(parts):
            part = Record("", path, "file", 0, 0, "", "", "", f"{upload_id}-{number}", count)
            blob = self._read_chunks(part)
            if blob is None:
                raise ConflictError(path, "another upload of it started meanwhile")
            data.append(chunks.decompress(blob))
        self.drop_upload(path)
        return b"".join(data)

    def drop_upload(self, path: str) -> None:
        staged = self._upload_parts(path)
        if staged is None:
            return
        upload_id, parts = staged
        for number, count in enumerate(parts):
            self.delete_chunks(f"{upload_id}-{number}", count, self.pk_of(path))
        self._call("delete_item", TableName=self.table_name, Key=self._key(keys.upload_key(path)))
