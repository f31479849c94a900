"""The notebook WebSocket protocol against a real server and real kernels: snapshots,
fan-out to every client of a notebook (and no other), resuming with ``?since=``, bad
messages answered without closing, ``request_id`` echoes, and the close on deletion."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest, _RequestProxy
from tornado.httputil import HTTPHeaders
from tornado.websocket import WebSocketClientConnection

from reactive_notebook.handlers.websocket import COMMANDS
from reactive_notebook.notebooks.events import EventHub

from .conftest import WITH_ROOMS, Api, payload
from .wsclient import Mirror, WsClient, events, states

#: Events kept per notebook in these tests: small, so "too old to resume" is cheap.
HISTORY = 40


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    reactive = {**jp_server_config["ReactiveNotebook"], "event_history": HISTORY}
    return {**jp_server_config, "ReactiveNotebook": reactive}


async def new_notebook(api: Api, *codes: str, name: str = "ws") -> tuple[str, list[str]]:
    """A notebook with Python cells of ``codes``: its id and its cells' ids."""
    notebook_id = payload(await api("POST", "notebooks", body={"name": name}))["notebook_id"]
    cell_ids = []
    for code in codes:
        created = await api(
            "POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": code}
        )
        assert created.code == 201, created.body
        cell_ids.append(payload(created)["cell_id"])
    return notebook_id, cell_ids


def seqs(messages: list[dict[str, Any]]) -> list[int]:
    return [m["seq"] for m in events(messages)]


async def test_a_client_first_gets_a_snapshot_of_the_notebook_and_its_seq(
    api: Api, jp_ws_fetch: Any
) -> None:
    notebook_id, cells = await new_notebook(api, "x = 1", "x + 1")
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        snapshot = await client.next()
        assert snapshot["type"] == "snapshot"
        assert snapshot["notebook"] == payload(await api("GET", "notebooks", notebook_id))
        assert [c["id"] for c in snapshot["notebook"]["cells"]] == cells
        assert snapshot["seq"] >= 2  # at least the two cell_created events
        assert snapshot["kernel_state"] is None  # no kernel before the first run
        # The next event carries the next sequence number and the new revision.
        await api("PUT", "notebooks", notebook_id, "name", body={"name": "renamed"})
        renamed = await client.next()
        assert renamed["type"] == "notebook_updated"
        assert renamed["seq"] == snapshot["seq"] + 1
        assert renamed["revision"] == snapshot["notebook"]["revision"] + 1
        assert renamed["name"] == "renamed"
        assert renamed["path"] == "renamed.ipynb"  # the file follows (tabs reopen it)


async def test_a_client_connecting_after_a_run_gets_the_kernel_state_in_its_snapshot(
    api: Api, jp_ws_fetch: Any
) -> None:
    notebook_id, cells = await new_notebook(api, "x = 1")
    ran = await api("POST", "notebooks", notebook_id, "cells", cells[0], "run", body={"wait": True})
    assert ran.code == 200, ran.body
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        snapshot = await client.next()
        assert snapshot["type"] == "snapshot"
        assert snapshot["kernel_state"] == "idle"


ATTRIBUTED = ("cell_created", "cell_updated", "cell_moved", "cell_deleted", "notebook_updated")


