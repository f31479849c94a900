"""The OpenAPI document at /reactive/api/v1/openapi.json is kept true (design.md section 4):

- it is served (to authenticated clients) and is a valid OpenAPI 3.1 document;
- every route the extension registers in the server has its path, with exactly the
  methods its handler implements, and the document has no path the server lacks;
- its schemas validate real answers of every operation (``contract.conforms`` checks the
  answers of every REST test; here one walk covers every documented success status);
- what it says of request bodies and credentials is what the handlers do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.routing import PathMatches

from reactive_notebook.handlers import openapi, schemas
from reactive_notebook.handlers import routes as route_table
from reactive_notebook.handlers.websocket import NotebookSocket

from .conftest import API, Api
from .contract import BASE_URL, DOCUMENT, conforms, new_notebook, notebook_when

try:  # not a dependency: used when present, else the structural check below
    from openapi_spec_validator import validate as validate_openapi
except ImportError:  # pragma: no cover - depends on the environment
    validate_openapi = None

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

#: Registered routes the document leaves out, and why.
UNDOCUMENTED = {
    # OpenAPI 3.1 has no way to describe a WebSocket protocol; design.md section 4
    # describes it, and the document's description points there.
    f"{openapi.API_PREFIX}/notebooks/{{notebook_id}}/ws": "the WebSocket",
    # The document does not describe itself: that would be circular, and a client that
    # can read it already knows where it is.
    f"{openapi.API_PREFIX}/openapi.json": "the document itself",
    # MCP (streamable HTTP, JSON-RPC) is its own protocol, described by its
    # specification; the document's description points there.
    "/reactive/mcp": "the MCP endpoint",
    # The catch-all that answers a JSON 404 for paths the API does not have.
    f"{openapi.API_PREFIX}/(.*)": "the JSON 404 of unknown paths",
}


# -- the document is served, and is OpenAPI 3.1 ----------------------------------------


async def test_the_document_is_served_to_an_authenticated_client(api: Api) -> None:
    response = await api("GET", "openapi.json")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    served = json.loads(response.body)
    assert served == DOCUMENT  # the one the other tests check answers against
    assert served["servers"] == [{"url": BASE_URL.rstrip("/")}]


async def test_the_document_needs_credentials_like_the_api(api: Api) -> None:
    response = await api("GET", "openapi.json", headers={"Authorization": ""})
    assert response.code == 403
    assert json.loads(response.body)["message"]


def test_the_document_is_a_valid_openapi_3_1_document() -> None:
    document = json.loads(json.dumps(DOCUMENT))  # what a client parses
    if validate_openapi is not None:
        validate_openapi(document)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft202012Validator(OPENAPI_3_1_STRUCTURE).iter_errors(document)
    ]
    assert not errors, errors
    for name, schema in document["components"]["schemas"].items():
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as error:  # pragma: no cover - shown on failure
            raise AssertionError(f"components.schemas.{name} is not a valid schema") from error


def test_every_ref_resolves_and_every_path_parameter_is_declared() -> None:
    text = json.dumps(DOCUMENT)
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in DOCUMENT["components"]["schemas"], ref
    for path, item in DOCUMENT["paths"].items():
        in_template = set(re.findall(r"\{([^}]+)\}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == in_template, f"{method} {path}"
            assert all(p["required"] for p in operation.get("parameters", []) if p["in"] == "path")
            for scheme in operation.get("security", DOCUMENT["security"]):
                assert set(scheme) <= set(DOCUMENT["components"]["securitySchemes"])


def test_the_request_schemas_are_the_ones_the_handlers_validate_with() -> None:
    components = DOCUMENT["components"]["schemas"]
    for name, schema in schemas.REQUEST_BODIES.items():
        assert components[name] == schema
    for name, schema in schemas.RESPONSES.items():
        assert components[name] == schema


_CHAT = f"{openapi.API_PREFIX}/notebooks/{{notebook_id}}/chat"
#: Answers only a server with a language model gives: tests/agent/test_chat_api.py
#: checks them against the document, with the fake model server.
NEEDS_A_MODEL = {("post", _CHAT), ("get", f"{_CHAT}/stream"), ("post", f"{_CHAT}/revert")}


# -- routes and methods ----------------------------------------------------------------


def registered_routes(serverapp: Any) -> dict[str, type[web.RequestHandler]]:
    """Path template (relative to the base URL) -> handler class, for every route of the
    extension in the running server's web application."""
    found: dict[str, type[web.RequestHandler]] = {}
    base = serverapp.base_url.rstrip("/")
    for host_rule in serverapp.web_app.default_router.rules:
        for rule in getattr(host_rule.target, "rules", []):
            handler = rule.target
            if not (
                isinstance(handler, type) and handler.__module__.startswith("reactive_notebook")
            ):
                continue
            assert isinstance(rule.matcher, PathMatches)
            pattern = rule.matcher.regex.pattern.rstrip("$")
            assert pattern.startswith(base + "/"), f"{pattern} is not under the base URL"
            found[_template(pattern)[len(base) :]] = handler
    return found


