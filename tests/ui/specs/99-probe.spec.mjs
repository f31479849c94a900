import { test } from 'node:test';

import { session, withPage } from '../session.mjs';
import { makePlainNotebook, kernelIdle, API } from '../notebook.mjs';

const N = 500;
const codes = Array.from({ length: N }, (_, i) => (i === 0 ? 'v0 = 0' : `v${i} = v${i - 1} + 1`));

async function timeOpen(page, path, reactive) {
  const started = Date.now();
  await page.openLab(`tree/${encodeURIComponent(path)}`);
  const panel = page.page.locator('.jp-NotebookPanel:visible');
  await panel.locator('.jp-Notebook .jp-Cell').first().waitFor({ timeout: 60_000 });
  await kernelIdle(page, 120_000);
  if (reactive) await panel.locator('.jp-ReactiveFooter-write').first().waitFor({ timeout: 60_000 });
  const shown = Date.now() - started;
  // scroll to the end
  const t2 = Date.now();
  await page.page.keyboard.press('Escape');
  await page.page.keyboard.press('Control+End');
  const last = panel.locator('.jp-Notebook .jp-Cell').last();
  await last.scrollIntoViewIfNeeded();
  if (reactive) await last.locator('.jp-ReactiveFooter-write').waitFor({ timeout: 60_000 });
  return { shown, end: Date.now() - t2 };
}

test('probe open time', async (t) => {
  const plain = await makePlainNotebook('Big plain.ipynb', codes);
  const { notebook_id: id, path } = await session.api('POST', API, { name: 'Big reactive' });
  for (const code of codes) await session.api('POST', `${API}/${id}/cells`, { type: 'python', code });
  for (const [label, file, reactive] of [['PLAIN', plain, false], ['REACTIVE', path, true]]) {
    await withPage({ name: label }, async (page) => {
      await timeOpen(page, file, reactive);
      const panel = page.page.locator('.jp-NotebookPanel:visible');
      const started = Date.now();
      await page.page.locator('.lm-MenuBar-item', { hasText: /^Run$/ }).click();
      await page.page.locator('.lm-Menu-item', { hasText: /^Run All Cells$/ }).click();
      const last = panel.locator('.jp-Notebook .jp-Cell').last();
      await last.locator('.jp-InputArea-prompt', { hasText: /\[\d+\]/ }).waitFor({ timeout: 300_000 });
      if (reactive) await last.locator('.jp-ReactiveFooter-status[data-mark="ok"]').waitFor({ timeout: 300_000 });
      console.log(label, 'run all', Date.now() - started, 'ms');
      if (reactive) {
        const t0 = Date.now();
        await session.api('POST', `${API}/${id}/run`, { wait: true });
        console.log('REST run all (wait) with the tab open', Date.now() - t0, 'ms');
        const t1 = Date.now();
        await Promise.all(codes.slice(0, 100).map((_, i) => page.page.evaluate(() => 0)));
        console.log('noop', Date.now() - t1);
      }
    });
  }
});
