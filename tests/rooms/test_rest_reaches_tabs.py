"""What the API does to a notebook shows in every JupyterLab tab of it, live (issue 14).

The notebook's state is its collaboration room's document: each REST change is one Y
transaction there, and a run writes outputs, counts and running marks into it as they
arrive. Two Y clients play two tabs.
"""

from __future__ import annotations

import json
from typing import Any

from .conftest import Api, make_notebook


async def test_rest_edits_reach_two_tabs(api: Api, open_tab: Any) -> None:
    notebook, path, (first, second) = await make_notebook(api, "a = 1", "b = a + 1")
    tab, other = await open_tab(path), await open_tab(path)
    for each in (tab, other):
        await each.wait_for(lambda each=each: each.ids() == [first, second], "the cells")
    added = await api(
        "POST",
        "notebooks",
        notebook,
        "cells",
        body={"type": "python", "code": "c = b", "after_cell_id": first},
    )
    for each in (tab, other):
        await each.wait_for(
            lambda each=each: each.ids() == [first, added["cell_id"], second], "the new cell"
        )
    await api("PUT", "notebooks", notebook, "cells", first, body={"code": "a = 10"})
    await tab.wait_for(lambda: tab.sources()[0] == "a = 10", "the new code")
    await api("POST", "notebooks", notebook, "cells", second, "move", body={"after_cell_id": None})
    await tab.wait_for(lambda: tab.ids() == [second, first, added["cell_id"]], "the move")
    await api("DELETE", "notebooks", notebook, "cells", added["cell_id"])
    await other.wait_for(lambda: other.ids() == [second, first], "the deletion")


async def test_a_run_writes_outputs_counts_and_marks_into_the_tab(api: Api, open_tab: Any) -> None:
    notebook, path, (first, second) = await make_notebook(
        api, "a = 6\nprint('from a')", "for i in range(3): print(i)\na * 7"
    )
    tab = await open_tab(path)
    await api("POST", "notebooks", notebook, "cells", first, "run", body={"wait": True})

    def finished() -> bool:
        cell = tab.cell(second)
        return cell["execution_count"] is not None and len(cell["outputs"]) == 2

    await tab.wait_for(finished, "the dependent cell's outputs")
    root, dependent = tab.cell(first), tab.cell(second)
    assert root["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "from a\n"}]
    assert dependent["outputs"][0]["text"] == "0\n1\n2\n"  # one stream, grown in place
    result = dependent["outputs"][1]
    assert result["output_type"] == "execute_result"
    assert result["data"] == {"text/plain": "42"}
    assert result["execution_count"] == dependent["execution_count"] == root["execution_count"] + 1
    assert root["execution_state"] == dependent["execution_state"] == "idle"


async def test_a_tabs_edit_changes_reads_and_marks_dependents_stale(
    api: Api, open_tab: Any, jp_ws_fetch: Any
) -> None:
    from ..handlers.wsclient import WsClient

    notebook, path, (first, second) = await make_notebook(api, "a = 1", "b = a + 1")
    await api("POST", "notebooks", notebook, "cells", first, "run", body={"wait": True})
    client = await WsClient.connect(jp_ws_fetch, notebook)
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.cell(second)["execution_count"], "the run")
    tab.replace_source(second, "b = a + z")
    messages = await client.until(
        lambda m: m.get("type") == "cell_updated" and m.get("cell_id") == second
    )
    updated = messages[-1]
    assert updated["cell"]["code"] == "b = a + z"
    assert updated["cell"]["reads"] == ["a", "z"]
    described = await api("GET", "notebooks", notebook)
    cells = {cell["id"]: cell for cell in described["cells"]}
    assert cells[second]["code"] == "b = a + z"
    assert cells[second]["stale"] is True
    assert cells[first]["stale"] is False
    await client.close()


async def test_a_cell_a_tab_adds_or_deletes_is_the_notebooks(api: Api, open_tab: Any) -> None:
    notebook, path, (first,) = await make_notebook(api, "a = 1")
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.ids() == [first], "the cell")
    added = tab.add_cell(1, "b = a * 2")

    async def described() -> dict[str, Any]:
        return dict(await api("GET", "notebooks", notebook))

    for _ in range(400):
        cells = (await described())["cells"]
        if [c["id"] for c in cells] == [first, added]:
            break
    else:
        raise AssertionError(json.dumps(cells))
    assert cells[1]["reads"] == ["a"]
    assert cells[1]["writes"] == ["b"]
    await api("POST", "notebooks", notebook, "cells", added, "run", body={"wait": True})
    await tab.wait_for(
        lambda: tab.cell(added)["outputs"] == [] and tab.cell(added)["execution_count"], "the run"
    )
    tab.delete_cell(first)
    for _ in range(400):
        cells = (await described())["cells"]
        if [c["id"] for c in cells] == [added]:
            break
    else:
        raise AssertionError(json.dumps(cells))


async def test_a_cell_a_tab_deletes_during_a_run_all_leaves_the_run_whole(
    api: Api, open_tab: Any, jp_ws_fetch: Any
) -> None:
    from ..handlers.wsclient import WsClient

    slow = "import time\nfor i in range(4):\n    print(i)\n    time.sleep(0.15)\nx = 1"
    notebook, path, (first, second, third) = await make_notebook(
        api, slow, "y = x + 1", "print('last', x)"
    )
    client = await WsClient.connect(jp_ws_fetch, notebook)
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.ids() == [first, second, third], "the cells")
    await api("POST", "notebooks", notebook, "run", body={"wait": False})
    await tab.wait_for(lambda: tab.cell(first)["outputs"], "the run going")
    tab.delete_cell(second)
    taken = await client.until(
        lambda m: m.get("type") == "cell_deleted" and m.get("cell_id") == second
    )
    assert taken[-1]["actor"] == {"kind": "document"}  # made in the shared document

    async def finished() -> bool:
        cells = (await api("GET", "notebooks", notebook))["cells"]
        return [c["status"] for c in cells] == ["success", "success"]

    for _ in range(1500):
        if await finished():
            break
    else:
        raise AssertionError("the run never ended")
    errors = [m for m in client.received if m.get("type") == "error"]
    assert errors == []
    await tab.wait_for(lambda: tab.cell(third)["outputs"], "the last cell's output")
    assert tab.ids() == [first, third]
    assert tab.cell(third)["outputs"][0]["text"] == "last 1\n"
    await client.close()


async def test_a_cell_added_with_an_id_nbformat_refuses_gets_a_fresh_one(
    api: Api, open_tab: Any
) -> None:
    notebook, path, (first,) = await make_notebook(api, "a = 1")
    tab = await open_tab(path)
    await tab.wait_for(lambda: tab.ids() == [first], "the cell")
    with tab.document.ydoc.transaction():
        for bad in ("../../etc/passwd", first):  # not an nbformat id; another cell's id
            cell = {"cell_type": "code", "source": "b = 2", "metadata": {}, "outputs": []}
            tab.document.ycells.append(tab.document.create_ycell({**cell, "id": bad}))

    def renamed() -> list[str]:
        ids = tab.ids()
        return ids if len(ids) == 3 and len(set(ids)) == 3 and "../../etc/passwd" not in ids else []

    ids = await tab.wait_for(renamed, "fresh ids for the two cells")
    assert ids[0] == first
    described = await api("GET", "notebooks", notebook)
    assert [cell["id"] for cell in described["cells"]] == ids
