"""The reactive engine seen from a client: REST builds a notebook, the WebSocket drives
it, and each test asserts the events the client sees, in order (design.md section 3)."""

from __future__ import annotations

import asyncio
from typing import Any

from .conftest import Api, payload
from .wsclient import Message, Mirror, WsClient, events, kernel_state, states, statuses

#: The interrupt must stop an endless loop this fast (design.md: "Interrupt stops the
#: running cell").
INTERRUPT_WITHIN = 2.0


class Scenario:
    """A notebook of Python cells built over REST, and a client of its WebSocket."""

    def __init__(self, api: Api, notebook_id: str, cells: list[str], client: WsClient) -> None:
        self.api = api
        self.notebook_id = notebook_id
        self.cells = cells
        self.client = client

    async def agrees_with_rest(self) -> None:
        """What the client built from the snapshot and the events is what REST says."""
        mirror = Mirror(self.client.received[0])
        mirror.apply_all(self.client.received[1:])
        notebook = payload(await self.api("GET", "notebooks", self.notebook_id))
        assert mirror.states() == states(notebook)
        assert mirror.notebook["revision"] == notebook["revision"]


async def scenario(api: Api, ws_fetch: Any, *codes: str) -> Scenario:
    notebook_id = payload(await api("POST", "notebooks", body={"name": "scenario"}))["notebook_id"]
    cells = []
    for code in codes:
        created = await api(
            "POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": code}
        )
        cells.append(payload(created)["cell_id"])
    client = await WsClient.connect(ws_fetch, notebook_id)
    assert (await client.next())["type"] == "snapshot"
    return Scenario(api, notebook_id, cells, client)


def of_cell(messages: list[Message], cell_id: str, *types: str) -> list[Message]:
    return [m for m in events(messages, *types) if m.get("cell_id") == cell_id]


def printed(messages: list[Message], cell_id: str) -> str:
    """What the cell printed in these messages: its ``cell_stdout`` chunks joined (a
    ``print`` may arrive as two, when the kernel flushes between its text and newline)."""
    return "".join(m["data"] for m in of_cell(messages, cell_id, "cell_stdout"))


def last_status(messages: list[Message], cell_id: str) -> Message:
    return of_cell(messages, cell_id, "cell_status")[-1]


def shown(messages: list[Message], cell_id: str) -> list[Any]:
    return [m["output"]["data"] for m in of_cell(messages, cell_id, "cell_output")]


async def test_editing_the_root_of_a_chain_and_running_it_updates_the_leaf(
    api: Api, jp_ws_fetch: Any
) -> None:
    s = await scenario(api, jp_ws_fetch, "a = 1", "b = a + 1", "b * 10")
    a, b, c = s.cells
    async with s.client as client:
        await client.command({"type": "run_all"})
        first = await client.run_done()
        assert shown(first, c) == ["20"]

        edited = await client.exchange({"type": "cell_update", "cell_id": a, "code": "a = 5"})
        # Editing runs nothing; the edited cell (its output came from the old code) and
        # what read the old value are marked stale.
        assert edited[-1]["type"] == "ack"
        stale = events(edited, "cell_status")
        assert {m["cell_id"] for m in stale} == {a, b, c}
        assert all(m["stale"] is True and m["status"] == "success" for m in stale)
        (updated,) = events(edited, "cell_updated")
        assert updated["cell"]["writes"] == ["a"]
        assert len(edited) == 5

        await client.command({"type": "run_cell", "cell_id": a})
        run = await client.run_done()
        for cell in (a, b, c):
            assert statuses(run, cell) == ["queued", "running", "success"]
            assert last_status(run, cell)["stale"] is False
        assert shown(run, c) == ["60"]
        assert not events(run, "cell_error", "error")
        revisions = [m["revision"] for m in events(client.received)]
        assert revisions == sorted(revisions)
        await s.agrees_with_rest()


