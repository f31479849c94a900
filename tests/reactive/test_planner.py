"""Running cells: which cells a request runs, in what order, and which cannot run.

Each test states one rule of design.md section 3 ("Running"). Plans come from a
:class:`ReactiveCore` and are executed the way the kernel-side runner does (design.md
section 3b): one shared namespace, ``exec`` per cell, the plan's ``cleanup`` and each
step's ``delete_before`` deleted first, a step skipped when a step it reads from
(``PlanStep.after``) failed or was skipped, every outcome recorded in the core.

Notebooks are built with :class:`Session`, which appends cells "c1", "c2", ... in order.
"""

from __future__ import annotations

import pytest

from reactive_notebook.reactive.analysis import analyze_python
from reactive_notebook.reactive.core import ReactiveCore
from reactive_notebook.reactive.planner import Plan

from .executor import ExecutedPlan, execute_plan

Outcome = ExecutedPlan


class Session:
    """A notebook, its reactive core and its kernel namespace."""

    def __init__(self, *codes: str) -> None:
        self.core = ReactiveCore()
        self.code: dict[str, str] = {}
        self.ns: dict[str, object] = {}
        self._counter = 0
        for code in codes:
            self.append(code)

    # -- edits --------------------------------------------------------------------------

    def append(self, code: str) -> str:
        self._counter += 1
        cell_id = f"c{self._counter}"
        self.code[cell_id] = code
        self.core.append(cell_id, analyze_python(code), fingerprint=code)
        return cell_id

    def edit(self, cell_id: str, code: str) -> None:
        self.code[cell_id] = code
        self.core.update(cell_id, analyze_python(code), fingerprint=code)

    def remove(self, cell_id: str) -> Plan:
        plan = self.core.remove(cell_id)
        del self.code[cell_id]
        return plan

    def restart(self) -> None:
        self.ns.clear()
        self.core.kernel_restarted()

    # -- runs ---------------------------------------------------------------------------

    def plan(self, *cell_ids: str) -> Plan:
        return self.core.plan(cell_ids)

    def run(self, *cell_ids: str) -> Outcome:
        return self.execute(self.plan(*cell_ids))

    def run_all(self) -> Outcome:
        return self.execute(self.core.plan(self.core.graph.cell_ids))

    def execute(self, plan: Plan) -> Outcome:
        """Run a plan as the kernel-side runner does."""
        return execute_plan(self.core, plan, self.code, self.ns)

    def stale(self) -> set[str]:
        return {c for c in self.core.graph.cell_ids if self.core.is_stale(c)}


# -- the cascade ----------------------------------------------------------------------------


def test_running_a_root_runs_its_descendants_in_order() -> None:
    nb = Session("a = 1", "b = a + 1", "c = b + 1", "z = 0")

    outcome = nb.run("c1")

    assert outcome.ran == ["c1", "c2", "c3"]
    assert outcome.plan.cell_ids == ["c1", "c2", "c3"]
    assert nb.ns["c"] == 3
    assert "z" not in nb.ns


def test_running_a_root_runs_descendants_defined_above_it_after_it() -> None:
    nb = Session("total = base * 2", "base = 21")

    outcome = nb.run("c2")

    assert outcome.ran == ["c2", "c1"]
    assert nb.ns["total"] == 42


def test_running_a_cell_runs_its_descendants_again_with_the_new_value() -> None:
    nb = Session("a = 1", "b = a + 1", "c = b * 10")
    nb.run_all()
    nb.edit("c1", "a = 5")

    outcome = nb.run("c1")

    assert outcome.ran == ["c1", "c2", "c3"]
    assert nb.ns["c"] == 60


def test_rerunning_a_definer_keeps_a_later_redefinition_and_its_readers() -> None:
    # The later `x = 2` and its reader show what they showed: they do not re-run, and the
    # kernel ends holding their `x`, as a top-to-bottom run would.
    nb = Session("x = 1", "y = x", "x = 2", "z = x")
    nb.run_all()
    nb.edit("c1", "x = 5")

    outcome = nb.run("c1")

    assert outcome.ran == ["c1", "c2"]
    assert outcome.plan.kept == {"c3"}
    assert outcome.plan.restore == {"x": "c3"}
    assert nb.ns["y"] == 5
    assert nb.ns["x"] == 2
    assert nb.ns["z"] == 2
    assert nb.stale() == set()
    assert nb.core.state.last_writer["x"] == "c3"


