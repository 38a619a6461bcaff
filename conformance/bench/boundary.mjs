// Wasm boundary and decoder benchmarks (npm run bench -- boundary).
import { readFileSync } from 'node:fs';
import { TestCore as Core, releaseWasmUrl, testingWasmUrl } from '@trellis/core/testing';
import { decoderFrameMix } from './frame-mix.mjs';
import { emitter, best } from './args.mjs';

const mod = new WebAssembly.Module(readFileSync(releaseWasmUrl));
const emit = emitter('boundary', { digits: 3 });
const RUNS = 5;

function check(ok, what) { if (!ok) throw new Error(`boundary bench: ${what}`); }

const params = { scope: 'bench', seed: 1, heartbeatMs: 250, failureTimeoutMs: 1000, syncIntervalMs: 1000, quorum: 0, weight: 1,
  maxFrameBytes: 1 << 20, kinds: ['worker'] };

const core = Core.create(mod);
core.init({ ...params, name: 'bench', incarnation: 1, listen: '', seeds: [] });
core.step();

// One batch with no events: the fixed cost of crossing the boundary (copy in, step, decode out).
const N = 200000;
const empty = best(RUNS, () => { for (let i = 0; i < N; i++) core.step(); });
emit('boundary_empty_us', (empty * 1000) / N, 'us', { batches: N });

// ---- four real frames on an authenticated link -------------------------------------------------
// The timed core t and its twin a are fed identical events through one real v2 handshake with a
// peer b (same nonces, same frames, same times), so they hold the same link keys; the twins' output
// is compared byte for byte to prove it. Then a alone keeps b's link alive while b, beating every
// 10 ms (what a asks for: the core's floor, HEARTBEAT_INTERVAL_MIN_MS), produces a long run of
// consecutive tagged frames (HEARTBEATs, a DIGEST and MEMBERS per thousand of them), which a
// receives and we keep. t then receives that run in order, each frame carrying the tag for
// its sequence number, four frames and the time they were sent per batch.
const secret = new TextEncoder().encode('boundary bench secret');
const A_ADDR = 'a:1', A_LINK = 2, B_LINK = 1;
const nonce = (k) => new Uint8Array(16).fill(k);
const t = Core.create(mod), a = Core.create(mod), b = Core.create(mod);
const BEAT_MS = 10;
for (const c of [t, a]) c.init({ ...params, heartbeatMs: BEAT_MS, name: 'a', incarnation: 1, secret, listen: A_ADDR, seeds: [] });
b.init({ ...params, heartbeatMs: BEAT_MS, syncIntervalMs: 1000 * BEAT_MS, name: 'b', incarnation: 1, secret, listen: '', seeds: [A_ADDR] });

const sameBytes = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);
let now = 1000;
const up = { a: false, b: false };
/** Steps b, then a and t alike; b's frames for a go to a and t (or to `capture`), a's to b. */
function exchange(capture) {
  for (const e of b.step({ now })) {
    if (e.type === 'dial') {
      check(e.address === A_ADDR, `b dialed ${e.address}`);
      b.linkOpened(B_LINK, true, A_ADDR, nonce(1));
      for (const c of capture ? [a] : [a, t]) c.linkOpened(A_LINK, false, 'b', nonce(2));
    } else if (e.type === 'send') {
      check(e.link === B_LINK, `b sent on link ${e.link}`);
      if (capture) capture(e.bytes, now); else t.frame(A_LINK, e.bytes);
      a.frame(A_LINK, e.bytes);
    } else if (e.type === 'close') check(false, `b closed its link: ${e.reason}`);
    else if (e.type === 'event' && e.event.type === 'member_up') up.b = true;
    else if (e.type === 'event' && e.event.type === 'member_down') check(false, `b saw a down: ${e.event.reason}`);
  }
  const fa = a.step({ now });
  if (!capture) {
    const ft = t.step({ now });
    check(ft.length === fa.length && ft.every((e, i) => e.type === fa[i].type && (e.type !== 'send' || sameBytes(e.bytes, fa[i].bytes))),
      'the timed core and its twin answered differently to the same events');
  }
  for (const e of fa) {
    if (e.type === 'send') b.frame(B_LINK, e.bytes);
    else if (e.type === 'close') check(false, `a closed its link: ${e.reason}`);
    else if (e.type === 'event' && e.event.type === 'member_up') up.a = true;
    else if (e.type === 'event' && e.event.type === 'member_down') check(false, `a saw b down: ${e.event.reason}`);
  }
}
while (!(up.a && up.b)) { check(now < 1100, 'no member_up within 100 ms of handshake'); exchange(null); now++; }
const handshakeMs = now - 1000;

