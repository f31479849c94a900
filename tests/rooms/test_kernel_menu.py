"""JupyterLab's Kernel menu acts on a reactive notebook's kernel (issue 15).

A reactive notebook open in the stock notebook shares its Jupyter session's kernel with
the reactive runs, so the Kernel menu's *Interrupt* and *Restart* go through Jupyter's own
kernels API (``POST /api/kernels/{id}/interrupt`` and ``.../restart``), never ours. They
must leave the notebook as our own endpoints would: an interrupt ends the running cell
"interrupted" and nothing more of the run (or of what was queued behind it) runs; a
restart makes every cell that ran stale, and running one cell afterwards replays its
ancestors first. A Y tab watches the document as a JupyterLab tab would.
"""

from __future__ import annotations

import json
from typing import Any

from ..handlers.wsclient import WsClient, events, kernel_state, statuses
from .conftest import Api, eventually, make_notebook


async def session_kernel(jp_fetch: Any, path: str) -> str:
    """The id of the kernel of the notebook's Jupyter session (what the tab's Kernel menu
    acts on)."""
    sessions = json.loads((await jp_fetch("api", "sessions")).body)
    (session,) = [s for s in sessions if s["path"] == path]
    return str(session["kernel"]["id"])


def cells_by_id(described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {cell["id"]: cell for cell in described["cells"]}


async def test_interrupt_from_the_kernel_menu_ends_the_running_cell_and_the_rest_of_the_run(
    api: Api, open_tab: Any, jp_fetch: Any, jp_ws_fetch: Any
) -> None:
    notebook, path, (first, slow, after, other) = await make_notebook(
        api,
        "a = 1",
        "import time\nfor _ in range(600):\n    time.sleep(0.1)\nb = a + 1",
        "c = b + 1\nc",
        "d = 4\nd",
    )
    tab = await open_tab(path)
    client = await WsClient.connect(jp_ws_fetch, notebook)
    async with client:
        assert (await client.next())["type"] == "snapshot"
        await client.command({"type": "run_cell", "cell_id": first})
        await client.until(lambda m: m.get("cell_id") == slow and m.get("status") == "running")
        # Queued behind the running chain: cancelled by the interrupt, as a stock
        # notebook's queued cells are when one of them is interrupted.
        await client.command({"type": "run_cell", "cell_id": other})

        kernel = await session_kernel(jp_fetch, path)
        interrupted = await jp_fetch("api", "kernels", kernel, "interrupt", method="POST", body="")
        assert interrupted.code == 204

        said = await client.until(lambda m: kernel_state(m) == "idle", timeout=20)
        said += await client.quiet(0.5)  # nothing more runs after it
        assert statuses(said, slow)[-1] == "error"
        assert statuses(said, after) in ([], ["idle"])  # cancelled: never ran
        assert "running" not in statuses(said, other)
        assert [kernel_state(m) for m in said if kernel_state(m)] == ["idle"]

        described = cells_by_id(await api("GET", "notebooks", notebook))
        assert (described[first]["status"], described[first]["error"]) == ("success", None)
        assert (described[slow]["status"], described[slow]["error"]) == ("error", "interrupted")
        assert (described[after]["status"], described[after]["outputs"]) == ("idle", [])
        assert (described[other]["status"], described[other]["outputs"]) == ("idle", [])

        # The tab shows no cell still queued or running, and no output of the rest.
        def settled() -> bool:
            cells = {cell["id"]: cell for cell in tab.cells()}
            return all(cell.get("execution_state") != "running" for cell in cells.values())

        await tab.wait_for(settled, "every cell idle")
        assert tab.cell(after)["outputs"] == tab.cell(other)["outputs"] == []
        assert tab.cell(after)["execution_count"] is None

        # The kernel lives on: running the rest works.
        await client.command({"type": "run_cell", "cell_id": other})
        run = await client.run_done()
        assert statuses(run, other) == ["queued", "running", "success"]
        assert [m["output"]["data"] for m in events(run, "cell_output")] == ["4"]


async def test_restart_from_the_kernel_menu_makes_every_cell_stale_and_a_run_replays_ancestors(
    api: Api, open_tab: Any, jp_fetch: Any
) -> None:
    notebook, path, (first, second, third) = await make_notebook(
        api, "a = 20", "b = a + 1", "b * 2"
    )
    tab = await open_tab(path)
    ran = await api("POST", "notebooks", notebook, "run", body={"wait": True})
    assert [c["status"] for c in ran["cells"]] == ["success"] * 3
    counts = [cell["execution_count"] for cell in ran["cells"]]

    kernel = await session_kernel(jp_fetch, path)
    restarted = await jp_fetch("api", "kernels", kernel, "restart", method="POST", body="")
    assert restarted.code == 200

    async def all_stale() -> bool:
        cells = (await api("GET", "notebooks", notebook))["cells"]
        return all(cell["stale"] for cell in cells)

    await eventually(all_stale, "every cell stale after the restart", timeout=20)
    # The outputs stay, as a stock notebook's do after a restart.
    await tab.wait_for(lambda: tab.cell(third)["outputs"], "the old result")

    # The leaf alone: its ancestors run first, in the new kernel.
    ran = await api("POST", "notebooks", notebook, "cells", third, "run", body={"wait": True})
    cells = cells_by_id(ran)
    assert [cells[c]["status"] for c in (first, second, third)] == ["success"] * 3
    assert not any(cells[c]["stale"] for c in (first, second, third))
    assert cells[third]["outputs"][0]["data"] == "42"
    new_counts = [cells[c]["execution_count"] for c in (first, second, third)]
    assert new_counts == [1, 2, 3]  # the new kernel's prompts, as after a stock restart
    assert new_counts != counts or counts == [1, 2, 3]
    assert await session_kernel(jp_fetch, path) == kernel  # the same session's kernel

    def replayed() -> bool:
        return [tab.cell(c)["execution_count"] for c in (first, second, third)] == [1, 2, 3]

    await tab.wait_for(replayed, "the replayed cells' new prompts")
    assert tab.cell(third)["outputs"][0]["data"]["text/plain"] == "42"
