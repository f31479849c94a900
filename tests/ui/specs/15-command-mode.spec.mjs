// Issue 15: everything the stock notebook has works on a reactive notebook. Command mode
// and its keys (A, B, D D, M, Z, C, V, Shift+J), markdown and the Table of Contents, the
// notebook search and output collapse; a multi-cell selection runs reactively.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { withPage } from '../session.mjs';
import {
  DISPOSE_ERROR,
  cell,
  cellCount,
  cellWith,
  commandMode,
  makeNotebook,
  openNotebook,
  sourceOf,
  waitForCellCount,
  waitForCellMark,
} from '../notebook.mjs';

const A = 'a = 1\nprint("a is", a)';
const B = 'b = a + 1\nprint("b is", b)';
const NEEDLE = 'print("needle in a cell")';

test('command mode keys, markdown and the Table of Contents, a Shift+J selection runs reactively', async (t) => {
  const nb = await makeNotebook('Command mode', [A, B, NEEDLE]);
  await withPage(t, async (page) => {
    const keys = page.page.keyboard;
    const panel = await openNotebook(page, nb.path);
    await waitForCellCount(panel, 3);

    // B inserts below, A above: two empty cells after the first.
    await commandMode(page, panel, 0);
    await keys.press('b');
    await waitForCellCount(panel, 4);
    await keys.press('a');
    await waitForCellCount(panel, 5);
    assert.equal((await sourceOf(panel, 1)).trim(), '');
    assert.equal((await sourceOf(panel, 2)).trim(), '');
    assert.match(await sourceOf(panel, 3), /b = a \+ 1/);
    await page.screenshot('A and B inserted two cells');

    // D D deletes the active cell.
    await keys.press('d');
    await keys.press('d');
    await waitForCellCount(panel, 4);
    await page.screenshot('D D deleted one');

    // M makes the active (empty) cell markdown; typed and run, it renders.
    await keys.press('m');
    await panel.locator('.jp-MarkdownCell.jp-mod-active').waitFor({ timeout: 5000 });
    await keys.press('Enter');
    await keys.type('# Heading of the notebook');
    await keys.press('Shift+Enter');
    const heading = panel.locator('.jp-MarkdownCell .jp-RenderedMarkdown h1', { hasText: 'Heading of the notebook' });
    await heading.waitFor({ timeout: 10_000 });
    await page.screenshot('M made a markdown cell, rendered');

    // The Table of Contents lists it.
    const tocTab = page.page.locator('.jp-SideBar .lm-TabBar-tab[title="Table of Contents"]');
    await tocTab.click();
    const toc = page.page.locator('.jp-TableOfContents-tree');
    await toc.locator('.jp-tocItem-content', { hasText: 'Heading of the notebook' }).waitFor({ timeout: 10_000 });
    await page.screenshot('the Table of Contents lists the heading');
    await tocTab.click(); // close the panel again

    // Shift+J adds the next cell to the selection (the 'b' cell, then the needle);
    // Shift+Enter runs both reactively.
    const b = cellWith(panel, 'b = a + 1');
    const needle = cellWith(panel, NEEDLE);
    await commandMode(page, panel, b);
    await keys.press('Shift+J');
    await needle.and(page.page.locator('.jp-mod-selected')).waitFor({ timeout: 5000 });
    assert.equal(await panel.locator('.jp-Cell.jp-mod-selected').count(), 2, 'two cells selected');
    await keys.press('Shift+Enter');
    await b.locator('.jp-OutputArea-output', { hasText: 'b is 2' }).waitFor({ timeout: 30_000 });
    await needle.locator('.jp-OutputArea-output', { hasText: 'needle in a cell' }).waitFor({ timeout: 30_000 });
    await waitForCellMark(b, 'ok');
    await waitForCellMark(needle, 'ok');
    await page.screenshot('Shift+J and Shift+Enter ran both cells reactively');

    // C then V copies the needle cell.
    const before = await cellCount(panel);
    await commandMode(page, panel, needle);
    await keys.press('c');
    await keys.press('v');
    await waitForCellCount(panel, before + 1);
    const needles = panel.locator('.jp-Cell .jp-InputArea-editor', { hasText: NEEDLE });
    assert.equal(await needles.count(), 2, 'the cell and its copy');
    await page.screenshot('C then V copied the needle cell');

    // The notebook search finds the text in both copies of the cell.
    await commandMode(page, panel, 0);
    await keys.press('Control+f');
    const search = page.page.locator('.jp-DocumentSearch-overlay');
    await search.waitFor({ timeout: 5000 });
    await search.locator('.jp-DocumentSearch-input').fill('needle in');
    await search.locator('.jp-DocumentSearch-index-counter', { hasText: /\/\s*[2-9]/ }).waitFor({ timeout: 10_000 });
    await page.screenshot('Ctrl+F found the text');
    await keys.press('Escape');
    await search.waitFor({ state: 'hidden', timeout: 5000 });

    // Clicking the output's collapser hides the output.
    const outputs = b.locator('.jp-OutputArea');
    await b.locator('.jp-Cell-outputCollapser').click();
    await outputs.waitFor({ state: 'hidden', timeout: 5000 });
    await b.locator('.jp-OutputPlaceholder').waitFor({ timeout: 5000 });
    await page.screenshot('the output collapsed');

    // D D deletes the markdown cell, Z brings it back.
    const count = await cellCount(panel);
    await commandMode(page, panel, panel.locator('.jp-MarkdownCell'));
    await keys.press('d');
    await keys.press('d');
    await waitForCellCount(panel, count - 1);
    assert.equal(await panel.locator('.jp-MarkdownCell').count(), 0, 'the markdown cell is gone');
    await page.screenshot('the markdown cell deleted');
    await keys.press('z');
    await waitForCellCount(panel, count);
    await panel.locator('.jp-MarkdownCell', { hasText: 'Heading of the notebook' }).waitFor({ timeout: 5000 });
    await page.screenshot('Z restored the markdown cell');
    // The errors a deleted cell's footer causes are the todo test's below.
    const errors = page.errors().filter((e) => !DISPOSE_ERROR.test(e));
    assert.deepEqual(errors, [], 'console errors');
  });
});

test(
  'deleting a cell logs no error, and a cell pasted afterwards shows where the notebook has it',
  { todo: 'pending: the footer throws in dispose (_applyLanguage on a null model), reported' },
  async (t) => {
    const nb = await makeNotebook('Delete then paste', ['p = 1', 'q = p + 1', NEEDLE]);
    await withPage(t, async (page) => {
      const keys = page.page.keyboard;
      const panel = await openNotebook(page, nb.path);
      await commandMode(page, panel, 0);
      await keys.press('b');
      await waitForCellCount(panel, 4);
      await keys.press('d');
      await keys.press('d');
      await waitForCellCount(panel, 3);
      await commandMode(page, panel, 2);
      await keys.press('c');
      await keys.press('v');
      await waitForCellCount(panel, 4);
      await page.screenshot('a cell deleted, then the last cell copied below itself');
      // The copy is the last cell of the notebook: the active cell is drawn last.
      await cell(panel, 3).and(page.page.locator('.jp-mod-active')).waitFor({ timeout: 5000 });
      await keys.press('d');
      await keys.press('d');
      await waitForCellCount(panel, 3);
      await keys.press('z');
      await waitForCellCount(panel, 4);
      assert.deepEqual(page.errors(), [], 'console errors');
    });
  },
);
