"""Events reach the subscribers of their own notebook only, and can be replayed."""

from __future__ import annotations

import asyncio

from reactive_notebook.notebooks.events import EventHub


def test_subscribers_see_only_their_notebooks_events_in_order() -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        hub = EventHub()
        first = hub.subscribe("nb1")
        second = hub.subscribe("nb2")
        got_first = asyncio.create_task(_take(first, 2))
        got_second = asyncio.create_task(_take(second, 1))
        await asyncio.sleep(0)  # both subscribed
        hub.publish("nb1", "cell_status", cell_id="a", status="running")
        hub.publish("nb2", "cell_deleted", cell_id="z")
        hub.publish("nb1", "cell_status", cell_id="a", status="success")
        return await got_first, await got_second

    first, second = asyncio.run(scenario())
    assert first == ["cell_status:running", "cell_status:success"]
    assert second == ["cell_deleted:z"]


def test_a_reconnecting_client_gets_what_it_missed_or_is_told_to_resync() -> None:
    hub = EventHub(history=3)
    for n in range(5):
        hub.publish("nb", "cell_updated", cell_id=str(n))
    assert [e.seq for e in hub.since("nb", 3) or []] == [4, 5]
    assert hub.since("nb", 0) is None  # events 1-2 are gone: take a fresh snapshot
    assert hub.since("other", 0) == []


def test_messages_carry_type_sequence_and_data() -> None:
    hub = EventHub()
    event = hub.publish("nb", "cell_moved", cell_id="a", index=2)
    assert event.message() == {"type": "cell_moved", "seq": 1, "cell_id": "a", "index": 2}


async def _take(events, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    taken: list[str] = []
    async for event in events:
        detail = event.data.get("status") or event.data.get("cell_id")
        taken.append(f"{event.type}:{detail}")
        if len(taken) == count:
            break
    return taken


def test_big_events_are_kept_and_queued_up_to_a_byte_bound() -> None:
    # A run printing 1 MB chunks: 1000 kept events and a 10,000-event queue per client
    # held gigabytes. Both are bounded in bytes too.
    hub = EventHub(history_bytes=1_000_000, limit_bytes=1_000_000)
    first = hub.last_seq("nb")
    reader = hub.listen("nb")
    for n in range(100):
        hub.publish("nb", "cell_stdout", cell_id="a", name="stdout", data=f"{n:03d}" + "x" * 99_997)
    last = hub.last_seq("nb")
    kept = max(k for k in range(1, 101) if hub.since("nb", last - k) is not None)
    replay = hub.since("nb", last - kept) or []
    assert 5 <= kept < 10
    assert sum(event.size for event in replay) <= 1_000_000
    assert replay[-1].data["data"].startswith("099")  # the latest are the ones kept
    assert hub.since("nb", first) is None  # a client that far behind takes a snapshot
    assert reader.lagged
    assert reader.queued_bytes == 0
    assert reader.pending() == []


def test_one_event_bigger_than_the_bounds_is_still_delivered() -> None:
    hub = EventHub(history_bytes=1_000, limit_bytes=1_000)
    reader = hub.listen("nb")
    hub.publish("nb", "cell_output", cell_id="a", output={"data": "x" * 10_000})
    assert [event.type for event in reader.pending()] == ["cell_output"]
    assert not reader.lagged
    assert len(hub.since("nb", hub.last_seq("nb") - 1) or []) == 1
