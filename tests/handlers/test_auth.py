"""Authentication and ownership, against a real server started with
``ServerApp.allow_unauthenticated_access=False`` (see conftest): every route but
``/reactive/health`` needs credentials, the WebSocket checks ``Origin`` like the
server's kernel sockets, and with ``per_user_notebooks`` one user's notebooks do not
exist for another."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import PasswordIdentityProvider, User
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import JupyterServerAuthWarning
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from reactive_notebook.contents.store import derived_id
from reactive_notebook.handlers.openapi import API_PREFIX

from .conftest import Api, payload, write_notebook
from .wsclient import WsClient, events

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
USER_HEADER = "X-Test-User"
NO_CREDENTIALS = {"Authorization": ""}
BAD_TOKEN = {"Authorization": "token not-the-token"}


@pytest.fixture
def startup_warnings() -> list[warnings.WarningMessage]:
    return []


@pytest.fixture
def jp_serverapp(
    jp_server_config: Any,
    jp_argv: Any,
    jp_configurable_serverapp: Any,
    startup_warnings: list[warnings.WarningMessage],
) -> ServerApp:
    """pytest-jupyter's server, started while recording every warning: an extension
    route without an auth decorator makes the server warn (not fail) at startup."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = jp_configurable_serverapp(config=jp_server_config, argv=jp_argv)
    startup_warnings.extend(caught)
    return app


class HeaderIdentityProvider(PasswordIdentityProvider):
    """A real identity provider plugged into the real server (not a mock): the stock
    token check still decides who gets in; the user is then named by a header, so one
    server can have several users, as behind JupyterHub or the JWT provider."""

    async def get_user(self, handler: web.RequestHandler) -> User | None:  # type: ignore[override]
        user = await self._get_user(handler)
        name = handler.request.headers.get(USER_HEADER)
        if user is None or not name:
            return user
        return User(username=name)


def with_users(config: dict[str, Any], *, per_user: bool) -> dict[str, Any]:
    return {
        **config,
        "ServerApp": {**config["ServerApp"], "identity_provider_class": HeaderIdentityProvider},
        "ReactiveNotebook": {**config["ReactiveNotebook"], "per_user_notebooks": per_user},
    }


def our_routes(serverapp: ServerApp) -> Iterator[tuple[str, type]]:
    """``(pattern, handler class)`` of every route the extension registered."""
    point = serverapp.extension_manager.extension_points["reactive_notebook"]
    assert point.app is not None
    for pattern, handler, *_ in point.app.handlers:
        yield pattern, handler


def verbs(handler: type) -> list[str]:
    """The HTTP methods a handler answers (the ones it defines itself)."""
    return [
        m
        for m in METHODS
        if getattr(handler, m.lower()) is not getattr(web.RequestHandler, m.lower())
    ]


def path(pattern: str, notebook_id: str, cell_id: str) -> list[str]:
    """A route's pattern with real ids in place of its groups, as URL parts."""
    ids = iter((notebook_id, cell_id))
    filled = re.sub(r"\([^)]*\)", lambda _: next(ids), pattern)
    return [part for part in filled.split("/") if part]


def is_websocket(handler: type) -> bool:
    return issubclass(handler, web.RequestHandler) and hasattr(handler, "write_message")


async def a_notebook(api: Api, code: str = "x = 1", **headers: str) -> tuple[str, str]:
    """A notebook with one cell of ``code``: their ids."""
    created = await api("POST", "notebooks", body={"name": "mine"}, headers=dict(headers))
    assert created.code == 201, created.body
    notebook_id = payload(created)["notebook_id"]
    cell = await api(
        "POST",
        "notebooks",
        notebook_id,
        "cells",
        body={"type": "python", "code": code},
        headers=dict(headers),
    )
    assert cell.code == 201, cell.body
    return notebook_id, payload(cell)["cell_id"]


#: A valid body for each route that takes one (by the route's last word), so that a
#: refusal is about who asks, not what they sent.
BODIES: dict[str, dict[str, Any]] = {
    "notebooks": {"name": "n"},
    "name": {"name": "n"},
    "db": {"connection_string": "sqlite://"},
    "cells": {"type": "python", "code": "y = 2"},
    "move": {"after_cell_id": None},
    "run": {},
    "interrupt": {},
    "chat": {"message": "hi"},
    "cancel": {},
    "revert": {},
}


