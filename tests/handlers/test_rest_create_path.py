"""``POST /notebooks`` answers the new file's ``path`` relative to the contents root, the
path JupyterLab's contents API and ``docmanager:open`` take, wherever the store keeps
notebooks: the root, a ``notebooks_dir`` sub-folder, or a per-user folder in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api
from .contract import conforms, notebook_file
from .test_auth import USER_HEADER, with_users

LAYOUTS = {
    "root": {},
    "notebooks_dir": {"notebooks_dir": "team/reactive"},
    "per_user": {"notebooks_dir": "home", "per_user": True},
}


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(LAYOUTS[request.param])


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
    config = with_users(jp_server_config, per_user=bool(layout.get("per_user")))
    folder = layout.get("notebooks_dir", "")
    return {**config, "ReactiveNotebook": {**config["ReactiveNotebook"], "notebooks_dir": folder}}


async def test_the_new_notebooks_path_is_its_file_relative_to_the_contents_root(
    api: Api, jp_fetch: Any, jp_root_dir: Path, layout: dict[str, Any]
) -> None:
    headers = {USER_HEADER: "ada lovelace"}
    response = await api("POST", "notebooks", body={"name": "Q3 report"}, headers=headers)
    assert response.code == 201
    created = conforms(response)
    path = created["path"]
    on_disk = notebook_file(jp_root_dir, created["notebook_id"])
    assert path == on_disk.relative_to(jp_root_dir).as_posix()
    assert path.endswith("Q3 report.ipynb")
    if layout.get("per_user"):
        assert path == "home/ada%20lovelace/Q3 report.ipynb"
    elif layout.get("notebooks_dir"):
        assert path == "team/reactive/Q3 report.ipynb"
    else:
        assert path == "Q3 report.ipynb"
    # The contents API opens it under that path, and it is the notebook just made.
    opened = await jp_fetch("api", "contents", *path.split("/"), headers=headers)
    model = json.loads(opened.body)
    assert model["type"] == "notebook"
    assert model["content"]["metadata"]["reactive_notebook"]["id"] == created["notebook_id"]


async def test_a_second_notebook_of_the_same_name_gets_its_own_path(api: Api) -> None:
    headers = {USER_HEADER: "grace"}
    first = conforms(await api("POST", "notebooks", body={"name": "Twin"}, headers=headers))
    second = conforms(await api("POST", "notebooks", body={"name": "Twin"}, headers=headers))
    assert first["path"] != second["path"]
    assert second["path"].endswith("Twin-1.ipynb")


def home_of(layout: dict[str, Any], quoted_user: str) -> str:
    """Where the layout keeps the user's notebooks, relative to the contents root."""
    if layout.get("per_user"):
        return f"home/{quoted_user}"
    return str(layout.get("notebooks_dir", ""))


async def test_a_notebook_can_be_created_in_a_folder_of_the_users_notebooks(
    api: Api, jp_root_dir: Path, layout: dict[str, Any]
) -> None:
    headers = {USER_HEADER: "ada lovelace"}
    folder = "/".join(p for p in (home_of(layout, "ada%20lovelace"), "q3", "drafts") if p)
    (jp_root_dir / folder).mkdir(parents=True)
    body = {"name": "Churn", "folder": folder + "/"}  # as a file browser may spell it
    created = conforms(await api("POST", "notebooks", body=body, headers=headers))
    assert created["path"] == f"{folder}/Churn.ipynb"
    assert notebook_file(jp_root_dir, created["notebook_id"]) == jp_root_dir / created["path"]
    # The store finds it again: in the user's list and by its path.
    listed = conforms(await api("GET", "notebooks", headers=headers))
    assert {"id": created["notebook_id"], "name": "Churn"} in listed["notebooks"]
    found = conforms(
        await api("GET", "notebooks", params={"path": created["path"]}, headers=headers)
    )
    assert [n["id"] for n in found["notebooks"]] == [created["notebook_id"]]


async def test_a_folder_the_notebook_cannot_go_in_is_refused_and_nothing_is_written(
    api: Api, jp_root_dir: Path, layout: dict[str, Any]
) -> None:
    headers = {USER_HEADER: "ada lovelace"}
    home = home_of(layout, "ada%20lovelace")
    inside = "/".join(p for p in (home, "x") if p)
    for hidden in (".secret", "node_modules"):
        (jp_root_dir / inside / hidden).mkdir(parents=True)
    (jp_root_dir / "elsewhere").mkdir()
    before = sorted(p for p in jp_root_dir.rglob("*") if p.is_file())
    refused = {
        f"{inside}/missing": "there is no folder",
        f"{inside}/../../..": "inside the contents root",
        f"{inside}/.secret": "not looked for in '.secret'",
        f"{inside}/node_modules": "not looked for in 'node_modules'",
        "/".join([inside, *["d"] * 9]): "at most 8 deep",
    }
    if home:  # with the notebooks under a folder, others are not the user's
        refused["elsewhere"] = "not a folder of yours"
    for folder, message in refused.items():
        body = {"name": "Nope", "folder": folder}
        response = await api("POST", "notebooks", body=body, headers=headers)
        assert response.code == 400, (folder, response.body)
        error = conforms(response)
        assert error["field"] == "folder"
        assert message in error["message"], (folder, error["message"])
    assert sorted(p for p in jp_root_dir.rglob("*") if p.is_file()) == before
