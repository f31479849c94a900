"""Nothing of ours writes a file that has a room (issue 14, the out-of-band race).

A write to the file that goes around the room is taken by jupyter-collaboration as a
change made on disk by someone else, and the disk wins: the room reloads the file and a
tab's edit not saved yet is gone (the research spike reproduced it). Before this issue
the service saved its own copy of the notebook after every run, so a person typing in a
tab while a run printed lost what they typed. Now the room saves, and runs write into it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import Api, eventually, make_notebook

SLOW = "import time\nfor i in range(6):\n    print(i)\n    time.sleep(0.15)"


async def test_a_tabs_edit_during_a_run_is_kept_in_the_document_and_on_disk(
    api: Api, open_tab: Any, jp_root_dir: Path
) -> None:
    notebook, path, (slow, other) = await make_notebook(api, SLOW, "y = 1")
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.sources()[-2:] == [SLOW, "y = 1"], "the cells")
    await api("POST", "notebooks", notebook, "cells", slow, "run", body={"wait": False})
    await tab.wait_for(lambda: tab.cell(slow)["outputs"], "the run's first output")
    tab.type_into(other, "  # typed in the tab during the run")

    async def run_ended() -> bool:
        described = await api("GET", "notebooks", notebook, "cells", slow)
        return bool(described["status"] == "success")

    await eventually(run_ended, "the end of the run")
    edited = "y = 1  # typed in the tab during the run"

    async def on_disk() -> bool:
        saved = json.loads((jp_root_dir / path).read_text())
        cells = {cell["id"]: cell for cell in saved["cells"]}
        printed = "".join(_text(o.get("text", "")) for o in cells[slow]["outputs"])
        return _text(cells[other]["source"]) == edited and printed == "0\n1\n2\n3\n4\n5\n"

    await eventually(on_disk, "the edit and the run's outputs in the file")
    # A file poll later, the room still holds the edit (no reload from disk dropped it).
    await eventually(lambda: _after(0.5), "a poll of the file")
    assert tab.cell(other)["source"] == edited
    described = await api("GET", "notebooks", notebook, "cells", other)
    assert described["code"] == edited


def _text(value: str | list[str]) -> str:
    """A multi-line string as nbformat stores it (a string or a list of lines)."""
    return value if isinstance(value, str) else "".join(value)


async def _after(seconds: float) -> bool:
    import asyncio

    await asyncio.sleep(seconds)
    return True
