"""Output trust through the store, decided by Jupyter's own mechanism (issue 12, item 1).

The contents manager checks a notebook's signature when it reads the file and marks every
code cell ``metadata.trusted``; on save it signs the file only when every code cell with
rich outputs is marked trusted. The store reads ``Cell.trusted`` from those marks and
writes it back as them, so: a signed file loads trusted, an unsigned or altered one
untrusted (whatever it claims), and a save signs exactly what the stock notebook would.
Each test runs against jupyter_server's file managers (sync and async) and ours.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_server.services.contents.filemanager import (
    AsyncFileContentsManager,
    FileContentsManager,
)
from jupyter_server.utils import ensure_async

from reactive_notebook.contents.atomic import AtomicFileContentsManager
from reactive_notebook.contents.store import NotebookStore
from reactive_notebook.models import Cell, Notebook, new_notebook_id

from ._async import async_test

HTML = {
    "output_type": "display_data",
    "data": {"text/html": "<script>window.pwned = 1</script>", "text/plain": "<HTML>"},
    "metadata": {},
}
PRINTED = {"output_type": "stream", "name": "stdout", "text": "only printed\n"}

MANAGERS: dict[str, Callable[..., Any]] = {
    "atomic": AtomicFileContentsManager,
    "async-file": AsyncFileContentsManager,
    "file": FileContentsManager,
}


@pytest.fixture(autouse=True)
def jupyter_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The notary's secret and signature database in a folder of the test's own."""
    data = tmp_path / "jupyter-data"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data))
    return data


