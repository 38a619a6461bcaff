#!/usr/bin/env node
// npm run sim -- --seeds 1000 --base-seed B   (seeds B, B+1, ...)  |  --seed S  (one seed)
// Options: --bugs F (plant bugs, PlantedBug flags), --nodes N, --faults on|off, --quiet.
// Ends with "sim: <seeds> seeds, <steps> steps, <violations> violations"; exits 1 on any violation.
import { readFileSync } from 'node:fs';
import { releaseWasmUrl } from '@trellis/core';
import { runSeed, formatViolation } from '../dist/sim/run.js';

const argv = process.argv.slice(2);
const opt = (name, def) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : def; };
const mod = new WebAssembly.Module(readFileSync(releaseWasmUrl));
const one = opt('seed');
const base = Number(opt('base-seed', one ?? 1));
const count = one !== undefined ? 1 : Number(opt('seeds', 100));
const bugs = Number(opt('bugs', 0)) || undefined;
const nodes = opt('nodes') ? Number(opt('nodes')) : undefined;
const faultsOpt = opt('faults');
const faults = faultsOpt === 'on' ? true : faultsOpt === 'off' ? false : 'auto';
const quiet = argv.includes('--quiet');

let steps = 0, violations = 0, virtualMs = 0;
const t0 = performance.now();
for (let s = base; s < base + count; s++) {
  const r = runSeed(mod, s, { bugs, nodes, faults });
  steps += r.steps;
  virtualMs += r.virtualMs;
  if (r.violations.length) {
    violations += r.violations.length;
    console.log(formatViolation(r, bugs));
  } else if (!quiet && count <= 20) {
    console.log(`seed ${s}: ok (${r.steps} steps, ${(r.virtualMs / 1000).toFixed(1)} s simulated, faults ${r.faults ? 'on' : 'off'}, trace ${r.traceHash})`);
  }
}
const secs = (performance.now() - t0) / 1000;
if (!quiet) console.log(`(${secs.toFixed(1)} s real, ${(virtualMs / 1000 / secs).toFixed(0)} simulated s per real s, ${(steps / secs).toFixed(0)} steps/s)`);
console.log(`sim: ${count} seeds, ${steps} steps, ${violations} violations`);
process.exit(violations ? 1 : 0);
