"""Tabs that leave, join and reconnect during a run-all see each cell and each output
once (issue 14).

Upstream jupyter-collaboration issues 545, 594 and 621 are documents duplicated when a
client reconnects (with its own copy of the document) to a room, or to a room made anew
from the file. Here the service writes a run-all's outputs into the room while one tab
leaves, another joins and a third drops its connection and reconnects twice, keeping its
document as JupyterLab's provider does. At the end every tab, a tab opened afterwards and
the file hold what the API describes: each cell once, each cell's output once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reactive_notebook.notebooks.documents import RoomDocuments, _choose

from .conftest import Api, delete_behind_our_back, eventually, make_notebook
from .ytab import ServerAddress, YTab


def _cell(number: int) -> str:
    """A cell printing four lines over ~0.5 s, and a result."""
    return (
        "import time\n"
        f"for i in range(4):\n    print('cell {number}', i)\n    time.sleep(0.12)\n"
        f"v{number} = {number}\nv{number}"
    )


CODES = [_cell(n) for n in range(4)]


@pytest.fixture
def server(jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str]) -> ServerAddress:
    return ServerAddress(jp_http_port, jp_base_url, dict(jp_auth_header))


async def reconnect(tab: YTab, fetch: Any, server: ServerAddress) -> None:
    """Drop the tab's connection and make a new one, keeping its document."""
    await tab.close()
    await tab.connect(fetch, server)


Summary = tuple[str, str, list[str], Any]


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _summary(cell: dict[str, Any]) -> Summary:
    """A cell of a Y document or of the file as (id, stdout, displays' text, count); a
    stream split in two (an output written twice) fails here."""
    streams = [o for o in cell["outputs"] if o["output_type"] == "stream"]
    assert len(streams) <= 1, f"cell {cell['id']} has {len(streams)} streams: {streams}"
    displays = [o for o in cell["outputs"] if o["output_type"] != "stream"]
    return (
        str(cell["id"]),
        "".join(_text(o["text"]) for o in streams),
        [_text(o["data"]["text/plain"]) for o in displays],
        None if cell["execution_count"] is None else int(cell["execution_count"]),
    )


def _described(cell: dict[str, Any]) -> Summary:
    """A cell as the API describes it, in the same form."""
    displays = [o["data"] for o in cell["outputs"] if o["mime_type"] == "text/plain"]
    return (cell["id"], cell["stdout"], displays, cell["execution_count"])


async def _after_the_run(api: Api, notebook: str) -> list[Summary]:
    """Once every cell of the run-all succeeded: each cell as the API describes it."""

    async def run_ended() -> bool:
        described = await api("GET", "notebooks", notebook)
        return all(cell["status"] == "success" for cell in described["cells"])

    await eventually(run_ended, "the end of the run-all")
    described = await api("GET", "notebooks", notebook)
    return [_described(cell) for cell in described["cells"]]


def _printed(tab: YTab) -> str:
    return "".join(_text(o.get("text", "")) for c in tab.cells() for o in c["outputs"])


async def test_tabs_leaving_joining_and_reconnecting_during_a_run_all_see_no_duplicates(
    api: Api, open_tab: Any, jp_fetch: Any, server: ServerAddress, jp_root_dir: Path
) -> None:
    notebook, path, ids = await make_notebook(api, *CODES)
    leaving, reconnecting = await open_tab(path), await open_tab(path)
    for tab in (leaving, reconnecting):
        await tab.wait_for(lambda tab=tab: tab.ids() == ids, "the cells")
    await api("POST", "notebooks", notebook, "run", body={"wait": False})

    await leaving.wait_for(lambda: "cell 0 1" in _printed(leaving), "the run going")
    await leaving.close()
    joining = await open_tab(path)
    await reconnect(reconnecting, jp_fetch, server)
    await reconnecting.wait_for(lambda: "cell 1 1" in _printed(reconnecting), "the run going on")
    await reconnect(reconnecting, jp_fetch, server)

    expected = await _after_the_run(api, notebook)
    assert [cell[0] for cell in expected] == ids
    for number, (_, stdout, displays, count) in enumerate(expected):
        assert stdout == "".join(f"cell {number} {i}\n" for i in range(4))
        assert displays == [str(number)]
        assert count is not None

    late = await open_tab(path)
    for tab in (reconnecting, joining, late):
        await tab.wait_for(
            lambda tab=tab: [_summary(c) for c in tab.cells()] == expected,
            "each cell and each output once, as the API describes them",
        )

    async def saved() -> bool:
        cells = json.loads((jp_root_dir / path).read_text())["cells"]
        return [_summary(c) for c in cells] == expected

    await eventually(saved, "each cell and each output once in the file")


async def test_a_tab_reconnecting_to_a_room_made_anew_during_a_run_all_sees_no_duplicates(
    api: Api, open_tab: Any, jp_fetch: Any, server: ServerAddress, jp_serverapp: Any
) -> None:
    """The only tab drops its connection mid-run and the room is deleted behind our back
    (as jupyter-collaboration deletes a room no client holds): its reconnection makes a
    new one from the file, into which it brings its own copy of the document (upstream
    #594), and the service moves onto it, writing what only the old room held."""
    source = _choose(jp_serverapp)
    assert isinstance(source, RoomDocuments)
    notebook, path, ids = await make_notebook(api, *CODES)
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.ids() == ids, "the cells")
    await api("POST", "notebooks", notebook, "run", body={"wait": False})
    await tab.wait_for(lambda: "cell 0 1" in _printed(tab), "the run going")
    room_id = source.room_id(path)
    await tab.close()  # the connection drops
    await delete_behind_our_back(source, room_id)
    await tab.connect(jp_fetch, server)

    expected = await _after_the_run(api, notebook)
    assert [cell[0] for cell in expected] == ids
    late = await open_tab(path)

    async def converged() -> bool:
        return all([_summary(c) for c in each.cells()] == expected for each in (tab, late))

    await eventually(converged, "each cell and each output once in both tabs")
