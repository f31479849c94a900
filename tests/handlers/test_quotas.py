"""Quotas over REST (issue 18): a refusal is 429 with ``Retry-After`` and a message that
names the limit; one user's quota does not touch another's. Real server, real kernels,
users named by ``HeaderIdentityProvider`` (see test_auth.py) with per-user notebooks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp

from reactive_notebook.notebooks.reclaim import IN_USE_GRACE_SECONDS

from .conftest import Api, payload
from .contract import conforms
from .test_auth import USER_HEADER, a_notebook, with_users


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    config = with_users(jp_server_config, per_user=True)
    quotas = {"quota_notebooks": 2, "quota_concurrent_runs": 1}
    return {**config, "ReactiveNotebook": {**config["ReactiveNotebook"], **quotas}}


async def test_quota_refusals_are_429_with_retry_after_and_the_limit_named(api: Api) -> None:
    alice = {USER_HEADER: "alice"}
    bob = {USER_HEADER: "bob"}
    slow, sleeper = await a_notebook(api, "import time\ntime.sleep(2)\ns = 1", **alice)
    quick, q = await a_notebook(api, "q = 1", **alice)

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
    bobs, bq = await a_notebook(api, "b = 1", **bob)

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


async def test_concurrent_creations_of_one_user_count_each_other(api: Api) -> None:
    alice = {USER_HEADER: "alice"}
    await a_notebook(api, **alice)
    created = await asyncio.gather(
        *(api("POST", "notebooks", body={"name": n}, headers=dict(alice)) for n in "abc")
    )
    assert sorted(r.code for r in created) == [201, 429, 429]
    listed = payload(await api("GET", "notebooks", headers=dict(alice)))["notebooks"]
    assert len(listed) == 2


class TestKernelReservations:
    """Two runs of one user that need a kernel at once: the quota's check and the
    reservation are one step, so the second sees the first's kernel (before, both
    passed the check while a reclaim was awaited, and the user ran two)."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        limits = {
            "quota_notebooks": 0,
            "quota_concurrent_runs": 0,
            "quota_kernels": 1,
            "max_kernels": 2,
            "notebook_idle_timeout": 0,
        }
        reactive = {**jp_server_config["ReactiveNotebook"], **limits}
        return {**jp_server_config, "ReactiveNotebook": reactive}

    async def test_concurrent_runs_of_one_user_take_one_kernel(
        self, api: Api, jp_serverapp: ServerApp
    ) -> None:
        alice = {USER_HEADER: "alice"}
        bob = {USER_HEADER: "bob"}
        service = jp_serverapp.extension_manager.extension_points["reactive_notebook"].app.service
        # Both kernel slots of the server are taken, by notebooks nobody uses: one of
        # Alice's, one of Bob's. A new kernel for Alice must close hers (her quota) and
        # one more (the server's max_kernels): two reclaims, awaited.
        for user in (alice, bob):
            notebook_id, cell_id = await a_notebook(api, "v = 1", **user)
            ran = await api(
                "POST", "notebooks", notebook_id, "cells", cell_id, "run",
                body={"wait": True}, headers=dict(user),
            )  # fmt: skip
            assert ran.code == 200, ran.body
        assert service.reclaimer.kernels == 2
        await asyncio.sleep(IN_USE_GRACE_SECONDS + 0.2)

        second = await a_notebook(api, "w = 2", **alice)
        third = await a_notebook(api, "w = 3", **alice)

        def run(notebook_id: str, cell_id: str) -> Any:
            path = ("notebooks", notebook_id, "cells", cell_id, "run")
            return api("POST", *path, body={"wait": True}, headers=dict(alice))

        runs = await asyncio.gather(run(*second), run(*third))
        assert sorted(r.code for r in runs) == [200, 429], [r.body for r in runs]
        refused = next(r for r in runs if r.code == 429)
        error = conforms(refused)
        assert error["quota"] == "ReactiveNotebook.quota_kernels"
        assert int(refused.headers["Retry-After"]) == error["retry_after"] >= 1
        alices = [n for n in service._open.values() if n.owner == "alice"]
        assert len([n for n in alices if service.reclaimer.holds(n.id)]) == 1
        assert service.reclaimer.kernels <= 2