def test_a_kept_value_goes_back_before_a_reader_of_it_that_must_run() -> None:
    nb = Session("x = 1\nj = 1", "y = x", "x = 2", "z = x + j")
    nb.run_all()
    nb.edit("c1", "x = 5\nj = 3")

    outcome = nb.run("c1")

    assert outcome.ran == ["c1", "c2", "c4"]
    assert [step.restore_before for step in outcome.plan.steps] == [
        frozenset(),
        frozenset(),
        frozenset({"x"}),
    ]
    assert nb.ns["y"] == 5
    assert nb.ns["z"] == 5
    assert nb.ns["x"] == 2


def test_a_current_provider_overwritten_later_is_replayed_without_its_readers() -> None:
    # `Gaussian` is defined twice (as in a public IPython example); the kernel holds the
    # later class. Re-running a reader of the first definition replays the first cell;
    # the cells that read its other names keep what they show.
    nb = Session(
        "helper = 1\nGaussian = 'first'",
        "x = Gaussian",
        "uses_helper = helper + 1",
        "Gaussian = 'second' * helper",
        "y = Gaussian",
    )
    nb.run_all()
    nb.edit("c2", "x = Gaussian + '!'")

    outcome = nb.run("c2")

    assert outcome.ran == ["c1", "c2"]
    assert outcome.plan.replays == {"c1"}
    assert nb.ns["x"] == "first!"
    assert nb.ns["Gaussian"] == "second"  # put back: the kernel ends as a fresh run
    assert nb.stale() == set()


def test_readers_of_only_a_module_a_rerun_imports_again_keep_their_values() -> None:
    nb = Session("import math\nx = 1", "p = math.pi", "y = x + 1")
    nb.run_all()
    nb.edit("c1", "import math\nx = 2")
    assert nb.stale() == {"c1", "c3"}

    outcome = nb.run("c1")

    assert outcome.ran == ["c1", "c3"]
    nb.edit("c1", "import cmath as math\nx = 2")  # now `math` is another module
    assert nb.stale() == {"c1", "c2", "c3"}
    assert nb.run("c1").ran == ["c1", "c2", "c3"]


def test_an_import_after_something_that_may_fail_is_not_taken_as_the_same() -> None:
    # `b += 0` may fail before the import: its readers must re-run (or be blocked).
    nb = Session("b = 1", "b += 0\nimport math as a", "p = a.pi")
    nb.run_all()
    nb.edit("c1", "b = 2")

    assert nb.run("c1").ran == ["c1", "c2", "c3"]


def test_a_redefinition_that_reads_the_name_reruns() -> None:
    nb = Session("x = 1", "y = x", "x = x + 1", "z = x")
    nb.run_all()
    nb.edit("c1", "x = 5")

    outcome = nb.run("c1")

    assert outcome.ran == ["c1", "c2", "c3", "c4"]
    assert outcome.plan.kept == frozenset()
    assert nb.ns["z"] == 6


def test_a_redefinition_that_never_ran_is_not_kept() -> None:
    nb = Session("x = 1", "y = x", "x = 2", "z = x")
    nb.run("c2")

    outcome = nb.run("c1")

    assert outcome.ran == ["c1", "c2", "c3", "c4"]
    assert nb.ns["x"] == 2


def test_a_chain_of_redefinitions_keeps_the_last_value_in_the_kernel() -> None:
    nb = Session("i = 1", "a = i", "i = 2", "b = i", "i = 3", "c = i")
    nb.run_all()
    nb.edit("c1", "i = 10")

    outcome = nb.run("c1")

    assert outcome.ran == ["c1", "c2"]
    assert outcome.plan.restore == {"i": "c5"}
    assert (nb.ns["a"], nb.ns["b"], nb.ns["c"], nb.ns["i"]) == (10, 2, 3, 3)
    assert nb.stale() == set()


def test_rerunning_the_kept_cell_later_uses_its_own_value() -> None:
    nb = Session("x = 1", "y = x", "x = 2", "z = x")
    nb.run_all()
    nb.run("c1")
    nb.edit("c3", "x = 7")

    outcome = nb.run("c3")

    assert outcome.ran == ["c3", "c4"]
    assert nb.ns["z"] == 7


def test_a_descendants_other_providers_that_never_ran_are_run_too() -> None:
    nb = Session("a = 1", "b = 2", "c = a + b")

    outcome = nb.run("c1")

    assert outcome.ran == ["c1", "c2", "c3"]
    assert nb.ns["c"] == 3


# -- ancestors --------------------------------------------------------------------------------


