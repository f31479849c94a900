"""``make run STORAGE=dynamodb`` as a user runs it, on a terminal: JupyterLab serves
notebooks from a moto server the recipe started; the first Ctrl-C (Jupyter's "Shut down?"
prompt) leaves that server running, the second stops JupyterLab and the moto server."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from nbformat import v4

import reactive_notebook

from .moto_server import free_port

REPO = Path(reactive_notebook.__file__).resolve().parent.parent
VENV = Path(sys.prefix)

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or not (VENV / "bin" / "jupyter").exists(),
    reason="needs make and jupyter in the test's virtualenv",
)


class Terminal:
    """A command on a pseudo-terminal of its own (its session: Ctrl-C reaches its group)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            os.chdir(REPO)
            os.execvpe(argv[0], argv, env)
        self.output = b""
        self.status: int | None = None

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:  # the terminal closed: the command ended
                    time.sleep(0.1)
            if self.status is None:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.status = status

    def ctrl_c(self) -> None:
        os.write(self.fd, b"\x03")

    def close(self) -> None:
        if self.status is None:
            os.killpg(self.pid, signal.SIGTERM)
            self.pump(15)
            if self.status is None:
                os.killpg(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        os.close(self.fd)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() if Path("/proc").exists() else True


def request(port: int, path: str, method: str = "GET", body: object = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method=method,
        headers={"Authorization": "token make-run-test"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_make_run_storage_dynamodb(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "dumb"}
    for name in list(env):
        if name.startswith(("AWS_", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")):
            del env[name]
    term = Terminal(
        [
            "make",
            "--no-print-directory",
            "run",
            "STORAGE=dynamodb",
            f"VENV={VENV}",
            "-o",
            f"{VENV}/.installed",
            "-o",
            "labextension",
            f"PORT={port}",
            "TOKEN=make-run-test",
            f"NOTEBOOKS_DIR={tmp_path / 'kernels'}",
        ],
        env,
    )
    moto_pid = 0
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and term.status is None:
            term.pump(0.5)
            try:
                if request(port, "/api/status")[0] == 200:
                    break
            except OSError:
                continue
        text = term.output.decode(errors="replace")
        assert term.status is None, text
        found = re.search(r"local moto server, http://127\.0\.0\.1:(\d+) \(pid (\d+)", text)
        assert found, text
        moto_pid = int(found.group(2))
        assert alive(moto_pid)

        nb = v4.new_notebook(cells=[v4.new_code_cell("a = 1", id="c1")])
        put = request(port, "/api/contents/n.ipynb", "PUT", {"type": "notebook", "content": nb})
        assert put[0] == 201
        assert request(port, "/api/contents")[1]["content"][0]["name"] == "n.ipynb"
        assert not (tmp_path / "kernels" / "n.ipynb").exists()  # in the table, not on disk

        term.ctrl_c()  # Jupyter asks "Shut down this Jupyter server (y/[n])?"
        term.pump(1.5)
        assert alive(moto_pid), "the first Ctrl-C must not stop the storage under the server"
        assert request(port, "/api/contents/n.ipynb")[0] == 200
        term.ctrl_c()
        term.pump(20)
        while term.status is None and time.monotonic() < deadline:
            term.pump(1)
        assert term.status is not None, term.output.decode(errors="replace")[-2000:]
        for _ in range(50):
            if not alive(moto_pid):
                break
            time.sleep(0.1)
        assert not alive(moto_pid), "the moto server outlived make run"
        assert "moto server stopped" in term.output.decode(errors="replace")
    finally:
        term.close()
        if moto_pid and alive(moto_pid):
            os.kill(moto_pid, signal.SIGKILL)
