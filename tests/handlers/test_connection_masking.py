"""A database connection's secrets never leave the server, whatever its spelling: not in
the PUT answer, the GET answer, the WebSocket snapshot or the ``notebook_updated`` event
(only the notebook's own file holds them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api, payload
from .contract import conforms, new_notebook, stored
from .wsclient import WsClient


@pytest.mark.parametrize(
    ("connection", "masked", "secret"),
    [
        (
            " postgresql://ana:lead1ng-space@db.example/sales",
            " postgresql://ana:********@db.example/sales",
            "lead1ng-space",
        ),
        (
            "postgresql+psycopg://ana@db.example/sales?sslpassword=ssl-k3y-pw",
            "postgresql+psycopg://ana@db.example/sales?sslpassword=********",
            "ssl-k3y-pw",
        ),
        (
            "duckdb:md:analytics?motherduck_token=md-t0ken",
            "duckdb:md:analytics?motherduck_token=********",
            "md-t0ken",
        ),
    ],
    ids=["leading space", "sslpassword", "motherduck_token"],
)
async def test_no_answer_or_event_shows_the_secret(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Path, connection: str, masked: str, secret: str
) -> None:
    notebook_id = await new_notebook(api, "masked")
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as watcher:
        await watcher.next()  # the snapshot before the change
        response = await api(
            "PUT", "notebooks", notebook_id, "db", body={"connection_string": connection}
        )
        assert conforms(response)["db_conn_string"] == masked
        (updated,) = await watcher.until(lambda m: m["type"] == "notebook_updated")
        assert updated["db_conn_string"] == masked
        assert secret not in json.dumps(watcher.received)

    notebook = conforms(await api("GET", "notebooks", notebook_id))
    assert notebook["db_conn_string"] == masked
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as late:
        snapshot = await late.next()
        assert snapshot["type"] == "snapshot"
        assert snapshot["notebook"]["db_conn_string"] == masked
    assert secret not in json.dumps(payload(await api("GET", "notebooks", notebook_id)))
    assert secret not in json.dumps(snapshot)

    # The masked form sent back changes nothing: the file keeps the real one.
    before = await stored(api, jp_root_dir, notebook_id)
    echo = await api("PUT", "notebooks", notebook_id, "db", body={"connection_string": masked})
    assert conforms(echo)["db_conn_string"] == masked
    after = await stored(api, jp_root_dir, notebook_id)
    assert after.file == before.file
    assert secret.encode() in after.file  # the only place it is
