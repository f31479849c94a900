"""Where an API (JWT) user is a user at all, with JupyterLab (and terminals, collaboration
rooms, file ids, LSP) loaded: the reactive API, ``/api/status`` and ``/api/me``; nowhere
else: not on Jupyter's raw APIs that would bypass ownership (contents, files, kernels,
sessions, terminals, rooms, config, shutdown, nbconvert, events...: 403, and nothing
happens), not even on JupyterLab's routes that never ask an authorizer (its settings and
workspaces, which are writable, its build and its extension manager, which installs
packages). The operator (the Jupyter token) keeps them all.

``tests/handlers/test_authorizer.py`` walks every route of such a server with a stand-in
for the JWT provider; here the users are real JWTs of the issuer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp
from tornado.httpclient import HTTPClientError

from ..handlers.conftest import rooms_config, write_notebook
from .conftest import Issuer
from .test_jwt_provider import bearer


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], jp_root_dir: Any, monkeypatch: Any
) -> dict[str, Any]:
    extensions = jp_server_config["ServerApp"]["jpserver_extensions"]
    jp_server_config["ServerApp"]["jpserver_extensions"] = {
        **extensions,
        "jupyterlab": True,
        "jupyter_server_terminals": True,
        "jupyter_server_ydoc": True,
        "jupyter_server_fileid": True,
        "jupyter_lsp": True,
    }
    return {**jp_server_config, **rooms_config(jp_root_dir, monkeypatch)}


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
        allow_nonstandard_methods=True,
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


#: Jupyter's raw APIs, reads and writes, on a file of the operator's (``shared.ipynb``).
RAW_ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    ("GET", ("api", "contents", "shared.ipynb"), None),
    ("PUT", ("api", "contents", "stolen.txt"), {"type": "file", "format": "text", "content": "x"}),
    ("POST", ("api", "contents"), {"type": "notebook"}),
    ("PATCH", ("api", "contents", "shared.ipynb"), {"path": "moved.ipynb"}),
    ("DELETE", ("api", "contents", "shared.ipynb"), None),
    ("GET", ("api", "contents", "shared.ipynb", "checkpoints"), None),
    ("POST", ("api", "contents", "shared.ipynb", "checkpoints"), {}),
    ("GET", ("files", "shared.ipynb"), None),
    ("GET", ("api", "kernels"), None),
    ("POST", ("api", "kernels"), {"name": "python3"}),
    ("GET", ("api", "sessions"), None),
    ("POST", ("api", "sessions"), {"path": "s.ipynb", "type": "notebook", "kernel": {}}),
    ("GET", ("api", "terminals"), None),
    ("POST", ("api", "terminals"), {}),
    ("GET", ("api", "kernelspecs", "python3"), None),
    ("GET", ("kernelspecs", "python3", "kernel.json"), None),
    ("GET", ("api", "config", "notebook"), None),
    ("PATCH", ("api", "config", "notebook"), {"stolen": True}),
    ("GET", ("api", "nbconvert"), None),
    ("GET", ("nbconvert", "html", "shared.ipynb"), None),
    ("POST", ("api", "events"), {"schema_id": "x", "version": "1", "data": {}}),
    (
        "PUT",
        ("api", "collaboration", "session", "shared.ipynb"),
        {"format": "json", "type": "notebook"},
    ),
    ("GET", ("api", "fileid", "id"), None),
    ("GET", ("lsp", "status"), None),
    ("POST", ("api", "shutdown"), None),
]

#: Their WebSockets.
RAW_SOCKETS: list[tuple[str, ...]] = [
    ("api", "events", "subscribe"),
    ("api", "collaboration", "room", "json:notebook:00000000-0000-0000-0000-000000000000"),
    ("terminals", "websocket", "1"),
]


async def socket_status(jp_ws_fetch: Any, parts: tuple[str, ...], headers: Any) -> int:
    try:
        socket = await jp_ws_fetch(*parts, headers=headers)
    except HTTPClientError as error:
        return int(error.code)
    socket.close()
    return 101


async def test_an_api_user_is_refused_jupyters_raw_apis_and_nothing_happens(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: ServerApp, jp_root_dir: Any, issuer: Issuer
) -> None:
    write_notebook(jp_root_dir / "shared.ipynb", "operator_secret = 1")
    files = sorted(str(p) for p in jp_root_dir.rglob("*") if p.is_file())
    shared = (jp_root_dir / "shared.ipynb").read_bytes()
    refused = []
    for method, parts, body in RAW_ROUTES:
        response = await jp_fetch(
            *parts,
            method=method,
            body=None if body is None and method == "GET" else json.dumps(body or {}),
            headers=bearer(issuer.mint()),
            raise_error=False,
            follow_redirects=False,
            allow_nonstandard_methods=True,
        )
        where = f"{method} /{'/'.join(parts)}: {response.code}"
        # Not a user there: 403, or for a page (files, nbconvert), the login page.
        assert response.code in (302, 403), where
        if response.code == 302:
            assert "/login" in response.headers["Location"], where
        assert b"operator_secret" not in response.body, where
        refused.append((method, parts))
    for parts in RAW_SOCKETS:
        headers = bearer(issuer.mint())
        assert await socket_status(jp_ws_fetch, parts, headers) in (302, 403), parts
        refused.append(("WS", parts))

    # Nothing happened: no kernel, session or terminal; the files as they were; the
    # server still up.
    assert jp_serverapp.kernel_manager.list_kernel_ids() == []
    assert await jp_serverapp.session_manager.list_sessions() == []
    assert jp_serverapp.web_app.settings["terminal_manager"].list() == []
    assert sorted(str(p) for p in jp_root_dir.rglob("*") if p.is_file()) == files
    assert (jp_root_dir / "shared.ipynb").read_bytes() == shared
    assert await fetch(jp_fetch, "GET", ("api", "status"), None, {}) == 200
    print(f"\nraw Jupyter APIs refused to an API user: {len(refused)} cases")


async def test_the_operator_keeps_jupyters_raw_apis(jp_fetch: Any, jp_root_dir: Any) -> None:
    write_notebook(jp_root_dir / "shared.ipynb", "operator_secret = 1")
    for method, parts, body in RAW_ROUTES:
        if method != "GET":
            continue  # reads only: the operator's writes would change the server
        code = await fetch(jp_fetch, method, parts, body, {})
        assert code != 403, f"{method} /{'/'.join(parts)}: {code}"
    started = await jp_fetch("api", "kernels", method="POST", body=json.dumps({}))
    kernel_id = json.loads(started.body)["id"]
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
