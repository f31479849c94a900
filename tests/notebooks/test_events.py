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
