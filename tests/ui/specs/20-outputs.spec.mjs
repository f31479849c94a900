// Issue 15: outputs of reactive runs look as stock JupyterLab shows them, because they are
// the stock notebook's outputs: a DataFrame in pandas' own HTML (its display options
// respected; our JSON table is an extra MIME type for API clients, never shown here), a
// matplotlib figure, Vega-Lite (Altair) and Plotly through their JupyterLab renderers, a
// 10,000-line print in the stock output area (scrollable, not 170,000 px tall), streamed
// while the cell runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { withPage } from '../session.mjs';
import { cell, makeNotebook, openNotebook, waitForMark } from '../notebook.mjs';

const TIMEOUT = 60_000;

test('DataFrames, figures and charts render as in stock JupyterLab', async (t) => {
  const nb = await makeNotebook('Outputs as stock', [
    "import pandas as pd\npd.set_option('display.max_rows', 6)\nframe = pd.DataFrame({'n': range(40), 'sq': [i * i for i in range(40)]})",
    'frame',
    'import matplotlib\nmatplotlib.use("module://matplotlib_inline.backend_inline")\nimport matplotlib.pyplot as plt\nplt.plot(frame.n, frame.sq)\nplt.show()',
    // JupyterLab's own Vega-Lite 5 renderer, with a spec as Altair 5 sends (Altair 6's
    // Vega-Lite 6, which JupyterLab 4.6 cannot render, is ours: 24-vega6-charts).
    "from IPython.display import display\nspec = {'$schema': 'https://vega.github.io/schema/vega-lite/v5.json', 'data': {'values': [{'n': int(n), 'sq': int(s)} for n, s in zip(frame.n, frame.sq)]}, 'mark': 'line', 'encoding': {'x': {'field': 'n', 'type': 'quantitative'}, 'y': {'field': 'sq', 'type': 'quantitative'}}}\ndisplay({'application/vnd.vegalite.v5+json': spec}, raw=True)",
    "import plotly.express as px\npx.scatter(frame, x='n', y='sq')",
  ]);
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);
    await cell(panel, 0).locator('.cm-content').click();
    await page.page.keyboard.press('Shift+Enter');
    await waitForMark(panel, 4, 'ok', TIMEOUT);

    // pandas' own HTML, cut to its display.max_rows.
    const table = cell(panel, 1).locator('.jp-RenderedHTMLCommon table.dataframe');
    await table.waitFor({ timeout: TIMEOUT });
    const rows = await table.locator('tbody tr').count();
    assert.ok(rows <= 7, `pandas' display.max_rows (6) is respected: ${rows} rows shown`);
    assert.match(await cell(panel, 1).locator('.jp-OutputArea').innerText(), /40 rows × 2 columns/);
    await page.screenshot('a dataframe in pandas own html');
    // Cells below the fold are drawn when scrolled to (the notebook's windowing).
    const shown = async (index, selector) => {
      await cell(panel, index).scrollIntoViewIfNeeded();
      await cell(panel, index).locator(selector).first().waitFor({ timeout: TIMEOUT });
    };
    await shown(2, '.jp-RenderedImage img');
    await shown(3, '.vega-embed');
    await page.screenshot('a matplotlib figure and a vega-lite chart');
    await shown(4, '.js-plotly-plot');
    await page.screenshot('a plotly chart');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('a 10,000-line print streams into the stock output area, which scrolls', async (t) => {
  const nb = await makeNotebook('Long print', [
    'import time\nfor i in range(3):\n    print("tick", i, flush=True)\n    time.sleep(1)',
    'for i in range(10_000):\n    print("line", i)',
  ]);
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);
    await cell(panel, 0).locator('.cm-content').click();
    await page.page.keyboard.press('Shift+Enter');
    // Streamed: the first tick shows while the cell still runs.
    await cell(panel, 0).locator('.jp-OutputArea-output', { hasText: 'tick 0' }).waitFor({ timeout: TIMEOUT });
    assert.doesNotMatch(await cell(panel, 0).locator('.jp-OutputArea').innerText(), /tick 2/);
    await waitForMark(panel, 0, 'running');
    await page.screenshot('the first tick streamed while the cell runs');
    await waitForMark(panel, 0, 'ok', TIMEOUT);

    await cell(panel, 1).locator('.cm-content').click();
    await page.page.keyboard.press('Control+Enter');
    await waitForMark(panel, 1, 'ok', TIMEOUT);
    const output = cell(panel, 1).locator('.jp-OutputArea-output').last();
    await output.waitFor({ timeout: TIMEOUT });
    await page.page.waitForFunction((node) => node.textContent.includes('line 9999'), await output.elementHandle(), {
      timeout: TIMEOUT,
    });
    // Right-click > Enable Scrolling for Outputs, as in stock: the area becomes bounded.
    await cell(panel, 1).locator('.jp-OutputArea').click({ button: 'right' });
    await page.page.locator('.lm-Menu-item', { hasText: /Enable Scrolling for Outputs/ }).click();
    await cell(panel, 1).and(page.page.locator('.jp-mod-outputsScrolled')).waitFor({ timeout: 5000 });
    const height = await cell(panel, 1)
      .locator('.jp-Cell-outputWrapper')
      .evaluate((node) => node.getBoundingClientRect().height);
    assert.ok(height < 1000, `the scrolled output area is ${height} px tall`);
    await page.screenshot('a 10000 line print in a scrolled output area');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});
