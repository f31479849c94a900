"""The lifecycle of the rooms the service opens (issue 14).

The service opens a notebook's room itself (``get_document(..., create=True)``) when an
API user works on a notebook no tab has open. Such a room has no client whose leaving
would clean it up, so the service saves and removes it when it closes the notebook (as
the idle reclaimer does); a room a tab holds stays, and keeps saving the tab's edits.
When its last tab leaves, jupyter-collaboration deletes a room after
``document_cleanup_delay``: the service stands among the room's clients while it holds
the notebook, so a run never writes into a room deleted under it. A room can still be
deleted behind our back (jupyter-collaboration's shutdown, which runs alongside ours):
the next request moves onto a new room, and closing saves what only the old one held.
Nothing may be lost on the way: not an edit, not a run's outputs.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from reactive_notebook.notebooks.documents import RoomDocuments, _choose, _Holder

from .conftest import CLEANUP_DELAY, Api, delete_behind_our_back, eventually, make_notebook


def _tabs_of(room: Any) -> list[Any]:
    """The room's clients besides the service's own holder: its tabs."""
    return [client for client in room.clients if not isinstance(client, _Holder)]


async def _run_in_a_tab(
    api: Api, open_tab: Any, *codes: str, wait: bool = True
) -> tuple[str, str, list[str], Any]:
    """A notebook of ``codes`` open in a tab, its first cell run (with ``wait``, to its
    end) and its output seen in the tab: the notebook, its path, the cells, the tab."""
    notebook, path, cells = await make_notebook(api, *codes)
    tab = await open_tab(path)
    await api("POST", "notebooks", notebook, "cells", cells[0], "run", body={"wait": wait})
    first = cells[0]
    await tab.wait_for(lambda: _printed(tab.cell(first)), "the run's output")
    return notebook, path, cells, tab


def _rooms(serverapp: Any) -> RoomDocuments:
    source = _choose(serverapp)
    assert isinstance(source, RoomDocuments), "the test server has no collaboration rooms"
    return source


def _service(serverapp: Any) -> Any:
    return serverapp.web_app.settings["reactive_notebook_service"]


def _file_id(serverapp: Any, path: str) -> str:
    return str(serverapp.web_app.settings["file_id_manager"].index(path))


def _saved(root: Path, path: str) -> dict[str, dict[str, Any]]:
    """The cells of the notebook's file, by id, with sources and stream texts joined."""
    saved = json.loads((root / path).read_text())
    cells = {}
    for cell in saved["cells"]:
        cell["source"] = _text(cell["source"])
        cell["printed"] = "".join(_text(o.get("text", "")) for o in cell.get("outputs", []))
        cells[cell["id"]] = cell
    return cells


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _printed(cell: dict[str, Any]) -> str:
    """What a cell of a tab's document printed (its stream outputs, joined)."""
    return "".join(str(o.get("text", "")) for o in cell["outputs"] if o["output_type"] == "stream")


async def test_a_room_no_tab_holds_saves_is_removed_on_close_and_reopens_with_outputs(
    api: Api, jp_serverapp: Any, jp_root_dir: Path
) -> None:
    rooms = _rooms(jp_serverapp)
    notebook, path, (cell,) = await make_notebook(api, "print('kept by the room')")
    await api("POST", "notebooks", notebook, "cells", cell, "run", body={"wait": True})
    room_id, file_id = rooms.room_id(path), _file_id(jp_serverapp, path)
    room = rooms.room(room_id)
    assert room is not None
    assert not _tabs_of(room)

    async def saved_by_the_room() -> bool:
        return _saved(jp_root_dir, path)[cell]["printed"] == "kept by the room\n"

    await eventually(saved_by_the_room, "the room's autosave of the run's outputs")

    await _service(jp_serverapp).close_notebook(notebook)  # as the idle reclaimer does
    assert rooms.room(room_id) is None
    assert room_id not in rooms.extension.ywebsocket_server.rooms
    assert file_id not in rooms.extension.file_loaders

    described = await api("GET", "notebooks", notebook)
    (shown,) = described["cells"]
    assert shown["id"] == cell
    assert shown["stdout"] == "kept by the room\n"
    assert shown["execution_count"] is not None
    reopened = rooms.room(room_id)
    assert reopened is not None
    assert reopened is not room


async def test_closing_saves_what_the_room_had_not_saved_yet(
    api: Api, jp_serverapp: Any, jp_root_dir: Path
) -> None:
    """The room's autosave is debounced; closing right after a run must not cancel it
    and lose the outputs (upstream: jupyter-mcp-server#463, a save cancelled at room
    cleanup)."""
    rooms = _rooms(jp_serverapp)
    notebook, path, (cell,) = await make_notebook(api, "x = 1")
    await api("POST", "notebooks", notebook, "cells", cell, "run", body={"wait": True})
    await api("PUT", "notebooks", notebook, "cells", cell, body={"code": "print('last words')"})
    await api("POST", "notebooks", notebook, "cells", cell, "run", body={"wait": True})
    await _service(jp_serverapp).close_notebook(notebook)
    assert rooms.room(rooms.room_id(path)) is None

    saved = _saved(jp_root_dir, path)[cell]  # at once: no autosave could have run since
    assert saved["source"] == "print('last words')"
    assert saved["printed"] == "last words\n"
    described = await api("GET", "notebooks", notebook, "cells", cell)
    assert described["code"] == "print('last words')"
    assert described["stdout"] == "last words\n"


