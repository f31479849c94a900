// Altair 6 charts (Vega-Lite 6) render offline. JupyterLab 4.6 renders Vega-Lite up to v5
// only, so stock JupyterLab shows Altair's HTML fallback, which loads vega from
// cdn.jsdelivr.net ("Error loading script" offline). Our labextension renders Vega-Lite 6
// itself (labextension/src/vega6.ts), loading vega only when a chart is shown; an
// untrusted chart renders too, but may load no data from anywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';
import { cell, makeNotebook, openNotebook, sleep, switchTheme, waitForMark } from '../notebook.mjs';

const TIMEOUT = 60_000;

/** The page is offline: every request that is not to the lab's own host fails. */
async function offline(page) {
  const host = new URL(session.baseUrl).host;
  await page.page.route(
    (url) => url.host !== host,
    (route) => route.abort('internetdisconnected'),
  );
}

/** Our labextension's JavaScript files the page has loaded so far (name -> bytes). */
async function ourScripts(page) {
  return page.page.evaluate(() =>
    Object.fromEntries(
      performance
        .getEntriesByType('resource')
        .filter((entry) => /\/extensions\/reactive-notebook\/static\/[^/?]+\.js/.test(entry.name))
        .map((entry) => [new URL(entry.name).pathname.split('/').pop(), entry.decodedBodySize]),
    ),
  );
}

const VEGA_VIEW = '.rn-RenderedVega6 .vega-embed :is(canvas, svg.marks)';

/** Waits until the chart's background (its red, vega-embed draws SVG) is dark or light. */
async function waitForBackground(chart, dark) {
  const red = () =>
    chart.evaluate((view) => {
      if (view instanceof HTMLCanvasElement) {
        const pixel = view.getContext('2d').getImageData(1, 1, 1, 1).data;
        return pixel[3] === 0 ? 255 : pixel[0]; // transparent: the light page shows
      }
      const [r, , , a] = getComputedStyle(view)
        .backgroundColor.match(/[\d.]+/g)
        .map(Number);
      return a === 0 ? 255 : r;
    });
  const deadline = Date.now() + TIMEOUT;
  let seen = await red();
  while ((dark ? seen > 100 : seen < 200) && Date.now() < deadline) {
    await sleep(100);
    seen = await red();
  }
  assert.ok(dark ? seen <= 100 : seen >= 200, `the chart's background (red ${seen}) is ${dark ? 'dark' : 'light'}`);
}

