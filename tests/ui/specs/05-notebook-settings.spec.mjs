// Issue 6, items 4 and 5: the kernel status in the Reactive Notebook's toolbar, and the
// notebook settings dialog (name, database connection string with its password masked,
// the notice that no LLM provider is configured).
//
// The DOM as the tests rely on it (labextension/src/toolbar.ts, notebook-settings.ts):
//   .jp-ReactiveKernelStatus[data-state]    starting|idle|busy|restarting|dead|unknown|connecting|disconnected
//   [title^="Notebook settings"]            the toolbar button opening the dialog
//   .jp-Dialog .jp-ReactiveNotebookSettings the dialog's form: input[name=name], input[name=db],
//     .jp-ReactiveNotebookSettings-error (a refused save), -chat[data-available] (the LLM notice)
// The notebook WebSocket is routed through the test (page.routeWebSocket) to drop it.
// Not covered here: the starting/restarting/dead states (unit tests cover their labels).
import assert from 'node:assert/strict';

import { session } from '../session.mjs';
import {
  API,
  TIMEOUT,
  expectOutput,
  expectStatus,
  makeNotebook,
  openReactive,
  runCell,
  waitFor,
  widgetTest,
} from '../widget.mjs';

const SECRET_CONNECTION = 'postgresql://u:secret@127.0.0.1:1/db';
const MASKED_CONNECTION = 'postgresql://u:********@127.0.0.1:1/db';

function kernelStatus(page) {
  return page.page.locator('.jp-Document:visible .jp-ReactiveKernelStatus');
}

async function expectKernel(page, state, timeout = TIMEOUT) {
  const status = kernelStatus(page);
  await waitFor(async () => (await status.getAttribute('data-state')) === state, `kernel ${state}`, timeout);
}

/** Routes the page's notebook WebSockets through the test, which passes everything on
 * while `down` is false, and refuses new ones while it is true: `open` holds the routes
 * of the sockets connected now, for the test to close. */
async function relayNotebookSockets(page) {
  const link = { down: false, open: new Set() };
  await page.page.routeWebSocket(/\/reactive\/api\/v1\/notebooks\/[^/]+\/ws/, (socket) => {
    if (link.down) {
      socket.close({ code: 4000, reason: 'test: the server cannot be reached' });
      return;
    }
    socket.connectToServer();
    link.open.add(socket);
    socket.onClose(() => link.open.delete(socket));
  });
  return link;
}

/** Opens the settings dialog with the toolbar button; its form. */
async function openSettings(page) {
  await page.page.locator('.jp-Document:visible [title^="Notebook settings"]').click();
  const form = page.page.locator('.jp-Dialog .jp-ReactiveNotebookSettings');
  await form.waitFor({ timeout: TIMEOUT });
  return form;
}

async function save(page) {
  await page.page.locator('.jp-Dialog .jp-Dialog-button.jp-mod-accept').click();
}

/** Waits until the one notebook tab is `title`, and its cells are shown again. */
async function expectOnlyTab(page, title) {
  const tabs = page.page.locator('#jp-main-dock-panel .lm-TabBar-tab').filter({ hasText: /\.ipynb$/ });
  await waitFor(async () => {
    const titles = await tabs.allTextContents();
    return titles.length === 1 && titles[0].trim() === title;
  }, `the only notebook tab to be ${title}`);
  await page.page.locator('.jp-ReactiveNotebook:visible .jp-ReactiveCell').first().waitFor({ timeout: TIMEOUT });
  await expectKernel(page, 'unknown');
}

/** The notebook (REST GET) once `done(notebook)` holds. */
async function savedNotebook(id, done) {
  let notebook;
  await waitFor(async () => done((notebook = await session.api('GET', `${API}/${id}`))), 'the saved settings');
  return notebook;
}

/** Where `text` is in the page (its markup and text, a form field's value): a bit of
 * context around each place, none when it is nowhere. Style sheets are left out (Font
 * Awesome's has a `.fa-user-secret`). */
async function placesOf(page, text) {
  return page.page.evaluate((needle) => {
    const markup = document.documentElement.cloneNode(true);
    for (const sheet of markup.querySelectorAll('style')) sheet.remove();
    const fields = [...document.querySelectorAll('input, textarea')].map((field) => field.value);
    const texts = [markup.outerHTML, ...fields];
    const places = [];
    for (const haystack of texts) {
      for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) {
        places.push(haystack.slice(Math.max(0, at - 80), at + 40));
      }
    }
    return places;
  }, text);
}