async def test_a_failing_cell_blocks_its_dependents_and_an_independent_cell_still_runs(
    api: Api, jp_ws_fetch: Any
) -> None:
    s = await scenario(api, jp_ws_fetch, "x = 1", "y = x + 1", "print(y)", "z = 3")
    source, child, grandchild, free = s.cells
    async with s.client as client:
        await client.command({"type": "run_all"})
        await client.run_done()

        await client.command({"type": "cell_update", "cell_id": source, "code": "x = 1 / 0"})
        await client.command({"type": "cell_update", "cell_id": free, "code": "z = 4"})
        await client.command({"type": "run_all"})
        run = await client.run_done()

        assert statuses(run, source) == ["queued", "running", "error"]
        (error,) = of_cell(run, source, "cell_error")
        assert error["error"]["ename"] == "ZeroDivisionError"
        assert last_status(run, source)["error"] == "ZeroDivisionError: division by zero"
        for blocked in (child, grandchild):
            assert statuses(run, blocked) == ["queued", "blocked"]
            final = last_status(run, blocked)
            assert source in final["error"]  # the reason names the failed cell
            assert final["stale"] is True  # what it showed before is not fresh
            assert not of_cell(run, blocked, "cell_stdout", "cell_output", "cell_error")
        assert statuses(run, free) == ["queued", "running", "success"]
        await s.agrees_with_rest()

        # Fixing the failed cell and running it unblocks the chain.
        await client.command({"type": "cell_update", "cell_id": source, "code": "x = 10"})
        await client.command({"type": "run_cell", "cell_id": source})
        fixed = await client.run_done()
        for cell in (source, child, grandchild):
            assert statuses(fixed, cell) == ["queued", "running", "success"]
        assert printed(fixed, grandchild) == "11\n"
        assert statuses(fixed, free) == []  # current already: not re-run
        await s.agrees_with_rest()


async def test_a_blocked_cell_that_never_ran_keeps_its_reason(api: Api, jp_ws_fetch: Any) -> None:
    s = await scenario(api, jp_ws_fetch, "x = 1 / 0", "y = x + 1")
    source, child = s.cells
    async with s.client as client:
        await client.command({"type": "run_all"})
        run = await client.run_done()
        assert statuses(run, child) == ["queued", "blocked"]
        for status in of_cell(run, child, "cell_status")[1:]:
            assert source in status["error"]  # every blocked announcement says why
        await s.agrees_with_rest()


async def test_deleting_a_cell_makes_its_former_dependents_fail_with_a_name_error(
    api: Api, jp_ws_fetch: Any
) -> None:
    s = await scenario(api, jp_ws_fetch, "a = 1", "print(a + 1)", "c = 7")
    source, reader, other = s.cells
    async with s.client as client:
        await client.command({"type": "run_all"})
        first = await client.run_done()
        assert printed(first, reader) == "2\n"

        deleted = await client.exchange({"type": "delete_cell", "cell_id": source})
        assert [m["type"] for m in deleted] == ["cell_deleted", "ack"]
        assert deleted[0]["cell_id"] == source
        rerun = await client.run_done()  # the deletion re-runs the dependents by itself

        assert statuses(rerun, reader) == ["queued", "running", "error"]
        (error,) = of_cell(rerun, reader, "cell_error")
        assert error["error"]["ename"] == "NameError"
        assert "'a'" in error["error"]["evalue"]
        assert last_status(rerun, reader)["error"].startswith("NameError")
        assert statuses(rerun, other) == []  # unrelated: untouched
        assert not of_cell(rerun, source)
        await s.agrees_with_rest()


