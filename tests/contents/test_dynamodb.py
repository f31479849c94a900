"""DynamoDBContentsManager on a real moto server: size, atomicity, concurrency, one-query
listings and throttling. (The behaviour it shares with the file store is in
test_contract.py.)"""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import os
import random
import signal
import struct
import time
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

import nbformat
import pytest
from botocore.exceptions import ClientError
from nbformat import v4
from tornado.web import HTTPError
from traitlets import TraitError

from reactive_notebook.contents.dynamodb import DynamoDBContentsManager, keys
from reactive_notebook.contents.dynamodb.chunks import CHUNK_SIZE
from reactive_notebook.contents.dynamodb.retry import StorageBusyError
from reactive_notebook.contents.dynamodb.table import ConflictError, ContentsTable

from ._async import async_test

ITEM_LIMIT = 400 * 1024


def _png(width: int, height: int, seed: int) -> bytes:
    """A real PNG of random RGB pixels (random data: the compressor cannot shrink it)."""
    raw = os.urandom(width * height * 3)
    rows = b"".join(b"\x00" + raw[y * width * 3 : (y + 1) * width * 3] for y in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 0 + seed % 2))
        + chunk(b"IEND", b"")
    )


def _big_notebook(megabytes: float = 5.0) -> Any:
    """A notebook of about ``megabytes`` MB: code cells each with one ~380 KB PNG."""
    nb = v4.new_notebook()
    size = 0
    index = 0
    while size < megabytes * 1_000_000:
        png = base64.b64encode(_png(160, 160 * 5, index)).decode()
        cell = v4.new_code_cell(f"plot({index})", id=f"c{index}", execution_count=index + 1)
        cell.outputs = [v4.new_output("display_data", {"image/png": png, "text/plain": "<Figure>"})]
        nb.cells.append(cell)
        size += len(png)
        index += 1
    return nb


def _without_trust_marks(nb: Any) -> Any:
    for cell in nb.cells:
        cell.metadata.pop("trusted", None)
    return nb


def _count_calls(cm: DynamoDBContentsManager) -> Counter[str]:
    """Count the API calls of the manager's real boto3 client, by operation."""
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    cm.table.client.meta.events.register("before-call.dynamodb.*", count)
    return calls


def _chunk_sizes(table: ContentsTable) -> list[int]:
    response = table.client.query(
        TableName=table.table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :c)",
        ExpressionAttributeValues={":pk": {"S": table.partition}, ":c": {"S": keys.CHUNK}},
    )
    assert "LastEvaluatedKey" not in response or response["Items"]
    sizes = []
    params: dict[str, Any] = {}
    while True:
        for item in response["Items"]:
            sizes.append(len(item["data"]["B"]) + len(item["sk"]["S"]) + len(item["pk"]["S"]))
        if "LastEvaluatedKey" not in response:
            return sizes
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        response = table.client.query(
            TableName=table.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :c)",
            ExpressionAttributeValues={
                ":pk": {"S": table.partition},
                ":c": {"S": keys.CHUNK},
            },
            **params,
        )


@async_test
async def test_a_5_mb_notebook_with_images_round_trips_in_chunks_under_the_item_limit(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    nb = _big_notebook(5.0)
    started = time.perf_counter()
    saved = await cm.save({"type": "notebook", "content": nb}, "big.ipynb")
    saved_in = time.perf_counter() - started
    started = time.perf_counter()
    model = await cm.get("big.ipynb")
    loaded_in = time.perf_counter() - started
    assert _without_trust_marks(model["content"]) == nb
    assert saved["size"] > 5_000_000
    head = await asyncio.to_thread(cm.table.head, "big.ipynb")
    assert head is not None
    assert head.chunks >= 15
    sizes = await asyncio.to_thread(_chunk_sizes, cm.table)
    assert len(sizes) == head.chunks
    assert max(sizes) <= CHUNK_SIZE + 100 < ITEM_LIMIT
    print(f"\n5 MB notebook: save {saved_in:.2f} s, load {loaded_in:.2f} s, {head.chunks} chunks")

    # A second save replaces the body: the old chunks are collected.
    nb.cells = nb.cells[:3]
    await cm.save({"type": "notebook", "content": nb}, "big.ipynb")
    head = await asyncio.to_thread(cm.table.head, "big.ipynb")
    assert head is not None
    assert await asyncio.to_thread(cm.table.count_chunks) == head.chunks


@async_test
async def test_two_saves_from_the_same_base_one_wins_the_other_gets_409_and_nothing_is_lost(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    await cm.save({"type": "file", "format": "text", "content": "base"}, "f.txt")
    table = cm.table
    base = await asyncio.to_thread(table.head, "f.txt")
    assert base is not None
    sk = keys.head_key("f.txt")
    # Bodies bigger than the inline limit: both writers write chunks before the head.
    bodies = [os.urandom(600_000), os.urandom(700_000)]
    outcomes = await asyncio.gather(
        *(asyncio.to_thread(table.put, sk, "f.txt", "file", body, base) for body in bodies),
        return_exceptions=True,
    )
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], ConflictError)
    assert errors[0].status_code == 409
    assert "changed by another save" in str(errors[0].log_message)
    winner = bodies[outcomes.index(next(o for o in outcomes if not isinstance(o, BaseException)))]
    model = await cm.get("f.txt", format="base64")
    assert base64.b64decode(model["content"]) == winner
    head = await asyncio.to_thread(table.head, "f.txt")
    assert head is not None
    assert head.version == base.version + 1
    # The loser's chunks were removed, the base's were collected: only the winner's stay.
    assert await asyncio.to_thread(table.count_chunks) == head.chunks


