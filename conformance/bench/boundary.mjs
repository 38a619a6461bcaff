// Wasm boundary and decoder benchmarks (npm run bench -- boundary).
import { readFileSync } from 'node:fs';
import { TestCore as Core, releaseWasmUrl, testingWasmUrl } from '@trellis/core/testing';
import { decoderFrameMix } from './frame-mix.mjs';

const mod = new WebAssembly.Module(readFileSync(releaseWasmUrl));
const emit = (metric, value, unit, extra = {}) => console.log(JSON.stringify({ bench: 'boundary', metric, value: Math.round(value * 1000) / 1000, unit, ...extra }));

function best(runs, fn) {
  let b = Infinity;
  for (let i = 0; i < runs; i++) { const t = performance.now(); fn(); b = Math.min(b, performance.now() - t); }
  return b;
}

const core = Core.create(mod);
core.init({ name: 'bench', incarnation: 1, scope: 'bench', listen: '', seed: 1, heartbeatMs: 250, failureTimeoutMs: 1000,
  syncIntervalMs: 1000, quorum: 0, weight: 1, maxFrameBytes: 1 << 20, kinds: ['worker'], seeds: [] });
core.step();

// One batch with no events: the fixed cost of crossing the boundary (copy in, step, decode out).
const N = 200000;
const empty = best(5, () => { for (let i = 0; i < N; i++) core.step(); });
emit('boundary_empty_us', (empty * 1000) / N, 'us', { batches: N });

// One batch of 4 KiB of events (four 1 KiB frames for a link the core does not know).
const payload = new Uint8Array(1024 - 9).fill(7);
const M = 50000;
const four = best(5, () => {
  for (let i = 0; i < M; i++) { for (let k = 0; k < 4; k++) core.frame(999, payload); core.step(); }
});
emit('boundary_4k_us', (four * 1000) / M, 'us', { batches: M, batchBytes: 4 * (payload.length + 9) });

// Decoder throughput: half random frames (rejected at some depth), half valid DIGEST frames.
const frames = decoderFrameMix();
// The decoder probe exists only in the testing build; the boundary costs above are release's.
const probe = Core.create(new WebAssembly.Module(readFileSync(testingWasmUrl)));
const K = 200000;
const dec = best(3, () => { for (let i = 0; i < K; i++) probe.fuzzFrame(frames[i % frames.length]); });
emit('decode_frames_per_s', K / (dec / 1000), 'frames/s', { mix: '50% random (25% with a valid header), 50% DIGEST' });
