// Issue 6's UI scenario in the "Reactive Notebook" document widget (labextension/).
//
// Every test here is skipped, saying so, while the labextension is not installed in the
// venv the lab runs from (it is not built yet, or not linked: make labextension). A step the
// widget does not support yet gets `{ todo: 'pending: <what>' }` as its options (node:test
// runs it, reports it as TODO and does not fail the run on it); drop that once it passes.
// Not covered yet: the cell type switch (the SQL cell is made over REST), drag to move,
// the run-on-typing and Shift+Enter-only settings, conflict notices, reconnects.
//
// The widget's DOM as the tests rely on it (labextension/src/cell.ts, panel.ts):
//   .jp-ReactiveNotebook              the document's content
//   .jp-ReactiveCell[data-status]     one cell; data-status idle|queued|running|success|error|blocked
//   .jp-ReactiveCell-editor .cm-content   its CodeMirror editor
//   .jp-ReactiveCell-outputs          its outputs; .jp-ReactiveCell-reason the error/blocked reason
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';

const API = 'reactive/api/v1/notebooks';
const FACTORY = 'Reactive Notebook';
const TIMEOUT = 30_000;

/** The labextension's name in the page config's federated extensions, or null. */
async function installedExtension(page) {
  return page.page.evaluate(() => {
    const config = JSON.parse(document.getElementById('jupyter-config-data').textContent);
    const found = (config.federated_extensions || []).find((e) => /reactive/i.test(e.name));
    return found ? found.name : null;
  });
}

let installed;
/** Whether the widget is there to test (asked once per run, on a page of its own). */
async function widgetInstalled() {
  if (installed === undefined) {
    const page = await session.newPage('reactive widget probe');
    try {
      await page.openLab();
      installed = Boolean(await installedExtension(page));
    } finally {
      await page.close();
    }
  }
  return installed;
}

/** A test of the widget: skipped while the labextension is not installed. */
function widgetTest(name, options, body) {
  test(name, options, async (t) => {
    if (!(await widgetInstalled())) {
      t.skip('pending: the labextension (issue 6) is not built or not installed in the venv');
      return;
    }
    await withPage(t, (page) => body(page, t));
  });
}

/** A notebook made over REST with these cells (code, or {type, code}); its file's name. */
async function makeNotebook(name, cells) {
  const { notebook_id: id } = await session.api('POST', API, { name });
  const cellIds = [];
  for (const cell of cells) {
    const body = typeof cell === 'string' ? { type: 'python', code: cell } : cell;
    cellIds.push((await session.api('POST', `${API}/${id}/cells`, body)).cell_id);
  }
  const listing = await session.api('GET', 'api/contents?content=1');
  const file = listing.content.find((f) => f.type === 'notebook' && f.name.startsWith(name));
  assert.ok(file, `no file for notebook ${name}`);
  return { id, file: file.name, cellIds };
}

/** Opens the file with the Reactive Notebook widget (file browser, Open With) and waits
 * for its cells. */
async function openReactive(page, file, cellCount) {
  await page.openLab();
  await page.refreshFileBrowser();
  const item = page.page.locator('.jp-DirListing-item', { hasText: file });
  await item.waitFor({ timeout: TIMEOUT });
  await item.click({ button: 'right' });
  await page.page.locator('.lm-Menu-item', { hasText: /^Open With/ }).click();
  await page.page.locator('.lm-Menu-item', { hasText: new RegExp(`^${FACTORY}$`) }).click();
  const notebook = page.page.locator('.jp-ReactiveNotebook:visible');
  await notebook.waitFor({ timeout: TIMEOUT });
  const cells = notebook.locator('.jp-ReactiveCell');
  await waitFor(async () => (await cells.count()) === cellCount, `${cellCount} cells`);
  return { notebook, cells };
}

/** Replaces a cell's code by typing it, as a user would. */
async function typeInto(cell, code) {
  const editor = cell.locator('.jp-ReactiveCell-editor .cm-content');
  await editor.click();
  await editor.press('ControlOrMeta+a');
  await editor.pressSequentially(code);
}

