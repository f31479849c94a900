"""What the welcome notebook holds: a short tour of reactivity on a small data set.

Two parameters (``n`` days, a random ``seed``), one cell that simulates three coffee
shops' daily sales from them (a pandas DataFrame), and three charts of it (matplotlib,
Plotly, Altair). Changing a parameter and running its cell re-runs the table and the
charts: that is the point of the tour. The whole notebook runs in about 2 s in a fresh
kernel, most of it importing pandas, Plotly and Altair (see the tests for the figure).

Each cell writes names of its own (``fig``/``ax``, ``weekly``...): two cells writing the
same name would be chained by the graph, which is right but not what a tour should show.
"""

from __future__ import annotations

from ..models import Cell, CellType, new_cell_id

#: The notebook's display name and file name (``ReactiveNotebook.welcome_notebook_name``).
DEFAULT_NAME = "Welcome to reactive notebooks"

INTRO = """\
# Welcome to reactive notebooks

This notebook is **reactive**: each cell knows which variables it reads and which it
writes, so when you run a cell, every cell that depends on it runs again, in order.
No stale outputs, no "did I run that cell?".

Start with **Run All** (or run any cell: what it needs runs first). Then scroll to the
parameters and change one."""

PARAMETERS_NOTE = """\
## Parameters

Change `n` or `seed` and run this cell: the table and the three charts below read them,
so they re-run on their own."""

PARAMETERS = """\
n = 200  # days to simulate
seed = 1  # change me, then run this cell"""

DATA_NOTE = """\
## A dependent: the data

This cell reads `n` and `seed`, so it re-runs whenever they change. It simulates the
cups of coffee three shops sell each day (a weekly rhythm plus noise)."""

DATA = """\
import numpy as np
import pandas as pd

rng = np.random.default_rng(seed)
days = pd.date_range("2026-01-05", periods=n, freq="D")
rhythm = 1 + 0.35 * np.sin(2 * np.pi * np.arange(n) / 7)  # busy mid-week, quiet weekends
shops = {"Harbour": 120, "Station": 180, "Campus": 90}
sales = pd.DataFrame(
    [
        {"day": day, "shop": shop, "cups": cups}
        for shop, usual in shops.items()
        for day, cups in zip(days, rng.poisson(usual * rhythm), strict=True)
    ]
)
sales.groupby("shop")["cups"].describe().round(1)"""

CHARTS_NOTE = """\
## Three charts of the same data

Each reads `sales`: change a parameter above and all three redraw."""

MATPLOTLIB = """\
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 3))
for shop, rows in sales.groupby("shop"):
    ax.plot(rows["day"], rows["cups"].rolling(7, min_periods=1).mean(), label=shop)
ax.set(title=f"Cups per day, 7-day average (seed {seed})", ylabel="cups")
ax.legend()
plt.show()"""

PLOTLY = """\
import plotly.express as px

weekly = sales.groupby([pd.Grouper(key="day", freq="W"), "shop"], as_index=False)["cups"].sum()
px.bar(weekly, x="day", y="cups", color="shop", title="Cups per week (hover me)")"""

ALTAIR = """\
import altair as alt

alt.Chart(sales, title="How many cups a day, by shop").mark_boxplot().encode(
    x=alt.X("shop:N", title=None), y="cups:Q", color="shop:N"
)"""

OUTRO = """\
## Your turn

- Set `seed = 2` above and run that cell: new data, new table, new charts.
- Set `n = 30`: a month instead of six and a half.
- Add a cell below that reads `sales` (say `sales["cups"].sum()`): it runs again whenever
  the data does.

This is an ordinary `.ipynb` file: rename it, move it, delete it. It is made once, on
your first visit, and will not come back."""

#: (type, source) of each cell, in order.
CELLS: tuple[tuple[CellType, str], ...] = (
    (CellType.MARKDOWN, INTRO),
    (CellType.MARKDOWN, PARAMETERS_NOTE),
    (CellType.PYTHON, PARAMETERS),
    (CellType.MARKDOWN, DATA_NOTE),
    (CellType.PYTHON, DATA),
    (CellType.MARKDOWN, CHARTS_NOTE),
    (CellType.PYTHON, MATPLOTLIB),
    (CellType.PYTHON, PLOTLY),
    (CellType.PYTHON, ALTAIR),
    (CellType.MARKDOWN, OUTRO),
)


def welcome_cells() -> list[Cell]:
    """Fresh cells of the welcome notebook (new ids each time). Trusted: they hold no
    outputs, and any they get come from runs on this server."""
    return [Cell(id=new_cell_id(), type=kind, code=code, trusted=True) for kind, code in CELLS]
