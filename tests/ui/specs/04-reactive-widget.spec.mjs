// Issue 6's UI scenario in the "Reactive Notebook" document widget (labextension/).
//
// Every test here is skipped, saying so, while the labextension is not installed in the
// venv the lab runs from (it is not built yet, or not linked: make labextension). A step the
// widget does not support yet gets `{ todo: 'pending: <what>' }` as its options (node:test
// runs it, reports it as TODO and does not fail the run on it); drop that once it passes.
// Not covered yet: the cell type switch (the SQL cell is made over REST), drag to move.
// The run-on-typing and Shift+Enter-only settings, conflict notices and reconnects are in
// 06-editing-and-sync; themes in 07-themes. The helpers and the widget's DOM as the tests
// rely on it: ../widget.mjs.
import assert from 'node:assert/strict';

import { session } from '../session.mjs';
import {
  API,
  FACTORY,
  TIMEOUT,
  expectOutput,
  expectStatus,
  makeNotebook,
  openReactive,
  typeInto,
  waitFor,
  widgetTest,
} from '../widget.mjs';

widgetTest('reactive: a new reactive notebook from the launcher', {}, async (page) => {
  await page.openLab();
  await page.page.locator('.jp-LauncherCard', { hasText: FACTORY }).click();
  const notebook = page.page.locator('.jp-ReactiveNotebook:visible');
  await notebook.waitFor({ timeout: TIMEOUT });
  await page.page
    .locator('.jp-ReactiveNotebook-banner', { hasText: 'Connecting' })
    .waitFor({ state: 'hidden', timeout: TIMEOUT });
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

  // A launcher opened in a folder of the file browser creates the notebook there.
  const folder = `Launched from ${Date.now()}`;
  await session.api('PUT', `api/contents/${encodeURIComponent(folder)}`, { type: 'directory' });
  await page.refreshFileBrowser();
  await page.page.locator('.jp-DirListing-item', { hasText: folder }).dblclick();
  await page.page.locator('.jp-FileBrowser .jp-BreadCrumbs', { hasText: folder }).waitFor({ timeout: TIMEOUT });
  await page.page.locator('.jp-FileBrowser-toolbar [data-command="launcher:create"]').first().click();
  await page.page.locator('.jp-Launcher:visible .jp-LauncherCard', { hasText: FACTORY }).click();
  await waitFor(async () => {
    const listing = await session.api('GET', `api/contents/${encodeURIComponent(folder)}`);
    return listing.content.some((item) => item.name === 'Untitled.ipynb');
  }, 'a notebook created in the folder');
  await waitFor(async () => (await notebook.locator('.jp-ReactiveCell').count()) === 1, 'its first empty cell');
  await page.screenshot('a new reactive notebook in the file browser folder');
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
  // The reason names the failed cell as a link to it, and the name it did not define.
  const reason = cells.nth(1).locator('.jp-ReactiveCell-reason');
  assert.match(
    await reason.innerText(),
    /^cell #1 failed before defining `a` \(ZeroDivisionError: division by zero\)$/,
  );
  await page.screenshot('error and blocked dependents');
  await reason.locator('.jp-ReactiveCell-cellLink').click();
  await waitFor(
    async () => cells.nth(0).evaluate((node) => node.contains(document.activeElement)),
    'the failed cell focused',
  );

  // Opened again (a new page: a new snapshot), the failed cell still shows its traceback.
  await page.page.reload();
  const again = await openReactive(page, file, 3);
  await again.cells
    .nth(0)
    .locator('.jp-ReactiveCell-traceback', { hasText: 'ZeroDivisionError' })
    .waitFor({ timeout: TIMEOUT });
  await page.screenshot('reopened: the traceback is still there');

  // A cell added above moves the failed one to #2: the reason follows.
  await again.cells.nth(0).locator('[data-action="add-above"]').click();
  await waitFor(async () => (await again.cells.count()) === 4, 'a cell added above');
  const moved = again.cells.nth(2).locator('.jp-ReactiveCell-reason');
  await waitFor(async () => /^cell #2 failed /.test(await moved.innerText()), 'the reason to name cell #2');
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
  const { id, file } = await makeNotebook('Reactive shared', ['shared = 1', 'shared']);
  const first = await openReactive(page, file, 2);
  const other = await session.newPage(`${t.name} (second page)`);
  try {
    const second = await openReactive(other, file, 2);
    await typeInto(first.cells.nth(0), 'shared = 2');
    await first.notebook.locator('.jp-ReactiveCell-status').nth(1).click(); // leave the cell
    await second.cells.nth(0).locator('.cm-content', { hasText: 'shared = 2' }).waitFor({ timeout: TIMEOUT });
    await page.screenshot('first page edited');
    await other.screenshot('second page sees the edit');

    // Renamed by another client (here over REST): both pages follow the file to its new
    // name, and keep working on the notebook.
    await session.api('PUT', `${API}/${id}/name`, { name: 'Reactive shared, renamed' });
    for (const each of [page, other]) {
      const tabs = each.page.locator('#jp-main-dock-panel .lm-TabBar-tab').filter({ hasText: /\.ipynb$/ });
      await waitFor(async () => {
        const titles = (await tabs.allTextContents()).map((title) => title.trim());
        return titles.length === 1 && titles[0] === 'Reactive shared, renamed.ipynb';
      }, 'the tab to follow the renamed file');
      await each.page.locator('.jp-ReactiveNotebook:visible .jp-ReactiveCell').nth(1).waitFor({ timeout: TIMEOUT });
    }
    const renamed = other.page.locator('.jp-ReactiveNotebook:visible .jp-ReactiveCell');
    await typeInto(renamed.nth(0), 'shared = 3');
    await renamed.nth(1).locator('.jp-ReactiveCell-status').click(); // leave the cell
    const onFirst = page.page.locator('.jp-ReactiveNotebook:visible .jp-ReactiveCell');
    await onFirst.nth(0).locator('.cm-content', { hasText: 'shared = 3' }).waitFor({ timeout: TIMEOUT });
    await page.screenshot('renamed elsewhere: the tab follows the file');
  } finally {
    await other.close();
  }
});
