// Display updates in the Reactive Notebook widget (issue 13, item 2): a progress bar shown
// by one cell and updated from another fills up in the first cell, as in stock JupyterLab,
// and the cell that updates it shows nothing of its own; a second display re-using an id
// updates the first one too.
import assert from 'node:assert/strict';

import { makeNotebook, openReactive, waitFor, widgetTest } from '../widget.mjs';

/** A kernel start and a few seconds of updates. */
const TIMEOUT = 60_000;

async function outputText(cell) {
  return (await cell.locator('.jp-ReactiveCell-outputs').innerText()).trim();
}

widgetTest('display updates: another cell fills the progress bar the first cell shows', {}, async (page) => {
  const codes = [
    "bar = display('0%', display_id=True)",
    'import time\nfor i in range(1, 5):\n    time.sleep(0.4)\n    bar.update(f"{i * 25}%")',
    "a = display('first', display_id='shared')",
    "b = display('second', display_id='shared')",
  ];
  const { file } = await makeNotebook('Display updates', codes);
  const { cells } = await openReactive(page, file, codes.length);
  const [barCell, loopCell, firstCell, secondCell] = [0, 1, 2, 3].map((i) => cells.nth(i));
  // Running the loop runs the cell it reads `bar` from first.
  await loopCell.locator('[data-action="run"]').click();
  await waitFor(async () => /^'(25|50|75)%'$/.test(await outputText(barCell)), 'a partly filled bar', TIMEOUT);
  await page.screenshot('bar filling while the other cell runs');
  await waitFor(async () => (await outputText(barCell)) === "'100%'", 'the full bar', TIMEOUT);
  await waitFor(async () => (await loopCell.getAttribute('data-status')) === 'success', 'the loop ends', TIMEOUT);
  assert.equal(await outputText(loopCell), '', 'an update adds no output to the cell that made it');
  assert.equal(await barCell.locator('.jp-ReactiveCell-outputs > *').count(), 1, 'one output, updated in place');

  await secondCell.locator('[data-action="run"]').click();
  await waitFor(async () => (await outputText(secondCell)) === "'second'", 'the second display', TIMEOUT);
  await firstCell.locator('[data-action="run"]').click();
  // Running the first cell again: its display re-uses the id, so the second cell shows it.
  await waitFor(async () => (await outputText(secondCell)) === "'first'", 'the re-used id updated', TIMEOUT);
  assert.equal(await outputText(firstCell), "'first'");
  await page.screenshot('a re-used display id shows in both cells');
});
