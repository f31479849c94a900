"""Partial failures, honest staleness and kept values, with real kernels (design.md
section 3, "Running"; issue 13 items 4, 5 and 6).

- A cell that raised wrote the names it bound before raising: their readers run; the
  readers of a name it did not bind are blocked and say which name.
- An output that does not come from the current code and inputs is stale, always: a
  blocked cell's stored output too.
- Re-running an earlier definer of a re-used name does not re-run a later cell that only
  redefines it, nor that cell's readers: the kernel gets the later value back.
"""

from __future__ import annotations

import nbformat

from .harness import USER, Harness, scenario


async def _counts(h: Harness, *cell_ids: str) -> list[int | None]:
    """The cells' prompt numbers: a cell that runs again gets a new one."""
    notebook = (await h.opened()).notebook
    return [notebook.cell(c).execution_count for c in cell_ids]


@scenario
async def test_names_bound_before_an_error_are_read_by_the_cells_after_it(h: Harness) -> None:
    failing, pi, name = await h.new(
        "import math\nclass MyError(Exception): pass\nraise MyError('boom')",
        "round(math.pi, 2)",
        "MyError.__name__",
    )
    await h.run_all()
    assert (await h.cell(failing))["status"] == "error"
    assert await h.text(pi) == "3.14"
    assert await h.text(name) == "'MyError'"
    assert (await h.cell(pi))["status"] == (await h.cell(name))["status"] == "success"


@scenario
async def test_a_reader_of_a_name_the_failed_cell_did_not_bind_is_blocked_naming_it(
    h: Harness,
) -> None:
    # As a tutorial whose `plt.style.use('seaborn-whitegrid')` fails after `import`.
    failing, uses_import, uses_style = await h.new(
        "import math\nraise ValueError('no such style')\nstyle = 'whitegrid'",
        "print(math.floor(2.5))",
        "print(style)",
    )
    await h.run_all()
    assert await h.text(uses_import) == "2"
    blocked = await h.cell(uses_style)
    assert blocked["status"] == "blocked"
    assert blocked["error"] == (
        f"cell {failing} failed before defining `style` (ValueError: no such style)"
    )


@scenario
async def test_a_failed_rerun_does_not_pass_off_the_previous_value(h: Harness) -> None:
    divisor, quotient, reader = await h.new("d = 2", "q = 10 / d", "print(q)")
    await h.run_all()
    assert await h.text(reader) == "5.0"
    await h.edit(divisor, "d = 0")
    await h.run(divisor)
    cell = await h.cell(reader)
    assert (await h.cell(quotient))["status"] == "error"
    assert cell["status"] == "blocked"
    assert cell["stale"] is True  # it still shows 5.0, from the old `d`


@scenario
async def test_stored_outputs_of_a_blocked_cell_are_stale(h: Harness) -> None:
    stored = nbformat.v4.new_notebook()
    stored.cells = [
        nbformat.v4.new_code_cell("value = 1 / 0", execution_count=1),
        nbformat.v4.new_code_cell(
            "print(value)",
            execution_count=2,
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="0.5\n")],
        ),
        nbformat.v4.new_code_cell(
            "print('unrelated')",
            execution_count=3,
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="unrelated\n")],
        ),
    ]
    nbformat.write(stored, h.root / "stored.ipynb")
    (listed,) = await h.service.list_notebooks(USER)
    h.notebook_id = listed["id"]
    failing, reader, unrelated = [c.id for c in (await h.opened()).notebook.cells]
    assert (await h.cell(reader))["stale"] is False  # nothing says otherwise yet

    await h.run(failing)

    cell = await h.cell(reader)
    assert cell["status"] == "blocked"
    assert cell["stale"] is True
    assert (await h.cell(unrelated))["stale"] is False


@scenario
async def test_editing_a_cell_that_shows_a_stored_output_makes_it_stale(h: Harness) -> None:
    stored = nbformat.v4.new_notebook()
    stored.cells = [
        nbformat.v4.new_code_cell(
            "6 * 7",
            execution_count=1,
            outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "42"})],
        ),
    ]
    nbformat.write(stored, h.root / "stored.ipynb")
    (listed,) = await h.service.list_notebooks(USER)
    h.notebook_id = listed["id"]
    (cell_id,) = [c.id for c in (await h.opened()).notebook.cells]
    await h.edit(cell_id, "6 * 8")
    assert (await h.cell(cell_id))["stale"] is True
    await h.run(cell_id)
    assert (await h.cell(cell_id))["stale"] is False
    assert await h.text(cell_id) == "48"


@scenario
async def test_a_later_redefinition_and_its_readers_keep_their_values(h: Harness) -> None:
    first, reader, second, later_reader = await h.new(
        "i = [2, 3]", "print(i)", "i = 7", "print(i * 2)"
    )
    await h.run_all()
    before = await _counts(h, second, later_reader)

    await h.edit(first, "i = [5]")
    await h.run(first)

    assert await h.text(reader) == "[5]"
    assert await _counts(h, second, later_reader) == before  # neither ran again
    assert await h.text(later_reader) == "14"
    for cell_id in (first, reader, second, later_reader):
        cell = await h.cell(cell_id)
        assert (cell["status"], cell["stale"]) == ("success", False)
    # The kernel holds the last definition's `i`, as a top-to-bottom run leaves it.
    probe = await h.add("print(i)")
    await h.run(probe)
    assert await h.text(probe) == "7"
    assert await _counts(h, second) == before[:1]


@scenario
async def test_a_kept_value_is_back_for_a_reader_that_must_run(h: Harness) -> None:
    first, reader, second, both = await h.new(
        "x = 1\nscale = 10", "print(x)", "x = 2", "print(x * scale)"
    )
    await h.run_all()
    assert await h.text(both) == "20"
    await h.edit(first, "x = 100\nscale = 3")
    await h.run(first)
    assert await h.text(reader) == "100"
    assert await h.text(both) == "6"  # x from `x = 2`, kept; scale from the edit
    assert (await h.cell(second))["status"] == "success"
