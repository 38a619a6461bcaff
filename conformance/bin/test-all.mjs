#!/usr/bin/env node
// Runs every suite: everything under Node (unit, simulator, conformance clusters of Node, Bun
// and mixed processes), the real-process chaos run, then the vectors suites inside the Bun
// runtime. Prints per-host
// conformance lines, and ends with one plain line: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (n) => join(root, 'node_modules', '.bin', n);
const out = mkdtempSync(join(tmpdir(), 'trellis-test-'));
const extra = process.argv.slice(2);

const suites = [
  { name: 'node', cmd: bin('vitest'), args: ['run', '--config', 'conformance/vitest.config.ts'], env: { TRELLIS_EXPECT_RUNTIME: 'node' } },
  // Real-process chaos with a fixed seed, alone (it needs the cores to itself more than the others).
  { name: 'chaos', cmd: bin('vitest'), args: ['run', '--config', 'conformance/chaos/vitest.config.ts'], env: {} },
  { name: 'bun-runtime', cmd: bin('bun'), args: ['--bun', 'x', 'vitest', 'run', '--config', 'conformance/vitest.bun.config.ts'], env: { TRELLIS_EXPECT_RUNTIME: 'bun' } },
];

let passed = 0;
let failed = 0;
const lines = [];
for (const s of suites) {
  const report = join(out, `${s.name}.json`);
  const r = spawnSync(s.cmd, [...s.args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra], {
    cwd: root, stdio: 'inherit', env: { ...process.env, ...s.env },
  });
  if (!existsSync(report)) { failed += 1; lines.push(`${s.name}: no report (exit ${r.status})`); continue; }
  const j = JSON.parse(readFileSync(report, 'utf8'));
  let p = 0, f = 0;
  const byHost = new Map();
  for (const file of j.testResults ?? []) {
    const m = /cluster-(\w+)\.test\.ts$/.exec(file.name);
    for (const a of file.assertionResults ?? []) {
      const ok = a.status === 'passed';
      if (ok) p++; else f++;
      if (m) {
        const h = byHost.get(m[1]) ?? { p: 0, f: 0 };
        if (ok) h.p++; else h.f++;
        byHost.set(m[1], h);
      }
    }
    // a file that failed to load has no assertions but counts as a failure
    if ((file.assertionResults ?? []).length === 0 && file.status === 'failed') f++;
  }
  if (r.status !== 0 && f === 0) f++;
  passed += p;
  failed += f;
  for (const [h, c] of byHost) lines.push(`conformance[${h}]: ${c.p} passed, ${c.f} failed`);
  if (s.name === 'bun-runtime') lines.push(`vectors[bun]: ${p} passed, ${f} failed`);
  if (s.name === 'chaos') lines.push(`chaos: ${p} passed, ${f} failed`);
}
for (const l of lines) console.log(l);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
