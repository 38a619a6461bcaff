// The global view in one process (npm run bench -- global-view): three release cores over the
// simulator's virtual network, 10,000 and then 100,000 children started and running, then
// `globalChildren()` (what whichChildren('global') returns) timed on one of them: the first call,
// the best of 5 calls at rest, and the best of 5 calls after 1 % of the children restarted (so
// the view has rows to refresh: 1 % of the children terminated and as many new ones started).
// The cores are read directly, without a supervisor and so without its keeper (which decodes
// changed rows between reads): the first call here is the cold decode of every row. The cluster
// bench measures whichChildren('global') itself, through real processes.
import { readFileSync } from 'node:fs';
import { releaseWasmUrl } from '@trellis/core';
import { World } from '../dist/sim/world.js';
import { argv, emitter } from './args.mjs';

const CALLS = 5;
const SIZES = argv.includes("--small") ? [10_000] : [10_000, 100_000];
/** Share of the children that restart between the calls of the "after changes" figure. */
const CHURN_SHARE = 0.01;

const mod = new WebAssembly.Module(readFileSync(releaseWasmUrl));
const emit = emitter('global-view');

function time(core) {
  const t = performance.now();
  const v = core.globalChildren();
  return { ms: performance.now() - t, n: v.length, v };
}

for (const n of SIZES) {
  const tag = n >= 100_000 ? '100k' : '10k';
  const w = new World(mod, 7, { heartbeatMs: 250, failureTimeoutMs: 5000, syncIntervalMs: 1000 });
  for (const [i, name] of ['a', 'b', 'c'].entries()) w.addNode(name, { seeds: i ? ['sim://a'] : [] });
  w.runFor(2000);
  for (let i = 0; i < n; i++) w.startChild(['a', 'b', 'c'][i % 3], { id: `child-${i}`, kind: 'worker', args: { i }, maxRestarts: 100 });
  const up = () => w.runningIds().size === n && w.aliveNodes().every((x) => x.core.info().transitioning === 0);
  if (!w.runUntil(up, 120_000)) throw new Error(`${n} children did not all start`);
  w.runFor(2000);
  const core = w.node('a').core;
  const first = time(core);
  if (first.n !== n) throw new Error(`global view lists ${first.n} children, expected ${n}`);
  let best = Infinity;
  for (let i = 0; i < CALLS; i++) best = Math.min(best, time(core).ms);
  emit(`global_view_${tag}_first_ms`, first.ms, 'ms', { children: n });
  emit(`global_view_${tag}_ms`, best, 'ms', { children: n, calls: CALLS, note: 'best of the calls, at rest' });
  // Churn: 1 % of the children are replaced by new ones, then the view is read again.
  let bestChurn = Infinity;
  for (let round = 0; round < CALLS; round++) {
    for (let i = 0; i < n; i += Math.round(1 / CHURN_SHARE)) {
      const node = ['a', 'b', 'c'][i % 3];
      w.terminateChild(node, round === 0 ? `child-${i}` : `child-${i}-r${round - 1}`);
      w.startChild(node, { id: `child-${i}-r${round}`, kind: 'worker', args: { i }, maxRestarts: 100 });
    }
    w.runFor(3000);
    const t = time(core);
    if (t.n !== n) throw new Error(`global view lists ${t.n} children after churn, expected ${n}`);
    bestChurn = Math.min(bestChurn, t.ms);
  }
  emit(`global_view_${tag}_churn_ms`, bestChurn, 'ms', { children: n, changed: Math.round(n * CHURN_SHARE), calls: CALLS, note: 'best of the calls, 1 % restarted before each' });
}
