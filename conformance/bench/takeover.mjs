// Takeover step (npm run bench -- takeover): the core's own cost of a failover at 10,000 children,
// without processes or sockets. Four simulated members run the children; one is killed; each
// survivor's core steps (the release core, in this process) are timed in CPU time until every
// child runs once again. This is the part of kill_failover_ms (cluster.mjs) that both hosts share.
import { readFileSync } from 'node:fs';
import { releaseWasmUrl } from '@trellis/core';
import { World } from '../dist/sim/world.js';

const N = Number(process.env.TRELLIS_BENCH_CHILDREN ?? 10000);
// The same seed each run (the simulated failover is identical; only the CPU time varies).
const RUNS = 3;
const mod = new WebAssembly.Module(readFileSync(releaseWasmUrl));
const emit = (metric, value, unit, extra = {}) => console.log(JSON.stringify({ bench: 'takeover', metric, value: Math.round(value * 100) / 100, unit, ...extra }));
const settled = (w) => { const r = w.runningIds(); return r.size === N && [...r.values()].every((x) => x.length === 1); };

for (let run = 0; run < RUNS; run++) {
  const w = new World(mod, 7, { heartbeatMs: 250, failureTimeoutMs: 1000, syncIntervalMs: 1000 });
  const names = ['n1', 'n2', 'n3', 'n4'];
  for (const [i, n] of names.entries()) w.addNode(n, { seeds: i ? ['sim://n1'] : [] });
  w.runFor(3000);
  for (let i = 0; i < N; i++) w.startChild('n1', { id: `c-${i}`, kind: 'worker' });
  if (!w.runUntil(() => settled(w), 60000)) throw new Error('the children did not settle');
  w.runFor(3000);
  const survivors = names.filter((n) => n !== 'n2');
  const cpu = new Map(survivors.map((n) => [n, { ms: 0, max: 0, steps: 0 }]));
  for (const name of survivors) {
    const core = w.node(name).core;
    const step = core.step.bind(core);
    core.step = (o) => {
      const t = process.cpuUsage();
      const fx = step(o);
      const d = process.cpuUsage(t);
      const ms = (d.user + d.system) / 1000;
      const c = cpu.get(name);
      c.ms += ms; c.steps++; if (ms > c.max) c.max = ms;
      return fx;
    };
  }
  w.crash('n2');
  if (!w.runUntil(() => settled(w), 10000)) throw new Error('the failover did not settle');
  const worst = [...cpu.values()].reduce((a, b) => (b.ms > a.ms ? b : a));
  emit('takeover_core_cpu_ms', worst.ms, 'ms', { children: N, run, note: 'max over survivors of the CPU time of their core steps, kill to every child running again', longestStepMs: Math.round(worst.max * 100) / 100, steps: worst.steps });
}
