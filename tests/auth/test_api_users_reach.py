"""Where an API (JWT) user is a user at all, with JupyterLab loaded: the reactive API,
``/api/status`` and ``/api/me``; nowhere else, not even on JupyterLab's routes that never
ask an authorizer (its settings and workspaces, which are writable, its build and its
extension manager, which installs packages). The operator (the Jupyter token) keeps them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import Issuer
from .test_jwt_provider import bearer


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    extensions = jp_server_config["ServerApp"]["jpserver_extensions"]
    jp_server_config["ServerApp"]["jpserver_extensions"] = {**extensions, "jupyterlab": True}
    return jp_server_config


#: JupyterLab's routes that never ask the authorizer, with a request each.
LAB_ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    ("GET", ("lab", "api", "workspaces"), None),
    ("PUT", ("lab", "api", "workspaces", "stolen"), {"data": {}, "metadata": {"id": "stolen"}}),
    ("GET", ("lab", "api", "settings"), None),
    ("PUT", ("lab", "api", "settings", "@jupyterlab/apputils-extension:themes"), {"raw": "{}"}),
    ("GET", ("lab", "api", "extensions"), None),
    ("POST", ("lab", "api", "extensions"), {"cmd": "install", "extension_name": "evil"}),
    ("GET", ("lab", "api", "build"), None),
    ("POST", ("lab", "api", "build"), {}),
    ("GET", ("lab", "api", "licenses"), None),
    ("GET", ("api", "contents"), None),
    ("GET", ("api", "kernelspecs"), None),
]


async def fetch(jp_fetch: Any, method: str, parts: tuple[str, ...], body: Any, headers: Any) -> int:
    response = await jp_fetch(
        *parts,
        method=method,
        body=None if body is None and method == "GET" else json.dumps(body or {}),
        headers=headers,
        raise_error=False,
        follow_redirects=False,
    )
    return int(response.code)


async def test_an_api_user_is_refused_everywhere_but_the_reactive_api(
    jp_fetch: Any, issuer: Issuer
) -> None:
    headers = bearer(issuer.mint())
    for method, parts, body in LAB_ROUTES:
        code = await fetch(jp_fetch, method, parts, body, dict(headers))
        # Not a user there: 403, or for a page, the login page (a redirect).
        assert code in (302, 403), f"{method} /{'/'.join(parts)}: {code}"
    notebooks = ("reactive", "api", "v1", "notebooks")
    assert await fetch(jp_fetch, "GET", notebooks, None, dict(headers)) == 200
    assert await fetch(jp_fetch, "GET", ("api", "status"), None, dict(headers)) == 200
    me = await jp_fetch("api", "me", headers=dict(headers))
    assert json.loads(me.body)["identity"]["username"] == "user_alice"


async def test_the_operator_keeps_jupyterlabs_routes(jp_fetch: Any) -> None:
    for parts in (("lab", "api", "workspaces"), ("lab", "api", "settings"), ("api", "contents")):
        assert (await jp_fetch(*parts, raise_error=False)).code == 200, parts
