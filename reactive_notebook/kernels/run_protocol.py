"""What a run says to the kernel-side runner and what it hears back: the plan request,
and the iopub messages of the run turned into events (see ``kernel_side/runner.py``).

Every iopub message a run causes carries a parent ``msg_id`` of ``reactive:<run>:<cell>``,
so outputs are attributed to their cell as they arrive; statuses come in batched
``reactive_status`` messages parented to the plan's request. Each cell takes the kernel's
next execution count, as if the user had run it; every event of the cell carries it
(``execution_count``: the runner puts it in the cell's parent header and status entries).
Nothing here talks to a kernel: :class:`.session.KernelSession` sends and reads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import NbOutput
from .outputs import nb_output_from_message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunStep:
    """One cell of a plan as the kernel runs it.

    ``history``: what the kernel's history records as the cell's input (``In[N]``) when
    ``code`` is generated: a SQL cell's SQL, never the call carrying its connection.
    """

    cell_id: str
    code: str
    delete: frozenset[str] = frozenset()
    #: (earlier step, the names read from it): skipped if that step lacks one of them
    needs: tuple[tuple[int, frozenset[str]], ...] = ()
    binds: frozenset[str] = frozenset()
    fresh: frozenset[str] = frozenset()
    deletes: frozenset[str] = frozenset()
    restore: frozenset[str] = frozenset()
    #: modules the cell imports with ``*``: the runner reports the names they bound
    stars: tuple[str, ...] = ()
    #: what IPython's history records for generated code (a SQL cell's SQL)
    history: str | None = None


@dataclass(frozen=True, slots=True)
class CellStatusEvent:
    """``status``: running, success, error, interrupted, blocked or cancelled."""

    cell_id: str
    status: str
    ename: str | None = None
    evalue: str | None = None
    duration: float | None = None
    #: names the cell left alone (their last writer does not change)
    untouched: frozenset[str] = frozenset()
    #: names a failed cell did not bind (the cells reading them were skipped)
    unbound: frozenset[str] = frozenset()
    execution_count: int | None = None  # the kernel's prompt number for the cell
    #: the names the cell's star imports bound (``from m import *``)
    star_names: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CellOutputEvent:
    """An nbformat output of a cell, as it happened (streams arrive in chunks)."""

    cell_id: str
    output: NbOutput
    execution_count: int | None = None


@dataclass(frozen=True, slots=True)
class CellClearEvent:
    """The cell called ``clear_output``: drop its outputs now, or (``wait``) just
    before its next output arrives, as Jupyter does (progress displays rely on it)."""

    cell_id: str
    wait: bool = False
    execution_count: int | None = None


RunEvent = CellStatusEvent | CellOutputEvent | CellClearEvent
EventSink = Callable[[RunEvent], Awaitable[None] | None]


@dataclass
class RunResult:
    """How a run ended: the final status of every cell that reported one."""

    statuses: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    runner_error: str | None = None


def plan_code(
    run_id: str, steps: Sequence[RunStep], cleanup: frozenset[str], keep: frozenset[str]
) -> str:
    """The code of the one ``execute_request`` that runs a whole plan."""
    plan = {
        "run_id": run_id,
        "cleanup": sorted(cleanup),
        "keep": sorted(keep),
        "steps": [step_message(step) for step in steps],
    }
    return f"await get_ipython().reactive_runner.run({json.dumps(plan)!r})"


def step_message(step: RunStep) -> dict[str, Any]:
    """A step as the runner reads it (empty fields left out: most cells have none)."""
    message: dict[str, Any] = {
        "cell_id": step.cell_id,
        "code": step.code,
        "needs": [[index, sorted(names)] for index, names in step.needs],
    }
    for key, names in (
        ("delete", step.delete),
        ("binds", step.binds),
        ("fresh", step.fresh),
        ("deletes", step.deletes),
        ("restore", step.restore),
    ):
        if names:
            message[key] = sorted(names)
    if step.stars:
        message["stars"] = list(step.stars)
    if step.history is not None:
        message["history"] = step.history
    return message


async def collect_run(
    messages: AsyncIterator[dict[str, Any]], request_id: str, run_id: str, on_event: EventSink
) -> RunResult:
    """Turn the run's iopub ``messages`` (until the kernel is idle) into events."""
    prefix = f"reactive:{run_id}:"
    result = RunResult()
    async for message in messages:
        parent = message["parent_header"]
        parent_id = parent.get("msg_id", "")
        msg_type = message["msg_type"]
        content = message["content"]
        if parent_id.startswith(prefix) and msg_type == "clear_output":
            clear = CellClearEvent(
                parent_id[len(prefix) :],
                bool(content.get("wait")),
                execution_count=parent.get("execution_count"),
            )
            await deliver(on_event, clear)
        elif parent_id.startswith(prefix):
            output = nb_output_from_message(msg_type, content)
            if output is not None:
                shown = CellOutputEvent(
                    parent_id[len(prefix) :],
                    output,
                    execution_count=parent.get("execution_count"),
                )
                await deliver(on_event, shown)
        elif parent_id == request_id and msg_type == "reactive_status":
            for entry in content.get("statuses", ()):
                event = _status_event(entry)
                result.statuses[event.cell_id] = event.status
                result.interrupted |= event.status == "interrupted"
                await deliver(on_event, event)
        elif parent_id == request_id and msg_type == "error":
            if content.get("ename") == "KeyboardInterrupt":
                result.interrupted = True  # between two cells
            else:  # a bug of ours, not of the user's code: say so
                result.runner_error = f"{content.get('ename')}: {content.get('evalue')}"
                log.error("the reactive runner failed: %s", result.runner_error)
    return result


def _status_event(entry: dict[str, Any]) -> CellStatusEvent:
    return CellStatusEvent(
        cell_id=entry["cell_id"],
        status=entry["status"],
        ename=entry.get("ename"),
        evalue=entry.get("evalue"),
        duration=entry.get("duration"),
        untouched=frozenset(entry.get("untouched", ())),
        unbound=frozenset(entry.get("unbound", ())),
        execution_count=entry.get("execution_count"),
        star_names=frozenset(entry.get("star_names", ())),
    )


async def deliver(sink: EventSink, event: RunEvent) -> None:
    result = sink(event)
    if result is not None:
        await result
