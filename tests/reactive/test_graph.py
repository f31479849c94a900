"""The notebook graph: who provides each name a cell reads, and in what order cells run.

Each test states one rule of design.md section 3 ("The graph"):

- a name written by one cell can be read from anywhere in the notebook (spreadsheet order);
- a name written by several cells: each reader sees the nearest definition above it; each
  definer is followed by the next definer (overwrite edge), and every reader of a
  definition runs before the next definer overwrites it (order edge); reading such a name
  with no definition above is an error naming the definers;
- every cell on a cycle is blocked with an error naming the cycle and the variables on
  each edge;
- run order is topological, ties broken by position in the notebook.

Notebooks are built with :func:`notebook`, which appends cells "c1", "c2", ... in order.
"""

from __future__ import annotations

import itertools
import random

import pytest

from reactive_notebook.reactive.analysis import analyze_python
from reactive_notebook.reactive.graph import Edge, EdgeKind, NotebookGraph

DATA = EdgeKind.DATA
OVERWRITE = EdgeKind.OVERWRITE
ORDER = EdgeKind.ORDER


def notebook(*codes: str) -> NotebookGraph:
    """A graph with one cell per code, ids "c1", "c2", ... in notebook order."""
    graph = NotebookGraph()
    for number, code in enumerate(codes, start=1):
        graph.append(f"c{number}", analyze_python(code), fingerprint=code)
    return graph


def insert(graph: NotebookGraph, cell_id: str, code: str, *, after: str | None):
    return graph.insert(cell_id, analyze_python(code), after=after, fingerprint=code)


def edit(graph: NotebookGraph, cell_id: str, code: str):
    return graph.update(cell_id, analyze_python(code), fingerprint=code)


def edges(graph: NotebookGraph) -> set[Edge]:
    return set(graph.edges())


def edges_of(graph: NotebookGraph, cell_id: str) -> set[Edge]:
    return {e for e in graph.edges() if cell_id in (e[0], e[1])}


def run_order(graph: NotebookGraph) -> list[str]:
    return graph.sort(graph.cell_ids)


# -- shapes: chains, diamonds, fan-out, fan-in -------------------------------------------


def test_chain_links_each_cell_to_the_next_by_the_name_it_reads() -> None:
    graph = notebook("a = 1", "b = a + 1", "c = b + 1")

    assert edges(graph) == {("c1", "c2", DATA, "a"), ("c2", "c3", DATA, "b")}
    assert graph.providers("c3") == {"b": "c2"}
    assert run_order(graph) == ["c1", "c2", "c3"]


def test_diamond_joins_two_branches_into_one_reader() -> None:
    graph = notebook("a = 1", "b = a * 2", "c = a * 3", "d = b + c")

    assert edges(graph) == {
        ("c1", "c2", DATA, "a"),
        ("c1", "c3", DATA, "a"),
        ("c2", "c4", DATA, "b"),
        ("c3", "c4", DATA, "c"),
    }
    assert graph.providers("c4") == {"b": "c2", "c": "c3"}
    assert run_order(graph) == ["c1", "c2", "c3", "c4"]


def test_fan_out_gives_every_reader_an_edge_named_by_what_it_reads() -> None:
    graph = notebook("a = 1\nb = 2", "x = a", "y = b", "z = a + b")

    assert graph.children("c1") == {
        "c2": frozenset({"a"}),
        "c3": frozenset({"b"}),
        "c4": frozenset({"a", "b"}),
    }
    assert graph.parents("c4") == {"c1": frozenset({"a", "b"})}


def test_fan_in_gives_the_reader_one_parent_per_definer() -> None:
    graph = notebook("a = 1", "b = 2", "c = 3", "total = a + b + c")

    assert graph.parents("c4") == {
        "c1": frozenset({"a"}),
        "c2": frozenset({"b"}),
        "c3": frozenset({"c"}),
    }
    assert graph.providers("c4") == {"a": "c1", "b": "c2", "c": "c3"}


def test_independent_cells_have_no_edges() -> None:
    graph = notebook("a = 1", "b = 2", "print(a)")

    assert edges(graph) == {("c1", "c3", DATA, "a")}
    assert graph.descendants(["c2"]) == set()
    assert graph.ancestors(["c2"]) == set()