def test_running_a_leaf_after_a_restart_runs_only_the_ancestors_it_needs() -> None:
    nb = Session("a = 1", "b = a * 10", "c = a + 1", "d = c + 1", "z = 0")
    nb.run_all()
    nb.restart()

    outcome = nb.run("c4")

    assert outcome.ran == ["c1", "c3", "c4"]
    assert nb.ns["d"] == 3
    assert "b" not in nb.ns  # an ancestor's other descendant that never ran since restart
    assert "z" not in nb.ns  # an unrelated cell


def test_running_a_leaf_in_a_fresh_kernel_runs_its_ancestors_first() -> None:
    nb = Session("d = c + 1", "c = b + 1", "b = a + 1", "a = 1")

    outcome = nb.run("c1")

    assert outcome.ran == ["c4", "c3", "c2", "c1"]
    assert nb.ns["d"] == 4


def test_ancestors_that_are_current_are_not_rerun() -> None:
    nb = Session("a = 1", "b = a * 10", "c = a + 1", "d = c + 1")
    nb.run_all()

    outcome = nb.run("c3")

    assert outcome.ran == ["c3", "c4"]
    assert outcome.plan.cell_ids == ["c3", "c4"]


def test_running_a_current_leaf_runs_only_the_leaf() -> None:
    nb = Session("a = 1", "b = a + 1")
    nb.run_all()

    outcome = nb.run("c2")

    assert outcome.ran == ["c2"]


def test_an_ancestor_that_failed_is_rerun() -> None:
    nb = Session("a = 1 / flag", "b = a")
    nb.ns["flag"] = 0  # not a cell's name: the kernel's state, as a user could set it
    first = nb.run("c1")
    assert "c1" in first.errors
    assert first.skipped == ["c2"]
    nb.ns["flag"] = 1

    outcome = nb.run("c2")

    assert outcome.ran == ["c1", "c2"]
    assert nb.ns["b"] == 1


def test_editing_an_ancestor_marks_its_descendants_stale_at_once() -> None:
    nb = Session("a = 1", "b = a * 10", "c = a + 1", "d = c + 1", "z = 0")
    nb.run_all()
    assert nb.stale() == set()

    nb.edit("c1", "a = 2")

    assert {"c2", "c3", "c4"} <= nb.stale()
    assert "c5" not in nb.stale()


def test_an_edited_cell_that_ran_is_stale_itself_until_it_runs_again() -> None:
    nb = Session("a = 1", "b = a", "c = 3")
    nb.run("c1")  # and b = a, which reads it
    nb.edit("c1", "a = 2")
    nb.edit("c3", "c = 4")  # never ran: nothing of it is out of date

    assert nb.stale() == {"c1", "c2"}
    nb.run("c1")
    assert nb.stale() == set()


def test_an_edited_ancestor_is_rerun_before_the_leaf() -> None:
    nb = Session("a = 1", "b = a * 10", "c = a + 1", "d = c + 1", "z = 0")
    nb.run_all()
    nb.edit("c1", "a = 2")

    outcome = nb.run("c4")

    assert outcome.ran.index("c1") < outcome.ran.index("c3") < outcome.ran.index("c4")
    assert "c5" not in outcome.ran
    assert nb.ns["d"] == 4
    # c2 holds a value computed from the old a: either it re-ran or it stays stale.
    assert "c2" in outcome.ran or nb.core.is_stale("c2")
    assert not nb.core.is_stale("c3")
    assert not nb.core.is_stale("c4")


def test_editing_code_runs_nothing() -> None:
    nb = Session("a = 1", "b = a")
    nb.run_all()

    nb.edit("c1", "a = 2")

    assert nb.ns["a"] == 1
    assert nb.ns["b"] == 1


def test_a_stale_cell_is_rerun_when_a_descendant_runs() -> None:
    nb = Session("a = 1", "b = a + 1", "c = b + 1")
    nb.run_all()
    nb.edit("c1", "a = 10")

    outcome = nb.run("c3")

    assert outcome.ran == ["c1", "c2", "c3"]
    assert nb.ns["c"] == 12
    assert nb.stale() == set()


# -- providers: inputs must come from the cell the semantics say ------------------------------


def test_rerunning_n_plus_one_never_counts_twice() -> None:
    nb = Session("n = 0", "n = n + 1", "m = n * 10")
    nb.run_all()
    assert nb.ns["n"] == 1

    first = nb.run("c2")
    assert first.ran == ["c1", "c2", "c3"]
    assert nb.ns["n"] == 1
    assert nb.ns["m"] == 10

    second = nb.run("c2")
    assert second.ran == ["c1", "c2", "c3"]
    assert nb.ns["n"] == 1
    assert nb.ns["m"] == 10


