"""Bad requests to the REST API: each gets the right 4xx with a JSON message a person
understands (naming the field at fault), never a 500, and leaves the notebook as it was:
the same answer to GET, the same notebook list, the same bytes in its .ipynb file and
no file created, moved or deleted under the contents root.

Every answer is also checked against the OpenAPI document (``contract.conforms``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from .conftest import API, Api
from .contract import BASE_URL, Stored, conforms, new_notebook, stored

BIG_ID = "a" * 10 * 1024
OVER_LIMIT = 300 * 1024  # the fixture's max_body_bytes is 256 KiB

#: The endpoints that read a JSON body: (method, path with {nb} and {cell} placeholders).
ENDPOINTS = {
    "create notebook": ("POST", "notebooks"),
    "rename": ("PUT", "notebooks/{nb}/name"),
    "set db": ("PUT", "notebooks/{nb}/db"),
    "run all": ("POST", "notebooks/{nb}/run"),
    "create cell": ("POST", "notebooks/{nb}/cells"),
    "update cell": ("PUT", "notebooks/{nb}/cells/{cell}"),
    "move cell": ("POST", "notebooks/{nb}/cells/{cell}/move"),
    "run cell": ("POST", "notebooks/{nb}/cells/{cell}/run"),
}

#: A body each endpoint accepts, to which the bad cases add or change one thing.
VALID_BODY: dict[str, dict[str, Any]] = {
    "create notebook": {"name": "fine"},
    "rename": {"name": "fine"},
    "set db": {"connection_string": "sqlite://"},
    "run all": {},
    "create cell": {"type": "python", "code": "z = 3"},
    "update cell": {"code": "x = 2"},
    "move cell": {"after_cell_id": None},
    "run cell": {},
}


@dataclass(frozen=True)
class Sample:
    """A notebook with cells ``x = 1``, ``y = x + 1`` and a SQL cell, as the tests
    address it, and what was stored before the request under test."""

    notebook_id: str
    cell_ids: list[str]
    root: Path

    def fill(self, value: Any) -> Any:
        """``value`` with {nb}, {cell} (the first cell), {sql} (the SQL cell) filled in."""
        if isinstance(value, str):
            return value.format(nb=self.notebook_id, cell=self.cell_ids[0], sql=self.cell_ids[2])
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        return value


NewSample = Callable[[], Awaitable[Sample]]


@pytest.fixture
def new_sample(api: Api, jp_root_dir: Path) -> NewSample:
    """``await new_sample()``: the sample notebook in a fresh server (pytest-jupyter runs
    coroutine tests, not coroutine fixtures)."""

    async def make() -> Sample:
        notebook_id = await new_notebook(api, "sample", ("x = 1", "y = x + 1"))
        sql = {"type": "sql", "code": "select 1"}
        assert (await api("POST", "notebooks", notebook_id, "cells", body=sql)).code == 201
        notebook = conforms(await api("GET", "notebooks", notebook_id))
        # Files a path traversal would reach: next to the root, and in it.
        (jp_root_dir.parent / "x").write_text("outside")
        (jp_root_dir / "x").write_text("inside")
        return Sample(notebook_id, [c["id"] for c in notebook["cells"]], jp_root_dir)

    return make


async def assert_unchanged(api: Api, sample: Sample, before: Stored) -> None:
    after = await stored(api, sample.root, sample.notebook_id)
    assert after.notebook == before.notebook
    assert after.listing == before.listing
    assert after.files == before.files
    assert after.file == before.file, "the .ipynb file was rewritten"
    assert (sample.root.parent / "x").read_text() == "outside"


def assert_refused(response: HTTPResponse, status: int, field: str | None, words: str) -> Any:
    """``response`` is a ``status`` JSON error that names ``field`` and says ``words``."""
    assert response.code == status, response.body
    error = conforms(response)
    message = error["message"]
    assert words.lower() in message.lower(), message
    assert len(message) < 300, message
    assert "Traceback" not in message
    assert error.get("field") == field, error
    if field is not None:
        assert field in message, f"the message does not name the field {field!r}: {message}"
    return error


# -- malformed, mistyped, missing and unknown fields -----------------------------------


def _case(endpoint: str, body: Any, field: str | None, words: str, *, raw: bool = False) -> Any:
    """One bad body: sent as JSON, or as is with ``raw``."""
    label = body if raw else json.dumps(body)
    return pytest.param(endpoint, body, raw, field, words, id=f"{endpoint}: {label}"[:90])


def _for_every_endpoint() -> list[Any]:
    cases = []
    for endpoint, valid in VALID_BODY.items():
        cases += [
            _case(endpoint, '{"name": ', None, "not valid JSON", raw=True),
            _case(endpoint, "\xff\xfe", None, "not valid JSON", raw=True),
            _case(endpoint, "[" * 50_000 + "]" * 50_000, None, "nested too deeply", raw=True),
            _case(endpoint, [1, 2], None, "must be a JSON object, not a list"),
            _case(endpoint, "text", None, "must be a JSON object, not a string"),
            _case(endpoint, None, None, "must be a JSON object, not null"),
            _case(endpoint, {**valid, "colour": "red"}, "colour", "unknown field 'colour'"),
        ]
    return cases


BAD_BODIES = [
    *_for_every_endpoint(),
    # create notebook
    _case("create notebook", {"name": 3}, "name", "must be a string, not a number"),
    _case("create notebook", {"name": ""}, "name", "must not be empty"),
    _case("create notebook", {"name": "n" * 201}, "name", "too long"),
    _case("create notebook", {"name": "   "}, "name", "non-empty"),
    _case("create notebook", {"name": "a/../b"}, "name", "no /"),
    _case("create notebook", {"name": "line\nbreak"}, "name", "control characters"),
    _case("create notebook", {"name": "\u0001"}, "name", "control characters"),
    # rename
    _case("rename", {}, "name", "missing required field 'name'"),
    _case("rename", {"name": None}, "name", "must be a string, not null"),
    _case("rename", {"name": "../../etc"}, "name", "no /"),
    _case("rename", {"name": "\\evil"}, "name", "no /"),
    _case("rename", {"name": "n", "expected_revision": "3"}, "expected_revision", "an integer"),
    _case("rename", {"name": "n", "expected_revision": 1.5}, "expected_revision", "an integer"),
    _case("rename", {"name": "n", "expected_revision": True}, "expected_revision", "integer"),
    _case("rename", {"name": "n", "expected_revision": -1}, "expected_revision", "at least 0"),
    # set db
    _case("set db", {}, "connection_string", "missing required field 'connection_string'"),
    _case("set db", {"connection_string": 5}, "connection_string", "must be a string"),
    _case("set db", {"connection_string": "x" * 5000}, "connection_string", "too long"),
    # run all / run cell
    _case("run all", {"wait": "yes"}, "wait", "true or false"),
    _case("run all", {"wait": 1}, "wait", "true or false"),
    _case("run cell", {"wait": None}, "wait", "true or false"),
    # create cell
    _case("create cell", {}, "type", "missing required field 'type'"),
    _case("create cell", {"code": "a = 1"}, "type", "missing required field 'type'"),
    _case("create cell", {"type": "markdown"}, "type", "must be one of 'python', 'sql'"),
    _case("create cell", {"type": "Python"}, "type", "must be one of 'python', 'sql'"),
    _case("create cell", {"type": None}, "type", "must be a string"),
    _case("create cell", {"type": "python", "code": 5}, "code", "must be a string"),
    _case("create cell", {"type": "python", "code": ["a"]}, "code", "must be a string"),
    _case("create cell", {"type": "python", "after_cell_id": 7}, "after_cell_id", "a string"),
    _case("create cell", {"type": "python", "after_cell_id": ""}, "after_cell_id", "empty"),
    _case("create cell", {"type": "python", "after_cell_id": BIG_ID}, "after_cell_id", "long"),
    _case("create cell", {"type": "python", "output": "df"}, "output", "only SQL cells"),
    _case("create cell", {"type": "sql", "output": "1bad"}, "output", "variable name"),
    _case("create cell", {"type": "sql", "output": "_private"}, "output", "variable name"),
    _case("create cell", {"type": "sql", "output": "a b"}, "output", "variable name"),
    _case("create cell", {"type": "sql", "output": "class"}, "output", "variable name"),
    _case(
        "create cell", {"type": "python", "expected_revision": "1"}, "expected_revision", "integer"
    ),
    # update cell
    _case("update cell", {}, "code", "missing required field 'code'"),
    _case("update cell", {"code": None}, "code", "must be a string, not null"),
    _case("update cell", {"code": {"a": 1}}, "code", "must be a string, not an object"),
    _case("update cell", {"code": "x = 9", "output": "df"}, "output", "only SQL cells"),
    _case("update cell", {"code": "x = 9", "output": ""}, "output", "empty"),
    _case("update cell", {"code": "# x", "type": "markdown"}, "type", "one of 'python', 'sql'"),
    _case("update cell", {"code": "x", "type": "sql", "output": "1a"}, "output", "variable name"),
    # move cell
    _case("move cell", {}, "after_cell_id", "missing required field 'after_cell_id'"),
    _case("move cell", {"after_cell_id": 5}, "after_cell_id", "a string or null"),
    _case("move cell", {"after_cell_id": "{cell}"}, "after_cell_id", "after itself"),
    _case("move cell", {"after_cell_id": BIG_ID}, "after_cell_id", "too long"),
]


@pytest.mark.parametrize(("endpoint", "body", "raw", "field", "words"), BAD_BODIES)
async def test_a_malformed_or_mistyped_body_is_refused_naming_the_field_and_nothing_changes(
    api: Api,
    new_sample: NewSample,
    endpoint: str,
    body: Any,
    raw: bool,
    field: str | None,
    words: str,
) -> None:
    sample = await new_sample()
    method, path = ENDPOINTS[endpoint]
    before = await stored(api, sample.root, sample.notebook_id)
    sent = body.encode("latin-1") if raw else json.dumps(sample.fill(body)).encode()
    response = await api(method, *sample.fill(path).split("/"), raw=sent)
    assert_refused(response, 400, field, words)
    await assert_unchanged(api, sample, before)


async def test_an_sql_result_variable_is_checked_on_update_too_and_nothing_changes(
    api: Api, new_sample: NewSample
) -> None:
    sample = await new_sample()
    before = await stored(api, sample.root, sample.notebook_id)
    sql = sample.cell_ids[2]
    response = await api(
        "PUT",
        "notebooks",
        sample.notebook_id,
        "cells",
        sql,
        body={"code": "select 2", "output": "no way"},
    )
    assert_refused(response, 400, "output", "variable name")
    await assert_unchanged(api, sample, before)


# -- a body over the size limit --------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
async def test_a_body_over_the_size_limit_gets_413_and_nothing_changes(
    api: Api, new_sample: NewSample, endpoint: str
) -> None:
    sample = await new_sample()
    method, path = ENDPOINTS[endpoint]
    before = await stored(api, sample.root, sample.notebook_id)
    body = {**VALID_BODY[endpoint], "padding": "p" * OVER_LIMIT}
    response = await api(method, *sample.fill(path).split("/"), body=sample.fill(body))
    assert_refused(response, 413, None, "limit is 262144")
    await assert_unchanged(api, sample, before)


# -- unknown, absurd and path-like ids -------------------------------------------------

#: Every route with an id: (method, path, body).
ID_ROUTES = {
    "get notebook": ("GET", "notebooks/{nb}", None),
    "delete notebook": ("DELETE", "notebooks/{nb}", None),
    "rename": ("PUT", "notebooks/{nb}/name", {"name": "renamed"}),
    "set db": ("PUT", "notebooks/{nb}/db", {"connection_string": "sqlite://"}),
    "run all": ("POST", "notebooks/{nb}/run", {"wait": True}),
    "interrupt": ("POST", "notebooks/{nb}/interrupt", None),
    "create cell": ("POST", "notebooks/{nb}/cells", {"type": "python"}),
    "get cell": ("GET", "notebooks/{nb}/cells/{cell}", None),
    "update cell": ("PUT", "notebooks/{nb}/cells/{cell}", {"code": "x = 5"}),
    "delete cell": ("DELETE", "notebooks/{nb}/cells/{cell}", None),
    "move cell": ("POST", "notebooks/{nb}/cells/{cell}/move", {"after_cell_id": None}),
    "run cell": ("POST", "notebooks/{nb}/cells/{cell}/run", {"wait": True}),
}

#: A bad id as it travels in the URL (already escaped), and what the message quotes.
BAD_IDS = {
    "unknown": ("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"),
    "10 KB long": (BIG_ID, "aaaa"),
    "../x escaped": ("..%2Fx", "../x"),
    "..%2F..%2Fx escaped": ("..%2F..%2Fx", "../../x"),
    "dot dot escaped": ("%2E%2E", "'..'"),
    "encoded NUL": ("x%00y", "x\\x00y"),
    "quote and angle brackets": ("%22%3Cb%3E", "<b>"),
    "percent-encoded slash twice": ("..%252Fx", "..%2Fx"),
}


def _id_cases() -> list[Any]:
    cases = []
    for route, (method, path, body) in ID_ROUTES.items():
        targets = ["nb", "cell"] if "{cell}" in path else ["nb"]
        for target in targets:
            for kind in BAD_IDS:
                cases.append(
                    pytest.param(method, path, body, target, kind, id=f"{route}: {target} {kind}")
                )
    return cases


async def fetch_path(
    http_server_client: Any, auth: dict[str, str], method: str, path: str, body: Any
) -> HTTPResponse:
    """A request to ``path`` (under the API, sent exactly as given: jp_fetch would escape
    the ``%`` of an already escaped id)."""
    url = f"{BASE_URL}{'/'.join(API)}/{path}"
    data = json.dumps(body).encode() if body is not None else None
    if data is None and method in ("POST", "PUT"):
        data = b""
    response: HTTPResponse = await http_server_client.fetch(
        url, method=method, body=data, headers=auth, raise_error=False, request_timeout=60
    )
    return response


@pytest.mark.parametrize(("method", "path", "body", "target", "kind"), _id_cases())
async def test_an_unknown_absurd_or_path_like_id_gets_404_and_nothing_changes(
    api: Api,
    new_sample: NewSample,
    http_server_client: Any,
    jp_auth_header: dict[str, str],
    method: str,
    path: str,
    body: Any,
    target: str,
    kind: str,
) -> None:
    sample = await new_sample()
    sent, quoted = BAD_IDS[kind]
    before = await stored(api, sample.root, sample.notebook_id)
    ids = {"nb": sample.notebook_id, "cell": sample.cell_ids[0], target: sent}
    url_path = path.format(**ids)
    response = await fetch_path(http_server_client, jp_auth_header, method, url_path, body)
    what = "notebook" if target == "nb" else "cell"
    error = assert_refused(response, 404, None, f"{what} ")
    assert "not found" in error["message"]
    assert quoted in error["message"]
    await assert_unchanged(api, sample, before)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "notebooks/../x"),
        ("DELETE", "notebooks/../../x"),
        ("GET", "notebooks/{nb}/cells/../../x"),
        ("PUT", "notebooks/{nb}/cells/../name"),
    ],
    ids=["get ../x", "delete ../../x", "get cell ../../x", "put cells/../name"],
)
async def test_an_unescaped_dot_dot_in_the_path_reaches_nothing_and_nothing_changes(
    api: Api,
    new_sample: NewSample,
    http_server_client: Any,
    jp_auth_header: dict[str, str],
    method: str,
    path: str,
) -> None:
    sample = await new_sample()
    before = await stored(api, sample.root, sample.notebook_id)
    body = {"name": "renamed"} if method == "PUT" else None
    url_path = path.format(nb=sample.notebook_id)
    response = await fetch_path(http_server_client, jp_auth_header, method, url_path, body)
    assert response.code == 404, response.body
    await assert_unchanged(api, sample, before)


@pytest.mark.parametrize("path", ["nope", "notebooks/{nb}/nope", "notebooks/../x"])
async def test_a_path_the_api_does_not_have_gets_a_json_404(
    api: Api,
    new_sample: NewSample,
    http_server_client: Any,
    jp_auth_header: dict[str, str],
    path: str,
) -> None:
    sample = await new_sample()
    url_path = path.format(nb=sample.notebook_id)
    response = await fetch_path(http_server_client, jp_auth_header, "GET", url_path, None)
    assert response.code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.body)["message"]


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("create cell", {"type": "python", "after_cell_id": "nosuchcell"}),
        ("move cell", {"after_cell_id": "nosuchcell"}),
    ],
    ids=["create after it", "move after it"],
)
async def test_a_body_naming_an_unknown_cell_gets_404_and_nothing_changes(
    api: Api, new_sample: NewSample, endpoint: str, body: dict[str, Any]
) -> None:
    sample = await new_sample()
    method, path = ENDPOINTS[endpoint]
    before = await stored(api, sample.root, sample.notebook_id)
    response = await api(method, *sample.fill(path).split("/"), body=body)
    assert_refused(response, 404, None, "cell 'nosuchcell' not found")
    await assert_unchanged(api, sample, before)


# -- a stale expected_revision ---------------------------------------------------------

STALE = [
    pytest.param("rename", {"name": "renamed"}, id="rename"),
    pytest.param("set db", {"connection_string": "sqlite://"}, id="set db"),
    pytest.param("create cell", {"type": "python", "code": "z = 1"}, id="create cell"),
    pytest.param("update cell", {"code": "x = 2"}, id="update cell"),
    pytest.param("move cell", {"after_cell_id": "{sql}"}, id="move cell"),
]


@pytest.mark.parametrize(("endpoint", "body"), STALE)
@pytest.mark.parametrize("offset", [-1, 1], ids=["older", "newer"])
async def test_a_stale_expected_revision_gets_409_with_the_current_one_and_nothing_changes(
    api: Api, new_sample: NewSample, endpoint: str, body: dict[str, Any], offset: int
) -> None:
    sample = await new_sample()
    method, path = ENDPOINTS[endpoint]
    before = await stored(api, sample.root, sample.notebook_id)
    current = before.notebook["revision"]
    stale = {**sample.fill(body), "expected_revision": current + offset}
    response = await api(method, *sample.fill(path).split("/"), body=stale)
    error = assert_refused(response, 409, None, f"revision {current + offset}")
    assert error["revision"] == current
    assert f"now at revision {current}" in error["message"]
    await assert_unchanged(api, sample, before)


@pytest.mark.parametrize(("endpoint", "body"), STALE)
async def test_the_current_expected_revision_is_accepted_and_bumps_it(
    api: Api, new_sample: NewSample, endpoint: str, body: dict[str, Any]
) -> None:
    sample = await new_sample()
    method, path = ENDPOINTS[endpoint]
    current = conforms(await api("GET", "notebooks", sample.notebook_id))["revision"]
    sent = {**sample.fill(body), "expected_revision": current}
    response = await api(method, *sample.fill(path).split("/"), body=sent)
    assert response.code in (200, 201), response.body
    conforms(response)
    after = conforms(await api("GET", "notebooks", sample.notebook_id))
    assert after["revision"] == current + 1


# -- wrong method, no credentials ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "notebooks/{nb}"),
        ("PUT", "notebooks"),
        ("GET", "notebooks/{nb}/run"),
        ("DELETE", "notebooks/{nb}/cells"),
    ],
)
async def test_a_method_a_route_does_not_serve_gets_405_json(
    api: Api, new_sample: NewSample, method: str, path: str
) -> None:
    sample = await new_sample()
    body = {} if method in ("POST", "PUT", "PATCH") else None
    response = await api(method, *sample.fill(path).split("/"), body=body)
    assert response.code == 405, response.body
    assert "message" in json.loads(response.body)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "notebooks", None),
        ("POST", "notebooks", {"name": "intruder"}),
        ("GET", "notebooks/{nb}", None),
        ("DELETE", "notebooks/{nb}", None),
        ("PUT", "notebooks/{nb}/cells/{cell}", {"code": "import os"}),
        ("POST", "notebooks/{nb}/cells/{cell}/run", {}),
        ("GET", "openapi.json", None),
    ],
)
async def test_a_request_without_credentials_gets_403_json_and_nothing_changes(
    api: Api, new_sample: NewSample, method: str, path: str, body: Any
) -> None:
    sample = await new_sample()
    before = await stored(api, sample.root, sample.notebook_id)
    response = await api(
        method, *sample.fill(path).split("/"), body=body, headers={"Authorization": ""}
    )
    assert response.code == 403, response.body
    if path == "openapi.json":  # the document does not describe itself
        assert json.loads(response.body)["message"]
    else:
        assert conforms(response)["message"]
    await assert_unchanged(api, sample, before)
