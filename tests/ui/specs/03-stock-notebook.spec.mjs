// A notebook made and run through the REST API is an ordinary .ipynb: JupyterLab's stock
// notebook editor opens it (double-click in the file browser) with its cells and outputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';

const API = 'reactive/api/v1/notebooks';
const CELLS = ['x = 21', 'print("hello from a reactive cell")\ny = x * 2', 'y'];

/** Waits until the saved file has the outputs (the service saves shortly after a run). */
async function savedWithOutputs(path) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const model = await session.api('GET', `api/contents/${encodeURIComponent(path)}?content=1`);
    const cells = model.content.cells;
    if (cells.length === CELLS.length && cells.every((c) => c.outputs !== undefined) && cells[2].outputs.length) {
      return model;
    }
    if (Date.now() > deadline) throw new Error(`${path} has no outputs saved: ${JSON.stringify(cells)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('a notebook made and run through the REST API opens in the stock notebook editor', async (t) => {
  const { notebook_id: id } = await session.api('POST', API, { name: 'Made over REST' });
  for (const code of CELLS) await session.api('POST', `${API}/${id}/cells`, { type: 'python', code });
  const ran = await session.api('POST', `${API}/${id}/run`, { wait: true });
  assert.equal(ran.cells.length, 3);

  const listing = await session.api('GET', 'api/contents?content=1');
  const file = listing.content.find((f) => f.type === 'notebook' && f.name.startsWith('Made over REST'));
  assert.ok(file, `no notebook file in ${JSON.stringify(listing.content.map((f) => f.name))}`);
  const saved = await savedWithOutputs(file.path);
  assert.equal(saved.content.nbformat, 4);

  await withPage(t, async (page) => {
    await page.openLab();
    const item = page.page.locator('.jp-DirListing-item', { hasText: file.name });
    await item.waitFor({ timeout: 15_000 });
    await page.screenshot('file browser lists the notebook');

    await item.dblclick();
    const panel = page.page.locator('.jp-NotebookPanel:visible');
    await panel.waitFor({ timeout: 30_000 });
    const cells = panel.locator('.jp-Notebook .jp-Cell');
    await assertCount(cells, 3);
    const outputs = panel.locator('.jp-OutputArea-output');
    await outputs.filter({ hasText: 'hello from a reactive cell' }).waitFor({ timeout: 15_000 });
    await outputs.filter({ hasText: /^42$/ }).waitFor({ timeout: 15_000 });
    // Each cell's source is shown in the editor as written.
    const sources = await cells.locator('.jp-InputArea-editor .cm-content').allInnerTexts();
    assert.deepEqual(
      sources.map((s) => s.trim()),
      CELLS,
    );
    // Its kernelspec is one JupyterLab knows: the editor starts it (no "Select Kernel"
    // dialog) and connects to it.
    await page.page
      .locator('.jp-StatusBar-TextItem', { hasText: /Python 3 \(ipykernel\) \| Idle/ })
      .waitFor({ timeout: 30_000 });
    assert.equal(await page.page.locator('.jp-Dialog').count(), 0, 'a dialog opened over the notebook');
    // Opening it changes nothing: the tab is not marked modified once the kernel is up.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const dirtyTabs = page.page.locator('.lm-TabBar-tab.jp-mod-dirty', { hasText: file.name });
    assert.equal(await dirtyTabs.count(), 0, 'the stock editor marks the notebook modified on open');
    await page.screenshot('stock notebook editor shows cells and outputs');

    assert.deepEqual(page.errors(), [], 'console errors');
    assert.deepEqual(page.failedResponses, [], 'responses with status >= 400');
    assert.deepEqual(page.foreignRequests, [], 'requests to hosts other than 127.0.0.1');
  });
});

async function assertCount(locator, expected) {
  const deadline = Date.now() + 15_000;
  let count = await locator.count();
  while (count !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    count = await locator.count();
  }
  assert.equal(count, expected);
}
