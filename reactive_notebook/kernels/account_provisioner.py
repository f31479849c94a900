"""The kernel provisioner of ``ReactiveNotebook.kernel_accounts``: each owner's kernels
run as that owner's OS account (see :mod:`.accounts`).

jupyter_client starts every kernel through a provisioner (``KernelManager.provisioner``,
made by ``KernelProvisionerFactory`` from the kernel spec, else its
``default_provisioner_name``); with the trait on, the extension makes this one the
default. It is jupyter_client's ``LocalProvisioner`` plus, for a kernel whose environment
names an owner (:data:`~.accounts.OWNER_VARIABLE`, set by the extension for notebook
kernels): the variable removed, the account made on first use (in a thread), the
connection file given to it, home and working folder in its private folder, and the
process started with Popen's ``user``, ``group``, ``extra_groups=[]`` and ``umask=0o077``.

A kernel without the variable (an operator's kernel from JupyterLab's launcher) starts
exactly as ``LocalProvisioner`` starts it, as the server's user.

Restarts keep the account: the kernel manager keeps the launch arguments it was first
given (``KernelManager._launch_args``, the environment with the variable in it; this
provisioner never changes that dict, it works on a copy) and the provisioner instance,
and calls :meth:`pre_launch` with them again.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from traitlets import Unicode

from .accounts import (
    DEFAULT_KERNELS_DIR,
    DEFAULT_PREFIX,
    OWNER_VARIABLE,
    AccountError,
    KernelAccount,
    ensure_account,
    forget_connection_file,
    give_connection_file,
    private_environment,
)


class KernelAccountProvisioner(LocalProvisioner):
    """``LocalProvisioner`` that starts an owner's kernel as the owner's OS account."""

    account_prefix = Unicode(
        DEFAULT_PREFIX,
        config=True,
        help="Start of kernel account names (ReactiveNotebook.kernel_account_prefix).",
    )
    kernels_dir = Unicode(
        DEFAULT_KERNELS_DIR,
        config=True,
        help="Folder of the accounts' private folders (ReactiveNotebook.kernel_accounts_dir).",
    )

    #: The account this kernel runs as (None: the server's user).
    account: KernelAccount | None = None
    #: The copy of the connection file the account reads.
    account_connection_file: str | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        env = kwargs.get("env")
        if env is None or OWNER_VARIABLE not in env:
            return await super().pre_launch(**kwargs)
        env = dict(env)  # the kernel manager's launch arguments keep the owner
        owner = env.pop(OWNER_VARIABLE)
        kwargs["env"] = env
        self.account = await asyncio.to_thread(
            ensure_account, owner, prefix=self.account_prefix, kernels_dir=self.kernels_dir
        )
        kwargs = await super().pre_launch(**kwargs)
        account = self.account
        original = os.path.realpath(self.parent.connection_file)  # type: ignore[union-attr]  # as the argv has it
        if not any(original in arg for arg in kwargs["cmd"]):
            raise AccountError(
                f"kernel {self.kernel_id}: its command does not name its connection file "
                "({connection_file} in the kernel spec's argv), so it cannot be given to "
                "the kernel's account"
            )
        copy = await asyncio.to_thread(give_connection_file, original, account, self.kernels_dir)
        self.account_connection_file = copy
        kwargs["cmd"] = [arg.replace(original, copy) for arg in kwargs["cmd"]]
        kwargs["env"] = private_environment(kwargs["env"], account)
        kwargs["cwd"] = str(account.home)
        kwargs.update(user=account.uid, group=account.gid, extra_groups=[], umask=0o077)
        self.log.info(
            "kernel %s starts as the account %s (uid %d)", self.kernel_id, account.name, account.uid
        )
        return kwargs

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        if not restart and self.account_connection_file:
            forget_connection_file(self.account_connection_file)
            self.account_connection_file = None