def test_reader_of_an_overwritten_definition_reruns_its_provider_first() -> None:
    nb = Session("x = 1", "y = x", "x = 2")
    nb.run_all()
    assert nb.ns["x"] == 2

    outcome = nb.run("c2")

    assert outcome.ran.index("c1") < outcome.ran.index("c2")
    assert nb.ns["y"] == 1
    assert nb.ns["x"] == 2  # the overwrite follows its reader again


def test_reader_above_a_del_reruns_its_provider_first() -> None:
    nb = Session("x = 1", "y = x", "del x")
    nb.run_all()
    assert "x" not in nb.ns

    outcome = nb.run("c2")

    assert outcome.ran.index("c1") < outcome.ran.index("c2")
    assert outcome.errors == {}
    assert nb.ns["y"] == 1
    assert "x" not in nb.ns  # the del follows its reader again


def test_a_failed_cell_that_wrote_a_name_before_raising_makes_the_provider_rerun() -> None:
    nb = Session("x = 1", "y = x", "x = 2\nraise ValueError('boom')")
    nb.run_all()
    assert nb.ns["x"] == 2  # written before the raise

    outcome = nb.run("c2")

    assert outcome.ran.index("c1") < outcome.ran.index("c2")
    assert nb.ns["y"] == 1


def test_after_a_move_a_reader_reruns_with_the_definition_it_now_sees() -> None:
    nb = Session("x = 1", "x = 2", "y = x")
    nb.run_all()
    assert nb.ns["y"] == 2

    nb.core.move("c3", after="c1")
    assert "c3" in nb.stale()
    outcome = nb.run("c3")

    assert outcome.ran == ["c1", "c3"]  # `x = 2` keeps its value: it goes back after c3
    assert nb.ns["y"] == 1
    assert nb.ns["x"] == 2


def test_leaf_below_n_plus_one_after_a_restart_replays_both_definitions() -> None:
    nb = Session("n = 0", "n = n + 1", "m = n * 10")
    nb.run_all()
    nb.restart()

    outcome = nb.run("c3")

    assert outcome.ran == ["c1", "c2", "c3"]
    assert nb.ns["m"] == 10


def test_builtin_read_above_its_redefinitions_uses_the_builtin() -> None:
    nb = Session("out = len([1, 2])", "def len(x):\n    return 99", "len = lambda x: 100")
    nb.run_all()
    assert nb.ns["out"] == 2

    outcome = nb.run("c1")

    assert outcome.errors == {}
    assert nb.ns["out"] == 2


def test_reader_below_a_del_raises_name_error_like_a_fresh_run() -> None:
    nb = Session("x = 1", "del x", "y = x")

    outcome = nb.run_all()

    assert outcome.ran == ["c1", "c2", "c3"]
    assert isinstance(outcome.errors.get("c3"), NameError)


def test_a_cell_that_stops_redefining_a_name_hands_its_readers_the_definition_above() -> None:
    nb = Session("x = 1", "x = 2", "y = x")
    nb.run_all()
    nb.edit("c2", "w = 2")
    assert "c3" in nb.stale()

    outcome = nb.run("c3")

    assert outcome.ran.index("c1") < outcome.ran.index("c3")
    assert nb.ns["y"] == 1


def test_self_reference_with_no_other_definer_raises_name_error_like_a_fresh_run() -> None:
    nb = Session("n = 0", "n = n + 1")
    nb.run_all()
    assert nb.ns["n"] == 1
    nb.edit("c1", "m = 0")

    outcome = nb.run("c2")

    step = outcome.plan.steps[outcome.plan.cell_ids.index("c2")]
    assert "n" in step.delete_before
    assert isinstance(outcome.errors.get("c2"), NameError)


def test_self_reference_in_a_fresh_kernel_raises_name_error() -> None:
    nb = Session("n = n + 1")

    outcome = nb.run("c1")

    assert isinstance(outcome.errors.get("c1"), NameError)
    again = nb.run("c1")
    assert isinstance(again.errors.get("c1"), NameError)


def test_read_of_a_name_no_cell_defines_anymore_is_deleted_first() -> None:
    nb = Session("x = 1", "y = x + 1")
    nb.run_all()
    nb.edit("c1", "w = 1")

    outcome = nb.run("c2")

    assert isinstance(outcome.errors.get("c2"), NameError)
    assert "x" not in nb.ns


