"""Compare a notebook's cells in the product with a stock top-to-bottom run (issue 13).

For each corpus notebook, ``evaluate`` does:

1. two stock runs (nbclient, ``allow_errors=True``, real ipykernel); cells whose
   normalised outputs differ between them (random numbers, clocks) are *unstable* and
   are later compared by shape only (``normalise.shape``);
2. the notebook opened in the product (``NotebookService`` over real kernels) and run
   all, compared cell by cell with the first stock run (``compare``);
3. one automatic edit (``edits.pick_edit``) run in the product (the edited cell and what
   the product decides to re-run), compared with a stock run of the edited notebook;
   re-runs are counted: *actual* (cells the product started) and *minimal* (the edited
   cell plus the stable cells whose output differs between the stock runs of the
   original and of the edited notebook).

What agreement means, per code cell (``compare``):

- a cell the product ran (``success`` or ``error``) shows the stock outputs (normalised:
  ``normalise`` says how) and is not ``stale``; after a run-all in which the product ran
  cells in notebook order, its execution count is the stock one too;
- a cell the product did not run (``blocked``, ``idle``) does not show outputs as fresh:
  it has none, or it is ``stale``.

Deliberate differences of the design (design.md section 3), accepted by rule and listed
as such, never by skipping a cell:

- ``unbound-name``: the stock cell met a ``NameError`` (raised, or caught and printed)
  and the product ``blocked`` the cell instead (a reader of a name a failed cell did not
  bind is blocked, saying which cell and name); its old outputs must still be stale.
- ``failed-before-defining``: the product ``blocked`` the cell because a cell it reads a
  name from failed before binding it (directly, or through a blocked cell), where a stock
  run went on with whatever the name held before (an earlier definition): the design
  blocks a reader of a name its definer did not bind rather than let it read an older
  value (design.md section 3, "Running"); its old outputs must still be stale.
- ``syntax-error``: the stock cell raised ``SyntaxError`` (or ``IndentationError``) and
  the product did not run it, reporting the syntax error from its analysis (a syntax
  error is the cell's error, found without running it); old outputs must be stale.
- ``spreadsheet-order``: the stock cell raised ``NameError`` for a name that only a cell
  below it defines, and the product ran the cell after that definer (a name written by
  one cell can be read from anywhere in the notebook).
- ``output-cap``: the stock cell's outputs exceed what the product keeps of a cell's
  displays (``CellOutputs.head_limit`` of ``MAX_OUTPUT_BYTES``, design.md section 4b),
  and the product shows the stock outputs up to its "output truncated" note.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from reactive_notebook.kernels.cell_outputs import CellOutputs
from reactive_notebook.kernels.outputs import output_size

from . import normalise
from .edits import Edit, pick_edit
from .runs import CorpusHarness, Product, Run, code_sources, stock_run, with_code

HERE = Path(__file__).parent
#: The corpus notebooks written for this project (committed).
OWN = HERE / "own"
#: Where the public notebooks listed in sources.json are put (not committed: README.md).
PUBLIC = HERE / "public"
SOURCES = HERE / "sources.json"

RAN = ("success", "error")
#: What the product keeps of one cell's outputs (NotebookService's default).
MAX_OUTPUT_BYTES = 2_000_000


@dataclass(frozen=True)
class Entry:
    """One corpus notebook: ``path`` is None when a public one has not been fetched."""

    name: str
    path: Path | None
    origin: str


def corpus() -> list[Entry]:
    """The project's own notebooks, then the public ones of sources.json (checked against
    their recorded sha256: a changed file is an error, not a silent new yardstick)."""
    entries = [Entry(p.stem, p, "own") for p in sorted(OWN.glob("*.ipynb"))]
    for source in json.loads(SOURCES.read_text()):
        path = PUBLIC / source["file"]
        origin = f"{source['repo']}@{source['commit'][:10]}:{source['path']}"
        if not path.exists():
            entries.append(Entry(Path(source["file"]).stem, None, origin))
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != source["sha256"]:
            raise ValueError(f"{path} is not the file sources.json names (sha256 {digest})")
        entries.append(Entry(path.stem, path, origin))
    return entries


@dataclass
class Difference:
    cell: int  # position among the code cells
    kind: str  # outputs | stale | did-not-run | execution-count
    detail: str


@dataclass
class Accepted:
    cell: int
    rule: str  # unbound-name | failed-before-defining | spreadsheet-order | ...
    detail: str


@dataclass
class Comparison:
    cells: int
    differences: list[Difference] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences

    @property
    def agreeing_cells(self) -> int:
        return self.cells - len({d.cell for d in self.differences})

    def report(self, title: str, sources: list[str]) -> str:
        lines = [f"{title}: {len(self.differences)} difference(s) in {self.cells} code cells"]
        for difference in self.differences:
            code = sources[difference.cell].strip().splitlines()
            first = code[0][:80] if code else ""
            lines.append(f"- code cell {difference.cell} [{difference.kind}] {first!r}")
            lines.extend("    " + line for line in difference.detail.splitlines())
        for accepted in self.accepted:
            lines.append(f"  (accepted, {accepted.rule}: cell {accepted.cell}: {accepted.detail})")
        return "\n".join(lines)


def _readable(value: Any, limit: int = 200) -> Any:
    """Strings split into their lines (so a diff shows the line that differs), each line
    clipped to ``limit`` characters, and long lists of lines clipped too."""
    if isinstance(value, str):
        lines = [
            line if len(line) <= limit else line[:limit] + f"… ({len(line)} chars)"
            for line in value.split("\n")
        ]
        if len(lines) == 1:
            return lines[0]
        return lines if len(lines) <= 60 else [*lines[:60], f"… ({len(lines)} lines)"]
    if isinstance(value, dict):
        return {k: _readable(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_readable(v, limit) for v in value]
    return value


def _diff(stock: Any, product: Any) -> str:
    a = json.dumps(_readable(stock), indent=1, ensure_ascii=False, default=str).splitlines()
    b = json.dumps(_readable(product), indent=1, ensure_ascii=False, default=str).splitlines()
    lines = list(difflib.unified_diff(a, b, "stock", "product", lineterm="", n=1))
    return "\n".join(lines[:40] + (["…"] if len(lines) > 40 else []))


def _summary(outputs: list[dict[str, Any]]) -> str:
    shown = normalise.shape(normalise.outputs(outputs))
    return ", ".join("/".join(part) for part in shown) or "no output"


def _blocked_by_failure(reason: str) -> bool:
    """The product's reason for a cell blocked by a failed cell's unbound name."""
    return "failed before defining" in reason or "blocked because cell" in reason


def _cut_at(outputs: list[dict[str, Any]]) -> int | None:
    """Where the product's "output truncated" note is among a cell's outputs."""
    for index, output in enumerate(outputs):
        marks = output.get("metadata", {}).get("reactive_notebook", {})
        if marks.get("truncated") or marks.get("truncated_bytes"):  # cut, or one too large
            return index
    return None


def compare(
    stock: Run,
    product: Run,
    *,
    ran: set[int],
    unstable: set[int],
    counts: bool,
    fresh: bool = True,
) -> Comparison:
    """Agreement cell by cell (the module docstring says what agrees and what is accepted).

    ``ran``: the cells the product started in the runs compared (a cell whose status says
    it ran, but which did not, shows outputs it did not make: they are judged as a
    not-run cell's). ``fresh``: the product's kernel ran nothing before these runs (false
    after an edit: messages printed once a process are then left out, see normalise)."""
    result = Comparison(len(stock.cells))
    if len(product.cells) != len(stock.cells):
        result.differences.append(
            Difference(
                0, "cells", f"{len(product.cells)} code cells in the product, {len(stock.cells)}"
            )
        )
        return result
    for index, (s, p) in enumerate(zip(stock.cells, product.cells, strict=True)):
        unbound = normalise.name_error(s.outputs)
        met_name_error = "NameError" in json.dumps(normalise.outputs(s.outputs))
        syntax = next(
            (
                o.get("ename")
                for o in s.outputs
                if o.get("ename") in ("SyntaxError", "IndentationError")
            ),
            None,
        )
        if p.status not in RAN or index not in ran:
            if p.outputs and not p.stale:
                result.differences.append(
                    Difference(
                        index,
                        "stale",
                        f"did not run ({p.status}: {p.error}) but shows outputs with stale "
                        f"false: {_summary(p.outputs)}",
                    )
                )
            if met_name_error and p.status == "blocked":
                result.accepted.append(
                    Accepted(index, "unbound-name", f"stock NameError {unbound!r}; {p.error}")
                )
            elif p.status == "blocked" and _blocked_by_failure(str(p.error)):
                result.accepted.append(Accepted(index, "failed-before-defining", str(p.error)))
            elif syntax is not None and "SyntaxError" in str(p.error):
                result.accepted.append(Accepted(index, "syntax-error", f"stock {syntax}"))
            elif s.outputs or s.execution_count is not None:
                result.differences.append(
                    Difference(
                        index,
                        "did-not-run",
                        f"{p.status} ({p.error}); stock ran it: {_summary(s.outputs)}",
                    )
                )
            continue
        if p.stale:
            result.differences.append(Difference(index, "stale", "ran, but is flagged stale"))
        later = [c.writes for c in product.cells[index + 1 :]]
        earlier = [c.writes for c in product.cells[:index]]
        if (
            unbound is not None
            and any(unbound in w for w in later)
            and not any(unbound in w for w in earlier)
        ):
            result.accepted.append(
                Accepted(index, "spreadsheet-order", f"{unbound!r} is defined below; product ran")
            )
            continue
        want = normalise.outputs(s.outputs, counts=counts, once=fresh)
        got = normalise.outputs(p.outputs, counts=counts, once=fresh)
        cut = _cut_at(p.outputs)
        stock_size = sum(output_size(o) for o in s.outputs)
        if cut is not None and stock_size > CellOutputs([], MAX_OUTPUT_BYTES).head_limit:
            kept = normalise.outputs(p.outputs[:cut], counts=counts, once=fresh)
            head = want[: len(kept)]
            if index in unstable:
                kept, head = normalise.shape(kept), normalise.shape(head)
            if kept == head:
                result.accepted.append(
                    Accepted(index, "output-cap", f"{stock_size} bytes in stock")
                )
                continue
        if index in unstable:
            want_shape, got_shape = normalise.shape(want), normalise.shape(got)
            if want_shape != got_shape:
                result.differences.append(
                    Difference(index, "outputs", "(shape)\n" + _diff(want_shape, got_shape))
                )
        elif want != got:
            result.differences.append(Difference(index, "outputs", _diff(want, got)))
        if counts and s.execution_count != p.execution_count:
            result.differences.append(
                Difference(
                    index,
                    "execution-count",
                    f"stock In[{s.execution_count}], product In[{p.execution_count}]",
                )
            )
    return result


@dataclass
class EditResult:
    edit: Edit
    comparison: Comparison
    actual: list[int]  # cells the product started, in order
    minimal: list[int]  # edited cell + stable cells whose stock output changed
    seconds: float


@dataclass
class NotebookResult:
    name: str
    sources: list[str]
    stock_seconds: float
    product_seconds: float
    unstable: list[int]
    run_all: Comparison
    edit: EditResult | None

    def report(self) -> str:
        parts = [f"== {self.name}", self.run_all.report("run all", self.sources)]
        if self.edit is not None:
            parts.append(
                self.edit.comparison.report(f"after edit {self.edit.edit.describe()}", self.sources)
            )
        return "\n".join(parts)


def _changed(a: Run, b: Run, unstable: set[int]) -> set[int]:
    return {
        i
        for i, (x, y) in enumerate(zip(a.cells, b.cells, strict=True))
        if i not in unstable
        and normalise.outputs(x.outputs, counts=False) != normalise.outputs(y.outputs, counts=False)
    }


async def evaluate(path: Path, work: Path, *, edit: bool = True) -> NotebookResult:
    """Stock runs, product run-all and edit-then-run of one notebook (module docstring)."""
    notebook = nbformat.read(path, as_version=4)
    sources = code_sources(notebook)
    first = await stock_run(notebook, work / "stock-1")
    second = await stock_run(notebook, work / "stock-2")
    unstable = _changed(first, second, set())
    product = Product(CorpusHarness(work / "product", work / "product-kernel"))
    try:
        await product.open(path)
        after_all = await product.run_all()
        in_order = after_all.ran == sorted(after_all.ran)
        run_all = compare(
            first, after_all, ran=set(after_all.ran), unstable=unstable, counts=in_order
        )
        chosen = pick_edit(sources) if edit else None
        edited: EditResult | None = None
        if chosen is not None:
            stock_edit = await stock_run(
                with_code(notebook, chosen.cell, chosen.after), work / "stock-edit"
            )
            after_edit = await product.edit_and_run(chosen.cell, chosen.after)
            edited = EditResult(
                chosen,
                compare(
                    stock_edit,
                    after_edit,
                    ran=set(after_all.ran) | set(after_edit.ran),
                    unstable=unstable,
                    counts=False,
                    fresh=False,
                ),
                after_edit.ran,
                sorted(_changed(first, stock_edit, unstable) | {chosen.cell}),
                after_edit.seconds,
            )
    finally:
        await product.close()
    return NotebookResult(
        path.stem,
        sources,
        first.seconds,
        after_all.seconds,
        sorted(unstable),
        run_all,
        edited,
    )


def table(results: list[NotebookResult]) -> str:
    """The figures for the lead's note: agreement after run-all and after an edit, and
    re-runs per edit (actual vs minimal)."""
    rows = [
        "| notebook | code cells | run-all: cells agree | accepted | edit | after edit: cells "
        "agree | re-runs actual | re-runs minimal | stock s | product s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        accepted = len(r.run_all.accepted)
        if r.edit is None:
            edit_cols = "none | | | "
        else:
            c = r.edit.comparison
            edit_cols = (
                f"{r.edit.edit.describe()} | {c.agreeing_cells}/{c.cells} | "
                f"{len(r.edit.actual)} | {len(r.edit.minimal)}"
            )
        rows.append(
            f"| {r.name} | {r.run_all.cells} | {r.run_all.agreeing_cells}/{r.run_all.cells} | "
            f"{accepted} | {edit_cols} | {r.stock_seconds:.1f} | {r.product_seconds:.1f} |"
        )
    edits = [r.edit for r in results if r.edit is not None]
    rows.append("")
    rows.append(
        f"run-all: {sum(r.run_all.agrees for r in results)} of {len(results)} notebooks agree "
        f"in every cell ({sum(r.run_all.agreeing_cells for r in results)} of "
        f"{sum(r.run_all.cells for r in results)} cells)"
    )
    rows.append(
        f"after an edit: {sum(e.comparison.agrees for e in edits)} of {len(edits)} agree in "
        f"every cell; re-runs: {sum(len(e.actual) for e in edits)} actual vs "
        f"{sum(len(e.minimal) for e in edits)} minimal"
    )
    return "\n".join(rows)


def save(results: list[NotebookResult], folder: Path) -> None:
    """summary.md (the table and every difference) and summary.json in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    text = table(results) + "\n\n" + "\n\n".join(r.report() for r in results) + "\n"
    (folder / "summary.md").write_text(text)
    data = [
        {k: v for k, v in asdict(r).items() if k != "sources"}
        | {"run_all_agrees": r.run_all.agrees}
        for r in results
    ]
    (folder / "summary.json").write_text(json.dumps(data, indent=1, default=str) + "\n")
