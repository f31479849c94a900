"""The OpenAPI document as the tests' oracle, and what a "nothing changed" check reads.

``conforms(response)`` finds the operation a response answers (its method and path,
matched against the document's path templates) and checks that the status is one the
operation documents, that the body is valid against the documented schema (``$ref``
resolved through jsonschema's ``referencing``), and that it carries no field the schema
does not describe. Every response the REST tests look at goes through it, so the
document is checked against real answers, not against itself.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from tornado.httpclient import HTTPResponse

from reactive_notebook.handlers.openapi import openapi_document
from reactive_notebook.kernels.outputs import api_outputs, api_streams

#: pytest-jupyter's base URL (the server's ``base_url``), as the document's server.
BASE_URL = "/a%40b/"
DOCUMENT: dict[str, Any] = openapi_document(BASE_URL)
_URI = "urn:reactive-notebook:openapi"
_REGISTRY: Registry[Any] = Registry().with_resource(
    _URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012)
)

#: Several of the fixture's save delays (0.05 s): a save a request scheduled has landed.
SAVE_SETTLE_SECONDS = 0.2


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


_TEMPLATES = [(template, _template_pattern(template)) for template in DOCUMENT["paths"]]


def path_template(url: str) -> str:
    """The document's path template that ``url`` (absolute, under BASE_URL) falls in."""
    path = urllib.parse.urlsplit(url).path
    prefix = BASE_URL.rstrip("/")
    assert path.startswith(prefix), f"{path} is not under the base URL {BASE_URL}"
    relative = path[len(prefix) :]
    matches = [template for template, pattern in _TEMPLATES if pattern.match(relative)]
    assert matches, f"no path of the OpenAPI document matches {relative}"
    return matches[0]


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def response_schema_ref(method: str, template: str, status: int) -> str | None:
    """The ``$ref`` of the documented JSON schema of that answer (None: no body)."""
    operation = DOCUMENT["paths"][template].get(method.lower())
    assert operation is not None, f"{method} {template} is not in the OpenAPI document"
    documented = operation["responses"]
    assert str(status) in documented, (
        f"{method} {template} answered {status}, which the document does not list "
        f"(it lists {', '.join(sorted(documented))})"
    )
    if "content" not in documented[str(status)]:
        return None
    return f"{_URI}#/" + _pointer(
        "paths", template, method.lower(), "responses", str(status), "content",
        "application/json", "schema",
    )  # fmt: skip


def check_against_document(method: str, url: str, status: int, body: Any) -> None:
    """Raise AssertionError unless ``body`` is what the document promises for it."""
    template = path_template(url)
    ref = response_schema_ref(method, template, status)
    if ref is None:
        assert body is None, f"{method} {template} {status} documents no body, got {body!r}"
        return
    validator = Draft202012Validator({"$ref": ref}, registry=_REGISTRY)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)
    ]
    assert not errors, f"{method} {template} {status} does not match its schema: {errors}"
    undocumented = sorted(_undocumented_fields(body, {"$ref": ref}, ""))
    assert not undocumented, f"{method} {template} {status}: undocumented fields {undocumented}"


def conforms(response: HTTPResponse) -> Any:
    """The response's JSON body, once checked against the OpenAPI document."""
    body = json.loads(response.body) if response.body else None
    if response.body:
        content_type = response.headers.get("Content-Type", "")
        assert content_type.startswith("application/json"), content_type
    method = response.request.method or "GET"
    check_against_document(method, response.effective_url, response.code, body)
    return body


# -- "no undocumented field" -------------------------------------------------------------