# -- names a cell no longer writes --------------------------------------------------------------


def test_names_a_cell_no_longer_writes_are_deleted_before_it_reruns() -> None:
    nb = Session("a = 1\nb = 2", "c = a")
    nb.run_all()
    nb.edit("c1", "a = 1")

    outcome = nb.run("c1")

    first = outcome.plan.steps[0]
    assert first.cell_id == "c1"
    assert first.delete_before == frozenset({"b"})
    assert "b" not in nb.ns
    assert nb.ns["a"] == 1


def test_a_name_another_cell_wrote_since_is_not_deleted() -> None:
    nb = Session("a = 1\nb = 2", "b = 3")
    nb.run_all()
    assert nb.ns["b"] == 3
    nb.edit("c1", "a = 1")

    outcome = nb.run("c1")

    assert all("b" not in step.delete_before for step in outcome.plan.steps)
    assert "b" not in outcome.plan.cleanup
    assert nb.ns["b"] == 3


def test_a_cell_that_still_writes_a_name_does_not_delete_it() -> None:
    nb = Session("a = 1\nb = 2", "c = a + b")
    nb.run_all()
    nb.edit("c1", "a = 10\nb = 20")

    outcome = nb.run("c1")

    assert all(step.delete_before == frozenset() for step in outcome.plan.steps)
    assert nb.ns["c"] == 30


# -- deleting a cell ---------------------------------------------------------------------------


def test_deleting_a_cell_cleans_up_its_names_and_reruns_its_dependents() -> None:
    nb = Session("a = 1", "b = a + 1", "c = b * 2", "z = 0")
    nb.run_all()

    plan = nb.remove("c2")

    assert plan.cleanup == frozenset({"b"})
    assert "c3" in plan.cell_ids
    assert "c4" not in plan.cell_ids
    outcome = nb.execute(plan)
    assert "b" not in nb.ns
    assert isinstance(outcome.errors.get("c3"), NameError)  # as in a fresh run


def test_deleting_a_redefinition_reruns_its_readers_with_the_definition_above() -> None:
    nb = Session("x = 1", "x = 2", "y = x * 10")
    nb.run_all()
    assert nb.ns["y"] == 20

    plan = nb.remove("c2")

    assert plan.cleanup == frozenset({"x"})
    outcome = nb.execute(plan)
    assert outcome.ran.index("c1") < outcome.ran.index("c3")
    assert nb.ns["y"] == 10
    assert nb.ns["x"] == 1


def test_deleting_a_cell_whose_names_another_cell_wrote_since_keeps_them() -> None:
    nb = Session("x = 1", "x = 2", "y = x")
    nb.run_all()

    plan = nb.remove("c1")

    assert "x" not in plan.cleanup
    nb.execute(plan)
    assert nb.ns["x"] == 2
    assert nb.ns["y"] == 2


def test_deleting_a_reader_reruns_nothing() -> None:
    nb = Session("x = 1", "y = x", "x = 2")
    nb.run_all()

    plan = nb.remove("c2")

    assert plan.cleanup == frozenset({"y"})
    assert plan.cell_ids == []
    nb.execute(plan)
    assert "y" not in nb.ns
    assert nb.ns["x"] == 2


def test_deleting_a_cell_that_never_ran_cleans_up_nothing() -> None:
    nb = Session("a = 1", "b = a")

    plan = nb.remove("c1")

    assert plan.cleanup == frozenset()


# -- failures ---------------------------------------------------------------------------------


FAILING_CHAIN = (
    "a = 1",  # c1
    "b = 1 / (a - 1)",  # c2: raises ZeroDivisionError
    "c = b + 1",  # c3: reads b from c2
    "d = c + 1",  # c4: reads c from c3
    "e = a * 2",  # c5: a sibling, reads only a
    "b = 100",  # c6: only redefines b
    "f = b",  # c7: reads b from c6
)


def test_failure_blocks_exactly_the_cells_downstream_of_it() -> None:
    nb = Session(*FAILING_CHAIN)

    plan = nb.plan("c1")

    assert plan.cell_ids == ["c1", "c2", "c3", "c4", "c5", "c6", "c7"]
    assert plan.blocked_by_failure("c2") == ["c3", "c4"]


