// Placement benchmark (npm run bench -- placement): the core's weighted rendezvous hashing in
// Wasm against a libring-style ring in JS, same ids, same machine, same run, two ways:
//   core only:   the Wasm call (ids already in Wasm memory; it hashes them, builds its slot table
//                and looks each up) vs the ring built and looked up over keys hashed beforehand;
//   end to end:  ids as JavaScript strings in, an Int32Array of member indices out, for both.
import { readFileSync } from 'node:fs';
import { TestCore as Core, testingWasmUrl } from '@trellis/core/testing';
import { Ring } from './ring.mjs';
import { emitter } from './args.mjs';

const core = Core.create(readFileSync(testingWasmUrl));
const emit = emitter('placement', { digits: 3 });
const N = 1_000_000;
const ids = Array.from({ length: N }, (_, i) => `child-${i}`);
const members = (n) => Array.from({ length: n }, (_, i) => ({ name: `node-${i}`, kinds: ['w'] }));

function bestOf(runs, fn) {
  let best = Infinity, bestE2e = Infinity, last;
  for (let i = 0; i < runs; i++) { const r = fn(); best = Math.min(best, r.ms); bestE2e = Math.min(bestE2e, r.e2eMs ?? Infinity); last = r; }
  return { ...last, ms: best, e2eMs: bestE2e };
}
const keyHashes = Uint32Array.from(ids, (id) => Ring.keyHash(id));
const coreRun = (ms) => bestOf(5, () => {
  const t = performance.now();
  const r = core.place(ids, 'w', ms);
  return { ms: r.wasmMs, e2eMs: performance.now() - t, owners: r.owners };
});
// Both ring figures include building the ring, as the core's include building its slot table.
const ringRun = (names, prehashed) => bestOf(5, () => {
  const t = performance.now();
  const ring = new Ring(names);
  const owners = new Int32Array(N);
  if (prehashed) for (let i = 0; i < N; i++) owners[i] = ring.ownerOfHash(keyHashes[i]);
  else for (let i = 0; i < N; i++) owners[i] = ring.ownerOfHash(Ring.keyHash(ids[i]));
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
emit('place_1m_16_ms', c16.ms, 'ms', { target: '<= 50', what: 'Wasm call' });
emit('place_1m_64_ms', c64.ms, 'ms', { what: 'Wasm call' });
emit('place_1m_16_e2e_ms', c16.e2eMs, 'ms', { what: 'strings in, owners out' });
emit('place_1m_64_e2e_ms', c64.e2eMs, 'ms', { what: 'strings in, owners out' });
emit('balance_16', balance(c16.owners, 16, (x) => x), 'max/mean', { target: '<= 1.05' });
emit('move_ratio_join_17', moved(c16.owners, c17.owners, (x) => m16[x]?.name ?? m17[x].name) / (1 / 17), 'ratio', { target: '<= 1.05' });

const n16 = m16.map((m) => m.name), n17 = m17.map((m) => m.name), n64 = m64.map((m) => m.name);
const p16 = ringRun(n16, true), p64 = ringRun(n64, true);
const r16 = ringRun(n16, false), r64 = ringRun(n64, false), r17 = ringRun(n17, false);
emit('ring_place_1m_16_ms', p16.ms, 'ms', { what: 'keys hashed beforehand' });
emit('ring_place_1m_64_ms', p64.ms, 'ms', { what: 'keys hashed beforehand' });
emit('ring_place_1m_16_e2e_ms', r16.ms, 'ms', { what: 'strings in, owners out' });
emit('ring_place_1m_64_e2e_ms', r64.ms, 'ms', { what: 'strings in, owners out' });
emit('ring_balance_16', balance(r16.owners, 16, (x) => x), 'max/mean');
emit('ring_move_ratio_join_17', moved(r16.owners, r17.owners, (x) => n17[x]) / (1 / 17), 'ratio');
emit('speedup_core_16', p16.ms / c16.ms, 'x', { target: '>= 3' });
emit('speedup_core_64', p64.ms / c64.ms, 'x');
emit('speedup_e2e_16', r16.ms / c16.e2eMs, 'x');
emit('speedup_e2e_64', r64.ms / c64.e2eMs, 'x');
