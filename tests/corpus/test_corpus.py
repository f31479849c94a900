"""Real notebooks give in the product what a stock top-to-bottom run gives (issue 13).

For every corpus notebook (tests/corpus/README.md): a run-all, then one automatic edit
and a run of the edited cell, each compared cell by cell with nbclient's run of the same
notebook (``compare`` says what agreement means and which design differences are
accepted, by rule). Each notebook is evaluated once per session; the two tests read the
same result. The table of figures (agreement, re-runs per edit: actual vs minimal) is
printed at the end of the session (``pytest -s``) and written to
test-artifacts/corpus/summary.md with every difference.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from .compare import Entry, NotebookResult, corpus, evaluate, save, table

ENTRIES = corpus()
#: Known differences after an edit, each with why (strict: the test says when one is gone).
KNOWN_AFTER_EDIT = {
    "ipython-plotting": (
        "process-wide state a later cell set: its `%matplotlib notebook` switched the "
        "kernel's matplotlib backend, so the re-run earlier plot cell draws with nbagg "
        "instead of inline; the product does not undo side effects of other cells"
    ),
}
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "corpus"


class Results:
    """Each notebook evaluated once, on first use, in a folder of the session's."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.done: dict[str, NotebookResult] = {}

    def of(self, entry: Entry) -> NotebookResult:
        if entry.path is None:
            pytest.skip(f"{entry.origin} not fetched (tests/corpus/README.md says how)")
        if entry.name not in self.done:
            work = self.folder / entry.name
            self.done[entry.name] = asyncio.run(evaluate(entry.path, work))
        return self.done[entry.name]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Results]:
    found = Results(tmp_path_factory.mktemp("corpus"))
    yield found
    if found.done:
        ordered = [found.done[e.name] for e in ENTRIES if e.name in found.done]
        save(ordered, ARTIFACTS)
        print(f"\n\ncorpus figures (every difference in {ARTIFACTS / 'summary.md'}):\n")
        print(table(ordered))


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_run_all_shows_what_a_stock_run_shows(entry: Entry, results: Results) -> None:
    result = results.of(entry)
    assert result.run_all.agrees, result.run_all.report("run all", result.sources)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_an_edit_shows_what_a_stock_run_of_the_edited_notebook_shows(
    entry: Entry, results: Results
) -> None:
    result = results.of(entry)
    if result.edit is None:
        pytest.skip(
            "no automatic edit applies (tests/corpus/edits.py: no plain-Python cell "
            "defines, with a number, a name a later cell reads)"
        )
    comparison = result.edit.comparison
    title = f"after edit {result.edit.edit.describe()}"
    if entry.name in KNOWN_AFTER_EDIT:
        assert not comparison.agrees, f"{entry.name} agrees now: drop it from KNOWN_AFTER_EDIT"
        pytest.xfail(KNOWN_AFTER_EDIT[entry.name])
    assert comparison.agrees, comparison.report(title, result.sources)


def test_the_corpus_is_there() -> None:
    """The committed notebooks are found, and the public list names its sources fully."""
    own = [e for e in ENTRIES if e.origin == "own"]
    assert len(own) >= 2
    public = [e for e in ENTRIES if e.origin != "own"]
    assert len(public) >= 8
    assert all("@" in e.origin and ":" in e.origin for e in public)
