// Issue 12, item 1, on JupyterLab's own notebook (issue 15): outputs stored in a notebook
// file are untrusted unless Jupyter's own trust mechanism (the contents manager's notebook
// signature) vouches for them, or a run in this session produced them, exactly as the stock
// notebook decides. An untrusted output is rendered in JupyterLab's safe mode: markdown and
// HTML sanitized, JavaScript and SVG not rendered. Each payload below, if it ran, would set
// a window flag and create a file through /api/contents with the page's own session
// (cookie + XSRF token). The notebook is reactive: its runs are the server's, written into
// the shared document; nothing of that may make a stored output trusted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';
import { API, cell, openNotebook, waitForMark } from '../notebook.mjs';

/** A kernel start and a run may take a while on a busy machine. */
const TIMEOUT = 60_000;
/** How long a payload gets to fire once the outputs are on the page (an <img onerror>
 * fires at once, a markdown render is asynchronous): proving that nothing happens takes
 * a wait. */
const GRACE_MS = 2000;

/** The payloads' `<img src="x">`, kept by the sanitizer without its handler, is fetched
 * (JupyterLab resolves it under /files/) and is not there: the only error expected. */
const missingImage = (error) => !/404 \(Not Found\) \(http:\/\/[^/]+\/files\/x\?/.test(error);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Script that records `name` in `window[flag]` and writes `<name>.txt` through the
 * contents API, as an attacker's output would. No double quotes, no `<` or `&`: it goes
 * inside HTML attributes and script elements. */
function payload(name, flag = '__pwned') {
  return (
    `(window.${flag} = window.${flag} || []).push('${name}');` +
    `fetch(JSON.parse(document.getElementById('jupyter-config-data').textContent).baseUrl + ` +
    `'api/contents/${name}.txt', {method: 'PUT', credentials: 'same-origin', headers: ` +
    `{'Content-Type': 'application/json', 'X-XSRFToken': decodeURIComponent(` +
    `(document.cookie.match(/_xsrf=([^;]*)/) || ['', ''])[1])}, ` +
    `body: JSON.stringify({type: 'file', format: 'text', content: 'written by a stored output'})});`
  );
}

function codeCell(id, source, outputs, metadata = {}) {
  return { id, cell_type: 'code', metadata, execution_count: null, source, outputs };
}

function display(data) {
  return { output_type: 'display_data', data, metadata: {} };
}

/** A reactive notebook file (our metadata, no id yet: the server gives it one). */
function notebook(name, cells) {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
      reactive_notebook: { name },
    },
    cells,
  };
}

/** The file names (at the contents root) starting with `prefix`. */
async function filesStartingWith(prefix) {
  const listing = await session.api('GET', 'api/contents?content=1');
  return listing.content.map((item) => item.name).filter((name) => name.startsWith(prefix));
}

/** The REST answer's cells of the notebook in the file at `filePath`. */
async function restCells(filePath) {
  const { notebooks } = await session.api('GET', `${API}?path=${encodeURIComponent(filePath)}`);
  assert.equal(notebooks.length, 1, `one notebook at ${filePath}`);
  return (await session.api('GET', `${API}/${notebooks[0].id}`)).cells;
}

/** Asserts that no stored payload ran: no window flag, no file, no script or handler in
 * the stored outputs (`first`: the index of the first cell whose outputs are stored ones). */
async function assertNothingRan(page, panel, when, first = 0) {
  await sleep(GRACE_MS);
  assert.equal(await page.page.evaluate(() => window.__pwned), undefined, `a stored output ran script (${when})`);
  assert.deepEqual(await filesStartingWith('pwned-'), [], `files written by stored outputs (${when})`);
  const outputs = panel.locator(`.jp-Notebook .jp-Cell:nth-child(n+${first + 1}) .jp-OutputArea`);
  const all = await panel.locator('.jp-Notebook .jp-Cell .jp-OutputArea').count();
  assert.equal(await outputs.count(), all - first, `the outputs checked leave out the first ${first} cell(s)`);
  assert.equal(await outputs.locator('script').count(), 0, `script elements in outputs (${when})`);
  assert.equal(await outputs.locator('[onerror], svg[onload]').count(), 0, `handlers in outputs (${when})`);
}

