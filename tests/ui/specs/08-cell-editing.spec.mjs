// Editing the cell list in the Reactive Notebook widget: the type switch (SQL
// highlighting, the result variable), add above / below, delete and undo, move buttons
// and drag, a read that jumps to its defining cell, and how a stale cell looks.
//
// The cell row's DOM as these tests rely on it (labextension/src/cell.ts):
//   .jp-ReactiveCell[data-type][data-status][data-stale]   one cell
//   .jp-ReactiveCell-gutter        status mark, and the handle to drag the cell by
//   .jp-ReactiveCell-type          the type <select>; .jp-ReactiveCell-output input: result variable
//   .jp-ReactiveCell-button[data-action=run|move-up|move-down|add-above|add-below|delete]
//   .jp-ReactiveCell-read[data-name]   a name the cell reads (a link); .jp-ReactiveCell-badge "stale"
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';
import { API, TIMEOUT, makeNotebook, openReactive, typeInto, waitFor } from '../widget.mjs';

/** The notebook's cells as the server has them: [type, code] in order. */
async function serverCells(id) {
  const notebook = await session.api('GET', `${API}/${id}`);
  return notebook.cells.map((cell) => [cell.type, cell.code]);
}

async function waitForServer(id, expected, what) {
  let last;
  try {
    await waitFor(async () => {
      last = await serverCells(id);
      return JSON.stringify(last) === JSON.stringify(expected);
    }, what);
  } catch (error) {
    error.message += `: the server has ${JSON.stringify(last)}, not ${JSON.stringify(expected)}`;
    throw error;
  }
}

/** The cells' code as the page shows them, in order. */
async function pageCodes(cells) {
  return cells.locator('.jp-ReactiveCell-editor .cm-content').allInnerTexts();
}