widgetTest('settings: toolbar kernel status is idle, busy, disconnected', {}, async (page, t) => {
  const link = await relayNotebookSockets(page);
  const { file } = await makeNotebook('Kernel status', ['x = 1', 'import time\ntime.sleep(2)\nx']);
  const { cells } = await openReactive(page, file, 2);
  const status = kernelStatus(page);
  await status.waitFor({ timeout: TIMEOUT });
  // No kernel runs before the first run.
  await expectKernel(page, 'unknown');
  assert.match(await status.getAttribute('title'), /first run/);
  await page.screenshot('no kernel before the first run');

  await runCell(page, cells.nth(0));
  await expectKernel(page, 'idle', 60_000);
  assert.equal((await status.textContent()).trim(), 'Idle');
  await page.screenshot('kernel idle after a run');

  await runCell(page, cells.nth(1));
  await expectKernel(page, 'busy');
  assert.equal((await status.textContent()).trim(), 'Busy');
  await page.screenshot('kernel busy during time.sleep(2)');
  await expectOutput(cells.nth(1), /^\s*1\s*$/);
  await expectKernel(page, 'idle');
  await page.screenshot('kernel idle again');

  // The connection drops (and reconnecting fails for a while): the item says so; once
  // the socket is back it shows the kernel again.
  link.down = true;
  for (const socket of link.open) await socket.close({ code: 4000, reason: 'test: connection dropped' });
  await expectKernel(page, 'disconnected');
  assert.match(await status.getAttribute('title'), /lost/);
  await page.screenshot('disconnected while the socket is down');
  link.down = false;
  await expectKernel(page, 'idle', 60_000);
  await page.screenshot('reconnected: kernel idle');

  // A page opened now starts from the kernel's state (the socket's snapshot carries it).
  const other = await session.newPage(`${t.name} (second page)`);
  try {
    // (Shift+Enter in the last cell added an empty one below it.)
    await openReactive(other, file, await cells.count());
    await expectKernel(other, 'idle');
    await other.screenshot('a second page shows the kernel idle without running anything');
  } catch (error) {
    await other.screenshot('failure').catch(() => {});
    throw error;
  } finally {
    await other.close();
  }
  assert.deepEqual(page.errors(), [], 'console errors');
});