const RUN_HERE =
  'from IPython.display import HTML\n' +
  'HTML(\'<b class="ran">made by a run</b><script>window.__ran = (window.__ran || 0) + 1</script>\')';

test('trust: script in a reactive file’s stored outputs never runs, before or after a reactive run', async (t) => {
  // A notebook from elsewhere (downloaded, cloned): written straight to disk, never
  // signed on this machine. One cell even claims to be trusted in its metadata.
  const name = `Stored payloads ${Date.now()}.ipynb`;
  const cells = [
    codeCell('md-img', RUN_HERE, [
      display({ 'text/markdown': `**kept markdown** <img src="x" onerror="${payload('pwned-md-img')}">` }),
    ]),
    codeCell('md-script', "a = 'md'", [display({ 'text/markdown': `<script>${payload('pwned-md-script')}</script>` })]),
    codeCell('html', "b = 'html'", [
      display({
        'text/html':
          `<b class="kept">kept html</b><script>${payload('pwned-html-script')}</script>` +
          `<img src="x" onerror="${payload('pwned-html-img')}">`,
        'text/plain': '<IPython.core.display.HTML object>',
      }),
    ]),
    codeCell('js', "c = 'js'", [
      {
        output_type: 'execute_result',
        execution_count: 4,
        data: { 'application/javascript': payload('pwned-js') },
        metadata: {},
      },
    ]),
    codeCell('svg', "d = 'svg'", [
      display({
        'image/svg+xml': `<svg xmlns="http://www.w3.org/2000/svg" onload="${payload('pwned-svg')}"></svg>`,
        'text/plain': 'svg shown as text',
      }),
    ]),
    codeCell(
      'forged',
      "e = 'forged'",
      [display({ 'text/html': `<i class="forged">forged trust</i><script>${payload('pwned-forged')}</script>` })],
      { trusted: true },
    ),
  ];
  fs.writeFileSync(path.join(session.rootDir, name), JSON.stringify(notebook('Stored payloads', cells)));

  await withPage(t, async (page) => {
    const panel = await openNotebook(page, name);
    // The safe parts are shown, sanitized, as JupyterLab shows an untrusted output.
    await cell(panel, 0)
      .locator('.jp-RenderedMarkdown strong', { hasText: 'kept markdown' })
      .waitFor({ timeout: TIMEOUT });
    await cell(panel, 2)
      .locator('.jp-RenderedHTMLCommon b.kept', { hasText: 'kept html' })
      .waitFor({ timeout: TIMEOUT });
    await cell(panel, 5).locator('.jp-RenderedHTMLCommon i.forged').waitFor({ timeout: TIMEOUT });
    // An SVG is not rendered untrusted: the bundle's text is shown instead.
    await cell(panel, 4).locator('.jp-OutputArea', { hasText: 'svg shown as text' }).waitFor({ timeout: TIMEOUT });
    await assertNothingRan(page, panel, 'opened');
    await page.screenshot('stored outputs shown untrusted');

    // The reactive connection is up (the footers name what each cell writes): still nothing.
    await cell(panel, 1).locator('.jp-ReactiveFooter-write', { hasText: 'a' }).waitFor({ timeout: TIMEOUT });
    await assertNothingRan(page, panel, 'the reactive connection up');
    assert.deepEqual(
      (await restCells(name)).map((c) => c.trusted),
      [false, false, false, false, false, false],
      'the API says the stored outputs are untrusted',
    );

    // A reactive run of the first cell replaces its stored output by the run's, trusted as
    // a stock run's is: its script runs once. The other cells' outputs stay untrusted.
    await cell(panel, 0).locator('.cm-content').click();
    await page.page.keyboard.press('Shift+Enter');
    await cell(panel, 0).locator('.jp-OutputArea b.ran').waitFor({ timeout: TIMEOUT });
    await waitForMark(panel, 0, 'ok');
    await assertNothingRan(page, panel, 'after a reactive run', 1);
    await waitFor(async () => (await page.page.evaluate(() => window.__ran)) === 1, 'the run’s script', 5000);
    await page.screenshot('a reactive run replaced the first cell’s output');
    assert.deepEqual(
      (await restCells(name)).map((c) => c.trusted),
      [true, false, false, false, false, false],
      'only the cell that ran here is trusted',
    );
    assert.deepEqual(page.errors().filter(missingImage), [], 'console errors');
  });

  // Opened again (the server may have saved the file meanwhile): still nothing runs.
  await withPage({ name: `${t.name} (opened again)` }, async (page) => {
    const panel = await openNotebook(page, name);
    await cell(panel, 2).locator('.jp-RenderedHTMLCommon b.kept').waitFor({ timeout: TIMEOUT });
    await cell(panel, 1).locator('.jp-ReactiveFooter-write', { hasText: 'a' }).waitFor({ timeout: TIMEOUT });
    await assertNothingRan(page, panel, 'opened again', 1);
    // The first cell's output is a run's of this server: trusted, its script runs.
    await waitFor(async () => (await page.page.evaluate(() => window.__ran)) === 1, 'the run’s script', 10_000);
    await page.screenshot('opened again: the stored outputs stay untrusted');
    assert.deepEqual(page.errors().filter(missingImage), [], 'console errors');
  });
});