def _resolve(schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        if ref.startswith("#"):
            ref = _URI + ref
        schema = _REGISTRY.resolver().lookup(ref).contents
    return schema


def _properties(schema: Any) -> dict[str, Any] | None:
    """The properties an object schema describes (through $ref and allOf); None when
    it describes none (free-form data)."""
    schema = _resolve(schema)
    if not isinstance(schema, dict):
        return None
    found: dict[str, Any] | None = None
    if "properties" in schema:
        found = dict(schema["properties"])
    for part in schema.get("allOf", []):
        more = _properties(part)
        if more is not None:
            found = {**(found or {}), **more}
    return found


def _undocumented_fields(value: Any, schema: Any, where: str) -> list[str]:
    schema = _resolve(schema)
    if isinstance(value, dict):
        properties = _properties(schema)
        if properties is None:
            return []
        missing = [f"{where}.{key}" for key in value if key not in properties]
        for key, item in value.items():
            if key in properties:
                missing += _undocumented_fields(item, properties[key], f"{where}.{key}")
        return missing
    if isinstance(value, list) and isinstance(schema, dict) and "items" in schema:
        return [
            field
            for index, item in enumerate(value)
            for field in _undocumented_fields(item, schema["items"], f"{where}[{index}]")
        ]
    return []


# -- notebooks to test on, and what a "nothing changed" check compares ----------------


async def new_notebook(api: Any, name: str = "spec", cells: tuple[str, ...] = ()) -> str:
    """A new notebook with Python cells of ``cells``' code; its id."""
    created = await api("POST", "notebooks", body={"name": name})
    assert created.code == 201, created.body
    notebook_id: str = conforms(created)["notebook_id"]
    for code in cells:
        added = await api(
            "POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": code}
        )
        assert added.code == 201, added.body
    return notebook_id


def notebook_file(root: Path, notebook_id: str) -> Path:
    """The .ipynb under ``root`` that holds notebook ``notebook_id``."""
    for path in sorted(root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        try:
            metadata = json.loads(path.read_text())["metadata"]
        except (ValueError, KeyError):
            continue
        if metadata.get("reactive_notebook", {}).get("id") == notebook_id:
            return path
    raise AssertionError(f"no .ipynb under {root} holds notebook {notebook_id}")


@dataclass(frozen=True)
class Stored:
    """Everything a refused request must leave as it was."""

    notebook: Any  # GET /notebooks/{id}
    listing: Any  # GET /notebooks
    file: bytes  # the notebook's .ipynb
    files: tuple[str, ...]  # every file under the contents root


def _file_shows(document: Any, notebook: Any) -> bool:
    """Whether a saved .ipynb holds the API's revision, cells, displays and streams."""
    revision = document["metadata"].get("reactive_notebook", {}).get("revision")
    saved = [
        (c.get("id"), len(api_outputs(c.get("outputs", ()))), api_streams(c.get("outputs", ())))
        for c in document["cells"]
    ]
    shown = [(c["id"], len(c["outputs"]), (c["stdout"], c["stderr"])) for c in notebook["cells"]]
    return bool(revision == notebook["revision"] and saved == shown)


async def stored(api: Any, root: Path, notebook_id: str) -> Stored:
    """The notebook as the API and the disk show it, once pending saves have landed:
    the file holds the revision, the cells and the outputs the API reports. (A run
    changes outputs without a new revision, and with rooms the room saves them on its
    own debounce, so the revision alone can match a file that is one save behind.)"""
    notebook = conforms(await api("GET", "notebooks", notebook_id))
    listing = conforms(await api("GET", "notebooks"))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        await asyncio.sleep(SAVE_SETTLE_SECONDS)
        data = notebook_file(root, notebook_id).read_bytes()
        if _file_shows(json.loads(data), notebook) or loop.time() > deadline:
            break
    files = tuple(sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()))
    return Stored(notebook, listing, data, files)


async def notebook_when(api: Any, notebook_id: str, done: Any, timeout: float = 60) -> Any:
    """The notebook (GET) once ``done(notebook)`` holds; fails after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        notebook = conforms(await api("GET", "notebooks", notebook_id))
        if done(notebook):
            return notebook
        assert loop.time() < deadline, f"gave up waiting; the notebook is {notebook}"
        await asyncio.sleep(0.05)