async def test_every_client_of_a_notebook_sees_every_event_and_others_see_none(
    api: Api, jp_ws_fetch: Any
) -> None:
    notebook_id, (first,) = await new_notebook(api, "a = 1")
    other_id, _ = await new_notebook(api, "b = 2", name="other")
    one = await WsClient.connect(jp_ws_fetch, notebook_id)
    two = await WsClient.connect(jp_ws_fetch, notebook_id)
    batched = await WsClient.connect(jp_ws_fetch, notebook_id, batch=True)
    stranger = await WsClient.connect(jp_ws_fetch, other_id)
    try:
        start = (await one.next())["seq"]
        assert (await two.next())["seq"] == start
        assert (await batched.next())["seq"] == start
        await stranger.next()  # its own snapshot

        # Changes from a socket and from REST, and a run, reach both clients.
        created = await one.command(
            {"type": "create_cell", "cell_type": "python", "code": "print(a)"}
        )
        second = created["cell_id"]
        await one.command({"type": "cell_update", "cell_id": first, "code": "a = 2"})
        moved = await one.command({"type": "move_cell", "cell_id": second, "after_cell_id": None})
        assert moved == {"index": 0}
        await api("PUT", "notebooks", notebook_id, "name", body={"name": "shared"})
        await one.command({"type": "run_all"})
        await one.run_done()
        await two.run_done()
        await batched.run_done()
        seen_one, seen_two = one.received[1:], two.received[1:]  # after the snapshots

        assert seqs(seen_one) == seqs(seen_two) == list(range(start + 1, seqs(seen_one)[-1] + 1))
        assert events(seen_one) == events(seen_two) == events(batched.received)
        assert batched.batch_frames > 0  # the run's bursts came as batch frames
        kinds = [m["type"] for m in events(seen_two)]
        for kind in (
            "cell_created",
            "cell_updated",
            "cell_moved",
            "notebook_updated",
            "cell_stdout",
        ):
            assert kind in kinds
        # Each change names who made it (docs/websocket.md, "actor"): the person behind
        # the socket and the REST call; a run's events name no one.
        changes = [m for m in events(seen_two) if m["type"] in ATTRIBUTED]
        assert {m["actor"]["kind"] for m in changes} == {"person"}
        assert len({m["actor"]["user"] for m in changes}) == 1
        assert not [m for m in events(seen_two) if m["type"] not in ATTRIBUTED and "actor" in m]
        assert any(m["type"] == "ack" for m in seen_one)
        assert not any(m["type"] == "ack" for m in seen_two)  # answers go to the asker only
        stdout = [m for m in seen_two if m["type"] == "cell_stdout"]
        assert stdout[0]["cell_id"] == second
        assert stdout[0]["data"] == "2\n"
        assert await stranger.quiet() == []
        # A cell of this notebook cannot be reached through another notebook's socket.
        for command in ("run_cell", "delete_cell"):
            refused = await stranger.request({"type": command, "cell_id": first})
            assert refused["type"] == "error"
            assert "not found" in refused["message"]
        assert await one.quiet() == []
    finally:
        for client in (one, two, batched, stranger):
            await client.close()


async def test_a_reconnecting_client_gets_exactly_the_events_it_missed(
    api: Api, jp_ws_fetch: Any
) -> None:
    notebook_id, (cell,) = await new_notebook(api, "n = 1")
    watcher = await WsClient.connect(jp_ws_fetch, notebook_id)
    leaver = await WsClient.connect(jp_ws_fetch, notebook_id)
    try:
        await watcher.next()
        snapshot = await leaver.next()
        await leaver.close()

        # Missed: edits, a new cell, a whole run (statuses, outputs) and a rename.
        await api("PUT", "notebooks", notebook_id, "cells", cell, body={"code": "n = 2"})
        await api("POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": "n"})
        await api("POST", "notebooks", notebook_id, "run", body={"wait": True})
        await api("PUT", "notebooks", notebook_id, "name", body={"name": "later"})
        missed = await watcher.until(lambda m: m["type"] == "notebook_updated")
        assert len(missed) < HISTORY

        since = snapshot["seq"]
        async with await WsClient.connect(jp_ws_fetch, notebook_id, since=since) as back:
            resumed = await back.next()
            assert resumed == {"type": "resumed", "seq": missed[-1]["seq"]}
            replayed = [await back.next() for _ in missed]
            assert replayed == missed
            assert await back.quiet() == []
            # The old snapshot plus what was replayed is the notebook as it is now.
            mirror = Mirror(snapshot)
            mirror.apply_all(replayed)
            now = payload(await api("GET", "notebooks", notebook_id))
            assert mirror.states() == states(now)
            assert mirror.notebook["name"] == now["name"] == "later"
            assert mirror.notebook["revision"] == now["revision"]
            # Live events follow the replayed ones.
            await api("PUT", "notebooks", notebook_id, "name", body={"name": "live"})
            live = await back.next()
            assert live["type"] == "notebook_updated"
            assert live["seq"] == resumed["seq"] + 1

        # Up to date already: resumed, and nothing replayed.
        latest = (await watcher.next())["seq"]
        async with await WsClient.connect(jp_ws_fetch, notebook_id, since=latest) as current:
            assert await current.next() == {"type": "resumed", "seq": latest}
            assert await current.quiet() == []
    finally:
        await watcher.close()


async def test_resuming_from_an_unknown_or_forgotten_seq_gets_a_snapshot(
    api: Api, jp_ws_fetch: Any
) -> None:
    notebook_id, (cell,) = await new_notebook(api, "n = 0")
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        handed_out = (await client.next())["seq"]
    for n in range(HISTORY + 2):  # the events after ``handed_out`` are no longer kept
        await api("PUT", "notebooks", notebook_id, "cells", cell, body={"code": f"n = {n}"})
    for since in (handed_out, "abc", "-1", "", "99999", "1.5", "12e3", 10**30, "²", "9" * 5000):
        async with await WsClient.connect(jp_ws_fetch, notebook_id, since=since) as client:
            snapshot = await client.next()
            assert snapshot["type"] == "snapshot", since
            assert snapshot["notebook"]["cells"][0]["code"] == f"n = {HISTORY + 1}"
            assert await client.quiet(0.05) == [], since


