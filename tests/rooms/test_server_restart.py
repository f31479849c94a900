"""A server stopped in the middle of a run leaves a valid notebook (issue 14).

A real ``jupyter server`` process (the extension, jupyter-collaboration's rooms, file
ids, the atomic contents manager) runs a cell that prints for ~5 s; the process is
stopped mid-run, politely (SIGTERM: the service closes its notebooks) or not (SIGKILL:
only what the room had autosaved is on disk). The ``.ipynb`` must be valid nbformat, and
a second server on the same folder must open it and run it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

import reactive_notebook

from .conftest import ROOMS_EXTENSIONS

#: Prints 0..19 over ~5 s: the server is stopped well before it ends. A line every
#: 0.25 s, slower than the room's save delay (0.1 s): the room's autosave is debounced,
#: so output arriving faster than the delay would keep it from saving until the run ends.
LOOP = "import time\nfor i in range(20):\n    print(i, flush=True)\n    time.sleep(0.25)"
EVERYTHING = "".join(f"{i}\n" for i in range(20))
TOKEN = "restart-test-token"
STARTUP_TIMEOUT = 30.0


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    async def call(self, method: str, *parts: str, body: Any = None) -> Any:
        """The JSON answer of the extension's API (raises on 4xx/5xx)."""
        url = f"http://127.0.0.1:{self.port}/reactive/api/v1/" + "/".join(parts)
        data = json.dumps(body) if body is not None else (b"" if method == "POST" else None)
        response = await AsyncHTTPClient().fetch(
            url,
            method=method,
            body=data,
            headers={"Authorization": f"token {TOKEN}"},
            request_timeout=30,
        )
        return json.loads(response.body) if response.body else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _configure(base: Path, *, save_delay: float = 0.1) -> tuple[Path, dict[str, str]]:
    """Private Jupyter dirs, a root folder and a config enabling the extensions; the root
    and the environment to start servers with."""
    root, state = base / "root", base / "state"
    dirs = {name: base / name for name in ("config", "data", "runtime")}
    for folder in (root, state, *dirs.values()):
        folder.mkdir(parents=True, exist_ok=True)
    config = {
        "ServerApp": {
            "jpserver_extensions": {
                **ROOMS_EXTENSIONS,
                "jupyterlab": False,
                "jupyter_lsp": False,
                "notebook_shim": False,
            },
            "contents_manager_class": (
                "reactive_notebook.contents.atomic.AtomicFileContentsManager"
            ),
            "root_dir": str(root),
            "open_browser": False,
            "port_retries": 0,
            "allow_root": True,
        },
        "IdentityProvider": {"token": TOKEN},
        "ReactiveNotebook": {"save_delay": 0.05},
        "SQLiteYStore": {"db_path": str(state / "ystore.db")},
        "BaseFileIdManager": {"db_path": str(state / "fileid.db")},
        "YDocExtension": {
            "document_save_delay": save_delay,
            "document_cleanup_delay": 0.5,
            "file_poll_interval": 0.2,
        },
    }
    (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(config))
    worktree = str(Path(reactive_notebook.__file__).resolve().parents[1])
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONPATH=os.pathsep.join(p for p in (worktree, env.get("PYTHONPATH")) if p),
    )
    return root, env


@asynccontextmanager
async def running_server(base: Path, env: dict[str, str]) -> AsyncIterator[Server]:
    """A ``jupyter server`` process, answering; it and every process it started (its
    kernels) are killed on the way out, whatever happened."""
    port = _free_port()
    log = (base / f"server-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--port={port}"],
        cwd=base,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(process, port)
    children: set[int] = set()
    try:
        await _wait_until_up(server, base / f"server-{port}.log")
        yield server
    finally:
        children |= _descendants(process.pid)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        _kill(children)  # kernels run in sessions of their own
        log.close()


def _kill(pids: set[int]) -> None:
    for pid in pids:
        with suppress(psutil.Error):
            psutil.Process(pid).kill()


