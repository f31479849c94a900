// Helpers for specs that drive the "Reactive Notebook" document widget (labextension/):
// the widget's tests are skipped while the labextension is not installed; notebooks are
// made over REST and opened with "Open With > Reactive Notebook".
// (Same helpers as in specs/04-reactive-widget.spec.mjs, shared here for 05 and later.)
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from './session.mjs';

export const API = 'reactive/api/v1/notebooks';
export const FACTORY = 'Reactive Notebook';
export const TIMEOUT = 30_000;

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
export async function widgetInstalled() {
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
export function widgetTest(name, options, body) {
  test(name, options, async (t) => {
    if (!(await widgetInstalled())) {
      t.skip('pending: the labextension (issue 6) is not built or not installed in the venv');
      return;
    }
    await withPage(t, (page) => body(page, t));
  });
}

/** A notebook made over REST with these cells (code, or {type, code}): its id, its file's
 * path (as POST /notebooks answers it) and name, and its cells' ids. */
export async function makeNotebook(name, cells) {
  const created = await session.api('POST', API, { name });
  assert.ok(created.path, 'POST /notebooks answers the new file path');
  const cellIds = [];
  for (const cell of cells) {
    const body = typeof cell === 'string' ? { type: 'python', code: cell } : cell;
    cellIds.push((await session.api('POST', `${API}/${created.notebook_id}/cells`, body)).cell_id);
  }
  const file = created.path.split('/').pop();
  return { id: created.notebook_id, path: created.path, file, cellIds };
}

/** Opens the file with the Reactive Notebook widget (file browser, Open With) and waits
 * for its cells. */
export async function openReactive(page, file, cellCount) {
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
export async function typeInto(cell, code) {
  const editor = cell.locator('.jp-ReactiveCell-editor .cm-content');
  await editor.click();
  await editor.press('ControlOrMeta+a');
  await editor.pressSequentially(code);
}

export async function waitFor(check, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function expectOutput(cell, text) {
  await cell.locator('.jp-ReactiveCell-outputs', { hasText: text }).waitFor({ timeout: TIMEOUT });
}

export async function expectStatus(cell, status) {
  await waitFor(async () => (await cell.getAttribute('data-status')) === status, `status ${status}`);
}

/** Runs a cell as a user would: click into it, Shift+Enter. */
export async function runCell(page, cell) {
  await cell.locator('.cm-content').click();
  await page.page.keyboard.press('Shift+Enter');
}