const M = 20000, PER_BATCH = 4, FRAMES = RUNS * M * PER_BATCH;
const run = new Array(FRAMES), sentAt = new Float64Array(FRAMES);
let got = 0, bytes = 0;
const types = new Map();
while (got < FRAMES) {
  exchange((f, at) => {
    if (got === FRAMES) return;
    run[got] = f; sentAt[got] = at; got++; bytes += f.length;
    types.set(f[2], (types.get(f[2]) ?? 0) + 1);
  });
  now += BEAT_MS;
}
const auth = best(RUNS, (r) => {
  const base = r * M * PER_BATCH;
  for (let i = 0; i < M; i++) {
    const k = base + i * PER_BATCH;
    for (let j = 0; j < PER_BATCH; j++) t.frame(A_LINK, run[k + j]);
    t.step({ now: sentAt[k + PER_BATCH - 1] });
  }
});
// The frames were handled, not dropped: nothing rejected, b still up on the very link after
// (sentAt span) ms of t's time, more than the failure timeout, in steps far below the pause that
// would be forgiven, so t heard b within the last failureTimeoutMs.
const rejected = Object.entries(t.counters()).filter(([, v]) => v !== 0);
check(rejected.length === 0, `frames rejected: ${JSON.stringify(rejected)}`);
const spanMs = sentAt[FRAMES - 1] - sentAt[0];
check(spanMs > params.failureTimeoutMs, `the frames span ${spanMs} ms only`);
const peer = t.members().find((m) => m.name === 'b');
check(peer?.status === 'up' && t.info().peers === 1, `b is not up on the timed core: ${JSON.stringify(peer)}`);
// The control: silence for the failure timeout (in steps a host would take) and b goes down.
for (let at = sentAt[FRAMES - 1]; at <= sentAt[FRAMES - 1] + params.failureTimeoutMs + 100; at += 50) t.step({ now: at });
check(t.members().find((m) => m.name === 'b')?.status !== 'up', 'b stays up without frames: the liveness check proves nothing');
const names = { 3: 'HEARTBEAT', 4: 'MEMBERS', 5: 'DIGEST' };
emit('boundary_4k_us', (auth * 1000) / M, 'us', {
  batches: M, framesPerBatch: PER_BATCH, batchBytes: Math.round((bytes / FRAMES) * PER_BATCH), link: 'authenticated (v2, secret), tags checked',
  frames: Object.fromEntries([...types].map(([k, v]) => [names[k] ?? k, v])), tMsSpanned: spanMs, handshakeMs,
});

// The old measurement: one batch of 4 KiB of events (four 1 KiB frames for a link the core does
// not know, dropped at the link lookup): copying and dispatch only.
const payload = new Uint8Array(1024 - 9).fill(7);
const MU = 50000;
const four = best(RUNS, () => {
  for (let i = 0; i < MU; i++) { for (let k = 0; k < 4; k++) core.frame(999, payload); core.step(); }
});
emit('boundary_4k_unauth_us', (four * 1000) / MU, 'us', { batches: MU, batchBytes: 4 * (payload.length + 9), link: 'none (999, dropped at lookup)' });

// Decoder throughput: half random frames (rejected at some depth), half valid DIGEST frames.
const frames = decoderFrameMix();
// The decoder probe exists only in the testing build; the boundary costs above are release's.
const probe = Core.create(new WebAssembly.Module(readFileSync(testingWasmUrl)));
const K = 200000;
const dec = best(3, () => { for (let i = 0; i < K; i++) probe.fuzzFrame(frames[i % frames.length]); });
emit('decode_frames_per_s', K / (dec / 1000), 'frames/s', { mix: '50% random (25% with a valid header), 50% DIGEST' });