#: Bad messages and words their error must contain.
BAD_MESSAGES: list[tuple[Any, list[str]]] = [
    ("{not json", ["not valid JSON"]),
    ("", ["JSON"]),
    ("[1, 2]", ["unknown message type"]),
    ('"run_cell"', ["unknown message type"]),
    ({"type": "explode"}, ["unknown message type", "'explode'", "run_cell"]),
    ({"cell_id": "x"}, ["unknown message type", "None"]),
    ({"type": "run_cell"}, ["missing required field 'cell_id'"]),
    ({"type": "run_cell", "cell_id": 7}, ["'cell_id'", "a string", "a number"]),
    ({"type": "cell_update", "cell_id": "x", "code": None}, ["'code'", "a string", "null"]),
    ({"type": "interrupt", "extra": 1}, ["unknown field 'extra'"]),
    ({"type": "run_cell", "cell_id": "nope"}, ["cell 'nope' not found"]),
    ({"type": "create_cell", "cell_type": "cobol"}, ["'cell_type'", "'python'", "'sql'"]),
    ({"type": "move_cell", "cell_id": "nope", "after_cell_id": None}, ["'nope' not found"]),
    (b"\xff\xfe binary", ["not valid JSON"]),
    # Valid JSON, but text no file can hold: refused before it poisons every save.
    ('{"type": "rename_notebook", "name": "\\ud800"}', ["not valid Unicode"]),
    ('{"type": "create_cell", "cell_type": "python", "code": "\\udfff"}', ["Unicode"]),
]


async def test_a_bad_message_gets_an_error_naming_the_problem_and_the_socket_stays_open(
    api: Api, jp_ws_fetch: Any
) -> None:
    notebook_id, _ = await new_notebook(api)
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        await client.next()
        for n, (message, names) in enumerate(BAD_MESSAGES):
            client.send(message)
            error = await client.next()
            assert error["type"] == "error", (message, error)
            for name in names:
                assert name in error["message"], (message, error)
            # Still open, and a valid message works.
            renamed = await client.command({"type": "rename_notebook", "name": f"still {n}"})
            assert renamed == {}
        assert events(client.received, "notebook_updated")[-1]["name"] == f"still {n}"
    assert payload(await api("GET", "notebooks", notebook_id))["name"] == f"still {n}"


@pytest.mark.skipif(
    WITH_ROOMS,
    reason="with rooms, the room saves the file and reports a failed save to the tabs "
    "through jupyter-collaboration's events; our WebSocket does not repeat it",
)
async def test_a_command_the_server_fails_on_gets_an_error_and_the_socket_stays_open(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Any
) -> None:
    notebook_id, (cell,) = await new_notebook(api, "x = 1")
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        await client.next()
        await asyncio.sleep(0.3)  # the debounced save has written the file
        for file in jp_root_dir.glob("*.ipynb"):
            file.unlink()  # replaced behind the server's back by something unreadable
            file.mkdir()
        failed = await client.request({"type": "rename_notebook", "name": "renamed"})
        assert failed["type"] == "error"
        assert "server log" in failed["message"]
        updated = await client.exchange({"type": "cell_update", "cell_id": cell, "code": "x = 2"})
        assert [m["type"] for m in updated][-2:] == ["cell_updated", "ack"]
        await client.until(lambda m: "saving the notebook failed" in m.get("message", ""))


async def test_a_notebook_whose_file_was_deleted_behind_the_server_closes_its_sockets(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Any
) -> None:
    notebook_id, _ = await new_notebook(api, "x = 1")
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        await client.next()
        # Every save made: one still pending (ours, or with rooms the room's, a second
        # after a change) would write the file anew after it is deleted.
        revision = payload(await api("GET", "notebooks", notebook_id))["revision"]
        await eventually(
            lambda: saved_revisions(jp_root_dir) == [revision], lambda: saved_revisions(jp_root_dir)
        )
        await asyncio.sleep(0.3)
        for file in jp_root_dir.glob("*.ipynb"):
            file.unlink()  # deleted behind the server's back (say, in JupyterLab)
        client.send({"type": "rename_notebook", "name": "renamed", "request_id": 1})
        with pytest.raises(AssertionError, match="4404"):
            await client.until(lambda m: False)
        kinds = [m["type"] for m in client.received]
        assert "notebook_deleted" in kinds
        errors = [m for m in client.received if m["type"] == "error"]
        assert not errors or "not found" in errors[-1]["message"]
    assert (await api("GET", "notebooks", notebook_id)).code == 404


