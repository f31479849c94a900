"""Counterexamples the property test (test_consistency.py) found, replayed step by step.

Each one was a bug of the reactive core; an open one is a strict xfail that names it, so
the day it is fixed the test says so.
"""

from __future__ import annotations

import math

from .test_consistency import ReactiveNotebookMachine


def test_a_cell_deleting_an_imported_name_runs_again_when_the_import_does() -> None:
    """[a = a | import math as c | del c; b += 0 | a = c]: after a run-all the del cell has
    deleted ``c`` (then failed). Importing again binds ``c`` anew, so the del cell must run
    again, and ``a = c`` gets the NameError a fresh run gives, never the module.

    Found 2026-12-06: readers of only a re-imported module were skipped as unaffected,
    including one that deletes (or rebinds) the module's name.
    """
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


def test_a_run_of_an_import_leaves_a_later_rebinding_of_its_name_in_the_kernel() -> None:
    """[import math as m | m = m.pi | x = m]: a run of the import alone binds ``m`` to the
    module again; the kernel still ends holding what a top-to-bottom run leaves (``pi``,
    the later cell's value), as every plan promises. The boundary of the fix above: a
    rebinding was already right (its value is kept and put back)."""
    state = ReactiveNotebookMachine()
    state.insert_cell(source="x = m", where=0)
    state.insert_cell(source="m = m.pi", where=0)
    state.insert_cell(source="import math as m", where=0)
    state.run_all()
    state.current_cells_hold_fresh_values()
    state.run_cell(which=0)
    state.current_cells_hold_fresh_values()
    assert state.namespace["m"] == math.pi


def test_a_replayed_import_does_not_bring_back_a_name_a_failed_cell_deleted() -> None:
    """[import math as a; import math as b | del b; b = b | a += 0 | a = b]: running
    ``a += 0`` replays the imports to give ``a`` back, which binds ``b`` too; the failed
    cell below had deleted ``b`` (a new run of it would again), so ``b`` is deleted again
    after the replay and ``a = b`` fails as in a fresh run.

    Found 2026-12-06 by a random search: a failed cell's deletion was not a value to put
    back, so the replay's ``b`` leaked into ``a = b``.
    """
    state = ReactiveNotebookMachine()
    state.insert_cell(source="import math as a\nimport math as b", where=0)
    state.insert_cell(source="del b\nb = b", where=1)
    state.insert_cell(source="a = b", where=2)
    state.insert_cell(source="a += 0", where=2)
    state.run_merged_requests(first=0, second=0)
    state.current_cells_hold_fresh_values()
    state.run_merged_requests(first=2, second=2)
    state.current_cells_hold_fresh_values()
