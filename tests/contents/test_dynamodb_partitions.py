"""``partition_depth``: each top-level folder's tree (one user's, in the multi-user mode)
in a DynamoDB partition of its own, read back from the raw items of a real moto table."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nbformat import v4

from reactive_notebook.contents.dynamodb import DynamoDBContentsManager, keys

from ._async import async_test
from .test_dynamodb import _big_notebook, _count_calls


@pytest.fixture
def cm(dynamo_manager: DynamoDBContentsManager) -> DynamoDBContentsManager:
    dynamo_manager.partition_depth = 1
    return dynamo_manager


def _raw_items(cm: DynamoDBContentsManager) -> list[dict[str, Any]]:
    """Every item of the table, as the boto3 client reads it."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": cm.table_name, "ConsistentRead": True}
    while True:
        response = cm.table.client.scan(**params)
        items.extend(response["Items"])
        if "LastEvaluatedKey" not in response:
            return items
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _pk_by_sk(cm: DynamoDBContentsManager) -> dict[str, str]:
    return {item["sk"]["S"]: item["pk"]["S"] for item in _raw_items(cm)}


def _pks_of_kind(cm: DynamoDBContentsManager, kind: str) -> list[str]:
    return sorted(i["pk"]["S"] for i in _raw_items(cm) if i["sk"]["S"].startswith(kind))


async def _users(cm: DynamoDBContentsManager) -> None:
    for user in ("alice", "bob"):
        await cm.save({"type": "directory"}, user)
        await cm.save({"type": "directory"}, f"{user}/sub")
        nb = v4.new_notebook(cells=[v4.new_code_cell(f"who = {user!r}", id="c")])
        await cm.save({"type": "notebook", "content": nb}, f"{user}/n.ipynb")
        await cm.save({"type": "file", "format": "text", "content": user}, f"{user}/sub/f.txt")
    await cm.save({"type": "file", "format": "text", "content": "top"}, "top.txt")


def _source(model: dict[str, Any]) -> str:
    return str(model["content"].cells[0].source)


@async_test
async def test_each_users_tree_is_a_partition_of_its_own(cm: DynamoDBContentsManager) -> None:
    await _users(cm)
    pks = await asyncio.to_thread(_pk_by_sk, cm)
    assert pks[keys.head_key("alice")] == "default"  # a top-level entry: the server's own
    assert pks[keys.head_key("top.txt")] == "default"
    assert pks[keys.head_key("alice/n.ipynb")] == "default/alice"
    assert pks[keys.head_key("alice/sub")] == "default/alice"
    assert pks[keys.head_key("alice/sub/f.txt")] == "default/alice"
    assert pks[keys.head_key("bob/sub/f.txt")] == "default/bob"
    assert (await cm.get("bob/n.ipynb"))["content"].cells[0].source == "who = 'bob'"

    calls = _count_calls(cm)
    root = await cm.get("")
    assert sorted(e["name"] for e in root["content"]) == ["alice", "bob", "top.txt"]
    assert calls["Query"] == 1
    calls.clear()
    alice = await cm.get("alice")
    assert sorted(e["name"] for e in alice["content"]) == ["n.ipynb", "sub"]
    assert calls["Query"] == 1
    assert sum(calls.values()) == 2  # the folder's head and the one Query
    calls.clear()
    deeper = await cm.get("alice/sub")
    assert [e["name"] for e in deeper["content"]] == ["f.txt"]
    assert calls["Query"] == 1