async def test_request_ids_are_echoed_in_acks_and_errors(api: Api, jp_ws_fetch: Any) -> None:
    notebook_id, (cell,) = await new_notebook(api, "x = 1")
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        snapshot = await client.next()
        revision = snapshot["notebook"]["revision"]

        client.send({"type": "cell_update", "cell_id": cell, "code": "x = 2", "request_id": 41})
        taken = await client.until(lambda m: m["type"] == "ack")
        assert taken[-1] == {"type": "ack", "request_id": 41, "result": {}}
        assert [m["type"] for m in taken] == ["cell_updated", "ack"]  # the event comes first

        client.send({"type": "explode", "request_id": "abc"})
        assert await client.next() == {
            "type": "error",
            "message": f"unknown message type 'explode'; known: {', '.join(sorted(COMMANDS))}",
            "request_id": "abc",
            "field": "type",
        }

        client.send({"type": "run_cell", "request_id": "no-cell"})
        missing = await client.next()
        assert missing["request_id"] == "no-cell"
        assert missing["field"] == "cell_id"

        # A stale expected_revision is refused with the current revision; nothing changes.
        stale = {
            "type": "cell_update",
            "cell_id": cell,
            "code": "x = 3",
            "expected_revision": revision,
        }
        conflict = await client.request(stale)
        assert conflict["type"] == "error"
        assert conflict["revision"] == revision + 1
        assert "revision" in conflict["message"]
        assert await client.quiet() == []

        # sync: a fresh snapshot, then the ack.
        client.send({"type": "sync", "request_id": "s"})
        fresh = await client.next()
        assert fresh["type"] == "snapshot"
        assert fresh["notebook"]["cells"][0]["code"] == "x = 2"
        assert await client.next() == {"type": "ack", "request_id": "s", "result": {}}

        # Without a request_id a success is silent: only the event arrives.
        client.send({"type": "rename_notebook", "name": "quiet"})
        assert (await client.next())["type"] == "notebook_updated"
        assert await client.quiet() == []


async def test_deleting_a_notebook_closes_its_sockets_with_4404(api: Api, jp_ws_fetch: Any) -> None:
    # Deleted mid-run: the endless loop is stopped, then the sockets are told and closed.
    notebook_id, (loop,) = await new_notebook(api, "while True: pass")
    other_id, _ = await new_notebook(api, name="kept")
    clients = [
        await WsClient.connect(jp_ws_fetch, notebook_id),
        await WsClient.connect(jp_ws_fetch, notebook_id, batch=True),
    ]
    bystander = await WsClient.connect(jp_ws_fetch, other_id)
    try:
        for client in clients:
            await client.next()
        await bystander.next()
        await clients[0].command({"type": "run_cell", "cell_id": loop})
        for client in clients:
            await client.until(lambda m: m.get("status") == "running")

        assert (await api("DELETE", "notebooks", notebook_id)).code == 204
        for client in clients:
            assert await client.wait_closed() == 4404
            deleted = client.received[-1]  # the last message: nothing follows it
            assert deleted["type"] == "notebook_deleted"
            assert deleted["seq"] == client.received[-2]["seq"] + 1
            assert deleted["revision"] >= client.received[-2]["revision"]
        assert events(clients[0].received) == events(clients[1].received)
        assert await bystander.quiet() == []
        assert await bystander.command({"type": "rename_notebook", "name": "alive"}) == {}

        with pytest.raises(HTTPClientError) as refused:
            await WsClient.connect(jp_ws_fetch, notebook_id)
        assert refused.value.code == 404
    finally:
        for client in (*clients, bystander):
            await client.close()


async def test_a_lagging_subscription_keeps_its_resync_marker_for_the_relay() -> None:
    # The socket's relay and its flush before an answer both take ``pending()``: once
    # the subscriber has lagged, that must leave the marker for ``get`` (else the relay
    # would wait forever and the client never get its fresh snapshot).
    hub = EventHub(limit=2)
    subscription = hub.listen("nb")
    for n in range(3):
        hub.publish("nb", "cell_updated", cell_id=str(n))
    assert subscription.lagged
    assert subscription.pending() == []
    assert await asyncio.wait_for(subscription.get(), 1) is None
    subscription.resume()
    hub.publish("nb", "cell_updated", cell_id="after")
    assert [e.data["cell_id"] for e in subscription.pending()] == ["after"]


