#!/usr/bin/env node
// The deterministic simulator (docs/SIMULATOR.md).
//   npm run sim -- --seeds 1000 --base-seed B    seeds B, B+1, ... (default 100 seeds from 1)
//   npm run sim -- --seed S                      one seed, with its trace summary
// Options: --bugs F (plant bugs: PlantedBug flags), --nodes N, --faults on|off,
//          --chaos-ms MS, --quiesce-ms MS, --quiet, --trace [regex] (print the trace as it runs),
//          --frames (frames sent and delivered go into the trace too), --actions (every world
//          action with its arguments), --effects [NODE] (every effect but sends, as JSON),
//          --tail N (with --trace: only the last N matching lines, printed at the end);
//          the world: by default clock, overlap rules, retries and leaves behind starts on, idle
//          links, cordons and groups off; --harsh the first four (and leaves behind starts),
//          --gentle none of them (but leaves behind starts); --clock --overlap-rules --retries
//          --idle-links --cordons --groups --leave-behind-start and --no-<model> add or leave out one; --majority runs every node with partition 'majority';
//          --quorum [N] every node with partition { quorum: N } (no N: a majority of the first
//          nodes, in seeds of more than 2 nodes).
// Ends with "sim: <seeds> seeds, <steps> steps, <violations> violations"; exits 1 on any violation.
import { readFileSync } from 'node:fs';
import { testingWasmUrl } from '@trellis/core/testing';
import { runSeed, formatViolation } from '../dist/sim/run.js';

const argv = process.argv.slice(2);
const opt = (name, def) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : def; };
const num = (name) => (opt(name) !== undefined ? Number(opt(name)) : undefined);
/** The value after a flag when there is one (`--trace REGEX`, `--effects n2`), else true. */
const optional = (name) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  return argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[i + 1] : true;
};
const mod = new WebAssembly.Module(readFileSync(process.env.TRELLIS_WASM ?? testingWasmUrl));
const one = opt('seed');
const base = Number(opt('base-seed', one ?? 1));
const count = one !== undefined ? 1 : Number(opt('seeds', 100));
const faultsOpt = opt('faults');
const options = {
  bugs: num('bugs') || undefined,
  nodes: num('nodes'),
  faults: faultsOpt === 'on' ? true : faultsOpt === 'off' ? false : undefined,
  chaosMs: num('chaos-ms'),
  quiesceMs: num('quiesce-ms'),
};
for (const k of Object.keys(options)) if (options[k] === undefined) delete options[k];
const quiet = argv.includes('--quiet');
if (argv.includes('--frames')) options.frames = true;
if (argv.includes('--actions')) options.actions = true;
const effects = optional('effects');
if (effects !== undefined) options.effects = effects;
if (argv.includes('--harsh')) options.harsh = true;
if (argv.includes('--gentle')) options.harsh = false;
if (argv.includes('--majority')) options.majority = true;
const quorumOpt = optional('quorum');
if (quorumOpt !== undefined) options.quorum = quorumOpt === true ? true : Number(quorumOpt);
for (const [flag, key] of [['clock', 'clock'], ['overlap-rules', 'overlapRules'], ['retries', 'retries'], ['idle-links', 'idleLinks'], ['cordons', 'cordons'], ['groups', 'groups'], ['leave-behind-start', 'leaveBehindStart']]) {
  if (argv.includes(`--${flag}`)) options[key] = true;
  if (argv.includes(`--no-${flag}`)) options[key] = false;
}
const trace = optional('trace');
const tail = num('tail');
const tailLines = [];
if (trace !== undefined) {
  const re = trace === true ? null : new RegExp(trace);
  options.onTrace = (line) => {
    if (re && !re.test(line)) return;
    if (tail === undefined) { console.log(line); return; }
    tailLines.push(line);
    if (tailLines.length > tail) tailLines.shift();
  };
}

let steps = 0, violations = 0, failedSeeds = 0, virtualMs = 0, worstConverge = 0, handoffs = 0;
/** Failing seeds by invariant, for the closing summary. */
const causes = new Map();
const t0 = performance.now();
for (let s = base; s < base + count; s++) {
  const r = runSeed(mod, s, options);
  steps += r.steps;
  handoffs += r.handoffs;
  virtualMs += r.virtualMs;
  if (r.convergedMs !== undefined) worstConverge = Math.max(worstConverge, r.convergedMs);
  if (r.violations.length) {
    violations += r.violations.length;
    failedSeeds++;
    const inv = r.violations[0].invariant;
    causes.set(inv, [...(causes.get(inv) ?? []), s]);
    console.log(formatViolation(r));
  } else if (!quiet && count <= 20) {
    console.log(`seed ${s}: ok (${r.nodes} nodes, faults ${r.faults ? 'on' : 'off'}, ${r.steps} steps, ${(r.virtualMs / 1000).toFixed(1)} s simulated, converged ${r.convergedMs} ms after the faults, trace ${r.traceHash})`);
  }
}
for (const l of tailLines) console.log(l);
const secs = (performance.now() - t0) / 1000;
if (!quiet) {
  console.log(`(${secs.toFixed(1)} s real, ${(count / secs).toFixed(1)} seeds/s, ${(virtualMs / 1000 / secs).toFixed(0)} simulated s per real s, ${(steps / secs).toFixed(0)} steps/s, slowest convergence ${worstConverge} ms, ${handoffs} states handed over${failedSeeds ? `, ${failedSeeds} failing seeds` : ''})`);
}
if (failedSeeds > 1) for (const [inv, seeds] of causes) console.log(`failing by ${inv}: ${seeds.length} seeds (${seeds.slice(0, 12).join(' ')}${seeds.length > 12 ? ' ...' : ''})`);
console.log(`sim: ${count} seeds, ${steps} steps, ${violations} violations`);
process.exit(violations ? 1 : 0);