async def fetch(jp_fetch: Any, method: str, parts: list[str], headers: dict[str, str]) -> int:
    body = None
    if method in ("POST", "PUT", "PATCH"):
        body = json.dumps(BODIES.get(parts[-1], {"code": "y = 2"}))
    response = await jp_fetch(
        *parts,
        method=method,
        body=body,
        headers=dict(headers),  # jp_fetch adds the token to the dict it is given
        raise_error=False,
        follow_redirects=False,
        allow_nonstandard_methods=True,
    )
    return int(response.code)


async def test_the_server_logs_no_auth_warning_for_our_routes(
    jp_serverapp: ServerApp, startup_warnings: list[warnings.WarningMessage]
) -> None:
    ours = [w for w in startup_warnings if issubclass(w.category, JupyterServerAuthWarning)]
    assert ours == [], [str(w.message) for w in ours]
    # The recording does catch one: an undecorated route added the same way warns.

    class Undecorated(web.RequestHandler):
        def get(self) -> None:
            self.finish("open to anyone")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jp_serverapp.web_app.add_handlers(".*$", [("/undecorated-probe", Undecorated)])
    assert any(issubclass(w.category, JupyterServerAuthWarning) for w in caught)


async def test_every_route_but_health_refuses_requests_without_valid_credentials(
    api: Api, jp_fetch: Any, jp_serverapp: ServerApp
) -> None:
    notebook_id, cell_id = await a_notebook(api)
    checked = []
    for pattern, handler in our_routes(jp_serverapp):
        if is_websocket(handler):
            continue  # below
        parts = path(pattern, notebook_id, cell_id)
        for method in verbs(handler):
            for headers in (NO_CREDENTIALS, BAD_TOKEN):
                code = await fetch(jp_fetch, method, parts, headers)
                expected = 200 if pattern == "/reactive/health" else 403
                assert code == expected, f"{method} {pattern} with {headers}: {code}"
            checked.append(f"{method} {pattern}")
    assert f"GET {API_PREFIX}/notebooks" in checked
    assert len(checked) >= 16
    # Nothing was changed by the refused requests; with the token all is there.
    notebook = payload(await api("GET", "notebooks", notebook_id))
    assert [c["id"] for c in notebook["cells"]] == [cell_id]
    assert notebook["name"] == "mine"


async def test_the_websocket_needs_credentials(api: Api, jp_ws_fetch: Any) -> None:
    notebook_id, _ = await a_notebook(api)
    for headers in (NO_CREDENTIALS, BAD_TOKEN):
        with pytest.raises(HTTPClientError) as refused:
            await WsClient.connect(jp_ws_fetch, notebook_id, headers=headers)
        assert refused.value.code == 403, headers


