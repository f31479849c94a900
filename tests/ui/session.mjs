// The run's one UiSession (one jupyter lab, one browser), started before the first test
// and stopped after the last one, failed or not. Specs import `session` and `withPage`.
import { after, before } from 'node:test';

import { UiSession } from './harness.mjs';

export const session = new UiSession();

before(async () => {
  const started = Date.now();
  await session.start();
  console.log(`# jupyter lab on ${session.baseUrl} and chromium up in ${Date.now() - started} ms`);
});

after(async () => {
  const stopping = Date.now();
  await session.stop();
  console.log(`# jupyter lab, its kernels and chromium stopped in ${Date.now() - stopping} ms`);
});

/** Runs `body(page)` on a new page (browser context) named after the test; on failure
 * it keeps a screenshot of where it stopped (and always the page's console log).
 * `on`: the UiSession whose lab and browser to use, if not the run's one. */
export async function withPage(t, body, { on = session } = {}) {
  const page = await on.newPage(t.name);
  try {
    await body(page);
  } catch (error) {
    await page.screenshot('failure').catch(() => {});
    const errors = page.errors();
    if (errors.length) error.message += `\npage console errors:\n  ${errors.join('\n  ')}`;
    throw error;
  } finally {
    await page.close();
  }
}