test('an Altair 6 chart renders offline with vega, loaded only for the chart, with export actions', async (t) => {
  const nb = await makeNotebook('Altair 6 offline', [
    "import altair as alt\nassert alt.SCHEMA_VERSION.startswith('v6'), alt.SCHEMA_VERSION\ndata = alt.Data(values=[{'x': 'a', 'y': 3}, {'x': 'b', 'y': 1}, {'x': 'c', 'y': 2}])",
    "alt.Chart(data).mark_bar().encode(x='x:N', y='y:Q')",
    // A file next to the notebook: a trusted chart reads it from the server.
    "alt.Chart(alt.UrlData('points.json')).mark_point().encode(x='x:Q', y='y:Q')",
  ]);
  const folder = nb.path.includes('/') ? nb.path.slice(0, nb.path.lastIndexOf('/') + 1) : '';
  await session.api('PUT', `api/contents/${folder}points.json`, {
    type: 'file',
    format: 'text',
    content: '[{"x": 1, "y": 1}, {"x": 2, "y": 4}]',
  });
  await withPage(t, async (page) => {
    await offline(page);
    const fileLoads = [];
    page.page.on('response', (response) => {
      if (/\/files\/.*points\.json/.test(response.url())) fileLoads.push(response.status());
    });
    const panel = await openNotebook(page, nb.path);
    assert.equal(await page.page.evaluate(() => document.body.dataset.jpThemeLight), 'true', 'the light theme');
    const atStart = await ourScripts(page);
    assert.ok(Object.keys(atStart).length > 0, 'our labextension loaded');

    await cell(panel, 0).locator('.cm-content').click();
    await page.page.keyboard.press('Shift+Enter');
    await waitForMark(panel, 2, 'ok', TIMEOUT);
    const chart = cell(panel, 1).locator(VEGA_VIEW);
    await chart.first().waitFor({ timeout: TIMEOUT });
    const box = await chart.first().boundingBox();
    assert.ok(box && box.width > 50 && box.height > 50, `the chart is drawn: ${JSON.stringify(box)}`);
    // Vega drew it: not Altair's HTML (an iframe or a script that failed).
    const output = cell(panel, 1).locator('.jp-OutputArea');
    assert.equal(await output.locator('iframe, .jp-RenderedHTMLCommon, script').count(), 0);
    assert.doesNotMatch(await output.innerText(), /Error loading script/);
    await page.screenshot('an altair 6 chart drawn by vega offline');

    // vega came in chunks of its own, with the chart, not at JupyterLab's start.
    const loaded = await ourScripts(page);
    const added = Object.keys(loaded).filter((name) => !(name in atStart));
    const bytes = (names, sizes) => names.reduce((sum, name) => sum + sizes[name], 0);
    t.diagnostic(
      `our scripts at start: ${bytes(Object.keys(atStart), atStart)} B in ${Object.keys(atStart).length} files; ` +
        `with the chart: +${bytes(added, loaded)} B in ${added.length} files`,
    );
    assert.ok(bytes(added, loaded) > 400_000, `vega's chunks loaded with the chart: ${added.join(', ')}`);
    assert.ok(bytes(Object.keys(atStart), atStart) < 200_000, 'vega was not loaded at start');

    // The actions menu: export and source, no "Open in Vega Editor" (an external site).
    await cell(panel, 1).locator('.vega-embed details > summary').click();
    const actions = cell(panel, 1).locator('.vega-embed .vega-actions a');
    await actions.first().waitFor({ timeout: 5000 });
    const labels = await actions.allInnerTexts();
    assert.ok(labels.some((label) => /SVG/.test(label)) && labels.some((label) => /PNG/.test(label)), labels.join());
    assert.ok(!labels.some((label) => /Editor/i.test(label)), labels.join());
    await page.screenshot('the chart actions menu');
    await cell(panel, 1).locator('.vega-embed details > summary').click();

    // The chart follows JupyterLab's theme, without a re-run.
    const view = () => cell(panel, 1).locator(VEGA_VIEW).first();
    await waitForBackground(view(), false);
    await switchTheme(page, 'JupyterLab Dark', TIMEOUT);
    try {
      await waitForBackground(view(), true);
      await page.screenshot('the chart in the dark theme');
    } finally {
      await switchTheme(page, 'JupyterLab Light', TIMEOUT);
    }
    await waitForBackground(view(), false);

    // The trusted chart of a file read it through the server (and drew its points).
    await cell(panel, 2).locator(VEGA_VIEW).first().waitFor({ timeout: TIMEOUT });
    const deadline = Date.now() + TIMEOUT;
    while (fileLoads.length === 0 && Date.now() < deadline) await sleep(100);
    // (read again by each redraw for the theme)
    assert.ok(fileLoads.length > 0 && fileLoads.every((status) => status === 200), `points.json: ${fileLoads}`);

    assert.deepEqual(page.foreignRequests, [], 'no request left the machine');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('an untrusted Vega-Lite 6 output renders, but loads no data from anywhere', async (t) => {
  // Stored outputs, as in a notebook from elsewhere: not signed, so untrusted.
  const spec = (data) => ({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.4.1.json',
    data,
    mark: 'point',
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
  });
  const chartOutput = (data) => ({
    output_type: 'display_data',
    metadata: {},
    data: {
      'text/html': '<div>Altair HTML</div><script src="https://cdn.jsdelivr.net/npm/vega@6"></script>',
      'text/plain': 'alt.Chart(...)',
      'application/vnd.vegalite.v6+json': data === null ? spec({ values: [{ x: 1, y: 2 }] }) : spec(data),
    },
  });
  const path = 'untrusted-vega6.ipynb';
  const cells = [null, { url: 'https://example.org/cars.json' }, { url: 'secrets.json' }].map((data, i) => ({
    cell_type: 'code',
    id: `chart-${i}`,
    metadata: {},
    source: 'chart',
    outputs: [chartOutput(data)],
    execution_count: null,
  }));
  // A Vega 6 spec (what Altair's vega format compiles to), drawn in vega mode.
  const square = {
    type: 'rect',
    encode: { enter: { width: { value: 40 }, height: { value: 40 }, fill: { value: 'steelblue' } } },
  };
  cells.push({
    ...cells[0],
    id: 'vega-3',
    outputs: [
      {
        output_type: 'display_data',
        metadata: {},
        data: {
          'text/plain': 'a square',
          'application/vnd.vega.v6+json': {
            $schema: 'https://vega.github.io/schema/vega/v6.json',
            width: 50,
            height: 50,
            marks: [square],
          },
        },
      },
    ],
  });
  await session.api('PUT', 'api/contents/secrets.json', {
    type: 'file',
    format: 'text',
    content: '[{"x": 1, "y": 1}]',
  });
  await session.api('PUT', `api/contents/${path}`, {
    type: 'notebook',
    format: 'json',
    content: {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' } },
      cells,
    },
  });
  await withPage(t, async (page) => {
    await offline(page);
    const fileLoads = [];
    page.page.on('request', (request) => {
      if (/secrets\.json/.test(request.url())) fileLoads.push(request.url());
    });
    const panel = await openNotebook(page, path);
    for (const index of [0, 1, 2]) {
      await cell(panel, index).locator('.rn-RenderedVega6 .vega-embed').waitFor({ timeout: TIMEOUT });
      assert.equal(await cell(panel, index).locator('.jp-RenderedHTMLCommon').count(), 0, 'not the HTML');
    }
    await cell(panel, 0).locator(VEGA_VIEW).first().waitFor({ timeout: TIMEOUT });
    await cell(panel, 3).scrollIntoViewIfNeeded();
    await cell(panel, 3).locator('.rn-RenderedVega6 svg.marks .mark-rect path').waitFor({ timeout: TIMEOUT });
    await page.screenshot('untrusted vega-lite 6 outputs');
    // Vega asked for both URLs, and each was refused before any request.
    const refused = () => page.console.filter((m) => /this chart is not trusted: it may not load/.test(m.text));
    const deadline = Date.now() + TIMEOUT;
    while (refused().length < 2 && Date.now() < deadline) await sleep(100);
    const urls = refused().map((m) => m.text.match(/may not load "([^"]+)"/)[1]);
    assert.deepEqual(urls.sort(), ['https://example.org/cars.json', 'secrets.json']);
    assert.deepEqual(page.foreignRequests, [], 'no request to the CDN or example.org');
    assert.deepEqual(fileLoads, [], "no read of the server's files");
    // Vega reports each refused load; nothing else is an error.
    const errors = page.errors().filter((error) => !/this chart is not trusted: it may not load/.test(error));
    assert.deepEqual(errors, [], 'console errors');
  });
});
