// Entry point of the UI tests (make test-ui): one session for every spec in specs/, run
// in file-name order, then a look at what jupyter lab logged meanwhile.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { session } from './session.mjs';

const specs = path.join(path.dirname(fileURLToPath(import.meta.url)), 'specs');
for (const file of fs.readdirSync(specs).filter((f) => f.endsWith('.spec.mjs')).sort()) {
  await import(path.join(specs, file));
}

test('jupyter lab logged no errors, tracebacks or auth warnings', () => {
  const log = fs.readFileSync(session.labLog, 'utf8');
  const bad = log
    .split('\n')
    .filter((line) => /^\[E |Traceback|JupyterServerAuthWarning|Uncaught exception/.test(line));
  assert.deepEqual(bad, [], `jupyter lab's log:\n${session.labLogTail(80)}`);
});