# -- a single definer: spreadsheet order ---------------------------------------------------


def test_single_definer_is_readable_from_a_cell_above_it() -> None:
    graph = notebook("print(total)", "total = 1")

    assert graph.providers("c1") == {"total": "c2"}
    assert edges(graph) == {("c2", "c1", DATA, "total")}
    assert graph.problem("c1") is None
    assert run_order(graph) == ["c2", "c1"]


def test_single_self_referencing_definer_has_no_edge_to_itself() -> None:
    graph = notebook("n = n + 1")

    assert edges(graph) == set()
    assert graph.providers("c1") == {}
    assert graph.problem("c1") is None


# -- several definers: nearest definition above --------------------------------------------


def test_redefinition_reads_the_definition_above_and_overwrites_it() -> None:
    graph = notebook("df = load()", "df = df.dropna()", "plot(df)")

    assert edges(graph) == {
        ("c1", "c2", DATA, "df"),
        ("c1", "c2", OVERWRITE, "df"),
        ("c2", "c3", DATA, "df"),
    }
    assert graph.providers("c2") == {"df": "c1"}
    assert graph.providers("c3") == {"df": "c2"}
    assert run_order(graph) == ["c1", "c2", "c3"]


def test_reader_sees_nearest_definition_above() -> None:
    graph = notebook("x = 1", "x = 2", "y = x", "x = 3", "z = x")

    assert graph.providers("c3") == {"x": "c2"}
    assert graph.providers("c5") == {"x": "c4"}


def test_reader_between_two_definers_runs_before_the_next_definer() -> None:
    graph = notebook("x = 1", "y = x", "x = 2")

    assert edges(graph) == {
        ("c1", "c2", DATA, "x"),
        ("c1", "c3", OVERWRITE, "x"),
        ("c2", "c3", ORDER, "x"),
    }
    assert graph.order_successors("c2") == ["c3"]
    assert run_order(graph) == ["c1", "c2", "c3"]


def test_order_edge_does_not_make_the_next_definer_a_descendant_of_the_reader() -> None:
    graph = notebook("x = 1", "y = x", "x = 2")

    assert graph.descendants(["c2"]) == set()
    assert graph.ancestors(["c3"]) == {"c1"}
    assert graph.children("c2") == {}


def test_definers_form_an_overwrite_chain_in_notebook_order() -> None:
    graph = notebook("x = 1", "x = 2", "x = 3")

    assert edges(graph) == {("c1", "c2", OVERWRITE, "x"), ("c2", "c3", OVERWRITE, "x")}
    assert graph.descendants(["c1"]) == {"c2", "c3"}


def test_read_of_redefined_name_with_no_definition_above_is_ambiguous() -> None:
    graph = notebook("y = x", "x = 1", "x = 2")

    problem = graph.problem("c1")
    assert problem is not None
    assert problem.kind == "ambiguous"
    assert "x" in problem.names
    assert "c2" in problem.message
    assert "c3" in problem.message
    assert graph.providers("c1") == {}
    assert graph.problem("c2") is None
    assert graph.problem("c3") is None


def test_augmented_assignment_above_every_other_definer_is_ambiguous() -> None:
    graph = notebook("x += 1", "x = 0")

    problem = graph.problem("c1")
    assert problem is not None
    assert problem.kind == "ambiguous"
    assert "c2" in problem.message


def test_ambiguity_clears_when_a_definition_moves_above_the_reader() -> None:
    graph = notebook("y = x", "x = 1", "x = 2")

    change = graph.move("c2", after=None)

    assert graph.cell_ids == ["c2", "c1", "c3"]
    assert graph.problem("c1") is None
    assert graph.providers("c1") == {"x": "c2"}
    assert "c1" in change.inputs_changed


def test_builtin_read_above_two_definers_falls_back_to_the_builtin() -> None:
    graph = notebook("print(1)", "def print(*args):\n    pass", "print = None")

    assert graph.problem("c1") is None
    assert graph.providers("c1") == {}
    assert graph.parents("c1") == {}


