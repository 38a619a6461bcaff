// Placement benchmark (npm run bench -- placement): the core's weighted rendezvous hashing in
// Wasm against a libring-style ring in JS, same ids, same machine, same run.
import { readFileSync } from 'node:fs';
import { TestCore as Core, testingWasmUrl } from '@trellis/core/testing';
import { Ring } from './ring.mjs';

const core = Core.create(readFileSync(testingWasmUrl));
const emit = (metric, value, unit, extra = {}) => console.log(JSON.stringify({ bench: 'placement', metric, value: Math.round(value * 1000) / 1000, unit, ...extra }));
const N = 1_000_000;
const ids = Array.from({ length: N }, (_, i) => `child-${i}`);
const members = (n) => Array.from({ length: n }, (_, i) => ({ name: `node-${i}`, kinds: ['w'] }));

function bestOf(runs, fn) {
  let best = Infinity, last;
  for (let i = 0; i < runs; i++) { const r = fn(); best = Math.min(best, r.ms); last = r; }
  return { ...last, ms: best };
}
const coreRun = (ms) => bestOf(5, () => { const r = core.place(ids, 'w', ms); return { ms: r.wasmMs, owners: r.owners }; });
const ringRun = (names) => bestOf(5, () => {
  const ring = new Ring(names);
  const owners = new Array(N);
  const t = performance.now();
  for (let i = 0; i < N; i++) owners[i] = ring.owner(ids[i]);
  return { ms: performance.now() - t, owners };
});
function balance(owners, n, toIndex) {
  const load = new Map();
  for (const o of owners) { const k = toIndex(o); load.set(k, (load.get(k) ?? 0) + 1); }
  return Math.max(...load.values()) / (owners.length / n);
}
const moved = (a, b, toKey) => { let m = 0; for (let i = 0; i < a.length; i++) if (toKey(a[i]) !== toKey(b[i])) m++; return m / a.length; };

const m16 = members(16), m17 = members(17), m64 = members(64);
const c16 = coreRun(m16), c64 = coreRun(m64), c17 = coreRun(m17);
emit('place_1m_16_ms', c16.ms, 'ms', { target: '<= 50' });
emit('place_1m_64_ms', c64.ms, 'ms');
emit('balance_16', balance(c16.owners, 16, (x) => x), 'max/mean', { target: '<= 1.05' });
emit('move_ratio_join_17', moved(c16.owners, c17.owners, (x) => m16[x]?.name ?? m17[x].name) / (1 / 17), 'ratio', { target: '<= 1.05' });

const n16 = m16.map((m) => m.name), n17 = m17.map((m) => m.name), n64 = m64.map((m) => m.name);
const r16 = ringRun(n16), r64 = ringRun(n64), r17 = ringRun(n17);
emit('ring_place_1m_16_ms', r16.ms, 'ms');
emit('ring_place_1m_64_ms', r64.ms, 'ms');
emit('ring_balance_16', balance(r16.owners, 16, (x) => x), 'max/mean');
emit('ring_move_ratio_join_17', moved(r16.owners, r17.owners, (x) => x) / (1 / 17), 'ratio');
emit('speedup_16', r16.ms / c16.ms, 'x', { target: '>= 3' });
emit('speedup_64', r64.ms / c64.ms, 'x');