@async_test
async def test_a_save_against_a_stale_version_is_a_409_through_the_manager(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    await cm.save({"type": "file", "format": "text", "content": "v1"}, "f.txt")
    stale = await asyncio.to_thread(cm.table.head, "f.txt")
    await cm.save({"type": "file", "format": "text", "content": "v2"}, "f.txt")
    with pytest.raises(HTTPError) as error:
        await asyncio.to_thread(cm.table.put, keys.head_key("f.txt"), "f.txt", "file", b"v3", stale)
    assert error.value.status_code == 409
    assert (await cm.get("f.txt"))["content"] == "v2"


@async_test
async def test_a_folder_of_1000_notebooks_lists_in_one_query(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    await cm.save({"type": "directory"}, "many")
    small = nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell("1 + 1", id="c")]))
    entries = [(f"many/n{i:04d}.ipynb", "notebook", small.encode()) for i in range(1000)]
    assert await asyncio.to_thread(cm.table.import_new, entries) == 1000
    await cm.save({"type": "directory"}, "many/sub")
    await cm.save({"type": "notebook", "content": v4.new_notebook()}, "many/sub/deeper.ipynb")
    await cm.save({"type": "notebook", "content": v4.new_notebook()}, "outside.ipynb")
    calls = _count_calls(cm)  # counted from here: the listing alone
    started = time.perf_counter()
    model = await cm.get("many")
    listed_in = time.perf_counter() - started
    names = sorted(entry["name"] for entry in model["content"])
    assert names == [f"n{i:04d}.ipynb" for i in range(1000)] + ["sub"]
    assert calls["Query"] == 1
    assert sum(calls.values()) == 2  # the folder's head (GetItem) and the one Query
    listing_calls = dict(calls)
    calls.clear()
    one = await cm.get("many/n0999.ipynb")
    assert _without_trust_marks(one["content"]) == nbformat.reads(small, as_version=4)
    assert calls["Query"] == 0
    print(f"\n1000-entry listing: {listed_in * 1000:.0f} ms, calls {listing_calls}")


def _throttle(cm: DynamoDBContentsManager, operation: str, times: int) -> Counter[str]:
    """Make the next ``times`` calls of ``operation`` fail as DynamoDB does when throttled:
    a real ClientError raised from botocore's own ``before-call`` event."""
    seen: Counter[str] = Counter()

    def refuse(**_: Any) -> None:
        seen["attempts"] += 1
        if seen["refused"] < times:
            seen["refused"] += 1
            raise ClientError(
                {
                    "Error": {
                        "Code": "ProvisionedThroughputExceededException",
                        "Message": "Rate of requests exceeds the allowed throughput.",
                    }
                },
                operation,
            )

    cm.table.client.meta.events.register(f"before-call.dynamodb.{operation}", refuse)
    return seen