def test_failure_in_the_middle_of_a_chain_skips_its_dependents_and_runs_the_rest() -> None:
    nb = Session(*FAILING_CHAIN)

    plan = nb.plan("c1")
    outcome = nb.execute(plan)

    assert isinstance(outcome.errors.get("c2"), ZeroDivisionError)
    assert outcome.skipped == plan.blocked_by_failure("c2") == ["c3", "c4"]
    assert outcome.ran == ["c1", "c2", "c5", "c6", "c7"]
    assert nb.ns["e"] == 2
    assert nb.ns["f"] == 100
    assert "c" not in nb.ns
    assert "d" not in nb.ns


def test_old_outputs_of_a_failed_cells_descendants_are_stale() -> None:
    nb = Session("a = 1", "b = 10 / a", "c = b + 1", "d = c + 1", "z = a")
    nb.run_all()
    nb.edit("c1", "a = 0")

    outcome = nb.run("c1")

    assert isinstance(outcome.errors.get("c2"), ZeroDivisionError)
    assert outcome.skipped == ["c3", "c4"]
    assert {"c3", "c4"} <= nb.stale()
    assert "c5" not in nb.stale()
    assert not nb.core.state.is_current(nb.core.graph, "c2")


def test_skipped_descendants_are_stale_even_when_no_code_changed() -> None:
    # The failure comes from state outside the notebook (as a file or a database would).
    nb = Session("a = 1", "b = a / flag", "c = b + 1", "d = a")
    nb.ns["flag"] = 1
    nb.run_all()
    assert nb.stale() == set()
    nb.ns["flag"] = 0

    outcome = nb.run("c1")

    assert isinstance(outcome.errors.get("c2"), ZeroDivisionError)
    assert outcome.skipped == ["c3"]
    assert "c3" in nb.stale()
    assert "c4" not in nb.stale()


def test_a_failed_cell_is_rerun_with_its_descendants_once_fixed() -> None:
    nb = Session("a = 0", "b = 10 / a", "c = b + 1")
    nb.run_all()
    nb.edit("c1", "a = 5")

    outcome = nb.run("c1")

    assert outcome.ran == ["c1", "c2", "c3"]
    assert nb.ns["c"] == 3
    assert nb.stale() == set()


def test_names_a_failed_cell_bound_before_raising_are_read() -> None:
    nb = Session(
        "import math\nclass MyError(Exception): pass\nraise MyError('boom')",
        "p = math.pi",
        "n = MyError.__name__",
    )

    outcome = nb.run_all()

    assert type(outcome.errors.get("c1")).__name__ == "MyError"
    assert outcome.ran == ["c1", "c2", "c3"]
    assert nb.ns["n"] == "MyError"


def test_readers_of_a_name_a_failed_cell_did_not_bind_are_blocked_saying_which() -> None:
    nb = Session("a = 1\nraise ValueError('early')\nb = 2", "c = a", "d = b", "e = d")

    plan = nb.plan("c1")
    outcome = nb.execute(plan)

    assert outcome.ran == ["c1", "c2"]
    assert outcome.skipped == ["c3", "c4"]
    assert plan.failure_reasons("c1", frozenset({"b"})) == {
        "c3": "cell c1 failed before defining `b`",
        "c4": "waiting on cell c3, blocked because cell c1 failed",
    }
    assert nb.ns["c"] == 1


def test_a_reader_of_what_a_failed_cell_bound_runs_without_rerunning_it() -> None:
    # Same code, same inputs: running it again would fail the same way, after binding
    # the same `math`.
    nb = Session("import math\nraise ValueError('style')\nstyle = 1", "p = math.pi")
    nb.run_all()
    nb.edit("c2", "p = math.e")

    assert nb.run("c2").ran == ["c2"]
    nb.edit("c1", "import math\nstyle = 1")  # fixed: it runs again, its reader too
    assert nb.run("c2").ran == ["c1", "c2"]


def test_a_failed_rerun_does_not_pass_off_its_previous_value_as_bound() -> None:
    nb = Session("t = 1", "x = 10 / t", "y = x")
    nb.run_all()
    nb.edit("c1", "t = 0")

    outcome = nb.run("c1")

    assert isinstance(outcome.errors.get("c2"), ZeroDivisionError)
    assert outcome.skipped == ["c3"]
    assert "c3" in nb.stale()


def test_failure_of_a_cell_not_in_the_plan_blocks_nothing() -> None:
    nb = Session(*FAILING_CHAIN)

    plan = nb.plan("c5")

    assert plan.blocked_by_failure("c2") == []


def test_failure_of_the_last_cell_blocks_nothing() -> None:
    nb = Session("a = 1", "b = a")

    assert nb.plan("c1").blocked_by_failure("c2") == []


# -- cells the graph says cannot run -------------------------------------------------------------