async def test_a_room_a_tab_holds_stays_when_the_service_closes_the_notebook(
    api: Api, jp_serverapp: Any, jp_root_dir: Path, open_tab: Any
) -> None:
    rooms = _rooms(jp_serverapp)
    notebook, path, (cell, other), tab = await _run_in_a_tab(api, open_tab, "print('ran')", "y = 1")
    room = rooms.room(rooms.room_id(path))
    assert room is not None
    assert _tabs_of(room)

    await _service(jp_serverapp).close_notebook(notebook)
    assert rooms.room(rooms.room_id(path)) is room  # the tab still edits it

    tab.type_into(other, "  # typed after the service closed the notebook")
    edited = "y = 1  # typed after the service closed the notebook"

    async def on_disk() -> bool:
        saved = _saved(jp_root_dir, path)
        return saved[other]["source"] == edited and saved[cell]["printed"] == "ran\n"

    await eventually(on_disk, "the tab's edit saved by the room")
    described = await api("GET", "notebooks", notebook, "cells", other)
    assert described["code"] == edited


async def test_a_rest_edit_after_the_room_was_replaced_lands_in_the_new_room(
    api: Api, jp_serverapp: Any, jp_root_dir: Path, open_tab: Any
) -> None:
    rooms = _rooms(jp_serverapp)
    notebook, path, (cell, other), tab = await _run_in_a_tab(
        api, open_tab, "print('before leaving')", "y = 1"
    )
    room_id = rooms.room_id(path)
    await tab.close()
    old = await delete_behind_our_back(rooms, room_id)
    await api("PUT", "notebooks", notebook, "cells", other, body={"code": "y = 2"})
    new = rooms.room(room_id)
    assert new is not None
    assert new is not old

    fresh = await open_tab(path)
    await fresh.wait_for(lambda: fresh.cell(other)["source"] == "y = 2", "the REST edit")
    assert fresh.ids() == [cell, other]
    assert _printed(fresh.cell(cell)) == "before leaving\n"

    async def on_disk() -> bool:
        saved = _saved(jp_root_dir, path)
        return saved[other]["source"] == "y = 2" and saved[cell]["printed"] == "before leaving\n"

    await eventually(on_disk, "the REST edit and the run's output in the file")
    assert list(_saved(jp_root_dir, path)) == [cell, other]


SLOW = "import time\nfor i in range(12):\n    print(i)\n    time.sleep(0.2)"


async def test_a_room_the_last_tab_left_stays_while_a_run_writes_into_it(
    api: Api, jp_serverapp: Any, jp_root_dir: Path, open_tab: Any
) -> None:
    """The only tab leaves during a run: the room is not cleaned up under the run (the
    service holds it), and a new tab (no API request in between) sees the whole run, as
    does the file."""
    rooms = _rooms(jp_serverapp)
    _notebook, path, (slow,), tab = await _run_in_a_tab(api, open_tab, SLOW, wait=False)
    room_id = rooms.room_id(path)
    old = rooms.room(room_id)
    await tab.close()
    await asyncio.sleep(CLEANUP_DELAY * 3)
    assert rooms.room(room_id) is old

    whole = "".join(f"{i}\n" for i in range(12))
    fresh = await open_tab(path)

    async def everywhere() -> bool:
        saved = _saved(jp_root_dir, path)[slow]["printed"]
        return _printed(fresh.cell(slow)) == whole and saved == whole

    await eventually(everywhere, "the whole run in the new tab and in the file")


async def test_closing_after_the_room_was_cleaned_up_mid_run_saves_the_whole_run(
    api: Api, jp_serverapp: Any, jp_root_dir: Path, open_tab: Any
) -> None:
    """The room is deleted behind our back during a run (upstream jupyter-mcp-server#463:
    the deletion cancels the room's pending save). When the service closes the notebook,
    the rest of the run reaches the file."""
    rooms = _rooms(jp_serverapp)
    notebook, path, (slow,), tab = await _run_in_a_tab(api, open_tab, SLOW, wait=False)
    room_id = rooms.room_id(path)
    await tab.close()
    await delete_behind_our_back(rooms, room_id)
    service = _service(jp_serverapp)
    opened = service._open[notebook]  # no request: it would move onto a new room
    await eventually(lambda: _done(opened, slow), "the end of the run")
    whole = "".join(f"{i}\n" for i in range(12))
    assert _saved(jp_root_dir, path)[slow]["printed"] != whole  # only the dead room has it

    await service.close_notebook(notebook)
    assert _saved(jp_root_dir, path)[slow]["printed"] == whole
    assert rooms.room(room_id) is None  # closing made no room


async def _done(opened: Any, cell_id: str) -> bool:
    return bool(opened.cells.get(cell_id).status.value == "success")


async def test_closing_after_the_room_was_cleaned_up_lets_a_newer_file_win(
    api: Api, jp_serverapp: Any, jp_root_dir: Path, open_tab: Any
) -> None:
    """The last save of a room deleted under us is checked as the room's saves are: a
    file another tool wrote since (git, an editor) is not overwritten."""
    rooms = _rooms(jp_serverapp)
    notebook, path, (_cell,), tab = await _run_in_a_tab(api, open_tab, "print('ran')")
    room_id = rooms.room_id(path)
    await tab.close()
    await delete_behind_our_back(rooms, room_id)
    file = jp_root_dir / path
    theirs = json.loads(file.read_text())
    theirs["cells"][0]["source"] = "print('written by another tool')"
    theirs["cells"][0]["outputs"] = []
    file.write_text(json.dumps(theirs))

    await _service(jp_serverapp).close_notebook(notebook)
    assert json.loads(file.read_text()) == theirs