@async_test
async def test_off_by_default_everything_is_in_one_partition(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    await _users(dynamo_manager)
    pks = await asyncio.to_thread(_pk_by_sk, dynamo_manager)
    assert set(pks.values()) == {"default"}


@async_test
async def test_rename_within_and_across_users(cm: DynamoDBContentsManager) -> None:
    await _users(cm)
    await cm.rename("alice/n.ipynb", "alice/sub/m.ipynb")
    assert (await asyncio.to_thread(_pk_by_sk, cm))[keys.head_key("alice/sub/m.ipynb")] == (
        "default/alice"
    )
    await cm.rename("alice/sub/m.ipynb", "bob/from-alice.ipynb")
    assert _source(await cm.get("bob/from-alice.ipynb")) == "who = 'alice'"
    assert (await asyncio.to_thread(_pk_by_sk, cm))[keys.head_key("bob/from-alice.ipynb")] == (
        "default/bob"
    )
    await cm.rename("bob/from-alice.ipynb", "back.ipynb")  # to the top level
    assert _source(await cm.get("back.ipynb")) == "who = 'alice'"
    assert (await asyncio.to_thread(_pk_by_sk, cm))[keys.head_key("back.ipynb")] == "default"


@async_test
async def test_renaming_a_user_folder_moves_the_tree_to_its_new_partition(
    cm: DynamoDBContentsManager,
) -> None:
    await _users(cm)
    await cm.save({"type": "notebook", "content": _big_notebook(0.4)}, "alice/sub/big.ipynb")
    await cm.create_checkpoint("alice/n.ipynb")
    big = await asyncio.to_thread(cm.table.head, "alice/sub/big.ipynb")
    assert big is not None
    assert big.chunks > 0
    assert await asyncio.to_thread(_pks_of_kind, cm, keys.CHUNK) == ["default/alice"] * big.chunks

    await cm.rename("alice", "carol")
    pks = await asyncio.to_thread(_pk_by_sk, cm)
    assert pks[keys.head_key("carol")] == "default"
    for path in ("carol/n.ipynb", "carol/sub", "carol/sub/f.txt", "carol/sub/big.ipynb"):
        assert pks[keys.head_key(path)] == "default/carol"
    assert pks[keys.checkpoint_key("carol/n.ipynb")] == "default/carol"
    assert not [sk for sk, pk in pks.items() if pk == "default/alice"]
    assert await asyncio.to_thread(_pks_of_kind, cm, keys.CHUNK) == ["default/carol"] * big.chunks
    moved = await cm.get("carol/sub/big.ipynb")
    assert len(moved["content"].cells) == len(_big_notebook(0.4).cells)
    assert _source(await cm.get("carol/n.ipynb")) == "who = 'alice'"
    assert [c["id"] for c in await cm.list_checkpoints("carol/n.ipynb")] == ["checkpoint"]
    assert not await cm.dir_exists("alice")
    assert await asyncio.to_thread(cm.table.collect_orphans, -1.0) == 0


@async_test
async def test_checkpoints_and_chunked_bodies_live_in_the_users_partition(
    cm: DynamoDBContentsManager,
) -> None:
    await _users(cm)
    await cm.save({"type": "notebook", "content": _big_notebook(0.4)}, "bob/big.ipynb")
    await cm.create_checkpoint("bob/big.ipynb")
    pks = await asyncio.to_thread(_pk_by_sk, cm)
    assert pks[keys.checkpoint_key("bob/big.ipynb")] == "default/bob"
    head = await asyncio.to_thread(cm.table.head, "bob/big.ipynb")
    assert head is not None
    assert head.chunks > 0
    chunk_pks = await asyncio.to_thread(_pks_of_kind, cm, keys.CHUNK)
    assert chunk_pks == ["default/bob"] * (2 * head.chunks)  # the head's and the checkpoint's
    assert await asyncio.to_thread(cm.table.count_chunks) == 2 * head.chunks
    await cm.restore_checkpoint("checkpoint", "bob/big.ipynb")
    assert len((await cm.get("bob/big.ipynb"))["content"].cells) > 0


@async_test
async def test_maintenance_covers_every_partition_of_the_server(
    cm: DynamoDBContentsManager,
) -> None:
    await _users(cm)
    await cm.save({"type": "notebook", "content": _big_notebook(0.4)}, "bob/big.ipynb")
    head = await asyncio.to_thread(cm.table.head, "bob/big.ipynb")
    assert head is not None
    orphans = [b"x" * 10] * 3
    await asyncio.to_thread(cm.table._write_chunks, "lost", orphans, "default/alice")
    await asyncio.to_thread(cm.table._write_chunks, "lost", orphans, "default")
    # Another server's partition whose name merely starts alike is not ours.
    await asyncio.to_thread(cm.table._write_chunks, "lost", orphans, "defaults")
    assert await asyncio.to_thread(cm.table.count_chunks) == head.chunks + 6
    assert await asyncio.to_thread(cm.table.collect_orphans, -1.0) == 6
    assert await asyncio.to_thread(cm.table.count_chunks) == head.chunks
    assert await asyncio.to_thread(_pks_of_kind, cm, keys.CHUNK) == sorted(
        ["default/bob"] * head.chunks + ["defaults"] * 3
    )


@async_test
async def test_delete_a_user_folder_with_always_delete_dir(cm: DynamoDBContentsManager) -> None:
    await _users(cm)
    await cm.save({"type": "notebook", "content": _big_notebook(0.4)}, "alice/sub/big.ipynb")
    await cm.create_checkpoint("alice/n.ipynb")
    cm.always_delete_dir = True
    await cm.delete("alice")
    assert not await cm.dir_exists("alice")
    left = list((await asyncio.to_thread(_pk_by_sk, cm)).values())
    assert "default/alice" not in left
    assert await cm.file_exists("bob/sub/f.txt")


@async_test
async def test_copy_a_folder_across_partitions(cm: DynamoDBContentsManager) -> None:
    await _users(cm)
    await cm.save({"type": "notebook", "content": _big_notebook(0.4)}, "alice/sub/big.ipynb")
    copied = await cm.copy("alice/sub", "bob")
    assert copied["path"] == "bob/sub-Copy1"
    pks = await asyncio.to_thread(_pk_by_sk, cm)
    assert pks[keys.head_key("bob/sub-Copy1/big.ipynb")] == "default/bob"
    assert pks[keys.head_key("bob/sub-Copy1/f.txt")] == "default/bob"
    assert (await cm.get("bob/sub-Copy1/f.txt"))["content"] == "alice"
    whole = await cm.copy("alice", "")  # a user folder: its tree to a new partition
    assert whole["path"] == "alice-Copy1"
    pks = await asyncio.to_thread(_pk_by_sk, cm)
    assert pks[keys.head_key("alice-Copy1/sub/big.ipynb")] == "default/alice-Copy1"
    big = await cm.get("alice-Copy1/sub/big.ipynb")
    assert len(big["content"].cells) == len(_big_notebook(0.4).cells)


def test_the_partition_of_a_path() -> None:
    assert keys.partition_of("default", 0, "alice/x.ipynb") == "default"
    assert keys.partition_of("default", 1, "alice") == "default"
    assert keys.partition_of("default", 1, "alice/x.ipynb") == "default/alice"
    assert keys.partition_of("default", 2, "nb/alice") == "default"
    assert keys.partition_of("default", 2, "nb/alice/d/x.ipynb") == "default/nb/alice"
    assert keys.children_partition("default", 2, "nb") == "default"
    assert keys.children_partition("default", 2, "nb/alice") == "default/nb/alice"
    assert keys.path_of(keys.head_key("a/b/c.txt")) == "a/b/c.txt"
    assert keys.path_of(keys.head_key("c.txt")) == "c.txt"
    assert keys.path_of(keys.checkpoint_key("a/c.txt")) == "a/c.txt"


@async_test
async def test_a_folder_above_the_depth_walks_every_partition_below_it(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    """notebooks_dir "nb" with per-user folders: depth 2; moving or deleting "nb" itself
    takes the trees of every user partition below it."""
    cm = dynamo_manager
    cm.partition_depth = 2
    await cm.save({"type": "directory"}, "nb")
    for user in ("alice", "bob"):
        await cm.save({"type": "directory"}, f"nb/{user}")
        nb = v4.new_notebook(cells=[v4.new_code_cell(f"who = {user!r}", id="c")])
        await cm.save({"type": "notebook", "content": nb}, f"nb/{user}/n.ipynb")
        await cm.create_checkpoint(f"nb/{user}/n.ipynb")
    await cm.save({"type": "file", "format": "text", "content": "x"}, "nb/shared.txt")
    pks = await asyncio.to_thread(_pk_by_sk, cm)
    assert pks[keys.head_key("nb/alice")] == "default"
    assert pks[keys.head_key("nb/alice/n.ipynb")] == "default/nb/alice"
    below = await asyncio.to_thread(cm.table.descendants, "nb")
    assert sorted(r.path for r in below) == [
        "nb/alice",
        "nb/alice/n.ipynb",
        "nb/bob",
        "nb/bob/n.ipynb",
        "nb/shared.txt",
    ]

    await cm.rename("nb", "home")
    pks = await asyncio.to_thread(_pk_by_sk, cm)
    assert pks[keys.head_key("home/bob/n.ipynb")] == "default/home/bob"
    assert pks[keys.checkpoint_key("home/bob/n.ipynb")] == "default/home/bob"
    assert not [pk for pk in pks.values() if pk.startswith("default/nb")]
    assert _source(await cm.get("home/alice/n.ipynb")) == "who = 'alice'"

    copied = await cm.copy("home", "")
    assert copied["path"] == "home-Copy1"
    assert _source(await cm.get("home-Copy1/bob/n.ipynb")) == "who = 'bob'"

    cm.always_delete_dir = True
    await cm.delete("home")
    await cm.delete("home-Copy1")
    assert await asyncio.to_thread(_raw_items, cm) == []
