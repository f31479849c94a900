"""Cells are analysed without stalling the event loop, and within bounds (issue 12 item 2).

CPython 3.11 compiles an f-string of 60,000 fields in 2-3 s with the GIL held: analysed on
the event loop, that froze every user of the server. Large cells go to a worker process
(a real one: these tests start it), which is stopped when it takes too long.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from reactive_notebook.notebooks.cell_analysis import AnalysisRequest, CellAnalyser

SLOW_TO_COMPILE = 'f"' + "{a}" * 60_000 + '"\nb = 1'  # 180 kB, ~2.5 s to compile


async def count_loop_turns(work: asyncio.Future[object]) -> int:
    """How many 10 ms sleeps the event loop completed while ``work`` ran."""
    turns = 0
    while not work.done():
        await asyncio.sleep(0.01)
        turns += 1
    return turns


async def test_a_large_slow_cell_is_analysed_while_the_event_loop_keeps_running() -> None:
    analyser = CellAnalyser(timeout=60)
    try:
        work = asyncio.ensure_future(analyser.analyse(AnalysisRequest(SLOW_TO_COMPILE)))
        turns = await count_loop_turns(work)
        analysis = work.result()
    finally:
        await analyser.close()
    assert analysis.error is None
    assert (analysis.reads, analysis.writes) == ({"a"}, {"b"})
    assert turns > 20  # inline, the loop did not turn once until the compile ended


async def test_an_analysis_slower_than_the_timeout_is_stopped_and_the_cell_says_so() -> None:
    analyser = CellAnalyser(timeout=0.5)
    try:
        start = time.perf_counter()
        analysis = await analyser.analyse(AnalysisRequest(SLOW_TO_COMPILE))
        elapsed = time.perf_counter() - start
        # The next large cell gets a fresh worker.
        after = await analyser.analyse(AnalysisRequest("c = d\n" + "#" * 30_000))
    finally:
        await analyser.close()
    assert analysis.error is not None
    assert analysis.error.kind == "limit"
    assert "longer than 0.5 s" in analysis.error.describe()
    assert "ReactiveNotebook.analysis_timeout" in analysis.error.describe()
    assert elapsed < 2
    assert (after.error, after.reads, after.writes) == (None, {"d"}, {"c"})


async def test_a_cell_over_the_size_limit_is_not_analysed() -> None:
    analyser = CellAnalyser(max_bytes=1000)
    analysis = await analyser.analyse(AnalysisRequest("x = 1\n" * 200))
    assert analysis.error is not None
    assert analysis.error.kind == "limit"
    assert "1,200 bytes" in analysis.error.describe()
    assert "ReactiveNotebook.max_cell_bytes" in analysis.error.describe()


@pytest.mark.parametrize(
    ("request_", "reads", "writes"),
    [
        (AnalysisRequest("y = x + 1\n" + "#" * 30_000), {"x"}, {"y"}),
        (
            AnalysisRequest(
                "SELECT * FROM t WHERE v > {low}" + " " * 30_000, sql=True, output="df", duckdb=True
            ),
            {"low", "t"},
            {"df"},
        ),
        (AnalysisRequest("SELECT {low}", sql=True, output="df"), {"low"}, {"df"}),
    ],
    ids=["python-in-worker", "sql-in-worker", "sql-inline"],
)
async def test_the_worker_gives_the_analysis_computed_in_process(
    request_: AnalysisRequest, reads: set[str], writes: set[str]
) -> None:
    analyser = CellAnalyser()
    try:
        analysis = await analyser.analyse(request_)
    finally:
        await analyser.close()
    assert (analysis.error, analysis.reads, analysis.writes) == (None, reads, writes)


async def test_many_small_cells_give_the_event_loop_turns() -> None:
    analyser = CellAnalyser()
    requests = [AnalysisRequest(f"v{i} = v{i - 1} + {i}  # cell {i}") for i in range(20_000)]
    work = asyncio.ensure_future(analyser.analyse_all(requests))
    turns = 0
    while not work.done():
        await asyncio.sleep(0)
        turns += 1
    analyses = work.result()
    assert [a.writes for a in analyses[:2]] == [{"v0"}, {"v1"}]
    assert len(analyses) == 20_000
    assert turns > 5


async def test_a_cell_waiting_behind_others_longer_than_the_timeout_is_told_so() -> None:
    analyser = CellAnalyser(timeout=1.0)
    try:
        slow = [AnalysisRequest(SLOW_TO_COMPILE + f"\nc{i} = 1") for i in range(3)]
        waiting = AnalysisRequest("q = w\n" + "#" * 30_000)
        *_, last = await asyncio.gather(*(analyser.analyse(r) for r in [*slow, waiting]))
    finally:
        await analyser.close()
    assert last.error is not None
    assert "analysing other large cells" in last.error.describe()
