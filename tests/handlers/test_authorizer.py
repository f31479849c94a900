"""``ReactiveAuthorizer`` (issue 18), against a real server with every extension that
adds routes loaded (jupyterlab, collaboration rooms, file ids, LSP, terminals): an API
user (``JWTUser``) reaches every route of ours and is refused (403) by every route of
Jupyter's that asks the authorizer, but the allow-listed ones; the operator (the Jupyter
token, a plain ``User``) is refused nothing.

The users come from ``JWTHeaderIdentityProvider``, a stand-in for the JWT identity
provider: the stock token check lets the request in, and a header names a ``JWTUser``.
That is enough here because the authorizer reads nothing of a user but its class
(``is_jwt_user``); how a JWT becomes a ``JWTUser`` is the provider's own tests' concern.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, ClassVar

import pytest
from jupyter_server.auth.identity import PasswordIdentityProvider, User
from jupyter_server.serverapp import ServerApp
from tornado import web
from tornado.httpclient import HTTPClientError
from tornado.routing import PathMatches
from tornado.simple_httpclient import HTTPStreamClosedError
from tornado.websocket import WebSocketHandler

from reactive_notebook.auth.authorizer import ALLOWED_FOREIGN, ReactiveAuthorizer, qualified_name
from reactive_notebook.auth.users import JWTUser

from .conftest import Api, payload, rooms_config
from .test_auth import a_notebook

JWT_HEADER = "X-Test-Jwt-User"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class JWTHeaderIdentityProvider(PasswordIdentityProvider):
    """The token lets the request in; ``X-Test-Jwt-User`` makes its user an API user."""

    async def get_user(self, handler: web.RequestHandler) -> User | None:  # type: ignore[override]
        user = await self._get_user(handler)
        name = handler.request.headers.get(JWT_HEADER)
        if user is None or not name:
            return user
        return JWTUser(username=name, expires_at=time.time() + 3600, claims={"sub": name})


class RecordingAuthorizer(ReactiveAuthorizer):
    """The real authorizer, noting each decision it makes (for the walk's bookkeeping:
    which routes ask it at all)."""

    decisions: ClassVar[list[tuple[type, str, str, str, bool]]] = []

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        allowed = super().is_authorized(handler, user, action, resource)
        kind = "jwt" if isinstance(user, JWTUser) else "operator"
        self.decisions.append((type(handler), kind, action, resource, allowed))
        return allowed


#: Jupyter's handlers that never ask the authorizer, so that it cannot refuse them, and
#: why that is acceptable. A new route of this kind makes the walk fail until it is
#: listed here (or refused some other way).
NOT_ASKING = {
    # jupyterlab's page and its static assets: the page alone gives an API user
    # nothing, every API it would call (contents, kernels, sessions) is refused.
    "jupyterlab_server.handlers.LabHandler": "the JupyterLab page",
    "jupyterlab_server.handlers.NotFoundHandler": "JupyterLab's not-found page",
    "jupyter_server.base.handlers.FileFindHandler": "static assets",
    "jupyter_server.base.handlers.PublicStaticFileHandler": "robots.txt, favicon",
    "jupyterlab_server.themes_handler.ThemesHandler": "theme assets",
    "jupyterlab_server.translations_handler.TranslationsHandler": "UI translations",
    "jupyterlab_server.licenses_handler.LicensesHandler": "third-party licences",
    "jupyterlab_server.listings_handler.ListingsHandler": "extension listings",
    "jupyterlab.handlers.extension_manager_handler.ExtensionHandler": "extension manager",
    "jupyterlab.handlers.announcements.CheckForUpdateHandler": "update check",
    "jupyterlab.handlers.announcements.NewsHandler": "news feed",
    "jupyterlab.handlers.build_handler.BuildHandler": "lab build (GAP: POST builds)",
    "jupyterlab.handlers.plugin_manager_handler.PluginHandler": "plugin lock state",
    # Not refused by an authorizer: see the report (lab settings and workspaces are
    # server-wide state that an API user can write).
    "jupyterlab_server.settings_handler.SettingsHandler": "lab settings (GAP)",
    "jupyterlab_server.workspaces_handler.WorkspacesHandler": "lab workspaces (GAP)",
    # Asks the authorizer only to report the caller's own permissions; answers who the
    # caller is, which is theirs to know.
    "jupyter_server.services.api.handlers.IdentityHandler": "the caller's own identity",
    # Answers the server's version, redirects, and the login pages.
    "jupyter_server.base.handlers.APIVersionHandler": "the server's version",
    "jupyter_server.base.handlers.MainHandler": "redirects to the default URL",
    "jupyter_server.base.handlers.TrailingSlashHandler": "redirects",
    "jupyter_server.base.handlers.RedirectWithParams": "redirects",
    "jupyter_server.services.contents.handlers.NotebooksRedirectHandler": (
        "redirects to /api/contents, which is refused"
    ),
    "jupyter_server.auth.login.LoginFormHandler": "the login page",
    "jupyter_server.auth.logout.LogoutHandler": "the logout page",
    # Aggregate figures (GAP: ServerApp.authenticate_prometheus only asks for a login).
    "jupyter_server.base.handlers.PrometheusMetricsHandler": "server metrics (GAP)",
}


def every_route(serverapp: ServerApp) -> list[tuple[str, type]]:
    """``(regex, handler class)`` of every route of the server's web application."""
    found = []
    for host_rule in serverapp.web_app.default_router.rules:
        for rule in getattr(host_rule.target, "rules", []):
            if isinstance(rule.target, type) and isinstance(rule.matcher, PathMatches):
                found.append((rule.matcher.regex.pattern, rule.target))
    return found


