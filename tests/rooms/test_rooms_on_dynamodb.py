"""Collaboration rooms over the DynamoDB contents manager (issue 19).

A real Jupyter server with jupyter-collaboration, the extension and
``DynamoDBContentsManager`` on a local moto server; file ids from
jupyter_server_fileid's ``ArbitraryFileIdManager`` (the local one stats files on disk,
which a table has not). The room loads, saves and watches the notebook through the
contents manager only: ``last_modified`` for out-of-band changes, ``hash`` after a save.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from nbformat import v4

from reactive_notebook.contents.dynamodb import keys

from ..contents.conftest import aws_env, moto  # noqa: F401 (fixtures)
from ..contents.moto_server import MotoServer
from ..handlers.conftest import rooms_config
from .conftest import CLEANUP_DELAY, ROOMS_EXTENSIONS, SAVE_DELAY, Api, eventually, make_notebook

#: The room's poll of the item (``YDocExtension.file_poll_interval`` of ``rooms_config``).
POLL = 0.2

DYNAMODB = "reactive_notebook.contents.DynamoDBContentsManager"


@pytest.fixture
def jp_server_config(
    jp_root_dir: Any,
    monkeypatch: Any,
    moto: MotoServer,  # noqa: F811
    aws_env: None,  # noqa: F811
) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": dict(ROOMS_EXTENSIONS),
            "contents_manager_class": DYNAMODB,
        },
        "DynamoDBContentsManager": {
            "table_name": f"rooms-{uuid.uuid4().hex[:12]}",
            "endpoint_url": moto.endpoint_url,
            "create_table": True,
            "retry_base_delay": 0.001,
        },
        "FileIdExtension": {
            "file_id_manager_class": "jupyter_server_fileid.manager.ArbitraryFileIdManager"
        },
        "NotebookNotary": {"db_file": ":memory:"},
        "ReactiveNotebook": {"save_delay": 0.05},
        **rooms_config(
            jp_root_dir, monkeypatch, save_delay=SAVE_DELAY, cleanup_delay=CLEANUP_DELAY
        ),
    }


async def _store(cm: Any, path: str, *sources: str) -> None:
    """A notebook written with the manager directly (not through any room)."""
    cells = [v4.new_code_cell(source, id=f"c{n}") for n, source in enumerate(sources, 1)]
    await cm.save({"type": "notebook", "content": v4.new_notebook(cells=cells)}, path)


async def _stored_sources(cm: Any, path: str) -> list[str]:
    model = await cm.get(path, content=True, type="notebook")
    return [cell["source"] for cell in model["content"]["cells"]]


async def test_a_tabs_edit_is_saved_by_the_room_into_dynamodb(
    jp_serverapp: Any, open_tab: Any
) -> None:
    cm = jp_serverapp.contents_manager
    assert type(cm).__name__ == "DynamoDBContentsManager"
    await _store(cm, "shared.ipynb", "a = 1", "b = 2")
    tab = await open_tab("shared.ipynb")
    await tab.wait_for(lambda: tab.sources() == ["a = 1", "b = 2"], "the stored cells")
    before = await cm.get("shared.ipynb", content=False, require_hash=True)
    tab.replace_source("c1", "a = 10")

    async def saved() -> bool:
        return (await _stored_sources(cm, "shared.ipynb")) == ["a = 10", "b = 2"]

    await eventually(saved, "the tab's edit in the DynamoDB item")
    after = await cm.get("shared.ipynb", content=False, require_hash=True)
    assert after["last_modified"] > before["last_modified"]
    assert after["hash"] != before["hash"]


async def test_a_save_refused_by_a_throttled_table_is_made_by_the_next_one(
    jp_serverapp: Any, open_tab: Any
) -> None:
    """jupyter-collaboration does not retry a failed save (the 503 of a busy table): the
    edit stays in the room, dirty, and the next save writes it with the newer ones."""
    cm = jp_serverapp.contents_manager
    await _store(cm, "busy.ipynb", "a = 1", "b = 2")
    tab = await open_tab("busy.ipynb")
    await tab.wait_for(lambda: tab.sources() == ["a = 1", "b = 2"], "the stored cells")
    events = cm.table.client.meta.events
    refused: list[str] = []

    def refuse(**_: Any) -> None:
        refused.append("PutItem")
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
            "PutItem",
        )

    events.register("before-call.dynamodb.PutItem", refuse)
    try:
        tab.replace_source("c1", "a = 'while throttled'")
        await eventually(lambda: _true(len(refused) >= cm.retry_attempts), "a refused save")
    finally:
        events.unregister("before-call.dynamodb.PutItem", refuse)
    assert await _stored_sources(cm, "busy.ipynb") == ["a = 1", "b = 2"]
    tab.replace_source("c2", "b = 'after'")

    async def both_saved() -> bool:
        stored = await _stored_sources(cm, "busy.ipynb")
        return stored == ["a = 'while throttled'", "b = 'after'"]

    await eventually(both_saved, "both edits in the item")


async def _true(value: bool) -> bool:
    return value


async def test_a_change_to_the_item_made_around_the_room_is_reloaded_in_the_tab(
    jp_serverapp: Any, open_tab: Any
) -> None:
    cm = jp_serverapp.contents_manager
    await _store(cm, "oob.ipynb", "x = 1")
    tab = await open_tab("oob.ipynb")
    await tab.wait_for(lambda: tab.sources() == ["x = 1"], "the stored cell")
    before = await cm.get("oob.ipynb", content=False, require_hash=True)
    # Another server (or the copy command) writes the item: the room's manager sees a
    # newer last_modified on its next poll and the room reloads it, as for a file.
    await _store(cm, "oob.ipynb", "x = 2  # written elsewhere", "y = 3")
    after = await cm.get("oob.ipynb", content=False, require_hash=True)
    assert after["last_modified"] > before["last_modified"]
    assert after["hash"] != before["hash"]
    await tab.wait_for(
        lambda: tab.sources() == ["x = 2  # written elsewhere", "y = 3"], "the reloaded item"
    )


async def test_a_change_after_a_server_with_a_fast_clock_is_still_reloaded(
    jp_serverapp: Any, open_tab: Any
) -> None:
    """Servers sharing a table do not share a clock: after one whose clock runs an hour
    ahead wrote the item, a save by a server on time must still look newer to the room."""
    cm = jp_serverapp.contents_manager
    await _store(cm, "skew.ipynb", "x = 1")
    tab = await open_tab("skew.ipynb")
    await tab.wait_for(lambda: tab.sources() == ["x = 1"], "the stored cell")
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await cm.run(
        lambda: cm.table.client.update_item(
            TableName=cm.table_name,
            Key={"pk": {"S": cm.partition}, "sk": {"S": keys.head_key("skew.ipynb")}},
            UpdateExpression="SET last_modified = :t",
            ExpressionAttributeValues={":t": {"S": ahead}},
        )
    )
    await asyncio.sleep(4 * POLL)  # the room's loader has seen the fast clock's stamp
    await _store(cm, "skew.ipynb", "x = 2  # saved by a server on time")
    await tab.wait_for(
        lambda: tab.sources() == ["x = 2  # saved by a server on time"], "the reloaded item"
    )


async def test_the_file_id_survives_a_rename_and_the_room_saves_at_the_new_path(
    jp_serverapp: Any, jp_fetch: Any, open_tab: Any
) -> None:
    cm = jp_serverapp.contents_manager
    ids = jp_serverapp.web_app.settings["file_id_manager"]
    assert type(ids).__name__ == "ArbitraryFileIdManager"
    await _store(cm, "old.ipynb", "a = 1")
    tab = await open_tab("old.ipynb")
    await tab.wait_for(lambda: tab.sources() == ["a = 1"], "the stored cell")
    file_id = ids.get_id("old.ipynb")
    assert file_id is not None
    assert tab.room.endswith(file_id)
    await jp_fetch("api", "contents", "old.ipynb", method="PATCH", body='{"path": "new.ipynb"}')
    assert ids.get_id("new.ipynb") == file_id
    assert ids.get_path(file_id) == "new.ipynb"
    assert not await cm.file_exists("old.ipynb")
    tab.replace_source("c1", "a = 'after the rename'")

    async def saved() -> bool:
        return (await _stored_sources(cm, "new.ipynb")) == ["a = 'after the rename'"]

    await eventually(saved, "the edit saved at the new path")
    assert not await cm.file_exists("old.ipynb")


async def test_a_run_of_the_reactive_service_lands_in_the_stored_item(
    jp_serverapp: Any, api: Api, open_tab: Any
) -> None:
    cm = jp_serverapp.contents_manager
    notebook, path, (first, second) = await make_notebook(api, "x = 20", "print(x + 1)")
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.sources()[-2:] == ["x = 20", "print(x + 1)"], "the cells")
    await api("POST", "notebooks", notebook, "cells", second, "run", body={"wait": True})
    await tab.wait_for(lambda: tab.cell(second)["outputs"], "the run's output in the tab")

    async def stored_output() -> bool:
        model = await cm.get(path, content=True, type="notebook")
        cells = {cell["id"]: cell for cell in model["content"]["cells"]}
        printed = "".join(o.get("text", "") for o in cells[second]["outputs"])
        return printed == "21\n"

    await eventually(stored_output, "the run's output in the DynamoDB item")
    assert first in tab.ids()


def test_the_operator_is_told_when_the_file_id_manager_cannot_serve_rooms(
    jp_serverapp: Any, tmp_path: Any
) -> None:
    from jupyter_server_fileid.manager import ArbitraryFileIdManager, LocalFileIdManager

    from reactive_notebook.contents.atomic import AtomicFileContentsManager
    from reactive_notebook.contents.file_ids import file_id_problem

    cm = jp_serverapp.contents_manager
    local = LocalFileIdManager(root_dir=str(tmp_path), db_path=str(tmp_path / "local.db"))
    arbitrary = ArbitraryFileIdManager(root_dir="", db_path=str(tmp_path / "any.db"))
    problem = file_id_problem(cm, local)
    assert problem is not None
    assert "LocalFileIdManager" in problem
    assert "jupyter_server_fileid.manager.ArbitraryFileIdManager" in problem
    assert file_id_problem(cm, arbitrary) is None
    assert file_id_problem(cm, None) is None
    assert file_id_problem(AtomicFileContentsManager(root_dir=str(tmp_path)), local) is None
    # This test's server is configured right: its extension did not warn.
    assert file_id_problem(cm, jp_serverapp.web_app.settings["file_id_manager"]) is None
