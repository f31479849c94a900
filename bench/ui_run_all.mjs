// The stock notebook's Run All on a reactive notebook against the same cells in a plain
// notebook, in one real `jupyter lab` and headless Chromium (the UI tests' harness): the
// time from the menu command to the last cell's prompt number (and, reactive, its footer
// saying ok), and the time to open each notebook. JupyterLab asks the cell executor for
// each cell in turn; ours gathers them into one request (labextension/src/run-batch.ts).
// Prints medians and the ratio reactive / plain; nothing is asserted.
import { UiSession } from '../tests/ui/harness.mjs';

const CELLS = Number(process.env.BENCH_CELLS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const API = 'reactive/api/v1/notebooks';
const codes = Array.from({ length: CELLS }, (_, i) => (i === 0 ? 'v0 = 0' : `v${i} = v${i - 1} + 1`));

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function plainNotebook(session, path) {
  const cells = codes.map((source, i) => ({
    cell_type: 'code',
    id: `c${i}`,
    metadata: {},
    source,
    outputs: [],
    execution_count: null,
  }));
  const metadata = {
    kernelspec: {
      name: 'python3',
      display_name: 'Python 3 (ipykernel)',
      language: 'python',
    },
  };
  const content = { nbformat: 4, nbformat_minor: 5, metadata, cells };
  await session.api('PUT', `api/contents/${encodeURIComponent(path)}`, {
    type: 'notebook',
    format: 'json',
    content,
  });
  return path;
}

async function reactiveNotebook(session, name) {
  const { notebook_id: id, path } = await session.api('POST', API, { name });
  for (const code of codes) await session.api('POST', `${API}/${id}/cells`, { type: 'python', code });
  return path;
}

async function measure(session, path, reactive, round) {
  const page = await session.newPage(`bench ${reactive ? 'reactive' : 'plain'} ${round}`);
  try {
    const opening = Date.now();
    await page.openLab(`tree/${encodeURIComponent(path)}`);
    const panel = page.page.locator('.jp-NotebookPanel:visible');
    await panel.locator('.jp-Notebook .jp-Cell').first().waitFor({ timeout: 60_000 });
    await page.page.locator('.jp-StatusBar-TextItem', { hasText: /\| Idle/ }).waitFor({ timeout: 120_000 });
    if (reactive) await panel.locator('.jp-ReactiveFooter-write').first().waitFor({ timeout: 60_000 });
    const open = Date.now() - opening;
    const running = Date.now();
    await page.page.locator('.lm-MenuBar-item', { hasText: /^Run$/ }).click();
    await page.page.locator('.lm-Menu-item', { hasText: /^Run All Cells$/ }).click();
    const last = panel.locator('.jp-Notebook .jp-Cell').last();
    await last.locator('.jp-InputArea-prompt', { hasText: /\[\d+\]/ }).waitFor({ timeout: 300_000 });
    if (reactive) await last.locator('.jp-ReactiveFooter-status[data-mark="ok"]').waitFor({ timeout: 300_000 });
    const runAll = Date.now() - running;
    await page.page.locator('.jp-StatusBar-TextItem', { hasText: /\| Idle/ }).waitFor({ timeout: 120_000 });
    return { open, runAll };
  } finally {
    await page.close();
  }
}

const session = new UiSession();
await session.start();
try {
  const plain = await plainNotebook(session, `Bench plain ${CELLS}.ipynb`);
  const reactive = await reactiveNotebook(session, `Bench reactive ${CELLS}`);
  const figures = { plain: [], reactive: [] };
  for (let round = 0; round < ROUNDS; round++) {
    figures.plain.push(await measure(session, plain, false, round));
    figures.reactive.push(await measure(session, reactive, true, round));
  }
  console.log(`# the stock notebook, ${CELLS} chained cells, ${ROUNDS} rounds (medians)`);
  for (const metric of ['open', 'runAll']) {
    const p = median(figures.plain.map((f) => f[metric]));
    const r = median(figures.reactive.map((f) => f[metric]));
    console.log(
      `${metric.padEnd(7)} plain ${String(p).padStart(6)} ms  reactive ${String(r).padStart(6)} ms  ratio ${(r / p).toFixed(2)}x`,
    );
  }
} finally {
  await session.stop();
}
