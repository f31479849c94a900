"""Turning ``ReactiveNotebook.kernel_accounts`` on, at server startup.

- The machine is checked (:mod:`.account_checks`): root, useradd, the accounts' folder
  reachable, the kernel's Python readable by other users. Any problem is a sentence
  naming what to fix, and the server refuses to start with it.
- The notebook store is closed to kernel accounts: if its top folder grants anything to
  "other", those bits are dropped, with a warning. Dropping rather than refusing: the
  server's own user owns the store and nothing of the server's needs "other" access to
  it, so the fix an operator would make by hand is this one; a store that holds what
  kernels need (``/``, the Python, the accounts' folder) is refused instead.
- Our provisioner becomes jupyter_client's default (``KernelProvisionerFactory``, a
  process-wide singleton): every kernel the server starts goes through it, and those
  without an owner start exactly as with jupyter_client's own. The previous default is
  put back when the extension stops.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from jupyter_client.provisioning.factory import KernelProvisionerFactory

from .account_checks import (
    blocked_for_others,
    close_notebook_store,
    interpreter_problem,
    kernel_interpreter,
    notebook_store_problem,
)
from .accounts import PROVISIONER_NAME, root_folder

ENTRY_POINT = EntryPoint(
    PROVISIONER_NAME,
    "reactive_notebook.kernels.account_provisioner:KernelAccountProvisioner",
    KernelProvisionerFactory.GROUP_NAME,
)

NEEDS_ROOT = (
    "the server must run as root: it creates OS accounts (useradd) and starts kernels as them"
)


class KernelAccountSetup:
    """Checks and settings of kernel accounts for one server."""

    def __init__(
        self,
        *,
        kernels_dir: str,
        root_dir: str,
        kernel_argv: Sequence[str],
        kernel_env: Mapping[str, str] | None = None,
        log: logging.Logger | Any = None,
    ) -> None:
        self.kernels_dir = kernels_dir
        self.root_dir = root_dir
        self.kernel_argv = list(kernel_argv)
        #: The kernel spec's own PYTHONPATH (folders the kernel's Python reads).
        self.python_path = [
            folder for folder in (kernel_env or {}).get("PYTHONPATH", "").split(":") if folder
        ]
        self.log = log or logging.getLogger(__name__)
        self._previous_default: str | None = None

    def problem(self) -> str | None:
        """What stops kernel accounts from working here, or None (makes the accounts'
        folder when missing)."""
        if os.geteuid() != 0:
            return NEEDS_ROOT
        if not (shutil.which("useradd") or shutil.which("useradd", path="/usr/sbin:/sbin")):
            return "useradd is not installed (Debian/Ubuntu: the passwd package)"
        try:
            root_folder(Path(self.kernels_dir), 0o711)
        except OSError as error:
            return f"cannot make the accounts' folder {self.kernels_dir}: {error}"
        blocked = blocked_for_others(self.kernels_dir, need=0o001)
        if blocked:
            return f"kernel accounts cannot reach {self.kernels_dir}: {blocked}"
        problem = interpreter_problem(self.kernel_argv, self.python_path)
        if problem:
            return (
                f"{problem}. Install the kernel's Python where other users can read it "
                "(not under /root), open the folders on the way (chmod o+x), or set "
                "ReactiveNotebook.kernel_name to a kernel spec whose interpreter they can run"
            )
        interpreter = kernel_interpreter(self.kernel_argv) or ""
        return notebook_store_problem(
            self.root_dir, [self.kernels_dir, interpreter, *self.python_path]
        )

    def start(self) -> str | None:
        """Check, close the store, install the provisioner; the problem, if any."""
        problem = self.problem()
        if problem:
            return problem
        dropped = close_notebook_store(self.root_dir)
        if dropped:
            self.log.warning(
                "reactive_notebook: kernel_accounts: the notebook store %s granted %s to "
                "other users; dropped (chmod o-rwx) so that kernel accounts cannot read it",
                self.root_dir,
                "".join(letter for bit, letter in ((4, "r"), (2, "w"), (1, "x")) if dropped & bit),
            )
        factory = KernelProvisionerFactory.instance()
        # Registered by pyproject.toml's entry point; an editable install made before
        # it was added lacks it, so make sure the factory knows it.
        factory.provisioners.setdefault(PROVISIONER_NAME, ENTRY_POINT)
        self._previous_default = factory.default_provisioner_name
        factory.default_provisioner_name = PROVISIONER_NAME
        self.log.info(
            "reactive_notebook: notebook kernels run as their owner's OS account (folders in %s)",
            self.kernels_dir,
        )
        return None

    def stop(self) -> None:
        """Put jupyter_client's previous default provisioner back."""
        if self._previous_default is not None:
            KernelProvisionerFactory.instance().default_provisioner_name = self._previous_default
            self._previous_default = None
