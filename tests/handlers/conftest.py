"""A real Jupyter server with the extension, under pytest-jupyter's default
``/a%40b/`` base URL (a JupyterHub-style prefix), and small clients for its API."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

API = ("reactive", "api", "v1")


#: ``REACTIVE_TEST_ROOMS=1`` runs the same tests with jupyter-collaboration's rooms
#: loaded (``make test`` runs the contract tests both ways).
WITH_ROOMS = os.environ.get("REACTIVE_TEST_ROOMS") == "1"


@pytest.fixture
def jp_server_config(jp_root_dir: Any, monkeypatch: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "ServerApp": {
            # Terminals registers a route without auth decorators; leaving it out lets
            # the auth tests fail on any JupyterServerAuthWarning, which are then ours.
            "jpserver_extensions": {"reactive_notebook": True, "jupyter_server_terminals": False},
            "contents_manager_class": (
                "reactive_notebook.contents.atomic.AtomicFileContentsManager"
            ),
            "allow_unauthenticated_access": False,
        },
        "ReactiveNotebook": {"save_delay": 0.05, "max_body_bytes": 256 * 1024},
    }
    if WITH_ROOMS:
        config.update(rooms_config(jp_root_dir, monkeypatch))
        config["ServerApp"]["jpserver_extensions"].update(
            {"jupyter_server_ydoc": True, "jupyter_server_fileid": True}
        )
    return config


def rooms_config(
    root: Any, monkeypatch: Any, *, save_delay: float = 0.2, cleanup_delay: float = 0.5
) -> Any:
    """What jupyter-collaboration needs in a test server: its stores in the test's
    folder, and delays short enough for a test to see a save or a cleanup.

    Its Y store is built without the server's configuration, so it opens
    ``.jupyter_ystore.db`` in the working folder whatever ``SQLiteYStore.db_path`` says:
    the test runs in its own folder, or every test's server would share one SQLite file
    (and wait on each other's locks: 5 s per test)."""
    monkeypatch.chdir(root.parent)
    return {
        "SQLiteYStore": {"db_path": str(root / ".rtc_test.db")},
        "BaseFileIdManager": {
            "root_dir": str(root),
            "db_path": str(root / ".fid_test.db"),
            "db_journal_mode": "OFF",
        },
        "YDocExtension": {
            "document_save_delay": save_delay,
            "document_cleanup_delay": cleanup_delay,
            "file_poll_interval": 0.2,
        },
    }


Api = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture
def api(jp_fetch: Any) -> Api:
    """``await api("POST", "notebooks", body={...})``: a request to the extension's API
    that returns the response whatever its status (check ``.code``)."""

    def call(method: str, *parts: str, body: Any = None, raw: bytes | None = None, **kw: Any):
        payload: Any = raw
        if body is not None:
            payload = json.dumps(body)
        if payload is None and method in ("POST", "PUT"):
            payload = b""
        return jp_fetch(*API, *parts, method=method, body=payload, raise_error=False, **kw)

    return call


def payload(response: HTTPResponse) -> Any:
    """The JSON body of a response."""
    return json.loads(response.body.decode()) if response.body else None


def write_notebook(path: Any, *codes: str, metadata: dict[str, Any] | None = None) -> None:
    """An ``.ipynb`` file as another tool (JupyterLab, git) would leave it: code cells
    ``c1``, ``c2``... with ``codes`` and no outputs."""
    cells = [
        {
            "cell_type": "code",
            "id": f"c{number}",
            "source": code,
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
        for number, code in enumerate(codes, start=1)
    ]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata or {}, "cells": cells}
    path.write_text(json.dumps(notebook))