def test_builtin_read_below_a_redefinition_reads_the_redefinition() -> None:
    graph = notebook("def print(*args):\n    pass", "print(1)", "print = None")

    assert graph.providers("c2") == {"print": "c1"}


def test_builtin_defined_by_one_cell_is_read_from_that_cell_anywhere() -> None:
    graph = notebook("display(1)", "def display(obj):\n    pass")

    assert graph.providers("c1") == {"display": "c2"}


def test_builtin_read_with_no_definer_has_no_edges() -> None:
    graph = notebook("x = len([1])", "print(x)")

    assert edges(graph) == {("c1", "c2", DATA, "x")}


# -- del ------------------------------------------------------------------------------------


def test_del_counts_as_a_definition_for_readers_below_it() -> None:
    graph = notebook("x = 1", "del x", "y = x")

    assert graph.providers("c2") == {"x": "c1"}
    assert graph.providers("c3") == {"x": "c2"}
    assert ("c1", "c2", OVERWRITE, "x") in edges(graph)
    assert graph.problem("c3") is None


def test_reader_above_a_del_reads_the_definition_before_it() -> None:
    graph = notebook("x = 1", "y = x", "del x")

    assert graph.providers("c2") == {"x": "c1"}
    assert ("c2", "c3", ORDER, "x") in edges(graph)


# -- cycles -------------------------------------------------------------------------------


def test_two_cell_cycle_blocks_both_cells_naming_the_cycle_and_its_variables() -> None:
    graph = notebook("total = price + qty", "price = total * 0.1\nqty = total * 0.2")

    for cell_id in ("c1", "c2"):
        problem = graph.problem(cell_id)
        assert problem is not None, cell_id
        assert problem.kind == "cycle"
        assert set(problem.cells) == {"c1", "c2"}
        assert set(problem.names) == {"total", "price", "qty"}
        for word in ("c1", "c2", "total", "price", "qty"):
            assert word in problem.message, (word, problem.message)


def test_three_cell_cycle_blocks_every_cell_on_it_and_none_downstream() -> None:
    graph = notebook("alpha = gamma + 1", "beta = alpha * 2", "gamma = beta - 1", "out = gamma")

    for cell_id in ("c1", "c2", "c3"):
        problem = graph.problem(cell_id)
        assert problem is not None, cell_id
        assert problem.kind == "cycle"
        assert set(problem.cells) == {"c1", "c2", "c3"}
        assert set(problem.names) == {"alpha", "beta", "gamma"}
        for word in ("c1", "c2", "c3", "alpha", "beta", "gamma"):
            assert word in problem.message, (word, problem.message)
    assert graph.problem("c4") is None
    assert set(graph.problems()) == {"c1", "c2", "c3"}
    assert set(graph.cycles()) == {"c1", "c2", "c3"}


def test_order_edge_can_close_a_cycle() -> None:
    # c2 must read x = 1 before c3 redefines x, but c2 also needs b, computed by c4 from
    # the x of c3: no order satisfies all three.
    graph = notebook("x = 1", "a = x + b", "x = 2", "b = x")

    assert set(graph.problems()) == {"c2", "c3", "c4"}
    problem = graph.problem("c2")
    assert problem is not None
    assert problem.kind == "cycle"
    assert set(problem.names) == {"x", "b"}


def test_cell_upstream_of_a_cycle_has_no_problem() -> None:
    graph = notebook("seed = 1", "a = b + seed", "b = a")

    assert graph.problem("c1") is None
    assert set(graph.problems()) == {"c2", "c3"}


def test_editing_a_cell_to_break_the_cycle_clears_the_problems() -> None:
    graph = notebook("alpha = gamma + 1", "beta = alpha * 2", "gamma = beta - 1", "out = gamma")

    edit(graph, "c1", "alpha = 1")

    assert graph.problems() == {}
    assert graph.cycles() == {}
    assert run_order(graph) == ["c1", "c2", "c3", "c4"]


def test_removing_a_cell_on_the_cycle_clears_the_problems() -> None:
    graph = notebook("a = b", "b = a")

    graph.remove("c2")

    assert graph.problems() == {}


