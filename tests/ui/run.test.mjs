// Entry point of the UI tests (make test-ui): one session for every spec in specs/, run
// in file-name order, then a look at what jupyter lab logged meanwhile.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ARTIFACTS } from './harness.mjs';
import { session } from './session.mjs';

const specs = path.join(path.dirname(fileURLToPath(import.meta.url)), 'specs');
for (const file of fs
  .readdirSync(specs)
  .filter((f) => f.endsWith('.spec.mjs'))
  .sort()) {
  await import(path.join(specs, file));
}

/**
 * The log's lines without the tracebacks of jupyter_server's own event stream
 * (`/api/events/subscribe`, which every JupyterLab page opens): jupyter_server 2.21 drops
 * the task `write_message` returns, so an event written to a page that just went away is
 * logged as "Task exception was never retrieved ... WebSocketClosedError" (not our code:
 * our notebook socket takes those failures, tests/handlers/test_websocket_dropped_clients.py).
 * Such a block names only tornado's frames, so it is recognised by its exact shape.
 */
function withoutUpstreamWriteErrors(lines) {
  const kept = [];
  let skipped = 0;
  for (let at = 0; at < lines.length; at++) {
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

test('jupyter lab logged no errors or tracebacks, and no auth warning about our routes', (t) => {
  const { kept: lines, skipped } = withoutUpstreamWriteErrors(fs.readFileSync(session.labLog, 'utf8').split('\n'));
  if (skipped > 0)
    t.diagnostic(`left out ${skipped} unretrieved WebSocketClosedError(s) of jupyter_server's event stream`);
  const errors = lines.flatMap((line, at) => (/^\[E |Traceback|Uncaught exception/.test(line) ? [at] : []));
  if (errors.length > 0) {
    // The whole log stays next to the screenshots; the message shows each error with the
    // lines around it (what logged it comes a few lines before a traceback).
    fs.copyFileSync(session.labLog, path.join(ARTIFACTS, 'jupyter-lab.log'));
    const context = errors.map((at) => lines.slice(Math.max(0, at - 8), at + 25).join('\n'));
    assert.fail(
      `jupyter lab logged ${errors.length} error line(s) (whole log: test-artifacts/ui/jupyter-lab.log):\n${context.join('\n-----\n')}`,
    );
  }
  // JupyterServerAuthWarning lists each handler verb without an auth decorator as
  // "  - GET of <Handler> registered for <route>". jupyter_lsp's and the terminals' own
  // sockets are listed too (their business; the server still demands auth since
  // allow_unauthenticated_access=False); ours must never be.
  const unauthenticated = lines.filter((line) => /^\s*- \w+ of \S+ registered for \S*reactive/.test(line));
  assert.deepEqual(unauthenticated, [], 'our routes without an auth decorator');
});