def top_level_groups(pattern: str) -> list[tuple[int, int, str]]:
    """Spans of the regex's outermost groups (with a ``?`` after one) and their inner
    regex."""
    spans, depth, start, escaped = [], 0, 0, False
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
            if depth == 1:
                start = index
        elif char == ")":
            depth -= 1
            if depth == 0:
                end = index + 1
                inner = re.sub(r"^\?P<\w+>", "", pattern[start + 1 : index])
                if pattern[end : end + 1] == "?":
                    end += 1
                spans.append((start, end, inner))
    return spans


#: Values tried in a route's groups, first fit wins: ids, a file, a word, nothing.
SAMPLES = (
    "00000000-0000-0000-0000-000000000000",
    "/probe.ipynb",
    "probe.ipynb",
    "python3",
    "lab",
    "interrupt",
    "favicon.ico",
    "",
)


def sample_path(pattern: str) -> str | None:
    """A path the route's regex matches, with sample values in its groups."""
    text = pattern.rstrip("$")
    for start, end, inner in reversed(top_level_groups(text)):
        optional = text[end - 1] == "?"
        value = next((v for v in SAMPLES if re.fullmatch(inner, v) or (optional and not v)), None)
        if value is None:
            return None
        text = text[:start] + value + text[end:]
    text = text.replace(".*", "probe").replace("/?", "/").replace("\\", "")
    return text if re.fullmatch(pattern, text) else None


def fill(pattern: str, notebook_id: str, cell_id: str) -> str:
    """One of our route's regex with real ids in its groups."""
    ids = iter((notebook_id, cell_id))
    return re.sub(r"\([^)]*\)", lambda _: next(ids, "x"), pattern).rstrip("$")


def verbs(handler: type) -> list[str]:
    return [
        m
        for m in METHODS
        if getattr(handler, m.lower(), None) is not getattr(web.RequestHandler, m.lower())
    ]


def is_websocket(handler: type) -> bool:
    return issubclass(handler, WebSocketHandler)


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], jp_root_dir: Any, monkeypatch: Any
) -> dict[str, Any]:
    server = {
        **jp_server_config["ServerApp"],
        "identity_provider_class": JWTHeaderIdentityProvider,
        "authorizer_class": RecordingAuthorizer,
        "jpserver_extensions": {
            "reactive_notebook": True,
            "jupyterlab": True,
            "jupyter_server_ydoc": True,
            "jupyter_server_fileid": True,
            "jupyter_lsp": True,
            "jupyter_server_terminals": True,
        },
    }
    return {
        **jp_server_config,
        **rooms_config(jp_root_dir, monkeypatch),
        "ServerApp": server,
        "ReactiveNotebook": {**jp_server_config["ReactiveNotebook"], "per_user_notebooks": True},
    }