async def test_a_cookie_authenticated_websocket_must_come_from_the_same_origin(
    api: Api,
    jp_ws_fetch: Any,
    jp_serverapp: ServerApp,
    jp_http_port: int,
    jp_base_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What a browser sends: the login cookie, never an Authorization header. A page of
    # another origin would send the cookie too; only Origin tells them apart. (A token
    # in the header or query skips the check, as for the server's kernel sockets: a
    # cross-site page cannot know it.)
    token = jp_serverapp.identity_provider.token
    # Logged in on the host the socket connects to (the cookie's name carries it).
    origin = f"http://localhost:{jp_http_port}"
    login = f"{origin}{jp_base_url}{API_PREFIX.lstrip('/')}/notebooks?token={token}"
    response = await AsyncHTTPClient().fetch(login)
    cookies = [c.split(";", 1)[0] for c in response.headers.get_list("Set-Cookie")]
    assert cookies
    browser = {**NO_CREDENTIALS, "Cookie": "; ".join(cookies)}
    notebook_id, _ = await a_notebook(api)

    evil = {**browser, "Origin": "http://evil.example"}
    with pytest.raises(HTTPClientError) as refused:
        await WsClient.connect(jp_ws_fetch, notebook_id, headers=evil)
    assert refused.value.code == 403
    assert "Blocking Cross Origin WebSocket Attempt" in caplog.text  # not for want of a login

    same_origin = {**browser, "Origin": origin}
    async with await WsClient.connect(jp_ws_fetch, notebook_id, headers=same_origin) as client:
        assert (await client.next())["type"] == "snapshot"
    # A browser cannot set headers on a WebSocket: the token may also come in the query.
    async with await WsClient.connect(
        jp_ws_fetch, notebook_id, headers=NO_CREDENTIALS, params={"token": token}
    ) as client:
        assert (await client.next())["type"] == "snapshot"


class TestPerUserNotebooks:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        return with_users(jp_server_config, per_user=True)

    async def test_another_users_notebook_does_not_exist_for_them(
        self, api: Api, jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: ServerApp
    ) -> None:
        alice = {USER_HEADER: "alice"}
        bob = {USER_HEADER: "bob"}
        notebook_id, cell_id = await a_notebook(api, **alice)
        bobs_id, _ = await a_notebook(api, **bob)

        listed = payload(await api("GET", "notebooks", headers={**alice}))["notebooks"]
        assert [n["id"] for n in listed] == [notebook_id]
        listed = payload(await api("GET", "notebooks", headers={**bob}))["notebooks"]
        assert [n["id"] for n in listed] == [bobs_id]

        checked = 0
        for pattern, handler in our_routes(jp_serverapp):
            if "(" not in pattern or is_websocket(handler):
                continue  # the list, creation, health and openapi name no notebook
            parts = path(pattern, notebook_id, cell_id)
            for method in verbs(handler):
                code = await fetch(jp_fetch, method, parts, bob)
                assert code == 404, f"bob: {method} {pattern}: {code}"
                checked += 1
        assert checked >= 11

        with pytest.raises(HTTPClientError) as refused:
            await WsClient.connect(jp_ws_fetch, notebook_id, headers=bob)
        assert refused.value.code == 404
        async with await WsClient.connect(jp_ws_fetch, notebook_id, headers=alice) as client:
            snapshot = await client.next()
            assert snapshot["notebook"]["name"] == "mine"  # bob changed nothing
            assert [c["id"] for c in snapshot["notebook"]["cells"]] == [cell_id]

        # The header names a user; it lets nobody in without the token.
        code = await fetch(
            jp_fetch,
            "GET",
            [*API_PREFIX.strip("/").split("/"), "notebooks"],
            {**alice, **NO_CREDENTIALS},
        )
        assert code == 403


class TestOwnershipIsWhereTheFileIs:
    """Issue 12 item 3: a file in Alice's folder that JupyterLab saved (no owner field)
    had an id derived from its path; Bob computed it and read, edited and ran it."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        return with_users(jp_server_config, per_user=True)

    async def test_a_plain_file_in_another_users_folder_is_not_found_by_its_id(
        self, api: Api, jp_fetch: Any, jp_ws_fetch: Any, jp_root_dir: Any
    ) -> None:
        alice = {USER_HEADER: "alice"}
        bob = {USER_HEADER: "bob"}
        await a_notebook(api, **alice)  # alice's folder exists, as it does once she works
        write_notebook(jp_root_dir / "alice" / "plain.ipynb", "secret = 42")
        listed = payload(await api("GET", "notebooks", headers={**alice}))["notebooks"]
        plain_id = next(n["id"] for n in listed if n["name"] == "plain")
        assert plain_id == derived_id("", "alice/plain.ipynb")  # computable by anyone

        for method, parts in [
            ("GET", ["notebooks", plain_id]),
            ("PUT", ["notebooks", plain_id, "cells", "c1"]),
            ("POST", ["notebooks", plain_id, "cells", "c1", "run"]),
            ("POST", ["notebooks", plain_id, "run"]),
            ("PUT", ["notebooks", plain_id, "name"]),
            ("DELETE", ["notebooks", plain_id]),
        ]:
            code = await fetch(jp_fetch, method, [*API_PREFIX.strip("/").split("/"), *parts], bob)
            assert code == 404, f"bob: {method} {parts}: {code}"
        with pytest.raises(HTTPClientError) as refused:
            await WsClient.connect(jp_ws_fetch, plain_id, headers=bob)
        assert refused.value.code == 404
        # Also once Alice has it open (the server holds it in memory then).
        opened = await api("GET", "notebooks", plain_id, headers={**alice})
        assert payload(opened)["cells"][0]["code"] == "secret = 42"
        assert (await api("GET", "notebooks", plain_id, headers={**bob})).code == 404
        path = await api("GET", "notebooks", headers={**bob}, params={"path": "alice/plain.ipynb"})
        assert payload(path)["notebooks"] == []

    async def test_an_owner_field_in_the_file_gives_no_one_access(
        self, api: Api, jp_root_dir: Any
    ) -> None:
        """A notebook in Bob's folder claiming Alice as owner is Bob's, not Alice's."""
        bob = {USER_HEADER: "bob"}
        await a_notebook(api, **bob)  # bob's folder exists
        claimed = {"id": "c1a1med", "name": "claimed", "owner": "alice"}
        write_notebook(
            jp_root_dir / "bob" / "claimed.ipynb", metadata={"reactive_notebook": claimed}
        )
        alice = {USER_HEADER: "alice"}
        assert (await api("GET", "notebooks", "c1a1med", headers={**alice})).code == 404
        assert (await api("GET", "notebooks", "c1a1med", headers={**bob})).code == 200
        assert (await api("GET", "notebooks", "c1a1med", headers={**alice})).code == 404


class TestPerUserModeNeedsNamedUsers:
    """Issue 12 item 4: with the stock token every request was a new anonymous user, so
    notebooks landed in random folders and were never listed again."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        reactive = {**jp_server_config["ReactiveNotebook"], "per_user_notebooks": True}
        return {**jp_server_config, "ReactiveNotebook": reactive}

    @pytest.fixture
    def jp_serverapp(
        self, jp_server_config: Any, jp_argv: Any, jp_configurable_serverapp: Any
    ) -> Any:
        return None  # started by the test, which expects it to stop

    def test_the_server_refuses_to_start_and_says_what_to_configure(
        self,
        jp_server_config: Any,
        jp_argv: Any,
        jp_configurable_serverapp: Any,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        with pytest.raises(SystemExit) as stopped:
            jp_configurable_serverapp(config=jp_server_config, argv=jp_argv)
        assert stopped.value.code == 1
        (logged,) = [
            line
            for line in capsys.readouterr().err.splitlines()
            if "per_user_notebooks needs an identity provider that names each user" in line
        ]
        assert "PasswordIdentityProvider" in logged
        assert "ServerApp.identity_provider_class" in logged


class TestSharedNotebooks:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        return with_users(jp_server_config, per_user=False)

    async def test_without_per_user_notebooks_every_user_shares_them(
        self, api: Api, jp_ws_fetch: Any
    ) -> None:
        notebook_id, _ = await a_notebook(api, **{USER_HEADER: "alice"})
        bob = {USER_HEADER: "bob"}
        listed = payload(await api("GET", "notebooks", headers={**bob}))["notebooks"]
        assert [n["id"] for n in listed] == [notebook_id]
        renamed = await api(
            "PUT", "notebooks", notebook_id, "name", body={"name": "ours"}, headers={**bob}
        )
        assert renamed.code == 200
        async with await WsClient.connect(jp_ws_fetch, notebook_id, headers=bob) as client:
            assert (await client.next())["notebook"]["name"] == "ours"
        # And with the plain shared token (no user named) too.
        assert [n["id"] for n in payload(await api("GET", "notebooks"))["notebooks"]] == [
            notebook_id
        ]


class ReadOnlyAuthorizer(Authorizer):
    """A real authorizer plugged into the server: everyone may read, nobody may change
    or run anything (as a JupyterHub "read-only" role would)."""

    def is_authorized(
        self, handler: web.RequestHandler, user: User, action: str, resource: str
    ) -> bool:
        return action == "read"


class TestReadOnlyUsers:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        server = {**jp_server_config["ServerApp"], "authorizer_class": ReadOnlyAuthorizer}
        return {**jp_server_config, "ServerApp": server}

    async def test_socket_commands_are_authorized_like_their_rest_twins(
        self, api: Api, jp_ws_fetch: Any, jp_root_dir: Any
    ) -> None:
        # The notebook is made on disk (nobody may create one through the API here).
        (jp_root_dir / "seen.ipynb").write_text(
            json.dumps(
                {
                    "nbformat": 4,
                    "nbformat_minor": 5,
                    "metadata": {},
                    "cells": [
                        {
                            "cell_type": "code",
                            "id": "c1",
                            "source": "x = 1",
                            "metadata": {},
                            "outputs": [],
                            "execution_count": None,
                        }
                    ],
                }
            )
        )
        (listed,) = payload(await api("GET", "notebooks"))["notebooks"]
        notebook_id = listed["id"]
        assert (await api("POST", "notebooks", body={})).code == 403
        assert (await api("POST", "notebooks", notebook_id, "run", body={})).code == 403

        async with await WsClient.connect(jp_ws_fetch, notebook_id) as client:
            snapshot = await client.next()
            (cell,) = snapshot["notebook"]["cells"]
            for command, refusal in (
                ({"type": "run_cell", "cell_id": cell["id"]}, "not allowed to execute"),
                ({"type": "run_all"}, "not allowed to execute"),
                ({"type": "interrupt"}, "not allowed to execute"),
                ({"type": "cell_update", "cell_id": cell["id"], "code": "x = 2"}, "to write"),
                ({"type": "rename_notebook", "name": "mine now"}, "not allowed to write"),
            ):
                answer = await client.request(command)
                assert answer["type"] == "error", command
                assert refusal in answer["message"]
            assert (await client.request({"type": "sync"}))["type"] == "ack"
            assert events(client.received) == []  # nothing changed, nothing ran
