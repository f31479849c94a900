"""What ``ReactiveNotebook.kernel_accounts`` needs of the machine, checked at startup.

A kernel account is "other" to every file of the machine: it runs the kernel's Python
only when every folder on the way to the interpreter, its standard library and its
packages lets others through (``o+x``) and the files let them read. Without this the
kernel dies at once with ``Permission denied`` and runs time out; so the server refuses
to start instead, naming the folder to fix (a Python under ``/root``, such as pyenv's,
is the usual case: ``/root`` is 0700).

The notebook store (the server's ``root_dir``) is the other way round: kernel accounts
must not read it. If it grants anything to others, those bits are dropped at startup
(see :func:`close_notebook_store`).
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Names jupyter_client replaces with the server's own interpreter in a kernel's argv
#: (``KernelManager.format_kernel_cmd``).
_OWN_PYTHON = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info)}


def kernel_interpreter(argv: Sequence[str]) -> str | None:
    """The program a kernel spec's ``argv`` runs, as jupyter_client resolves it."""
    if not argv:
        return None
    program = argv[0]
    if program in _OWN_PYTHON:
        return sys.executable
    return program if os.path.isabs(program) else shutil.which(program)


def blocked_for_others(path: str | Path, *, need: int = stat.S_IROTH) -> str | None:
    """Why other users cannot reach ``path`` (a folder on the way they cannot pass, or
    the path itself lacking ``need`` for others, following symlinks), or None."""
    seen: set[Path] = set()
    pending = [Path(os.path.abspath(path))]
    while pending:
        target = pending.pop()
        if target in seen:
            continue
        seen.add(target)
        for folder in reversed(target.parents):
            mode = os.stat(folder).st_mode
            if not mode & stat.S_IXOTH:
                return f"{folder} does not let other users through (mode {stat.filemode(mode)})"
            if folder.is_symlink():
                pending.append(Path(os.path.realpath(folder)))
        try:
            mode = os.stat(target).st_mode
        except FileNotFoundError:
            return f"{target} does not exist"
        if (mode & need) != need:
            return f"{target} is not open to other users (mode {stat.filemode(mode)})"
        if target.is_symlink():
            pending.append(Path(os.path.realpath(target)))
    return None


def _python_folders(interpreter: str) -> list[str]:
    """Folders the server's own Python needs besides its program: the standard library
    and the packages (ipykernel's), when the kernel runs that Python."""
    if os.path.realpath(interpreter) != os.path.realpath(sys.executable):
        return []
    paths = sysconfig.get_paths()
    return list(dict.fromkeys(paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")))


def interpreter_problem(argv: Sequence[str], extra_paths: Iterable[str] = ()) -> str | None:
    """Why a kernel account could not run the kernel spec's ``argv``, or None."""
    interpreter = kernel_interpreter(argv)
    if interpreter is None:
        return f"the kernel's program {argv[0] if argv else '(none)'} is not found"
    need_exec = stat.S_IROTH | stat.S_IXOTH
    problem = blocked_for_others(interpreter, need=need_exec)
    if problem:
        return f"kernel accounts cannot run {interpreter}: {problem}"
    for folder in [*_python_folders(interpreter), *extra_paths]:
        problem = blocked_for_others(folder, need=stat.S_IROTH | stat.S_IXOTH)
        if problem:
            return f"kernel accounts cannot read {folder}: {problem}"
    return None


def notebook_store_problem(root_dir: str, needed: Iterable[str]) -> str | None:
    """Why the store's folder cannot be closed to others without breaking kernels: it is
    ``/`` or holds a path kernel accounts need (``needed``). None: it can be."""
    root = Path(os.path.realpath(root_dir))
    for path in needed:
        real = Path(os.path.realpath(path))
        if real == root or root in real.parents:
            return (
                f"the notebook store {root_dir} holds {path}, which kernel accounts need: "
                "closing it to them would stop every kernel. Keep notebooks in a folder of "
                "their own (ServerApp.root_dir)"
            )
    return None


def close_notebook_store(root_dir: str) -> int:
    """Drop what ``root_dir`` grants to other users (kernel accounts are others: with
    no ``o+x`` on the store's top folder nothing under it can be reached). Returns the
    mode bits dropped (0: there were none)."""
    mode = stat.S_IMODE(os.stat(root_dir).st_mode)
    granted = mode & 0o007
    if granted:
        os.chmod(root_dir, mode & ~0o007)
    return granted
