"""OS accounts for kernels (``ReactiveNotebook.kernel_accounts``): one per notebook owner.

A kernel runs its user's code. Run as the server's OS user, it can read every notebook
file, every other kernel's files and ``/proc/<pid>/environ``, and the server's own
environment. Run as an account of its own, the kernel is "another user" to all of that.

- The account's name is ``<prefix><16 hex digits of sha256(owner)>``: any owner string
  (a JWT ``sub`` may hold any character) maps to a valid, stable name, and no owner can
  choose another's. The owner itself is not written in ``/etc/passwd`` (world-readable).
- It is created on first use (``useradd --system``, its own group, no login shell, no
  password) and kept: the same owner gets the same account, uid and folder next time.
- Its private working folder ``<kernels_dir>/<account>`` (mode 0700, owned by it) is the
  kernel's working directory and home. ``kernels_dir`` itself belongs to root (0711):
  accounts can reach their own folder but neither list nor replace the others.
- The kernel's connection file (the HMAC key of its channels) is copied into
  ``<kernels_dir>/.connections/<account>/`` (root's, readable by the account's group
  only): the server writes the original 0600 in its own runtime folder, which the
  account cannot read.

Everything here blocks (useradd, chown): the provisioner calls it in a thread. Creating
an account is serialized per account with a lock file (``fcntl.flock``), so two kernels
of one owner starting at once, even from two servers on the machine, make one account.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The variable our kernel environments carry to name the kernel's owner; the
#: provisioner removes it before the kernel starts.
OWNER_VARIABLE = "REACTIVE_NOTEBOOK_KERNEL_OWNER"

#: The kernel provisioner's entry point name (pyproject.toml).
PROVISIONER_NAME = "reactive-notebook-accounts"

DEFAULT_PREFIX = "rnk_"
DEFAULT_KERNELS_DIR = "/var/lib/reactive-notebook/kernels"

#: Hex digits of the owner's hash in an account name (64 bits).
HASH_DIGITS = 16
#: Longest user name useradd accepts.
MAX_NAME = 32
_PREFIX = re.compile(r"[a-z_][a-z0-9_-]*")

#: Folders of ``kernels_dir`` that are not accounts' (they start with a dot, which no
#: account name does).
CONNECTIONS = ".connections"
#: The comment (GECOS) of our accounts: an account of that name without it is not ours.
COMMENT = "reactive-notebook kernel"
LOCKS = ".locks"


class AccountError(RuntimeError):
    """An account could not be made or used; the message says what to fix."""


def check_prefix(prefix: str) -> str:
    """``prefix`` if names made with it are valid user names, else ValueError."""
    if not _PREFIX.fullmatch(prefix) or len(prefix) + HASH_DIGITS > MAX_NAME:
        raise ValueError(
            f"kernel account prefix {prefix!r} must be lower-case letters, digits, '_' or "
            f"'-', start with a letter or '_', and be at most {MAX_NAME - HASH_DIGITS} "
            "characters long"
        )
    return prefix


def account_name(owner: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The account of ``owner``'s kernels: stable, valid whatever ``owner`` holds."""
    digest = hashlib.sha256(owner.encode("utf-8", "surrogatepass")).hexdigest()
    return check_prefix(prefix) + digest[:HASH_DIGITS]


@dataclass(frozen=True)
class KernelAccount:
    """An OS account kernels run as, and its private working folder."""

    name: str
    uid: int
    gid: int
    home: Path


def _lstat_dir(path: Path) -> os.stat_result | None:
    """``path``'s lstat when it is a real folder (not a symlink), None when missing."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        raise AccountError(f"{path} is not a folder (a symlink or a file is in its place)")
    return info


def root_folder(path: Path, mode: int) -> Path:
    """``path`` as a folder of root's with ``mode`` (made when missing)."""
    if _lstat_dir(path) is None:
        path.mkdir(mode=mode, parents=True, exist_ok=True)
    os.chown(path, 0, 0, follow_symlinks=False)
    os.chmod(path, mode)
    return path


