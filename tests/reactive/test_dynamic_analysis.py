"""Dynamic name access in one cell: which uses of eval, exec, globals(), locals() and
vars() make the cell (or one of its functions) dynamic, and which are read precisely.

Each row: the code, the cell's reads and writes, why the cell itself is dynamic ("" for
not), and its dynamic functions as ``name=why`` ("" for none). The cases and the reasons
for each decision are in reactive_notebook/reactive/dynamic_names.py.
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from reactive_notebook.reactive.analysis import CellAnalysis, analyze_python


def names(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


def analyze(code: str) -> CellAnalysis:
    return analyze_python(dedent(code))


CASES = [
    # -- direct dynamic reads: the cell itself ----------------------------------------
    pytest.param("eval(s)", "s", "", "eval", "", id="eval-of-a-variable"),
    pytest.param("exec(code)", "code", "", "exec", "", id="exec-of-a-variable"),
    pytest.param("print(globals())", "", "", "globals()", "", id="globals-read"),
    pytest.param("'x' in globals()", "", "", "globals()", "", id="globals-membership"),
    pytest.param("for k in globals(): pass", "", "k", "globals()", "", id="globals-iterated"),
    pytest.param("globals().keys()", "", "", "globals()", "", id="globals-method"),
    pytest.param("locals()", "", "", "locals()", "", id="locals-at-module-level"),
    pytest.param("vars()", "", "", "vars()", "", id="vars-at-module-level"),
    pytest.param("dir()", "", "", "dir()", "", id="dir-at-module-level"),
    pytest.param("[locals() for i in r]", "r", "", "locals()", "", id="locals-in-comprehension"),
    pytest.param(
        "import sys\nvars(sys.modules[__name__])", "", "sys", "vars()", "", id="vars-of-main"
    ),
    pytest.param("get_ipython().user_ns", "", "", "user_ns", "", id="ipython-user-ns"),
    pytest.param("eval(s, globals())", "s", "", "eval", "", id="eval-with-module-namespace"),
    pytest.param("f = eval", "", "f", "", "", id="bare-eval-is-left-to-the-graph"),
    pytest.param(
        "class A:\n    x = eval(s)", "s", "A", "eval", "", id="class-body-runs-with-the-cell"
    ),
    pytest.param(
        "register(lambda: eval(s))", "register s", "", "eval", "", id="anonymous-function"
    ),
    # -- functions: the name is dynamic, not the cell that defines it ----------------
    pytest.param("def show(n):\n    return eval(n)", "", "show", "", "show=eval in show", id="def"),
    pytest.param(
        "class A:\n    def m(self):\n        return globals()",
        "",
        "A",
        "",
        "A=globals() in A",
        id="method-makes-its-class-dynamic",
    ),
    pytest.param("f = lambda: eval(s)", "s", "f", "", "f=eval in f", id="named-lambda"),
    pytest.param(
        "def f():\n    def inner():\n        return vars(sys.modules['__main__'])\n"
        "    return inner",
        "sys",
        "f",
        "",
        "f=vars() in f",
        id="nested-function-belongs-to-the-outer-name",
    ),
    pytest.param(
        "def f(n):\n    return eval(n)\ndef g(n):\n    return f(n)",
        "",
        "f g",
        "",
        "f=eval in f g=eval in f",
        id="transitive-in-one-cell",
    ),
    pytest.param(
        "def f(n):\n    return eval(n)\nf('x')", "", "f", "eval in f", "f=eval in f", id="own-call"
    ),
    # -- the safe cases: ordinary reads and writes -----------------------------------
    pytest.param("eval('x + y')", "x y", "", "", "", id="eval-of-a-literal"),
    pytest.param("exec('z = x')", "x", "z", "", "", id="exec-of-a-literal-binds"),
    pytest.param(
        "def f(a):\n    return eval('a + b')", "b", "f", "", "", id="eval-literal-sees-locals"
    ),
    pytest.param("eval('x', {'x': 1})", "", "", "", "", id="eval-in-its-own-dict"),
    pytest.param("eval(s, ns)", "ns s", "", "", "", id="eval-in-a-given-namespace"),
    pytest.param("eval('(')", "", "", "", "", id="unparsable-literal-reads-nothing"),
    pytest.param("globals()['x'] = 1", "", "x", "", "", id="globals-literal-write"),
    pytest.param("y = globals()['x']", "x", "y", "", "", id="globals-literal-read"),
    pytest.param("y = globals().get('x')", "x", "y", "", "", id="globals-get-literal"),
    pytest.param("del globals()['x']", "x", "", "", "", id="globals-literal-delete"),
    pytest.param("globals().update(a=1, b=2)", "", "a b", "", "", id="update-keywords"),
    pytest.param("globals().update({'a': 1})", "", "a", "", "", id="update-literal-dict"),
    pytest.param("locals()['x'] = 1", "", "x", "", "", id="module-locals-literal-write"),
    pytest.param(
        "def f():\n    globals()['x'] = 1", "", "f x", "", "", id="function-writes-a-global"
    ),
    pytest.param("def f(a):\n    return locals()", "", "f", "", "", id="locals-in-function"),
    pytest.param("def f():\n    return vars()", "", "f", "", "", id="vars-in-function"),
    pytest.param("class A:\n    n = len(locals())", "", "A", "", "", id="locals-in-class-body"),
    pytest.param("vars(obj)", "obj", "", "", "", id="vars-of-an-object"),
    pytest.param("dir(obj)", "obj", "", "", "", id="dir-of-an-object"),
    pytest.param("vars = [1]\nvars[0]", "", "vars", "", "", id="own-variable-named-vars"),
    pytest.param("def f(eval):\n    return eval(s)", "s", "f", "", "", id="parameter-named-eval"),
]


@pytest.mark.parametrize(("code", "reads", "writes", "dynamic", "functions"), CASES)
def test_dynamic_access(code: str, reads: str, writes: str, dynamic: str, functions: str) -> None:
    result = analyze(code)
    assert result.error is None
    assert result.reads == names(reads)
    assert result.writes == names(writes)
    assert ", ".join(result.dynamic) == dynamic
    assert dict(result.dynamic_functions) == _join_reasons(functions)


def _join_reasons(spec: str) -> dict[str, str]:
    """``"f=eval in f g=eval in f"`` -> {"f": "eval in f", "g": "eval in f"}."""
    result: dict[str, str] = {}
    name = None
    for word in spec.split():
        if "=" in word:
            name, first = word.split("=", 1)
            result[name] = first
        elif name is not None:
            result[name] += f" {word}"
    return result


UNKNOWN_WRITES = [
    pytest.param("globals()[k] = v", True, id="computed-key"),
    pytest.param("globals().update(d)", True, id="update-a-mapping"),
    pytest.param("globals().setdefault(k, 1)", True, id="setdefault-computed"),
    pytest.param("del globals()[k]", True, id="delete-computed"),
    pytest.param("exec(code)", True, id="exec-unknown-code"),
    pytest.param("def f():\n    globals()[k] = 1", True, id="in-a-function"),
    pytest.param("globals()['x'] = 1", False, id="literal-key"),
    pytest.param("eval(s)", False, id="eval-binds-nothing"),
]


@pytest.mark.parametrize(("code", "unknown"), UNKNOWN_WRITES)
def test_writes_of_unknown_names(code: str, unknown: bool) -> None:
    """Writing through ``globals()`` is no dynamic *read*: the cell binds names nobody
    can list, which the analysis says so the graph can decide."""
    result = analyze(code)
    assert result.writes_unknown is unknown
    if code.startswith("globals()[k]") or code.startswith("globals().update"):
        assert result.dynamic == ()


def test_the_builtins_stay_ambient_reads() -> None:
    assert {"eval", "globals"} <= analyze("eval(s)\nglobals()['x'] = 1").ambient_reads


def test_what_the_graph_follows_across_cells() -> None:
    """Functions and immediate code that load other cells' names: the graph decides
    whether those names are dynamic functions."""
    result = analyze(
        """
        def g(n):
            return f(n) + helper(n)
        def h():
            return g(1)
        value = h()
        """
    )
    assert result.dynamic == ()
    follows = dict(result.function_reads)
    assert follows["g"] == names("f helper")
    assert follows["h"] == names("g")  # its own function, followed too
    assert result.immediate_reads == names("h")
    bare = analyze("pick = eval\nuse(vars)")
    assert bare.dynamic_builtins == names("eval vars")
