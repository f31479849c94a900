// Issue 15: the reactive decorations of the stock cells read as a person reads them, in the
// light and the dark theme: a failure names its exception, a blocked cell names the cell it
// waits on by the number its prompt shows (a link to it), a syntax error is a failure of its
// own cell with the line marked in the editor, a cycle names its cells. SQL cells: a code
// cell with our metadata, SQL in the editor, its result variable renamed in the footer, a
// `{threshold}` parameter from a Python cell; Q in command mode toggles SQL and Python.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';
import { API, cell, kernelIdle, makeNotebook, openNotebook, switchTheme, typeInto, waitForMark } from '../notebook.mjs';

const TIMEOUT = 30_000;
const LIGHT = 'JupyterLab Light';
const DARK = 'JupyterLab Dark';

/** The failed mark's background and text colours, and what the theme's variables give:
 * a pale --jp-error-color3 behind the UI's text in a light theme; in a dark one (whose
 * pale colours are the same) the layout's --jp-layout-color2 behind --jp-error-color2. */
async function failedColours(panel) {
  // A footer is drawn anew when its cell's state changes: read one that stays in place.
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = await readFailedColours(panel);
    if (found.actual.every(Boolean)) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return readFailedColours(panel);
}

async function readFailedColours(panel) {
  return panel
    .locator('.jp-ReactiveFooter-status[data-mark="failed"]')
    .first()
    .evaluate((node) => {
      const resolve = (variable, property) => {
        const probe = document.createElement('div');
        probe.style[property] = `var(${variable})`;
        document.body.append(probe);
        const value = getComputedStyle(probe)[property];
        probe.remove();
        return value;
      };
      const light = document.body.dataset.jpThemeLight === 'true';
      const style = getComputedStyle(node);
      return {
        actual: [style.backgroundColor, style.color],
        expected: light
          ? [resolve('--jp-error-color3', 'backgroundColor'), resolve('--jp-ui-font-color1', 'color')]
          : [resolve('--jp-layout-color2', 'backgroundColor'), resolve('--jp-error-color2', 'color')],
      };
    });
}

