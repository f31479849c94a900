"""Analysis costs time linear in the cell's size, and hostile cells end in a clear error.

Reproducers of issue 12 item 2: ``!echo $a$a...`` (80 kB) took 5-10 s and 200 kB 29 s,
because a regular expression rescanned the rest of the line for every ``$``; 10,000 nested
``%%time`` lines took 2-3 s, because every level re-parsed the rest of the cell. The time
limits below are 10-30x what the fixed code needs on a loaded CI machine and far below what
the old code took, so they only fail on a return of the quadratic behaviour.
"""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st
from IPython.utils.text import DollarFormatter

from reactive_notebook.reactive.analysis import analyze_python
from reactive_notebook.reactive.ipython_syntax import MAX_EMBEDDED_DEPTH, _dollar_names


def seconds(function: object, *args: object) -> float:
    start = time.perf_counter()
    function(*args)  # type: ignore[operator]
    return time.perf_counter() - start


def test_a_shell_line_of_100000_dollar_fields_is_analysed_in_linear_time() -> None:
    code = "!echo " + "$a" * 100_000  # 200 kB: 29 s before
    assert seconds(analyze_python, code) < 3
    assert analyze_python(code).reads == {"a"}


@given(st.text(alphabet="$$a.b_' ", max_size=16))
def test_dollar_fields_are_the_ones_ipython_expands(line: str) -> None:
    ipython = [field for _, field, _, _ in DollarFormatter().parse(line) if field is not None]
    assert _dollar_names(line) == ipython


def test_magics_nested_beyond_the_limit_are_an_error_not_a_quadratic_parse() -> None:
    code = "%%time\n" * 10_000 + "x = y"
    assert seconds(analyze_python, code) < 1  # 1.8-2.9 s before, and no error
    error = analyze_python(code).error
    assert error is not None
    assert error.kind == "limit"
    assert f"more than {MAX_EMBEDDED_DEPTH} levels" in error.describe()


def test_magics_nested_within_the_limit_are_still_analysed() -> None:
    code = "%%time\n" * (MAX_EMBEDDED_DEPTH - 1) + "x = y"
    analysis = analyze_python(code)
    assert analysis.error is None
    assert (analysis.reads, analysis.writes) == ({"y"}, {"x"})
