"""Cells that reach names by string are never silently stale (issue 13, item 3).

Real kernels: each scenario compares what the cells show with what a top-to-bottom run of
the same code would show, after an edit above them.
"""

from __future__ import annotations

from .harness import Harness, scenario

REASON = "reads names dynamically"


@scenario
async def test_eval_directly_and_through_a_function_of_another_cell_follow_an_edit(
    h: Harness,
) -> None:
    x, show, call, direct = await h.new(
        "x = 1", "def show(n): return eval(n)", "show('x')", "eval('x')"
    )
    await h.run_all()
    assert await h.text(call) == "1"
    assert await h.text(direct) == "1"
    await h.edit(x, "x = 2")
    assert (await h.cell(call))["stale"] is True
    await h.run(x)
    assert await h.text(call) == "2"
    assert await h.text(direct) == "2"
    for cell_id in (call, direct):
        cell = await h.cell(cell_id)
        assert cell["stale"] is False
        assert cell["status"] == "success"
    assert (await h.cell(call))["dynamic"] == f"{REASON} (eval in show)"
    assert (await h.cell(direct))["dynamic"] is None  # a literal: an ordinary read of x
    assert (await h.cell(direct))["reads"] == ["x"]
    assert (await h.cell(show))["dynamic"] is None  # defining it reads nothing yet


@scenario
async def test_eval_of_a_computed_string_reads_every_name_above(h: Harness) -> None:
    a, b, probe = await h.new("a = 1", "b = 10", "print(eval('+'.join(['a', 'b'])))")
    await h.run_all()
    assert await h.text(probe) == "11"
    assert (await h.cell(probe))["dynamic"] == f"{REASON} (eval)"
    await h.edit(b, "b = 20")
    await h.run(b)
    assert await h.text(probe) == "21"
    await h.edit(a, "a = 5")
    await h.run(a)
    assert await h.text(probe) == "25"


@scenario
async def test_a_function_calling_a_dynamic_function_is_dynamic_too(h: Harness) -> None:
    x, _f, _g, call = await h.new(
        "x = 'one'",
        "def f(name): return globals()[name]",
        "def g(name): return f(name).upper()",
        "print(g('x'))",
    )
    await h.run_all()
    assert await h.text(call) == "ONE"
    assert (await h.cell(call))["dynamic"] == f"{REASON} (globals() in f)"
    await h.edit(x, "x = 'two'")
    await h.run(x)
    assert await h.text(call) == "TWO"


@scenario
async def test_a_function_that_stops_using_eval_frees_its_callers(h: Harness) -> None:
    x, show, call = await h.new("x = 1", "def show(n): return eval(n)", "print(show('x'))")
    await h.run_all()
    assert (await h.cell(call))["dynamic"] is not None
    await h.edit(show, "def show(n): return n")
    assert (await h.cell(call))["dynamic"] is None
    await h.run(show)
    assert await h.text(call) == "x"
    await h.edit(x, "x = 3")
    await h.run(x)
    assert (await h.cell(call))["stale"] is False  # no longer reads x: nothing to re-run


@scenario
async def test_globals_written_with_a_literal_key_is_an_ordinary_definition(h: Harness) -> None:
    writer, reader = await h.new("globals()['y'] = 7", "print(y * 2)")
    await h.run(reader)
    assert await h.text(reader) == "14"
    assert (await h.cell(writer))["writes"] == ["y"]
    assert (await h.cell(writer))["dynamic"] is None
    await h.edit(writer, "globals()['y'] = 8")
    await h.run(writer)
    assert await h.text(reader) == "16"


@scenario
async def test_names_bound_through_globals_with_computed_keys_follow_their_writer(
    h: Harness,
) -> None:
    source, writer, reader = await h.new(
        "names = {'p': 1, 'q': 2}",
        "for key, value in names.items(): globals()[key] = value",
        "print(p + q)",
    )
    await h.run_all()
    assert await h.text(reader) == "3"
    await h.edit(source, "names = {'p': 10, 'q': 20}")
    await h.run(source)
    assert await h.text(reader) == "30"
    assert (await h.cell(reader))["stale"] is False
    assert (await h.cell(writer))["dynamic"] is None
    # Running the reader again does not re-run its current writer.
    count = (await h.cell(writer))["execution_count"]
    await h.run(reader)
    assert (await h.cell(writer))["execution_count"] == count


@scenario
async def test_clients_hear_when_another_cells_edit_makes_a_cell_dynamic(h: Harness) -> None:
    show, call = await h.new("def show(n): return n", "show('x')")
    seq = h.service.hub.since(h.notebook_id, 0)
    last = seq[-1].seq if seq else 0
    await h.edit(show, "def show(n): return eval(n)")
    events = h.service.hub.since(h.notebook_id, last) or []
    updates = {e.data["cell_id"]: e.data["cell"] for e in events if e.type == "cell_updated"}
    assert updates[call]["dynamic"] == f"{REASON} (eval in show)"
    assert updates[show]["dynamic"] is None
