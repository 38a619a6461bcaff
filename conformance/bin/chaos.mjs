#!/usr/bin/env node
// Real-process chaos (conformance/chaos/harness.mjs):
//   npm run chaos -- --minutes N --seed S [--quorum] [--verbose]
// Prints one summary line; on any violation also the violations, where the journals are kept
// and the command that replays the schedule, and exits 1.
import { runChaos, summary } from '../chaos/harness.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : def; };
const minutes = Number(opt('minutes', 2));
const seed = Number(opt('seed', 1));
const quorum = argv.includes('--quorum');
const verbose = argv.includes('--verbose');
/** Violations printed in full; the rest are counted in the summary and kept in the journal folder. */
const SHOWN_MAX = 25;

if (!(minutes > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run chaos -- --minutes N --seed S [--quorum]');
  process.exit(2);
}
const r = await runChaos({ minutes, seed, quorum, log: verbose ? (m) => console.error(`chaos: ${m}`) : () => {} });
for (const v of r.violations.slice(0, SHOWN_MAX)) console.error(`violation ${v.kind} ${v.id}: ${v.detail}`);
console.log(summary(r));
if (r.violations.length > 0) {
  console.log(`replay: npm run chaos -- --minutes ${minutes} --seed ${seed}${quorum ? ' --quorum' : ''}   (journals kept in ${r.dir})`);
  process.exit(1);
}
