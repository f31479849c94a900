// Issue 15: real-time collaboration on a reactive notebook. Two people (two browser
// contexts) on one notebook see each other's edits and runs, footers included. A page
// whose network was cut (a TCP relay in front of the lab, ../proxy.mjs: Chromium's offline
// emulation leaves open WebSockets open) shows what happened meanwhile once it is back,
// and its reactive socket delivers the footers of later runs again.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { TcpRelay } from '../proxy.mjs';
import { session, withPage } from '../session.mjs';
import {
  API,
  cell,
  kernelIdle,
  makeNotebook,
  openNotebook,
  pageInOwnContext,
  typeInto,
  waitForMark,
} from '../notebook.mjs';

const TIMEOUT = 30_000;

test('two browser contexts on one reactive notebook: an edit and a run in one show in the other', async (t) => {
  const nb = await makeNotebook('Together', ['v = 1', 'print("v plus one", v + 1)']);
  await withPage(t, async (one) => {
    const two = await pageInOwnContext(`${t.name} (second person)`);
    try {
      const panelOne = await openNotebook(one, nb.path);
      const panelTwo = await openNotebook(two, nb.path);
      assert.notEqual(one.context, two.context, 'two browser contexts');

      // An edit typed in the second page shows in the first.
      await typeInto(two, panelTwo, 1, 'print("v plus two", v + 2)');
      await cell(panelOne, 1)
        .locator('.cm-content', { hasText: 'print("v plus two", v + 2)' })
        .waitFor({ timeout: TIMEOUT });
      await one.screenshot('the edit typed in the other page shows here');
      await two.screenshot('the edit typed here');

      // A Shift+Enter run in the first page: the second sees the outputs and footers.
      await typeInto(one, panelOne, 0, 'v = 40');
      await one.page.keyboard.press('Shift+Enter');
      await cell(panelTwo, 1)
        .locator('.jp-OutputArea-output', { hasText: 'v plus two 42' })
        .waitFor({ timeout: TIMEOUT });
      await cell(panelTwo, 0).locator('.cm-content', { hasText: 'v = 40' }).waitFor({ timeout: TIMEOUT });
      await waitForMark(panelTwo, 0, 'ok');
      await waitForMark(panelTwo, 1, 'ok');
      await waitForMark(panelOne, 1, 'ok');
      await two.screenshot('the run made in the other page shows here with its footers');
      await one.screenshot('the run made here');
      assert.deepEqual(two.errors(), [], 'console errors of the second page');
      assert.deepEqual(one.errors(), [], 'console errors');
    } finally {
      await two.close();
    }
  });
});

test('a reactive run on a notebook open in two pages logs no error in either', async (t) => {
  const nb = await makeNotebook('Together, quietly', ['w = 1', 'print("w is", w)']);
  await withPage(t, async (one) => {
    const two = await pageInOwnContext(`${t.name} (second person)`);
    try {
      const panelOne = await openNotebook(one, nb.path);
      const panelTwo = await openNotebook(two, nb.path);
      await cell(panelOne, 0).locator('.cm-content').click();
      await one.page.keyboard.press('Shift+Enter');
      await waitForMark(panelTwo, 1, 'ok');
      await cell(panelTwo, 1).locator('.jp-OutputArea-output', { hasText: 'w is 1' }).waitFor({ timeout: TIMEOUT });
      await kernelIdle(one);
      await two.screenshot('the run shows in the second page');
      assert.deepEqual(two.errors(), [], 'console errors of the second page');
      assert.deepEqual(one.errors(), [], 'console errors');
    } finally {
      await two.close();
    }
  });
});

