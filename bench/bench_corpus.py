"""Run-all time of the notebook corpus (tests/corpus) in the product, against nbclient.

For each corpus notebook present (the committed ones, and the public ones once
``python -m tests.corpus.materialise`` has put them in place), timed from the call to
the end of the last cell, a fresh kernel each time (its start is included on both sides):

- **stock**: nbclient's top-to-bottom run (``allow_errors=True``), one
  ``execute_request`` per cell, as "Restart Kernel and Run All" does;
- **product**: the notebook opened in ``NotebookService`` and run all (planning, the
  whole plan in one request, every output applied to the cells and published).

Rounds alternate the two sides to cancel the machine's drift; the median of each is
reported, with the ratio product / stock. Nothing here is asserted: see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests/

from tests.corpus.compare import corpus
from tests.corpus.runs import CorpusHarness, Product, stock_run


async def product_run_all(path: Path, work: Path) -> float:
    product = Product(CorpusHarness(work / "product", work / "kernel"))
    try:
        await product.open(path)
        return (await product.run_all()).seconds
    finally:
        await product.close()


async def main(rounds: int) -> None:
    entries = [e for e in corpus() if e.path is not None]
    missing = [e.name for e in corpus() if e.path is None]
    print(f"run all of the notebook corpus, product vs nbclient (Python {sys.version.split()[0]})")
    if missing:
        print(f"not fetched (python -m tests.corpus.materialise): {', '.join(missing)}")
    print()
    totals = {"stock": 0.0, "product": 0.0}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for entry in entries:
            assert entry.path is not None
            notebook = nbformat.read(entry.path, as_version=4)
            times: dict[str, list[float]] = {"stock": [], "product": []}
            for round_ in range(rounds):
                here = work / f"{entry.name}-{round_}"
                times["stock"].append((await stock_run(notebook, here / "stock")).seconds)
                times["product"].append(await product_run_all(entry.path, here))
            stock = statistics.median(times["stock"])
            product = statistics.median(times["product"])
            totals["stock"] += stock
            totals["product"] += product
            cells = sum(1 for c in notebook.cells if c.cell_type == "code")
            print(
                f"{entry.name:36s} {cells:4d} code cells   stock {stock:6.2f} s   "
                f"product {product:6.2f} s   {product / stock:5.2f}x"
            )
    stock, product = totals["stock"], totals["product"]
    print(
        f"\n{'whole corpus':36s} {len(entries):4d} notebooks    stock {stock:6.2f} s   "
        f"product {product:6.2f} s   {product / stock:5.2f}x  (medians of {rounds} rounds)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
