// Helpers for the specs that drive the "Reactive Notebook" document widget (labextension/):
// notebooks made over REST, opened with "Open With", typed into as a user would, and the
// JupyterLab settings the widget reads (through JupyterLab's own settings REST API).
//
// The widget's DOM as the tests rely on it (labextension/src/cell.ts, panel.ts):
//   .jp-ReactiveNotebook              the document's content
//   .jp-ReactiveNotebook-banner       the connection banner (data-kind info|warn; hidden when connected)
//   .jp-ReactiveCell[data-status]     one cell; data-status idle|queued|running|success|error|blocked
//   .jp-ReactiveCell-editor .cm-content   its CodeMirror editor
//   .jp-ReactiveCell-meta             the names it writes and reads
//   .jp-ReactiveCell-conflict         the conflict notice with "Keep mine" / "Take theirs"
//   .jp-ReactiveCell-outputs          its outputs; .jp-ReactiveCell-reason the error/blocked reason
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from './session.mjs';

export const API = 'reactive/api/v1/notebooks';
export const FACTORY = 'Reactive Notebook';
export const PLUGIN = 'reactive-notebook:plugin';
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
 * name and path (as POST /notebooks answers it), its cells' ids. */
export async function makeNotebook(name, cells) {
  const { notebook_id: id, path } = await session.api('POST', API, { name });
  assert.ok(path, 'POST /notebooks answers the path of the new file');
  const cellIds = [];
  for (const cell of cells) {
    const body = typeof cell === 'string' ? { type: 'python', code: cell } : cell;
    cellIds.push((await session.api('POST', `${API}/${id}/cells`, body)).cell_id);
  }
  return { id, file: path.split('/').pop(), path, cellIds };
}

/** Opens the file with the Reactive Notebook widget (file browser, Open With) and waits
 * for its cells. `baseUrl`: as for PageRecord.openLab. */
export async function openReactive(page, file, cellCount, { baseUrl } = {}) {
  await page.openLab('', { baseUrl });
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

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a cell as a user would: click into its editor, Shift+Enter. */
export async function runCell(page, cell) {
  await cell.locator('.cm-content').click();
  await page.page.keyboard.press('Shift+Enter');
}

export async function expectOutput(cell, text) {
  await cell.locator('.jp-ReactiveCell-outputs', { hasText: text }).waitFor({ timeout: TIMEOUT });
}

export async function expectStatus(cell, status) {
  await waitFor(async () => (await cell.getAttribute('data-status')) === status, `status ${status}`);
}

/** The text of a cell's editor (CodeMirror's lines joined with newlines). */
export async function editorText(cell) {
  return cell
    .locator('.jp-ReactiveCell-editor .cm-content')
    .evaluate((content) => [...content.querySelectorAll('.cm-line')].map((line) => line.textContent).join('\n'));
}

/** Where the caret is, as the page's DOM selection says: its offset in the text of the cell's
 * editor (lines joined with newlines), whether the selection is collapsed, and whether the
 * editor has the focus. */
export async function editorCaret(cell) {
  return cell.locator('.jp-ReactiveCell-editor .cm-content').evaluate((content) => {
    const selection = window.getSelection();
    const inside = selection.rangeCount > 0 && content.contains(selection.focusNode);
    let offset = -1;
    if (inside) {
      const lines = [...content.querySelectorAll('.cm-line')];
      const line = lines.findIndex((l) => l.contains(selection.focusNode));
      const range = document.createRange();
      range.setStart(lines[line], 0);
      range.setEnd(selection.focusNode, selection.focusOffset);
      offset = lines.slice(0, line).reduce((n, l) => n + l.textContent.length + 1, 0) + range.toString().length;
    }
    return { offset, collapsed: selection.isCollapsed, focused: content.contains(document.activeElement) };
  });
}

/** A cell as the REST API has it now. */
export async function restCell(notebookId, cellId) {
  const notebook = await session.api('GET', `${API}/${notebookId}`);
  return notebook.cells.find((c) => c.id === cellId);
}

/** Writes a plugin's user settings through JupyterLab's settings REST API and returns what
 * the server then reports for the plugin (`settings`: the user's, `schema`). With `page`
 * (JupyterLab loaded in it), from the page as JupyterLab itself does: its login cookie plus
 * the `_xsrf` cookie echoed in X-XSRFToken; with `page` null, from Node with the token (no
 * page load needed: a page opened afterwards reads the settings at start). */
export async function putLabSettings(page, plugin, settings) {
  const relative = `lab/api/settings/${plugin}`;
  const raw = JSON.stringify(settings);
  if (!page) {
    await session.api('PUT', relative, { raw });
    return session.api('GET', relative);
  }
  return page.page.evaluate(
    async ({ url, raw: text }) => {
      const xsrf = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
      const headers = { 'Content-Type': 'application/json' };
      if (xsrf) headers['X-XSRFToken'] = decodeURIComponent(xsrf[1]);
      const put = await fetch(url, {
        method: 'PUT',
        credentials: 'same-origin',
        headers,
        body: JSON.stringify({ raw: text }),
      });
      if (!put.ok) throw new Error(`PUT ${url}: ${put.status} ${await put.text()}`);
      const get = await fetch(url, { credentials: 'same-origin' });
      return get.json();
    },
    { url: session.url(relative), raw },
  );
}
