"""NotebookStore: notebooks by id over a real contents manager, ids stable across renames."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_server.services.contents.filemanager import (
    AsyncFileContentsManager,
    FileContentsManager,
)
from nbformat import v4

from reactive_notebook.contents.atomic import AtomicFileContentsManager
from reactive_notebook.contents.ipynb import REACTIVE_KEY
from reactive_notebook.contents.store import (
    NotebookAlreadyExists,
    NotebookNotFound,
    NotebookStore,
    NotebookUnreadable,
    RevisionConflict,
    file_stem,
)
from reactive_notebook.models import Cell, CellType, Notebook, new_notebook_id

from ._async import async_test

FOLDER = "notebooks"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def store(root: Path) -> NotebookStore:
    cm = AtomicFileContentsManager(root_dir=str(root), delete_to_trash=False)
    return NotebookStore(cm, folder=FOLDER)


def _nb(name: str = "Sales", **fields: Any) -> Notebook:
    # Code cells made in a session are trusted (tests/contents/test_trust.py): so they
    # load back, from the file the contents manager signed.
    cells = [
        Cell(
            id="c1",
            code="x = 1",
            outputs=[{"output_type": "stream", "name": "stdout", "text": "1\n"}],
            trusted=True,
        ),
        Cell(id="q1", type=CellType.SQL, code="select {x}", output="df_1", trusted=True),
        Cell(id="m1", type=CellType.MARKDOWN, code="# notes"),
    ]
    return Notebook(id=fields.pop("id", new_notebook_id()), name=name, cells=cells, **fields)


def _file(root: Path, path: str) -> nbformat.NotebookNode:
    return nbformat.read(root / path, as_version=4)


def _write_stock_notebook(root: Path, path: str, code: str = "y = 2") -> None:
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell(code), v4.new_markdown_cell("stock")]
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / path)


# ------------------------------------------------------------------- basics


@async_test
async def test_a_created_notebook_is_a_file_named_after_it_and_loads_back(
    store: NotebookStore, root: Path
) -> None:
    nb = _nb("Q3 Sales")
    await store.create(nb)
    assert await store.path_of(nb.id) == "notebooks/Q3 Sales.ipynb"
    assert _file(root, "notebooks/Q3 Sales.ipynb").metadata[REACTIVE_KEY]["id"] == nb.id
    assert await store.load(nb.id) == nb


@async_test
async def test_list_returns_id_and_name_of_every_notebook_sorted_by_name(
    store: NotebookStore,
) -> None:
    b, a = _nb("beta"), _nb("Alpha")
    await store.create(b)
    await store.create(a)
    assert await store.list("") == [(a.id, "Alpha"), (b.id, "beta")]


@async_test
async def test_an_empty_or_missing_folder_lists_nothing(store: NotebookStore) -> None:
    assert await store.list("") == []


@async_test
async def test_save_writes_the_new_content(store: NotebookStore) -> None:
    nb = _nb()
    await store.create(nb)
    nb.cells[0].code = "x = 2"
    nb.revision = 1
    await store.save(nb)
    assert await store.load(nb.id) == nb


@async_test
async def test_two_notebooks_with_the_same_name_get_distinct_files(
    store: NotebookStore,
) -> None:
    first, second = _nb("Report"), _nb("Report")
    await store.create(first)
    await store.create(second)
    assert await store.path_of(first.id) == "notebooks/Report.ipynb"
    assert await store.path_of(second.id) == "notebooks/Report-1.ipynb"
    assert {name for _, name in await store.list("")} == {"Report"}


@async_test
async def test_creating_an_id_twice_is_refused(store: NotebookStore) -> None:
    nb = _nb()
    await store.create(nb)
    with pytest.raises(NotebookAlreadyExists):
        await store.create(_nb("Other", id=nb.id))


@async_test
async def test_delete_removes_the_file_and_the_id(store: NotebookStore, root: Path) -> None:
    nb = _nb()
    await store.create(nb)
    await store.delete(nb.id)
    assert not (root / "notebooks/Sales.ipynb").exists()
    assert await store.list("") == []
    with pytest.raises(NotebookNotFound):
        await store.load(nb.id)


@pytest.mark.parametrize("notebook_id", ["0" * 32, "../../etc/passwd", "", "a b"])
@async_test
async def test_an_unknown_id_is_not_found_and_not_found_is_a_key_error(
    store: NotebookStore, notebook_id: str
) -> None:
    with pytest.raises(KeyError):
        await store.load(notebook_id)
    with pytest.raises(NotebookNotFound, match="notebook not found"):
        await store.path_of(notebook_id)
    with pytest.raises(NotebookNotFound):
        await store.delete(notebook_id)
    with pytest.raises(NotebookNotFound):
        await store.save(_nb(id="0" * 31 + "1"))


# ------------------------------------------------------------------- renames


@async_test
async def test_rename_changes_the_display_name_and_the_file_name_but_not_the_id(
    store: NotebookStore, root: Path
) -> None:
    nb = _nb("Draft")
    await store.create(nb)
    await store.rename(nb.id, "Final")
    assert await store.path_of(nb.id) == "notebooks/Final.ipynb"
    assert not (root / "notebooks/Draft.ipynb").exists()
    loaded = await store.load(nb.id)
    assert (loaded.id, loaded.name, loaded.cells) == (nb.id, "Final", nb.cells)
    assert await store.list("") == [(nb.id, "Final")]


@async_test
async def test_rename_to_a_taken_name_picks_a_free_file_name(store: NotebookStore) -> None:
    a, b = _nb("A"), _nb("B")
    await store.create(a)
    await store.create(b)
    await store.rename(b.id, "A")
    assert await store.path_of(a.id) == "notebooks/A.ipynb"
    assert await store.path_of(b.id) == "notebooks/A-1.ipynb"


@async_test
async def test_rename_to_the_same_file_name_keeps_the_file(store: NotebookStore) -> None:
    nb = _nb("Same")
    await store.create(nb)
    await store.rename(nb.id, "Same")
    assert await store.path_of(nb.id) == "notebooks/Same.ipynb"


@pytest.mark.parametrize("name", ["", "   "])
@async_test
async def test_rename_to_an_empty_name_is_refused(store: NotebookStore, name: str) -> None:
    nb = _nb()
    await store.create(nb)
    with pytest.raises(ValueError, match="empty"):
        await store.rename(nb.id, name)


@async_test
async def test_a_notebook_renamed_behind_our_back_is_still_found_by_id(
    store: NotebookStore, root: Path
) -> None:
    nb = _nb("Before")
    await store.create(nb)
    (root / "notebooks/sub").mkdir()
    os.rename(root / "notebooks/Before.ipynb", root / "notebooks/sub/moved.ipynb")
    assert (await store.load(nb.id)).cells == nb.cells
    assert await store.path_of(nb.id) == "notebooks/sub/moved.ipynb"
    nb.cells[0].code = "x = 3"
    await store.save(nb)
    assert _file(root, "notebooks/sub/moved.ipynb").cells[0].source == "x = 3"


@async_test
async def test_a_file_moved_into_a_known_path_is_not_mistaken_for_the_old_notebook(
    store: NotebookStore, root: Path
) -> None:
    old, other = _nb("Old"), _nb("Other")
    await store.create(old)
    await store.create(other)
    await store.path_of(old.id)  # index built
    os.replace(root / "notebooks/Other.ipynb", root / "notebooks/Old.ipynb")
    with pytest.raises(NotebookNotFound):
        await store.load(old.id)
    assert (await store.load(other.id)).name == "Other"


@async_test
async def test_a_copied_notebook_keeps_the_original_id_on_the_original_file(
    store: NotebookStore, root: Path
) -> None:
    nb = _nb("Original")
    await store.create(nb)
    await store.path_of(nb.id)
    (root / "notebooks/Original-Copy1.ipynb").write_bytes(
        (root / "notebooks/Original.ipynb").read_bytes()
    )
    listed = await store.list("")
    assert len(listed) == 2
    assert await store.path_of(nb.id) == "notebooks/Original.ipynb"
    (copy_id,) = [i for i, _ in listed if i != nb.id]
    copy = await store.load(copy_id)
    assert copy.id == copy_id
    await store.save(copy)  # the copy now carries its own id
    assert _file(root, "notebooks/Original-Copy1.ipynb").metadata[REACTIVE_KEY]["id"] == copy_id
    assert await store.path_of(nb.id) == "notebooks/Original.ipynb"


# ------------------------------------------------------------------- foreign files


@async_test
async def test_a_stock_notebook_in_the_folder_is_listed_and_loads(
    store: NotebookStore, root: Path
) -> None:
    _write_stock_notebook(root, "notebooks/analysis.ipynb")
    ((notebook_id, name),) = await store.list("")
    assert name == "analysis"
    nb = await store.load(notebook_id)
    assert [c.type for c in nb.cells] == [CellType.PYTHON, CellType.MARKDOWN]
    assert nb.cells[0].code == "y = 2"


@async_test
async def test_a_stock_notebook_keeps_its_id_across_store_restarts_and_gets_it_on_save(
    store: NotebookStore, root: Path
) -> None:
    _write_stock_notebook(root, "notebooks/analysis.ipynb")
    ((notebook_id, _),) = await store.list("")
    restarted = NotebookStore(store.contents_manager, folder=FOLDER)
    assert [i for i, _ in await restarted.list("")] == [notebook_id]

    nb = await store.load(notebook_id)
    await store.save(nb)
    assert _file(root, "notebooks/analysis.ipynb").metadata[REACTIVE_KEY]["id"] == notebook_id
    os.rename(root / "notebooks/analysis.ipynb", root / "notebooks/renamed.ipynb")
    # The same cells; the code cell now trusted: a file with no rich outputs is signed
    # when saved, as by the stock notebook (tests/contents/test_trust.py).
    assert [(c.type, c.trusted) for c in nb.cells] == [
        (CellType.PYTHON, False),
        (CellType.MARKDOWN, False),
    ]
    assert (await store.load(notebook_id)).cells == [
        replace(c, trusted=c.type is CellType.PYTHON) for c in nb.cells
    ]


@async_test
async def test_saving_keeps_the_tags_and_metadata_other_tools_wrote(
    store: NotebookStore, root: Path
) -> None:
    _write_stock_notebook(root, "notebooks/tagged.ipynb")
    raw = json.loads((root / "notebooks/tagged.ipynb").read_text())
    raw["metadata"]["jupytext"] = {"formats": "ipynb,py"}
    raw["cells"][0]["metadata"]["tags"] = ["parameters"]
    (root / "notebooks/tagged.ipynb").write_text(json.dumps(raw))
    ((notebook_id, _),) = await store.list("")
    nb = await store.load(notebook_id)
    nb.cells[0].code = "y = 3"
    await store.save(nb)
    saved = _file(root, "notebooks/tagged.ipynb")
    assert saved.metadata.jupytext == {"formats": "ipynb,py"}
    assert saved.cells[0].metadata.tags == ["parameters"]
    assert saved.cells[0].source == "y = 3"


@async_test
async def test_an_unreadable_file_is_skipped_in_listings_and_left_untouched(
    store: NotebookStore, root: Path
) -> None:
    (root / "notebooks").mkdir()
    (root / "notebooks/broken.ipynb").write_text("{not json")
    nb = _nb()
    await store.create(nb)
    assert await store.list("") == [(nb.id, "Sales")]
    assert (root / "notebooks/broken.ipynb").read_text() == "{not json"


@async_test
async def test_a_notebook_that_became_unreadable_raises_a_clear_error(
    store: NotebookStore, root: Path
) -> None:
    nb = _nb()
    await store.create(nb)
    (root / "notebooks/Sales.ipynb").write_text("{truncated")
    with pytest.raises(NotebookUnreadable, match=r"Sales\.ipynb"):
        await store.load(nb.id)
    with pytest.raises(NotebookUnreadable):
        await store.save(nb)
    assert (root / "notebooks/Sales.ipynb").read_text() == "{truncated"


@async_test
async def test_notebooks_outside_the_folder_are_not_listed(
    store: NotebookStore, root: Path
) -> None:
    _write_stock_notebook(root, "elsewhere.ipynb")
    assert await store.list("") == []


# ------------------------------------------------------------------- names and paths


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("../evil", "evil"),
        ("../../etc/passwd", "etc-passwd"),
        ("/abs/path", "abs-path"),
        ("..", "Untitled"),
        (".hidden", "hidden"),
        ('a\\b:c*d?e"f<g>h|i', "a-b-c-d-e-f-g-h-i"),
        ("tab\tand\nnewline", "tab-and-newline"),
        ("  spaced   out  ", "spaced out"),
        ("Résumé 📊", "Résumé 📊"),
        ("", "Untitled"),
        ("x" * 500, "x" * 150),
    ],
)
def test_file_names_are_safe_versions_of_display_names(name: str, stem: str) -> None:
    assert file_stem(name) == stem


@pytest.mark.parametrize("name", ["../evil", "../../../../tmp/evil", "/etc/evil", "..\\evil"])
@async_test
async def test_a_hostile_name_stays_inside_the_folder(
    store: NotebookStore, root: Path, name: str
) -> None:
    nb = _nb(name)
    await store.create(nb)
    path = await store.path_of(nb.id)
    assert path.startswith("notebooks/")
    assert "/" not in path.removeprefix("notebooks/")
    assert (root / path).is_file()
    assert (await store.load(nb.id)).name == name  # the display name is kept as given
    await store.rename(nb.id, "../../outside")
    assert (await store.path_of(nb.id)).startswith("notebooks/")


def test_a_folder_outside_the_contents_root_is_refused(root: Path) -> None:
    cm = AtomicFileContentsManager(root_dir=str(root))
    with pytest.raises(ValueError, match="inside the contents root"):
        NotebookStore(cm, folder="../up")


# ------------------------------------------------------------------- concurrency


@async_test
async def test_save_with_the_expected_revision_succeeds(store: NotebookStore) -> None:
    nb = _nb(revision=3)
    await store.create(nb)
    nb.revision = 4
    await store.save(nb, expected_revision=3)
    assert (await store.load(nb.id)).revision == 4


@async_test
async def test_save_with_a_stale_revision_is_a_conflict_and_writes_nothing(
    store: NotebookStore, root: Path
) -> None:
    nb = _nb(revision=3)
    await store.create(nb)
    other_writer = await store.load(nb.id)
    other_writer.revision = 4
    other_writer.cells[0].code = "x = 'theirs'"
    await store.save(other_writer, expected_revision=3)

    nb.revision = 4
    nb.cells[0].code = "x = 'mine'"
    with pytest.raises(RevisionConflict) as conflict:
        await store.save(nb, expected_revision=3)
    assert conflict.value.current_revision == 4
    assert _file(root, "notebooks/Sales.ipynb").cells[0].source == "x = 'theirs'"


@async_test
async def test_a_notebook_with_an_invalid_cell_id_is_refused_before_the_file_is_touched(
    store: NotebookStore, root: Path
) -> None:
    nb = _nb()
    await store.create(nb)
    before = (root / "notebooks/Sales.ipynb").read_bytes()
    nb.cells[0].id = "not valid!"
    with pytest.raises(ValueError, match="cell id"):
        await store.save(nb)
    assert (root / "notebooks/Sales.ipynb").read_bytes() == before


# ------------------------------------------------------------------- layouts and managers


@async_test
async def test_a_per_user_store_keeps_each_owners_notebooks_apart(root: Path) -> None:
    cm = AtomicFileContentsManager(root_dir=str(root))
    store = NotebookStore(cm, folder="users", per_user=True)
    alice, bob = _nb("Mine", owner="alice"), _nb("Mine", owner="../bob")
    await store.create(alice)
    await store.create(bob)
    assert await store.path_of(alice.id) == "users/alice/Mine.ipynb"
    assert await store.path_of(bob.id) == "users/%2E.%2Fbob/Mine.ipynb"
    assert await store.list("alice") == [(alice.id, "Mine")]
    assert await store.list("../bob") == [(bob.id, "Mine")]
    with pytest.raises(ValueError, match="owner"):
        store.user_dir("")


@pytest.mark.parametrize("manager_class", [AsyncFileContentsManager, FileContentsManager])
@async_test
async def test_the_store_works_over_the_stock_contents_managers_sync_or_async(
    root: Path, manager_class: type
) -> None:
    cm = manager_class(root_dir=str(root), delete_to_trash=False)
    store = NotebookStore(cm, folder="")
    nb = _nb("Stock")
    await store.create(nb)
    os.rename(root / "Stock.ipynb", root / "Moved.ipynb")
    await store.rename(nb.id, "Renamed")
    assert await store.list("") == [(nb.id, "Renamed")]
    assert (await store.load(nb.id)).cells == nb.cells
    nb.revision = 1
    await store.save(nb, expected_revision=0)
    await store.delete(nb.id)
    assert await store.list("") == []
