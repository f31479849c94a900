"""One request does not freeze the server (issue 12 item 2), through the real server.

A cell holding an f-string of 60,000 fields takes CPython 3.11 2-3 s to compile, with the
GIL held. Analysed on the event loop, the PUT that sent it (or the GET that opened a file
holding it) blocked every other request, ``GET /api/status`` included, for that long.
Now the analysis runs in a worker process: the status answers while it goes on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import Api, payload, write_notebook

SLOW_TO_COMPILE = 'f"' + "{a}" * 60_000 + '"\nb = 1'


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    reactive = {
        **jp_server_config["ReactiveNotebook"],
        "max_cell_bytes": 200_000,
        "max_body_bytes": 1_000_000,
    }
    return {**jp_server_config, "ReactiveNotebook": reactive}


async def answered_first(slow: asyncio.Future[Any], jp_fetch: Any) -> bool:
    """Whether ``GET /api/status`` answers while ``slow`` is still pending."""
    await asyncio.sleep(0.3)  # the slow request has reached the server and is analysing
    status = await jp_fetch("api", "status")
    assert status.code == 200
    return not slow.done()


async def test_a_slow_cell_is_analysed_while_the_server_answers_others(
    api: Api, jp_fetch: Any
) -> None:
    created = await api("POST", "notebooks", body={"name": "slow"})
    notebook_id = payload(created)["notebook_id"]
    cell = await api("POST", "notebooks", notebook_id, "cells", body={"type": "python"})
    cell_id = payload(cell)["cell_id"]

    put = asyncio.ensure_future(
        api("PUT", "notebooks", notebook_id, "cells", cell_id, body={"code": SLOW_TO_COMPILE})
    )
    assert await answered_first(put, jp_fetch)
    updated = payload(await put)
    assert (updated["reads"], updated["writes"]) == (["a"], ["b"])


async def test_opening_a_file_holding_a_slow_cell_does_not_freeze_the_server(
    api: Api, jp_fetch: Any, jp_root_dir: Any
) -> None:
    write_notebook(jp_root_dir / "slow.ipynb", SLOW_TO_COMPILE)
    found = await api("GET", "notebooks", params={"path": "slow.ipynb"})
    (entry,) = payload(found)["notebooks"]

    opened = asyncio.ensure_future(api("GET", "notebooks", entry["id"]))
    assert await answered_first(opened, jp_fetch)
    (shown,) = payload(await opened)["cells"]
    assert shown["writes"] == ["b"]


async def test_a_cell_over_the_size_limit_shows_why_it_does_not_run(api: Api) -> None:
    created = await api("POST", "notebooks", body={"name": "big"})
    notebook_id = payload(created)["notebook_id"]
    big = "x = 1\n" * 40_000  # 240 kB; this server analyses cells of up to 200 kB
    cell = await api(
        "POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": big}
    )
    assert cell.code == 201  # kept, not lost
    shown = payload(await api("GET", "notebooks", notebook_id))["cells"][0]
    assert shown["code"] == big
    assert "ReactiveNotebook.max_cell_bytes" in shown["error"]
    ran = await api(
        "POST", "notebooks", notebook_id, "cells", shown["id"], "run", body={"wait": True}
    )
    after = payload(ran)["cells"][0]
    assert after["status"] == "blocked"
    assert "ReactiveNotebook.max_cell_bytes" in after["error"]
