// JupyterLab with the server extension loads cleanly: no console errors, no failed or
// foreign requests, and the extension answers from the page's origin.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { withPage } from '../session.mjs';

test('jupyterlab loads with the extension and no console errors', async (t) => {
  await withPage(t, async (page) => {
    await page.openLab();
    // Let the calls made right after start-up (kernelspecs, sessions, settings) finish.
    await page.page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
    await page.screenshot('lab loaded');

    const health = await page.page.evaluate(async () => {
      const { baseUrl } = JSON.parse(document.getElementById('jupyter-config-data').textContent);
      const response = await fetch(`${baseUrl}reactive/health`);
      return { status: response.status, body: await response.json() };
    });
    assert.equal(health.status, 200, 'GET /reactive/health from the page');

    assert.deepEqual(page.errors(), [], 'console errors or uncaught exceptions');
    assert.deepEqual(page.failedResponses, [], 'responses with status >= 400');
    assert.deepEqual(
      page.failedRequests.filter((r) => !/ERR_ABORTED/.test(r.failure ?? '')),
      [],
      'failed requests',
    );
    assert.deepEqual(page.foreignRequests, [], 'requests to hosts other than 127.0.0.1');
  });
});
