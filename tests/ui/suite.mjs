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
import { withoutUpstreamWriteErrors } from './lab-log.mjs';
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
    '22-chat',
    '25-welcome',
  ],
  2: [
    '11-output-trust',
    '15-command-mode',
    '17-collaboration',
    '19-decorations-and-sql',
    '21-debugger',
    '23-mcp',
    '24-vega6-charts',
  ],
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