def test_editing_a_cell_to_close_a_cycle_reports_it() -> None:
    graph = notebook("a = 1", "b = a")

    edit(graph, "c1", "a = b")

    assert set(graph.problems()) == {"c1", "c2"}


# -- syntax errors --------------------------------------------------------------------------


def test_syntax_error_is_a_syntax_problem() -> None:
    graph = notebook("x = (", "y = 1")

    problem = graph.problem("c1")
    assert problem is not None
    assert problem.kind == "syntax"
    assert graph.problem("c2") is None


def test_fixing_a_syntax_error_clears_the_problem() -> None:
    graph = notebook("x = (", "y = x")

    edit(graph, "c1", "x = 1")

    assert graph.problem("c1") is None
    assert graph.providers("c2") == {"x": "c1"}


# -- run order ----------------------------------------------------------------------------


def test_sort_without_edges_keeps_notebook_order() -> None:
    graph = notebook("a = 1", "b = 2", "c = 3")

    assert graph.sort(["c3", "c1", "c2"]) == ["c1", "c2", "c3"]


def test_sort_puts_a_provider_below_before_its_reader_and_keeps_the_rest_in_place() -> None:
    graph = notebook("w = 0", "y = x + 1", "x = 1", "z = 0")

    assert run_order(graph) == ["c1", "c3", "c2", "c4"]
    assert graph.sort(["c4", "c2", "c3"]) == ["c3", "c2", "c4"]


def test_sort_follows_a_chain_that_runs_up_the_notebook() -> None:
    graph = notebook("c = b + 1", "b = a + 1", "a = 1")

    assert run_order(graph) == ["c3", "c2", "c1"]


def test_sort_breaks_ties_by_position_among_cells_ready_to_run() -> None:
    # c1 needs c3; c2 and c4 need nothing. Among the cells ready at each step, the one
    # highest in the notebook runs first.
    graph = notebook("y = x", "p = 1", "x = 1", "q = 2")

    assert run_order(graph) == ["c2", "c3", "c1", "c4"]


def test_sort_respects_every_edge_with_upward_data_edges() -> None:
    graph = notebook("d = c + b", "a = 1", "c = b * 2", "b = a + 1", "e = d")

    order = run_order(graph)
    assert order == ["c2", "c4", "c3", "c1", "c5"]
    for source, target, _, _ in graph.edges():
        assert order.index(source) < order.index(target)


# -- incremental updates ---------------------------------------------------------------------


def test_insert_between_definers_relinks_the_readers_below_it() -> None:
    graph = notebook("x = 1", "y = x", "x = 2", "z = x")

    change = insert(graph, "new", "x = 10", after="c1")

    assert graph.cell_ids == ["c1", "new", "c2", "c3", "c4"]
    assert graph.providers("c2") == {"x": "new"}
    assert graph.providers("c4") == {"x": "c3"}
    assert "c2" in change.inputs_changed
    assert "c4" not in change.inputs_changed
    assert {e for e in edges(graph) if e[2] is OVERWRITE} == {
        ("c1", "new", OVERWRITE, "x"),
        ("new", "c3", OVERWRITE, "x"),
    }
    assert ("c1", "c2", DATA, "x") not in edges(graph)


def test_insert_of_a_definer_above_the_nearest_definition_changes_no_reader() -> None:
    graph = notebook("x = 1", "y = x")

    change = insert(graph, "new", "x = 2", after=None)

    assert graph.providers("c2") == {"x": "c1"}
    assert "c2" not in change.inputs_changed
    assert ("new", "c1", OVERWRITE, "x") in edges(graph)


def test_insert_of_a_second_definer_makes_a_reader_above_both_ambiguous() -> None:
    graph = notebook("y = x", "x = 1")
    assert graph.providers("c1") == {"x": "c2"}

    change = insert(graph, "new", "x = 2", after="c2")

    problem = graph.problem("c1")
    assert problem is not None
    assert problem.kind == "ambiguous"
    assert graph.providers("c1") == {}
    assert "c1" in change.inputs_changed