@pytest.fixture(params=sorted(MANAGERS))
def manager(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    root = tmp_path / "root"
    root.mkdir()
    return MANAGERS[request.param](root_dir=str(root))


@pytest.fixture
def store(manager: Any) -> NotebookStore:
    return NotebookStore(manager)


def _root(manager: Any) -> Path:
    return Path(manager.root_dir)


def _write_foreign_file(manager: Any, name: str, *, claims_trust: bool = False) -> None:
    """A notebook written by someone else (downloaded, cloned), never signed here. With
    ``claims_trust`` its cells say ``"trusted": true`` themselves."""
    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    for code in ("a = 1", "b = 2"):
        cell = nbformat.v4.new_code_cell(code)  # type: ignore[no-untyped-call]
        cell.outputs = [nbformat.from_dict(HTML)]  # type: ignore[no-untyped-call]
        if claims_trust:
            cell.metadata["trusted"] = True
        nb.cells.append(cell)
    nbformat.write(nb, _root(manager) / name)  # type: ignore[no-untyped-call]


async def _id_of(store: NotebookStore, path: str) -> str:
    found = await store.notebook_at(path)
    assert found is not None, path
    return found[0]


def _notebook(*cells: tuple[list[dict[str, Any]], bool]) -> Notebook:
    return Notebook(
        id=new_notebook_id(),
        name="Trust",
        cells=[
            Cell(id=f"c{i}", code=f"x{i} = {i}", outputs=outputs, trusted=trusted)
            for i, (outputs, trusted) in enumerate(cells)
        ],
    )


def _signed(manager: Any, path: str) -> bool:
    """What the notary says of the file on disk, as a stock server would on opening it."""
    node = nbformat.read(_root(manager) / path, as_version=4)  # type: ignore[no-untyped-call]
    return bool(manager.notary.check_signature(node))


def _trusted(store: NotebookStore, notebook: Notebook) -> list[bool]:
    return [cell.trusted for cell in notebook.cells]


@async_test
async def test_outputs_of_a_file_never_signed_here_load_untrusted(store: NotebookStore) -> None:
    _write_foreign_file(store.contents_manager, "downloaded.ipynb")
    loaded = await store.load(await _id_of(store, "downloaded.ipynb"))
    assert _trusted(store, loaded) == [False, False]
    assert loaded.cells[0].outputs[0]["data"]["text/html"] == HTML["data"]["text/html"]


@async_test
async def test_a_file_cannot_vouch_for_itself(store: NotebookStore) -> None:
    """``"trusted": true`` written in the file is replaced by the signature check."""
    _write_foreign_file(store.contents_manager, "claims.ipynb", claims_trust=True)
    loaded = await store.load(await _id_of(store, "claims.ipynb"))
    assert _trusted(store, loaded) == [False, False]


@async_test
async def test_a_file_trusted_with_jupyters_own_trust_loads_trusted(store: NotebookStore) -> None:
    """``jupyter trust`` (the contents manager's ``trust_notebook``) signs the file."""
    manager = store.contents_manager
    _write_foreign_file(manager, "vetted.ipynb")
    await ensure_async(manager.trust_notebook("vetted.ipynb"))
    loaded = await store.load(await _id_of(store, "vetted.ipynb"))
    assert _trusted(store, loaded) == [True, True]


@async_test
async def test_saving_signs_a_notebook_whose_output_cells_are_all_trusted(
    store: NotebookStore,
) -> None:
    manager = store.contents_manager
    notebook = _notebook(([HTML], True), ([PRINTED], False), ([], False))
    await store.create(notebook)
    path = store.known_path(notebook.id)
    assert path is not None
    # Printed text cannot run script: as for the stock notebook, it does not need trust.
    assert _signed(manager, path)
    on_disk = json.loads((_root(manager) / path).read_text())
    assert all("trusted" not in cell["metadata"] for cell in on_disk["cells"]), (
        "the marks are for the contents manager, which pops them"
    )
    # A stock server (any contents manager with this notary) trusts the file too.
    model = await ensure_async(manager.get(path, content=True))
    assert [cell.metadata["trusted"] for cell in model["content"].cells] == [True, True, True]
    loaded = await store.load(notebook.id)
    assert _trusted(store, loaded) == [True, True, True]


@async_test
async def test_one_untrusted_rich_output_leaves_the_whole_file_unsigned(
    store: NotebookStore,
) -> None:
    """Never sign an attacker's outputs: the signature covers the whole file, so a file
    holding one untrusted rich output is unsigned and all its cells load untrusted."""
    manager = store.contents_manager
    notebook = _notebook(([HTML], True), ([HTML], False))
    await store.create(notebook)
    path = store.known_path(notebook.id)
    assert path is not None
    assert not _signed(manager, path)
    loaded = await store.load(notebook.id)
    assert _trusted(store, loaded) == [False, False]
    # Saving it again (an edit elsewhere) does not sign it either.
    await store.save(loaded)
    assert not _signed(manager, path)


@async_test
async def test_a_signed_file_changed_on_disk_loads_untrusted(store: NotebookStore) -> None:
    manager = store.contents_manager
    notebook = _notebook(([HTML], True))
    await store.create(notebook)
    path = store.known_path(notebook.id)
    assert path is not None
    assert _signed(manager, path)
    file = _root(manager) / path
    tampered = json.loads(file.read_text())
    tampered["cells"][0]["outputs"][0]["data"]["text/html"] = ["<img src=x onerror=steal()>"]
    file.write_text(json.dumps(tampered))
    loaded = await store.load(notebook.id)
    assert _trusted(store, loaded) == [False]
    assert loaded.cells[0].outputs[0]["data"]["text/html"] == "<img src=x onerror=steal()>"


@async_test
async def test_a_rename_keeps_the_files_trust(store: NotebookStore) -> None:
    """Renaming rewrites the file as the contents manager read it: a signed file stays
    signed, an unsigned one stays unsigned."""
    manager = store.contents_manager
    signed, unsigned = _notebook(([HTML], True)), _notebook(([HTML], False))
    for notebook in (signed, unsigned):
        await store.create(notebook)
        await store.rename(notebook.id, f"Renamed {notebook.cells[0].trusted}")
    assert _trusted(store, await store.load(signed.id)) == [True]
    assert _trusted(store, await store.load(unsigned.id)) == [False]
    assert _signed(manager, "Renamed True.ipynb")
    assert not _signed(manager, "Renamed False.ipynb")
