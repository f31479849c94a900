"""The reactive service's NotebookStore, unchanged, over the DynamoDB contents manager:
create, list, save, load, rename (id kept), delete, and a stock notebook put in the
folder by another client is listed and loads."""

from __future__ import annotations

import pytest
from nbformat import v4

from reactive_notebook.contents.dynamodb import DynamoDBContentsManager
from reactive_notebook.contents.store import NotebookNotFound, NotebookStore
from reactive_notebook.models import Cell, CellType, Notebook, new_notebook_id

from ._async import async_test


def _nb(name: str) -> Notebook:
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
    return Notebook(id=new_notebook_id(), name=name, cells=cells)


@async_test
async def test_the_notebook_store_runs_unchanged_on_dynamodb(
    dynamo_manager: DynamoDBContentsManager,
) -> None:
    store = NotebookStore(dynamo_manager, folder="notebooks")
    assert await store.list("") == []
    draft, other = _nb("Draft"), _nb("Alpha")
    await store.create(draft)
    await store.create(other)
    assert await store.path_of(draft.id) == "notebooks/Draft.ipynb"
    assert await store.load(draft.id) == draft

    draft.cells[0].code = "x = 2"
    draft.revision = 1
    await store.save(draft)
    assert await store.load(draft.id) == draft

    await store.rename(draft.id, "Final")
    assert await store.path_of(draft.id) == "notebooks/Final.ipynb"
    assert not await dynamo_manager.file_exists("notebooks/Draft.ipynb")
    assert (await store.load(draft.id)).cells == draft.cells

    stock = v4.new_notebook(cells=[v4.new_code_cell("y = 2", id="s1")])
    await dynamo_manager.save({"type": "notebook", "content": stock}, "notebooks/stock.ipynb")
    listed = await store.list("")
    assert [name for _, name in listed] == ["Alpha", "Final", "stock"]

    await store.delete(other.id)
    with pytest.raises(NotebookNotFound):
        await store.load(other.id)
    assert [name for _, name in await store.list("")] == ["Final", "stock"]