def test_a_reader_above_a_cycle_waits_on_it_though_it_is_ordered_first() -> None:
    # Run order puts `a = b` first (nothing on the cycle can go first), yet it reads `b`
    # from the cycle: it cannot run either (found by the consistency test).
    nb = Session("a = b", "b = c", "c = b")

    plan = nb.core.plan(nb.core.graph.cell_ids)

    assert plan.blocked["c1"] == "waiting on cell c2, which cannot run"
    assert plan.cell_ids == []


def test_cycle_cells_are_blocked_with_the_cycle_and_their_dependents_wait() -> None:
    nb = Session("a = b + 1", "b = a + 1", "c = a * 2", "d = c", "z = 0")

    plan = nb.plan("c1")

    assert set(plan.blocked) == {"c1", "c2", "c3", "c4"}
    for cell_id in ("c1", "c2"):
        assert "cycle" in plan.blocked[cell_id]
        assert "c1" in plan.blocked[cell_id]
        assert "c2" in plan.blocked[cell_id]
    assert "waiting on" in plan.blocked["c3"]
    assert "c1" in plan.blocked["c3"]
    assert "waiting on" in plan.blocked["c4"]
    assert "c3" in plan.blocked["c4"]
    assert plan.cell_ids == []
    assert nb.execute(plan).ran == []


def test_running_everything_runs_the_cells_off_the_cycle() -> None:
    nb = Session("a = b + 1", "b = a + 1", "c = a * 2", "z = 0")

    outcome = nb.run_all()

    assert set(outcome.plan.blocked) == {"c1", "c2", "c3"}
    assert outcome.ran == ["c4"]


def test_ambiguous_read_is_blocked_naming_the_definers_and_its_dependents_wait() -> None:
    nb = Session("y = x", "x = 1", "x = 2", "w = y")

    plan = nb.plan("c1")

    assert set(plan.blocked) == {"c1", "c4"}
    reason = plan.blocked["c1"]
    assert "x" in reason
    assert "c2" in reason
    assert "c3" in reason
    assert "waiting on" in plan.blocked["c4"]
    assert "c1" in plan.blocked["c4"]
    assert plan.cell_ids == []


def test_syntax_error_is_blocked_with_the_error() -> None:
    nb = Session("a = 1", "b = (a", "c = a")

    plan = nb.plan("c2")

    assert plan.cell_ids == []
    assert set(plan.blocked) == {"c2"}
    assert "SyntaxError" in plan.blocked["c2"]
    assert nb.run_all().ran == ["c1", "c3"]


def test_a_cell_edited_into_a_syntax_error_keeps_its_readers_waiting_on_it() -> None:
    nb = Session("a = 1", "b = a + 1", "c = b * 2")
    nb.run_all()

    nb.edit("c2", "b = (a")
    plan = nb.plan("c2")

    assert "SyntaxError" in plan.blocked["c2"]
    assert "waiting on cell c2" in plan.blocked["c3"]
    assert nb.core.is_stale("c3")
    nb.edit("c2", "b = a + 10")
    assert nb.run("c2").ran == ["c2", "c3"]
    assert nb.ns["c"] == 22


def test_a_blocked_cell_does_not_block_the_cells_that_do_not_read_it() -> None:
    nb = Session("y = x", "x = 1", "x = 2", "v = x")

    outcome = nb.run_all()

    assert set(outcome.plan.blocked) == {"c1"}
    assert outcome.ran == ["c2", "c3", "c4"]
    assert nb.ns["v"] == 2


# -- queued requests ---------------------------------------------------------------------------


def test_merge_plans_each_cell_once_in_order() -> None:
    nb = Session("a = 1", "b = a", "c = b", "x = 1", "y = x")
    queued = nb.plan("c2")
    assert queued.cell_ids == ["c1", "c2", "c3"]

    merged = nb.core.merge(queued, ["c4", "c1"])

    assert merged.cell_ids == ["c1", "c2", "c3", "c4", "c5"]
    outcome = nb.execute(merged)
    assert outcome.ran == ["c1", "c2", "c3", "c4", "c5"]


def test_merging_a_cell_already_queued_changes_nothing() -> None:
    nb = Session("a = 1", "b = a", "c = b")
    queued = nb.plan("c1")

    merged = nb.core.merge(queued, ["c2"])

    assert merged.cell_ids == queued.cell_ids == ["c1", "c2", "c3"]


