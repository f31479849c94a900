"""DynamoDBContentsManager selected the operator's way, ``ServerApp.contents_manager_class``,
in a real Jupyter server over a moto server: the stock contents REST API works on it, and
its errors (404, 409, 503) reach the client with their status."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError
from nbformat import v4
from tornado.web import HTTPError

from ..handlers.conftest import API
from . import moto_server


@pytest.fixture
def jp_server_config(moto: moto_server.MotoServer, aws_env: None) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {
                "reactive_notebook": True,
                "jupyter_server_terminals": False,
            },
            "contents_manager_class": ("reactive_notebook.contents.DynamoDBContentsManager"),
        },
        "DynamoDBContentsManager": {
            "table_name": f"server-{uuid.uuid4().hex[:12]}",
            "endpoint_url": moto.endpoint_url,
            "create_table": True,
            "retry_attempts": 3,
            "retry_base_delay": 0.001,
        },
        "NotebookNotary": {"db_file": ":memory:"},
        "ReactiveNotebook": {"save_delay": 0.05},
    }


async def _call(jp_fetch: Any, method: str, path: str, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"method": method, "raise_error": False}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    return await jp_fetch("api", "contents", *path.split("/"), **kwargs)


async def test_the_contents_api_runs_on_dynamodb(jp_fetch: Any, jp_serverapp: Any) -> None:
    assert type(jp_serverapp.contents_manager).__name__ == "DynamoDBContentsManager"
    nb = v4.new_notebook(cells=[v4.new_code_cell("a = 1", id="c1")])
    put = await _call(jp_fetch, "PUT", "n.ipynb", {"type": "notebook", "content": nb})
    assert put.code == 201
    got = json.loads((await _call(jp_fetch, "GET", "n.ipynb")).body)
    assert got["content"]["cells"][0]["source"] == "a = 1"
    assert got["last_modified"]
    hashed = json.loads((await jp_fetch("api", "contents", "n.ipynb", params={"hash": "1"})).body)
    assert len(hashed["hash"]) == 64
    moved = await _call(jp_fetch, "PATCH", "n.ipynb", {"path": "m.ipynb"})
    assert moved.code == 200
    listing = json.loads((await _call(jp_fetch, "GET", "")).body)
    assert [entry["name"] for entry in listing["content"]] == ["m.ipynb"]
    assert (await _call(jp_fetch, "GET", "n.ipynb")).code == 404
    await _call(jp_fetch, "PUT", "other.ipynb", {"type": "notebook", "content": nb})
    clash = await _call(jp_fetch, "PATCH", "m.ipynb", {"path": "other.ipynb"})
    assert clash.code == 409
    cm = jp_serverapp.contents_manager
    stale = await cm.run(cm.table.head, "other.ipynb")
    await _call(jp_fetch, "PUT", "other.ipynb", {"type": "notebook", "content": nb})
    with pytest.raises(HTTPError) as conflict:
        await cm.run(cm.table.put, stale.sk, stale.path, "notebook", b"{}", stale)
    assert conflict.value.status_code == 409
    assert str(conflict.value.log_message).startswith(
        "other.ipynb was changed by another save while this one ran"
    )


def _refuse(**_: Any) -> None:
    """What DynamoDB answers a throttled call (raised before the request is sent)."""
    raise ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
        "DynamoDB",
    )


@contextmanager
def _throttled(serverapp: Any, operation: str) -> Iterator[None]:
    """Every ``operation`` call of the server's contents manager throttled, meanwhile."""
    events = serverapp.contents_manager.table.client.meta.events
    events.register(f"before-call.dynamodb.{operation}", _refuse)
    try:
        yield
    finally:
        events.unregister(f"before-call.dynamodb.{operation}", _refuse)


async def test_throttling_past_the_budget_is_a_503_with_retry_after(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    await _call(jp_fetch, "PUT", "f.txt", {"type": "file", "format": "text", "content": "x"})
    with _throttled(jp_serverapp, "GetItem"):
        read = await _call(jp_fetch, "GET", "f.txt")
    assert read.code == 503
    message = json.loads(read.body)["message"]
    assert message.startswith("The notebook storage is busy (DynamoDB throttled get_item 3 ")
    assert int(read.headers["Retry-After"]) >= 1
    with _throttled(jp_serverapp, "PutItem"):
        saved = await _call(
            jp_fetch, "PUT", "f.txt", {"type": "file", "format": "text", "content": "y"}
        )
    assert saved.code == 503
    assert int(saved.headers["Retry-After"]) >= 1
    assert json.loads(saved.body)["message"].startswith("The notebook storage is busy")
    # The same handlers answer other errors as before: no Retry-After there.
    missing = await _call(jp_fetch, "GET", "nowhere.txt")
    assert missing.code == 404
    assert "Retry-After" not in missing.headers


async def test_the_reactive_api_answers_a_busy_storage_with_503_and_retry_after(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    with _throttled(jp_serverapp, "PutItem"):
        created = await jp_fetch(
            *API, "notebooks", method="POST", body=json.dumps({"name": "busy"}), raise_error=False
        )
    assert created.code == 503
    answer = json.loads(created.body)
    assert answer["message"].startswith("The notebook storage is busy (DynamoDB throttled")
    assert answer["retry_after"] >= 1
    assert created.headers["Retry-After"] == str(answer["retry_after"])
    # A notebook the service has not read yet: reading it needs the storage.
    cm = jp_serverapp.contents_manager
    nb = v4.new_notebook(cells=[v4.new_code_cell("a = 1", id="c1")])
    nb.metadata["reactive_notebook"] = {"id": "0123456789abcdef0123456789abcdef"}
    await cm.save({"type": "notebook", "content": nb}, "outside.ipynb")
    with _throttled(jp_serverapp, "GetItem"):
        listed = await jp_fetch(*API, "notebooks", raise_error=False)
    assert listed.code == 503
    assert int(listed.headers["Retry-After"]) >= 1
    assert json.loads(listed.body)["retry_after"] >= 1
    listed = await jp_fetch(*API, "notebooks")
    assert listed.code == 200
