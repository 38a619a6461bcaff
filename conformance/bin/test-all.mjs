#!/usr/bin/env node
// Runs every suite and ends with one plain line: "N passed, N failed".
// Each suite is a vitest run; per-suite totals come from vitest's JSON report.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const vitest = join(root, 'node_modules', '.bin', 'vitest');
const out = mkdtempSync(join(tmpdir(), 'trellis-test-'));
const extra = process.argv.slice(2);

const suites = [
  { name: 'node', cmd: vitest, args: ['run', '--config', 'conformance/vitest.config.ts'] },
];

let passed = 0;
let failed = 0;
for (const s of suites) {
  const report = join(out, `${s.name}.json`);
  const r = spawnSync(s.cmd, [...s.args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra], {
    cwd: root,
    stdio: 'inherit',
  });
  if (existsSync(report)) {
    const j = JSON.parse(readFileSync(report, 'utf8'));
    passed += j.numPassedTests;
    failed += j.numFailedTests + (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
    // A suite that failed to load has no tests but a failed file.
    if (r.status !== 0 && j.numFailedTests === 0) failed += Math.max(1, j.numFailedTestSuites ?? 0);
  } else {
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
