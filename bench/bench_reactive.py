"""Speed of the reactive core on realistic notebooks (run by ``make bench``).

Notebooks of 100, 1000 and 5000 cells of five lines each, built from groups that look
like analysis work: a loading cell, a chain of transformations, a fan-out of
summaries and plots, and occasional links to earlier groups. For each size it prints:

- full analysis of every cell (cache cleared) against bare ``ast.parse`` of the same code;
- a one-cell edit (new code, re-analysed) plus the re-plan of a run of that cell;
- planning a run of a group's root cell and of a leaf cell, with everything current.

Every ratio is against ``ast.parse`` of the code involved, measured in the same run, so
the figures compare across machines. Nothing here is asserted: see bench/README.md.
"""

from __future__ import annotations

import ast
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable

from reactive_notebook.reactive import analysis
from reactive_notebook.reactive.analysis import analyze_python
from reactive_notebook.reactive.core import ReactiveCore

SIZES = (100, 1000, 5000)
GROUP = 10  # 1 loader, 4 chained steps, 5 fan-out readers


def loader(g: int) -> str:
    return (
        f"import math\n"
        f"raw_{g} = [math.sqrt(i) * 2 for i in range(100)]\n"
        f"scale_{g} = {g % 7 + 1}\n"
        f"total_{g} = sum(raw_{g}) * scale_{g}\n"
        f'label_{g} = f"group {g}: {{total_{g}:.1f}}"\n'
    )


def step(g: int, k: int) -> str:
    previous = f"raw_{g}" if k == 0 else f"step{k - 1}_{g}"
    return (
        f"step{k}_{g} = [v + {k} for v in {previous} if v > 0]\n"
        f"mean{k}_{g} = sum(step{k}_{g}) / max(len(step{k}_{g}), 1)\n"
        f"def helper{k}_{g}(x, scale=scale_{g}):\n"
        f"    return x * scale + mean{k}_{g}\n"
        f"checked{k}_{g} = [helper{k}_{g}(v) for v in step{k}_{g}[:10]]\n"
    )


def reader(g: int, j: int, rng: random.Random) -> str:
    extra = f" + total_{rng.randrange(g)}" if g and rng.random() < 0.3 else ""
    return (
        f"summary{j}_{g} = {{\n"
        f'    "label": label_{g},\n'
        f'    "mean": mean3_{g}{extra},\n'
        f"}}\n"
        f"print(summary{j}_{g}, len(step3_{g}))\n"
    )


def notebook(size: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    cells: list[str] = []
    for g in range(size // GROUP):
        cells.append(loader(g))
        cells.extend(step(g, k) for k in range(4))
        cells.extend(reader(g, j, rng) for j in range(5))
    return cells


def best_of(repeats: int, work: Callable[[], object], number: int = 1) -> float:
    """Seconds per call of ``work``: the fastest of ``repeats`` batches of ``number``
    calls (the batch least disturbed by the machine)."""
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for _ in range(number):
            work()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def parse_time(codes: list[str], repeats: int = 5) -> float:
    def parse_all() -> None:
        for code in codes:
            ast.parse(code)  # each tree is dropped at once, as the analysis drops it

    return best_of(repeats, parse_all)


def build(cells: list[str]) -> tuple[ReactiveCore, list[str]]:
    core = ReactiveCore()
    ids = [f"cell{i}" for i in range(len(cells))]
    for cell_id, code in zip(ids, cells, strict=True):
        core.append(cell_id, analyze_python(code), fingerprint=code)
    for cell_id in core.plan(ids).cell_ids:  # as if the notebook had run once
        core.record(cell_id, ok=True)
    return core, ids


def us(seconds: float) -> str:
    return f"{seconds * 1e6:9.1f} us"


def measure(size: int) -> dict[str, str]:
    cells = notebook(size)
    rows: dict[str, str] = {}

    def full_analysis() -> None:
        analysis._analyze_python_cached.cache_clear()
        for code in cells:
            analyze_python(code)

    # Interleaved rounds, so both sides see the same machine (a VM's speed drifts).
    t_analysis = t_parse = float("inf")
    for _ in range(15):
        t_analysis = min(t_analysis, best_of(1, full_analysis))
        t_parse = min(t_parse, parse_time(cells, repeats=1))
    rows["full analysis"] = f"{us(t_analysis / size)}/cell   {t_analysis / t_parse:5.2f}x ast.parse"

    core, ids = build(cells)
    rng = random.Random(1)

    # One-cell edit: new code, re-analysed, re-linked, re-planned. Half the edits keep
    # the cell's names (a changed constant), half add a read of another group's total
    # (edges change). The plan is then recorded as run, as the engine would.
    edit_times: list[float] = []
    relink_times: list[float] = []
    edit_parse: list[float] = []
    for n in range(200):
        index = rng.randrange(len(ids))
        cell_id = ids[index]
        extra = f"_seen = total_{rng.randrange(index // GROUP + 1)}\n" if n % 2 else ""
        code = cells[index] + extra + f"# edit {n}\n"
        start = time.perf_counter()
        cell_analysis = analyze_python(code)
        analysed = time.perf_counter()
        core.update(cell_id, cell_analysis, fingerprint=code)
        plan = core.plan([cell_id])
        done = time.perf_counter()
        edit_times.append(done - start)
        relink_times.append(done - analysed)
        edit_parse.append(parse_time([code], repeats=3))
        for planned in plan.cell_ids:
            core.record(planned, ok=True)
    median_edit = statistics.median(edit_times)
    rows["edit + re-plan"] = (
        f"{us(median_edit)} median  {median_edit / statistics.median(edit_parse):5.2f}x "
        f"ast.parse of the cell; re-link + re-plan alone {us(statistics.median(relink_times))}"
    )

    group_start = size // 2 - (size // 2) % GROUP  # a group in the middle
    for label, cell_id in (
        ("plan root run", ids[group_start]),
        ("plan leaf run", ids[group_start + GROUP - 1]),
    ):
        plan = core.plan([cell_id])
        t_plan = best_of(7, lambda cell_id=cell_id: core.plan([cell_id]), number=50)
        planned = [cells[int(c[4:])] for c in plan.cell_ids]
        t_parse_planned = parse_time(planned, repeats=20)
        rows[label] = (
            f"{us(t_plan)} for {len(planned):3d} cells  "
            f"{us(t_plan / len(planned))}/cell  {t_plan / t_parse_planned:5.2f}x ast.parse"
        )
    return rows


def main() -> None:
    print(f"reactive core benchmark (Python {sys.version.split()[0]})")
    results = {size: measure(size) for size in SIZES}
    for metric in next(iter(results.values())):
        print(f"\n{metric}")
        for size, rows in results.items():
            print(f"  {size:5d} cells: {rows[metric]}")


if __name__ == "__main__":
    main()