widgetTest('settings: rename, a masked connection string and the LLM notice', {}, async (page) => {
  const { id, file } = await makeNotebook('Settings dialog', ['a = 1']);
  await openReactive(page, file, 1);

  let form = await openSettings(page);
  assert.equal(await form.locator('input[name=name]').inputValue(), 'Settings dialog');
  assert.equal(await form.locator('input[name=db]').inputValue(), '');
  await form.getByText('Empty: the embedded DuckDB').first().waitFor();
  await form.getByText('${PGPASSWORD}').first().waitFor();
  const notice = form.locator('.jp-ReactiveNotebookSettings-chat[data-available=false]');
  await notice.waitFor({ state: 'visible', timeout: TIMEOUT });
  assert.match(await notice.textContent(), /No LLM provider is configured/);
  await page.screenshot('settings dialog with the LLM notice');

  // A name the server refuses (400): the dialog comes back with its message.
  await form.locator('input[name=name]').fill('bad/name');
  await save(page);
  form = page.page.locator('.jp-Dialog .jp-ReactiveNotebookSettings');
  const error = form.locator('.jp-ReactiveNotebookSettings-error');
  await error.waitFor({ state: 'visible', timeout: TIMEOUT });
  assert.match(await error.textContent(), /name/);
  assert.equal(await form.locator('input[name=name]').getAttribute('aria-invalid'), 'true');
  await page.screenshot('a refused name shown in the dialog');

  await form.locator('input[name=name]').fill('Renamed in settings');
  await form.locator('input[name=db]').fill(SECRET_CONNECTION);
  await form.locator('.jp-ReactiveNotebookSettings-hint').waitFor({ state: 'visible' });
  // The check below does see a password where there is one: in the field typed into.
  assert.equal((await placesOf(page, 'secret')).length, 1);
  await page.screenshot('new name and connection typed');
  await save(page);
  await page.page.locator('.jp-Dialog').waitFor({ state: 'detached', timeout: TIMEOUT });

  // The dialog closes on Save; the changes then go over REST, one request each (the name
  // first): the notebook has both once the second one is through.
  await savedNotebook(id, (n) => n.name === 'Renamed in settings' && n.db_conn_string === MASKED_CONNECTION);
  // The file was renamed after the notebook: the tab follows it (the document reopens).
  await expectOnlyTab(page, 'Renamed in settings.ipynb');

  form = await openSettings(page);
  const db = form.locator('input[name=db]');
  await waitFor(async () => (await db.inputValue()) === MASKED_CONNECTION, 'the masked connection string');
  assert.equal(await form.locator('input[name=name]').inputValue(), 'Renamed in settings');
  assert.deepEqual(await placesOf(page, 'secret'), [], 'the password is in the page');
  await page.screenshot('reopened: the connection string masked');

  // Saving with the mask untouched (a new name only) keeps the stored password.
  await form.locator('input[name=name]').fill('Renamed twice');
  await save(page);
  await page.page.locator('.jp-Dialog').waitFor({ state: 'detached', timeout: TIMEOUT });
  const after = await savedNotebook(id, (n) => n.name === 'Renamed twice');
  await expectOnlyTab(page, 'Renamed twice.ipynb');
  assert.equal(after.db_conn_string, MASKED_CONNECTION);
  const listing = await session.api('GET', 'api/contents?content=1');
  const renamed = listing.content.find((f) => f.name === 'Renamed twice.ipynb');
  assert.ok(renamed, 'the file is renamed after the notebook');
  const stored = await session.api('GET', `api/contents/${encodeURIComponent(renamed.path)}?content=1`);
  assert.match(JSON.stringify(stored.content.metadata), /secret/, 'the stored password was kept');
  assert.deepEqual(await placesOf(page, 'secret'), [], 'the password is in the page');
  await page.screenshot('renamed again, password kept and never shown');

  // Renamed elsewhere while the dialog is open: Save does not undo that silently; the
  // dialog says what the name is now, and a second Save replaces it.
  form = await openSettings(page);
  await session.api('PUT', `${API}/${id}/name`, { name: 'Renamed elsewhere' });
  await form.locator('input[name=name]').fill('Mine after all');
  await save(page);
  form = page.page.locator('.jp-Dialog .jp-ReactiveNotebookSettings');
  await form
    .locator('.jp-ReactiveNotebookSettings-error', { hasText: /changed elsewhere.*Renamed elsewhere/ })
    .waitFor({ timeout: TIMEOUT });
  assert.equal(await form.locator('input[name=name]').inputValue(), 'Mine after all', 'what was typed is kept');
  assert.equal((await session.api('GET', `${API}/${id}`)).name, 'Renamed elsewhere');
  await page.screenshot('a rename made elsewhere meanwhile is shown, not undone');
  await save(page);
  await page.page.locator('.jp-Dialog').waitFor({ state: 'detached', timeout: TIMEOUT });
  await savedNotebook(id, (n) => n.name === 'Mine after all');
  await expectOnlyTab(page, 'Mine after all.ipynb');
  // The browser logs the refused rename's 400 itself; nothing else may be logged.
  const errors = page.errors().filter((e) => !/status of 400/.test(e));
  assert.deepEqual(errors, [], 'console errors');
});

widgetTest('toolbar: run all runs every cell; interrupt stops a long run', {}, async (page) => {
  const { id, file } = await makeNotebook('Run all and interrupt', ['b = a * 21', 'b', 'a = 2']);
  const { cells } = await openReactive(page, file, 3);
  const toolbar = page.page.locator('.jp-Document:visible .jp-Toolbar');
  await toolbar.locator('[title="Run all cells"]').click();
  // In dependency order, not page order: a = 2 first, then b, then the value of b.
  await expectOutput(cells.nth(1), /^\s*42\s*$/);
  for (let i = 0; i < 3; i++) await expectStatus(cells.nth(i), 'success');
  await page.screenshot('run all: every cell ran');

  // A long cell (added over REST; it shows up on the page), run, then interrupted.
  const code = 'import time\nfor i in range(600):\n    time.sleep(0.1)';
  await session.api('POST', `${API}/${id}/cells`, { type: 'python', code });
  await waitFor(async () => (await cells.count()) === 4, 'the long cell on the page');
  await cells.nth(3).locator('[data-action="run"]').click();
  await expectStatus(cells.nth(3), 'running');
  await expectKernel(page, 'busy');
  const started = Date.now();
  await toolbar.locator('[title="Interrupt the kernel"]').click();
  await expectStatus(cells.nth(3), 'error');
  await cells.nth(3).getByText('KeyboardInterrupt').first().waitFor({ timeout: TIMEOUT });
  await expectKernel(page, 'idle');
  assert.ok(Date.now() - started < 20_000, 'the interrupt stopped the minute-long cell');
  // The other cells keep their results.
  await expectOutput(cells.nth(1), /^\s*42\s*$/);
  await page.screenshot('interrupted: KeyboardInterrupt, the kernel idle');
  assert.deepEqual(page.errors(), [], 'console errors');
});