def _template(pattern: str) -> str:
    """``.../notebooks/([^/]+)/cells/([^/]+)`` as ``.../{notebook_id}/cells/{cell_id}``."""
    groups = pattern.split("([^/]+)")
    names = ["{notebook_id}", "{cell_id}"][: len(groups) - 1]
    return "".join(part + name for part, name in zip(groups, [*names, ""], strict=True))


def implemented_methods(handler: type[web.RequestHandler]) -> set[str]:
    """The HTTP methods the handler class itself (not Jupyter's base) answers."""
    return {m for m in METHODS if getattr(handler, m) is not getattr(APIHandler, m)}


def test_every_route_has_a_path_with_exactly_the_methods_its_handler_implements(
    jp_serverapp: Any,
) -> None:
    routes = registered_routes(jp_serverapp)
    # The server serves the whole route table, under its base URL.
    table = {_template(path): handler for path, handler, _ in route_table(None)}
    assert routes == table
    documented = dict(DOCUMENT["paths"])
    assert set(UNDOCUMENTED) <= set(routes)
    for template, handler in routes.items():
        if template in UNDOCUMENTED:
            continue
        assert template in documented, f"{template} ({handler.__name__}) is not documented"
        assert set(documented.pop(template)) == implemented_methods(handler), template
    assert not documented, f"documented paths the server does not serve: {list(documented)}"


def test_the_mcp_endpoint_is_pointed_to_though_openapi_cannot_describe_it(
    jp_serverapp: Any,
) -> None:
    assert "/reactive/mcp" in registered_routes(jp_serverapp)
    assert "/reactive/mcp" not in DOCUMENT["paths"]
    assert "/reactive/mcp" in DOCUMENT["info"]["description"]


def test_the_websocket_is_pointed_to_though_openapi_cannot_describe_it(jp_serverapp: Any) -> None:
    routes = registered_routes(jp_serverapp)
    socket = f"{openapi.API_PREFIX}/notebooks/{{notebook_id}}/ws"
    assert routes[socket] is NotebookSocket
    assert socket not in DOCUMENT["paths"]
    assert socket in DOCUMENT["info"]["description"]


# -- real answers of every operation ---------------------------------------------------


async def test_the_schemas_validate_a_real_answer_of_every_documented_operation(
    api: Api, jp_fetch: Any
) -> None:
    seen: set[tuple[str, str, int]] = set()

    async def call(method: str, *parts: str, **kw: Any) -> Any:
        response = await api(method, *parts, **kw)
        conforms(response)
        template = "/".join(("", *API, *parts))
        seen.add((method.lower(), template, response.code))
        return json.loads(response.body) if response.body else None

    health = await jp_fetch("reactive", "health", headers={"Authorization": ""})
    conforms(health)
    seen.add(("get", "/reactive/health", health.code))

    await call("GET", "capabilities")
    await call("POST", "welcome")
    created = await call("POST", "notebooks", body={"name": "tour"})
    nb = created["notebook_id"]
    await call("GET", "notebooks")
    await call("PUT", "notebooks", nb, "name", body={"name": "tour 2"})
    await call("PUT", "notebooks", nb, "db", body={"connection_string": "sqlite://"})
    cell = await call("POST", "notebooks", nb, "cells", body={"type": "python", "code": "a = 1"})
    sql = await call("POST", "notebooks", nb, "cells", body={"type": "sql", "code": "select 1"})
    c1 = cell["cell_id"]
    await call("PUT", "notebooks", nb, "cells", c1, body={"code": "a = 2"})
    await call("GET", "notebooks", nb, "cells", c1)
    await call("POST", "notebooks", nb, "cells", c1, "move", body={"after_cell_id": None})
    await call("POST", "notebooks", nb, "cells", c1, "run", body={"wait": True})
    await call("POST", "notebooks", nb, "cells", c1, "run", body={})
    await notebook_when(api, nb, lambda n: n["cells"][0]["status"] == "success")
    await call("POST", "notebooks", nb, "run", body={"wait": False})
    await notebook_when(api, nb, lambda n: n["cells"][0]["status"] not in ("queued", "running"))
    await call("PUT", "notebooks", nb, "cells", sql["cell_id"], body={"code": "x"})
    await call("POST", "notebooks", nb, "run", body={"wait": True})
    await call("POST", "notebooks", nb, "interrupt")
    await call("GET", "notebooks", nb, "chat")
    await call("POST", "notebooks", nb, "chat", body={"message": "hello"})  # 503: no model
    await call("POST", "notebooks", nb, "chat", "cancel", body={})
    await call("POST", "notebooks", nb, "chat", "revert", body={})  # 409: nothing to revert
    await call("DELETE", "notebooks", nb, "chat")
    await call("GET", "notebooks", nb)
    await call("DELETE", "notebooks", nb, "cells", c1)
    await call("DELETE", "notebooks", nb)

    expected = {
        (method, path.replace("{notebook_id}", nb).replace("{cell_id}", c1), int(status))
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
        if status.startswith("2") and (method, path) not in NEEDS_A_MODEL
    }
    assert expected <= seen, f"never seen: {sorted(expected - seen)}"