def test_sequence_numbers_of_a_restarted_server_do_not_overlap_the_old_ones() -> None:
    # The app starts each process's numbers from the clock; a client resuming with a
    # seq of the previous process must get a snapshot, not the new events as if they
    # were the ones it missed.
    before = EventHub(first_seq=1_000)
    for n in range(5):
        before.publish("nb", "cell_updated", cell_id=str(n))
    seen = before.last_seq("nb")
    after = EventHub(first_seq=2_000)
    assert after.since("nb", seen) is None  # nothing published yet
    for n in range(5):
        after.publish("nb", "cell_updated", cell_id=str(n))
    assert after.since("nb", seen) is None
    assert after.since("nb", 1_999) is not None
    assert [e.seq for e in after.since("nb", 2_002) or []] == [2_003, 2_004]
    assert after.since("other", after.last_seq("other")) == []


async def test_a_servers_sequence_numbers_start_from_its_start_time(
    api: Api, jp_ws_fetch: Any
) -> None:
    now = time.time_ns() // 1000  # µs, like the server's numbers
    notebook_id, _ = await new_notebook(api, "x = 1")
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        snapshot = await client.next()
    # Numbers from a process that started earlier are all below; asking for them
    # gets a snapshot.
    assert now - 600_000_000 < snapshot["seq"] < now  # the server started just before
    async with await WsClient.connect(jp_ws_fetch, notebook_id, since=5) as client:
        assert (await client.next())["type"] == "snapshot"


async def test_renames_between_saves_lose_nothing(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Any
) -> None:
    # Each change schedules a save (ReactiveNotebook.save_delay is 0.05 s here) while
    # renames move the file: a save must never write where the file was.
    notebook_id, (cell,) = await new_notebook(api, "n = 0")
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        await client.next()
        for n in range(40):  # sent without waiting: renames back to back
            client.send({"type": "cell_update", "cell_id": cell, "code": f"n = {n}"})
            client.send({"type": "rename_notebook", "name": f"name {n}", "request_id": n})
        await client.until(lambda m: m.get("request_id") == 39)

        def saved() -> list[str]:
            return [
                f"{file.name}: {''.join(json.loads(file.read_text())['cells'][0]['source'])}"
                for file in jp_root_dir.glob("*.ipynb")
            ]

        await eventually(lambda: saved() == ["name 39.ipynb: n = 39"], saved)
        assert events(client.received, "error") == []  # no save failed on the way


def saved_revisions(root: Any) -> list[Any]:
    """The notebook revision each .ipynb under ``root`` holds, as saved."""
    found = []
    for file in root.glob("*.ipynb"):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            found.append(json.loads(file.read_text())["metadata"]["reactive_notebook"]["revision"])
    return found


async def eventually(condition: Any, show: Any, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` holds (polling the disk: no event says "saved")."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"still {show()} after {timeout} s")
        await asyncio.sleep(0.02)


class PingCounter(WebSocketClientConnection):
    """A client that notes the server's pings (tornado answers them itself)."""

    pinged: asyncio.Event

    def on_ping(self, data: bytes) -> None:
        self.pinged.set()


class TestKeepAlive:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        # The setting the server's own kernel sockets are pinged by (milliseconds).
        server = {**jp_server_config["ServerApp"], "tornado_settings": {"ws_ping_interval": 50}}
        return {**jp_server_config, "ServerApp": server}

    async def test_the_server_pings_its_clients(
        self, api: Api, jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str]
    ) -> None:
        notebook_id, _ = await new_notebook(api)
        path = f"{jp_base_url}reactive/api/v1/notebooks/{notebook_id}/ws"
        request = HTTPRequest(
            f"ws://localhost:{jp_http_port}{path}", headers=HTTPHeaders(jp_auth_header)
        )
        # What websocket_connect does, with our connection class (to see the pings).
        connection = PingCounter(_RequestProxy(request, HTTPRequest._DEFAULTS))  # type: ignore[arg-type]
        connection.pinged = asyncio.Event()
        client = WsClient(await connection.connect_future)
        async with client:
            assert (await client.next())["type"] == "snapshot"
            await asyncio.wait_for(connection.pinged.wait(), 5)
            # Answered, so still open and working.
            assert await client.command({"type": "rename_notebook", "name": "alive"}) == {}
