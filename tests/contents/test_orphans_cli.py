"""``jupyter reactive-notebook collect-orphans TABLE``: the chunk items a save killed
before its head left behind are deleted (a dry run only counts them); chunks a file or a
checkpoint refers to, and young ones a save in progress may still claim, stay. Against
the session's moto server."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest
from nbformat import v4

from reactive_notebook import cli
from reactive_notebook.contents.dynamodb import DynamoDBContentsManager, keys

from . import moto_server
from ._async import async_test


def collect(*args: str) -> int:
    return cli.main(["collect-orphans", *args])


def big_notebook() -> object:
    """Over the inline limit: its body lives in chunk items."""
    nb = v4.new_notebook()
    nb.cells.append(v4.new_code_cell(os.urandom(8000).hex(), id="big"))
    return nb


@pytest.fixture
def manager(dynamo_manager: DynamoDBContentsManager) -> DynamoDBContentsManager:
    return dynamo_manager


def write_orphan(manager: DynamoDBContentsManager, age_seconds: float) -> None:
    """Two chunks under a body id no head names, written ``age_seconds`` ago: what a save
    killed before its head leaves."""
    table = manager.table
    body_id = uuid.uuid4().hex
    written = str(int(time.time() - age_seconds))
    for index in range(2):
        item = {
            **table._key(keys.chunk_key(body_id, index), table.partition),
            "data": {"B": b"x" * 100},
            "written": {"N": written},
        }
        table.client.put_item(TableName=table.table_name, Item=item)


@async_test
async def test_orphans_are_counted_then_deleted_and_referenced_chunks_stay(
    manager: DynamoDBContentsManager,
    moto: moto_server.MotoServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    nb = big_notebook()
    await manager.save({"type": "notebook", "content": nb}, "kept.ipynb")
    await manager.create_checkpoint("kept.ipynb")
    referenced = await asyncio.to_thread(manager.table.count_chunks)
    assert referenced >= 2  # the file's and its checkpoint's
    await asyncio.to_thread(write_orphan, manager, 2 * 3600)
    endpoint = ["--endpoint-url", moto.endpoint_url, "--region", "us-east-1"]

    assert collect(manager.table_name, *endpoint, "--dry-run") == 0
    assert "dry run: 2 orphaned chunk items would be deleted" in capsys.readouterr().out
    assert await asyncio.to_thread(manager.table.count_chunks) == referenced + 2

    assert collect(manager.table_name, *endpoint) == 0
    assert "deleted 2 orphaned chunk items" in capsys.readouterr().out
    assert await asyncio.to_thread(manager.table.count_chunks) == referenced
    assert (await manager.get("kept.ipynb"))["content"].cells[0].source == nb.cells[0].source
    checkpoint = (await manager.list_checkpoints("kept.ipynb"))[0]["id"]
    await manager.restore_checkpoint(checkpoint, "kept.ipynb")


@async_test
async def test_young_orphans_stay_they_may_be_a_save_in_progress(
    manager: DynamoDBContentsManager,
    moto: moto_server.MotoServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await manager.save({"type": "notebook", "content": big_notebook()}, "kept.ipynb")
    await asyncio.to_thread(write_orphan, manager, 0)
    endpoint = ["--endpoint-url", moto.endpoint_url, "--region", "us-east-1"]
    assert collect(manager.table_name, *endpoint) == 0
    assert "deleted 0 orphaned chunk items" in capsys.readouterr().out
    assert collect(manager.table_name, *endpoint, "--min-age-hours", "0") == 0
    assert "deleted 2 orphaned chunk items" in capsys.readouterr().out


def test_a_table_that_cannot_be_used_exits_2_saying_why(
    moto: moto_server.MotoServer, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = ["--endpoint-url", moto.endpoint_url, "--region", "us-east-1"]
    assert collect("no-such-table-here", *endpoint) == 2
    assert "ResourceNotFoundException" in capsys.readouterr().err
    assert collect("t/folder", *endpoint) == 2
    assert "name the table only" in capsys.readouterr().err
    assert collect("t", *endpoint, "--min-age-hours", "-1") == 2
    assert "cannot be negative" in capsys.readouterr().err
    assert collect("t", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1") == 2
    assert "error: table t:" in capsys.readouterr().err
