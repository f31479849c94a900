"""The graph of cells that read names dynamically (design.md section 3).

A dynamic cell reads every name defined above it: it gets a reader's edges for each of
them, kept up to date as definitions are inserted, moved and deleted around it, and as
the functions it calls gain or lose their ``eval``.
"""

from __future__ import annotations

import random

from reactive_notebook.reactive.analysis import analyze_python
from reactive_notebook.reactive.graph import EdgeKind, NotebookGraph

DYNAMIC = "reads names dynamically"


def build(*cells: tuple[str, str]) -> NotebookGraph:
    graph = NotebookGraph()
    for cell_id, code in cells:
        graph.append(cell_id, analyze_python(code))
    return graph


def parents(graph: NotebookGraph, cell_id: str) -> set[str]:
    return set(graph.parents(cell_id))


def test_the_reproducer_eval_directly_and_through_a_function() -> None:
    graph = build(
        ("x", "x = 1"),
        ("show", "def show(n): return eval(n)"),
        ("call", "show('x')"),
        ("literal", "eval('x')"),
        ("computed", "eval(name)"),
    )
    assert graph.descendants(["x"]) == {"call", "literal", "computed"}
    assert graph.dynamic_reason("call") == f"{DYNAMIC} (eval in show)"
    assert graph.dynamic_reason("computed") == f"{DYNAMIC} (eval)"
    assert graph.dynamic_reason("literal") is None  # an ordinary read of x
    assert graph.dynamic_reason("show") is None
    assert graph.problems() == {}


def test_names_defined_below_are_not_read_and_not_an_error() -> None:
    graph = build(("dyn", "print(globals())"), ("x", "x = 1"), ("y", "y = x"))
    assert parents(graph, "dyn") == set()
    assert graph.problem("dyn") is None
    assert graph.descendants(["x"]) == {"y"}


def test_a_dynamic_cell_sees_the_nearest_definition_and_runs_before_the_next() -> None:
    graph = build(("x1", "x = 1"), ("dyn", "eval(s)"), ("x2", "x = 2"), ("s", "s = 'x'"))
    edges = set(graph.edges())
    assert ("x1", "dyn", EdgeKind.DATA, "x") in edges
    assert ("dyn", "x2", EdgeKind.ORDER, "x") in edges
    assert ("x2", "dyn", EdgeKind.DATA, "x") not in edges
    assert ("s", "dyn", EdgeKind.DATA, "s") in edges  # its static read, as ever


def test_inserting_moving_and_deleting_a_definition_above_relinks_the_dynamic_cell() -> None:
    graph = build(("a", "a = 1"), ("dyn", "exec(code)"))
    assert parents(graph, "dyn") == {"a"}
    change = graph.insert("b", analyze_python("b = 2"), after="a")
    assert parents(graph, "dyn") == {"a", "b"}
    assert "dyn" in change.inputs_changed  # its inputs changed: stale if it ran
    graph.move("b", after="dyn")
    assert parents(graph, "dyn") == {"a"}
    graph.move("b", after=None)
    assert parents(graph, "dyn") == {"a", "b"}
    graph.update("b", analyze_python("c = 2"))
    assert graph.parents("dyn") == {"a": frozenset({"a"}), "b": frozenset({"c"})}
    graph.remove("b")
    assert parents(graph, "dyn") == {"a"}
    graph.move("dyn", after=None)
    assert parents(graph, "dyn") == set()
    assert graph.problems() == {}


def test_a_dynamic_cell_at_the_top_gains_no_edges_from_cells_below() -> None:
    graph = build(("dyn", "print(vars())"))
    for i in range(20):
        graph.append(f"c{i}", analyze_python(f"v{i} = {i}"))
    assert parents(graph, "dyn") == set()
    assert graph.edges() == []


def test_transitive_through_two_functions_in_two_cells() -> None:
    graph = build(
        ("x", "x = 1"),
        ("f", "def f(n): return eval(n)"),
        ("g", "def g(n): return f(n) + 1"),
        ("use", "r = g('x')"),
        ("after", "print(r)"),
    )
    assert graph.dynamic_reason("use") == f"{DYNAMIC} (eval in f)"
    assert graph.dynamic_reason("g") is None  # defining g reads nothing dynamically
    assert graph.dynamic_reason("after") is None  # reading a value is no dynamic access
    assert "use" in graph.descendants(["x"])
    graph.update("f", analyze_python("def f(n): return n"))
    assert graph.dynamic_reason("use") is None
    assert graph.descendants(["x"]) == set()
    graph.update("f", analyze_python("def f(n): return globals()[n]"))
    assert graph.dynamic_reason("use") == f"{DYNAMIC} (globals() in f)"
    graph.remove("f")
    assert graph.dynamic_reason("use") is None


