"""The settings of a server many users share (README "Security", issue 18): whose
notebooks are whose, per-user quotas, kernels as OS accounts, the welcome notebook.
Traits ``ReactiveNotebook`` inherits, configured as ``c.ReactiveNotebook.<trait>``.
Declarations only; app.py builds from them."""

from __future__ import annotations

from typing import Any

from traitlets import Bool, HasTraits, Int, TraitError, Unicode, validate

from .kernels.accounts import DEFAULT_KERNELS_DIR, DEFAULT_PREFIX, check_prefix
from .notebooks.welcome_content import DEFAULT_NAME as DEFAULT_WELCOME_NAME


class MultiUserSettings(HasTraits):
    """Ownership, quotas and the first visit."""

    per_user_notebooks = Bool(
        False,
        config=True,
        help="""Give each authenticated user their own notebooks, in a sub-folder of
        notebooks_dir named after them; another user's notebook answers 404. Needs an
        identity provider that names users (the JWT provider); with the stock shared
        token every request is the same person, so leave it off.""",
    )
    quota_notebooks = Int(
        0,
        config=True,
        help="""Most notebooks one user may have (429 with Retry-After beyond); 0: no
        limit. Users are told apart with per_user_notebooks; without it, the server's.""",
    )
    quota_kernels = Int(
        0,
        config=True,
        help="""Most kernels one user's notebooks may run at once. A run needing one more
        first closes that user's least recently used notebook nobody uses; when every
        one is in use, the run is refused with 429 and Retry-After. 0: no limit.""",
    )
    quota_concurrent_runs = Int(
        0,
        config=True,
        help="""Most of one user's notebooks running at once (a run asked for while that
        notebook runs joins it); beyond, 429 with Retry-After. 0: no limit.""",
    )
    welcome_notebook = Bool(
        True,
        config=True,
        help="""Give each new user a welcome notebook on their first visit (their first
        listing of their notebooks: JupyterLab asks once when it starts): a parameter
        cell, a pandas DataFrame that depends on it, and matplotlib, Plotly and Altair
        charts of it, to show that changing a value re-runs what reads it. Made once per
        user (recorded under welcome_state_dir), only for a user with no notebooks yet,
        never over an existing file of its name; nothing runs until they run it. It is
        an ordinary notebook of theirs (it counts in quota_notebooks). False: never
        made.""",
    )
    welcome_notebook_name = Unicode(
        DEFAULT_WELCOME_NAME,
        config=True,
        help="""Name of the welcome notebook (its file is this name with .ipynb, in the
        user's notebooks folder).""",
    )
    welcome_state_dir = Unicode(
        "",
        config=True,
        help="""Where the record of each user's first visit is kept (one small file per
        user, named by a hash of the user's name): a user who deletes their welcome
        notebook does not get it back. Empty: reactive_notebook/welcome in Jupyter's
        data folder.""",
    )


class KernelAccountSettings(HasTraits):
    """Kernels as OS accounts of their own (docs/kernel-isolation.md)."""

    kernel_accounts = Bool(
        False,
        config=True,
        help="""Run each notebook owner's kernels as an OS account of their own (made on
        first use with useradd: a system account, its own group, no login shell, named
        kernel_account_prefix plus a hash of the owner), in a private working folder
        under kernel_accounts_dir. A kernel then cannot read the notebook store (its
        "other" permissions are dropped at startup), other owners' kernels and files,
        /proc of their processes, or the server's environment. Needs the server to run
        as root, and the kernel's Python readable by other users (checked at startup).
        Kernels started from JupyterLab's launcher run as the server's user. See
        docs/kernel-isolation.md: on a shared machine this is a floor; production gives
        each kernel its own container (Enterprise Gateway).""",
    )
    kernel_account_prefix = Unicode(
        DEFAULT_PREFIX,
        config=True,
        help="""Start of the kernel accounts' names (kernel_accounts): lower-case letters,
        digits, '_' or '-', at most 16 characters; 16 hex digits of the owner's hash
        follow.""",
    )
    kernel_accounts_dir = Unicode(
        DEFAULT_KERNELS_DIR,
        config=True,
        help="""Folder holding the kernel accounts' private working folders (one per
        account, mode 0700) and their kernels' connection files (kernel_accounts). Made
        at startup (root's, mode 0711); every folder above it must let other users
        through. Keep it outside the notebook store.""",
    )

    @validate("kernel_account_prefix")
    def _valid_prefix(self, proposal: Any) -> str:
        try:
            return check_prefix(proposal["value"])
        except ValueError as error:
            raise TraitError(str(error)) from None
