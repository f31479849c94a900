// Issue 16: the assistant's panel in JupyterLab's right sidebar, on a reactive notebook open
// in the stock editor. The lab's model is the fake server of tests/agent/fake_llm.py (the
// harness starts it; each step scripts its replies over its control API): the agent's
// cells appear in the open notebook, with their outputs, while its answer streams in as
// markdown; Stop ends a turn mid-stream and the model's request is closed; Revert puts
// the notebook back as it was before the agent's turn.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';
import {
  API,
  cell,
  makeNotebook,
  openNotebook,
  outputText,
  sourceOf,
  waitForCellCount,
  sleep,
  waitUntil,
} from '../notebook.mjs';

const TIMEOUT = 30_000;
const NEW_CODE = 'total = n * 2\nprint(total)';
/** The final answer: several sentences of markdown, streamed 4 characters a delta. */
const ANSWER = [
  'I added a cell that doubles **n** and ran the first cell again, so the new cell ran as its dependent:',
  '',
  '- `total` is now **6**, printed by the new cell;',
  '- the first cell still sets `n = 3`.',
  '',
  'Change `n` and the new cell follows on its own. Ask me for a plot of it if you like.',
].join('\n');
/** Seconds the fake waits before each event of the answer (about 80 events: ~3 s). */
const ANSWER_DELAY = 0.04;
/** The stopped turn's answer: the fake sends its first events (3 text deltas: "Working
 * on a"), then hangs until the client goes away. */
const HANGING = { text: 'Working on a longer answer that never ends.', interrupt: 'hang', after_events: 6 };

/** What the page shows at one moment: the last answer's text, the panel's state, the
 * open notebook's cells (the code of each and the text of its outputs). */
function observe() {
  const chat = document.querySelector('#reactive-notebook-chat');
  const answers = chat.querySelectorAll('.jp-ReactiveChat-message[data-role="assistant"] .jp-ReactiveChat-markdown');
  const notebook = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const cells = [...(notebook?.querySelectorAll('.jp-Cell') ?? [])].map((node) => ({
    code: node.querySelector('.cm-content')?.innerText ?? '',
    output: (node.querySelector('.jp-OutputArea')?.innerText ?? '').trim(),
  }));
  return {
    answer: answers.length ? answers[answers.length - 1].textContent : '',
    state: chat.dataset.state,
    cells,
  };
}