@contextlib.contextmanager
def _locked(kernels_dir: Path, name: str) -> Iterator[None]:
    locks = root_folder(kernels_dir / LOCKS, 0o700)
    fd = os.open(locks / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _useradd(name: str, home: Path) -> None:
    useradd = shutil.which("useradd") or shutil.which("useradd", path="/usr/sbin:/sbin")
    if useradd is None:
        raise AccountError("kernel accounts need useradd (Debian/Ubuntu: the passwd package)")
    shell = shutil.which("nologin", path="/usr/sbin:/sbin:/usr/bin:/bin") or "/bin/false"
    command = [useradd, "--system", "--user-group", "--no-create-home"]
    command += ["--home-dir", str(home), "--shell", shell, "--comment", COMMENT, name]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AccountError(
            f"could not create the kernel account {name} ({' '.join(command)} exited "
            f"{done.returncode}: {done.stderr.strip()}); the server must run as root"
        )


def ensure_account(owner: str, *, prefix: str, kernels_dir: str | Path) -> KernelAccount:
    """``owner``'s kernel account and its private folder, made on first use (blocks)."""
    name = account_name(owner, prefix)
    root = root_folder(Path(kernels_dir), 0o711)
    home = root / name
    with _locked(root, name):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            _useradd(name, home)
            entry = pwd.getpwnam(name)
        if entry.pw_gecos != COMMENT:
            raise AccountError(
                f"an account named {name} exists that was not made for kernels (its "
                f"comment is {entry.pw_gecos!r}): choose another kernel_account_prefix"
            )
        if _lstat_dir(home) is None:
            home.mkdir(mode=0o700)
        os.chown(home, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        os.chmod(home, 0o700)
    return KernelAccount(name, entry.pw_uid, entry.pw_gid, home)


def give_connection_file(source: str, account: KernelAccount, kernels_dir: str | Path) -> str:
    """A copy of the connection file ``source`` that only ``account`` (and root) can read,
    in a folder of root's the account cannot write (so it cannot swap the file for a
    symlink). The path of the copy."""
    connections = root_folder(Path(kernels_dir) / CONNECTIONS, 0o711)
    folder = connections / account.name
    if _lstat_dir(folder) is None:
        folder.mkdir(mode=0o750)
    os.chown(folder, 0, account.gid, follow_symlinks=False)
    os.chmod(folder, 0o750)
    target = folder / os.path.basename(source)
    data = Path(source).read_bytes()
    temporary = folder / f".{target.name}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, data)
        os.fchown(fd, 0, account.gid)
        os.fchmod(fd, 0o640)
    finally:
        os.close(fd)
    os.replace(temporary, target)
    return str(target)


def private_environment(env: dict[str, str], account: KernelAccount) -> dict[str, str]:
    """``env`` for a kernel running as ``account``: its home, Jupyter's and IPython's
    folders and the XDG folders in its private folder (the server's may point at folders
    of root's, or at a test's temporary ones), its user name."""
    home = str(account.home)
    env = {name: value for name, value in env.items() if name not in ("PWD", "XDG_RUNTIME_DIR")}
    env.update(
        HOME=home,
        USER=account.name,
        LOGNAME=account.name,
        IPYTHONDIR=f"{home}/.ipython",
        JUPYTER_CONFIG_DIR=f"{home}/.jupyter",
        JUPYTER_DATA_DIR=f"{home}/.local/share/jupyter",
        JUPYTER_RUNTIME_DIR=f"{home}/.local/share/jupyter/runtime",
        XDG_CACHE_HOME=f"{home}/.cache",
        XDG_CONFIG_HOME=f"{home}/.config",
        XDG_DATA_HOME=f"{home}/.local/share",
        MPLCONFIGDIR=f"{home}/.config/matplotlib",
    )
    return env


def forget_connection_file(path: str) -> None:
    """Remove a copy made by :func:`give_connection_file` (the kernel is gone)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
