"""Executing a plan the way the kernel-side runner does, for the planner's tests.

One shared namespace, ``exec`` per cell; the plan's ``cleanup`` and each step's
``delete_before`` are deleted first; a step whose ``after`` steps failed or were skipped
is skipped; every outcome is recorded in the core.
"""

from __future__ import annotations

from collections.abc import Callable
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


def execute_plan(
    core: ReactiveCore,
    plan: Plan,
    code: dict[str, str],
    namespace: dict[str, object],
    *,
    after_success: Callable[[str], None] | None = None,
) -> ExecutedPlan:
    """Run ``plan``; ``after_success(cell_id)`` sees the namespace right after a cell."""
    executed = ExecutedPlan(plan)
    for name in plan.cleanup:
        namespace.pop(name, None)
    core.names_deleted(plan.cleanup)
    dead: set[int] = set()
    for index, step in enumerate(plan.steps):
        if any(parent in dead for parent in step.after):
            dead.add(index)
            executed.skipped.append(step.cell_id)
            continue
        for name in step.delete_before:
            namespace.pop(name, None)
        core.names_deleted(step.delete_before)
        executed.ran.append(step.cell_id)
        try:
            exec(code[step.cell_id], namespace)
        except Exception as error:
            dead.add(index)
            executed.errors[step.cell_id] = error
            core.record(step.cell_id, ok=False)
            continue
        if after_success is not None:
            after_success(step.cell_id)
        core.record(step.cell_id, ok=True)
    return executed
