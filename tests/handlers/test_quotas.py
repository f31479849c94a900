"""Quotas over REST (issue 18): a refusal is 429 with ``Retry-After`` and a message that
names the limit; one user's quota does not touch another's. Real server, real kernels,
users named by ``HeaderIdentityProvider`` (see test_auth.py) with per-user notebooks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import Api, payload
from .contract import conforms
from .test_auth import USER_HEADER, with_users


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    config = with_users(jp_server_config, per_user=True)
    quotas = {"quota_notebooks": 2, "quota_concurrent_runs": 1}
    return {**config, "ReactiveNotebook": {**config["ReactiveNotebook"], **quotas}}


async def create(api: Api, user: dict[str, str], code: str) -> tuple[Any, str]:
    """A notebook of ``user`` with one cell: the creation's answer and the cell's id."""
    created = await api("POST", "notebooks", body={"name": "n"}, headers=dict(user))
    assert created.code == 201, created.body
    notebook_id = payload(created)["notebook_id"]
    cell = await api(
        "POST",
        "notebooks",
        notebook_id,
        "cells",
        body={"type": "python", "code": code},
        headers=dict(user),
    )
    return notebook_id, payload(cell)["cell_id"]


async def test_quota_refusals_are_429_with_retry_after_and_the_limit_named(api: Api) -> None:
    alice = {USER_HEADER: "alice"}
    bob = {USER_HEADER: "bob"}
    slow, sleeper = await create(api, alice, "import time\ntime.sleep(2)\ns = 1")
    quick, q = await create(api, alice, "q = 1")

    refused = await api("POST", "notebooks", body={"name": "third"}, headers=dict(alice))
    assert refused.code == 429
    error = conforms(refused)
    assert "ReactiveNotebook.quota_notebooks" in error["message"]
    assert error["quota"] == "ReactiveNotebook.quota_notebooks"
    assert error["limit"] == 2
    assert int(refused.headers["Retry-After"]) == error["retry_after"] >= 1
    listed = payload(await api("GET", "notebooks", headers=dict(alice)))["notebooks"]
    assert sorted(n["id"] for n in listed) == sorted([slow, quick])

    # Bob has his own quota.
    bobs, bq = await create(api, bob, "b = 1")

    started = await api("POST", "notebooks", slow, "cells", sleeper, "run", body={}, headers=alice)
    assert started.code == 202
    await asyncio.sleep(0.5)
    refused = await api("POST", "notebooks", quick, "cells", q, "run", body={}, headers=alice)
    assert refused.code == 429
    error = conforms(refused)
    assert "ReactiveNotebook.quota_concurrent_runs" in error["message"]
    assert int(refused.headers["Retry-After"]) == error["retry_after"] >= 1
    # Bob's run is not Alice's.
    ran = await api("POST", "notebooks", bobs, "cells", bq, "run", body={"wait": True}, headers=bob)
    assert ran.code == 200
    # Once Alice's run is over, her other notebook runs.
    for _ in range(100):
        cell = payload(await api("GET", "notebooks", slow, "cells", sleeper, headers=alice))
        if cell["status"] == "success":
            break
        await asyncio.sleep(0.1)
    ran = await api(
        "POST", "notebooks", quick, "cells", q, "run", body={"wait": True}, headers=alice
    )
    assert ran.code == 200
