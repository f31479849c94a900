// Issue 15: JupyterLab's debugger works on a reactive notebook. A breakpoint set in the
// stock cell's gutter stops a reactive run there (the server's runner compiles each cell
// under the name the debugger gives it), the Variables panel shows the frame's locals, and
// Continue lets the run finish: the cell's output and footer come as usual.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { withPage } from '../session.mjs';
import { cell, makeNotebook, openNotebook, waitForMark } from '../notebook.mjs';

const TIMEOUT = 30_000;

test('a breakpoint stops a reactive run; Continue finishes it', async (t) => {
  const nb = await makeNotebook('Debug me', [
    'x = 21',
    'def twice(v):\n    w = v * 2\n    return w\ny = twice(x)\nprint("y is", y)',
  ]);
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);
    await page.page.locator('.jp-DebuggerBugButton').first().click();
    await page.page.locator('.jp-DebuggerBugButton[aria-pressed="true"]').first().waitFor({ timeout: TIMEOUT });
    // A breakpoint on line 2 (`w = v * 2`), in the editor's gutter.
    const gutter = cell(panel, 1).locator('.cm-breakpoint-gutter .cm-gutterElement', { hasText: '' });
    await gutter.nth(2).click();
    await page.page.locator('.jp-DebuggerBreakpoint').first().waitFor({ timeout: TIMEOUT });
    await cell(panel, 1).locator('.cm-content').click();
    await page.page.keyboard.press('Shift+Enter');

    const frames = page.page.locator('.jp-DebuggerCallstackFrame');
    await frames.first().waitFor({ timeout: TIMEOUT });
    const top = (await frames.first().innerText()).replace(/\s+/g, ' ');
    assert.match(top, /twice Cell \[\*\]:2/);
    // The Variables panel shows the paused frame's locals (once it has asked for them).
    await page.page.waitForFunction(
      () => /(^|\n)v\s*:?\s*21(\n|$)/.test(document.querySelector('.jp-DebuggerVariables')?.innerText ?? ''),
      null,
      { timeout: TIMEOUT },
    );
    await cell(panel, 1)
      .locator('.cm-line.jp-DebuggerEditor-highlight', { hasText: 'w = v * 2' })
      .waitFor({ timeout: TIMEOUT });
    await page.screenshot('the reactive run stopped at the breakpoint');

    await page.page
      .locator('.jp-DebuggerCallstack-header button[title^="Continue"], button[title^="Continue"]')
      .first()
      .click();
    await cell(panel, 1).locator('.jp-OutputArea-output', { hasText: 'y is 42' }).waitFor({ timeout: TIMEOUT });
    await waitForMark(panel, 1, 'ok');
    await page.screenshot('continued, the run finished');
    await page.page.locator('.jp-DebuggerBugButton').first().click(); // debugger off again
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});
