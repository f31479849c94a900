// Issue 15: the kernel a reactive notebook's tab shares with its reactive runs is the
// stock notebook's kernel: Tab completion and the Shift+Tab tooltip know what reactive runs
// defined; Kernel > Restart makes every cell that had run stale, and running one replays
// its ancestors; Kernel > Interrupt stops a reactive run's chain.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { withPage } from '../session.mjs';
import { cell, kernelIdle, makeNotebook, openNotebook, typeInto, waitForMark } from '../notebook.mjs';

/** Chooses `command` (its data-command) in the menu bar's menu `menu`. */
async function menu(page, menuName, command) {
  await page.page.locator('.lm-MenuBar-item', { hasText: menuName }).click();
  await page.page.locator(`.lm-Menu-item[data-command="${command}"]`).click();
}

/** Runs the `index`th cell with Shift+Enter (its editor focused, unchanged). */
async function shiftEnter(page, panel, index) {
  await cell(panel, index).locator('.cm-content').click();
  await page.page.keyboard.press('Shift+Enter');
}

test('Tab completes a name a reactive run defined; Shift+Tab shows its docstring', async (t) => {
  const nb = await makeNotebook('Completion', [
    'reactive_value_42 = 1',
    'def reactive_helper(n):\n    """Doubles n: the reactive docstring."""\n    return n * 2',
    'print("ready")',
  ]);
  await withPage(t, async (page) => {
    const keys = page.page.keyboard;
    const panel = await openNotebook(page, nb.path);
    await shiftEnter(page, panel, 0);
    await waitForMark(panel, 0, 'ok');
    await shiftEnter(page, panel, 1);
    await waitForMark(panel, 1, 'ok');
    await cell(panel, 1).locator('.jp-InputPrompt', { hasText: /\d/ }).waitFor({ timeout: 10_000 });
    await kernelIdle(page);

    // Two names start with "reactive_": the completer lists them (one would be inserted).
    // Under load a Tab sometimes gets no list (seen 2 runs in 8, the kernel idle: an open
    // question, reported); a second Tab asks again, as a user would.
    await typeInto(page, panel, 2, 'reactive_');
    const completer = page.page.locator('.jp-Completer');
    const listed = completer.locator('.jp-Completer-item', { hasText: 'reactive_value_42' });
    let tabs = 0;
    while (tabs < 3 && !(await listed.isVisible())) {
      tabs += 1;
      await keys.press('Tab');
      await listed.waitFor({ timeout: 10_000 }).catch(() => {});
    }
    if (tabs > 1) t.diagnostic(`the completer answered the Tab number ${tabs}`);
    await listed.waitFor({ timeout: 1000 });
    await completer.locator('.jp-Completer-item', { hasText: 'reactive_helper' }).waitFor({ timeout: 5000 });
    await page.screenshot('Tab lists the names reactive runs defined');
    await keys.press('Escape');
    await completer.waitFor({ state: 'hidden', timeout: 5000 });

    await typeInto(page, panel, 2, 'reactive_helper(');
    await keys.press('Shift+Tab');
    await page.page
      .locator('.jp-Tooltip', { hasText: 'Doubles n: the reactive docstring.' })
      .waitFor({ timeout: 20_000 });
    await page.screenshot('Shift+Tab shows the docstring');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('Kernel > Restart Kernel makes every cell that ran stale; Shift+Enter replays the ancestors', async (t) => {
  const nb = await makeNotebook('Restart', [
    'base = 2\nprint("base is", base)',
    'mid = base * 3\nprint("mid is", mid)',
    'print("top is", mid + 1)',
  ]);
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);
    await shiftEnter(page, panel, 0);
    await cell(panel, 2).locator('.jp-OutputArea-output', { hasText: 'top is 7' }).waitFor({ timeout: 30_000 });
    for (const index of [0, 1, 2]) await waitForMark(panel, index, 'ok');
    assert.equal(await panel.locator('.jp-ReactiveFooter-stale').count(), 0, 'stale before the restart');
    await page.screenshot('the chain ran');

    await menu(page, 'Kernel', 'kernelmenu:restart');
    const dialog = page.page.locator('.jp-Dialog');
    await dialog.waitFor({ timeout: 10_000 });
    await page.screenshot('the restart dialog');
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    for (const index of [0, 1, 2]) {
      await cell(panel, index).locator('.jp-ReactiveFooter-stale').waitFor({ timeout: 30_000 });
      await cell(panel, index).and(page.page.locator('.jp-mod-reactiveStale')).waitFor({ timeout: 5000 });
    }
    await kernelIdle(page);
    await page.screenshot('after the restart every cell is stale');

    // The last cell reads mid, which the new kernel lacks: the run replays base and mid.
    await shiftEnter(page, panel, 2);
    await waitForMark(panel, 2, 'ok');
    for (const index of [0, 1, 2]) {
      await cell(panel, index).locator('.jp-ReactiveFooter-stale').waitFor({ state: 'detached', timeout: 30_000 });
    }
    // The replayed cells' outputs come through the shared document, which may trail the
    // statuses a little: wait for each text rather than read it once.
    for (const [index, text] of [
      [0, 'base is 2'],
      [1, 'mid is 6'],
      [2, 'top is 7'],
    ]) {
      await cell(panel, index).locator('.jp-OutputArea-output', { hasText: text }).waitFor({ timeout: 30_000 });
    }
    await page.screenshot('Shift+Enter on the last cell replayed its ancestors');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('Kernel > Interrupt Kernel stops a reactive run: the running cell is interrupted, later cells do not run', async (t) => {
  const nb = await makeNotebook('Interrupt', [
    'import time\nnap = 60',
    'time.sleep(nap)\nwoke = True',
    'print("after the nap", woke)',
  ]);
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);
    await shiftEnter(page, panel, 0);
    await waitForMark(panel, 1, 'running');
    await page.screenshot('the sleeping cell runs');

    const started = Date.now();
    await menu(page, 'Kernel', 'kernelmenu:interrupt');
    await waitForMark(panel, 1, 'interrupted');
    t.diagnostic(`interrupted after ${Date.now() - started} ms`);
    // The last cell settles (no longer queued or running) without having run.
    const pending = cell(panel, 2).locator(
      '.jp-ReactiveFooter-status[data-mark="queued"], .jp-ReactiveFooter-status[data-mark="running"]',
    );
    await pending.waitFor({ state: 'detached', timeout: 30_000 });
    await kernelIdle(page);
    await page.screenshot('interrupted: the last cell did not run');
    // A cell that never ran shows no status at all; one that did would show ok.
    const marks = await cell(panel, 2)
      .locator('.jp-ReactiveFooter-status')
      .evaluateAll((nodes) => nodes.map((node) => node.dataset.mark));
    assert.ok(!marks.includes('ok'), `the last cell ran: ${marks}`);
    assert.equal(await cell(panel, 2).locator('.jp-OutputArea-output', { hasText: 'after the nap' }).count(), 0);
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});
