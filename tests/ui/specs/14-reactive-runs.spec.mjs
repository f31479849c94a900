// Issue 15: JupyterLab's own notebook is the reactive editor. Shift+Enter in a reactive
// notebook asks the server for a reactive run (the cell and its dependents, outputs
// through the shared document); a plain notebook in the same page runs as stock, and our
// server hears nothing of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';
import {
  API,
  cell,
  kernelIdle,
  makeNotebook,
  makePlainNotebook,
  openNotebook,
  outputText,
  recordApiCalls,
  typeInto,
  waitForMark,
} from '../notebook.mjs';

test('Shift+Enter in a reactive notebook re-runs the dependents; the footer shows names and status', async (t) => {
  const nb = await makeNotebook('Shift Enter', ['x = 1', 'y = x * 10\nprint("y is", y)', 'print("z is", y + 1)']);
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);
    await typeInto(page, panel, 0, 'x = 4');
    await page.page.keyboard.press('Shift+Enter');
    await cell(panel, 2).locator('.jp-OutputArea-output', { hasText: 'z is 41' }).waitFor({ timeout: 30_000 });
    assert.match(await outputText(panel, 1), /y is 40/);
    await waitForMark(panel, 2, 'ok');
    const footer = cell(panel, 1).locator('.jp-ReactiveFooter');
    assert.match(await footer.innerText(), /writes y · reads x/);
    await page.screenshot('shift enter re-ran the dependents');

    // A read links to the cell that defines it.
    await cell(panel, 2).locator('.jp-ReactiveFooter-read', { hasText: 'y' }).click();
    await cell(panel, 1).and(page.page.locator('.jp-mod-active')).waitFor({ timeout: 5000 });
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('a plain notebook runs as stock: Shift+Enter never calls our API, no footer', async (t) => {
  const path = await makePlainNotebook('Plain.ipynb', ['a = 2', 'print("a is", a)']);
  await withPage(t, async (page) => {
    const calls = recordApiCalls(page);
    const panel = await openNotebook(page, path);
    await typeInto(page, panel, 0, 'a = 5');
    await page.page.keyboard.press('Shift+Enter');
    await page.page.keyboard.press('Shift+Enter');
    await cell(panel, 1).locator('.jp-OutputArea-output', { hasText: 'a is 5' }).waitFor({ timeout: 30_000 });
    await page.screenshot('a plain notebook ran as stock');
    assert.equal(await panel.locator('.jp-ReactiveFooter:visible').count(), 0, 'a reactive footer on a plain notebook');
    // JupyterLab's one report of the visit at start (labextension/src/welcome.ts) may come
    // after the notebook opened: the page's, not the notebook's.
    const fromNotebook = calls.filter((call) => call !== 'POST /reactive/api/v1/welcome');
    assert.deepEqual(fromNotebook, [], 'calls to the reactive API from a plain notebook');
    const found = await session.api('GET', `reactive/api/v1/notebooks?path=${encodeURIComponent(path)}`);
    assert.ok(found.notebooks.length <= 1);

    // The toolbar toggle makes it reactive: the next run goes to the server, with footers.
    await panel.locator('.jp-Toolbar-item', { hasText: 'Reactive' }).click();
    await typeInto(page, panel, 0, 'a = 7');
    await page.page.keyboard.press('Shift+Enter');
    await cell(panel, 1).locator('.jp-OutputArea-output', { hasText: 'a is 7' }).waitFor({ timeout: 30_000 });
    await waitForMark(panel, 1, 'ok');
    assert.ok(
      calls.some((call) => /\/run$/.test(call)),
      `no reactive run: ${calls.join(', ')}`,
    );
    await page.screenshot('made reactive with the toolbar toggle, a run re-ran the dependent');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('with runOn "blur" (the default), leaving an edited cell runs it and its dependents', async (t) => {
  const nb = await makeNotebook('Blur', ['n = 1', 'print("n twice", n * 2)']);
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);
    await typeInto(page, panel, 0, 'n = 21');
    await cell(panel, 1).locator('.cm-content').click(); // leave the edited cell
    await cell(panel, 1).locator('.jp-OutputArea-output', { hasText: 'n twice 42' }).waitFor({ timeout: 30_000 });
    await page.screenshot('leaving the edited cell ran it');
  });
});

test('with runOn "typing", a pause in typing runs the cell and its dependents', async (t) => {
  const nb = await makeNotebook('Typing', ['n = 1', 'print("n squared", n * n)']);
  const settings = 'lab/api/settings/reactive-notebook:plugin';
  await session.api('PUT', settings, { raw: JSON.stringify({ runOn: 'typing', debounce: 300 }) });
  try {
    await withPage(t, async (page) => {
      const panel = await openNotebook(page, nb.path);
      await typeInto(page, panel, 0, 'n = 12');
      await cell(panel, 1).locator('.jp-OutputArea-output', { hasText: 'n squared 144' }).waitFor({ timeout: 30_000 });
      // The editor still has the focus: nothing but the pause ran it.
      assert.equal(await cell(panel, 0).locator('.cm-editor.cm-focused').count(), 1);
      await page.screenshot('a pause in typing ran the cell');
      assert.deepEqual(page.errors(), [], 'console errors');
    });
  } finally {
    await session.api('PUT', settings, { raw: '{}' });
  }
});

test('New Reactive Notebook in the launcher opens a reactive notebook; the Running panel names it', async (t) => {
  await withPage(t, async (page) => {
    await page.openLab();
    await page.page.locator('.jp-LauncherCard', { hasText: 'Reactive Notebook' }).click();
    const panel = page.page.locator('.jp-NotebookPanel:visible');
    await panel.waitFor({ timeout: 30_000 });
    await panel
      .locator('.jp-Toolbar-item .lm-mod-toggled, .jp-Toolbar-item [aria-pressed="true"]', { hasText: 'Reactive' })
      .waitFor({ timeout: 30_000 });
    await kernelIdle(page);
    await typeInto(page, panel, 0, 'greeting = "hello"');
    await page.page.keyboard.press('Shift+Enter');
    await waitForMark(panel, 0, 'ok');
    const title = (
      await page.page.locator('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel').innerText()
    ).trim();
    assert.match(title, /\.ipynb$/);
    await page.page.locator('.jp-SideBar .lm-TabBar-tab[title="Running Terminals and Kernels"]').click();
    await page.page.locator('.jp-RunningSessions-item', { hasText: title }).first().waitFor({ timeout: 15_000 });
    await page.screenshot('a new reactive notebook and its kernel in the running panel');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('a read no cell defines is struck through until a cell defines it', async (t) => {
  const nb = await makeNotebook('Undefined read', ['print(later * 2)']);
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);
    const read = cell(panel, 0).locator('.jp-ReactiveFooter-read', { hasText: 'later' });
    await read.and(page.page.locator('[data-defined="false"]')).waitFor({ timeout: 30_000 });
    await page.screenshot('a read no cell defines');
    // A cell defining it, added over REST (another client): the link now leads to it.
    await session.api('POST', `${API}/${nb.id}/cells`, { type: 'python', code: 'later = 21', after_cell_id: null });
    await cell(panel, 1)
      .locator('.jp-ReactiveFooter-read[data-defined="true"]', { hasText: 'later' })
      .waitFor({ timeout: 30_000 });
    await page.screenshot('the read now links to the cell that defines it');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});
