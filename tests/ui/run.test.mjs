// Entry point of the UI tests (make test-ui): one session for every spec in specs/, run
// in file-name order, then a look at what jupyter lab logged meanwhile.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { session } from './session.mjs';

const specs = path.join(path.dirname(fileURLToPath(import.meta.url)), 'specs');
for (const file of fs
  .readdirSync(specs)
  .filter((f) => f.endsWith('.spec.mjs'))
  .sort()) {
  await import(path.join(specs, file));
}

test('jupyter lab logged no errors or tracebacks, and no auth warning about our routes', () => {
  const lines = fs.readFileSync(session.labLog, 'utf8').split('\n');
  const errors = lines.filter((line) => /^\[E |Traceback|Uncaught exception/.test(line));
  assert.deepEqual(errors, [], `jupyter lab's log:\n${session.labLogTail(80)}`);
  // JupyterServerAuthWarning lists each handler verb without an auth decorator as
  // "  - GET of <Handler> registered for <route>". jupyter_lsp's and the terminals' own
  // sockets are listed too (their business; the server still demands auth since
  // allow_unauthenticated_access=False); ours must never be.
  const unauthenticated = lines.filter((line) => /^\s*- \w+ of \S+ registered for \S*reactive/.test(line));
  assert.deepEqual(unauthenticated, [], 'our routes without an auth decorator');
});
