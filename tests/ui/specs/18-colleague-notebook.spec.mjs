// Issue 15: a notebook nobody here wrote (markdown with headings, lists and a link, an image
// and an HTML table among its stored outputs) opens in the stock notebook with everything
// rendered, stays so once made reactive with the toolbar's toggle, runs reactively, saves
// with the reactive metadata, and exports to HTML through nbconvert.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';
import { cellWith, kernelIdle, openNotebook, typeInto, waitForCellMark } from '../notebook.mjs';

/** An 8x8 red PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGM4oaGBFTEMLQkAgl1GAWqNFmsAAAAASUVORK5CYII=';

const TABLE =
  '<table class="dataframe"><thead><tr><th>city</th><th>visits</th></tr></thead>' +
  '<tbody><tr><td>Oslo</td><td>3</td></tr><tr><td>Lima</td><td>7</td></tr></tbody></table>';

function code(id, source, outputs = []) {
  return { id, cell_type: 'code', metadata: {}, execution_count: outputs.length ? 1 : null, source, outputs };
}

const COLLEAGUE = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {
    kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
    language_info: { name: 'python' },
  },
  cells: [
    {
      id: 'intro',
      cell_type: 'markdown',
      metadata: {},
      source:
        '# Colleague analysis\n\nSome **bold** words and a [link to the docs](https://example.org/docs).\n\n' +
        '## Steps\n\n- first item\n- second item\n\n1. one\n2. two',
    },
    code('size', 'size = 3'),
    code('image', 'show_image()', [
      { output_type: 'display_data', data: { 'image/png': PNG, 'text/plain': '<Figure>' }, metadata: {} },
    ]),
    code('table', 'visits_table()', [
      {
        output_type: 'execute_result',
        execution_count: 1,
        data: { 'text/html': TABLE, 'text/plain': 'city visits' },
        metadata: {},
      },
    ]),
    { id: 'more', cell_type: 'markdown', metadata: {}, source: '### Totals\n\nThe *total* below.' },
    code('total', 'total = size * 2\nprint("total is", total)'),
  ],
};

/** Checks that the markdown, the image and the table are rendered as the stock notebook does. */
async function assertRendered(panel) {
  const markdown = panel.locator('.jp-MarkdownCell .jp-RenderedMarkdown');
  await markdown.locator('h1', { hasText: 'Colleague analysis' }).waitFor({ timeout: 15_000 });
  await markdown.locator('h2', { hasText: 'Steps' }).waitFor();
  await markdown.locator('h3', { hasText: 'Totals' }).waitFor();
  await markdown.locator('ul li', { hasText: 'second item' }).waitFor();
  await markdown.locator('ol li', { hasText: 'two' }).waitFor();
  await markdown.locator('strong', { hasText: 'bold' }).waitFor();
  assert.equal(
    await markdown.locator('a', { hasText: 'link to the docs' }).getAttribute('href'),
    'https://example.org/docs',
  );
  assert.equal(await panel.locator('.jp-MarkdownCell .cm-content:visible').count(), 0, 'markdown shown as source');
  const image = panel.locator('.jp-RenderedImage img');
  await image.waitFor({ timeout: 15_000 });
  assert.ok(await image.evaluate((img) => img.complete && img.naturalWidth === 8), 'the PNG is decoded');
  await panel.locator('.jp-RenderedHTMLCommon table td', { hasText: 'Lima' }).waitFor({ timeout: 15_000 });
  assert.equal(await panel.locator('.jp-RenderedHTMLCommon table th').count(), 2, 'the table head');
}

test('a colleague’s notebook renders as in stock, made reactive runs, saves and exports to HTML', async (t) => {
  const path = 'Colleague analysis.ipynb';
  await session.api('PUT', `api/contents/${encodeURIComponent(path)}`, {
    type: 'notebook',
    format: 'json',
    content: COLLEAGUE,
  });
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, path);
    await assertRendered(panel);
    await page.screenshot('the colleague’s notebook as opened');

    // Made reactive with the toolbar's toggle: still rendered; a run re-runs the dependent.
    await panel.locator('.jp-Toolbar-item', { hasText: 'Reactive' }).click();
    const size = cellWith(panel, 'size = 3');
    await typeInto(page, panel, 1, 'size = 5');
    await page.page.keyboard.press('Shift+Enter');
    const total = cellWith(panel, 'total = size * 2');
    await total.locator('.jp-OutputArea-output', { hasText: 'total is 10' }).waitFor({ timeout: 30_000 });
    await waitForCellMark(total, 'ok');
    await waitForCellMark(cellWith(panel, 'size = 5'), 'ok');
    assert.equal(await size.count(), 0, 'the edit stayed');
    await assertRendered(panel);
    await page.screenshot('made reactive, a run re-ran the total');

    // File > Save Notebook: the file has the reactive metadata.
    await page.page.locator('.lm-MenuBar-item', { hasText: 'File' }).click();
    await page.page.locator('.lm-Menu-item[data-command="docmanager:save"]').click();
    await page.page.locator('.jp-mod-dirty').waitFor({ state: 'detached', timeout: 15_000 });
    const saved = await session.api('GET', `api/contents/${encodeURIComponent(path)}?content=1`);
    assert.ok(saved.content.metadata.reactive_notebook, 'reactive_notebook in the saved metadata');
    assert.equal(saved.content.cells.length, COLLEAGUE.cells.length);
    assert.match(
      saved.content.cells
        .find((c) => c.id === 'total')
        .outputs.map((o) => o.text)
        .join(''),
      /total is 10/,
    );
    await page.screenshot('saved');

    // File > Save and Export Notebook As > HTML: JupyterLab asks whether to sanitize, then
    // opens nbconvert's download in a new tab.
    await page.page.locator('.lm-MenuBar-item', { hasText: 'File' }).click();
    await page.page.locator('.lm-Menu-item', { hasText: 'Save and Export Notebook As' }).hover();
    // The new tab fetches the export and closes itself: its answer is watched from the
    // browser context.
    const exported = page.context.waitForEvent('response', {
      predicate: (response) => new URL(response.url()).pathname.includes('/nbconvert/html/'),
      timeout: 60_000,
    });
    await page.page.locator('.lm-Menu-item[data-command="notebook:export-to-format"]', { hasText: /^HTML$/ }).click();
    const dialog = page.page.locator('.jp-Dialog', { hasText: 'Export as HTML' });
    await dialog.waitFor({ timeout: 10_000 });
    await page.screenshot('the HTML export dialog');
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    const response = await exported;
    assert.equal(response.status(), 200, `the export answered ${response.status()}`);
    // headers(), not allHeaders(): the export's tab closes itself, and allHeaders() asks
    // the (then closed) page for the raw headers.
    const headers = response.headers();
    assert.match(headers['content-disposition'] ?? '', /attachment.*Colleague(%20| )analysis\.html/);
    // The same export, fetched with the token: what the user downloaded.
    const url = new URL(response.url());
    const html = await (
      await fetch(session.url(url.pathname + url.search), {
        headers: { Authorization: `token ${session.token}` },
      })
    ).text();
    assert.match(html, /Colleague analysis/);
    assert.match(html, /total is 10/);
    assert.match(html, /Lima/);
    assert.match(html, /data:image\/png;base64,/);
    await kernelIdle(page);
    await page.screenshot('exported to HTML');
    assert.deepEqual(page.failedResponses, [], 'responses with status >= 400');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});