test('trust: the HTML output of a reactive run made in this tab is trusted, as a stock run’s is', async (t) => {
  const name = `Run here ${Date.now()}.ipynb`;
  fs.writeFileSync(
    path.join(session.rootDir, name),
    JSON.stringify(notebook('Run here', [codeCell('run-here', RUN_HERE, [])])),
  );
  await withPage(t, async (page) => {
    const panel = await openNotebook(page, name);
    await cell(panel, 0).locator('.cm-content').click();
    await page.page.keyboard.press('Shift+Enter');
    await cell(panel, 0).locator('.jp-OutputArea b.ran').waitFor({ timeout: TIMEOUT });
    await waitForMark(panel, 0, 'ok');
    await page.screenshot('the run’s output');
    await waitFor(async () => (await page.page.evaluate(() => window.__ran)) === 1, 'the run’s script', 5000);
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('trust: a reactive notebook signed by Jupyter opens with its stored outputs trusted', async (t) => {
  // Saved through the contents API with every cell marked trusted, as JupyterLab saves a
  // notebook it ran: the server's contents manager signs it with this server's secret.
  const name = `Signed ${Date.now()}.ipynb`;
  const trusted = { trusted: true };
  const cells = [
    codeCell(
      'html',
      "a = 'html'",
      [
        display({
          'text/html': `<b class="signed">signed html</b><script>${payload('signed-html', '__signed')}</script>`,
        }),
      ],
      trusted,
    ),
    codeCell('js', "b = 'js'", [display({ 'application/javascript': payload('signed-js', '__signed') })], trusted),
  ];
  await session.api('PUT', `api/contents/${encodeURIComponent(name)}`, {
    type: 'notebook',
    format: 'json',
    content: notebook('Signed', cells),
  });

  await withPage(t, async (page) => {
    const panel = await openNotebook(page, name);
    await cell(panel, 0).locator('.jp-OutputArea b.signed').waitFor({ timeout: TIMEOUT });
    await waitFor(
      async () => ((await page.page.evaluate(() => window.__signed)) ?? []).length === 2,
      'both signed outputs’ scripts',
    );
    assert.deepEqual((await page.page.evaluate(() => window.__signed)).sort(), ['signed-html', 'signed-js']);
    // The same payload that stored untrusted outputs could not run writes its file here:
    // the untrusted test's "no file" is not for want of a working payload.
    await waitFor(
      async () => (await filesStartingWith('signed-')).length === 2,
      'the files the trusted payloads write',
    );
    await page.screenshot('signed outputs trusted');
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});
