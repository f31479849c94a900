// Outputs in the Reactive Notebook widget, through JupyterLab's own renderers: stdout
// streamed while the cell runs, Vega-Lite (Altair), Plotly (its JupyterLab renderer is
// installed with plotly), JSON, HTML made by a run (trusted, as in the stock notebook: its
// script runs; stored outputs of an unsigned file are sanitized, 11-output-trust), a
// DataFrame with its index, and a traceback.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { withPage } from '../session.mjs';
import { makeNotebook, openReactive, waitFor } from '../widget.mjs';

/** Outputs may take a kernel start, an import of pandas or plotly: more time. */
const TIMEOUT = 60_000;

/** One notebook with these cells, opened in the widget; its cells' locator. */
async function openNotebook(page, name, codes) {
  const { file } = await makeNotebook(name, codes);
  return (await openReactive(page, file, codes.length)).cells;
}

async function run(cell) {
  await cell.locator('[data-action="run"]').click();
}

test('outputs: stdout shows while the cell is still running', async (t) => {
  await withPage(t, async (page) => {
    const code = 'import time\nfor i in range(3):\n    print("tick", i, flush=True)\n    time.sleep(1.5)';
    const [cell] = [(await openNotebook(page, 'Outputs stream', [code])).nth(0)];
    await run(cell);
    await cell.locator('.jp-ReactiveCell-stream', { hasText: 'tick 0' }).waitFor({ timeout: TIMEOUT });
    assert.equal(await cell.getAttribute('data-status'), 'running', 'the first line arrived before the end');
    assert.doesNotMatch(await cell.locator('.jp-ReactiveCell-outputs').innerText(), /tick 2/);
    await page.screenshot('first line while running');
    await cell.locator('.jp-ReactiveCell-stream', { hasText: 'tick 2' }).waitFor({ timeout: TIMEOUT });
    await waitFor(async () => (await cell.getAttribute('data-status')) === 'success', 'the end of the run', TIMEOUT);
    assert.equal((await cell.locator('.jp-ReactiveCell-stream').innerText()).trim(), 'tick 0\ntick 1\ntick 2');
  });
});

test('outputs: rich outputs render through JupyterLab; a run’s HTML is trusted', async (t) => {
  await withPage(t, async (page) => {
    const cells = await openNotebook(page, 'Outputs rich', [
      "import altair as alt, pandas as pd\nalt.Chart(pd.DataFrame({'x': [1, 2, 3], 'y': [3, 1, 2]})).mark_bar().encode(x='x:O', y='y')",
      "import plotly.express as px\npx.bar(x=['a', 'b'], y=[3, 4])",
      "from IPython.display import JSON\nJSON({'fruits': ['apple', 'pear'], 'count': 2})",
      'from IPython.display import HTML\nHTML(\'<b class="kept">bold</b><script>window.__scriptRan = 1</script><img src="x" onerror="window.__handlerRan = 1">\')',
      "import pandas as pd\npd.DataFrame({'price': [1.5, 2.5]}, index=['apple', 'pear'])",
      "def fail():\n    raise ValueError('no such fruit')\nfail()",
    ]);
    for (let i = 0; i < 6; i++) await run(cells.nth(i));
    const [vega, plotly, json, html, frame, failing] = [0, 1, 2, 3, 4, 5].map((i) => cells.nth(i));
    await vega
      .locator('.jp-ReactiveCell-outputs .vega-embed svg, .jp-ReactiveCell-outputs .vega-embed canvas')
      .first()
      .waitFor({ timeout: TIMEOUT });
    await plotly.locator('.jp-ReactiveCell-outputs .js-plotly-plot').waitFor({ timeout: TIMEOUT });
    await json
      .locator('.jp-ReactiveCell-outputs .jp-RenderedJSON', { hasText: 'fruits' })
      .waitFor({ timeout: TIMEOUT });
    await html.locator('.jp-ReactiveCell-outputs b.kept', { hasText: 'bold' }).waitFor({ timeout: TIMEOUT });
    // The run made it here, so it is trusted: its script and event handlers run, as the
    // stock notebook runs them in the HTML of a cell it executed.
    await waitFor(
      () => page.page.evaluate(() => window.__scriptRan === 1 && window.__handlerRan === 1),
      'the script and the onerror handler of the run’s HTML',
      TIMEOUT,
    );
    await frame.locator('.jp-ReactiveTable').waitFor({ timeout: TIMEOUT });
    assert.deepEqual(
      await frame.locator('.jp-ReactiveTable tbody th').allInnerTexts(),
      ['apple', 'pear'],
      'the index as row headers',
    );
    assert.equal(await frame.locator('.jp-ReactiveTable-note').innerText(), '2 rows × 1 column');
    await failing
      .locator('.jp-ReactiveCell-traceback', { hasText: 'ValueError: no such fruit' })
      .waitFor({ timeout: TIMEOUT });
    assert.match(
      await failing.locator('.jp-ReactiveCell-traceback').innerText(),
      /fail\(\)/,
      'the traceback names the call',
    );
    await vega.scrollIntoViewIfNeeded();
    await page.screenshot('vega-lite, plotly and json');
    await frame.scrollIntoViewIfNeeded();
    await page.screenshot('trusted html, a dataframe and a traceback');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});