test('after its network is cut and restored, a page shows the REST runs and their footers again', async (t) => {
  const nb = await makeNotebook('Reconnect', ['r = 1', 'print("r times ten", r * 10)']);
  await session.api('POST', `${API}/${nb.id}/cells/${nb.cells[0]}/run`, { wait: true });
  const relay = new TcpRelay(session.port);
  const baseUrl = await relay.start();
  try {
    await withPage(t, async (page) => {
      const sockets = [];
      page.page.on('websocket', (ws) => {
        if (/\/reactive\/api\/v1\/notebooks\/[^/]+\/ws/.test(ws.url())) {
          const entry = { url: ws.url(), closed: false, open: false };
          ws.on('close', () => (entry.closed = true));
          ws.on('framereceived', () => (entry.open = true));
          sockets.push(entry);
        }
      });
      const panel = await openNotebook(page, nb.path, { baseUrl });
      await waitForMark(panel, 1, 'ok');
      await cell(panel, 1)
        .locator('.jp-OutputArea-output', { hasText: 'r times ten 10' })
        .waitFor({ timeout: TIMEOUT });
      assert.equal(sockets.length, 1, 'one reactive socket');

      relay.down();
      try {
        const closed = Date.now() + TIMEOUT;
        while (!sockets[0].closed && Date.now() < closed) await new Promise((r) => setTimeout(r, 100));
        assert.ok(sockets[0].closed, 'the reactive socket closed when the network was cut');
        // The Reactive toggle says the notebook's connection to the server is down.
        await panel
          .locator('.jp-Toolbar-item .jp-mod-reactiveOffline', { hasText: 'Reactive (reconnecting…)' })
          .waitFor({ timeout: TIMEOUT });
        // Meanwhile, over REST (straight to the lab): an edit and a run.
        await session.api('PUT', `${API}/${nb.id}/cells/${nb.cells[0]}`, { code: 'r = 2' });
        await session.api('POST', `${API}/${nb.id}/cells/${nb.cells[0]}/run`, { wait: true });
        await page.screenshot('the network is cut');
      } finally {
        relay.up();
      }
      await cell(panel, 0).locator('.cm-content', { hasText: 'r = 2' }).waitFor({ timeout: 60_000 });
      await cell(panel, 1)
        .locator('.jp-OutputArea-output', { hasText: 'r times ten 20' })
        .waitFor({ timeout: TIMEOUT });
      await page.screenshot('back: the edit and the run made meanwhile show');
      const lost = page.page.locator('.jp-Dialog', { hasText: 'Server Connection Error' });
      if (await lost.count()) await lost.getByRole('button', { name: 'Close' }).click();

      // The reactive socket reconnects (with a backoff); a REST run made then shows its
      // footer states through it.
      const up = Date.now();
      const reopened = () => sockets.slice(1).some((s) => !s.closed && s.open);
      while (!reopened() && Date.now() - up < 60_000) await new Promise((r) => setTimeout(r, 100));
      assert.ok(reopened(), `a new reactive socket is open: ${JSON.stringify(sockets)}`);
      await panel.locator('.jp-Toolbar-item .jp-mod-reactiveOffline').waitFor({ state: 'detached', timeout: TIMEOUT });
      t.diagnostic(`the reactive socket reopened ${Date.now() - up} ms after the edits showed`);
      await session.api('PUT', `${API}/${nb.id}/cells/${nb.cells[0]}`, { code: 'r = 1 / 0' });
      await session.api('POST', `${API}/${nb.id}/cells/${nb.cells[0]}/run`, { wait: true });
      await waitForMark(panel, 0, 'failed');
      await waitForMark(panel, 1, 'blocked');
      await cell(panel, 1)
        .locator('.jp-ReactiveFooter-reason', { hasText: /ZeroDivisionError/ })
        .waitFor({ timeout: TIMEOUT });
      await page.screenshot('a REST run after the reconnect shows its footers');
      await kernelIdle(page);
      // What failed because the test cut the connection is expected; nothing else is.
      const cut =
        /WebSocket|ERR_CONNECTION_(RESET|REFUSED)|ERR_SOCKET_NOT_CONNECTED|ERR_EMPTY_RESPONSE|Failed to fetch|NetworkError/;
      assert.deepEqual(
        page.errors().filter((e) => !cut.test(e)),
        [],
        'console errors',
      );
    });
  } finally {
    await relay.stop();
  }
});