@pytest.mark.parametrize(
    ("path", "method"),
    [
        pytest.param(path, method, id=f"{method} {path}")
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ],
)
async def test_an_empty_body_is_refused_exactly_when_the_document_requires_one(
    api: Api, jp_root_dir: Path, path: str, method: str
) -> None:
    notebook_id = await new_notebook(api, "bodies", ("a = 1", "b = 2"))
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    cell_id = notebook["cells"][1]["id"]
    relative = path.removeprefix(f"{openapi.API_PREFIX}/")
    parts = relative.format(notebook_id=notebook_id, cell_id=cell_id).split("/")
    response = await api(method.upper(), *parts, raw=b"")
    answer = conforms(response)
    if DOCUMENT["paths"][path][method]["requestBody"]["required"]:
        assert response.code == 400
        assert answer["message"] == "the request needs a JSON body"
    elif (method, path) == ("post", f"{_CHAT}/revert"):
        assert response.code == 409, answer  # accepted; nothing of the assistant's to revert
    else:
        assert 200 <= response.code < 300, answer


async def test_only_the_operations_documented_without_security_answer_without_credentials(
    api: Api, jp_fetch: Any
) -> None:
    notebook_id = await new_notebook(api, "locked", ("a = 1",))
    cell_id = conforms(await api("GET", "notebooks", notebook_id))["cells"][0]["id"]
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            url = path.format(notebook_id=notebook_id, cell_id=cell_id).strip("/").split("/")
            body = b"{}" if method in ("post", "put") else None
            response = await jp_fetch(
                *url,
                method=method.upper(),
                body=body,
                headers={"Authorization": ""},
                raise_error=False,
            )
            open_to_all = operation.get("security", DOCUMENT["security"]) == []
            assert (response.code == 200) if open_to_all else (response.code == 403), (
                f"{method} {path}: {response.code}"
            )
            conforms(response)
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    assert notebook["revision"] == 2  # nothing reached it


# -- the structure of an OpenAPI 3.1 document (the part this API uses) ------------------

_REF = {"type": "object", "required": ["$ref"], "properties": {"$ref": {"type": "string"}}}
_MEDIA = {
    "type": "object",
    "properties": {"schema": {"type": ["object", "boolean"]}},
    "additionalProperties": False,
}
_CONTENT = {
    "type": "object",
    "propertyNames": {"pattern": r"^[a-z]+/[a-z0-9.+\-]+$"},
    "additionalProperties": _MEDIA,
}
_PARAMETER = {
    "type": "object",
    "required": ["name", "in"],
    "properties": {
        "name": {"type": "string"},
        "in": {"enum": ["query", "header", "path", "cookie"]},
        "required": {"type": "boolean"},
        "description": {"type": "string"},
        "schema": {"type": ["object", "boolean"]},
    },
    "additionalProperties": False,
    "if": {"properties": {"in": {"const": "path"}}},
    "then": {"required": ["required"], "properties": {"required": {"const": True}}},
}
_RESPONSE = {
    "type": "object",
    "required": ["description"],
    "properties": {"description": {"type": "string"}, "content": _CONTENT},
    "additionalProperties": False,
}
_OPERATION = {
    "type": "object",
    "required": ["responses"],
    "properties": {
        "summary": {"type": "string"},
        "description": {"type": "string"},
        "operationId": {"type": "string"},
        "parameters": {"type": "array", "items": {"anyOf": [_PARAMETER, _REF]}},
        "requestBody": {
            "type": "object",
            "required": ["content"],
            "properties": {
                "description": {"type": "string"},
                "required": {"type": "boolean"},
                "content": _CONTENT,
            },
            "additionalProperties": False,
        },
        "responses": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": r"^([1-5](\d\d|XX)|default)$"},
            "additionalProperties": {"anyOf": [_RESPONSE, _REF]},
        },
        "security": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": False,
}
OPENAPI_3_1_STRUCTURE: dict[str, Any] = {
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.1\.\d+(-.+)?$"},
        "info": {
            "type": "object",
            "required": ["title", "version"],
            "properties": {
                "title": {"type": "string"},
                "version": {"type": "string"},
                "description": {"type": "string"},
            },
        },
        "servers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["url"],
                "properties": {"url": {"type": "string"}},
            },
        },
        "security": {"type": "array", "items": {"type": "object"}},
        "paths": {
            "type": "object",
            "propertyNames": {"pattern": "^/"},
            "additionalProperties": {
                "type": "object",
                "propertyNames": {"enum": [*METHODS, "trace", "summary", "parameters"]},
                "additionalProperties": _OPERATION,
            },
        },
        "components": {
            "type": "object",
            "properties": {
                "schemas": {
                    "type": "object",
                    "additionalProperties": {"type": ["object", "boolean"]},
                },
                "securitySchemes": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["type"],
                        "properties": {
                            "type": {
                                "enum": ["apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"]
                            }
                        },
                        "if": {"properties": {"type": {"const": "apiKey"}}},
                        "then": {"required": ["name", "in"]},
                    },
                },
            },
        },
    },
    "additionalProperties": False,
}
