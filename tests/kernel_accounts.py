"""What the kernel-account tests need: root, a Python other users can run, a throwaway
account prefix (its accounts are deleted at the end) and accounts' folder.

The kernel's Python must be readable by other users. This suite's virtualenv often is
not (pyenv's Python lives under ``/root``, mode 0700): then the kernel spec runs the
system's interpreter of the same version (``/usr/bin/python3.X``) with the virtualenv's
packages on ``PYTHONPATH``, which is how an operator would serve such a machine too.
When neither works the tests are skipped, saying which folder stops them.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reactive_notebook.kernels.account_checks import interpreter_problem

KERNEL_NAME = "python3-accounts"

NOT_ROOT = (
    "kernel accounts need root: the server creates OS accounts (useradd) and starts "
    "kernels as them; these tests run as uid {uid}"
)


def kernel_argv_and_env() -> tuple[list[str], dict[str, str]] | str:
    """A kernel command other users can run, with its environment, or why there is none."""
    own = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    own_problem = interpreter_problem(own)
    if own_problem is None:
        return own, {}
    system = f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"
    paths = sysconfig.get_paths()
    packages = list(dict.fromkeys([paths["purelib"], paths["platlib"]]))
    argv = [system, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    if not os.path.exists(system):
        return f"{own_problem}, and there is no {system}"
    problem = interpreter_problem(argv, packages)
    if problem:
        return f"{own_problem}; {problem}"
    return argv, {"PYTHONPATH": ":".join(packages)}


@dataclass
class AccountsSetting:
    """Where the test kernels' accounts live, and the kernel spec they run."""

    prefix: str
    base: str  # a folder of root's others may pass (0711), removed at the end
    kernels_dir: str
    kernel_dirs: str  # a folder of kernel specs holding KERNEL_NAME
    argv: list[str]
    env: dict[str, str]

    def accounts(self) -> list[str]:
        return [entry.pw_name for entry in pwd.getpwall() if entry.pw_name.startswith(self.prefix)]


def accounts_setting() -> Iterator[AccountsSetting]:
    """The body of a session fixture: skips without root or a usable Python; deletes
    the accounts it made at the end."""
    if os.geteuid() != 0:
        pytest.skip(NOT_ROOT.format(uid=os.geteuid()))
    found = kernel_argv_and_env()
    if isinstance(found, str):
        pytest.skip(f"kernel accounts cannot run this suite's Python: {found}")
    argv, env = found
    base = Path(tempfile.mkdtemp(prefix="rn-accounts-", dir="/tmp"))
    os.chmod(base, 0o711)
    specs = base / "kernelspecs"
    (specs / KERNEL_NAME).mkdir(parents=True)
    spec = {"argv": argv, "display_name": "Python (accounts)", "language": "python", "env": env}
    (specs / KERNEL_NAME / "kernel.json").write_text(json.dumps(spec))
    setting = AccountsSetting(
        prefix=f"rnt{secrets.token_hex(3)}_",
        base=str(base),
        kernels_dir=str(base / "kernels"),
        kernel_dirs=str(specs),
        argv=argv,
        env=env,
    )
    try:
        yield setting
    finally:
        for name in setting.accounts():
            subprocess.run(["userdel", "--force", name], check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