def test_a_function_of_the_cell_calling_a_dynamic_function_makes_the_cell_dynamic() -> None:
    graph = build(
        ("f", "def f(n): return eval(n)"),
        ("x", "x = 1"),
        ("cell", "def g():\n    return f('x')\nprint(g())"),
    )
    assert graph.dynamic_reason("cell") == f"{DYNAMIC} (eval in f)"
    assert "x" in graph.parents("cell")


def test_a_bare_builtin_is_an_ordinary_read_when_a_cell_defines_that_name() -> None:
    graph = build(("a", "a = 1"), ("use", "print(vars)"))
    assert graph.dynamic_reason("use") == f"{DYNAMIC} (vars)"
    graph.insert("define", analyze_python("vars = ['age']"), after=None)
    assert graph.dynamic_reason("use") is None
    assert graph.take_dynamic_changes() >= {"use"}
    assert set(graph.parents("use")) == {"define"}


def test_a_cycle_through_a_dynamic_read_is_reported_as_a_cycle() -> None:
    graph = build(("top", "a = b"), ("dyn", "b = eval(s)"))
    assert {"top", "dyn"} <= set(graph.cycles())


def test_a_name_no_cell_defines_is_read_from_the_cell_that_binds_unknown_names() -> None:
    graph = build(
        ("writer", "for k in ['a', 'b']: globals()[k] = 1"),
        ("reader", "print(a + b)"),
        ("defined", "c = 1"),
        ("other", "print(c)"),
    )
    assert graph.parents("reader") == {"writer": frozenset({"a", "b"})}
    assert set(graph.parents("other")) == {"defined"}  # a defined name: the definer
    assert graph.dynamic_reason("writer") is None  # writing is no dynamic read
    graph.move("writer", after="reader")
    assert graph.parents("reader") == {}  # nothing above binds them any more
    graph.move("writer", after=None)
    graph.insert("a", analyze_python("a = 2"), after="writer")
    assert graph.parents("reader") == {"writer": frozenset({"b"}), "a": frozenset({"a"})}
    graph.update("writer", analyze_python("pass"))
    assert graph.parents("reader") == {"a": frozenset({"a"})}


# -- incremental == rebuilt ----------------------------------------------------------------

CODES = [
    "x = 1",
    "y = x + 1",
    "x = y",
    "def f(n): return eval(n)",
    "def f(n): return n",
    "def g(n): return f(n)",
    "print(g('x'))",
    "print(f('y'))",
    "eval(s)",
    "s = 'x'",
    "globals()['y'] = 3",
    "print(globals())",
    "import math as x",
    "z = len(vars)",
    "vars = [1]",
    "for k in 'ab': globals()[k] = 1",
    "print(a + b)",
    "a = 5",
    "h = lambda n: g(n)",
    "print(h('a'))",
    "del f",
]


def signature(graph: NotebookGraph) -> tuple[object, ...]:
    return (
        graph.cell_ids,
        graph.edges(),
        {c: graph.dynamic_reason(c) for c in graph.cell_ids},
    )


def test_random_edits_give_the_graph_a_fresh_build_gives() -> None:
    rng = random.Random(13)
    for _ in range(150):
        graph = NotebookGraph()
        code: dict[str, str] = {}
        for step in range(12):
            ids = graph.cell_ids
            action = rng.random()
            if not ids or action < 0.4:
                cell_id = f"c{step}"
                code[cell_id] = rng.choice(CODES)
                graph.insert(cell_id, analyze_python(code[cell_id]), after=rng.choice([None, *ids]))
            elif action < 0.6:
                cell_id = rng.choice(ids)
                code[cell_id] = rng.choice(CODES)
                graph.update(cell_id, analyze_python(code[cell_id]))
            elif action < 0.85:
                cell_id = rng.choice(ids)
                others = [c for c in ids if c != cell_id]
                graph.move(cell_id, after=rng.choice([None, *others]))
            else:
                cell_id = rng.choice(ids)
                graph.remove(cell_id)
                del code[cell_id]
            fresh = build(*((c, code[c]) for c in graph.cell_ids))
            assert signature(graph) == signature(fresh), code
