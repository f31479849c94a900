// Issue 14: a notebook open in JupyterLab's stock notebook editor shows what the REST API
// does to it, live: the server writes edits and run outputs into the notebook's
// collaboration room, the document the tab edits. No reload, no "file changed" dialog.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';

const API = 'reactive/api/v1/notebooks';

test('the stock notebook editor shows a REST edit and a REST run live', async (t) => {
  const { notebook_id: id, path } = await session.api('POST', API, { name: 'Live in the tab' });
  const root = await session.api('POST', `${API}/${id}/cells`, { type: 'python', code: 'x = 20' });
  await session.api('POST', `${API}/${id}/cells`, { type: 'python', code: 'y = x + 1' });

  await withPage(t, async (page) => {
    await page.openLab();
    const item = page.page.locator('.jp-DirListing-item', { hasText: path });
    await item.waitFor({ timeout: 15_000 });
    await item.dblclick();
    const panel = page.page.locator('.jp-NotebookPanel:visible');
    await panel.waitFor({ timeout: 30_000 });
    const cells = panel.locator('.jp-Notebook .jp-Cell');
    await cells.nth(1).waitFor({ timeout: 15_000 });
    await page.page
      .locator('.jp-StatusBar-TextItem', { hasText: /Python 3 \(ipykernel\) \| Idle/ })
      .waitFor({ timeout: 30_000 });
    await page.screenshot('the notebook open in the stock editor');

    // A cell added over REST appears in the open tab.
    const added = 'print("z is", y * 2)';
    const started = Date.now();
    await session.api('POST', `${API}/${id}/cells`, { type: 'python', code: added });
    await panel.locator('.jp-Cell .cm-content', { hasText: 'print("z is", y * 2)' }).waitFor({ timeout: 10_000 });
    const edited = Date.now() - started;
    await page.screenshot('a cell added over REST shows in the tab');

    // A run started over REST: the cell and its dependents show their outputs and prompts.
    await session.api('POST', `${API}/${id}/cells/${root.cell_id}/run`, {});
    await panel.locator('.jp-OutputArea-output', { hasText: 'z is 42' }).waitFor({ timeout: 30_000 });
    const prompts = await panel.locator('.jp-InputArea-prompt').allInnerTexts();
    assert.deepEqual(
      prompts.map((p) => p.trim()),
      ['[1]:', '[2]:', '[3]:'],
    );
    await page.screenshot('a run started over REST shows its outputs in the tab');
    console.log(`# REST edit -> visible in the stock tab: ${edited} ms`);

    assert.equal(await page.page.locator('.jp-Dialog').count(), 0, 'a dialog opened over the notebook');
    assert.deepEqual(page.errors(), [], 'console errors');
    assert.deepEqual(page.failedResponses, [], 'responses with status >= 400');
  });
});
