"""The cap on running kernels, through the real server (issue 12 item 10): beyond
``ReactiveNotebook.max_kernels`` with every kernel in use, a run is refused with 429 JSON
that says what to do; the REST answer comes at once, not as a failed run later."""

from __future__ import annotations

from typing import Any

import pytest

from reactive_notebook.notebooks.reclaim import IN_USE_GRACE_SECONDS, RETRY_KERNELS

from .conftest import Api, payload
from .contract import conforms
from .wsclient import WsClient


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    reactive = {**jp_server_config["ReactiveNotebook"], "max_kernels": 1}
    return {**jp_server_config, "ReactiveNotebook": reactive}


async def notebook_with_a_cell(api: Api, name: str) -> tuple[str, str]:
    notebook_id = payload(await api("POST", "notebooks", body={"name": name}))["notebook_id"]
    cell = await api(
        "POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": "x = 1"}
    )
    return notebook_id, payload(cell)["cell_id"]


async def test_a_run_beyond_the_cap_gets_429_while_the_kernel_is_in_use(
    api: Api, jp_ws_fetch: Any
) -> None:
    first, cell = await notebook_with_a_cell(api, "first")
    ran = await api("POST", "notebooks", first, "cells", cell, "run", body={"wait": True})
    assert ran.code == 200
    second, other = await notebook_with_a_cell(api, "second")
    async with await WsClient.connect(jp_ws_fetch, first):  # a tab on the first notebook
        refused = await api("POST", "notebooks", second, "cells", other, "run", body={})
        assert refused.code == 429
        body = conforms(refused)
        assert "ReactiveNotebook.max_kernels" in body["message"]
        assert body["limit"] == 1
        # When to try again: a slot frees once a notebook has been unused for a moment.
        assert int(refused.headers["Retry-After"]) == body["retry_after"] == RETRY_KERNELS
        assert RETRY_KERNELS > IN_USE_GRACE_SECONDS
        refused_all = await api("POST", "notebooks", second, "run", body={})
        assert refused_all.code == 429
