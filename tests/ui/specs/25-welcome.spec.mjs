// A new JupyterLab user's first visit: the server makes their welcome notebook
// (reactive_notebook/notebooks/welcome.py) when JupyterLab reports the visit at start
// (labextension/src/welcome.ts), and the page opens it by itself. Run All draws its table
// and its three charts offline; a new `n` re-runs what reads it. A later visit opens and
// makes nothing. The run's lab has the welcome off (it would open over the other specs'
// tabs), so this spec starts a lab of its own with it on, and a new Jupyter data folder:
// a user the server has never seen.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { UiSession } from '../harness.mjs';
import { withoutUpstreamWriteErrors } from '../lab-log.mjs';
import { withPage } from '../session.mjs';
import { cell, kernelIdle, sleep, typeInto, waitForMark, waitUntil } from '../notebook.mjs';

const TIMEOUT = 60_000;
const TITLE = 'Welcome to reactive notebooks';
/** The welcome notebook's cells (reactive_notebook/notebooks/welcome_content.py CELLS). */
const PARAMETERS = 2;
const DATA = 4;
const MATPLOTLIB = 6;
const PLOTLY = 7;
const ALTAIR = 8;
const DEPENDENTS = [DATA, MATPLOTLIB, PLOTLY, ALTAIR];
const VEGA_VIEW = '.rn-RenderedVega6 .vega-embed :is(canvas, svg.marks)';

const lab = new UiSession({ welcomeNotebook: true });

/** The page is offline: every request that is not to the lab's own host fails. */
async function offline(page) {
  const host = new URL(lab.baseUrl).host;
  await page.page.route(
    (url) => url.host !== host,
    (route) => route.abort('internetdisconnected'),
  );
}

/** The answers of POST .../welcome the page gets from now on. */
function recordWelcomeAnswers(page) {
  const answers = [];
  page.page.on('response', async (response) => {
    if (
      response.request().method() === 'POST' &&
      /\/reactive\/api\/v1\/welcome$/.test(new URL(response.url()).pathname)
    ) {
      answers.push(await response.json().catch((error) => ({ error: String(error) })));
    }
  });
  return answers;
}

/** The welcome notebook's files anywhere under the lab's root folder (not JupyterLab's
 * checkpoints of them). */
function welcomeFiles() {
  return fs
    .readdirSync(lab.rootDir, { recursive: true })
    .map(String)
    .filter((file) => !file.includes('.ipynb_checkpoints'))
    .filter((file) => path.basename(file).startsWith('Welcome') && file.endsWith('.ipynb'));
}

/** The main area's tabs titled as the welcome notebook. */
function welcomeTabs(page) {
  return page.page.locator('#jp-main-dock-panel .lm-TabBar-tab', { hasText: TITLE });
}

/** The execution counts of the cells `indexes` (their prompts' text). */
async function prompts(panel, indexes) {
  return Promise.all(indexes.map((index) => cell(panel, index).locator('.jp-InputPrompt').textContent()));
}

