// Simulator speed (npm run bench -- sim): 5 nodes, 1,000 children, 60 s of simulated time with
// children crashing now and then, a node crash and restart, a join and a graceful leave.
import { readFileSync } from 'node:fs';
import { testingWasmUrl } from '@trellis/core/testing';
import { World } from '../dist/sim/world.js';
import { runSeed } from '../dist/sim/run.js';
import { emitter } from './args.mjs';

const mod = new WebAssembly.Module(readFileSync(testingWasmUrl));
const emit = emitter('sim', { digits: 1 });

const w = new World(mod, 42, { heartbeatMs: 250, failureTimeoutMs: 1000, syncIntervalMs: 1000 });
const names = ['a', 'b', 'c', 'd', 'e'];
for (const [i, n] of names.entries()) w.addNode(n, { seeds: i ? ['sim://a'] : [] });
w.runFor(2000);
let crashes = 0;
w.runner.exitAfter = () => (crashes++ % 50 === 0 ? { after: 5000 + (crashes % 7) * 1000, reason: 'crash' } : null);
const t0 = performance.now();
const steps0 = w.steps, v0 = w.now;
for (let i = 0; i < 1000; i++) w.startChild(names[i % 5], { id: `child-${i}`, kind: 'worker', args: { i }, maxRestarts: 100 });
w.runFor(15000);
w.crash('c');
w.runFor(5000);
w.restart('c');
w.runFor(10000);
w.addNode('f', { seeds: ['sim://b'] });
w.runFor(10000);
w.leave('f');
w.runFor(20000);
const secs = (performance.now() - t0) / 1000;
const running = [...w.runningIds().values()].filter((n) => n.length === 1).length;
emit('sim_5n_1k_speed', (w.now - v0) / 1000 / secs, 'sim s / real s', { simulatedMs: w.now - v0, realMs: Math.round(secs * 1000), running });
emit('sim_5n_1k_steps_per_s', (w.steps - steps0) / secs, 'steps/s', { steps: w.steps - steps0 });

// The random seeds npm test runs, for reference.
const t1 = performance.now();
let steps = 0, virt = 0;
for (let s = 1; s <= 100; s++) { const r = runSeed(mod, s); steps += r.steps; virt += r.virtualMs; }
const s2 = (performance.now() - t1) / 1000;
emit('sim_random_seeds_per_s', 100 / s2, 'seeds/s', { steps, simulatedS: Math.round(virt / 1000) });
