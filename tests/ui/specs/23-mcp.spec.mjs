// Issue 17: an agent from outside drives a notebook over MCP (the lab's own endpoint,
// <base_url>reactive/mcp, with the Jupyter token) while a person has it open in
// JupyterLab's stock notebook editor. The agent's edit and run show in the open tab live
// (they are transactions on the notebook's shared document, like every other change), and
// a person's newer edit of the same cell wins: the agent's update_cell with the code it
// last saw answers `conflict` with the person's code, and the tab keeps it.
//
// The agent here is a plain MCP client of protocol 2026-07-28, the era the SDK's client
// negotiates first: sessionless, one POST per call, answered as JSON or, once the server
// streams progress, as an SSE stream. fetch() makes each call; no client process to start.
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
  typeInto,
  sleep,
  waitUntil,
} from '../notebook.mjs';

const TIMEOUT = 30_000;
const PROTOCOL = '2026-07-28';
/** What a 2026-era client sends in every request's _meta instead of an initialize handshake. */
const CLIENT_META = {
  'io.modelcontextprotocol/protocolVersion': PROTOCOL,
  'io.modelcontextprotocol/clientInfo': { name: 'ui-test-agent', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** The JSON-RPC messages of an SSE body (each event's data lines, joined). */
function sseMessages(body) {
  return body
    .split(/\r?\n\r?\n/)
    .map((event) =>
      event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((data) => data.trim())
    .map((data) => JSON.parse(data));
}

let requestId = 0;

/**
 * One MCP tool call: `tools/call` of `name` with `args`. With `progress`, the request asks
 * for progress notifications (the server then answers with an SSE stream). Returns the
 * tool's JSON answer (its structuredContent) with `isError`, and the progress
 * notifications that came before it.
 */
async function callTool(name, args, { progress = false } = {}) {
  requestId += 1;
  const id = requestId;
  const meta = progress ? { ...CLIENT_META, progressToken: `progress-${id}` } : CLIENT_META;
  const response = await fetch(session.url('reactive/mcp'), {
    method: 'POST',
    headers: {
      Authorization: `token ${session.token}`,
      Accept: 'application/json, text/event-stream',
      'Content-Type': 'application/json',
      'MCP-Protocol-Version': PROTOCOL,
      'Mcp-Method': 'tools/call',
      'Mcp-Name': name,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: meta } }),
    signal: AbortSignal.timeout(120_000),
  });
  const body = await response.text();
  assert.equal(response.status, 200, `MCP ${name}: ${response.status} ${body.slice(0, 500)}`);
  const type = response.headers.get('content-type') ?? '';
  const messages = type.startsWith('text/event-stream') ? sseMessages(body) : [JSON.parse(body)];
  const answer = messages.find((m) => m.id === id);
  assert.ok(answer, `MCP ${name}: no answer to request ${id} in ${body.slice(0, 500)}`);
  assert.equal(answer.error, undefined, `MCP ${name}: ${JSON.stringify(answer.error)}`);
  const { result } = answer;
  const notifications = messages.filter((m) => m.method === 'notifications/progress');
  return { ...result.structuredContent, isError: result.isError === true, progress: notifications, type };
}

/** Waits until the editor of the `index`th cell shows exactly `code`. */
async function editorShows(panel, index, code) {
  await waitUntil(async () => (await sourceOf(panel, index)) === code, `cell ${index}'s editor to show ${code}`);
}

/** Waits until the `index`th cell's outputs read exactly `text`. */
async function outputShows(panel, index, text) {
  await cell(panel, index).locator('.jp-OutputArea-output', { hasText: text }).first().waitFor({ timeout: TIMEOUT });
  await waitUntil(async () => (await outputText(panel, index)) === text, `cell ${index}'s output to read ${text}`);
}

test('an MCP edit and run show live in the open stock notebook; a person’s newer edit wins', async (t) => {
  const nb = await makeNotebook('Agent over MCP', ['x = 2', 'y = x * 10\nprint(y)']);
  const [first, second] = nb.cells;
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, nb.path);
    // Set on this document only: a reload would lose it.
    await page.page.evaluate(() => {
      window.reactiveMcpSpecMark = 'not reloaded';
    });
    await page.screenshot('the notebook open in the stock editor');

    // The agent reads the notebook, then runs its first cell: the tab shows the outputs.
    const read = await callTool('get_notebook', { notebook_id: nb.id });
    assert.deepEqual(
      read.cells.map((c) => [c.id, c.code]),
      [
        [first, 'x = 2'],
        [second, 'y = x * 10\nprint(y)'],
      ],
    );
    const ran = await callTool('run_cell', { notebook_id: nb.id, cell_id: first });
    assert.equal(ran.isError, false, JSON.stringify(ran));
    assert.equal(ran.status, 'done', JSON.stringify(ran));
    await outputShows(panel, 1, '20');
    await page.screenshot('a run over MCP shows its output in the tab');

    // The agent changes the first cell, with the code it read: the tab's editor shows it.
    const started = Date.now();
    const updated = await callTool('update_cell', {
      notebook_id: nb.id,
      cell_id: first,
      expected_code: 'x = 2',
      code: 'x = 5',
    });
    assert.deepEqual([updated.isError, updated.ok, updated.cell_id, updated.index], [false, true, first, 0]);
    await editorShows(panel, 0, 'x = 5');
    const edited = Date.now() - started;
    assert.equal(await outputText(panel, 1), '20', 'an edit runs nothing');
    // Its reactive state reaches the tab too: both cells are stale until they run again.
    await cell(panel, 0).locator('.jp-ReactiveFooter-stale').waitFor({ timeout: TIMEOUT });
    await cell(panel, 1).locator('.jp-ReactiveFooter-stale').waitFor({ timeout: TIMEOUT });
    await page.screenshot('an edit over MCP shows in the tab');

    // The agent runs it (asking for progress: the answer comes as an SSE stream); the
    // dependent re-runs and the tab shows its new output.
    const rerun = await callTool('run_cell', { notebook_id: nb.id, cell_id: first }, { progress: true });
    assert.equal(rerun.isError, false, JSON.stringify(rerun));
    assert.equal(rerun.status, 'done', JSON.stringify(rerun));
    assert.deepEqual(
      rerun.cells.map((c) => [c.id, c.status]),
      [
        [first, 'success'],
        [second, 'success'],
      ],
    );
    assert.match(JSON.stringify(rerun.cells[1].outputs), /50/, 'the answer previews the new output');
    assert.match(rerun.type, /^text\/event-stream/, 'a run asked for progress streams');
    assert.ok(rerun.progress.length >= 1, 'progress notifications before the answer');
    await outputShows(panel, 1, '50');
    await editorShows(panel, 0, 'x = 5');
    await waitUntil(async () => (await panel.locator('.jp-ReactiveFooter-stale').count()) === 0, 'no stale cell');
    await page.screenshot('a run over MCP re-ran the dependent in the tab');
    console.log(`# MCP update_cell -> visible in the stock tab: ${edited} ms`);

    // A person edits the first cell in the tab; once the server has it, the agent (still
    // with the code it last saw) changes it: a conflict, and nothing changes.
    await typeInto(page, panel, 0, 'x = 7');
    await waitUntil(
      async () => (await session.api('GET', `${API}/${nb.id}`)).cells[0].code === 'x = 7',
      "the person's edit on the server",
    );
    const lost = await callTool('update_cell', {
      notebook_id: nb.id,
      cell_id: first,
      expected_code: 'x = 5',
      code: 'x = 6',
    });
    assert.equal(lost.isError, true, JSON.stringify(lost));
    assert.deepEqual([lost.ok, lost.conflict, lost.current_code], [false, true, 'x = 7']);
    assert.match(lost.error, /conflict/);
    await sleep(500); // time for an edit to arrive, were one made
    assert.equal(await sourceOf(panel, 0), 'x = 7', "the tab keeps the person's code");
    assert.equal((await session.api('GET', `${API}/${nb.id}`)).cells[0].code, 'x = 7');
    await page.screenshot('the agent’s stale edit was a conflict; the person’s code stays');

    // The person runs their code: the dependent follows it, and the agent reads it.
    await page.page.keyboard.press('Shift+Enter');
    await outputShows(panel, 1, '70');
    const after = await callTool('get_notebook', { notebook_id: nb.id });
    assert.deepEqual(
      after.cells.map((c) => c.code),
      ['x = 7', 'y = x * 10\nprint(y)'],
    );
    await page.screenshot('the person ran their edit');

    assert.equal(await page.page.evaluate(() => window.reactiveMcpSpecMark), 'not reloaded', 'the page was reloaded');
    assert.equal(await page.page.locator('.jp-Dialog').count(), 0, 'a dialog opened over the notebook');
    assert.deepEqual(page.errors(), [], 'console errors');
    assert.deepEqual(page.failedResponses, [], 'responses with status >= 400');
  });
});
