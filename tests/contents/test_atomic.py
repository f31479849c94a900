"""AtomicFileContentsManager: a save replaces the file whole or not at all."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal
import stat
import time
from base64 import b64encode
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import v4

from reactive_notebook.contents.atomic import (
    AtomicFileCheckpoints,
    AtomicFileContentsManager,
    atomic_replace,
)

from ._async import async_test


def _manager(root: Path) -> AtomicFileContentsManager:
    return AtomicFileContentsManager(root_dir=str(root))


def _version(n: int) -> nbformat.NotebookNode:
    """Version ``n`` of the notebook: ``n`` cells of ~20 KB, so it grows with every save."""
    nb = v4.new_notebook(metadata={"version": n})
    nb.cells = [
        v4.new_code_cell(f"# cell {i} of version {n}\n" + "x" * 20_000, id=f"c{i}")
        for i in range(n)
    ]
    return nb


def _notebook_model(n: int) -> dict[str, object]:
    return {"type": "notebook", "content": _version(n)}


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".~"))


@async_test
async def test_a_saved_notebook_reads_back_and_leaves_no_temp_file(tmp_path: Path) -> None:
    cm = _manager(tmp_path)
    await cm.save(_notebook_model(3), "nb.ipynb")
    await cm.save(_notebook_model(4), "nb.ipynb")
    assert nbformat.read(tmp_path / "nb.ipynb", as_version=4) == _version(4)
    assert _leftovers(tmp_path) == []


@async_test
async def test_text_and_base64_files_are_saved_atomically_too(tmp_path: Path) -> None:
    cm = _manager(tmp_path)
    await cm.save({"type": "file", "format": "text", "content": "héllo\n"}, "a.txt")
    payload = bytes(range(256))
    await cm.save(
        {"type": "file", "format": "base64", "content": b64encode(payload).decode()}, "b.bin"
    )
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    assert (tmp_path / "b.bin").read_bytes() == payload
    assert _leftovers(tmp_path) == []


@async_test
async def test_a_file_with_a_bad_format_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    from tornado.web import HTTPError

    cm = _manager(tmp_path)
    with pytest.raises(HTTPError) as error:
        await cm.save({"type": "file", "format": "base64", "content": "not base64 ü"}, "x.bin")
    assert error.value.status_code == 400
    assert list(tmp_path.iterdir()) == []


@async_test
async def test_a_save_keeps_the_files_permission_bits(tmp_path: Path) -> None:
    cm = _manager(tmp_path)
    await cm.save(_notebook_model(1), "nb.ipynb")
    os.chmod(tmp_path / "nb.ipynb", 0o640)
    await cm.save(_notebook_model(2), "nb.ipynb")
    assert stat.S_IMODE(os.stat(tmp_path / "nb.ipynb").st_mode) == 0o640


@async_test
async def test_a_new_file_gets_the_usual_umask_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        await _manager(tmp_path).save(_notebook_model(1), "nb.ipynb")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "nb.ipynb").st_mode) == 0o644


@async_test
async def test_saving_through_a_symlink_updates_the_target_and_keeps_the_link(
    tmp_path: Path,
) -> None:
    cm = _manager(tmp_path)
    await cm.save(_notebook_model(1), "real.ipynb")
    (tmp_path / "link.ipynb").symlink_to("real.ipynb")
    await cm.save(_notebook_model(2), "link.ipynb")
    assert (tmp_path / "link.ipynb").is_symlink()
    assert nbformat.read(tmp_path / "real.ipynb", as_version=4) == _version(2)


def _write_half_then_fail(writing: Any, error: BaseException) -> None:
    with writing as f:
        f.write("half of the new cont")
        raise error


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    cm = _manager(tmp_path)
    target = tmp_path / "nb.ipynb"
    target.write_text("old content", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk on fire"):
        _write_half_then_fail(cm.atomic_writing(str(target)), RuntimeError("disk on fire"))
    assert target.read_text(encoding="utf-8") == "old content"
    assert _leftovers(tmp_path) == []


def test_a_failed_first_write_creates_no_file(tmp_path: Path) -> None:
    target = tmp_path / "new.ipynb"
    with pytest.raises(KeyboardInterrupt):
        _write_half_then_fail(atomic_replace(str(target)), KeyboardInterrupt())
    assert list(tmp_path.iterdir()) == []


@async_test
async def test_restoring_a_checkpoint_brings_the_old_content_back(tmp_path: Path) -> None:
    cm = _manager(tmp_path)
    await cm.save(_notebook_model(1), "nb.ipynb")
    checkpoint = await cm.create_checkpoint("nb.ipynb")
    await cm.save(_notebook_model(5), "nb.ipynb")
    await cm.restore_checkpoint(checkpoint["id"], "nb.ipynb")
    assert nbformat.read(tmp_path / "nb.ipynb", as_version=4) == _version(1)
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------- crash safety


def _save_bigger_and_bigger(root: str, start: int, acks: Connection) -> None:
    """Child process: save versions start, start+1, ... forever, acknowledging each."""

    async def loop() -> None:
        cm = AtomicFileContentsManager(root_dir=root)
        acks.send(("started", start - 1))
        n = start
        while True:
            await cm.save(_notebook_model(n), "nb.ipynb")
            acks.send(("saved", n))
            n += 1

    asyncio.run(loop())


def test_a_save_killed_at_any_moment_leaves_a_whole_acknowledged_version(
    tmp_path: Path,
) -> None:
    """kill -9 a process that is saving ever bigger versions of one notebook, many times,
    at random moments: the file always parses, is exactly one of the versions written,
    and is the last acknowledged one or the one being written when the kill came."""
    context = multiprocessing.get_context("fork")
    rng = random.Random(20240611)
    last_on_disk = 0
    for _ in range(25):
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_save_bigger_and_bigger, args=(str(tmp_path), last_on_disk + 1, sender)
        )
        child.start()
        sender.close()
        assert receiver.recv() == ("started", last_on_disk)
        # Versions are ~20 KB per cell and the child starts where the last one stopped,
        # so saves get slower as the run goes; pick moments across a few saves.
        receiver.poll(rng.uniform(0.0, 0.25))
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        acknowledged = last_on_disk
        while receiver.poll():
            try:
                acknowledged = receiver.recv()[1]
            except EOFError:
                break
        receiver.close()

        if not (tmp_path / "nb.ipynb").exists():
            assert acknowledged == 0  # killed before the very first save completed
            continue
        on_disk = nbformat.read(tmp_path / "nb.ipynb", as_version=4)
        version = on_disk.metadata["version"]
        assert version in (acknowledged, acknowledged + 1)
        assert on_disk == _version(version)
        last_on_disk = version
    assert last_on_disk > 0
    # Temp files of killed saves may remain (a SIGKILL runs no cleanup); they are hidden
    # ".~" files and never the notebook itself.
    visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert visible == ["nb.ipynb"]


@async_test
async def test_the_checkpoints_of_the_atomic_manager_copy_atomically(tmp_path: Path) -> None:
    assert isinstance(_manager(tmp_path).checkpoints, AtomicFileCheckpoints)


@async_test
async def test_old_temp_files_of_killed_saves_are_removed_on_the_next_save(
    tmp_path: Path,
) -> None:
    cm = _manager(tmp_path)
    old = tmp_path / ".~nb.ipynb.0123456789ab.tmp"
    young = tmp_path / ".~nb.ipynb.ba9876543210.tmp"
    unrelated = tmp_path / ".~other.ipynb.0123456789ab.tmp"
    for leftover in (old, young, unrelated):
        leftover.write_text("partial")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(unrelated, (two_hours_ago, two_hours_ago))
    await cm.save(_notebook_model(1), "nb.ipynb")
    assert _leftovers(tmp_path) == [young.name, unrelated.name]
