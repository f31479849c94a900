"""The contents-manager contract: the same expectations for the file store
(AtomicFileContentsManager) and DynamoDB (DynamoDBContentsManager, on a real moto
server). Each test runs once per manager."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import nbformat
import pytest
from nbformat import v4
from tornado.web import HTTPError

from reactive_notebook.contents.dynamodb import DynamoDBContentsManager, keys

from ._async import async_test


def _notebook(source: str = "x = 1") -> Any:
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell(source, id="c1"), v4.new_markdown_cell("# hi", id="m1")]
    return nb


def _plain(nb: Any) -> Any:
    """The notebook without the ``trusted`` marks ``get`` adds to code cells."""
    nb = nbformat.from_dict(copy.deepcopy(nb))
    for cell in nb.cells:
        cell.metadata.pop("trusted", None)
    return nb


async def _names(cm: Any, path: str = "") -> list[str]:
    model = await cm.get(path)
    return sorted(entry["name"] for entry in model["content"])


@async_test
async def test_a_notebook_round_trips_with_last_modified_and_hash(contents_manager: Any) -> None:
    cm = contents_manager
    saved = await cm.save({"type": "notebook", "content": _notebook()}, "a.ipynb")
    assert saved["type"] == "notebook"
    assert saved["content"] is None
    model = await cm.get("a.ipynb", require_hash=True)
    assert _plain(model["content"]) == _notebook()
    assert model["format"] == "json"
    assert model["last_modified"] >= saved["last_modified"]
    assert model["hash_algorithm"] == "sha256"
    assert len(model["hash"]) == 64
    before = model["hash"]
    await cm.save({"type": "notebook", "content": _notebook("x = 2")}, "a.ipynb")
    after = await cm.get("a.ipynb", content=False, require_hash=True)
    assert after["hash"] != before
    assert after["content"] is None
    assert (await cm.get("a.ipynb", require_hash=False))["hash"] is None


@async_test
async def test_text_and_binary_files_round_trip(contents_manager: Any) -> None:
    cm = contents_manager
    await cm.save({"type": "file", "format": "text", "content": "héllo\n"}, "t.txt")
    blob = bytes(range(256)) * 4
    b64 = base64.b64encode(blob).decode()
    await cm.save({"type": "file", "format": "base64", "content": b64}, "b.bin")
    text = await cm.get("t.txt")
    assert (text["content"], text["format"], text["size"]) == ("héllo\n", "text", 7)
    binary = await cm.get("b.bin")
    assert binary["format"] == "base64"
    assert base64.b64decode(binary["content"]) == blob
    hashed = await cm.get("t.txt", content=False, require_hash=True)
    assert hashed["hash"] == hashlib.sha256("héllo\n".encode()).hexdigest()
    as_base64 = await cm.get("t.txt", format="base64")
    assert base64.b64decode(as_base64["content"]) == "héllo\n".encode()
    with pytest.raises(HTTPError) as error:
        await cm.get("b.bin", format="text")
    assert error.value.status_code == 400
    for path, wrong_type in (("t.txt", "notebook"), ("t.txt", "directory")):
        with pytest.raises(HTTPError) as error:
            await cm.get(path, type=wrong_type)
        assert error.value.status_code == 400


@async_test
async def test_a_folder_lists_its_direct_entries_only(contents_manager: Any) -> None:
    cm = contents_manager
    await cm.save({"type": "directory"}, "d")
    await cm.save({"type": "directory"}, "d/sub")
    await cm.save({"type": "notebook", "content": _notebook()}, "d/n.ipynb")
    await cm.save({"type": "file", "format": "text", "content": "x"}, "d/sub/deep.txt")
    await cm.save({"type": "file", "format": "text", "content": "x"}, "top.txt")
    assert await _names(cm) == ["d", "top.txt"]
    assert await _names(cm, "d") == ["n.ipynb", "sub"]
    listing = {e["name"]: e for e in (await cm.get("d"))["content"]}
    assert listing["n.ipynb"]["type"] == "notebook"
    assert listing["sub"]["type"] == "directory"
    assert listing["n.ipynb"]["content"] is None
    assert await cm.dir_exists("d/sub")
    assert not await cm.dir_exists("d/n.ipynb")
    assert await cm.file_exists("d/n.ipynb")
    assert not await cm.file_exists("d/sub")
    assert await cm.is_hidden(".secret/x.txt")
    assert not await cm.is_hidden("d/n.ipynb")


@async_test
async def test_rename_a_file_and_a_folder(contents_manager: Any) -> None:
    cm = contents_manager
    await cm.save({"type": "directory"}, "d")
    await cm.save({"type": "directory"}, "d/sub")
    await cm.save({"type": "notebook", "content": _notebook("y = 1")}, "d/sub/n.ipynb")
    await cm.save({"type": "file", "format": "text", "content": "f"}, "d/f.txt")
    await cm.rename("d/f.txt", "d/g.txt")
    assert (await cm.get("d/g.txt"))["content"] == "f"
    assert not await cm.file_exists("d/f.txt")
    await cm.rename("d", "e")
    assert not await cm.dir_exists("d")
    assert await _names(cm) == ["e"]
    assert await _names(cm, "e") == ["g.txt", "sub"]
    assert _plain((await cm.get("e/sub/n.ipynb"))["content"]) == _notebook("y = 1")
    with pytest.raises(HTTPError) as error:
        await cm.rename("e/g.txt", "e/sub")
    assert error.value.status_code == 409


@async_test
async def test_delete_files_and_empty_folders(contents_manager: Any) -> None:
    cm = contents_manager
    await cm.save({"type": "directory"}, "d")
    await cm.save({"type": "notebook", "content": _notebook()}, "d/n.ipynb")
    await cm.delete("d/n.ipynb")
    assert not await cm.file_exists("d/n.ipynb")
    await cm.delete("d")
    assert not await cm.dir_exists("d")
    assert await _names(cm) == []


@async_test
async def test_a_folder_with_contents_is_kept_unless_always_delete_dir(
    contents_manager: Any,
) -> None:
    cm = contents_manager
    await cm.save({"type": "directory"}, "d")
    await cm.save({"type": "directory"}, "d/sub")
    await cm.save({"type": "notebook", "content": _notebook()}, "d/sub/n.ipynb")
    await cm.create_checkpoint("d/sub/n.ipynb")
    with pytest.raises(HTTPError) as refused:
        await cm.delete("d")
    assert refused.value.status_code == 400
    assert "not empty" in str(refused.value.log_message)
    assert await cm.file_exists("d/sub/n.ipynb")
    cm.always_delete_dir = True
    await cm.delete("d")
    assert not await cm.dir_exists("d")
    assert not await cm.file_exists("d/sub/n.ipynb")
    assert await _names(cm) == []
    if isinstance(cm, DynamoDBContentsManager):  # its checkpoints went with it
        left = await cm.run(cm.table.subtree, "d", keys.CHECKPOINT)
        assert left == []


@async_test
async def test_a_folder_is_copied_with_everything_in_it(contents_manager: Any) -> None:
    cm = contents_manager
    await cm.save({"type": "directory"}, "data")
    await cm.save({"type": "directory"}, "data/raw")
    await cm.save({"type": "notebook", "content": _notebook("q = 1")}, "data/raw/a.ipynb")
    png = base64.b64encode(bytes(range(256))).decode()
    await cm.save({"type": "file", "format": "base64", "content": png}, "data/b.bin")
    copied = await cm.copy("data", "")  # (the file manager needs the folder named)
    assert (copied["name"], copied["type"]) == ("data-Copy1", "directory")
    assert await _names(cm) == ["data", "data-Copy1"]
    assert await _names(cm, "data-Copy1") == ["b.bin", "raw"]
    notebook = await cm.get("data-Copy1/raw/a.ipynb")
    assert _plain(notebook["content"]) == _notebook("q = 1")
    copied_bytes = base64.b64decode((await cm.get("data-Copy1/b.bin"))["content"])
    assert copied_bytes == bytes(range(256))
    await cm.save({"type": "directory"}, "elsewhere")
    into = await cm.copy("data", "elsewhere")
    assert into["path"] == "elsewhere/data"
    assert await _names(cm, "elsewhere/data") == ["b.bin", "raw"]
    assert await _names(cm, "data") == ["b.bin", "raw"]  # the original is untouched


@async_test
async def test_copy_and_new_untitled(contents_manager: Any) -> None:
    cm = contents_manager
    await cm.save({"type": "notebook", "content": _notebook("z = 3")}, "n.ipynb")
    copied = await cm.copy("n.ipynb")
    assert copied["name"] == "n-Copy1.ipynb"
    assert _plain((await cm.get("n-Copy1.ipynb"))["content"]) == _notebook("z = 3")
    first = await cm.new_untitled(type="notebook")
    second = await cm.new_untitled(type="notebook")
    assert (first["name"], second["name"]) == ("Untitled.ipynb", "Untitled1.ipynb")
    folder = await cm.new_untitled(type="directory")
    assert folder["type"] == "directory"
    assert await cm.dir_exists(folder["path"])
    text = await cm.new(path="notes.txt")
    assert text["type"] == "file"
    assert (await cm.get("notes.txt"))["content"] == ""
    assert await _names(cm) == sorted(
        [
            "n.ipynb",
            "n-Copy1.ipynb",
            "Untitled.ipynb",
            "Untitled1.ipynb",
            folder["name"],
            "notes.txt",
        ]
    )


@async_test
async def test_missing_paths_answer_404(contents_manager: Any) -> None:
    cm = contents_manager
    for call in (
        lambda: cm.get("nope.ipynb"),
        lambda: cm.get("no/such/dir"),
        lambda: cm.delete("nope.txt"),
        lambda: cm.rename("nope.txt", "other.txt"),
        lambda: cm.new_untitled(path="missing-dir", type="notebook"),
    ):
        with pytest.raises(HTTPError) as error:
            await call()
        assert error.value.status_code == 404


@async_test
async def test_a_chunked_upload_saves_the_whole_file(contents_manager: Any) -> None:
    cm = contents_manager
    parts = [bytes([200 + i]) * 300_000 for i in range(4)]  # not UTF-8: read as base64
    for number, part in enumerate(parts, start=1):
        chunk = -1 if number == len(parts) else number
        model = {
            "type": "file",
            "format": "base64",
            "chunk": chunk,
            "content": base64.b64encode(part).decode(),
        }
        await cm.save(model, "upload.bin")
    model = await cm.get("upload.bin", require_hash=True)
    assert model["format"] == "base64"
    assert base64.b64decode(model["content"]) == b"".join(parts)
    assert model["size"] == 1_200_000


@async_test
async def test_checkpoints_create_list_restore_delete(contents_manager: Any) -> None:
    cm = contents_manager
    await cm.save({"type": "notebook", "content": _notebook("v = 1")}, "n.ipynb")
    checkpoint = await cm.create_checkpoint("n.ipynb")
    await cm.save({"type": "notebook", "content": _notebook("v = 2")}, "n.ipynb")
    assert [c["id"] for c in await cm.list_checkpoints("n.ipynb")] == [checkpoint["id"]]
    await cm.restore_checkpoint(checkpoint["id"], "n.ipynb")
    assert _plain((await cm.get("n.ipynb"))["content"]) == _notebook("v = 1")
    await cm.rename("n.ipynb", "m.ipynb")
    assert [c["id"] for c in await cm.list_checkpoints("m.ipynb")] == [checkpoint["id"]]
    await cm.delete_checkpoint(checkpoint["id"], "m.ipynb")
    assert await cm.list_checkpoints("m.ipynb") == []


@async_test
async def test_trust_signs_the_saved_notebook(contents_manager: Any) -> None:
    cm = contents_manager
    nb = _notebook()
    nb.cells[0].outputs = [v4.new_output("display_data", {"application/javascript": "alert(1)"})]
    nb.cells[0].metadata.trusted = False  # as the front end sends an untrusted cell
    await cm.save({"type": "notebook", "content": nb}, "t.ipynb")
    assert (await cm.get("t.ipynb"))["content"].cells[0].metadata.trusted is False
    await cm.trust_notebook("t.ipynb")
    assert (await cm.get("t.ipynb"))["content"].cells[0].metadata.trusted is True


@async_test
async def test_a_notebook_uploaded_in_chunks_reads_back_as_a_notebook(
    contents_manager: Any,
) -> None:
    cm = contents_manager
    raw = (json.dumps(_notebook("up = 1")) + "\n").encode()
    half = len(raw) // 2
    for chunk, part in ((1, raw[:half]), (-1, raw[half:])):
        model = {
            "type": "file",
            "format": "base64",
            "chunk": chunk,
            "content": base64.b64encode(part).decode(),
        }
        await cm.save(model, "up.ipynb")
    model = await cm.get("up.ipynb")
    assert model["type"] == "notebook"
    assert _plain(model["content"]) == _notebook("up = 1")
    as_file = await cm.get("up.ipynb", type="file", format="text")
    assert json.loads(as_file["content"]) == json.loads(raw)
    await cm.rename("up.ipynb", "up.json")
    assert (await cm.get("up.json"))["type"] == "file"


@async_test
async def test_renaming_a_folder_keeps_the_checkpoints_of_its_files(contents_manager: Any) -> None:
    cm = contents_manager
    await cm.save({"type": "directory"}, "d")
    await cm.save({"type": "notebook", "content": _notebook("k = 1")}, "d/n.ipynb")
    checkpoint = await cm.create_checkpoint("d/n.ipynb")
    await cm.save({"type": "notebook", "content": _notebook("k = 2")}, "d/n.ipynb")
    await cm.rename("d", "e")
    await cm.restore_checkpoint(checkpoint["id"], "e/n.ipynb")
    assert _plain((await cm.get("e/n.ipynb"))["content"]) == _notebook("k = 1")


@async_test
async def test_an_invalid_notebook_is_saved_and_read_with_a_validation_message(
    contents_manager: Any,
) -> None:
    cm = contents_manager
    nb = _notebook()
    broken = v4.new_code_cell("print('hi')", id="broken")
    broken.pop("source")
    nb.cells.append(broken)
    saved = await cm.save({"type": "notebook", "content": nb}, "invalid.ipynb")
    assert saved["message"].startswith("Notebook validation failed: 'source' is a required")
    read = await cm.get("invalid.ipynb")
    assert read["message"].startswith("Notebook validation failed: 'source' is a required")
    fixed = read["content"]
    fixed.cells.pop()
    assert "message" not in await cm.save({"type": "notebook", "content": fixed}, "invalid.ipynb")
    assert "message" not in await cm.get("invalid.ipynb")