def test_merge_drops_queued_cells_deleted_since() -> None:
    nb = Session("a = 1", "b = a", "x = 2")
    queued = nb.plan("c2")
    nb.remove("c2")

    merged = nb.core.merge(queued, ["c3"])

    assert merged.cell_ids == ["c3"]


def test_merge_keeps_the_cleanup_of_the_queued_plan() -> None:
    nb = Session("a = 1", "b = a", "z = 0")
    nb.run_all()
    removal = nb.remove("c1")

    merged = nb.core.merge(removal, ["c3"])

    assert merged.cleanup == frozenset({"a"})
    assert merged.cell_ids == ["c2", "c3"]


# -- plan steps ------------------------------------------------------------------------------


def test_step_after_holds_the_earlier_steps_the_cell_reads_from() -> None:
    nb = Session("a = 1", "b = a * 2", "c = a * 3", "d = b + c")

    plan = nb.plan("c1")

    assert plan.cell_ids == ["c1", "c2", "c3", "c4"]
    assert [step.after for step in plan.steps] == [(), (0,), (0,), (1, 2)]


def test_step_after_omits_a_provider_that_is_not_in_the_plan() -> None:
    nb = Session("a = 1", "b = a * 2", "c = b + a")
    nb.run_all()

    plan = nb.plan("c2")

    assert plan.cell_ids == ["c2", "c3"]
    assert [step.after for step in plan.steps] == [(), (0,)]


def test_step_after_omits_a_cell_that_only_redefines() -> None:
    nb = Session("x = 1", "x = 2")

    plan = nb.plan("c1")

    assert plan.cell_ids == ["c1", "c2"]
    assert plan.steps[1].after == ()


def test_step_after_includes_the_previous_definer_a_redefinition_reads() -> None:
    nb = Session("df = [3, None, 1]", "df = [v for v in df if v is not None]", "n = len(df)")

    plan = nb.plan("c1")

    assert [step.after for step in plan.steps] == [(), (0,), (1,)]


def test_step_after_points_to_a_provider_below_that_runs_first() -> None:
    nb = Session("total = base * 2", "base = 21")

    plan = nb.plan("c2")

    assert plan.cell_ids == ["c2", "c1"]
    assert [step.after for step in plan.steps] == [(), (0,)]


def test_running_an_unknown_cell_raises_key_error() -> None:
    nb = Session("a = 1")

    with pytest.raises(KeyError):
        nb.plan("nope")
    with pytest.raises(KeyError):
        nb.plan("c1", "nope")


def test_merging_an_unknown_cell_raises_key_error() -> None:
    nb = Session("a = 1")
    queued = nb.plan("c1")

    with pytest.raises(KeyError):
        nb.core.merge(queued, ["nope"])


# -- the same import in several cells ----------------------------------------------------------


def test_cells_importing_the_same_module_do_not_overwrite_each_other() -> None:
    nb = Session("import math\nr = 2", "area = math.pi * r**2", "import math", "t = math.tau")
    nb.run_all()

    # Re-running the first import re-runs its readers, not the second import's.
    assert nb.run("c1").ran == ["c1", "c2"]
    # A reader above every import of the module is not ambiguous.
    nb.edit("c2", "area = math.pi * r**2 + 0")
    assert nb.run("c2").ran == ["c2"]
    assert nb.core.graph.interchangeable("math")


def test_importing_something_else_under_the_same_name_is_a_redefinition() -> None:
    nb = Session("import math as m", "x = m.pi", "import cmath as m", "y = m.pi")
    nb.run_all()

    assert not nb.core.graph.interchangeable("m")
    outcome = nb.run("c1")
    assert outcome.ran == ["c1"]  # c2 reads the same math module again: nothing changed
    assert outcome.plan.restore == {"m": "c3"}  # cmath goes back, its reader keeps its value
    assert nb.ns["m"].__name__ == "cmath"


def test_a_cell_edited_while_it_ran_is_not_current_afterwards() -> None:
    nb = Session("a = 1", "b = a + 1")
    plan = nb.plan("c1")
    ran = {step.cell_id: nb.core.snapshot(step.cell_id) for step in plan.steps}
    nb.edit("c1", "a = 5")  # the edit lands while the old code runs
    for step in plan.steps:
        exec(nb.code[step.cell_id] if step.cell_id != "c1" else "a = 1", nb.ns)
        nb.core.record(step.cell_id, ok=True, ran=ran[step.cell_id])

    assert nb.plan("c2").cell_ids == ["c1", "c2"]
    assert nb.run("c2").ran == ["c1", "c2"]
    assert nb.ns["b"] == 6