test('cells: a cell switched to SQL is highlighted as SQL, runs as SQL and names its result', async (t) => {
  await withPage(t, async (page) => {
    const { id, file } = await makeNotebook('Cell types', ['SELECT 42 AS answer']);
    const { cells } = await openReactive(page, file, 1);
    const cell = cells.nth(0);
    const content = cell.locator('.cm-content');
    await waitFor(async () => (await content.getAttribute('data-language')) === 'python', 'Python highlighting');
    await cell.locator('.jp-ReactiveCell-type').selectOption('sql');
    await waitFor(async () => (await cell.getAttribute('data-type')) === 'sql', 'the cell to be SQL');
    await waitFor(async () => (await content.getAttribute('data-language')) === 'sql', 'SQL highlighting');
    const output = cell.locator('.jp-ReactiveCell-output input');
    assert.equal(await output.inputValue(), 'df_1');
    await page.screenshot('switched to SQL');

    await output.fill('answers');
    await output.press('Enter');
    await waitFor(
      async () => (await session.api('GET', `${API}/${id}`)).cells[0].output === 'answers',
      'the result variable',
    );
    await cell.locator('[data-action="run"]').click();
    await cell.locator('.jp-ReactiveCell-outputs table', { hasText: '42' }).waitFor({ timeout: 60_000 });
    // A SQL result's table has the query's columns only (no pandas index) and its size.
    assert.deepEqual(await cell.locator('.jp-ReactiveTable thead th').allInnerTexts(), ['answer']);
    assert.equal(await cell.locator('.jp-ReactiveTable-note').innerText(), '1 row × 1 column');
    assert.match(await cell.locator('.jp-ReactiveCell-meta').innerText(), /writes answers/);
    await page.screenshot('SQL cell ran into answers');

    await cell.locator('.jp-ReactiveCell-type').selectOption('python');
    await waitForServer(id, [['python', 'SELECT 42 AS answer']], 'back to Python');
    await waitFor(async () => (await content.getAttribute('data-language')) === 'python', 'Python again');
    assert.equal(await cell.locator('.jp-ReactiveCell-output').isHidden(), true);
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('cells: add above and below, delete and undo, move with the buttons', async (t) => {
  await withPage(t, async (page) => {
    const { id, file } = await makeNotebook('Cell list', ['a = 1', 'b = 2']);
    const { cells } = await openReactive(page, file, 2);
    await cells.nth(0).locator('[data-action="add-above"]').click();
    await waitForServer(
      id,
      [
        ['python', ''],
        ['python', 'a = 1'],
        ['python', 'b = 2'],
      ],
      'added above',
    );
    await cells.nth(2).locator('[data-action="add-below"]').click();
    await waitForServer(
      id,
      [
        ['python', ''],
        ['python', 'a = 1'],
        ['python', 'b = 2'],
        ['python', ''],
      ],
      'added below',
    );
    // The page hears of the new cell over its WebSocket, a moment after the server has it.
    await waitFor(async () => (await cells.count()) === 4, 'the page with 4 cells');
    // The new cell takes the focus once the server's answer has it on the page: typing
    // earlier would go to the button just clicked (a space would click it again).
    await waitFor(
      async () => cells.nth(3).evaluate((node) => node.contains(document.activeElement)),
      'the focus in the new cell',
    );
    await page.page.keyboard.type('c = 3');
    await cells.nth(0).locator('.jp-ReactiveCell-gutter').click(); // leave it: saved (and run)
    await waitForServer(
      id,
      [
        ['python', ''],
        ['python', 'a = 1'],
        ['python', 'b = 2'],
        ['python', 'c = 3'],
      ],
      'typed',
    );
    await page.screenshot('added above and below');

    await cells.nth(0).locator('[data-action="delete"]').click();
    await waitForServer(
      id,
      [
        ['python', 'a = 1'],
        ['python', 'b = 2'],
        ['python', 'c = 3'],
      ],
      'deleted',
    );
    // Click what the page shows once it shows the deletion too (as a user would).
    await waitFor(async () => (await pageCodes(cells)).join('|') === 'a = 1|b = 2|c = 3', 'the page without it');
    await cells.nth(1).locator('[data-action="delete"]').click();
    await waitForServer(
      id,
      [
        ['python', 'a = 1'],
        ['python', 'c = 3'],
      ],
      'deleted b',
    );
    await page.screenshot('deleted, with an undo notice');
    const undo = page.page.locator('.jp-toast-button', { hasText: 'Undo' });
    await waitFor(async () => (await undo.count()) === 1, 'one undo: the last deletion');
    await undo.click();
    await waitForServer(
      id,
      [
        ['python', 'a = 1'],
        ['python', 'b = 2'],
        ['python', 'c = 3'],
      ],
      'undone',
    );
    await waitFor(async () => (await pageCodes(cells)).join('|') === 'a = 1|b = 2|c = 3', 'the page undone');

    await cells.nth(0).locator('[data-action="move-down"]').click();
    await waitForServer(
      id,
      [
        ['python', 'b = 2'],
        ['python', 'a = 1'],
        ['python', 'c = 3'],
      ],
      'moved down',
    );
    await cells.nth(2).locator('[data-action="move-up"]').click();
    await waitForServer(
      id,
      [
        ['python', 'b = 2'],
        ['python', 'c = 3'],
        ['python', 'a = 1'],
      ],
      'moved up',
    );
    await waitFor(async () => (await pageCodes(cells)).join('|') === 'b = 2|c = 3|a = 1', 'the page in the new order');
    await page.screenshot('moved with the buttons');

    // Shift+Enter in the last cell runs it and opens a new cell to type into, as in JupyterLab.
    await cells.nth(2).locator('.cm-content').click();
    await page.page.keyboard.press('Shift+Enter');
    await waitFor(async () => (await cells.count()) === 4, 'a new cell after the last');
    await waitFor(
      async () => cells.nth(3).evaluate((node) => node.contains(document.activeElement)),
      'the focus in it',
    );
    await page.page.keyboard.type('d = 4');
    await page.page.keyboard.press('Shift+Enter');
    await waitFor(async () => (await cells.nth(3).getAttribute('data-status')) === 'success', 'd = 4 ran');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('cells: a cell dragged by its gutter onto another one moves there', async (t) => {
  await withPage(t, async (page) => {
    const { id, file } = await makeNotebook('Cell drag', ['first = 1', 'second = 2', 'third = 3']);
    const { cells } = await openReactive(page, file, 3);
    // Onto the upper half of the first cell: it becomes the first.
    await cells
      .nth(2)
      .locator('.jp-ReactiveCell-gutter')
      .dragTo(cells.nth(0), { targetPosition: { x: 60, y: 4 } });
    await waitForServer(
      id,
      [
        ['python', 'third = 3'],
        ['python', 'first = 1'],
        ['python', 'second = 2'],
      ],
      'dragged to the top',
    );
    await waitFor(
      async () => (await pageCodes(cells)).join('|') === 'third = 3|first = 1|second = 2',
      'the page order',
    );
    await page.screenshot('dragged to the top');
    // Onto the lower half of the last cell: it becomes the last.
    const last = cells.nth(2);
    const box = await last.boundingBox();
    await cells
      .nth(0)
      .locator('.jp-ReactiveCell-gutter')
      .dragTo(last, { targetPosition: { x: 60, y: box.height - 4 } });
    await waitForServer(
      id,
      [
        ['python', 'first = 1'],
        ['python', 'second = 2'],
        ['python', 'third = 3'],
      ],
      'dragged to the end',
    );
    await page.screenshot('dragged to the end');
  });
});

test('cells: a read links to the cell that defines it, and stale cells stand out', async (t) => {
  await withPage(t, async (page) => {
    const { id, file } = await makeNotebook('Cell links', ['x = 1', 'z = 10', 'y = x + z + undefined_name']);
    const { cells } = await openReactive(page, file, 3);
    const reader = cells.nth(2);
    assert.equal(
      await reader.locator('.jp-ReactiveCell-read[data-name="undefined_name"]').getAttribute('data-defined'),
      'false',
    );
    await reader.locator('.jp-ReactiveCell-read[data-name="x"]').click();
    await waitFor(
      async () => /jp-mod-revealed/.test(await cells.nth(0).getAttribute('class')),
      'the defining cell revealed',
    );
    assert.equal(await cells.nth(0).evaluate((node) => node.contains(document.activeElement)), true, 'focus in x = 1');
    await page.screenshot('jumped to the definition of x');

    // Run the chain, then change x over the API (another client): its readers go stale.
    await session.api('PUT', `${API}/${id}/cells/${(await session.api('GET', `${API}/${id}`)).cells[2].id}`, {
      code: 'y = x + z',
    });
    const ids = (await session.api('GET', `${API}/${id}`)).cells.map((c) => c.id);
    await session.api('POST', `${API}/${id}/cells/${ids[2]}/run`, { wait: true });
    await waitFor(async () => (await reader.getAttribute('data-status')) === 'success', 'the chain ran');
    assert.equal(await reader.locator('.jp-ReactiveCell-badge').innerText(), '');
    await session.api('PUT', `${API}/${id}/cells/${ids[0]}`, { code: 'x = 2' });
    await waitFor(async () => (await reader.getAttribute('data-stale')) === 'true', 'the reader stale');
    assert.equal(await reader.locator('.jp-ReactiveCell-badge').innerText(), 'stale');
    assert.equal(await cells.nth(1).getAttribute('data-stale'), 'false', 'z = 10 does not read x');
    const opacity = await reader.locator('.jp-ReactiveCell-outputs').evaluate((node) => getComputedStyle(node).opacity);
    assert.ok(Number(opacity) < 1, `stale outputs are dimmed (opacity ${opacity})`);
    await page.screenshot('stale cells');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('cells: a notebook duplicated in the file browser opens as a notebook of its own', async (t) => {
  await withPage(t, async (page) => {
    const { id, file } = await makeNotebook('Cell original', ['kept = 1']);
    await waitFor(async () => {
      const saved = await session.api('GET', `api/contents/${encodeURIComponent(file)}?content=1`);
      return saved.content.cells.length === 1;
    }, 'the cell saved to the file');
    await page.openLab();
    await page.refreshFileBrowser();
    const item = page.page.locator('.jp-DirListing-item', { hasText: file });
    await item.click({ button: 'right' });
    await page.page.locator('.lm-Menu-item', { hasText: /^Duplicate/ }).click();
    const copy = page.page.locator('.jp-DirListing-item', { hasText: /Cell original-Copy/ });
    await copy.waitFor({ timeout: TIMEOUT });
    const copyName = (await copy.locator('.jp-DirListing-itemText').innerText()).trim();
    const { cells } = await openReactive(page, copyName, 1);
    await typeInto(cells.nth(0), 'kept = 2');
    await cells.nth(0).locator('[data-action="run"]').click();
    const [found] = (await session.api('GET', `${API}?path=${encodeURIComponent(copyName)}`)).notebooks;
    assert.notEqual(found.id, id, 'the copy has an id of its own');
    await waitForServer(found.id, [['python', 'kept = 2']], 'the copy edited');
    assert.deepEqual(await serverCells(id), [['python', 'kept = 1']], 'the original untouched');
    await page.screenshot('the duplicate edited, the original kept');
  });
});
