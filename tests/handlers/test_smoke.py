"""The extension loads in a real server and answers under the base URL."""

from __future__ import annotations

from typing import Any

from .conftest import Api, payload


async def test_health_answers_without_credentials(jp_fetch: Any) -> None:
    response = await jp_fetch("reactive", "health", headers={"Authorization": ""})
    assert payload(response)["status"] == "ok"


async def test_create_add_three_cells_and_run_them(api: Api) -> None:
    created = payload(await api("POST", "notebooks", body={"name": "smoke"}))
    nid = created["notebook_id"]
    for code in ("x = 1", "y = x + 1", "y"):
        response = await api(
            "POST", "notebooks", nid, "cells", body={"type": "python", "code": code}
        )
        assert response.code == 201
    ran = await api("POST", "notebooks", nid, "run", body={"wait": True})
    cells = payload(ran)["cells"]
    assert [c["status"] for c in cells] == ["success"] * 3
    assert cells[2]["outputs"][0]["data"] == "2"
