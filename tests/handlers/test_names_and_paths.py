"""Names and paths say what they are (issue 12 item 11): a notebook name with a
right-to-left override became a spoofed file name, and ``?path=`` echoed the request's raw
text instead of the file's path."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api, payload

SPOOFING = [
    pytest.param("invoice\u202egnp.ipynb", id="right-to-left-override"),
    pytest.param("report\u2066x\u2069", id="isolate"),
    pytest.param("a\u200bb", id="zero-width-space"),
    pytest.param("left\u200eright", id="left-to-right-mark"),
]


@pytest.mark.parametrize("name", SPOOFING)
async def test_a_name_with_invisible_formatting_characters_is_refused(
    api: Api, name: str, jp_root_dir: Any
) -> None:
    created = await api("POST", "notebooks", body={"name": name})
    assert created.code == 400
    assert payload(created)["field"] == "name"
    assert "right-to-left" in payload(created)["message"]
    notebook_id = payload(await api("POST", "notebooks", body={"name": "plain"}))["notebook_id"]
    renamed = await api("PUT", "notebooks", notebook_id, "name", body={"name": name})
    assert renamed.code == 400
    assert sorted(p.name for p in jp_root_dir.glob("*.ipynb")) == ["plain.ipynb"]


async def test_the_file_name_never_carries_them_even_from_a_files_metadata(
    api: Api, jp_root_dir: Any
) -> None:
    """A name read from a file (written by anyone) is made safe when the file is named."""
    from reactive_notebook.contents.store import file_stem

    assert file_stem("invoice\u202egnp") == "invoicegnp"
    assert file_stem("\u200b\u200b") == "Untitled"


@pytest.mark.parametrize(
    "asked",
    ["folder//nb.ipynb", "/folder/nb.ipynb/", "folder\\nb.ipynb", "./folder/nb.ipynb"],
)
async def test_a_path_lookup_answers_the_files_path_not_the_request_text(
    api: Api, jp_root_dir: Any, asked: str
) -> None:
    (jp_root_dir / "folder").mkdir()
    created = await api("POST", "notebooks", body={"name": "nb", "folder": "folder"})
    assert payload(created)["path"] == "folder/nb.ipynb"
    found = await api("GET", "notebooks", params={"path": asked})
    notebooks = payload(found)["notebooks"]
    if asked.startswith("./"):
        assert notebooks == []  # "." and ".." parts name nothing
        return
    assert [n["path"] for n in notebooks] == ["folder/nb.ipynb"]
