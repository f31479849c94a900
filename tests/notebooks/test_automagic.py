"""Automagic cells (``ls $folder`` without ``%``) run as in stock Jupyter, with real kernels.

Stock IPython runs a one-line ``ls ...`` as ``%ls ...``; the analysis reads it the same
way (reactive/automagic.py), so the cell is neither blocked as a SyntaxError nor cut off
from the variables its ``$name`` expansions read.
"""

from __future__ import annotations

from pathlib import Path

from .harness import Harness, scenario


@scenario
async def test_an_automagic_ls_runs_and_reruns_when_its_folder_changes(h: Harness) -> None:
    for folder, name in (("first", "alpha.txt"), ("second", "beta.txt")):
        (h.root / folder).mkdir()
        (h.root / folder / name).write_text("x\n")
    first, second = (repr(str(Path(h.root, f))) for f in ("first", "second"))
    define, listing = await h.new(f"folder = {first}", "ls $folder")
    assert (await h.cell(listing))["error"] is None
    await h.run_all()
    for cell_id in (define, listing):
        cell = await h.cell(cell_id)
        assert (cell["status"], cell["error"]) == ("success", None)
    assert "alpha.txt" in await h.text(listing)

    await h.edit(define, f"folder = {second}")
    assert (await h.cell(listing))["stale"] is True
    await h.run(define)
    cell = await h.cell(listing)
    assert (cell["status"], cell["stale"]) == ("success", False)
    assert "beta.txt" in await h.text(listing)
    assert "alpha.txt" not in await h.text(listing)


@scenario
async def test_one_line_magics_that_parse_as_python_run_as_magics(h: Harness) -> None:
    # `pwd` and `ls -a` are valid Python, yet stock IPython runs them as magics when no
    # variable shadows the name; `pwd = 'mine'` then makes `pwd` a plain read.
    (h.root / "gamma.txt").write_text("x\n")
    move, where, listing = await h.new(f"cd {h.root}", "pwd", "ls -a")
    await h.run_all()
    for cell_id in (move, where, listing):
        cell = await h.cell(cell_id)
        assert (cell["status"], cell["error"]) == ("success", None)
    assert await h.text(where) == repr(str(h.root))
    assert "gamma.txt" in await h.text(listing)
    shadow = await h.add("pwd = 'mine'")
    read = await h.add("pwd")
    await h.run(shadow)
    await h.run(read)
    assert await h.text(read) == "'mine'"
