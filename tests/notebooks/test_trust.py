"""Output trust through the service, with real kernels and real files (issue 12, item 1).

Outputs stored in a file are untrusted unless the file's Jupyter signature checks out; a
run on this server makes a cell trusted (its old outputs are cleared as it starts); the
API says so on every cell and on every live output; a save signs the file only when no
untrusted rich output is left in it, so stock Jupyter trusts what the user ran here and
never an attacker's outputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_server.services.contents.filemanager import AsyncFileContentsManager

from .harness import USER, Harness, scenario

SCRIPT_HTML = "<b>stored</b><script>window.pwned = 1</script>"
RUN_HTML = "from IPython.display import HTML\nHTML('<b>ran here</b>')"


@pytest.fixture(autouse=True)
def jupyter_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The notary's secret and signature database in a folder of the test's own."""
    data = tmp_path / "jupyter-data"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data))
    return data


def _stored(data: dict[str, Any]) -> Any:
    return nbformat.from_dict(  # type: ignore[no-untyped-call]
        {"output_type": "display_data", "data": data, "metadata": {}}
    )


async def _open_foreign_file(h: Harness, codes: list[str]) -> list[str]:
    """A file from elsewhere, never signed here, whose code cells hold a stored HTML
    output with a script (and an SVG); opened through the service. Its cells' ids."""
    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    for code in codes:
        cell = nbformat.v4.new_code_cell(code)  # type: ignore[no-untyped-call]
        cell.outputs = [
            _stored({"text/html": SCRIPT_HTML, "text/plain": "<HTML>"}),
            _stored({"image/svg+xml": "<svg onload='steal()'/>", "text/plain": "<SVG>"}),
        ]
        nb.cells.append(cell)
    nbformat.write(nb, h.root / "foreign.ipynb")  # type: ignore[no-untyped-call]
    (found,) = await h.service.notebooks_at(USER, "foreign.ipynb")
    h.notebook_id = found["id"]
    return [cell["id"] for cell in (await h.view())["cells"]]


def _signed(h: Harness, path: Path) -> bool:
    """What the notary (this server's secret) says of the file on disk."""
    node = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return bool(h.store.contents_manager.notary.check_signature(node))


async def _trust(h: Harness) -> list[bool]:
    return [cell["trusted"] for cell in (await h.view())["cells"]]


@scenario
async def test_stored_outputs_are_untrusted_and_shown_as_their_best_safe_type(
    h: Harness,
) -> None:
    first, _ = await _open_foreign_file(h, ["a = 1", "b = 2"])
    assert await _trust(h) == [False, False]
    shown = (await h.cell(first))["outputs"]
    # HTML is kept (a client sanitizes it); the SVG is listed as its text, as JupyterLab
    # shows an untrusted SVG bundle.
    assert [(o["mime_type"], o["data"]) for o in shown] == [
        ("text/html", SCRIPT_HTML),
        ("text/plain", "<SVG>"),
    ]


@scenario
async def test_a_run_makes_a_cell_trusted_and_its_live_outputs_say_so(h: Harness) -> None:
    first, second = await _open_foreign_file(h, [RUN_HTML, "b = 2"])
    seq = h.service.hub.last_seq(h.notebook_id)
    await h.run(first)
    assert await _trust(h) == [True, False]
    ran = await h.cell(first)
    assert [(o["mime_type"], o["data"]) for o in ran["outputs"]] == [
        ("text/html", "<b>ran here</b>")
    ]
    events = h.service.hub.since(h.notebook_id, seq)
    assert events is not None
    outputs = [e.data for e in events if e.type == "cell_output"]
    assert [(o["cell_id"], o["trusted"]) for o in outputs] == [(first, True)]
    # The cell that did not run keeps its stored outputs, untrusted.
    assert (await h.cell(second))["outputs"][0]["data"] == SCRIPT_HTML


@scenario
async def test_a_blocked_cell_keeps_its_stored_outputs_untrusted(h: Harness) -> None:
    failing, blocked = await _open_foreign_file(h, ["x = undefined_name", "y = x"])
    await h.run(failing)
    view = await h.view()
    assert [c["status"] for c in view["cells"]] == ["error", "blocked"]
    assert await _trust(h) == [True, False]  # the failed cell ran; its error is its own
    assert (await h.cell(blocked))["outputs"][0]["data"] == SCRIPT_HTML
    created = await h.add("z = 3")
    assert (await h.cell(created))["trusted"], "a cell made here holds no foreign output"


@scenario
async def test_saving_never_signs_outputs_that_did_not_run_here(h: Harness) -> None:
    first, _ = await _open_foreign_file(h, [RUN_HTML, "b = 2"])
    await h.run(first)
    path = await h.saved()
    assert not _signed(h, path), "the second cell's stored outputs are still in the file"
    await h.restart_service()
    assert await _trust(h) == [False, False], "the file vouches for none of its outputs"


@scenario
async def test_a_notebook_whose_outputs_all_ran_here_is_signed_for_stock_jupyter(
    h: Harness,
) -> None:
    first, second = await _open_foreign_file(h, [RUN_HTML, "b = 2"])
    await h.run(first)
    await h.run(second)
    path = await h.saved()
    assert _signed(h, path)
    # A stock server with the same notary (the same Jupyter data folder) trusts it.
    stock = AsyncFileContentsManager(root_dir=str(h.root))
    model = await stock.get(path.name, content=True)
    assert [cell.metadata["trusted"] for cell in model["content"].cells] == [True, True]
    await h.restart_service()
    assert await _trust(h) == [True, True]

    # Changed on disk behind our back (a stored output swapped for a script): untrusted.
    await h.service.shutdown()
    tampered = json.loads(path.read_text())
    tampered["cells"][1]["outputs"] = [
        {"output_type": "display_data", "data": {"text/html": SCRIPT_HTML}, "metadata": {}}
    ]
    path.write_text(json.dumps(tampered))
    await h.restart_service()
    assert await _trust(h) == [False, False]
