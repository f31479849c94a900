// Issue 6, item 4: the keyboard and the command palette. Ctrl+Enter runs a cell in place
// (its dependents too; the caret stays), Ctrl+Shift+Down moves it, every
// reactive-notebook:<verb> command is in the palette; and a big DataFrame says how much
// of it is shown.
import assert from 'node:assert/strict';

import { session } from '../session.mjs';
import { API, TIMEOUT, expectOutput, makeNotebook, openReactive, typeInto, waitFor, widgetTest } from '../widget.mjs';

/** Every command the extension registers (labextension/src/index.ts, CommandIDs). */
const COMMANDS = [
  'create-new',
  'run-cell',
  'run-cell-in-place',
  'run-all',
  'interrupt',
  'insert-cell-below',
  'insert-cell-above',
  'delete-cell',
  'move-cell-up',
  'move-cell-down',
  'change-cell-to-python',
  'change-cell-to-sql',
  'notebook-settings',
].map((verb) => `reactive-notebook:${verb}`);

widgetTest(
  'keyboard: Ctrl+Enter runs in place, Ctrl+Shift+Down moves; the palette has every command',
  {},
  async (page) => {
    const big = "import pandas as pd\npd.DataFrame({'n': range(5000)})";
    const { id, file } = await makeNotebook('Keyboard', ['x = 1', 'x * 2', big]);
    const { cells } = await openReactive(page, file, 3);

    await typeInto(cells.nth(0), 'x = 4');
    await page.page.keyboard.press('Control+Enter');
    await expectOutput(cells.nth(1), /^\s*8\s*$/);
    assert.ok(await cells.nth(0).evaluate((node) => node.contains(document.activeElement)), 'the caret stayed');
    assert.equal(await cells.count(), 3, 'no cell added');
    await page.screenshot('ctrl+enter ran x = 4 in place; x * 2 is 8');

    await page.page.keyboard.press('Control+Shift+ArrowDown');
    await waitFor(async () => {
      const notebook = await session.api('GET', `${API}/${id}`);
      return notebook.cells.map((cell) => cell.code).join('|') === `x * 2|x = 4|${big}`;
    }, 'x = 4 moved below x * 2');
    await waitFor(
      async () => cells.nth(1).evaluate((node) => node.contains(document.activeElement)),
      'the moved cell keeps the focus',
    );

    await cells.nth(2).locator('[data-action="run"]').click();
    const note = cells.nth(2).locator('.jp-ReactiveTable-note');
    await note.waitFor({ timeout: 60_000 });
    const shown = (await note.innerText()).match(/^showing (\d+) of 5000 rows$/);
    assert.ok(shown, `the truncation note: ${await note.innerText()}`);
    assert.equal(await cells.nth(2).locator('.jp-ReactiveTable tbody tr').count(), Number(shown[1]));
    await page.screenshot('moved with the keyboard; a 5000-row frame says how much is shown');

    await page.page.keyboard.press('Control+Shift+C');
    const palette = page.page.locator('#command-palette');
    await palette.locator('.lm-CommandPalette-input').waitFor({ timeout: TIMEOUT });
    const listed = await palette
      .locator('.lm-CommandPalette-item[data-command^="reactive-notebook:"]')
      .evaluateAll((items) => items.map((item) => item.dataset.command));
    assert.deepEqual([...new Set(listed)].sort(), [...COMMANDS].sort());
    await palette.locator('.lm-CommandPalette-input').fill('Move Cell Down');
    await palette.getByText('Move Cell Down').first().waitFor({ timeout: TIMEOUT });
    await page.screenshot('the palette lists the commands');
    assert.deepEqual(page.errors(), [], 'console errors');
  },
);
