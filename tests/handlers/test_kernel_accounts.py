"""Kernels that cannot read each other (issue 18): a real server with
``ReactiveNotebook.kernel_accounts`` and per-user notebooks, two API users, real kernels
running as real OS accounts. A cell of one user tries to read the other's notebook file,
the other's kernel's files and ``/proc``, and the server's environment; each fails.

Runs as root (CI and these machines do); skipped otherwise, saying so. The users come
from the header identity provider of ``test_authorizer`` (a ``JWTUser`` per header).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.gateway.gateway_client import GatewayClient

from reactive_notebook.kernels.accounts import account_name

from ..kernel_accounts import KERNEL_NAME, AccountsSetting, accounts_setting
from .conftest import Api, payload
from .test_auth import a_notebook
from .test_authorizer import JWT_HEADER

SECRET = "server-only-secret-value"


@pytest.fixture(scope="module")
def setting() -> Iterator[AccountsSetting]:
    yield from accounts_setting()


@pytest.fixture
def jp_root_dir(setting: AccountsSetting) -> Path:
    """The notebook store in a folder every user could reach, opened to others as a
    careless operator would leave it: the server must close it. (Removed with the
    module's accounts: the server saves into it while it stops, after the test.)"""
    root = Path(tempfile.mkdtemp(prefix="store-", dir=setting.base))
    root.chmod(0o755)
    return root


@pytest.fixture
def jp_server_config(
    setting: AccountsSetting, jp_kernel_dir: Path, monkeypatch: Any
) -> dict[str, Any]:
    shutil.copytree(Path(setting.kernel_dirs) / KERNEL_NAME, jp_kernel_dir / KERNEL_NAME)
    monkeypatch.setenv("MY_SERVICE_TOKEN", SECRET)
    return {
        "ServerApp": {
            "jpserver_extensions": {"reactive_notebook": True, "jupyter_server_terminals": False},
            "identity_provider_class": ("tests.handlers.test_authorizer.JWTHeaderIdentityProvider"),
        },
        "ReactiveNotebook": {
            "save_delay": 0.05,
            "per_user_notebooks": True,
            "kernel_accounts": True,
            "kernel_account_prefix": setting.prefix,
            "kernel_accounts_dir": setting.kernels_dir,
            "kernel_name": KERNEL_NAME,
        },
    }


async def run_cell(api: Api, user: str, code: str) -> dict[str, Any]:
    """A new notebook of ``user`` with one cell ``code``, run; the cell after the run."""
    headers = {JWT_HEADER: user}
    notebook_id, cell_id = await a_notebook(api, code, **headers)
    ran = await api(
        "POST",
        "notebooks",
        notebook_id,
        "cells",
        cell_id,
        "run",
        body={"wait": True},
        headers=headers,
    )
    assert ran.code == 200, ran.body
    (done,) = [c for c in payload(ran)["cells"] if c["id"] == cell_id]
    assert done["status"] == "success", done
    return done


A_CELL = """
import json, os
with open("a-private.txt", "w") as f:
    f.write("alice's data")
print(json.dumps({"pid": os.getpid(), "uid": os.getuid(), "cwd": os.getcwd()}))
"""

B_CELL = """
import json, os
def attempt(action):
    try:
        action()
        return "succeeded"
    except Exception as error:
        return type(error).__name__
def read(path):
    with open(path, "rb") as f:
        f.read()
targets = json.loads({targets!r})
found = {{name: attempt(lambda p=path: read(p)) for name, path in targets["files"].items()}}
found["a_cwd_link"] = attempt(lambda: os.readlink(targets["a_cwd"]))
found["kernels_listing"] = attempt(lambda: os.listdir(targets["kernels"]))
found["store_listing"] = attempt(lambda: os.listdir(targets["store"]))
found["secret"] = os.environ.get("MY_SERVICE_TOKEN")
with open("b-own.txt", "w") as f:
    f.write("mine")
found["own_file"] = attempt(lambda: read("b-own.txt"))
found["uid"] = os.getuid()
print(json.dumps(found))
"""


async def test_a_users_kernel_cannot_read_another_users_files_or_the_server(
    jp_fetch: Any, api: Api, jp_root_dir: Path, setting: AccountsSetting
) -> None:
    # The store granted r-x to others; the server dropped it at startup.
    assert stat.S_IMODE(jp_root_dir.stat().st_mode) & 0o007 == 0

    a = json.loads((await run_cell(api, "alice", A_CELL))["stdout"])
    alice = pwd.getpwnam(account_name("alice", setting.prefix))
    assert a["uid"] == alice.pw_uid != 0
    assert a["cwd"] == str(Path(setting.kernels_dir) / alice.pw_name)
    a_file = Path(a["cwd"]) / "a-private.txt"
    assert a_file.read_text() == "alice's data"  # it is there, for root
    (a_notebook,) = (jp_root_dir / "alice").glob("*.ipynb")

    targets = {
        "files": {
            "a_notebook": str(a_notebook),
            "a_working_file": str(a_file),
            "a_kernel_environ": f"/proc/{a['pid']}/environ",
            "server_environ": f"/proc/{os.getpid()}/environ",
        },
        "a_cwd": f"/proc/{a['pid']}/cwd",
        "kernels": setting.kernels_dir,
        "store": str(jp_root_dir),
    }
    probe = B_CELL.format(targets=json.dumps(targets))
    b = json.loads((await run_cell(api, "bob", probe))["stdout"])
    bob = pwd.getpwnam(account_name("bob", setting.prefix))
    assert b.pop("uid") == bob.pw_uid not in (alice.pw_uid, 0)
    assert b.pop("own_file") == "succeeded"  # the probe itself works
    assert b == {
        "a_notebook": "PermissionError",
        "a_working_file": "PermissionError",
        "a_kernel_environ": "PermissionError",
        "server_environ": "PermissionError",
        "a_cwd_link": "PermissionError",
        "kernels_listing": "PermissionError",
        "store_listing": "PermissionError",
        "secret": None,
    }


@pytest.fixture
def closed_python(jp_kernel_dir: Path) -> Iterator[str]:
    """A kernel spec ``closed`` whose interpreter is in a folder only root may enter
    (as pyenv's Python under /root is)."""
    base = Path(tempfile.mkdtemp(prefix="rn-closed-", dir="/tmp"))
    (base / "bin").mkdir()
    os.symlink(shutil.which("python3") or "/usr/bin/python3", base / "bin" / "python")
    base.chmod(0o700)
    argv = [str(base / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (jp_kernel_dir / "closed").mkdir()
    (jp_kernel_dir / "closed" / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "closed", "language": "python"})
    )
    yield str(base)
    shutil.rmtree(base)


@pytest.fixture
def no_gateway_left() -> Iterator[None]:
    """The gateway client is a process-wide singleton: forget the test's."""
    yield
    GatewayClient.clear_instance()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "--ReactiveNotebook.kernel_name=closed",
            "kernel_accounts: kernel accounts cannot run {closed}/bin/python: {closed} does "
            "not let other users through (mode drwx------). Install the kernel's Python",
        ),
        (
            "--ReactiveNotebook.kernel_account_prefix=Rn",
            "bad configuration: kernel account prefix 'Rn' must be lower-case letters",
        ),
        (
            "--ServerApp.root_dir=/tmp",
            "kernel_accounts: the notebook store /tmp holds",
        ),
        (
            "--gateway-url=http://127.0.0.1:9",
            "kernel_accounts: kernels run in the gateway (--gateway-url), not in this server",
        ),
    ],
)
def test_the_server_refuses_to_start_saying_what_to_fix(
    no_gateway_left: None,
    jp_configurable_serverapp: Any,
    capsys: pytest.CaptureFixture[str],
    closed_python: str,
    option: str,
    message: str,
) -> None:
    with pytest.raises(SystemExit) as stopped:
        jp_configurable_serverapp(argv=[option])
    assert stopped.value.code == 1
    assert message.format(closed=closed_python) in capsys.readouterr().err


async def test_an_operators_session_kernel_on_the_file_is_not_used(
    jp_fetch: Any, api: Api, jp_root_dir: Path, setting: AccountsSetting
) -> None:
    """A JupyterLab session on alice's notebook (an operator's tab: its kernel runs as
    the server's user) does not become the kernel her runs use."""
    headers = {JWT_HEADER: "alice"}
    created = await api("POST", "notebooks", body={"name": "shared"}, headers=headers)
    notebook_id = payload(created)["notebook_id"]
    session = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps(
            {"path": "alice/shared.ipynb", "type": "notebook", "kernel": {"name": KERNEL_NAME}}
        ),
    )
    assert session.code == 201
    cell = await api(
        "POST",
        "notebooks",
        notebook_id,
        "cells",
        body={"type": "python", "code": "import os\nprint(os.getuid())"},
        headers=headers,
    )
    ran = await api(
        "POST",
        "notebooks",
        notebook_id,
        "cells",
        payload(cell)["cell_id"],
        "run",
        body={"wait": True},
        headers=headers,
    )
    (done,) = payload(ran)["cells"]
    alice = pwd.getpwnam(account_name("alice", setting.prefix))
    assert done["stdout"].strip() == str(alice.pw_uid)