def _descendants(pid: int) -> set[int]:
    try:
        return {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


async def _wait_until_up(server: Server, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise AssertionError(f"the server exited at startup:\n{log.read_text()[-3000:]}")
        try:
            await server.call("GET", "notebooks")
            return
        except (ConnectionError, OSError, HTTPClientError) as error:
            if time.monotonic() > deadline:
                tail = log.read_text()[-3000:]
                raise AssertionError(f"the server never answered:\n{tail}") from error
            await asyncio.sleep(0.1)


async def _stop(server: Server, signum: int) -> None:
    """Send ``signum``, then wait (at most 15 s) for the process to end."""
    descendants = _descendants(server.process.pid)
    server.process.send_signal(signum)
    deadline = time.monotonic() + 15
    while server.process.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not stop on signal {signum}")
        await asyncio.sleep(0.05)
    _kill(descendants)  # a killed server leaves its kernels behind


def _printed(cell: Any) -> str:
    return "".join(
        "".join(o["text"]) if isinstance(o["text"], list) else o["text"]
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream"
    )


def _read_valid(file: Path) -> Any:
    """The notebook in ``file``, which must be valid nbformat (raises otherwise)."""
    node = nbformat.reads(file.read_text(), as_version=nbformat.NO_CONVERT)
    nbformat.validate(node)
    assert (node.nbformat, node.nbformat_minor) >= (4, 5)
    return node


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_a_server_stopped_mid_run_leaves_a_valid_notebook(
    tmp_path: Path, signum: int
) -> None:
    root, env = _configure(tmp_path)
    async with running_server(tmp_path, env) as server:
        created = await server.call("POST", "notebooks", body={"name": "restart"})
        notebook, path = created["notebook_id"], created["path"]
        cell = await server.call(
            "POST", "notebooks", notebook, "cells", body={"type": "python", "code": LOOP}
        )
        cell_id = cell["cell_id"]
        await server.call("POST", "notebooks", notebook, "cells", cell_id, "run", body={})
        file = root / path
        deadline = time.monotonic() + 20

        def autosaved() -> str:  # what the room saved of the run so far
            try:
                node = json.loads(file.read_text())
            except (OSError, ValueError):
                return ""
            return "".join(_printed(c) for c in node["cells"] if c.get("id") == cell_id)

        while len(autosaved().splitlines()) < 3:  # mid-run, some of it on disk
            assert time.monotonic() < deadline, "the run's outputs never reached the file"
            await asyncio.sleep(0.05)
        described = await server.call("GET", "notebooks", notebook, "cells", cell_id)
        assert described["status"] == "running"
        await _stop(server, signum)

    node = _read_valid(file)
    (saved,) = [c for c in node.cells if c.get("id") == cell_id]
    assert saved.source == LOOP
    printed = _printed(saved)
    assert printed, "the outputs saved before the stop are gone"
    assert EVERYTHING.startswith(printed)  # a prefix of the run: nothing doubled or torn
    assert printed != EVERYTHING  # it was stopped mid-run

    async with running_server(tmp_path, env) as again:
        described = await again.call("GET", "notebooks", notebook)
        assert [c["id"] for c in described["cells"]] == [cell_id]
        assert described["cells"][0]["code"] == LOOP
        assert described["cells"][0]["stdout"] == printed
        added = await again.call(
            "POST",
            "notebooks",
            notebook,
            "cells",
            body={"type": "python", "code": "print('after the restart')"},
        )
        await again.call(
            "POST", "notebooks", notebook, "cells", added["cell_id"], "run", body={"wait": True}
        )
        ran = await again.call("GET", "notebooks", notebook, "cells", added["cell_id"])
        assert ran["status"] == "success"
        assert ran["stdout"] == "after the restart\n"


#: A line every 0.05 s, faster than the room's save delay (0.5 s): the room's debounced
#: autosave never gets to save during the run.
FAST = "import time\nfor i in range(100):\n    print(i, flush=True)\n    time.sleep(0.05)"


async def test_a_server_stopped_politely_mid_run_saves_what_the_run_printed(
    tmp_path: Path,
) -> None:
    """On SIGTERM the service closes its notebooks: what a run wrote into a room no tab
    holds is saved, even when the room's autosave never ran during the run, and
    although jupyter-collaboration drops its rooms and file loaders at the same time
    (it cancels their pending saves)."""
    root, env = _configure(tmp_path, save_delay=0.5)
    async with running_server(tmp_path, env) as server:
        created = await server.call("POST", "notebooks", body={"name": "polite"})
        notebook, path = created["notebook_id"], created["path"]
        cell = await server.call(
            "POST", "notebooks", notebook, "cells", body={"type": "python", "code": FAST}
        )
        cell_id = cell["cell_id"]
        await server.call("POST", "notebooks", notebook, "cells", cell_id, "run", body={})
        deadline = time.monotonic() + 20
        while True:
            described = await server.call("GET", "notebooks", notebook, "cells", cell_id)
            if len(described["stdout"].splitlines()) >= 10:
                break
            assert time.monotonic() < deadline, "the run never printed"
            await asyncio.sleep(0.05)
        assert described["status"] == "running"
        await _stop(server, signal.SIGTERM)

    node = _read_valid(root / path)
    (saved,) = [c for c in node.cells if c.get("id") == cell_id]
    printed = _printed(saved)
    assert printed.startswith(described["stdout"])  # all it had printed before the stop
    assert "".join(f"{i}\n" for i in range(100)).startswith(printed)