async def test_interrupting_an_endless_loop_is_quick_and_the_next_run_works(
    api: Api, jp_ws_fetch: Any
) -> None:
    s = await scenario(api, jp_ws_fetch, "while True: pass", "k = 41", "k + 1")
    loop, base, result = s.cells
    async with s.client as client:
        await client.command({"type": "run_cell", "cell_id": loop})
        await client.until(lambda m: m.get("cell_id") == loop and m.get("status") == "running")

        clock = asyncio.get_running_loop()
        started = clock.time()
        taken = await client.exchange({"type": "interrupt"})
        assert taken[-1]["type"] == "ack"
        answered = clock.time() - started

        def failed(m: Message) -> bool:
            return m.get("cell_id") == loop and m.get("status") == "error"

        # The cell's failure may come before the interrupt's ack: both follow the interrupt.
        stopped = [m for m in taken if failed(m)] or await client.until(
            failed, timeout=INTERRUPT_WITHIN
        )
        assert clock.time() - started < INTERRUPT_WITHIN
        assert answered < INTERRUPT_WITHIN
        assert stopped[-1]["error"] == "interrupted"
        await client.until(lambda m: kernel_state(m) == "idle")

        await client.command({"type": "run_cell", "cell_id": result})
        run = await client.run_done()
        assert statuses(run, base) == ["queued", "running", "success"]
        assert statuses(run, result) == ["queued", "running", "success"]
        assert shown(run, result) == ["42"]
        assert statuses(run, loop) == []
        await s.agrees_with_rest()


async def test_output_streams_while_the_cell_is_still_running(api: Api, jp_ws_fetch: Any) -> None:
    code = "import time\nprint('first')\ntime.sleep(1)\nprint('second')"
    s = await scenario(api, jp_ws_fetch, code)
    (cell,) = s.cells
    async with s.client as client:
        clock = asyncio.get_running_loop()
        await client.command({"type": "run_cell", "cell_id": cell})
        before = await client.until(lambda m: m["type"] == "cell_stdout")
        first_at = clock.time()
        assert before[-1]["data"] == "first\n"
        assert "success" not in statuses(before, cell)

        rest = await client.until(lambda m: m.get("status") == "success")
        assert clock.time() - first_at > 0.5  # "first" came about a second before the end
        assert printed(rest, cell) == "second\n"


def outputs_seen(messages: list[Message], cell_id: str) -> list[Any]:
    """The cell's outputs as a client builds them from events (docs/websocket.md): a run
    starting clears them, ``cell_output`` appends, ``cell_output_updated`` replaces the
    outputs of its display id."""
    outputs: list[Any] = []
    for m in of_cell(messages, cell_id, "cell_status", "cell_output", "cell_output_updated"):
        if m["type"] == "cell_status" and m["status"] == "running":
            outputs = []
        elif m["type"] == "cell_output":
            outputs.append(m["output"])
        elif m["type"] == "cell_output_updated":
            outputs = [
                m["output"] if o["metadata"].get("display_id") == m["display_id"] else o
                for o in outputs
            ]
    return outputs


async def test_a_display_update_from_another_cell_reaches_every_client(
    api: Api, jp_ws_fetch: Any
) -> None:
    s = await scenario(
        api,
        jp_ws_fetch,
        "bar = display('0%', display_id=True)",
        "for i in range(5):\n    bar.update(f'{(i + 1) * 20}%')",
        "h = display('x', display_id='d')",
        "h.update('z')",
    )
    bar, loop, first, second = s.cells
    watcher = await WsClient.connect(jp_ws_fetch, s.notebook_id, batch=True)
    async with s.client as client, watcher:
        assert (await watcher.next())["type"] == "snapshot"
        await client.command({"type": "run_all"})
        for messages in (await client.run_done(), await watcher.run_done()):
            updates = of_cell(messages, bar, "cell_output_updated")
            assert [u["output"]["data"] for u in updates] == [
                f"'{n}%'" for n in (20, 40, 60, 80, 100)
            ]
            assert all(u["trusted"] for u in updates)
            assert [o["data"] for o in outputs_seen(messages, bar)] == ["'100%'"]
            assert [o["data"] for o in outputs_seen(messages, first)] == ["'z'"]
            # An update adds no output to the cell that made it.
            assert outputs_seen(messages, loop) == []
            assert outputs_seen(messages, second) == []
        notebook = payload(await api("GET", "notebooks", s.notebook_id))
        assert [[o["data"] for o in c["outputs"]] for c in notebook["cells"]] == [
            ["'100%'"],
            [],
            ["'z'"],
            [],
        ]
        await s.agrees_with_rest()