test("the panel streams an answer while the agent's cells appear in the open notebook; stop; revert", async (t) => {
  await session.fakeLlmApi('POST', '_fake/reset');
  const nb = await makeNotebook('Chat with the agent', ['n = 3']);
  const [first] = nb.cells;
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);

    // 1. Accel Shift Y opens the panel on this notebook, with the cursor in its input: a
    // provider is configured, so no notice.
    await page.page.keyboard.press('Control+Shift+Y');
    const chat = page.page.locator('#reactive-notebook-chat');
    await chat.waitFor({ state: 'visible', timeout: TIMEOUT });
    const input = chat.locator('.jp-ReactiveChat-input');
    await waitUntil(async () => (await chat.getAttribute('data-state')) === 'idle', 'the panel on the notebook');
    await waitUntil(() => input.isEnabled(), 'the input enabled');
    assert.equal(await chat.locator('.jp-ReactiveChat-notice').isVisible(), false, 'a notice on a configured chat');
    assert.match(await chat.locator('.jp-ReactiveChat-where').innerText(), /Chat with the agent/);
    assert.ok(await input.evaluate((node) => node === document.activeElement), 'the cursor is in the input');
    await page.screenshot('the chat panel opened on the notebook');

    // 2. The model will add a cell reading n, run the first cell (its dependents re-run:
    // the new cell), then answer slowly.
    await session.fakeLlmApi('POST', '_fake/replies', [
      { tool_calls: [{ name: 'create_cell', input: { notebook_id: nb.id, code: NEW_CODE } }] },
      {
        text: 'Now I run the first cell.',
        tool_calls: [{ name: 'run_cell', input: { notebook_id: nb.id, cell_id: first } }],
      },
      { text: ANSWER, delay: ANSWER_DELAY },
    ]);

    // 3. Enter sends the message; the cell appears in the notebook with its output while
    // the answer streams in.
    await input.pressSequentially('Double n in a new cell and run it.');
    await input.press('Enter');
    await waitUntil(async () => (await chat.getAttribute('data-state')) === 'busy', 'the turn to start');
    const seen = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const now = await page.page.evaluate(observe);
      seen.push(now);
      if (now.state !== 'busy') break;
      assert.ok(Date.now() < deadline, 'the turn did not end within 60 s');
      if (seen.length === 25) await page.screenshot('the answer streams in');
      await sleep(50);
    }
    const final = seen[seen.length - 1].answer;
    assert.ok(final.includes('Change n and the new cell follows on its own'), `the answer drawn: ${final}`);
    const partial = seen.filter((s) => s.answer.length > 0 && s.answer.length < final.length);
    const lengths = new Set(partial.map((s) => s.answer.length));
    assert.ok(lengths.size >= 2, `the answer did not grow while it streamed: lengths seen ${[...lengths]}`);
    assert.ok(
      partial.some((s) => s.cells.length === 2 && s.cells[1].code === NEW_CODE && s.cells[1].output === '6'),
      'the new cell and its output 6 showed in the notebook while the answer streamed',
    );

    await waitForCellCount(panel, 2);
    assert.equal(await sourceOf(panel, 1), NEW_CODE);
    assert.equal(await outputText(panel, 1), '6');
    assert.equal(await sourceOf(panel, 0), 'n = 3');
    const afterTurn = (await session.api('GET', `${API}/${nb.id}`)).cells;
    assert.deepEqual(
      afterTurn.map((c) => [c.id === first, c.code]),
      [
        [true, 'n = 3'],
        [false, NEW_CODE],
      ],
    );
    const created = afterTurn[1].id;

    // The answer is markdown drawn by JupyterLab's renderer; each tool call a step, done.
    const assistant = chat.locator('.jp-ReactiveChat-message[data-role="assistant"]').last();
    const answer = assistant.locator('.jp-ReactiveChat-markdown');
    assert.deepEqual(await answer.locator('strong').allInnerTexts(), ['n', '6']);
    assert.equal(await answer.locator('li').count(), 2);
    assert.equal(await answer.locator('code', { hasText: 'total' }).count(), 1);
    const steps = assistant.locator('.jp-ReactiveChat-step');
    assert.deepEqual(await steps.locator('.jp-ReactiveChat-stepName').allInnerTexts(), ['create_cell', 'run_cell']);
    // Each step where the model made it: the new cell before any words, the run after the
    // words that announced it, then the answer.
    const order = await assistant.evaluate((node) =>
      [...node.querySelectorAll('.jp-ReactiveChat-stepName, .jp-ReactiveChat-markdown')]
        .filter((part) => !part.closest('[hidden]'))
        .map((part) => part.textContent.trim().slice(0, 25)),
    );
    assert.deepEqual(order, ['create_cell', 'Now I run the first cell.', 'run_cell', 'I added a cell that doubl']);
    assert.deepEqual(await steps.locator('.jp-ReactiveChat-stepMark').allInnerTexts(), ['✓', '✓']);
    assert.deepEqual(await steps.evaluateAll((nodes) => nodes.map((node) => node.dataset.ok)), ['ok', 'ok']);
    const requests = await session.fakeLlmApi('GET', '_fake/requests');
    assert.equal(requests.length, 3, 'one model request per step of the turn');
    await assistant.locator('.jp-ReactiveChat-revert').waitFor({ timeout: TIMEOUT }); // the turn changed cells

    // A step opens to show its cell: the link selects that cell in the notebook.
    await steps.first().locator('summary').click();
    const link = steps.first().locator(`.jp-ReactiveChat-cellLink[data-cell-id="${created}"]`);
    await link.waitFor({ timeout: TIMEOUT });
    await page.screenshot('the answer drawn as markdown, the steps done, the cell in the notebook');
    await cell(panel, 0).locator('.jp-InputPrompt').click(); // another cell active first
    await link.click();
    await cell(panel, 1).and(page.page.locator('.jp-mod-active')).waitFor({ timeout: 5000 });
    await page.screenshot('the step link selected the new cell');

    // 4. Stop while an answer streams: the turn ends, the model's request is closed.
    await session.fakeLlmApi('POST', '_fake/replies', [HANGING]);
    await input.click();
    await input.pressSequentially('Now write me a long report.');
    await input.press('Enter');
    const stopping = chat.locator('.jp-ReactiveChat-message[data-role="assistant"]').last();
    await stopping.locator('.jp-ReactiveChat-markdown', { hasText: 'Working on a' }).waitFor({ timeout: TIMEOUT });
    const stop = chat.locator('.jp-ReactiveChat-stop');
    assert.ok(await stop.isVisible(), 'a Stop button while the answer streams');
    assert.equal(await chat.locator('.jp-ReactiveChat-send').isVisible(), false);
    await page.screenshot('an answer streams, with the stop button');
    await stop.click();
    await waitUntil(async () => (await chat.getAttribute('data-state')) === 'idle', 'the turn to stop');
    await stopping.locator('.jp-ReactiveChat-meta', { hasText: 'Stopped.' }).waitFor({ timeout: TIMEOUT });
    assert.ok(await input.isEnabled(), 'the input enabled after the stop');
    assert.ok(await chat.locator('.jp-ReactiveChat-send').isVisible(), 'the Send button back');
    assert.equal(await stop.isVisible(), false);
    const closed = await waitUntil(async () => {
      const all = await session.fakeLlmApi('GET', '_fake/requests');
      return all.length === 4 && all[3].ended ? all[3] : null;
    }, 'the model request of the stopped turn to end');
    assert.equal(closed.disconnected, true, 'the server closed the model request when stopped');
    await page.screenshot('the turn stopped');

    // 5. Revert: the stopped turn changed nothing, so the turn to revert is the one that
    // added the cell (the server's history marks it revertible); the panel offers it.
    const history = await session.api('GET', `${API}/${nb.id}/chat`);
    const revertible = history.messages.filter((m) => m.role === 'assistant' && m.revertible).map((m) => m.turn_id);
    assert.equal(revertible.length, 1, `one revertible turn: ${JSON.stringify(history.messages)}`);
    const revert = chat.locator('.jp-ReactiveChat-revert');
    await revert.waitFor({ timeout: 10_000 }).catch(() => {
      assert.fail(
        `the panel offers no "Revert last turn" though the server marks turn ${revertible[0]} revertible ` +
          '(the stopped turn after it changed nothing)',
      );
    });
    await revert.click();
    const dialog = page.page.locator('.jp-Dialog');
    await dialog.getByRole('button', { name: 'Revert' }).click();
    await dialog.waitFor({ state: 'detached', timeout: TIMEOUT });
    await waitForCellCount(panel, 1, TIMEOUT);
    assert.equal(await sourceOf(panel, 0), 'n = 3');
    await chat.locator('.jp-ReactiveChat-notice', { hasText: 'Reverted 1 cell' }).waitFor({ timeout: TIMEOUT });
    const afterRevert = (await session.api('GET', `${API}/${nb.id}`)).cells;
    assert.deepEqual(
      afterRevert.map((c) => [c.id, c.code]),
      [[first, 'n = 3']],
    );
    await page.screenshot('the turn reverted: the new cell is gone');
    // The reverted cell was the notebook's active cell (its step's link selected it):
    // gone, it is not a cell the person edited and left, to be run.
    await sleep(1000);
    assert.deepEqual(await page.page.locator('.Toastify__toast').allInnerTexts(), [], 'notifications');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});
