"""Outputs over a cell's cap reach the tabs and the file as the API shows them (issue 14).

A run writes into the room what our WebSocket clients are shown: a stream past the cell's
head stops growing, and at the cell's end its tail follows a note saying how much was
cut. So a tab, the file and the API hold the same capped outputs, never the whole print.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api, eventually, make_notebook

LIMIT = 20_000


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    jp_server_config["ReactiveNotebook"]["max_output_bytes"] = LIMIT
    return jp_server_config


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


async def test_a_print_over_the_cap_is_cut_alike_in_the_tab_the_file_and_the_api(
    api: Api, open_tab: Any, jp_root_dir: Path
) -> None:
    code = "for i in range(20000):\n    print(f'line {i:06d}')"
    notebook, path, (cell,) = await make_notebook(api, code)
    tab = await open_tab(path)
    await api("POST", "notebooks", notebook, "cells", cell, "run", body={"wait": True})
    described = await api("GET", "notebooks", notebook, "cells", cell)
    shown = described["stdout"]
    assert "output truncated" in shown or "cut" in shown
    assert len(shown) < 2 * LIMIT
    assert shown.endswith("line 019999\n")

    def in_tab() -> str:
        return "".join(str(o.get("text", "")) for o in tab.cell(cell)["outputs"])

    await tab.wait_for(lambda: in_tab() == shown, "the capped output")

    async def in_file() -> bool:
        saved = json.loads((jp_root_dir / path).read_text())
        (stored,) = saved["cells"]
        return "".join(_text(o.get("text", "")) for o in stored["outputs"]) == shown

    await eventually(in_file, "the capped output in the file")
    assert len((jp_root_dir / path).read_bytes()) < 3 * LIMIT