async def request(
    jp_fetch: Any, jp_ws_fetch: Any, handler: type, method: str, path: str, headers: dict
) -> int:
    """The status of one request to ``path`` (relative to the base URL)."""
    parts = [p for p in path.split("/") if p] or [""]
    if is_websocket(handler):
        try:
            socket = await jp_ws_fetch(*parts, headers=dict(headers))
        except HTTPClientError as error:
            return int(error.code)
        socket.close()
        return 101
    body = json.dumps({}) if method in ("POST", "PUT", "PATCH") else None
    try:
        response = await jp_fetch(
            *parts,
            method=method,
            body=body,
            headers=dict(headers),
            raise_error=False,
            follow_redirects=False,
            allow_nonstandard_methods=True,
        )
    except HTTPStreamClosedError:
        return 599  # the handler failed before answering (jupyter_server's favicon route)
    return int(response.code)


async def test_api_users_get_our_routes_and_are_refused_jupyters(
    api: Api, jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: ServerApp, jp_base_url: str
) -> None:
    assert isinstance(jp_serverapp.authorizer, ReactiveAuthorizer)
    alice = {JWT_HEADER: "alice"}
    notebook_id, cell_id = await a_notebook(api, **alice)
    base = jp_base_url.rstrip("/")

    ours, refused, not_asking, allowed, unreachable = [], [], set(), set(), []
    for pattern, handler in every_route(jp_serverapp):
        name = qualified_name(handler)
        if not pattern.startswith(re.escape(base) + "/") and not pattern.startswith(base + "/"):
            continue
        if handler.__module__.startswith("reactive_notebook"):
            path = fill(pattern, notebook_id, cell_id)
        else:
            path = sample_path(pattern)
            if path is None:
                unreachable.append(pattern)
                continue
        path = path[len(base) :]
        methods = sorted(verbs(handler) or ["GET"], key=lambda m: m != "GET")
        for method in methods:
            if name in not_asking:
                break  # its GET did not ask: a write (POST /lab/api/build builds!) won't
            RecordingAuthorizer.decisions.clear()
            code = await request(jp_fetch, jp_ws_fetch, handler, method, path, alice)
            asked = [d for d in RecordingAuthorizer.decisions if d[0] is handler]
            where = f"{method} {pattern} ({name}): {code}"
            if handler.__module__.startswith("reactive_notebook"):
                assert code != 403, where
                assert all(d[4] for d in asked), where
                ours.append(where)
            elif not asked:
                not_asking.add(name)
            elif all(d[4] for d in asked):
                allowed.update((name, d[2], d[3]) for d in asked)
                assert code != 403, where
            else:
                assert code == 403, where
                refused.append(where)

    assert unreachable == [], unreachable
    assert allowed <= ALLOWED_FOREIGN
    assert not_asking <= set(NOT_ASKING), sorted(not_asking - set(NOT_ASKING))
    assert len(ours) >= 20
    refused_text = "\n".join(refused)
    for raw in (
        "/api/contents",
        "/api/kernels",
        "/api/kernelspecs",
        "/api/sessions",
        "/api/terminals",
        "/api/collaboration",
        "/api/config",
        "/api/shutdown",
        "/api/events",
        "/api/nbconvert",
        "/api/fileid",
        "/files",
        "/lsp",
    ):
        assert raw in refused_text.replace("\\", ""), raw
    print(f"\nours: {len(ours)}, refused: {len(refused)}, not asking: {sorted(not_asking)}")


async def test_the_operator_is_refused_nothing(
    api: Api, jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: ServerApp, jp_base_url: str
) -> None:
    notebook_id = payload(await api("POST", "notebooks", body={"name": "ops"}))["notebook_id"]
    base = jp_base_url.rstrip("/")
    checked = 0
    RecordingAuthorizer.decisions.clear()
    for pattern, handler in every_route(jp_serverapp):
        if handler.__module__.startswith("reactive_notebook"):
            path = re.sub(r"\([^)]*\)", notebook_id, pattern).rstrip("$")
        else:
            path = sample_path(pattern) or ""
        if not path.startswith(base.replace("%40", "@")) and not path.startswith(base):
            continue
        path = path.replace("%40", "@")[len(base.replace("%40", "@")) :]
        for method in verbs(handler) or ["GET"]:
            if method != "GET" or "shutdown" in path:
                continue  # reads only: the operator's writes would change the server
            code = await request(jp_fetch, jp_ws_fetch, handler, method, path, {})
            assert code != 403, f"{method} {pattern}: {code}"
            checked += 1
    decisions = RecordingAuthorizer.decisions
    assert decisions
    assert all(d[4] for d in decisions)
    assert {d[1] for d in decisions} == {"operator"}
    assert checked >= 30