def test_editing_a_cell_without_changing_its_names_reports_nothing() -> None:
    graph = notebook("x = 1", "y = x * 2", "z = y")
    before = edges(graph)

    change = edit(graph, "c1", "x = 100  # a new value")

    assert change.inputs_changed == frozenset()
    assert change.former_children == frozenset()
    assert edges(graph) == before


def test_editing_a_cell_to_stop_defining_a_name_reports_its_readers() -> None:
    graph = notebook("x = 1", "y = x", "z = 0")

    change = edit(graph, "c1", "w = 1")

    assert "c2" in change.inputs_changed
    assert "c3" not in change.inputs_changed
    assert graph.providers("c2") == {}
    assert edges(graph) == set()


def test_editing_a_cell_to_read_a_new_name_links_it() -> None:
    graph = notebook("x = 1", "k = 2", "y = x")

    edit(graph, "c3", "y = x + k")

    assert graph.providers("c3") == {"x": "c1", "k": "c2"}


def test_move_changes_which_definition_a_reader_sees() -> None:
    graph = notebook("x = 1", "x = 2", "y = x")
    assert graph.providers("c3") == {"x": "c2"}

    change = graph.move("c3", after="c1")

    assert graph.cell_ids == ["c1", "c3", "c2"]
    assert graph.providers("c3") == {"x": "c1"}
    assert ("c3", "c2", ORDER, "x") in edges(graph)
    assert "c3" in change.inputs_changed
    assert run_order(graph) == ["c1", "c3", "c2"]


def test_moving_a_definer_changes_which_definition_readers_see() -> None:
    graph = notebook("x = 1", "x = 2", "y = x")

    change = graph.move("c1", after="c2")

    assert graph.cell_ids == ["c2", "c1", "c3"]
    assert graph.providers("c3") == {"x": "c1"}
    assert ("c2", "c1", OVERWRITE, "x") in edges(graph)
    assert "c3" in change.inputs_changed


def test_moving_a_single_definer_below_its_reader_keeps_the_edge() -> None:
    graph = notebook("x = 1", "y = x")

    change = graph.move("c1", after="c2")

    assert graph.cell_ids == ["c2", "c1"]
    assert graph.providers("c2") == {"x": "c1"}
    assert change.inputs_changed == frozenset()
    assert run_order(graph) == ["c1", "c2"]


def test_remove_reports_former_children_and_drops_every_edge_of_the_cell() -> None:
    graph = notebook("a = 1", "b = a", "c = b", "d = b + a")

    change = graph.remove("c2")

    assert change.former_children == {"c3", "c4"}
    assert "c2" not in graph
    assert graph.cell_ids == ["c1", "c3", "c4"]
    assert edges_of(graph, "c2") == set()
    assert edges(graph) == {("c1", "c4", DATA, "a")}
    assert graph.providers("c3") == {}


def test_removing_a_redefinition_relinks_its_readers_to_the_definition_above() -> None:
    graph = notebook("x = 1", "x = 2", "y = x")

    change = graph.remove("c2")

    assert "c3" in change.former_children
    assert graph.providers("c3") == {"x": "c1"}
    assert edges(graph) == {("c1", "c3", DATA, "x")}


def test_removing_one_of_two_definers_clears_an_ambiguous_read() -> None:
    graph = notebook("y = x", "x = 1", "x = 2")

    change = graph.remove("c3")

    assert graph.problem("c1") is None
    assert graph.providers("c1") == {"x": "c2"}
    assert "c1" in change.inputs_changed


def test_removing_a_reader_drops_its_order_edge() -> None:
    graph = notebook("x = 1", "y = x", "x = 2")

    graph.remove("c2")

    assert edges(graph) == {("c1", "c3", OVERWRITE, "x")}


def test_removed_cell_id_can_be_reused() -> None:
    graph = notebook("x = 1", "y = x")
    graph.remove("c1")

    insert(graph, "c1", "x = 5", after=None)

    assert graph.providers("c2") == {"x": "c1"}


def test_insert_after_an_unknown_cell_raises_key_error() -> None:
    graph = notebook("x = 1")

    with pytest.raises(KeyError):
        insert(graph, "c2", "y = x", after="nope")
    assert "c2" not in graph


# -- descendants and ancestors --------------------------------------------------------------