async function waitFor(check, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function expectOutput(cell, text) {
  await cell.locator('.jp-ReactiveCell-outputs', { hasText: text }).waitFor({ timeout: TIMEOUT });
}

async function expectStatus(cell, status) {
  await waitFor(async () => (await cell.getAttribute('data-status')) === status, `status ${status}`);
}

widgetTest('reactive: a new reactive notebook from the launcher', {}, async (page) => {
  await page.openLab();
  await page.page.locator('.jp-LauncherCard', { hasText: FACTORY }).click();
  const notebook = page.page.locator('.jp-ReactiveNotebook:visible');
  await notebook.waitFor({ timeout: TIMEOUT });
  await page.page.locator('.jp-ReactiveNotebook-banner', { hasText: 'Connecting' }).waitFor({ state: 'hidden', timeout: TIMEOUT });
  // A new notebook opens with one empty cell to type into.
  const cells = notebook.locator('.jp-ReactiveCell');
  await waitFor(async () => (await cells.count()) === 1, 'the first empty cell');
  await page.screenshot('new reactive notebook');
  // Two more cells added with the toolbar's button, typed and run as a user would.
  for (let i = 2; i <= 3; i++) {
    await page.page.locator('.jp-Document:visible .jp-Toolbar [title="Add a cell below"]').click();
    await waitFor(async () => (await cells.count()) >= i, `${i} cells`);
  }
  await page.screenshot('three cells added');
  const code = ['x = 1', 'y = x + 1', 'y'];
  for (let i = 0; i < 3; i++) await typeInto(cells.nth(i), code[i]);
  for (let i = 0; i < 3; i++) {
    await cells.nth(i).locator('.cm-content').click();
    await page.page.keyboard.press('Shift+Enter');
  }
  await expectOutput(cells.nth(2), /^\s*2\s*$/);
  await page.screenshot('typed and ran: y is 2');
  assert.deepEqual(page.errors(), [], 'console errors');
});

widgetTest('reactive: x = 1, y = x + 1, y runs to 2; x = 5 and leaving the cell shows 6', {}, async (page) => {
  const { file } = await makeNotebook('Reactive chain', ['', '', '']);
  const { notebook, cells } = await openReactive(page, file, 3);
  await page.screenshot('three empty cells');
  await typeInto(cells.nth(0), 'x = 1');
  await typeInto(cells.nth(1), 'y = x + 1');
  await typeInto(cells.nth(2), 'y');
  await page.screenshot('typed');
  for (let i = 0; i < 3; i++) {
    await cells.nth(i).locator('.cm-content').click();
    await page.page.keyboard.press('Shift+Enter');
  }
  await expectOutput(cells.nth(2), /^\s*2\s*$/);
  await expectStatus(cells.nth(2), 'success');
  await page.screenshot('ran: y is 2');

  await typeInto(cells.nth(0), 'x = 5');
  // Leave the cell (the default setting runs an edited cell then), running nothing else.
  await notebook.locator('.jp-ReactiveCell-status').nth(2).click();
  await expectOutput(cells.nth(2), /^\s*6\s*$/);
  await page.screenshot('x = 5 left the cell: y is 6');
  assert.deepEqual(page.errors(), [], 'console errors');
});

widgetTest('reactive: a failing cell shows its error and its dependents blocked', {}, async (page) => {
  const { file } = await makeNotebook('Reactive failure', ['a = 1 / 0', 'b = a + 1', 'b']);
  const { cells } = await openReactive(page, file, 3);
  await cells.nth(0).locator('.cm-content').click();
  await page.page.keyboard.press('Shift+Enter');
  await expectStatus(cells.nth(0), 'error');
  await cells.nth(0).getByText('ZeroDivisionError').first().waitFor({ timeout: TIMEOUT });
  await expectStatus(cells.nth(1), 'blocked');
  await expectStatus(cells.nth(2), 'blocked');
  await page.screenshot('error and blocked dependents');
});

widgetTest('reactive: a matplotlib plot shows an image', {}, async (page) => {
  const code = 'import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()';
  const { file } = await makeNotebook('Reactive plot', [code]);
  const { cells } = await openReactive(page, file, 1);
  await cells.nth(0).locator('.cm-content').click();
  await page.page.keyboard.press('Shift+Enter');
  await cells.nth(0).locator('.jp-ReactiveCell-outputs img').waitFor({ timeout: 60_000 });
  await page.screenshot('matplotlib image');
});

// The cell is made a SQL cell over REST: switching its type in the widget is not tested yet.
widgetTest('reactive: a SQL cell on DuckDB shows a table', {}, async (page) => {
  const { file } = await makeNotebook('Reactive SQL', [{ type: 'sql', code: 'SELECT 42 AS answer', output: 'df' }]);
  const { cells } = await openReactive(page, file, 1);
  await cells.nth(0).locator('.cm-content').click();
  await page.page.keyboard.press('Shift+Enter');
  await cells.nth(0).locator('.jp-ReactiveCell-outputs table', { hasText: '42' }).waitFor({ timeout: 60_000 });
  await page.screenshot('sql table');
});

widgetTest("reactive: a second page on the same notebook sees the first page's edit", {}, async (page, t) => {
  const { file } = await makeNotebook('Reactive shared', ['shared = 1', 'shared']);
  const first = await openReactive(page, file, 2);
  const other = await session.newPage(`${t.name} (second page)`);
  try {
    const second = await openReactive(other, file, 2);
    await typeInto(first.cells.nth(0), 'shared = 2');
    await first.notebook.locator('.jp-ReactiveCell-status').nth(1).click(); // leave the cell
    await second.cells
      .nth(0)
      .locator('.cm-content', { hasText: 'shared = 2' })
      .waitFor({ timeout: TIMEOUT });
    await page.screenshot('first page edited');
    await other.screenshot('second page sees the edit');
  } finally {
    await other.close();
  }
});