describe("a new user's first visit", () => {
  before(async () => {
    await lab.start();
  });
  after(async () => {
    await lab.stop();
  });

  test('the welcome notebook opens by itself; Run All draws its table and charts; a new n re-runs them', async (t) => {
    await withPage(
      t,
      async (page) => {
        await offline(page);
        const answers = recordWelcomeAnswers(page);
        assert.deepEqual(welcomeFiles(), [], 'no welcome notebook before the first visit');
        await page.openLab();
        // Opened by itself: JupyterLab was asked for no file.
        const panel = page.page.locator('.jp-NotebookPanel:visible');
        await panel.waitFor({ timeout: TIMEOUT });
        await welcomeTabs(page).and(page.page.locator('.jp-mod-current')).waitFor({ timeout: TIMEOUT });
        assert.equal(answers.length, 1, 'one report of the visit');
        assert.equal(answers[0].made_now, true, JSON.stringify(answers[0]));
        assert.equal(await welcomeTabs(page).count(), 1);
        assert.deepEqual(welcomeFiles(), [answers[0].path], 'its file');
        await panel.locator('.jp-Notebook .jp-Cell').nth(9).waitFor({ timeout: TIMEOUT });
        await kernelIdle(page);
        // Nothing ran yet: no outputs, no execution counts.
        assert.equal(await panel.locator('.jp-OutputArea-output').count(), 0, 'outputs before any run');
        await page.screenshot('the welcome notebook opened by itself');

        // Run All from the Run menu, as a user would.
        await page.page.locator('.lm-MenuBar-item', { hasText: /^Run$/ }).click();
        await page.page.locator('.lm-Menu-item', { hasText: /^Run All Cells$/ }).click();
        for (const index of [PARAMETERS, ...DEPENDENTS]) await waitForMark(panel, index, 'ok', TIMEOUT);

        // The summary table: a pandas DataFrame's HTML, a row per statistic, 200 days each.
        const table = cell(panel, DATA).locator('.jp-RenderedHTMLCommon table.dataframe');
        await table.waitFor({ timeout: TIMEOUT });
        await table.scrollIntoViewIfNeeded();
        assert.deepEqual(
          await table
            .locator('thead th')
            .allTextContents()
            .then((h) =>
              h
                .map((text) => text.trim())
                .filter(Boolean)
                .slice(0, 2),
            ),
          ['count', 'mean'],
        );
        assert.deepEqual(
          (await table.locator('tbody th').allTextContents()).sort(),
          ['Campus', 'Harbour', 'Station'],
          'a row per shop',
        );
        const countAt = async () =>
          table
            .locator('tbody tr')
            .evaluateAll((rows) => rows.map((row) => row.querySelector('td').textContent.trim()));
        assert.deepEqual(await countAt(), ['200.0', '200.0', '200.0'], 'n = 200 days');
        await page.screenshot('run all the summary table');

        // matplotlib: a PNG image, drawn.
        const image = cell(panel, MATPLOTLIB).locator('.jp-RenderedImage img');
        await image.waitFor({ timeout: TIMEOUT });
        await image.scrollIntoViewIfNeeded();
        const png = await image.evaluate((img) => ({ src: img.src.slice(0, 22), width: img.naturalWidth }));
        assert.deepEqual(png.src, 'data:image/png;base64,');
        assert.ok(png.width > 200, `the PNG is drawn: ${png.width} px wide`);
        await page.screenshot('run all the matplotlib chart');

        // Plotly: drawn by the jupyterlab-plotly renderer (its div and SVG), with its bars.
        const plotly = cell(panel, PLOTLY).locator('.js-plotly-plot');
        await plotly.waitFor({ timeout: TIMEOUT });
        await plotly.scrollIntoViewIfNeeded();
        await plotly.locator('svg.main-svg .barlayer .point').first().waitFor({ timeout: TIMEOUT });
        await page.screenshot('run all the plotly chart');

        // Altair: drawn by our Vega-Lite 6 renderer, not Altair's HTML fallback (a CDN script).
        const altair = cell(panel, ALTAIR).locator(VEGA_VIEW).first();
        await altair.waitFor({ timeout: TIMEOUT });
        await altair.scrollIntoViewIfNeeded();
        const box = await altair.boundingBox();
        assert.ok(box && box.width > 50 && box.height > 50, `the Altair chart is drawn: ${JSON.stringify(box)}`);
        const altairOutput = cell(panel, ALTAIR).locator('.jp-OutputArea');
        assert.equal(await altairOutput.locator('iframe, .jp-RenderedHTMLCommon, script').count(), 0);
        assert.doesNotMatch(await altairOutput.innerText(), /Error loading script/);
        await page.screenshot('run all the altair chart');

        // n = 30, Shift+Enter: the table and the three charts run again, on 30 days.
        const countsBefore = await prompts(panel, DEPENDENTS);
        const imageBefore = await image.getAttribute('src');
        await cell(panel, PARAMETERS).scrollIntoViewIfNeeded();
        await typeInto(page, panel, PARAMETERS, 'n = 30\nseed = 1');
        await page.page.keyboard.press('Shift+Enter');
        await waitUntil(
          async () => JSON.stringify(await countAt().catch(() => [])) === JSON.stringify(['30.0', '30.0', '30.0']),
          'the table on 30 days',
          TIMEOUT,
        );
        let countsAfter = [];
        await waitUntil(
          async () => {
            countsAfter = await prompts(panel, DEPENDENTS);
            return countsAfter.every((prompt, i) => prompt !== countsBefore[i] && /\[\d+\]/.test(prompt));
          },
          `new execution counts of the dependents (were ${countsBefore.join(' ')})`,
          TIMEOUT,
        ).catch((error) => {
          error.message += `; now ${countsAfter.join(' ')}`;
          throw error;
        });
        for (const index of [PARAMETERS, ...DEPENDENTS]) await waitForMark(panel, index, 'ok', TIMEOUT);
        t.diagnostic(`execution counts ${countsBefore.join(' ')} -> ${countsAfter.join(' ')}`);
        assert.notEqual(await image.getAttribute('src'), imageBefore, 'the matplotlib chart was drawn again');
        await plotly.locator('svg.main-svg .barlayer .point').first().waitFor({ timeout: TIMEOUT });
        await cell(panel, ALTAIR).locator(VEGA_VIEW).first().waitFor({ timeout: TIMEOUT });
        await table.scrollIntoViewIfNeeded();
        await page.screenshot('n 30 re-ran the table and the charts');

        // A reload is a later visit: the notebook made is the one there is.
        const reloadAnswers = answers.length;
        await page.page.reload({ waitUntil: 'domcontentloaded' });
        await page.page.waitForSelector('#jupyterlab-splash', { state: 'detached', timeout: TIMEOUT });
        await waitUntil(() => answers.length > reloadAnswers, 'the visit reported again', TIMEOUT);
        assert.equal(answers.at(-1).made_now, false, JSON.stringify(answers.at(-1)));
        assert.equal(answers.at(-1).path, answers[0].path);
        await sleep(2000); // time enough to open a second tab, were it to
        assert.equal(await welcomeTabs(page).count(), 1, 'its tab restored, and no second one');
        assert.deepEqual(welcomeFiles(), [answers[0].path], 'one welcome notebook');
        await page.screenshot('a reload opens no second welcome notebook');

        assert.deepEqual(page.foreignRequests, [], 'no request left the machine');
        assert.deepEqual(page.errors(), [], 'console errors');
      },
      { on: lab },
    );
  });

  test('a later visit, in a new workspace, opens and makes no welcome notebook', async (t) => {
    await withPage(
      t,
      async (page) => {
        await offline(page);
        const answers = recordWelcomeAnswers(page);
        await page.openLab();
        await waitUntil(() => answers.length > 0, 'the visit reported', TIMEOUT);
        assert.equal(answers[0].made_now, false, JSON.stringify(answers[0]));
        assert.equal(answers[0].created, true, JSON.stringify(answers[0]));
        await sleep(2000); // time enough to open it, were it to
        assert.equal(await welcomeTabs(page).count(), 0, 'the welcome notebook opened again');
        assert.equal(await page.page.locator('.jp-NotebookPanel').count(), 0, 'a notebook opened');
        assert.equal(welcomeFiles().length, 1, 'one welcome notebook');
        await page.screenshot('a later visit opens nothing');
        assert.deepEqual(page.foreignRequests, [], 'no request left the machine');
        assert.deepEqual(page.errors(), [], 'console errors');
      },
      { on: lab },
    );
  });

  test('the welcome lab logged no errors or tracebacks', () => {
    const { kept } = withoutUpstreamWriteErrors(fs.readFileSync(lab.labLog, 'utf8').split('\n'));
    const errors = kept.flatMap((line, at) =>
      /^\[E |Traceback|Uncaught exception/.test(line) ? [kept.slice(Math.max(0, at - 8), at + 25).join('\n')] : [],
    );
    assert.deepEqual(errors, [], 'error lines of its jupyter lab');
  });
});
