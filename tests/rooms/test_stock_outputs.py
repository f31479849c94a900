"""Outputs reach the stock notebook as stock JupyterLab would show them (issue 15).

A reactive run writes each output's whole MIME bundle into the live document: a
DataFrame keeps pandas' own ``text/html`` and ``text/plain`` (its display options
respected) with our table as one more type of the bundle, a Styler its own HTML; and the
output cap never drops a figure of ordinary size, while a runaway print is still cut.
Expected values come from pandas in this process (the kernel's environment is this one).
"""

from __future__ import annotations

import base64
from typing import Any

import pandas as pd

from reactive_notebook.kernels.kernel_side.tables import _reactive_TABLE_MIME as TABLE_MIME

from .conftest import Api, make_notebook

FRAME = (
    "import pandas as pd\ndf = pd.DataFrame({'n': range(100), 'sq': [i * i for i in range(100)]})"
)


def frame() -> pd.DataFrame:
    return pd.DataFrame({"n": range(100), "sq": [i * i for i in range(100)]})


def bundles(tab: Any, cell_id: str) -> list[dict[str, Any]]:
    return [o["data"] for o in tab.cell(cell_id)["outputs"] if "data" in o]


async def test_a_dataframe_keeps_pandas_own_reprs_and_our_table_is_one_more_type(
    api: Api, open_tab: Any
) -> None:
    shown = "pd.set_option('display.max_rows', 6)\ndf"
    notebook, path, (_first, second) = await make_notebook(api, FRAME, shown)
    tab = await open_tab(path)
    await api("POST", "notebooks", notebook, "cells", second, "run", body={"wait": True})
    await tab.wait_for(lambda: bundles(tab, second), "the frame's output")

    (bundle,) = bundles(tab, second)
    with pd.option_context("display.max_rows", 6):
        expected_html = frame()._repr_html_()
        expected_text = repr(frame())
    assert bundle["text/html"] == expected_html  # pandas' own, its options respected
    assert bundle["text/plain"] == expected_text
    assert "[100 rows x 2 columns]" in bundle["text/plain"]
    assert bundle["text/html"].count("<tr>") < 12  # 6 rows shown, not 100
    table = bundle[TABLE_MIME]  # the JSON table stays, as one more type
    assert table["columns"] == ["index", "n", "sq"]
    assert table["total_rows"] == 100
    assert table["rows"][3] == [3, 3, 9]


async def test_a_styler_renders_its_own_html(api: Api, open_tab: Any) -> None:
    styled = "df.head(4).style.set_uuid('fixed').highlight_max(color='yellow')"
    notebook, path, (_first, second) = await make_notebook(api, FRAME, styled)
    tab = await open_tab(path)
    await api("POST", "notebooks", notebook, "cells", second, "run", body={"wait": True})
    await tab.wait_for(lambda: bundles(tab, second), "the styler's output")

    (bundle,) = bundles(tab, second)
    expected = frame().head(4).style.set_uuid("fixed").highlight_max(color="yellow")
    assert bundle["text/html"] == expected._repr_html_()
    assert "background-color: yellow" in bundle["text/html"]


#: A figure of ~6 MB as matplotlib draws it at dpi 200 (four panels of noise: a PNG that
#: does not compress), as plt.show() sends it.
FIGURE = """
import matplotlib
matplotlib.use('module://matplotlib_inline.backend_inline')
import matplotlib.pyplot as plt, numpy as np
rng = np.random.default_rng(1)
fig, axes = plt.subplots(2, 2, figsize=(12, 9), dpi=200)
for ax in axes.flat:
    ax.imshow(rng.random((300, 300)))
plt.show()
"""

#: Ten million lines, printed in kernel-sized chunks.
RUNAWAY = "for _ in range(100):\n    print('x\\n' * 100_000, end='')"


async def test_a_large_figure_passes_whole_and_a_runaway_print_is_still_cut(
    api: Api, open_tab: Any
) -> None:
    notebook, path, (figure, runaway) = await make_notebook(api, FIGURE, RUNAWAY)
    tab = await open_tab(path)
    await api("POST", "notebooks", notebook, "run", body={"wait": True})

    await tab.wait_for(lambda: bundles(tab, figure), "the figure")
    (bundle,) = bundles(tab, figure)
    png = base64.b64decode(bundle["image/png"])
    assert 4_000_000 < len(bundle["image/png"]) < 10_000_000  # ~5 MB: larger than the old cap
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png[-12:-4] == b"\x00\x00\x00\x00IEND"  # whole, to its last chunk
    assert "truncated" not in str(bundle)

    described = await api("GET", "notebooks", notebook, "cells", runaway)
    stdout = described["stdout"]
    assert len(stdout) < 2_100_000  # of ~20 MB printed
    assert "[... output cut: a cell keeps at most 2.0 MB of printed text;" in stdout
    assert stdout.endswith("x\n")

    def printed() -> str:
        return "".join(str(o.get("text", "")) for o in tab.cell(runaway)["outputs"])

    await tab.wait_for(lambda: printed() == stdout, "the cut print")
