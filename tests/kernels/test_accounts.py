"""Kernel accounts (``ReactiveNotebook.kernel_accounts``), against real kernels and real
OS accounts: the names, the startup checks, and the provisioner starting an owner's
kernel as the owner's account (runs as root; skipped otherwise, saying so)."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.multikernelmanager import AsyncMultiKernelManager
from jupyter_client.provisioning.factory import KernelProvisionerFactory
from traitlets.config import Config

from reactive_notebook.kernels.account_checks import (
    blocked_for_others,
    close_notebook_store,
    notebook_store_problem,
)
from reactive_notebook.kernels.account_setup import KernelAccountSetup
from reactive_notebook.kernels.accounts import (
    COMMENT,
    OWNER_VARIABLE,
    PROVISIONER_NAME,
    account_name,
    check_prefix,
)
from reactive_notebook.kernels.environment import kernel_environment
from reactive_notebook.kernels.session import KernelSession, RunStep

from ..kernel_accounts import KERNEL_NAME, AccountsSetting, accounts_setting

# -- names and checks (no account needed) ---------------------------------------------


@pytest.mark.parametrize(
    "owner", ["alice", "user_2abcDEF", "a/b", "../..", "ünï cødé", "x" * 500, "", "Bob"]
)
def test_any_owner_maps_to_a_valid_stable_name(owner: str) -> None:
    name = account_name(owner, "rnk_")
    assert name == account_name(owner, "rnk_")
    assert len(name) <= 32
    assert name.startswith("rnk_")
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789_-" for c in name)


def test_owners_get_different_names() -> None:
    owners = ["alice", "Alice", "alice ", "bob", "", "a/b", "a%2Fb"]
    assert len({account_name(owner) for owner in owners}) == len(owners)


@pytest.mark.parametrize("prefix", ["", "Rn_", "1rn", "rn k", "r" * 17, "rn$"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        check_prefix(prefix)


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A folder every user can reach (pytest's own are under a 0700 folder)."""
    path = Path(tempfile.mkdtemp(prefix="rn-open-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_a_folder_others_cannot_pass_is_named(open_tmp: Path) -> None:
    closed = open_tmp / "closed"
    (closed / "inner").mkdir(parents=True)
    program = closed / "inner" / "python"
    program.write_text("")
    program.chmod(0o755)
    (closed / "inner").chmod(0o755)
    closed.chmod(0o700)
    problem = blocked_for_others(program)
    assert problem is not None
    assert str(closed) in problem
    assert "drwx------" in problem
    closed.chmod(0o711)
    assert blocked_for_others(program) is None


def test_the_store_loses_what_it_granted_to_others(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    store.chmod(0o755)
    assert close_notebook_store(str(store)) == 0o005
    assert stat.S_IMODE(store.stat().st_mode) == 0o750
    assert close_notebook_store(str(store)) == 0


def test_a_store_holding_what_kernels_need_is_refused(tmp_path: Path) -> None:
    kernels = tmp_path / "kernels"
    assert "holds" in (notebook_store_problem(str(tmp_path), [str(kernels)]) or "")
    assert notebook_store_problem("/", ["/usr/bin/python3"]) is not None
    assert notebook_store_problem(str(tmp_path / "store"), [str(kernels)]) is None


# -- real kernels as real accounts --------------------------------------------------


@pytest.fixture(scope="module")
def setting() -> Iterator[AccountsSetting]:
    yield from accounts_setting()


@pytest.fixture(scope="module")
def manager(setting: AccountsSetting, tmp_path_factory: Any) -> Iterator[Any]:
    """A kernel manager whose kernels go through the accounts provisioner, made the
    default by the extension's own setup."""
    setup = KernelAccountSetup(
        kernels_dir=setting.kernels_dir,
        root_dir=str(tmp_path_factory.mktemp("store")),
        kernel_argv=setting.argv,
        kernel_env=setting.env,
    )
    assert setup.start() is None
    config = Config(
        KernelAccountProvisioner={
            "account_prefix": setting.prefix,
            "kernels_dir": setting.kernels_dir,
        }
    )
    specs = KernelSpecManager(kernel_dirs=[setting.kernel_dirs])
    yield AsyncMultiKernelManager(kernel_spec_manager=specs, config=config)
    setup.stop()
    assert KernelProvisionerFactory.instance().default_provisioner_name != PROVISIONER_NAME


def kernel(manager: Any, owner: str | None) -> KernelSession:
    env = kernel_environment(os.environ)
    if owner is not None:
        env[OWNER_VARIABLE] = owner
    return KernelSession(manager, kernel_name=KERNEL_NAME, env=env)


WHO = (
    "import json, os\n"
    "print(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups(),"
    " 'pid': os.getpid(), 'cwd': os.getcwd(), 'home': os.environ.get('HOME'),"
    f" 'owner': os.environ.get({OWNER_VARIABLE!r}), 'umask': os.umask(0o077)}}))"
)


def ask(loop: asyncio.AbstractEventLoop, session: KernelSession, code: str) -> Any:
    """What the cell ``code`` printed, as JSON."""
    printed: list[str] = []

    def collect(event: Any) -> None:
        output = getattr(event, "output", None)
        if output and output.get("output_type") == "stream":
            printed.append(output["text"])
        elif output and output.get("output_type") == "error":
            printed.append(json.dumps({"error": output["ename"], "value": output["evalue"]}))

    loop.run_until_complete(session.run([RunStep("c", code)], collect))
    return json.loads("".join(printed))


def test_an_owners_kernel_runs_as_the_owners_account(loop, manager, setting) -> None:  # type: ignore[no-untyped-def]
    session = kernel(manager, "alice@example.com")
    started = time.perf_counter()
    loop.run_until_complete(session.start())
    print(f"kernel start with an account: {time.perf_counter() - started:.2f} s")
    try:
        who = ask(loop, session, WHO)
        account = pwd.getpwnam(account_name("alice@example.com", setting.prefix))
        assert account.pw_gecos == COMMENT
        assert account.pw_shell.endswith(("nologin", "false"))
        assert (who["uid"], who["gid"]) == (account.pw_uid, account.pw_gid)
        assert who["groups"] in ([], [account.pw_gid])  # no supplementary group of root's
        home = Path(setting.kernels_dir) / account.pw_name
        assert who["cwd"] == who["home"] == str(home)
        assert who["owner"] is None  # the marker is not handed to the kernel
        assert who["umask"] == 0o077
        info = home.stat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (account.pw_uid, 0o700)

        # A restart (through the kernel manager, which reuses its launch arguments)
        # keeps the account.
        loop.run_until_complete(session.restart())
        again = ask(loop, session, WHO)
        assert again["pid"] != who["pid"]
        assert again["uid"] == account.pw_uid

        # An interrupt (a signal from the server's user) reaches it.
        async def interrupted() -> Any:
            run = asyncio.ensure_future(
                session.run([RunStep("s", "import time; time.sleep(30)")], lambda event: None)
            )
            await asyncio.sleep(1.0)
            await session.interrupt()
            return await asyncio.wait_for(run, 10)

        assert loop.run_until_complete(interrupted()).interrupted
    finally:
        loop.run_until_complete(session.shutdown())


def test_the_same_owner_gets_the_same_account_another_owner_another(loop, manager, setting) -> None:  # type: ignore[no-untyped-def]
    first, second, other = (kernel(manager, o) for o in ("carol", "carol", "dave"))
    try:
        # carol's two kernels start at once: her account is made once (the lock), and
        # both run as it.
        async def both() -> None:
            await asyncio.gather(first.start(), second.start())

        loop.run_until_complete(both())
        loop.run_until_complete(other.start())
        uids = [ask(loop, session, WHO)["uid"] for session in (first, second, other)]
    finally:
        for session in (first, second, other):
            loop.run_until_complete(session.shutdown())
    assert uids[0] == uids[1] == pwd.getpwnam(account_name("carol", setting.prefix)).pw_uid
    assert uids[2] not in (uids[0], 0)
    assert sum(name.startswith(setting.prefix) for name in setting.accounts()) >= 2


def test_a_kernel_without_an_owner_runs_as_the_server_user(loop, manager) -> None:  # type: ignore[no-untyped-def]
    session = kernel(manager, None)
    started = time.perf_counter()
    loop.run_until_complete(session.start())
    print(f"kernel start without an account: {time.perf_counter() - started:.2f} s")
    try:
        who = ask(loop, session, WHO)
    finally:
        loop.run_until_complete(session.shutdown())
    assert who["uid"] == os.getuid()
