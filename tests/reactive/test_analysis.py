"""What a cell reads and writes: the analysis contract (design.md section 3) as a table.

Every row is a cell and the global names it reads and writes, written as space-separated
names ("" for none). The expectations follow Python's own scoping (checked by running the
snippets: a read is a name that raises NameError in a fresh namespace) plus the project's
conventions: builtins and kernel-injected names are ambient, ``_x`` is cell-private,
``except ... as e`` binds nothing, a function body runs later (so a global it loads is a
read unless the cell binds that name somewhere), every match-case capture is a write.

Multi-line cells are written indented in the table and dedented before analysis.
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from reactive_notebook.reactive.analysis import (
    AnalysisError,
    CellAnalysis,
    analyze_python,
    analyze_sql,
)


def names(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


def analyze(code: str) -> CellAnalysis:
    return analyze_python(dedent(code))


# -- assignments and unpacking -------------------------------------------------------------

ASSIGNMENTS = [
    pytest.param("x = 1", "", "x", id="assign-constant"),
    pytest.param("x = y", "y", "x", id="assign-from-global"),
    pytest.param("a = b = c", "c", "a b", id="chained-assignment"),
    pytest.param("a, b = b, a", "a b", "a b", id="swap-loads-before-stores"),
    pytest.param("a, *rest = items", "items", "a rest", id="star-unpacking"),
    pytest.param("[a, (b, c)] = nested", "nested", "a b c", id="nested-unpacking"),
    pytest.param("x, = single", "single", "x", id="one-element-unpacking"),
    pytest.param("(x) = 1", "", "x", id="parenthesised-target"),
    pytest.param("x = 1\ny = x + 1", "", "x y", id="bound-before-load"),
    pytest.param("y = x + 1\nx = 1", "x", "x y", id="load-before-binding-is-a-read"),
    pytest.param("x = 1; x = x + 1", "", "x", id="rebinding"),
    pytest.param("obj.attr = value", "obj value", "", id="attribute-target-reads-object"),
    pytest.param("obj.a.b = 1", "obj", "", id="nested-attribute-target"),
    pytest.param("d[key] = value", "d key value", "", id="subscript-target"),
    pytest.param("x[0:n] = y", "n x y", "", id="slice-target"),
    pytest.param("d['k'], e = 1, 2", "d", "e", id="mixed-targets"),
    pytest.param("x = [a, *b, {**c}]", "a b c", "x", id="starred-loads"),
    pytest.param("x = y.z.w", "y", "x", id="attribute-chain-reads-root"),
    pytest.param("x = a if cond else b", "a b cond", "x", id="both-branches-are-reads"),
    pytest.param("s = f'{name!r:>{width}}'", "name width", "s", id="f-string-fields"),
    pytest.param("print(x := 10)", "", "x", id="walrus-in-call"),
    pytest.param(
        """
        if (n := len(data)) > 3:
            big = n
        """,
        "data",
        "big n",
        id="walrus-in-condition",
    ),
    pytest.param(
        """
        if flag:
            x = 1
        else:
            y = 2
        """,
        "flag",
        "x y",
        id="both-branches-are-writes",
    ),
    pytest.param("x = 1 if flag else undefined", "flag undefined", "x", id="untaken-branch"),
]

# -- augmented assignment ------------------------------------------------------------------

AUG_ASSIGN = [
    pytest.param("x += 1", "x", "x", id="aug-reads-and-writes"),
    pytest.param("x = 0\nx += 1", "", "x", id="aug-after-binding"),
    pytest.param("total += price * qty", "price qty total", "total", id="aug-value-reads"),
    pytest.param("x += x", "x", "x", id="aug-self"),
    pytest.param("obj.count += 1", "obj", "", id="aug-attribute"),
    pytest.param("d[k] -= 1", "d k", "", id="aug-subscript"),
    pytest.param("s = 'a'\ns *= n", "n", "s", id="aug-bound-then-augmented"),
    pytest.param(
        """
        def f():
            c += 1
        """,
        "",
        "f",
        # c is local to f (UnboundLocalError when called), so not a global read.
        id="aug-in-function-is-local",
    ),
]

# -- functions -----------------------------------------------------------------------------

FUNCTIONS = [
    # defaults are evaluated where the def statement stands
    pytest.param("def f(a=default): return a", "default", "f", id="default-argument"),
    pytest.param("def f(*, k=kw_default): return k", "kw_default", "f", id="kw-only-default"),
    pytest.param("def f(a=f): pass", "f", "f", id="default-before-name-is-bound"),
    pytest.param("def f(a, b=a): pass", "a", "f", id="default-does-not-see-parameters"),
    pytest.param(
        "def f(a, /, b=1, *args, c, d=2, **kw): return a, b, args, c, d, kw",
        "",
        "f",
        id="all-parameter-kinds-are-local",
    ),
    # decorators
    pytest.param(
        """
        @decorator
        def f():
            pass
        """,
        "decorator",
        "f",
        id="decorator",
    ),
    pytest.param(
        """
        @functools.lru_cache(maxsize=size)
        def f():
            pass
        """,
        "functools size",
        "f",
        id="decorator-call",
    ),
    pytest.param(
        """
        @f
        def f():
            pass
        """,
        "f",
        "f",
        id="decorator-evaluated-before-binding",
    ),
    # annotations of parameters and return values are evaluated at definition time
    pytest.param("def f(x: Tensor) -> Array: pass", "Array Tensor", "f", id="annotations"),
    pytest.param("def f(*args: A, **kw: B): pass", "A B", "f", id="star-annotations"),
    pytest.param("def f(a: A, /, *, k: K = d): pass", "A K d", "f", id="posonly-kwonly-annot"),
    pytest.param("def f(x: 'Tensor'): pass", "", "f", id="string-annotation-not-evaluated"),
    pytest.param(
        """
        def f():
            x: Undefined = 1
            y: Other
        """,
        "",
        "f",
        id="function-local-annotations-not-evaluated",
    ),
    # free variables of the body: the body runs later
    pytest.param("def f(): return x", "x", "f", id="free-variable"),
    pytest.param("def f(): return x\nx = 1", "", "f x", id="free-variable-bound-later"),
    pytest.param("x = 1\ndef f(): return x", "", "f x", id="free-variable-bound-earlier"),
    pytest.param("def f(x): return x", "", "f", id="parameter-shadows-global"),
    pytest.param("def f(): return f()", "", "f", id="recursion"),
    pytest.param(
        """
        def f():
            return g()
        def g():
            return f()
        """,
        "",
        "f g",
        id="mutual-recursion",
    ),
    pytest.param(
        """
        def f():
            print(x)
            x = 1
        """,
        "",
        "f",
        id="local-assigned-after-use-is-local",
    ),
    pytest.param(
        """
        def f():
            for i in items:
                last = i
            return last
        """,
        "items",
        "f",
        id="loop-in-function",
    ),
    pytest.param(
        """
        def f():
            import os
            return os
        """,
        "",
        "f",
        id="import-in-function-is-local",
    ),
    pytest.param(
        """
        def f():
            try:
                pass
            except MyError as e:
                return e
        """,
        "MyError",
        "f",
        id="except-in-function",
    ),
    pytest.param("def f():\n    del x", "", "f", id="del-in-function-is-local"),
    pytest.param("def f():\n    return (yield x)", "x", "f", id="generator-function"),
    pytest.param(
        """
        def f():
            with open(path) as fh:
                return fh.read()
        """,
        "path",
        "f",
        id="with-in-function",
    ),
    pytest.param(
        """
        def f(v):
            match v:
                case Point(x=px):
                    return px
        """,
        "Point",
        "f",
        id="match-in-function",
    ),
    # closures and nonlocal
    pytest.param(
        """
        def outer():
            x = 1
            def inner():
                return x
            return inner
        """,
        "",
        "outer",
        id="closure",
    ),
    pytest.param(
        """
        def outer():
            def inner():
                return x
            x = 1
            return inner
        """,
        "",
        "outer",
        id="closure-bound-after-inner",
    ),
    pytest.param(
        """
        def outer():
            def inner():
                return y
            return inner
        """,
        "y",
        "outer",
        id="nested-free-variable",
    ),
    pytest.param(
        """
        def outer():
            n = 0
            def inc():
                nonlocal n
                n += 1
                return n
            return inc
        """,
        "",
        "outer",
        id="nonlocal",
    ),
    pytest.param(
        """
        def outer(a):
            def inner(b=a):
                return b + c
            return inner
        """,
        "c",
        "outer",
        id="inner-default-sees-outer-parameter",
    ),
    # global
    pytest.param("def f():\n    global g\n    g = 1", "", "f g", id="global-assignment"),
    pytest.param("def f():\n    global g\n    return g", "g", "f", id="global-load"),
    pytest.param(
        "def f():\n    global a, b\n    a, b = 1, 2", "", "a b f", id="global-several-names"
    ),
    pytest.param(
        """
        def increment():
            global counter
            counter += 1
        """,
        "",
        "counter increment",
        # Convention: the cell binds counter (through the global declaration), and a
        # global loaded in a function body is a read only when the cell binds it nowhere.
        # The graph still orders the cell after an earlier definer of counter
        # (write-after-write).
        id="global-augmented-is-a-write",
    ),
    pytest.param(
        """
        def outer():
            global g
            def inner():
                return g
            g = 1
        """,
        "",
        "g outer",
        id="global-seen-by-nested-function",
    ),
    pytest.param(
        """
        def setup():
            global config
            config = load()
        setup()
        print(config)
        """,
        "load",
        "config setup",
        # Convention: a module-level load after a def that binds the name through
        # `global` counts as bound by the cell (the data-scientist's setup() pattern).
        id="global-written-then-loaded-at-module-level",
    ),
    pytest.param("global x\nx = 1", "", "x", id="module-level-global-statement"),
]

# -- lambdas -------------------------------------------------------------------------------

LAMBDAS = [
    pytest.param("f = lambda: x", "x", "f", id="lambda-free-variable"),
    pytest.param("f = lambda x: x", "", "f", id="lambda-parameter"),
    pytest.param("f = lambda a=b: a", "b", "f", id="lambda-default"),
    pytest.param("f = lambda: g()\ng = 1", "", "f g", id="lambda-body-runs-later"),
    pytest.param("key = lambda row: row[col]", "col", "key", id="lambda-mixed"),
    pytest.param("s = sorted(items, key=lambda t: t[1])", "items", "s", id="lambda-argument"),
    pytest.param("f = lambda x: lambda y: x + y + z", "z", "f", id="nested-lambdas"),
    pytest.param("f = lambda *a, **kw: (a, kw)", "", "f", id="lambda-varargs"),
    pytest.param("(lambda: x)()", "x", "", id="immediately-called-lambda"),
]

# -- classes -------------------------------------------------------------------------------

CLASSES = [
    pytest.param("class A: pass", "", "A", id="empty-class"),
    pytest.param("class A(Base): pass", "Base", "A", id="base-class"),
    pytest.param("class A(Base, metaclass=Meta): pass", "Base Meta", "A", id="class-keyword"),
    pytest.param("class A(Base, **options): pass", "Base options", "A", id="class-kwargs"),
    pytest.param("class A(Generic[T]): pass", "Generic T", "A", id="subscripted-base"),
    pytest.param("class A(A): pass", "A", "A", id="base-evaluated-before-binding"),
    pytest.param(
        """
        @dataclass
        class Point:
            x: int
            y: float = 0.0
        """,
        "dataclass",
        "Point",
        id="decorated-dataclass",
    ),
    pytest.param(
        """
        @register(registry)
        class A:
            pass
        """,
        "register registry",
        "A",
        id="class-decorator-call",
    ),
    # the class body runs at once, in order, in its own namespace
    pytest.param(
        """
        class A:
            x = 1
            y = x + 1
        """,
        "",
        "A",
        id="class-attribute-used-in-body",
    ),
    pytest.param("class A:\n    y = x\n    x = 1", "x", "A", id="class-load-before-binding"),
    pytest.param("class A:\n    B = A", "A", "A", id="class-name-not-bound-in-body"),
    pytest.param("class A:\n    x: Undefined", "Undefined", "A", id="class-annotation"),
    pytest.param("class A:\n    x: 'Undefined'", "", "A", id="class-string-annotation"),
    pytest.param("class A:\n    x = 1\n    del x", "", "A", id="class-level-del"),
    pytest.param(
        "class A:\n    global g\n    g = 1", "", "A g", id="global-declared-in-class-body"
    ),
    # methods see globals, not class attributes
    pytest.param(
        """
        class A:
            x = 1
            def m(self):
                return x
        """,
        "x",
        "A",
        id="method-does-not-see-class-attribute",
    ),
    pytest.param(
        """
        class A:
            def m(self):
                return A()
        """,
        "",
        "A",
        id="method-uses-own-class",
    ),
    pytest.param(
        """
        class A:
            def m(self):
                return helper(self.x)
        """,
        "helper",
        "A",
        id="method-reads-global",
    ),
    pytest.param(
        """
        class A:
            x = 1
            def m(self, y=x):
                return y
        """,
        "",
        "A",
        id="method-default-sees-class-attribute",
    ),
    pytest.param(
        """
        class A:
            def m(self) -> A:
                return self
        """,
        "A",
        "A",
        id="method-annotation-evaluated-in-class-body",
    ),
    pytest.param(
        """
        class A:
            @property
            def p(self):
                return 1
            @p.setter
            def p(self, value):
                pass
        """,
        "",
        "A",
        id="property-setter-uses-class-local",
    ),
    pytest.param(
        """
        class A(Base):
            def __init__(self):
                super().__init__()
        """,
        "Base",
        "A",
        id="super-call",
    ),
    # nested classes
    pytest.param(
        """
        class Outer:
            class Inner:
                pass
            x = Inner
        """,
        "",
        "Outer",
        id="nested-class-in-body",
    ),
    pytest.param(
        """
        class Outer:
            y = 1
            class Inner:
                z = y
        """,
        "y",
        "Outer",
        id="nested-class-does-not-see-outer-attributes",
    ),
    pytest.param(
        """
        class Outer:
            class Inner:
                pass
            def m(self):
                return Inner
        """,
        "Inner",
        "Outer",
        id="method-does-not-see-nested-class",
    ),
    pytest.param(
        """
        def f():
            x = 1
            class A:
                y = x
            return A
        """,
        "",
        "f",
        id="class-in-function-sees-function-locals",
    ),
    pytest.param(
        """
        def f():
            x = 1
            class A:
                y = x
                x = 2
            return A
        """,
        "x",
        "f",
        # x is local to the class body, so the first load is LOAD_NAME: class dict,
        # then globals, never the function's x.
        id="class-local-name-skips-enclosing-function",
    ),
    pytest.param(
        """
        class A:
            def m(self):
                return __secret
        """,
        "",
        "A",
        # Python mangles __secret to _A__secret inside a class: a private name.
        id="private-name-mangling",
    ),
    pytest.param("class A:\n    v = __version", "", "A", id="mangled-load-in-class-body"),
    pytest.param(
        """
        class A:
            def m(self):
                global __count
                __count = 1
        """,
        "",
        "A",
        # The global written is _A__count, private to the cell.
        id="mangled-global-declaration",
    ),
    pytest.param("class A:\n    pass\ny = __x", "__x", "A y", id="no-mangling-outside-class"),
]

# -- comprehensions ------------------------------------------------------------------------

COMPREHENSIONS = [
    pytest.param("r = [x for x in data]", "data", "r", id="list-comprehension"),
    pytest.param("r = {x for x in data}", "data", "r", id="set-comprehension"),
    pytest.param("r = {k: v for k, v in pairs}", "pairs", "r", id="dict-comprehension"),
    pytest.param("r = (x for x in data)", "data", "r", id="generator-expression"),
    pytest.param("r = sum(x for x in data)", "data", "r", id="generator-argument"),
    pytest.param("[x for x in range(3)]\nx", "x", "", id="loop-variable-does-not-leak"),
    pytest.param("x = 1\n[x for x in range(3)]", "", "x", id="loop-variable-shadows"),
    pytest.param("r = [x for x in x]", "x", "r", id="first-iterable-is-outside"),
    pytest.param("r = [x * k for x in data if x > t]", "data k t", "r", id="element-and-condition"),
    pytest.param("r = [y for x in rows for y in x]", "rows", "r", id="two-generators"),
    pytest.param("r = [[c for c in row] for row in grid]", "grid", "r", id="nested-comprehension"),
    pytest.param(
        "r = {k: [v for v in vals if v != k] for k in keys}",
        "keys vals",
        "r",
        id="nested-in-dict-comprehension",
    ),
    pytest.param(
        "r = [y for x in a for y in x if y in b]", "a b", "r", id="condition-on-later-target"
    ),
    pytest.param("r = [0 for o.attr in items]", "items o", "r", id="attribute-target"),
    pytest.param("r = [f for f in range(3)]\ndef f(): pass", "", "f r", id="comp-then-def"),
    pytest.param("r = [i for i in range(n)]", "n", "r", id="range-argument"),
    pytest.param("fs = [lambda: i for i in range(3)]", "", "fs", id="lambda-closes-over-target"),
    pytest.param("fs = [lambda: j for i in range(3)]", "j", "fs", id="lambda-free-in-comp"),
    pytest.param("ok = any(x > lim for x in xs)", "lim xs", "ok", id="any-generator"),
    # walrus binds in the enclosing scope
    pytest.param("r = [(y := f(x)) for x in data]", "data f", "r y", id="walrus-leaks"),
    pytest.param("r = [y := f(x) for x in data]\ny", "data f", "r y", id="walrus-then-load"),
    pytest.param(
        "total = 0\nsums = [total := total + v for v in values]",
        "values",
        "sums total",
        id="running-total-walrus",
    ),
    pytest.param(
        "r = [x for i in range(3) if (x := i) or True]",
        "",
        "r x",
        id="walrus-in-condition-before-element",
    ),
    pytest.param(
        "r = [(x := i) for i in range(3) if x]",
        "x",
        "r x",
        # The condition runs before the element on the first iteration: NameError.
        id="load-before-walrus-in-same-comprehension",
    ),
    pytest.param(
        """
        def f():
            return [y := 1 for _ in range(2)]
        """,
        "",
        "f",
        id="walrus-in-function-comprehension-is-local",
    ),
    # class bodies: only the first iterable sees class attributes
    pytest.param(
        """
        class A:
            n = 2
            ys = [i * n for i in range(3)]
        """,
        "n",
        "A",
        id="comprehension-in-class-does-not-see-attributes",
    ),
    pytest.param(
        """
        class A:
            xs = [1]
            ys = [i for i in xs]
        """,
        "",
        "A",
        id="first-iterable-in-class-sees-attributes",
    ),
    pytest.param(
        """
        class A:
            xs = [1]
            ys = [i for j in range(1) for i in xs]
        """,
        "xs",
        "A",
        id="second-iterable-in-class-does-not",
    ),
]

# -- imports -------------------------------------------------------------------------------

IMPORTS = [
    pytest.param("import os", "", "os", id="import"),
    pytest.param("import os.path", "", "os", id="dotted-import-binds-root"),
    pytest.param("import os.path as osp", "", "osp", id="dotted-import-as"),
    pytest.param("import numpy as np, pandas as pd", "", "np pd", id="several-imports"),
    pytest.param("import a.b.c\nimport a.d", "", "a", id="same-root"),
    pytest.param(
        "from collections import OrderedDict, defaultdict as dd",
        "",
        "OrderedDict dd",
        id="from-import",
    ),
    pytest.param("from . import sibling", "", "sibling", id="relative-import"),
    pytest.param("from ..pkg.mod import name", "", "name", id="relative-dotted-import"),
    pytest.param("from __future__ import annotations", "", "", id="future-import"),
    pytest.param("from __future__ import division, generator_stop", "", "", id="futures"),
    pytest.param("import _private\nfrom m import _p", "", "", id="private-imports"),
    pytest.param("import os\nos.getcwd()", "", "os", id="import-then-use"),
    pytest.param("os.getcwd()\nimport os", "os", "os", id="use-then-import"),
    pytest.param(
        """
        try:
            import ujson as json
        except ImportError:
            import json
        """,
        "",
        "json",
        id="optional-import",
    ),
]

# -- try / except / finally ----------------------------------------------------------------

TRY = [
    pytest.param(
        """
        try:
            x = risky()
        except ValueError:
            x = None
        """,
        "risky",
        "x",
        id="try-except",
    ),
    pytest.param(
        """
        try:
            pass
        except MyError as e:
            print(e)
        """,
        "MyError",
        "",
        id="except-as-binds-nothing",
    ),
    pytest.param(
        """
        try:
            pass
        except (A, B):
            pass
        """,
        "A B",
        "",
        id="except-tuple",
    ),
    pytest.param(
        """
        try:
            pass
        except Exception as e:
            err = e
        """,
        "",
        "err",
        id="exception-saved-to-name",
    ),
    pytest.param(
        """
        try:
            pass
        except Exception as e:
            pass
        print(e)
        """,
        "e",
        "",
        id="exception-name-unbound-after-handler",
    ),
    pytest.param(
        """
        e = 1
        try:
            pass
        except Exception as e:
            pass
        """,
        "",
        "e",
        id="name-bound-before-handler",
    ),
    pytest.param(
        """
        try:
            pass
        except Exception as e:
            def f():
                return e
        """,
        "e",
        "f",
        # f runs later, when the handler's e is gone: it loads a global e.
        id="function-in-handler-loads-global",
    ),
    pytest.param(
        """
        try:
            a = 1
        except* ValueError as eg:
            b = eg
        else:
            c = 1
        finally:
            d = 1
        """,
        "",
        "a b c d",
        id="try-star-else-finally",
    ),
    pytest.param(
        """
        try:
            pass
        finally:
            cleanup()
        """,
        "cleanup",
        "",
        id="finally",
    ),
]

# -- with ----------------------------------------------------------------------------------

WITH = [
    pytest.param(
        """
        with open(path) as f:
            text = f.read()
        """,
        "path",
        "f text",
        id="with-as",
    ),
    pytest.param("with lock:\n    n = 1", "lock", "n", id="with-without-as"),
    pytest.param("with a() as x, b(x) as y:\n    pass", "a b", "x y", id="with-two-items"),
    pytest.param("with ctx as (first, second):\n    pass", "ctx", "first second", id="with-tuple"),
    pytest.param(
        """
        with (
            open(p) as f,
            open(q) as g,
        ):
            pass
        """,
        "p q",
        "f g",
        id="parenthesised-with",
    ),
    pytest.param("with x as x:\n    pass", "x", "x", id="with-rebinds-its-manager"),
    pytest.param("with ctx as obj.attr:\n    pass", "ctx obj", "", id="with-attribute-target"),
]

# -- for / while / else --------------------------------------------------------------------

LOOPS = [
    pytest.param("for i in range(n):\n    total = i", "n", "i total", id="for"),
    pytest.param("for k, v in d.items():\n    pass", "d", "k v", id="for-unpacking"),
    pytest.param("for i, (k, v) in enumerate(pairs):\n    pass", "pairs", "i k v", id="for-nested"),
    pytest.param("for x.attr in items:\n    pass", "items x", "", id="for-attribute-target"),
    pytest.param("for i in i:\n    pass", "i", "i", id="for-over-itself"),
    pytest.param("for _ in range(3):\n    pass", "", "", id="for-private-target"),
    pytest.param(
        """
        for i in items:
            if i:
                break
        else:
            done = True
        """,
        "items",
        "done i",
        id="for-else",
    ),
    pytest.param(
        """
        while cond():
            n = 1
        else:
            m = n
        """,
        "cond",
        "m n",
        # Source order decides "bound before the load" (flow-insensitive).
        id="while-else",
    ),
    pytest.param(
        """
        while True:
            line = read()
            if not line:
                break
            count = count + 1
        """,
        "count read",
        "count line",
        id="while-loop-carried-read",
    ),
]

# -- match ---------------------------------------------------------------------------------

MATCH = [
    pytest.param("match cmd:\n    case 'go':\n        pass", "cmd", "", id="match-literal"),
    pytest.param("match p:\n    case (x, y):\n        pass", "p", "x y", id="match-sequence"),
    pytest.param(
        "match p:\n    case Point(x=0, y=yy):\n        pass", "Point p", "yy", id="match-class"
    ),
    pytest.param(
        "match p:\n    case mod.Cls(attr=v):\n        pass", "mod p", "v", id="match-dotted-class"
    ),
    pytest.param(
        "match c:\n    case Color.RED:\n        pass", "Color c", "", id="match-value-pattern"
    ),
    pytest.param(
        "match cfg:\n    case {'mode': mode, **rest}:\n        pass",
        "cfg",
        "mode rest",
        id="match-mapping-rest",
    ),
    pytest.param(
        "match v:\n    case {Keys.A: value}:\n        pass",
        "Keys v",
        "value",
        id="match-mapping-key",
    ),
    pytest.param(
        "match s:\n    case [first, *others]:\n        pass",
        "s",
        "first others",
        id="match-star",
    ),
    pytest.param("match s:\n    case [_, *_]:\n        pass", "s", "", id="match-wildcards"),
    pytest.param(
        "match v:\n    case 1 | 2 as small:\n        pass", "v", "small", id="match-or-as"
    ),
    pytest.param(
        "match v:\n    case [x] | (x, _):\n        pass", "v", "x", id="match-or-captures"
    ),
    pytest.param(
        "match v:\n    case int(n) if n > limit:\n        pass", "limit v", "n", id="match-guard"
    ),
    pytest.param("match v:\n    case str() | bytes():\n        pass", "v", "", id="match-builtins"),
    pytest.param(
        "match v:\n    case other:\n        result = other", "v", "other result", id="match-capture"
    ),
    pytest.param(
        "match v:\n    case None | True | -1 | 2+3j:\n        pass", "v", "", id="literals"
    ),
    pytest.param(
        """
        match v:
            case [a]:
                pass
            case _:
                pass
        print(a)
        """,
        "v",
        "a",
        # Every capture is a write, even one whose case did not match.
        id="capture-of-other-case-is-a-write",
    ),
]

# -- private names -------------------------------------------------------------------------

PRIVATE = [
    pytest.param("_tmp = 1", "", "", id="private-write"),
    pytest.param("_tmp = load()\nresult = _tmp * 2", "load", "result", id="private-temporary"),
    pytest.param("y = _x", "", "y", id="private-read"),
    pytest.param("__x = 1", "", "__x", id="double-underscore-is-public"),
    pytest.param("y = __x", "__x", "y", id="double-underscore-read"),
    pytest.param("__version__ = '1.0'", "", "__version__", id="dunder-write"),
    pytest.param("def _helper(): pass", "", "", id="private-function"),
    pytest.param("class _Base: pass", "", "", id="private-class"),
    pytest.param("for _i in range(3):\n    pass", "", "", id="private-loop-variable"),
    pytest.param("_ = compute()", "compute", "", id="underscore-target"),
    pytest.param("def f():\n    global _g\n    _g = 1", "", "f", id="private-global"),
]

# -- builtins, kernel-injected names, shadowing --------------------------------------------

BUILTINS = [
    pytest.param("print(len(xs))", "xs", "", id="builtins-are-not-reads"),
    pytest.param("display(df)", "df", "", id="display-is-injected"),
    pytest.param("print = 1", "", "print", id="shadowing-builtin-is-a-write"),
    pytest.param("len = 3\nlen", "", "len", id="shadowed-builtin-then-loaded"),
    pytest.param("def f():\n    return len(x)\nlen = 1", "x", "f len", id="shadowed-in-function"),
    pytest.param("exec('y = 1')", "", "y", id="exec-literal-binds"),
    pytest.param("globals()['z'] = 1", "", "z", id="globals-literal-key-binds"),
    pytest.param("x = In[1] + Out[2]", "", "x", id="history"),
    pytest.param("x = __name__", "", "x", id="module-dunder"),
]

# -- async ---------------------------------------------------------------------------------

ASYNC = [
    pytest.param("async def f():\n    await g()", "g", "f", id="async-def"),
    pytest.param(
        """
        async def rows():
            async with session() as s:
                async for row in s.rows():
                    yield row
        """,
        "session",
        "rows",
        id="async-with-for-in-function",
    ),
    pytest.param("await asyncio.sleep(1)", "asyncio", "", id="top-level-await"),
    pytest.param("result = await fetch(url)", "fetch url", "result", id="top-level-await-assign"),
    pytest.param("async with lock:\n    x = 1", "lock", "x", id="top-level-async-with"),
    pytest.param(
        "async with client() as c:\n    data = await c.get()",
        "client",
        "c data",
        id="top-level-async-with-as",
    ),
    pytest.param(
        "async for item in stream():\n    last = item",
        "stream",
        "item last",
        id="top-level-async-for",
    ),
    pytest.param("rows = [r async for r in cursor]", "cursor", "rows", id="async-comprehension"),
    pytest.param(
        "async def f():\n    return [await g(x) for x in xs]", "g xs", "f", id="await-in-comp"
    ),
    pytest.param(
        "results = await asyncio.gather(*(fetch(u) for u in urls))",
        "asyncio fetch urls",
        "results",
        id="gather",
    ),
]

# -- annotations, with and without `from __future__ import annotations` --------------------

ANNOTATIONS = [
    pytest.param("x: int = 5", "", "x", id="annotated-assignment"),
    pytest.param("x: Vector = make()", "Vector make", "x", id="module-annotation-evaluated"),
    pytest.param("x: Vector", "Vector", "", id="annotation-without-value-binds-nothing"),
    pytest.param("x: 'Vector' = 1", "", "x", id="string-annotation"),
    pytest.param("x: list[Item] = []", "Item", "x", id="generic-annotation"),
    pytest.param("obj.attr: T = 1", "T obj", "", id="attribute-annotation"),
    pytest.param("d[k]: T", "T d k", "", id="subscript-annotation-without-value"),
    pytest.param(
        "x: x = 1",
        "",
        "x",
        # The value is stored before the annotation is evaluated.
        id="annotation-evaluated-after-store",
    ),
    pytest.param("class A:\n    x: T = 1", "T", "A", id="class-annotation-with-value"),
    pytest.param(
        "from __future__ import annotations\nx: Vector = make()",
        "make",
        "x",
        id="future-module-annotation",
    ),
    pytest.param(
        "from __future__ import annotations\ndef f(a: A) -> R: pass",
        "",
        "f",
        id="future-function-annotations",
    ),
    pytest.param(
        "from __future__ import annotations\nclass P:\n    x: Point",
        "",
        "P",
        id="future-class-annotation",
    ),
    pytest.param(
        "from __future__ import annotations\nobj.attr: T = 1",
        "obj",
        "",
        id="future-attribute-annotation",
    ),
    pytest.param(
        '"""Docstring."""\nfrom __future__ import annotations\ndef f(a: A): pass',
        "",
        "f",
        id="future-after-docstring",
    ),
    pytest.param(
        "from __future__ import division\nfrom __future__ import annotations\nx: T = 1",
        "",
        "x",
        id="future-after-other-future",
    ),
]

# -- magics and shell commands -------------------------------------------------------------

MAGICS = [
    pytest.param("%matplotlib inline", "", "", id="line-magic"),
    pytest.param("%load_ext autoreload\n%autoreload 2", "", "", id="several-line-magics"),
    pytest.param("x = 1\n%matplotlib inline\ny = x", "", "x y", id="magic-between-code"),
    pytest.param("%time x = compute(y)", "compute y", "x", id="time-line-magic"),
    pytest.param("%%time\nx = compute(y)\nz = x + 1", "compute y", "x z", id="time-cell-magic"),
    pytest.param("%%time\n!pip install foo\nimport foo", "", "foo", id="time-body-is-transformed"),
    pytest.param("%%capture out\nprint(data)", "data", "out", id="capture-output"),
    pytest.param(
        "%%capture --no-stderr cap\nresult = run(data)",
        "data run",
        "cap result",
        id="capture-with-options",
    ),
    pytest.param("%%capture\nx = 1", "", "x", id="capture-without-output"),
    pytest.param("%timeit sorted(data)", "data", "", id="timeit-reads"),
    pytest.param("%timeit -n 10 -r 3 y = f(x)", "f x", "", id="timeit-binds-nothing"),
    pytest.param("%timeit y = x\nz = y", "x y", "z", id="timeit-binding-is-not-visible-after"),
    pytest.param("%%timeit setup = make()\nrun(setup)", "make run", "", id="timeit-cell"),
    pytest.param("%timeit -o -v res f()", "f", "res", id="timeit-save-result"),
    pytest.param("res = %timeit -o f()", "f", "res", id="timeit-assigned"),
    pytest.param("%prun -s cumulative -q f(x)", "f x", "", id="prun-runs-code"),
    pytest.param("!pip install {pkg}", "pkg", "", id="shell-braces"),
    pytest.param("!ls $folder", "folder", "", id="shell-dollar"),
    pytest.param("!echo $obj.attr", "obj", "", id="shell-dollar-attribute"),
    pytest.param("!echo {x + y}", "x y", "", id="shell-expression"),
    pytest.param("!echo $$HOME {{literal}}", "", "", id="shell-escapes"),
    pytest.param(
        "!awk '{print $1}' $file",
        "",
        "",
        # `{print $1}` is not an expression, so IPython leaves the whole line unexpanded.
        id="shell-unexpandable-line",
    ),
    pytest.param(
        "!awk '{{print $1}}' $file",
        "file",
        "",
        # IPython does not expand $ inside single quotes ($1 here), only outside.
        id="shell-single-quotes",
    ),
    pytest.param("!echo '$HOME'", "", "", id="shell-dollar-in-quotes"),
    pytest.param("files = !ls {path}", "path", "files", id="assign-from-shell"),
    pytest.param("x = %who_ls", "", "x", id="assign-from-magic"),
    pytest.param("%env DATA_DIR={root}", "root", "", id="magic-line-braces"),
    pytest.param("%cd $folder", "folder", "", id="magic-line-dollar"),
    pytest.param("%%bash\necho $x {y}", "", "", id="script-body-is-not-python"),
    pytest.param("%%writefile f.py\nimport os\nprint(z)", "", "", id="writefile"),
    pytest.param(
        "df?",
        "df",
        "",
        # Judgement call: the help shown depends on df, so df? re-runs when df changes.
        id="help-reads-object",
    ),
    pytest.param("np.mean??", "np", "", id="help-dotted"),
    pytest.param("%pinfo obj", "obj", "", id="pinfo-magic"),
]

# -- automagic: a one-line cell starting with a line magic's name runs as that magic -------
# Stock IPython's prefilter turns `ls *.py` into `%ls *.py` (automagic, on by default). The
# analysis does so only when the line is not valid Python: a variable named `ls` would
# shadow the magic in stock, and a valid Python line is read as Python (see automagic.py).

AUTOMAGIC = [
    pytest.param("ls scripts/*.py", "", "", id="automagic-alias-glob"),
    pytest.param("ls scripts/hello-world*.py", "", "", id="automagic-alias-wildcard"),
    pytest.param("cat f.py", "", "", id="automagic-cat"),
    pytest.param("cd ~/data", "", "", id="automagic-cd"),
    pytest.param("ls $folder", "folder", "", id="automagic-dollar-read"),
    pytest.param("cd {path}", "path", "", id="automagic-brace-read"),
    pytest.param("mkdir -p {out}/$sub", "out sub", "", id="automagic-alias-expansions"),
    pytest.param("\nls $folder\n", "folder", "", id="automagic-around-blank-lines"),
    pytest.param("time x = compute(y)", "compute y", "x", id="automagic-time-runs-code"),
    pytest.param("%%time\nls $d", "d", "", id="automagic-in-magic-body"),
    pytest.param("ls = 1", "", "ls", id="valid-python-assignment-stays-python"),
    pytest.param("pwd", "pwd", "", id="valid-python-name-stays-a-read"),
    # Valid Python too (`cd / tmp`, `ls - la`): stock runs them as magics unless `cd`/`ls`
    # is a variable; the analysis keeps the Python reading (a known difference).
    pytest.param("cd /tmp", "cd tmp", "", id="valid-python-division-stays-python"),
    pytest.param("ls -la", "ls la", "", id="valid-python-subtraction-stays-python"),
]

# -- weird inputs --------------------------------------------------------------------------

WEIRD = [
    pytest.param("", "", "", id="empty-cell"),
    pytest.param("# only a comment\n# another", "", "", id="only-comments"),
    pytest.param("\n\n   \n", "", "", id="only-whitespace"),
    pytest.param("x = 1;", "", "x", id="trailing-semicolon"),
    pytest.param("x = 1 + \\\n    y", "y", "x", id="line-continuation"),
    pytest.param("x = 1\r\ny = x\r\n", "", "x y", id="windows-line-endings"),
    pytest.param("if x:\n\ty = 1", "x", "y", id="tab-indentation"),
    pytest.param("café = 1", "", "café", id="unicode-identifier"),
    pytest.param("π = 3.14\nτ = 2 * π", "", "π τ", id="greek-identifiers"),
    pytest.param("print(naïve)", "naïve", "", id="unicode-read"),
    pytest.param("\u210c = 1", "", "H", id="identifiers-are-nfkc-normalised"),
    pytest.param("x = '''\nnot = code\n'''", "", "x", id="code-in-string"),
    pytest.param("x = 1  # y = 2", "", "x", id="code-in-comment"),
]

PYTHON_CASES = [
    *ASSIGNMENTS,
    *AUG_ASSIGN,
    *FUNCTIONS,
    *LAMBDAS,
    *CLASSES,
    *COMPREHENSIONS,
    *IMPORTS,
    *TRY,
    *WITH,
    *LOOPS,
    *MATCH,
    *PRIVATE,
    *BUILTINS,
    *ASYNC,
    *ANNOTATIONS,
    *MAGICS,
    *AUTOMAGIC,
    *WEIRD,
]


@pytest.mark.parametrize(("code", "reads", "writes"), PYTHON_CASES)
def test_reads_and_writes(code: str, reads: str, writes: str) -> None:
    result = analyze(code)
    assert result.error is None
    assert result.reads == names(reads)
    assert result.writes == names(writes)
    assert result.deletes == frozenset()


# -- del: (code, reads, writes, deletes) ---------------------------------------------------

DELETES = [
    pytest.param("del x", "x", "", "x", id="del-global"),
    pytest.param("x = 1\ndel x", "", "x", "x", id="bound-then-deleted"),
    pytest.param("del x, y", "x y", "", "x y", id="del-several"),
    pytest.param("del (a, [b])", "a b", "", "a b", id="del-nested"),
    pytest.param("del x[0]", "x", "", "", id="del-item"),
    pytest.param("del df['col']", "df", "", "", id="del-column"),
    pytest.param("del x.attr", "x", "", "", id="del-attribute"),
    pytest.param("del _tmp", "", "", "", id="del-private"),
    pytest.param("for i in range(3):\n    pass\ndel i", "", "i", "i", id="del-loop-variable"),
    pytest.param("def f():\n    global g\n    del g", "g", "f", "g", id="del-global-in-function"),
    pytest.param("def f(x):\n    del x", "", "f", "", id="del-parameter"),
    pytest.param("class A:\n    x = 1\n    del x", "", "A", "", id="del-class-attribute"),
    pytest.param(
        "try:\n    del cache\nexcept NameError:\n    pass", "cache", "", "cache", id="del-in-try"
    ),
]


@pytest.mark.parametrize(("code", "reads", "writes", "deletes"), DELETES)
def test_deletes(code: str, reads: str, writes: str, deletes: str) -> None:
    result = analyze(code)
    assert result.error is None
    assert (result.reads, result.writes, result.deletes) == (
        names(reads),
        names(writes),
        names(deletes),
    )
    assert result.defines == result.writes | result.deletes


# -- ambient reads: (code, reads, ambient) -------------------------------------------------

AMBIENT = [
    pytest.param("print(len(xs))", "xs", "len print", id="builtins"),
    pytest.param("display(df)", "df", "display", id="display"),
    pytest.param("get_ipython()", "", "get_ipython", id="get-ipython"),
    pytest.param("In[1], Out[2]", "", "In Out", id="in-out"),
    pytest.param("x = _", "", "_", id="last-output"),
    pytest.param("x = __, ___", "", "__ ___", id="earlier-outputs"),
    pytest.param("x = _5, _i3, _ii", "", "_5 _i3 _ii", id="numbered-history"),
    pytest.param("exit()", "", "exit", id="exit"),
    pytest.param("x = __name__, __file__", "", "__file__ __name__", id="dunders"),
    pytest.param("print(_x)", "", "print", id="private-is-not-ambient"),
    pytest.param("print = 1", "", "", id="shadowing-binds"),
    pytest.param("print(1)\nprint = 2", "", "print", id="load-before-shadowing"),
    pytest.param("len = 3\nlen", "", "", id="shadowed-builtin-is-no-longer-ambient"),
    pytest.param("def f(): return print", "", "print", id="builtin-in-function"),
    pytest.param("def f(): return len\nlen = 1", "", "", id="shadowed-for-function"),
    pytest.param("exec('y = 1')", "", "exec", id="exec"),
    pytest.param("globals()['z'] = 1", "", "globals", id="globals"),
    pytest.param(
        "try:\n    pass\nexcept ValueError as e:\n    raise RuntimeError() from e",
        "",
        "RuntimeError ValueError",
        id="exceptions",
    ),
    pytest.param("match v:\n    case str():\n        pass", "v", "str", id="class-pattern"),
    pytest.param("x: int = 1", "", "int", id="annotation"),
    pytest.param("display = print\ndisplay(1)", "", "print", id="shadowed-display"),
]


@pytest.mark.parametrize(("code", "reads", "ambient"), AMBIENT)
def test_ambient_reads(code: str, reads: str, ambient: str) -> None:
    result = analyze(code)
    assert result.error is None
    assert result.reads == names(reads)
    assert result.ambient_reads == names(ambient)


# -- star imports --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "modules"),
    [
        pytest.param("from math import *", ("math",), id="absolute"),
        pytest.param("from .utils import *", (".utils",), id="relative"),
        pytest.param("from . import *", (".",), id="package"),
        pytest.param("from a import *\nfrom b.c import *", ("a", "b.c"), id="several"),
    ],
)
def test_star_imports_are_recorded(code: str, modules: tuple[str, ...]) -> None:
    result = analyze_python(code)
    assert result.star_imports == modules
    assert result.writes == frozenset()


def test_with_star_names_adds_the_public_names_as_writes() -> None:
    result = analyze_python("from numpy import *\nprint(pi, array, mine)")
    assert result.reads == {"array", "mine", "pi"}
    after_run = result.with_star_names(frozenset({"pi", "array", "_private", "__all__"}))
    assert after_run.writes == {"array", "pi"}
    assert after_run.reads == {"mine"}
    assert after_run.defines == {"array", "pi"}
    assert after_run.star_imports == ("numpy",)
    assert result.writes == frozenset()  # the cached analysis is unchanged


def test_with_star_names_can_shadow_builtins() -> None:
    result = analyze_python("from mymath import *\nprint(sum(xs))")
    after_run = result.with_star_names(frozenset({"sum"}))
    assert after_run.writes == {"sum"}
    assert after_run.ambient_reads == {"print"}
    assert after_run.reads == {"xs"}


# -- syntax errors: (code, line, column) ---------------------------------------------------

SYNTAX_ERRORS = [
    pytest.param("x = = 1", 1, 4, id="invalid-syntax"),
    pytest.param("x = 1 +", 1, 7, id="incomplete-expression"),
    pytest.param("a = 1\nb = (\n", 2, 4, id="unclosed-paren"),
    pytest.param("x = [1, 2\ny = 3", 1, 4, id="unclosed-bracket"),
    pytest.param("a = 1\nb = )", 2, 4, id="unmatched-paren"),
    pytest.param("def f(:\n    pass", 1, 6, id="bad-parameters"),
    pytest.param("x = 1\n  y = 2", 2, 1, id="unexpected-indent"),
    pytest.param("if x:\npass", 2, 0, id="expected-indent"),
    pytest.param("for x in y\n    pass", 1, 10, id="missing-colon"),
    pytest.param("print 'hi'", 1, 0, id="python2-print"),
    pytest.param("'abc", 1, 0, id="unterminated-string"),
    pytest.param("%matplotlib inline\nx = = 1", 2, 4, id="error-after-magic"),
    pytest.param("x = 1\n\n\nclass A\n", 4, 7, id="error-on-later-line"),
    # IPython's prefilter (automagic) runs on single-line cells only
    pytest.param("ls x\nls y", 1, 3, id="automagic-not-on-two-lines"),
    pytest.param("ls scripts/*.py\nx = 1", 1, 3, id="automagic-not-on-first-of-two"),
    pytest.param("foo bar", 1, 4, id="unknown-word-is-not-automagic"),
    pytest.param("ls = = 1", 1, 5, id="automagic-not-on-assignment"),
    pytest.param("print x", 1, 0, id="builtin-shadows-magic-names"),
]


@pytest.mark.parametrize(("code", "line", "column"), SYNTAX_ERRORS)
def test_syntax_errors(code: str, line: int, column: int) -> None:
    result = analyze_python(code)
    assert isinstance(result.error, AnalysisError)
    assert (result.error.line, result.error.column) == (line, column)
    assert result.error.message
    assert str(result.error).startswith(f"line {line}, column {column}: ")
    assert (result.reads, result.writes, result.deletes) == (frozenset(),) * 3


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("x = 1\x00", id="nul-byte"),
        pytest.param("(" * 300 + ")" * 300, id="too-many-parentheses"),
        pytest.param("-" * 100_000 + "x", id="parser-stack-overflow"),
        pytest.param("x" + ".a" * 100_000, id="ast-construction-recursion"),
        pytest.param("y = " + "1 + " * 100_000 + "1", id="long-binary-chain"),
        pytest.param("y = x" + ".a" * 1_500, id="deeper-than-the-visitor-recursion"),
        pytest.param("y = x" + ".a" * 5_000, id="deep-attributes"),
    ],
)
def test_pathological_input_gives_an_error_not_an_exception(code: str) -> None:
    result = analyze_python(code)
    assert isinstance(result.error, AnalysisError)
    assert result.error.line >= 1
    assert result.error.column >= 0
    assert result.reads == result.writes == frozenset()


def test_leading_indentation_is_removed_as_ipython_does() -> None:
    result = analyze_python("    x = 1\n    y = x")
    assert (result.error, result.reads, result.writes) == (None, frozenset(), {"x", "y"})


def test_deep_but_ordinary_nesting_is_analysed() -> None:
    code = "y = " + "[" * 100 + "x" + "]" * 100
    result = analyze_python(code)
    assert (result.error, result.reads, result.writes) == (None, {"x"}, {"y"})


# -- the cache -----------------------------------------------------------------------------


def test_same_code_returns_the_cached_analysis() -> None:
    code = "cached_result = compute(cached_input)"
    first = analyze_python(code)
    assert analyze_python(code) is first
    assert analyze_python(code + "\n") is not first
    assert analyze_python(code + "\n") == first


def test_errors_are_cached_too() -> None:
    code = "cached = = 1"
    assert analyze_python(code) is analyze_python(code)


def test_analysis_is_immutable_and_hashable() -> None:
    result = analyze_python("a = b")
    with pytest.raises(AttributeError):
        result.reads = frozenset()  # type: ignore[misc]
    assert hash(result) == hash(analyze_python("a = b"))


# -- SQL cells: (sql, output, reads, writes) -----------------------------------------------

SQL_CASES = [
    pytest.param("SELECT * FROM {df}", "result", "df", "result", id="placeholder"),
    pytest.param(
        "SELECT * FROM t WHERE a > {lo} AND a < {hi}", "r", "hi lo", "r", id="two-placeholders"
    ),
    pytest.param("SELECT {x} + {x}", "r", "x", "r", id="repeated-placeholder"),
    pytest.param("SELECT 1", "df_1", "", "df_1", id="no-placeholder"),
    pytest.param("", "df_1", "", "df_1", id="empty-sql"),
    pytest.param("SELECT 1", None, "", "", id="no-output"),
    pytest.param("SELECT * FROM {df}", "df", "df", "df", id="output-reads-its-old-value"),
    pytest.param("SELECT '{x}', {y}", "r", "y", "r", id="string-literal"),
    pytest.param("SELECT 'it''s {x}', {y}", "r", "y", "r", id="doubled-quote"),
    pytest.param("SELECT E'it\\'s {x}', {y}", "r", "y", "r", id="escape-string"),
    pytest.param(
        "SELECT CASE WHEN a THEN 'x' ELSE'C:\\' END, {y}",
        "r",
        "y",
        "r",
        # The E of ELSE is not an escape-string prefix.
        id="keyword-ending-in-e-before-quote",
    ),
    pytest.param('SELECT "{x}" FROM t WHERE v = {y}', "r", "y", "r", id="quoted-identifier"),
    pytest.param("-- {x}\nSELECT {y}", "r", "y", "r", id="line-comment"),
    pytest.param("/* {x} */ SELECT {y}", "r", "y", "r", id="block-comment"),
    pytest.param("/* a /* {x} */ {z} */ SELECT {y}", "r", "y", "r", id="nested-comment"),
    pytest.param("SELECT $$ {x} $$, {y}", "r", "y", "r", id="dollar-quote"),
    pytest.param("SELECT $fn$ {x} $$ {z} $fn$, {y}", "r", "y", "r", id="tagged-dollar-quote"),
    pytest.param("SELECT a$tag$ {x}", "r", "x", "r", id="dollar-inside-identifier"),
    pytest.param("SELECT * FROM t WHERE a = $1 OR b = {x}", "r", "x", "r", id="positional"),
    pytest.param("SELECT {{x}}, {y}", "r", "y", "r", id="escaped-braces"),
    pytest.param("SELECT {'a': 1, 'b': {v}}", "r", "v", "r", id="struct-literal"),
    pytest.param("SELECT {a: 1}, {x.y}, { x }, {1x}, {}", "r", "", "r", id="not-identifiers"),
    pytest.param("SELECT {None}, {class}", "r", "", "r", id="keywords-are-not-names"),
    pytest.param("SELECT {_secret}, {__x}", "r", "__x", "r", id="private-placeholder"),
    pytest.param("SELECT {prix_café}", "r", "prix_café", "r", id="unicode-placeholder"),
    pytest.param("SELECT 'unterminated {x}", "r", "", "r", id="unterminated-string"),
    pytest.param("SELECT 1", "_tmp", "", "", id="private-output"),
    pytest.param(
        "SELECT *\nFROM {table}\n-- WHERE {old}\nWHERE v = {v}",
        "df_2",
        "table v",
        "df_2",
        id="multi-line",
    ),
]


@pytest.mark.parametrize(("sql", "output", "reads", "writes"), SQL_CASES)
def test_sql_reads_and_writes(sql: str, output: str | None, reads: str, writes: str) -> None:
    result = analyze_sql(sql, output)
    assert result.error is None
    assert result.reads == names(reads)
    assert result.writes == names(writes)
    assert result.deletes == frozenset()


def test_sql_builtin_placeholder_is_ambient() -> None:
    # Consistent with Python cells: `{id}` depends on a cell only if one defines `id`.
    result = analyze_sql("SELECT * FROM users WHERE user_id = {id} AND n = {n}", "r")
    assert result.reads == {"n"}
    assert result.ambient_reads == {"id"}


@pytest.mark.parametrize("output", ["1bad", "my-table", "", "class", "a b"])
def test_sql_output_must_be_a_python_name(output: str) -> None:
    result = analyze_sql("SELECT {x}", output)
    assert isinstance(result.error, AnalysisError)
    assert result.writes == result.reads == frozenset()