def test_descendants_are_every_cell_a_rerun_reruns() -> None:
    graph = notebook("a = 1", "b = a", "c = b", "z = 0", "d = a + c")

    assert graph.descendants(["c1"]) == {"c2", "c3", "c5"}
    assert graph.descendants(["c3"]) == {"c5"}
    assert graph.descendants(["c4"]) == set()
    assert graph.descendants(["c2", "c3"]) == {"c5"}


def test_ancestors_are_every_cell_whose_rerun_reruns_these() -> None:
    graph = notebook("a = 1", "b = a", "c = b", "z = 0", "d = a + c")

    assert graph.ancestors(["c5"]) == {"c1", "c2", "c3"}
    assert graph.ancestors(["c1"]) == set()
    assert graph.ancestors(["c3", "c4"]) == {"c1", "c2"}


def test_descendants_follow_overwrite_edges() -> None:
    graph = notebook("x = 1", "y = x", "x = 2", "z = x")

    assert graph.descendants(["c1"]) == {"c2", "c3", "c4"}
    assert graph.ancestors(["c4"]) == {"c1", "c3"}


# -- positions ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["always-after-c1", "after-the-previous-insert"])
def test_many_inserts_at_the_same_spot_keep_the_order_right(where: str) -> None:
    graph = notebook("x = 0", "y = x")
    expected_between: list[str] = []
    previous = "c1"
    for i in range(100):
        cell_id = f"n{i}"
        after = "c1" if where == "always-after-c1" else previous
        insert(graph, cell_id, f"x = {i + 1}", after=after)
        if where == "always-after-c1":
            expected_between.insert(0, cell_id)
        else:
            expected_between.append(cell_id)
        previous = cell_id

    expected = ["c1", *expected_between, "c2"]
    assert graph.cell_ids == expected
    assert [graph.index(c) for c in expected] == list(range(len(expected)))
    assert graph.providers("c2") == {"x": expected_between[-1]}
    assert graph.definers("x") == tuple(expected[:-1])
    overwrites = {(e[0], e[1]) for e in edges(graph) if e[2] is OVERWRITE}
    assert overwrites == set(itertools.pairwise(expected[:-1]))
    assert run_order(graph) == expected


def kinds(graph: NotebookGraph) -> dict[str, str]:
    return {cell_id: problem.kind for cell_id, problem in graph.problems().items()}


CODES = [
    "x = 1",
    "x = x + 1",
    "y = x",
    "z = x + y",
    "del x",
    "y = 2",
    "w = z",
    "x = w",
    "q = 0",
    "print(y)",
    "print = y",
    "import math as x",
    "from math import pi as x",
    "import math as y",
    "import os as x",
]


@pytest.mark.parametrize("seed", range(40))
def test_incremental_updates_give_the_graph_built_from_scratch(seed: int) -> None:
    rng = random.Random(seed)
    graph = NotebookGraph()
    code: dict[str, str] = {}
    for step in range(30):
        ids = graph.cell_ids
        action = rng.choice(["insert", "insert", "edit", "move", "remove"]) if ids else "insert"
        if action == "insert":
            cell_id = f"k{step}"
            code[cell_id] = rng.choice(CODES)
            insert(graph, cell_id, code[cell_id], after=rng.choice([None, *ids]))
        elif action == "edit":
            cell_id = rng.choice(ids)
            code[cell_id] = rng.choice(CODES)
            edit(graph, cell_id, code[cell_id])
        elif action == "move":
            cell_id = rng.choice(ids)
            graph.move(cell_id, after=rng.choice([None, *[c for c in ids if c != cell_id]]))
        else:
            cell_id = rng.choice(ids)
            graph.remove(cell_id)
            del code[cell_id]

        fresh = NotebookGraph()
        for cell_id in graph.cell_ids:
            fresh.append(cell_id, analyze_python(code[cell_id]), fingerprint=code[cell_id])
        assert edges(graph) == edges(fresh), (step, action, [(c, code[c]) for c in fresh])
        # Which cycle a message describes may differ when several pass through a cell.
        assert kinds(graph) == kinds(fresh)
        assert run_order(graph) == run_order(fresh)
