"""Executing a plan the way the kernel-side runner does, for the planner's tests.

One shared namespace, ``exec`` per cell; the plan's ``cleanup`` and each step's
``delete_before`` are deleted first; a step whose ``after`` steps failed or were skipped
is skipped; every outcome is recorded in the core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from reactive_notebook.reactive.core import ReactiveCore
from reactive_notebook.reactive.planner import Plan


@dataclass
class ExecutedPlan:
    """What executing one plan did, in the order it happened."""

    plan: Plan
    ran: list[str] = field(default_factory=list)
    errors: dict[str, BaseException] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


_MISSING = object()


def execute_plan(
    core: ReactiveCore,
    plan: Plan,
    code: dict[str, str],
    namespace: dict[str, object],
    *,
    after_success: Callable[[str], None] | None = None,
) -> ExecutedPlan:
    """Run ``plan``; ``after_success(cell_id)`` sees the namespace right after a cell.

    As the runner does: the kept values (``plan.keep``) are taken out at the start and
    put back before the step that says so (or at the end); a step's ``fresh`` names are
    hidden while it runs and put back if it leaves them unbound; a failed step's unbound
    names are the fresh ones it did not bind and the others it left as they were.
    """
    executed = ExecutedPlan(plan)
    for name in plan.cleanup:
        namespace.pop(name, None)
    core.names_deleted(plan.cleanup)
    kept = {name: namespace.get(name, _MISSING) for name in plan.keep}

    def put_back(names: Iterable[str]) -> None:
        for name in names:
            value = kept.pop(name, _MISSING)
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value

    lacking: dict[int, frozenset[str] | None] = {}  # failed (names not bound) or skipped
    for index, step in enumerate(plan.steps):
        put_back(step.restore_before & kept.keys())
        if any(_lacks(lacking.get(parent, frozenset()), names) for parent, names in step.needs):
            lacking[index] = None
            executed.skipped.append(step.cell_id)
            continue
        for name in step.delete_before:
            namespace.pop(name, None)
        core.names_deleted(step.delete_before)
        executed.ran.append(step.cell_id)
        hidden = {n: namespace.pop(n) for n in step.fresh if n in namespace}
        before = {n: namespace.get(n, _MISSING) for n in step.binds - step.fresh}
        try:
            exec(code[step.cell_id], namespace)
        except Exception as error:
            untouched = _left_alone(namespace, step.fresh, hidden, frozenset())
            same = {n for n, v in before.items() if namespace.get(n, _MISSING) is v}
            lacking[index] = untouched | frozenset(same)
            executed.errors[step.cell_id] = error
            core.record(step.cell_id, ok=False, untouched=untouched, unbound=lacking[index])
            continue
        untouched = _left_alone(namespace, step.fresh, hidden, step.deletes)
        if after_success is not None:
            after_success(step.cell_id)
        replay = step.cell_id in plan.replays
        core.record(step.cell_id, ok=True, untouched=untouched, replay=replay)
    put_back(list(kept))
    core.finished(plan)
    return executed


def _left_alone(
    namespace: dict[str, object],
    fresh: frozenset[str],
    hidden: dict[str, object],
    deleted: frozenset[str],
) -> frozenset[str]:
    """The fresh names a cell did not bind (not its ``del``s): their old values go back."""
    untouched = frozenset(n for n in fresh if n not in namespace and n not in deleted)
    for name in untouched:
        if name in hidden:
            namespace[name] = hidden[name]
    return untouched


def _lacks(lacking: frozenset[str] | None, names: frozenset[str]) -> bool:
    """A step that failed or was skipped (None) leaves ``names`` unusable."""
    return lacking is None or bool(names & lacking)
