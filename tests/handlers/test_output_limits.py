"""A cell that prints a lot, on a real server with a real kernel (issue 12, item 8).

Before: stream chunks were capped one by one and merged, so 100 MB printed gave a
100 MB cell: a 100 MB ``.ipynb`` and GET answer, every chunk kept in the event history
and written to every WebSocket client, and hundreds of MB of server memory. Here the
cell prints ~30 MB under a 200 kB ``max_output_bytes``; the server's memory is measured
with ``tracemalloc`` (the server runs in the test's process, and so does its kernel
client, which decodes every chunk).
"""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api, payload
from .wsclient import WsClient

LIMIT = 200_000
#: A saved notebook or a GET answer beyond its cell's outputs: code, ids, keys, notes.
MARGIN = 10_000
LINES = 30_000  # of 1000 bytes: ~30 MB

PRINT = f"""\
import sys
for _n in range({LINES}):
    print(f"{{_n:08d}} " + "x" * 990)
    if _n % 500 == 499:
        sys.stdout.flush()
"""


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    reactive = {
        **jp_server_config["ReactiveNotebook"],
        "max_output_bytes": LIMIT,
        "websocket_max_pending_bytes": 1_000_000,
    }
    return {**jp_server_config, "ReactiveNotebook": reactive}


def line(n: int) -> str:
    return f"{n:08d} " + "x" * 990 + "\n"


async def saved_text(path: Path, marker: str, timeout: float = 30.0) -> str:
    """The saved file once it holds ``marker`` (saves are debounced)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and marker in (text := path.read_text()):
            return text
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never held {marker!r}")


async def test_30_mb_printed_keeps_the_cells_limit_in_the_file_the_answer_and_memory(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Path
) -> None:
    created = await api("POST", "notebooks", body={"name": "printer"})
    notebook_id = payload(created)["notebook_id"]
    cell = payload(
        await api("POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": PRINT})
    )["cell_id"]
    # One client that never reads a message, one that reads them all.
    silent = await jp_ws_fetch("reactive", "api", "v1", "notebooks", notebook_id, "ws")
    reader = await WsClient.connect(jp_ws_fetch, notebook_id)
    try:
        tracemalloc.start()
        try:
            ran = await api(
                "POST", "notebooks", notebook_id, "cells", cell, "run", body={"wait": True}
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert ran.code == 200, ran.body

        answer = payload(await api("GET", "notebooks", notebook_id))
        assert len(json.dumps(answer)) <= LIMIT + MARGIN
        saved = await saved_text(jp_root_dir / "printer.ipynb", "of output cut")
        assert len(saved.encode()) <= LIMIT + MARGIN
        # The server held a few chunks at a time, not the 30 MB (before: > 100 MB).
        assert peak < 15_000_000, f"peak {peak / 1e6:.1f} MB"

        # What is kept: the first lines, a note, the last lines.
        (shown,) = answer["cells"]
        assert shown["status"] == "success"
        stdout = shown["stdout"]
        assert stdout.startswith(line(0) + line(1))
        assert "[... output cut: a cell keeps at most 200 kB of printed text;" in stdout
        assert "MB of output cut ...]" in stdout
        assert stdout.endswith(line(LINES - 2) + line(LINES - 1))
        (stored,) = json.loads(saved)["cells"][0]["outputs"]
        assert "".join(stored["text"]) == stdout  # nbformat stores a string a line

        # The reading client was shown the head as it came, the cut once, and the tail
        # when the cell ended: appended, that is the stored text.
        messages = await reader.until(lambda m: m.get("status") == "success")
        chunks = [m["data"] for m in messages if m["type"] == "cell_stdout"]
        assert "".join(chunks) == stdout
        assert sum("output cut: a cell keeps" in chunk for chunk in chunks) == 1
        assert len(chunks) < 10  # not the ~60 flushed chunks
    finally:
        silent.close()
        await reader.close()


async def test_thousands_of_small_images_do_not_add_up_past_the_limit(api: Api) -> None:
    # Each image is far under the limit; before, 2000 of them were all kept (4 MB).
    code = (
        "from IPython.display import display\n"
        "for _n in range(2000):\n"
        "    display({'image/png': f'{_n:04d}' + 'A' * 1996, 'text/plain': 'img'}, raw=True)\n"
    )
    created = await api("POST", "notebooks", body={"name": "images"})
    notebook_id = payload(created)["notebook_id"]
    cell = payload(
        await api("POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": code})
    )["cell_id"]
    ran = await api("POST", "notebooks", notebook_id, "cells", cell, "run", body={"wait": True})
    assert ran.code == 200, ran.body
    answer = payload(await api("GET", "notebooks", notebook_id))
    assert len(json.dumps(answer)) <= LIMIT + MARGIN
    (shown,) = answer["cells"]
    images = [o["data"] for o in shown["outputs"] if o["mime_type"] == "image/png"]
    assert images == [f"{n:04d}" + "A" * 1996 for n in range(len(images))]  # the first ones
    assert len(images) > 50
    assert shown["outputs"][-1]["data"].startswith("*output truncated: more output than")
