// The REST API is reachable from JupyterLab's page the way the front end calls it: with
// the login cookie and the _xsrf cookie echoed as X-XSRFToken (or the page's token), and
// refused without credentials.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { session, withPage } from '../session.mjs';

test('the REST API answers the page with its cookies and XSRF token', async (t) => {
  await withPage(t, async (page) => {
    await page.openLab();
    const result = await page.page.evaluate(async () => {
      const config = JSON.parse(document.getElementById('jupyter-config-data').textContent);
      const api = `${config.baseUrl}reactive/api/v1/notebooks`;
      const cookie = document.cookie.split('; ').find((c) => c.startsWith('_xsrf='));
      const xsrf = cookie ? decodeURIComponent(cookie.slice('_xsrf='.length)) : null;
      const json = { 'Content-Type': 'application/json' };
      const answer = async (response) => ({ status: response.status, body: await response.json().catch(() => null) });
      return {
        xsrf: Boolean(xsrf),
        pageToken: Boolean(config.token),
        list: await answer(await fetch(api, { headers: { 'X-XSRFToken': xsrf } })),
        created: await answer(
          await fetch(api, {
            method: 'POST',
            headers: { ...json, 'X-XSRFToken': xsrf },
            body: JSON.stringify({ name: 'made from the page' }),
          }),
        ),
        createdWithToken: await answer(
          await fetch(api, {
            method: 'POST',
            credentials: 'omit',
            headers: { ...json, Authorization: `token ${config.token}` },
            body: JSON.stringify({ name: 'made with the page token' }),
          }),
        ),
        postWithoutXsrf: await answer(
          await fetch(api, { method: 'POST', headers: json, body: JSON.stringify({ name: 'no xsrf' }) }),
        ),
        anonymous: await answer(await fetch(api, { credentials: 'omit' })),
        listAfter: await answer(await fetch(api, { headers: { 'X-XSRFToken': xsrf } })),
      };
    });

    assert.ok(result.xsrf, 'the page has an _xsrf cookie');
    assert.ok(result.pageToken, "the page config has the server's token");
    assert.equal(result.list.status, 200);
    assert.ok(Array.isArray(result.list.body.notebooks));
    assert.equal(result.created.status, 201, JSON.stringify(result.created.body));
    assert.match(result.created.body.notebook_id, /\S/);
    assert.equal(result.createdWithToken.status, 201, JSON.stringify(result.createdWithToken.body));
    assert.equal(result.postWithoutXsrf.status, 403, 'a cookie-authenticated POST without X-XSRFToken');
    assert.equal(result.anonymous.status, 403, 'no credentials');
    const names = result.listAfter.body.notebooks.map((n) => n.name);
    assert.ok(names.includes('made from the page'), names.join(', '));
    assert.ok(names.includes('made with the page token'), names.join(', '));

    // The notebook made from the page is an ordinary file JupyterLab's browser lists.
    await page.refreshFileBrowser();
    await page.page.locator('.jp-DirListing-item', { hasText: 'made from the page' }).waitFor({ timeout: 15_000 });
    await page.screenshot('notebooks made from the page in the file browser');

    // The same API from Node with the token sees them too.
    const listed = await session.api('GET', 'reactive/api/v1/notebooks');
    assert.ok(listed.notebooks.some((n) => n.id === result.created.body.notebook_id));
    // Chromium logs the two refusals asked for above; nothing else.
    const refused = /status of 403 .*reactive\/api\/v1\/notebooks\)$/;
    assert.equal(page.errors().filter((e) => refused.test(e)).length, 2, page.errors().join('\n'));
    assert.deepEqual(
      page.errors().filter((e) => !refused.test(e)),
      [],
      'console errors',
    );
    assert.deepEqual(page.foreignRequests, [], 'requests to hosts other than 127.0.0.1');
  });
});
