"""A real Jupyter server with jupyter-collaboration's rooms and the extension: open
notebooks are rooms, and pure-Python Y clients (``ytab.YTab``) play the JupyterLab tabs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from ..handlers.conftest import API, payload, rooms_config
from .ytab import ServerAddress, YTab

#: Short delays so a test sees a save or a cleanup in well under a second.
SAVE_DELAY = 0.2
CLEANUP_DELAY = 0.5


#: The server extensions of a test server with rooms.
ROOMS_EXTENSIONS = {
    "reactive_notebook": True,
    "jupyter_server_ydoc": True,
    "jupyter_server_fileid": True,
    "jupyter_server_terminals": False,
}


@pytest.fixture
def jp_server_config(jp_root_dir: Any, monkeypatch: Any) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": dict(ROOMS_EXTENSIONS),
            "contents_manager_class": (
                "reactive_notebook.contents.atomic.AtomicFileContentsManager"
            ),
        },
        "ReactiveNotebook": {"save_delay": 0.05},
        **rooms_config(
            jp_root_dir, monkeypatch, save_delay=SAVE_DELAY, cleanup_delay=CLEANUP_DELAY
        ),
    }


Api = Callable[..., Awaitable[Any]]


@pytest.fixture
def api(jp_fetch: Any) -> Api:
    """``await api("POST", "notebooks", body={...})``: the JSON answer (raises on 4xx)."""

    async def call(method: str, *parts: str, body: Any = None) -> Any:
        data = json.dumps(body) if body is not None else (b"" if method == "POST" else None)
        response = await jp_fetch(*API, *parts, method=method, body=data)
        return payload(response)

    return call


async def make_notebook(api: Api, *codes: str) -> tuple[str, str, list[str]]:
    """A notebook made through the API with Python cells of ``codes``: its id, its
    file's path and the cells' ids."""
    created = await api("POST", "notebooks", body={"name": "live"})
    ids = []
    for code in codes:
        cell = await api(
            "POST",
            "notebooks",
            created["notebook_id"],
            "cells",
            body={"type": "python", "code": code},
        )
        ids.append(cell["cell_id"])
    return created["notebook_id"], created["path"], ids


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 30) -> Any:
    """Wait until ``await check()`` is truthy; its value (an AssertionError after
    ``timeout`` seconds saying what never happened)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.02)


async def delete_behind_our_back(rooms: Any, room_id: str) -> Any:
    """Delete the room as jupyter-collaboration's cleanup or shutdown does (its pending
    save cancelled, its file loader dropped); the room deleted."""
    room = rooms.room(room_id)
    await rooms.extension.ywebsocket_server.delete_room(room=room)
    file_id = room_id.rsplit(":", 1)[1]
    if file_id in rooms.extension.file_loaders:
        await rooms.extension.file_loaders.remove(file_id)
    return room


@pytest.fixture
def open_tab(
    jp_fetch: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    jp_asyncio_loop: Any,
) -> Iterator[Callable[[str], Awaitable[YTab]]]:
    """``await open_tab(path)``: a Y client in the notebook's room, synced (each one
    leaves its room when the test ends)."""
    tabs: list[YTab] = []

    async def opener(path: str) -> YTab:
        server = ServerAddress(jp_http_port, jp_base_url, dict(jp_auth_header))
        tab = await YTab.open(jp_fetch, server, path)
        tabs.append(tab)
        return tab

    yield opener
    for tab in tabs:
        jp_asyncio_loop.run_until_complete(tab.close())
