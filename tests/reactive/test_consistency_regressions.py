"""Counterexamples the property test (test_consistency.py) found, replayed step by step.

Each one is a bug of the reactive core until it passes; a strict xfail names it, so the
day it is fixed the test says so.
"""

from __future__ import annotations

import pytest

from .test_consistency import ReactiveNotebookMachine


@pytest.mark.xfail(
    strict=True,
    reason="open bug (found 2026-12-06 by test_consistency): in [a = a | import math as c "
    "| del c; b += 0 | a = c], after a run-all, the last cell runs in a merged request "
    "with the import's value of c, where a fresh run gives NameError (the del cell above "
    "it failed after deleting c)",
)
def test_a_read_with_only_an_import_and_a_del_below_it_is_never_served() -> None:
    state = ReactiveNotebookMachine()
    state.insert_cell(source="a = a", where=0)
    state.insert_cell(source="del c\nb += 0", where=0)
    state.insert_cell(source="import math as c", where=0)
    state.insert_cell(source="a = a", where=0)
    state.run_all()
    state.current_cells_hold_fresh_values()
    state.edit_cell(source="a = c", which=3)
    state.run_merged_requests(first=0, second=1)
    state.current_cells_hold_fresh_values()
