"""A tab's *Reactive* toggle (issue 15): the notebook metadata ``reactive_notebook`` is what
makes a notebook reactive. A tab that removes it makes the notebook plain; the server's
saves then leave it out (they would otherwise make it reactive again behind the tab's
back), until a run is asked of the server."""

from __future__ import annotations

import asyncio
from typing import Any

from reactive_notebook.contents.ipynb import REACTIVE_KEY

from .conftest import Api, eventually, make_notebook


def tab_metadata(tab: Any) -> dict[str, Any]:
    return dict(tab.document._ymeta.get("metadata", {}).to_py() or {})


async def test_a_notebook_a_tab_made_plain_stays_plain_until_a_run_is_asked(
    api: Api, open_tab: Any
) -> None:
    notebook, path, (first,) = await make_notebook(api, "a = 1")
    tab = await open_tab(path)
    revision = (await api("GET", "notebooks", notebook))["revision"]
    await tab.wait_for(
        lambda: tab_metadata(tab).get(REACTIVE_KEY, {}).get("revision") == revision,
        "our metadata, up to date, in the tab",
    )

    # The toggle turned off: the tab removes the key.
    with tab.document.ydoc.transaction():
        del tab.document._ymeta["metadata"][REACTIVE_KEY]
    # Edits bump the notebook's revision, which our saves write: they must not re-add it.
    tab.type_into(first, "\nb = 2")
    await eventually(
        lambda: _code_is(api, notebook, first, "a = 1\nb = 2"), "the tab's edit on the server"
    )
    await api("PUT", "notebooks", notebook, "cells", first, body={"code": "a = 3"})
    await tab.wait_for(lambda: tab.sources() == ["a = 3"], "the API's edit in the tab")
    # Our saves are debounced by 0.5 s: three of them would have written it by now.
    await asyncio.sleep(1.5)
    assert REACTIVE_KEY not in tab_metadata(tab)

    # A run asked of the server makes it reactive again.
    await api("POST", "notebooks", notebook, "cells", first, "run", body={"wait": True})
    await tab.wait_for(lambda: REACTIVE_KEY in tab_metadata(tab), "our metadata back")
    assert tab_metadata(tab)[REACTIVE_KEY]["id"] == notebook


async def _code_is(api: Api, notebook: str, cell: str, code: str) -> bool:
    return (await api("GET", "notebooks", notebook, "cells", cell))["code"] == code
