"""Every cell says whether its outputs are trusted, over REST and the WebSocket, on a real
server with its own notary (issue 12, item 1; docs/websocket.md, "Output trust")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import Api, payload
from .contract import conforms
from .wsclient import WsClient, events

STORED = {
    "output_type": "display_data",
    "data": {"text/html": "<img src=x onerror=steal()>", "text/plain": "<HTML>"},
    "metadata": {},
}


def _write_foreign_file(root: Path, name: str) -> None:
    """A notebook from elsewhere with a stored HTML output, never signed here."""
    cell = {
        "id": "stored",
        "cell_type": "code",
        "metadata": {"trusted": True},  # what it claims does not count
        "execution_count": 1,
        "source": "from IPython.display import HTML\nHTML('<b>ran</b>')",
        "outputs": [STORED],
    }
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
    (root / name).write_text(json.dumps(notebook))


async def test_stored_outputs_are_untrusted_until_the_cell_runs_here(
    api: Api, jp_ws_fetch: Any, jp_root_dir: Path
) -> None:
    _write_foreign_file(jp_root_dir, "foreign.ipynb")
    (found,) = conforms(await api("GET", "notebooks", params={"path": "foreign.ipynb"}))[
        "notebooks"
    ]
    notebook_id = found["id"]
    (cell,) = conforms(await api("GET", "notebooks", notebook_id))["cells"]
    assert (cell["trusted"], cell["outputs"][0]["data"]) == (False, STORED["data"]["text/html"])

    async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
        snapshot = await client.next()
        assert [c["trusted"] for c in snapshot["notebook"]["cells"]] == [False]
        await client.command({"type": "run_cell", "cell_id": cell["id"]})
        ran = events(await client.run_done())
        outputs = [e for e in ran if e["type"] == "cell_output"]
        assert [(e["cell_id"], e["trusted"], e["output"]["data"]) for e in outputs] == [
            (cell["id"], True, "<b>ran</b>")
        ]
        answered = await client.exchange({"type": "create_cell", "cell_type": "python"})
        (made,) = events(answered, "cell_created")
        assert answered[-1]["type"] == "ack"
        assert (made["cell_id"], made["cell"]["trusted"]) == (
            answered[-1]["result"]["cell_id"],
            True,
        )

    cells = conforms(await api("GET", "notebooks", notebook_id))["cells"]
    assert [c["trusted"] for c in cells] == [True, True]
    cell_answer = conforms(
        await api("PUT", "notebooks", notebook_id, "cells", cell["id"], body={"code": "1"})
    )
    assert cell_answer["trusted"] is True, "an edit keeps the outputs of the run, trusted"
    assert payload(await api("GET", "notebooks", notebook_id))["cells"][0]["trusted"]