@async_test
async def test_throttled_calls_are_retried_then_succeed(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    await cm.save({"type": "file", "format": "text", "content": "hi"}, "f.txt")
    seen = _throttle(cm, "GetItem", 3)
    assert (await cm.get("f.txt"))["content"] == "hi"
    assert seen["refused"] == 3
    assert seen["attempts"] == 4


@async_test
async def test_calls_throttled_past_the_budget_give_a_503(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    await cm.save({"type": "file", "format": "text", "content": "hi"}, "f.txt")
    seen = _throttle(cm, "GetItem", 1000)
    with pytest.raises(StorageBusyError) as error:
        await cm.get("f.txt")
    assert error.value.status_code == 503
    assert error.value.retry_after >= 1
    assert seen["attempts"] == cm.retry_attempts


@async_test
async def test_a_chunked_upload_is_invisible_until_its_last_chunk(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    await cm.save({"type": "file", "format": "text", "content": "old"}, "u.txt")
    for chunk, text in ((1, "new "), (2, "text "), (-1, "end")):
        if chunk == -1:
            assert (await cm.get("u.txt"))["content"] == "old"
        await cm.save({"type": "file", "format": "text", "chunk": chunk, "content": text}, "u.txt")
    assert (await cm.get("u.txt"))["content"] == "new text end"
    assert await asyncio.to_thread(cm.table.count_chunks) == 0  # staging collected


@async_test
async def test_a_chunked_save_throttled_midway_is_retried_and_complete(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    await cm.get("")  # the table exists before the hook counts
    seen = _throttle(cm, "BatchWriteItem", 2)
    body = os.urandom(1_500_000)
    await cm.save(
        {"type": "file", "format": "base64", "content": base64.b64encode(body).decode()}, "r.bin"
    )
    assert seen["refused"] == 2
    assert base64.b64decode((await cm.get("r.bin"))["content"]) == body


@async_test
async def test_racing_saves_of_two_servers_lose_nothing(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    """Two servers (two managers, one table) save the same file at once, many times:
    every save either lands whole or is refused with a 409; the file ends as one of the
    saves that landed; no chunk is left without a head."""
    first = dynamo_manager
    second = DynamoDBContentsManager(
        table_name=first.table_name,
        endpoint_url=first.endpoint_url,
        retry_base_delay=0.001,
        config=first.config,
    )
    await first.save({"type": "file", "format": "text", "content": "start"}, "race.bin")
    bodies = {f"{i}": os.urandom(300_000 + i) for i in range(12)}
    landed: list[str] = []
    refused: list[int] = []

    async def save(cm: DynamoDBContentsManager, name: str) -> None:
        model = {
            "type": "file",
            "format": "base64",
            "content": base64.b64encode(bodies[name]).decode(),
        }
        try:
            await cm.save(model, "race.bin")
        except HTTPError as error:
            refused.append(error.status_code)
        else:
            landed.append(name)

    await asyncio.gather(*(save(first if int(n) % 2 else second, n) for n in bodies))
    assert landed
    assert set(refused) <= {409}
    assert len(landed) + len(refused) == len(bodies)
    print(f"\nracing saves: {len(landed)} landed, {len(refused)} refused with 409")
    final = base64.b64decode((await second.get("race.bin", format="base64"))["content"])
    assert final in [bodies[name] for name in landed]
    head = await asyncio.to_thread(first.table.head, "race.bin")
    assert head is not None
    assert await asyncio.to_thread(first.table.count_chunks) == head.chunks


@async_test
async def test_a_missing_table_is_a_clear_error_unless_create_table_is_set(
    moto: Any, aws_env: None
) -> None:
    cm = DynamoDBContentsManager(
        table_name=f"absent-{os.urandom(4).hex()}", endpoint_url=moto.endpoint_url
    )
    with pytest.raises(HTTPError) as error:
        await cm.get("")
    assert error.value.status_code == 500
    assert "create_table = True" in error.value.log_message


@async_test
async def test_partitions_keep_owners_apart_in_one_table(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    alice = dynamo_manager
    bob = DynamoDBContentsManager(
        table_name=alice.table_name,
        endpoint_url=alice.endpoint_url,
        partition="bob",
        config=alice.config,
    )
    await alice.save({"type": "file", "format": "text", "content": "a"}, "same.txt")
    await bob.save({"type": "file", "format": "text", "content": "b"}, "same.txt")
    assert (await alice.get("same.txt"))["content"] == "a"
    assert (await bob.get("same.txt"))["content"] == "b"
    await bob.delete("same.txt")
    assert [e["name"] for e in (await bob.get(""))["content"]] == []
    assert [e["name"] for e in (await alice.get(""))["content"]] == ["same.txt"]


def _save_and_hang(table_name: str, endpoint_url: str, body: bytes, acks: Connection) -> None:
    """Child process: save ``body`` over big.bin, reporting each chunk batch written; after
    the second batch it hangs, so the parent can kill it between chunks and head."""

    async def save() -> None:
        cm = DynamoDBContentsManager(table_name=table_name, endpoint_url=endpoint_url)
        batches = 0

        def report(**_: Any) -> None:
            nonlocal batches
            batches += 1
            acks.send(batches)
            if batches > 2:
                time.sleep(3600)

        await cm.get("")
        cm.table.client.meta.events.register("before-call.dynamodb.BatchWriteItem", report)
        model = {"type": "file", "format": "base64", "content": base64.b64encode(body).decode()}
        await cm.save(model, "big.bin")

    asyncio.run(save())


@async_test
async def test_a_save_killed_between_its_chunks_and_its_head_leaves_the_previous_version(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    previous = os.urandom(800_000)
    await cm.save(
        {"type": "file", "format": "base64", "content": base64.b64encode(previous).decode()},
        "big.bin",
    )
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_save_and_hang,
        args=(cm.table_name, cm.endpoint_url, os.urandom(20_000_000), sender),
    )
    child.start()
    sender.close()
    try:
        # Two batches of 25 chunks written, the third under way: kill -9 now.
        while receiver.recv() < 3:
            pass
    finally:
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        receiver.close()
    model = await cm.get("big.bin", format="base64")
    assert base64.b64decode(model["content"]) == previous
    head = await asyncio.to_thread(cm.table.head, "big.bin")
    assert head is not None
    assert head.version == 1
    # The killed save's chunks stay behind, unreferenced, until the collector runs; it
    # spares chunks younger than its min_age (they may be a save in progress).
    assert await asyncio.to_thread(cm.table.count_chunks) == head.chunks + 50
    assert await asyncio.to_thread(cm.table.collect_orphans, 60.0) == 0
    assert await asyncio.to_thread(cm.table.collect_orphans, -1.0) == 50
    assert await asyncio.to_thread(cm.table.count_chunks) == head.chunks
    assert base64.b64decode((await cm.get("big.bin", format="base64"))["content"]) == previous


@async_test
async def test_the_collector_spares_every_referenced_chunk(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    big = os.urandom(700_000)
    encoded = base64.b64encode(big).decode()
    await cm.save({"type": "file", "format": "base64", "content": encoded}, "a.bin")
    await cm.create_checkpoint("a.bin")
    await cm.save({"type": "file", "format": "base64", "content": encoded[:400_000]}, "a.bin")
    part = {"type": "file", "format": "base64", "chunk": 1, "content": encoded}
    await cm.save(part, "upload.bin")  # an upload in progress
    before = await asyncio.to_thread(cm.table.count_chunks)
    assert before > 3
    assert await asyncio.to_thread(cm.table.collect_orphans, -1.0) == 0
    assert await asyncio.to_thread(cm.table.count_chunks) == before
    await cm.save({**part, "chunk": -1, "content": ""}, "upload.bin")
    assert base64.b64decode((await cm.get("upload.bin"))["content"]) == big
    await cm.restore_checkpoint("checkpoint", "a.bin")
    assert base64.b64decode((await cm.get("a.bin"))["content"]) == big


@async_test
async def test_a_reader_holding_a_replaced_head_reads_the_new_body(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    """A reader fetched the head, then a save replaced the body and deleted the old
    chunks before the reader fetched them: the reader re-reads the head, never fails."""
    cm = dynamo_manager
    old, new = os.urandom(500_000), os.urandom(500_000)
    for body in (old, new):
        await cm.save(
            {"type": "file", "format": "base64", "content": base64.b64encode(body).decode()},
            "f.bin",
        )
        if body is old:
            stale = await asyncio.to_thread(cm.table.head, "f.bin")
    assert stale is not None
    assert stale.chunks > 1
    assert await asyncio.to_thread(cm.table.read_body, stale) == new


@async_test
async def test_a_folder_of_60_entries_renames_whole_across_transactions(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    cm = dynamo_manager
    await cm.save({"type": "directory"}, "src")
    await cm.save({"type": "directory"}, "src/inner")
    entries = [(f"src/inner/f{i:02d}.txt", "file", f"body {i}".encode()) for i in range(60)]
    await asyncio.to_thread(cm.table.import_new, entries)
    calls = _count_calls(cm)
    await cm.rename("src", "dst")
    assert calls["TransactWriteItems"] == 3  # 62 moves, 25 per transaction
    assert not await cm.dir_exists("src")
    listing = (await cm.get("dst/inner"))["content"]
    assert sorted(e["name"] for e in listing) == [f"f{i:02d}.txt" for i in range(60)]
    assert (await cm.get("dst/inner/f59.txt"))["content"] == "body 59"


@async_test
async def test_last_modified_grows_at_every_save_even_after_a_server_with_a_fast_clock(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    """A collaboration room reloads an item changed around it only when its
    ``last_modified`` grows: a save after a replica whose clock is ahead must not go back."""
    cm = dynamo_manager
    nb = v4.new_notebook(cells=[v4.new_code_cell("a = 1", id="c1")])
    await cm.save({"type": "notebook", "content": nb}, "n.ipynb")
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    # What a save by another server with its clock one hour ahead leaves in the head.
    await cm.run(
        lambda: cm.table.client.update_item(
            TableName=cm.table_name,
            Key={"pk": {"S": cm.partition}, "sk": {"S": keys.head_key("n.ipynb")}},
            UpdateExpression="SET last_modified = :t",
            ExpressionAttributeValues={":t": {"S": ahead}},
        )
    )
    seen = (await cm.get("n.ipynb", content=False))["last_modified"]
    assert seen == datetime.fromisoformat(ahead)
    nb.cells[0].source = "a = 2"
    saved = await cm.save({"type": "notebook", "content": nb}, "n.ipynb")
    assert saved["last_modified"] > seen
    assert (await cm.get("n.ipynb", content=False))["last_modified"] == saved["last_modified"]


def _stored_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        (kind, data), *_ = value.items()
        total += len(data) if kind == "B" else len(str(data).encode())
    return total


def _prose_notebook(cells: int) -> Any:
    """A notebook that compresses to tens of KiB (varied text, no images)."""
    rng = random.Random(7)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6)) for _ in range(5000)
    ]
    nb = v4.new_notebook()
    for i in range(cells):
        nb.cells.append(
            v4.new_markdown_cell(" ".join(rng.choice(words) for _ in range(120)), id=f"m{i}")
        )
    return nb


@async_test
async def test_the_head_a_room_polls_stays_within_one_read_unit(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    """A room polls a notebook's head every second and a listing reads every head of a
    folder; DynamoDB charges a read by the whole item (4 KB a unit, projection or not).
    A body over ``inline_body_bytes`` goes to chunk items, so the head stays small."""
    cm = dynamo_manager
    nb = _prose_notebook(60)
    await cm.save({"type": "notebook", "content": nb}, "prose.ipynb")
    await cm.save({"type": "notebook", "content": v4.new_notebook()}, "empty.ipynb")

    def raw_head(path: str) -> dict[str, Any]:
        return cm.table.client.get_item(
            TableName=cm.table.table_name,
            Key={"pk": {"S": cm.table.pk_of(path)}, "sk": {"S": keys.head_key(path)}},
        )["Item"]

    prose = await asyncio.to_thread(raw_head, "prose.ipynb")
    assert "inline" not in prose
    assert int(prose["chunks"]["N"]) >= 1
    assert _stored_bytes(prose) <= 4096
    empty = await asyncio.to_thread(raw_head, "empty.ipynb")
    assert "inline" in empty  # a small body: one item to write and read
    assert _without_trust_marks((await cm.get("prose.ipynb"))["content"]) == nb

    # Kept inline under a larger limit, and still read once the limit is lowered again.
    roomy = DynamoDBContentsManager(
        table_name=cm.table_name,
        endpoint_url=cm.endpoint_url,
        region_name=cm.region_name,
        inline_body_bytes=65536,
        config=cm.config,
    )
    await roomy.save({"type": "notebook", "content": nb}, "roomy.ipynb")
    assert "inline" in await asyncio.to_thread(raw_head, "roomy.ipynb")
    assert _without_trust_marks((await cm.get("roomy.ipynb"))["content"]) == nb


def test_inline_body_bytes_is_bounded_by_what_a_folder_move_can_carry() -> None:
    with pytest.raises(TraitError, match="between 0 and 65536"):
        DynamoDBContentsManager(inline_body_bytes=65537)
    with pytest.raises(TraitError):
        DynamoDBContentsManager(inline_body_bytes=-1)
