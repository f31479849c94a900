"""Speed of the DynamoDB contents manager against raw boto3 on the same server (issue 19).

A moto server (``python -m moto.server``) runs on 127.0.0.1 for the run; dummy
credentials, no AWS. Measured, interleaved, fastest and median of N rounds:

- save / load of a 100 KB and a 5 MB notebook (code cells with random PNG outputs)
  through ``DynamoDBContentsManager`` (compress, chunk, conditional head; read head and
  chunks, parse) against the floor: raw boto3 ``put_item`` / ``get_item`` of the same
  compressed bytes cut in the same number of items, no conditions, no parsing;
- a listing of a 1000-entry folder (``get(folder)``: one GetItem and one Query) against a
  raw ``query`` of the same prefix;
- what a collaboration room's poll of a notebook (``get(path, content=False)``, every
  second) reads: the head item's billed read units (4 KB each) and its time, with the
  default ``inline_body_bytes`` against 64 KiB (the limit before it was a trait).

moto is a Python server, far slower than DynamoDB: the ratios matter, not the times.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from nbformat import v4

from reactive_notebook.contents.dynamodb import DynamoDBContentsManager, keys
from reactive_notebook.contents.dynamodb.chunks import split
from tests.contents import moto_server
from tests.contents.test_dynamodb import _big_notebook, _prose_notebook, _stored_bytes

ROUNDS = 5


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


def raw_put(client: Any, table: str, blob: bytes) -> None:
    for i, piece in enumerate(split(blob)):
        client.put_item(
            TableName=table,
            Item={"pk": {"S": "raw"}, "sk": {"S": f"C#{i:06d}"}, "data": {"B": piece}},
        )


def raw_get(client: Any, table: str, count: int) -> bytes:
    keys = [{"pk": {"S": "raw"}, "sk": {"S": f"C#{i:06d}"}} for i in range(count)]
    return b"".join(
        client.get_item(TableName=table, Key=k, ConsistentRead=True)["Item"]["data"]["B"]
        for k in keys
    )


async def main() -> None:
    os.environ.update(moto_server.DUMMY_ENV)
    server = moto_server.start()
    try:
        cm = DynamoDBContentsManager(
            table_name=f"bench-{uuid.uuid4().hex[:8]}",
            endpoint_url=server.endpoint_url,
            create_table=True,
        )
        await cm.get("")
        client = cm.table.client
        table = cm.table_name
        print(f"{'metric':32} {'manager':>10} {'raw boto3':>10} {'ratio':>6}")
        for label, megabytes in (("100 KB notebook", 0.1), ("5 MB notebook", 5.0)):
            nb = _big_notebook(megabytes)
            model = {"type": "notebook", "content": nb}
            await cm.save(model, "n.ipynb")
            blob = zlib.compress(
                (await cm.get("n.ipynb", type="file", format="text"))["content"].encode(), 6
            )
            count = len(split(blob))
            saves, loads, raw_saves, raw_loads = [], [], [], []
            for _ in range(ROUNDS):
                saves.append(await timed(partial(cm.save, model, "n.ipynb")))
                raw_saves.append(
                    await timed(partial(asyncio.to_thread, raw_put, client, table, blob))
                )
                loads.append(await timed(partial(cm.get, "n.ipynb")))
                raw_loads.append(
                    await timed(partial(asyncio.to_thread, raw_get, client, table, count))
                )
            for what, ours, raw in (("save", saves, raw_saves), ("load", loads, raw_loads)):
                m, r = statistics.median(ours), statistics.median(raw)
                print(f"{label + ' ' + what:32} {m * 1000:8.0f}ms {r * 1000:8.0f}ms {m / r:6.2f}")

        await cm.save({"type": "directory"}, "many")
        small = v4.writes(v4.new_notebook(cells=[v4.new_code_cell("1", id="c")])).encode()
        await asyncio.to_thread(
            cm.table.import_new,
            [(f"many/n{i:04d}.ipynb", "notebook", small) for i in range(1000)],
        )

        def raw_query() -> int:
            return len(
                client.query(
                    TableName=table,
                    KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
                    ExpressionAttributeValues={
                        ":pk": {"S": "default"},
                        ":p": {"S": "H#many//"},
                    },
                    ConsistentRead=True,
                )["Items"]
            )

        ours = [await timed(lambda: cm.get("many")) for _ in range(ROUNDS)]
        raw = [await timed(lambda: asyncio.to_thread(raw_query)) for _ in range(ROUNDS)]
        m, r = statistics.median(ours), statistics.median(raw)
        print(f"{'1000-entry listing':32} {m * 1000:8.0f}ms {r * 1000:8.0f}ms {m / r:6.2f}")
        await poll_cost(cm, server.endpoint_url)
    finally:
        server.stop()


async def poll_cost(cm: DynamoDBContentsManager, endpoint_url: str) -> None:
    """A room's poll of a prose notebook (about 40 KiB compressed): the head's read units
    and time, default inline limit against 64 KiB."""
    roomy = DynamoDBContentsManager(
        table_name=cm.table_name, endpoint_url=endpoint_url, inline_body_bytes=65536
    )
    model = {"type": "notebook", "content": _prose_notebook(60)}
    await cm.save(model, "polled.ipynb")
    await roomy.save(model, "polled-inline.ipynb")
    units, times = [], []
    for manager, path in ((cm, "polled.ipynb"), (roomy, "polled-inline.ipynb")):
        item = await asyncio.to_thread(
            cm.table.client.get_item,
            TableName=cm.table_name,
            Key={"pk": {"S": "default"}, "sk": {"S": keys.head_key(path)}},
        )
        units.append(-(-_stored_bytes(item["Item"]) // 4096))
        polls = [await timed(partial(manager.get, path, content=False)) for _ in range(ROUNDS)]
        times.append(statistics.median(polls))
    ratio = units[0] / units[1]
    print(f"{'room poll: head read units':32} {units[0]:10d} {units[1]:10d} {ratio:6.2f}")
    print(
        f"{'room poll: time':32} {times[0] * 1000:8.1f}ms {times[1] * 1000:8.1f}ms "
        f"{times[0] / times[1]:6.2f}"
    )
    print("(room poll rows: the default inline limit against 64 KiB, not raw boto3)")


if __name__ == "__main__":
    asyncio.run(main())
