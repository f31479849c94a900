// The UI tests (make test-ui) run in two lanes at once, each its own process with its own
// jupyter lab and Chromium (lane-1.test.mjs, lane-2.test.mjs): most of a test is waiting
// for JupyterLab to load or a kernel to answer, so two lanes use the 2-core CI machine
// better than one. A lane runs its specs in file-name order, then looks at what its
// jupyter lab logged meanwhile.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ARTIFACTS } from './harness.mjs';
import { session } from './session.mjs';

const SPECS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'specs');

/**
 * The specs of each lane, about the same time each (measured with both lanes running at
 * once on the 2-core machine: ~120 s of tests in each lane). A spec in no lane, or in
 * both, fails both lanes.
 */
export const LANES = {
  1: [
    '01-lab',
    '02-rest-from-page',
    '03-stock-notebook',
    '13-live-stock-notebook',
    '14-reactive-runs',
    '16-kernel',
    '18-colleague-notebook',
    '20-outputs',
  ],
  2: ['11-output-trust', '15-command-mode', '17-collaboration', '19-decorations-and-sql', '21-debugger'],
};

/** Registers lane `lane`'s specs, then the check of jupyter lab's log. */
export async function runLane(lane) {
  const files = fs
    .readdirSync(SPECS)
    .filter((f) => f.endsWith('.spec.mjs'))
    .sort();
  const assigned = Object.values(LANES).flat();
  const misplaced = files
    .map((f) => f.replace(/\.spec\.mjs$/, ''))
    .filter((name) => assigned.filter((a) => a === name).length !== 1);
  test('every spec runs in exactly one lane', () => {
    assert.deepEqual(misplaced, [], 'specs in no lane or in two (tests/ui/suite.mjs LANES)');
  });
  for (const name of LANES[lane]) {
    await import(path.join(SPECS, `${name}.spec.mjs`));
  }
  test('jupyter lab logged no errors or tracebacks, and no auth warning about our routes', (t) => checkLabLog(t, lane));
}

/**
 * The log's lines without two upstream tracebacks of a page that went away mid-request:
 * - jupyter_server's own event stream (`/api/events/subscribe`, which every JupyterLab
 *   page opens): jupyter_server 2.21 drops the task `write_message` returns, so an event
 *   written to a page that just went away is logged as "Task exception was never
 *   retrieved ... WebSocketClosedError" (not our code: our notebook socket takes those
 *   failures, tests/handlers/test_websocket_dropped_clients.py);
 * - an "Uncaught exception GET" of one of JupyterLab's own routes (not ours) whose answer
 *   found the connection closed (`StreamClosedError: Stream is closed`), as a test's page
 *   closing while it loads its settings.
 * Such a block names only tornado's frames, so it is recognised by its exact shape.
 */
function closedStreamBlockEnd(lines, at) {
  const request = /^\[E [^\]]+ ServerApp\] Uncaught exception GET (\S+)/.exec(lines[at]);
  if (!request || request[1].includes('/reactive/')) return -1;
  const end = lines.indexOf('    tornado.iostream.StreamClosedError: Stream is closed', at);
  if (end === -1 || end - at > 8) return -1;
  const between = lines.slice(at + 1, end);
  const onlyTornado = between.every((line) => !/^\s*File /.test(line) || /site-packages\/tornado\//.test(line));
  return onlyTornado && between.every((line) => !/^\[[A-Z] /.test(line)) ? end : -1;
}

/**
 * jupyter-collaboration's room socket writing to a page that just went away: its handler
 * logs "Failed to write message" with a WebSocketClosedError traceback that names only its
 * own `send` and tornado's frames (jupyter_server_ydoc 3.0, handlers.py `send`). The
 * room drops that client itself; nothing of ours is on the path.
 */
function roomWriteBlockEnd(lines, at) {
  if (!/^\[E [^\]]+ ServerApp\] Failed to write message$/.test(lines[at])) return -1;
  const end = lines.indexOf('    tornado.websocket.WebSocketClosedError', at);
  if (end === -1 || end - at > 8) return -1;
  const frames = lines.slice(at + 1, end).filter((line) => /^\s*File /.test(line));
  const upstream = (line) =>
    /site-packages\/(jupyter_server_ydoc\/handlers\.py", line \d+, in send|tornado\/)/.test(line);
  return frames.length > 0 && frames.every(upstream) ? end : -1;
}

function withoutUpstreamWriteErrors(lines) {
  const kept = [];
  let skipped = 0;
  for (let at = 0; at < lines.length; at++) {
    const closed = Math.max(closedStreamBlockEnd(lines, at), roomWriteBlockEnd(lines, at));
    if (closed !== -1) {
      skipped += 1;
      at = closed;
      continue;
    }
    const upstream =
      lines[at] === 'Task exception was never retrieved' &&
      /coro=<WebSocketProtocol13\.write_message\.<locals>\.wrapper\(\).*exception=WebSocketClosedError\(\)>$/.test(
        lines[at + 1] ?? '',
      );
    const end = upstream ? lines.indexOf('tornado.websocket.WebSocketClosedError', at) : -1;
    if (end !== -1 && end - at <= 12 && lines.slice(at + 2, end).every((line) => !/^\[[A-Z] /.test(line))) {
      skipped += 1;
      at = end;
      continue;
    }
    kept.push(lines[at]);
  }
  return { kept, skipped };
}

function checkLabLog(t, lane) {
  const { kept: lines, skipped } = withoutUpstreamWriteErrors(fs.readFileSync(session.labLog, 'utf8').split('\n'));
  if (skipped > 0) t.diagnostic(`left out ${skipped} upstream traceback(s) of a page that went away mid-request`);
  const errors = lines.flatMap((line, at) => (/^\[E |Traceback|Uncaught exception/.test(line) ? [at] : []));
  if (errors.length > 0) {
    // The whole log stays next to the screenshots; the message shows each error with the
    // lines around it (what logged it comes a few lines before a traceback).
    const copy = `jupyter-lab-lane-${lane}.log`;
    fs.copyFileSync(session.labLog, path.join(ARTIFACTS, copy));
    const context = errors.map((at) => lines.slice(Math.max(0, at - 8), at + 25).join('\n'));
    assert.fail(
      `jupyter lab logged ${errors.length} error line(s) (whole log: test-artifacts/ui/${copy}):\n${context.join('\n-----\n')}`,
    );
  }
  // JupyterServerAuthWarning lists each handler verb without an auth decorator as
  // "  - GET of <Handler> registered for <route>". jupyter_lsp's and the terminals' own
  // sockets are listed too (their business; the server still demands auth since
  // allow_unauthenticated_access=False); ours must never be.
  const unauthenticated = lines.filter((line) => /^\s*- \w+ of \S+ registered for \S*reactive/.test(line));
  assert.deepEqual(unauthenticated, [], 'our routes without an auth decorator');
}
