// Fuzzing the decoders (npm run bench -- fuzz [--frames N]): N random and mutated frames (default
// 1,000,000), half as a stranger's first frame on a fresh link of a member that holds the secret
// (the handshake decoders), half from an authenticated peer (the member decoders; the tag taken as
// checked, so every frame reaches them). Counts traps (must be 0) and rejected frames that changed
// the node's state (must be 0: a digest of everything a frame can change, before and after), and
// reports frames/s. Seeds are frames the core really sent in a simulated cluster.
import { readFileSync } from 'node:fs';
import { TestCore as Core, testingWasmUrl } from '@trellis/core/testing';
import { World } from '../dist/sim/world.js';
import { Prng } from '../dist/sim/prng.js';
import { numArg, emitter } from './args.mjs';

const N = numArg('--frames', 1_000_000);
const emit = emitter('fuzz', { digits: 3 });

const TAG_BYTES = 16, AUTH = 2, FRAGMENT = 13;
const mod = new WebAssembly.Module(readFileSync(testingWasmUrl));

/** Frames the core sent (tags stripped), from a small cluster that exercises most message types. */
function seedFrames() {
  const out = [];
  const w = new World(mod, 3);
  w.scope = 'fuzz'; // the fuzz nodes' scope, so a seed HELLO gets past the scope check
  w.observers.push((_w, _n, fx) => {
    for (const e of fx) if (e.type === 'send' && out.length < 2000) {
      const f = e.bytes[2] <= AUTH ? e.bytes : e.bytes.subarray(0, e.bytes.length - TAG_BYTES);
      if (f[2] !== FRAGMENT && f.length < 4096) out.push(f.slice());
    }
  });
  const secret = new TextEncoder().encode('k');
  w.addNode('a', { secret });
  w.addNode('b', { secret, seeds: ['sim://a'] });
  w.addNode('c', { secret, seeds: ['sim://a'] });
  w.runFor(1000);
  for (let i = 0; i < 40; i++) w.startChild('a', { id: `f-${i}`, kind: 'worker', args: { i } });
  w.runFor(1000);
  w.terminateChild('b', 'f-1');
  w.leave('c');
  w.runFor(2000);
  return out;
}

const seeds = seedFrames();
const rng = new Prng(1);
function variant() {
  const mode = rng.int(0, 5);
  if (mode === 0) return rng.bytes(rng.int(0, 96));
  let f = rng.pick(seeds).slice();
  if (mode === 1) { for (let k = rng.int(1, 4); k > 0; k--) f[rng.int(0, f.length - 1)] ^= 1 << rng.int(0, 7); }
  else if (mode === 2) f = f.slice(0, rng.int(0, f.length));
  else if (mode === 3 && f.length > 8) { f = f.slice(0, rng.int(8, f.length)); new DataView(f.buffer).setUint32(4, f.length - 8, true); }
  else if (mode === 4) { const g = new Uint8Array(f.length + rng.int(1, 16)); g.set(f); g.set(rng.bytes(g.length - f.length), f.length); f = g; }
  else if (f.length > 12) new DataView(f.buffer).setUint32(rng.int(8, f.length - 4), rng.pick([0, 1, 0xffffffff, 0x7fffffff, rng.u32()]), true);
  return f;
}

let core = Core.create(mod);
const stats = { handshake: { rejected: 0, accepted: 0 }, member: { rejected: 0, accepted: 0 } };
let traps = 0, changes = 0;
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const node = i % 2 === 0 ? 'handshake' : 'member';
  const f = variant();
  try {
    const before = core.fuzzDigest(node);
    const r = node === 'handshake' ? core.fuzzHandshake(f) : core.fuzzFrame(f);
    if (r === null) { stats[node].accepted++; continue; }
    stats[node].rejected++;
    if (core.fuzzDigest(node) !== before) changes++;
  } catch {
    traps++;
    core = Core.create(mod); // a trapped instance is not to be trusted again
  }
}
const ms = performance.now() - t0;
emit('fuzz_frames_per_s', N / (ms / 1000), 'frames/s', { frames: N, seeds: seeds.length, ...Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, `${v.rejected} rejected, ${v.accepted} accepted`])) });
emit('fuzz_traps', traps, 'count');
emit('fuzz_rejected_state_changes', changes, 'count');
if (traps || changes) process.exit(1);
