// Issue 12, item 1: outputs stored in a notebook file are untrusted unless Jupyter's own
// trust mechanism (the contents manager's notebook signature) vouches for them, or a run in
// this session produced them, exactly as the stock notebook decides. An untrusted output is
// rendered in JupyterLab's safe mode: markdown and HTML sanitized, JavaScript and SVG not
// rendered. Each payload below, if it ran, would set a window flag and create a file
// through /api/contents with the page's own session (cookie + XSRF token).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';
import { API, openReactive, sleep, waitFor } from '../widget.mjs';

/** A kernel start and a run may take a while on a busy machine. */
const TIMEOUT = 60_000;
/** How long a payload gets to fire once the outputs are on the page (an <img onerror>
 * fires at once, a markdown render is asynchronous). */
const GRACE_MS = 2000;

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

function codeCell(id, source, outputs) {
  return { id, cell_type: 'code', metadata: {}, execution_count: null, source, outputs };
}

function display(data) {
  return { output_type: 'display_data', data, metadata: {} };
}

function notebook(cells) {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' } },
    cells,
  };
}

/** The file names (at the contents root) starting with `prefix`. */
async function filesStartingWith(prefix) {
  const listing = await session.api('GET', 'api/contents?content=1');
  return listing.content.map((item) => item.name).filter((name) => name.startsWith(prefix));
}

/** The REST answer's cells of the notebook in the file at `path`. */
async function restCells(filePath) {
  const { notebooks } = await session.api('GET', `${API}?path=${encodeURIComponent(filePath)}`);
  assert.equal(notebooks.length, 1, `one notebook at ${filePath}`);
  return (await session.api('GET', `${API}/${notebooks[0].id}`)).cells;
}

const RUN_HERE =
  'from IPython.display import HTML\n' +
  'HTML(\'<b class="ran">made by a run</b><script>window.__ran = (window.__ran || 0) + 1</script>\')';

test('trust: script in a file’s stored outputs does not run; a run’s output does', async (t) => {
  // A notebook from elsewhere (downloaded, cloned): written straight to disk, never
  // signed on this machine.
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
  ];
  fs.writeFileSync(path.join(session.rootDir, name), JSON.stringify(notebook(cells)));

  await withPage(t, async (page) => {
    const { cells: shown } = await openReactive(page, name, cells.length);
    // The safe parts are shown, sanitized, as JupyterLab shows an untrusted output.
    await shown
      .nth(0)
      .locator('.jp-ReactiveCell-outputs strong', { hasText: 'kept markdown' })
      .waitFor({ timeout: TIMEOUT });
    await shown
      .nth(2)
      .locator('.jp-ReactiveCell-outputs b.kept', { hasText: 'kept html' })
      .waitFor({ timeout: TIMEOUT });
    await sleep(GRACE_MS);
    await page.screenshot('stored outputs shown untrusted');
    assert.equal(await page.page.evaluate(() => window.__pwned), undefined, 'a stored output ran script');
    assert.deepEqual(await filesStartingWith('pwned-'), [], 'files written by stored outputs');
    assert.equal(await shown.locator('.jp-ReactiveCell-outputs script').count(), 0, 'script elements on the page');
    assert.equal(
      await shown.locator('.jp-ReactiveCell-outputs [onerror], .jp-ReactiveCell-outputs svg[onload]').count(),
      0,
    );
    // An SVG is not rendered untrusted: the bundle's text is shown instead, as JupyterLab
    // picks the best safe MIME type of an untrusted output.
    await shown
      .nth(4)
      .locator('.jp-ReactiveCell-outputs', { hasText: 'svg shown as text' })
      .waitFor({ timeout: TIMEOUT });
    assert.deepEqual(
      (await restCells(name)).map((cell) => cell.trusted),
      [false, false, false, false, false],
      'the API says the stored outputs are untrusted',
    );

    // Running the first cell replaces its stored output by the run's: trusted, so its
    // script runs as in the stock notebook. The other cells' outputs stay untrusted.
    await shown.nth(0).locator('[data-action="run"]').click();
    await shown.nth(0).locator('.jp-ReactiveCell-outputs b.ran').waitFor({ timeout: TIMEOUT });
    await waitFor(async () => (await page.page.evaluate(() => window.__ran)) === 1, 'the run’s script', TIMEOUT);
    await sleep(GRACE_MS);
    await page.screenshot('a run made the first cell trusted');
    assert.equal(await page.page.evaluate(() => window.__pwned), undefined, 'a stored output ran script');
    assert.deepEqual(await filesStartingWith('pwned-'), [], 'files written by stored outputs');
    assert.deepEqual(
      (await restCells(name)).map((cell) => cell.trusted),
      [true, false, false, false, false],
      'only the cell that ran here is trusted',
    );
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});

test('trust: a notebook signed by Jupyter opens with its stored outputs trusted', async (t) => {
  // Saved through the contents API with every cell marked trusted, as JupyterLab saves a
  // notebook it ran: the server's contents manager signs it with this server's secret.
  const name = `Signed ${Date.now()}.ipynb`;
  const trusted = (cell) => ({ ...cell, metadata: { trusted: true } });
  const cells = [
    trusted(
      codeCell('html', "a = 'html'", [
        display({
          'text/html': `<b class="signed">signed html</b><script>${payload('signed-html', '__signed')}</script>`,
        }),
      ]),
    ),
    trusted(codeCell('js', "b = 'js'", [display({ 'application/javascript': payload('signed-js', '__signed') })])),
  ];
  await session.api('PUT', `api/contents/${encodeURIComponent(name)}`, {
    type: 'notebook',
    format: 'json',
    content: notebook(cells),
  });

  await withPage(t, async (page) => {
    const { cells: shown } = await openReactive(page, name, cells.length);
    await shown.nth(0).locator('.jp-ReactiveCell-outputs b.signed').waitFor({ timeout: TIMEOUT });
    await waitFor(
      async () => ((await page.page.evaluate(() => window.__signed)) ?? []).length === 2,
      'both signed outputs’ scripts',
      TIMEOUT,
    );
    assert.deepEqual((await page.page.evaluate(() => window.__signed)).sort(), ['signed-html', 'signed-js']);
    // The same payload that stored untrusted outputs could not run writes its file here:
    // the untrusted test's "no file" is not for want of a working payload.
    await waitFor(
      async () => (await filesStartingWith('signed-')).length === 2,
      'the files the trusted payloads write',
    );
    await page.screenshot('signed outputs trusted');
    assert.deepEqual(
      (await restCells(name)).map((cell) => cell.trusted),
      [true, true],
    );
    assert.deepEqual(page.errors(), [], 'console errors');
  });
});