test('failures, blocked cells, a syntax error and a cycle, in the light and the dark theme', async (t) => {
  const nb = await makeNotebook('Failures', [
    'a = 1',
    'b = a / 0',
    'c = b + 1',
    'def broken(:\n    pass',
    'p = q + 1',
    'q = p + 1',
  ]);
  await session.api('POST', `${API}/${nb.id}/cells/${nb.cells[0]}/run`, {});
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);
    await waitForMark(panel, 1, 'failed');
    await waitForMark(panel, 2, 'blocked');
    assert.match(await cell(panel, 1).locator('.jp-ReactiveFooter-reason').innerText(), /ZeroDivisionError/);

    // The blocked cell names the failed one by its prompt number, as a link to it.
    const prompt = (await cell(panel, 1).locator('.jp-InputArea-prompt').innerText()).trim().replace(/:$/, '');
    const reason = cell(panel, 2).locator('.jp-ReactiveFooter-reason');
    assert.match(await reason.innerText(), /^blocked: cell \[\d+\] failed before defining b \(ZeroDivisionError/);
    const link = reason.locator('.jp-ReactiveFooter-cellLink');
    assert.equal(await link.innerText(), prompt);
    await link.click();
    await cell(panel, 1).and(page.page.locator('.jp-mod-active')).waitFor({ timeout: 5000 });

    // A syntax error: a failure of its own cell, its line marked in the editor.
    await waitForMark(panel, 3, 'failed');
    assert.match(await cell(panel, 3).locator('.jp-ReactiveFooter-reason').innerText(), /^failed: SyntaxError/);
    await cell(panel, 3)
      .locator('.cm-line.jp-ReactiveErrorLine', { hasText: 'def broken(:' })
      .waitFor({ timeout: 5000 });

    // A cycle, named with its cells and names.
    await page.page.locator('.lm-MenuBar-item', { hasText: /^Run$/ }).click();
    await page.page.locator('.lm-Menu-item', { hasText: /^Run All Cells$/ }).click();
    await waitForMark(panel, 4, 'blocked');
    const cycle = await cell(panel, 4).locator('.jp-ReactiveFooter-reason').innerText();
    assert.match(cycle, /form a cycle/);
    assert.equal(
      (await cell(panel, 4).locator('.jp-ReactiveFooter-reason .jp-ReactiveFooter-cellLink').count()) >= 2,
      true,
    );
    await page.screenshot('failures blocked syntax error and cycle in the light theme');
    const light = await failedColours(panel);
    assert.deepEqual(light.actual, light.expected, 'the failed mark in the light theme');

    await switchTheme(page, DARK);
    try {
      await page.screenshot('the same notebook in the dark theme');
      const dark = await failedColours(panel);
      assert.deepEqual(dark.actual, dark.expected, 'the failed mark in the dark theme');
      assert.notDeepEqual(dark.actual, light.actual, 'the mark does not change with the theme');
    } finally {
      await switchTheme(page, LIGHT);
    }
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('a SQL cell with a {threshold} parameter, its result variable renamed; Q toggles SQL', async (t) => {
  const { notebook_id: id, path } = await session.api('POST', API, { name: 'SQL cells' });
  const threshold = await session.api('POST', `${API}/${id}/cells`, { type: 'python', code: 'threshold = 2' });
  await session.api('POST', `${API}/${id}/cells`, {
    type: 'sql',
    code: 'SELECT x FROM range(6) t(x) WHERE x > {threshold}',
    output: 'big',
  });
  await session.api('POST', `${API}/${id}/cells`, { type: 'python', code: 'print("rows:", len(big))' });
  await session.api('POST', `${API}/${id}/cells/${threshold.cell_id}/run`, { wait: true });
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, path);
    const sql = cell(panel, 1);
    const output = sql.locator('.jp-ReactiveFooter-output');
    assert.equal(await output.inputValue(), 'big');
    assert.match(await sql.locator('.jp-ReactiveFooter-sql').innerText(), /DuckDB \(in memory\)/);
    await cell(panel, 2).locator('.jp-OutputArea-output', { hasText: 'rows: 3' }).waitFor({ timeout: TIMEOUT });
    // The editor speaks SQL: its keywords are highlighted as SQL's.
    assert.equal(await sql.locator('.cm-content').getAttribute('data-language'), 'sql');

    // Rename the result variable in the footer; the reader follows the new name.
    await output.fill('rows_over');
    await output.press('Enter');
    await typeInto(page, panel, 2, 'print("rows:", len(rows_over))');
    await page.page.keyboard.press('Shift+Enter');
    await cell(panel, 2).locator('.jp-OutputArea-output', { hasText: 'rows: 3' }).waitFor({ timeout: TIMEOUT });
    // A new threshold re-runs the query and its reader.
    await typeInto(page, panel, 0, 'threshold = 4');
    await page.page.keyboard.press('Shift+Enter');
    await cell(panel, 2).locator('.jp-OutputArea-output', { hasText: 'rows: 1' }).waitFor({ timeout: TIMEOUT });
    await waitForMark(panel, 1, 'ok');
    await page.screenshot('a sql cell renamed and re-run by its parameter');

    // Q in command mode makes a Python cell SQL and back.
    await cell(panel, 2).locator('.cm-content').click();
    await page.page.keyboard.press('Escape');
    await page.page.keyboard.press('q');
    await cell(panel, 2).locator('.jp-ReactiveFooter-sql').waitFor({ timeout: TIMEOUT });
    assert.equal(await cell(panel, 2).locator('.cm-content').getAttribute('data-language'), 'sql');
    await page.page.keyboard.press('q');
    await cell(panel, 2).locator('.jp-ReactiveFooter-sql').waitFor({ state: 'detached', timeout: TIMEOUT });
    await kernelIdle(page);

    // Notebook Settings from the command palette: the name, the connection masked.
    await page.page.keyboard.press('Control+Shift+C');
    await page.page.keyboard.type('Notebook Settings');
    await page.page.keyboard.press('Enter');
    const dialog = page.page.locator('.jp-Dialog');
    await dialog.waitFor({ timeout: TIMEOUT });
    assert.equal(await dialog.locator('input').first().inputValue(), 'SQL cells');
    await page.screenshot('notebook settings from the palette');
    await dialog.locator('button', { hasText: 'Cancel' }).click();
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('renaming the notebook in Notebook Settings renames its file; the tab follows', async (t) => {
  const nb = await makeNotebook('Before rename', ['value = 6', 'print("value is", value * 7)']);
  await withPage(t, async (page) => {
    const before = await openNotebook(page, nb.path);
    await before.evaluate((node) => node.setAttribute('data-test-before-rename', ''));
    await page.page.keyboard.press('Control+Shift+C');
    await page.page.keyboard.type('Notebook Settings');
    await page.page.keyboard.press('Enter');
    const dialog = page.page.locator('.jp-Dialog');
    await dialog.waitFor({ timeout: TIMEOUT });
    await dialog.locator('input').first().fill('After rename');
    await dialog.locator('button', { hasText: 'Save' }).click();
    await page.page
      .locator('.lm-TabBar-tab.lm-mod-current', { hasText: 'After rename.ipynb' })
      .waitFor({ timeout: TIMEOUT });
    assert.equal(await page.page.locator('.lm-TabBar-tab', { hasText: 'Before rename.ipynb' }).count(), 0);
    // One tab on the new path, whichever way it got there: the room renamed the tab in
    // place (as a stock rename does), or, when the room was late, the file was opened
    // anew and the old tab closed (src/follow-move.ts).
    await page.page.waitForFunction(
      () =>
        [...document.querySelectorAll('.lm-TabBar-tab')].filter((tab) => tab.textContent.includes('After rename.ipynb'))
          .length === 1,
      null,
      { timeout: TIMEOUT },
    );
    const inPlace = (await page.page.locator('.jp-NotebookPanel[data-test-before-rename]').count()) === 1;
    t.diagnostic(inPlace ? 'the tab was renamed in place' : 'the file was opened anew at its new path');
    // The reopened tab is still reactive: a run re-runs the dependent.
    const renamed = page.page.locator('.jp-NotebookPanel:visible');
    await typeInto(page, renamed, 0, 'value = 7');
    await page.page.keyboard.press('Shift+Enter');
    await cell(renamed, 1).locator('.jp-OutputArea-output', { hasText: 'value is 49' }).waitFor({ timeout: TIMEOUT });
    await page.screenshot('the renamed notebook in its tab, still reactive');
    const listing = await session.api('GET', 'api/contents');
    const names = listing.content.map((item) => item.name);
    assert.ok(names.includes('After rename.ipynb') && !names.includes('Before rename.ipynb'), names.join(', '));
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});
