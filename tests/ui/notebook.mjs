// Page helpers for JupyterLab's own notebook (the reactive editor since issue 15): open a
// notebook, reach its cells, type, run, read the reactive footer of a cell.
import assert from 'node:assert/strict';
import { session } from './session.mjs';

export const API = 'reactive/api/v1/notebooks';

/** A reactive notebook made over REST with Python cells of `codes`: {id, path, cells}. */
export async function makeNotebook(name, codes) {
  const { notebook_id: id, path } = await session.api('POST', API, { name });
  const cells = [];
  for (const code of codes) {
    const { cell_id: cellId } = await session.api('POST', `${API}/${id}/cells`, { type: 'python', code });
    cells.push(cellId);
  }
  return { id, path, cells };
}

/** Opens `path` in the stock notebook (a /lab/tree link) and waits for its kernel.
 * `baseUrl`: where the lab is reached, if not directly (a relay, proxy.mjs). */
export async function openNotebook(page, path, { baseUrl } = {}) {
  await page.openLab(`tree/${path.split('/').map(encodeURIComponent).join('/')}`, baseUrl ? { baseUrl } : {});
  const panel = page.page.locator('.jp-NotebookPanel:visible');
  await panel.waitFor({ timeout: 30_000 });
  await panel.locator('.jp-Notebook .jp-Cell').first().waitFor({ timeout: 15_000 });
  await kernelIdle(page);
  return panel;
}

/** Waits until the status bar shows the notebook's kernel idle. */
export async function kernelIdle(page, timeout = 60_000) {
  await page.page.locator('.jp-StatusBar-TextItem', { hasText: /\| Idle/ }).waitFor({ timeout });
}

/** The `index`th cell (0-based) of the notebook `panel`. */
export function cell(panel, index) {
  return panel.locator('.jp-Notebook .jp-Cell').nth(index);
}

/** Puts `code` in the cell's editor (select all, type) and leaves the editor focused. */
export async function typeInto(page, panel, index, code) {
  const editor = cell(panel, index).locator('.cm-content');
  await editor.click();
  await page.page.keyboard.press('Control+A');
  await page.page.keyboard.type(code);
}

/** The text of the cell's outputs. */
export async function outputText(panel, index) {
  return (await cell(panel, index).locator('.jp-OutputArea').innerText()).trim();
}

/** Waits until the cell's footer shows the status mark `mark` (ok, failed, blocked...). */
export async function waitForMark(panel, index, mark, timeout = 30_000) {
  await cell(panel, index).locator(`.jp-ReactiveFooter-status[data-mark="${mark}"]`).waitFor({ timeout });
}

/** Records the page's requests to our API (their method and path). */
export function recordApiCalls(page) {
  const calls = [];
  page.page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.includes('/reactive/api/')) calls.push(`${request.method()} ${url.pathname}`);
  });
  return calls;
}

/** A plain notebook (no reactive metadata) written through the contents API. */
export async function makePlainNotebook(path, codes) {
  const cells = codes.map((source, i) => ({
    cell_type: 'code',
    id: `plain-${i}`,
    metadata: {},
    source,
    outputs: [],
    execution_count: null,
  }));
  const content = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' } },
    cells,
  };
  await session.api('PUT', `api/contents/${encodeURIComponent(path)}`, { type: 'notebook', format: 'json', content });
  return path;
}

/** The number of cells of the notebook `panel`. */
export async function cellCount(panel) {
  return panel.locator('.jp-Notebook .jp-Cell').count();
}

/** Waits until the notebook `panel` has `count` cells. */
export async function waitForCellCount(panel, count, timeout = 10_000) {
  await panel
    .locator('.jp-Notebook .jp-Cell')
    .nth(count - 1)
    .waitFor({ timeout });
  await panel.locator('.jp-Notebook .jp-Cell').nth(count).waitFor({ state: 'detached', timeout });
}

/** Selects a cell in command mode (a click on its prompt, then Escape): the `index`th
 * cell, or the cell a locator names. */
export async function commandMode(page, panel, which) {
  const target = typeof which === 'number' ? cell(panel, which) : which;
  await target.locator('.jp-InputPrompt').click();
  await page.page.keyboard.press('Escape');
  await panel.locator('.jp-Notebook.jp-mod-commandMode').waitFor({ timeout: 5000 });
  await target.and(page.page.locator('.jp-mod-active')).waitFor({ timeout: 5000 });
}

/** The text of the cell's editor. */
export async function sourceOf(panel, index) {
  return cell(panel, index).locator('.jp-InputArea-editor').innerText();
}

/** The cell of the notebook `panel` whose editor shows `text` (the first one). */
export function cellWith(panel, text) {
  return panel
    .locator('.jp-Notebook .jp-Cell')
    .filter({ has: panel.page().locator('.jp-InputArea-editor', { hasText: text }) })
    .first();
}

/** Waits until the footer of the cell `cellLocator` shows the status mark `mark`. */
export async function waitForCellMark(cellLocator, mark, timeout = 30_000) {
  await cellLocator.locator(`.jp-ReactiveFooter-status[data-mark="${mark}"]`).waitFor({ timeout });
}

/** JupyterLab 4.6's own error when Z restores a cell after a notebook search (its search
 * highlighter is given the restored cell's editor twice): it happens the same way in a
 * plain notebook, without our extension's code on the path. */
export const UPSTREAM_SEARCH_UNDO_ERROR = /^Error: CodeMirrorEditor already set\.\n\s+at \w+\.setEditor /;

/** A page of its own browser context (a second person: its own cookies and storage), made
 * and recorded as session.newPage makes the test's page; `close()` closes both. */
export async function pageInOwnContext(testName) {
  const shared = session.context;
  const context = await session.browser.newContext({ viewport: { width: 1280, height: 800 } });
  session.contexts.add(context);
  session.context = context;
  let page;
  try {
    page = await session.newPage(testName);
  } finally {
    session.context = shared;
  }
  const close = page.close.bind(page);
  page.close = async () => {
    await close();
    await context.close().catch(() => {});
    session.contexts.delete(context);
  };
  return page;
}

/** Polls `check` every 100 ms until it answers something truthy (which it returns);
 * fails naming `what` after `timeout` ms. */
export async function waitUntil(check, what, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(100);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Switches the theme from JupyterLab's Settings menu, as a user does, and waits for it
 * (`name`: 'JupyterLab Light' or 'JupyterLab Dark'). */
export async function switchTheme(page, name, timeout = 30_000) {
  await page.page.locator('.lm-MenuBar-item', { hasText: /^Settings$/ }).click();
  await page.page.locator('.lm-Menu-item', { hasText: /^Theme/ }).hover();
  await page.page.locator('.lm-Menu-item', { hasText: new RegExp(`^${name}$`) }).click();
  await page.page.waitForFunction((n) => document.body.dataset.jpThemeName === n, name, { timeout });
  await page.page.waitForSelector('#jupyterlab-splash', { state: 'detached', timeout });
  await page.page.waitForFunction(
    (light) => document.body.dataset.jpThemeLight === String(light),
    name === 'JupyterLab Light',
    { timeout },
  );
  await page.page.keyboard.press('Escape');
}
