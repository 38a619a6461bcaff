// Sync frames are capped at the sender (core-as/assembly/limits.ts SYNC_FRAME_BYTES_MAX): a start of
// 100,000 children, a newcomer's anti-entropy and the full exchange of a link re-established
// between two full members go as DELTA, SYNC_LIVE, SYNC_REQ, ACK and CLAIMS frames of at most the
// limit, never as fragments, each applied on its own; the members' digests still converge. In the
// step-cost model (world.ts StepCost) the receiver handles them one slice at a time, with its
// heartbeats between them, so nobody is taken for dead.
import { describe, it, expect, beforeAll } from 'vitest';
import type { CoreEvent } from '@trellis/core';
import { readFileSync } from 'node:fs';
import { SYNC_FRAME_BYTES_MAX, releaseWasmUrl } from '@trellis/core/testing';
import { World, type StepCost } from '../src/sim/world.js';
import { MSG, MSG_NAMES, TAG_BYTES } from '../src/protocol.js';

// The release core: a testing build checks its invariants after every step, in time linear in the
// children, which at 100,000 makes a run take hours; the simulator's seeds check them at small scale.
const release = new WebAssembly.Module(readFileSync(releaseWasmUrl));

const N = Number(process.env.SYNC_FRAMES_N ?? 100_000);
const FAILURE_MS = 1000;
const CAPPED = [MSG.DELTA, MSG.SYNC_LIVE, MSG.SYNC_REQ, MSG.ACK, MSG.CLAIMS];
/** CLAIMS kinds of a snapshot in parts (claims.ts). */
const CLAIMS_PARTS = new Set([2, 3, 4]);

type Down = Extract<CoreEvent, { type: 'member_down' }>;

/** Every frame sent, by type: how many, the largest (without its tag), and the CLAIMS kinds seen. */
function watchFrames(w: World) {
  const count = new Map<number, number>();
  const largest = new Map<number, number>();
  const claimsKinds = new Set<number>();
  w.observers.push((_w, _n, fx) => {
    for (const e of fx) if (e.type === 'send') {
      const t = e.bytes[2];
      const len = e.bytes.length - (t > MSG.AUTH ? TAG_BYTES : 0);
      count.set(t, (count.get(t) ?? 0) + 1);
      largest.set(t, Math.max(largest.get(t) ?? 0, len));
      if (t === MSG.CLAIMS) claimsKinds.add(e.bytes[8]);
    }
  });
  return { count, largest, claimsKinds };
}

/** Runs until every alive node holds `n` desired children with one digest, each child runs once, and nothing moves. */
function settle(w: World, n: number, maxMs: number): boolean {
  const end = w.now + maxMs;
  while (w.now < end) {
    w.runFor(250);
    const alive = w.aliveNodes();
    if (new Set(alive.map((x) => x.core.digest().state)).size !== 1) continue;
    if (alive.some((x) => x.core.info().transitioning !== 0)) continue;
    const running = w.runningIds();
    if (running.size === n && [...running.values()].every((on) => on.length === 1)) return true;
  }
  return false;
}

function cluster(seed: number, names: string[]): World {
  const w = new World(release, seed, { heartbeatMs: 250, failureTimeoutMs: FAILURE_MS, syncIntervalMs: 1000 });
  for (const [i, name] of names.entries()) w.addNode(name, { seeds: i ? ['sim://a'] : [] });
  w.runFor(3000);
  for (const x of names) expect(w.node(x).members.size).toBe(names.length - 1);
  return w;
}

const downs = (w: World) => w.aliveNodes().flatMap((x) => x.events.filter((e): e is Down => e.type === 'member_down').map((d) => `${x.name}: ${d.name} ${d.reason}`));

describe(`sync frames at ${N.toLocaleString('en')} children`, () => {
  // One cluster for both checks (a 100,000-child start is most of the time): a starts them alone;
  // b joins on a loaded host; c and d join; then b is cut off and comes back.
  let w: World;
  let seen: ReturnType<typeof watchFrames>;
  beforeAll(() => {
    w = cluster(16, ['a']);
    seen = watchFrames(w);
    w.startMany('a', Array.from({ length: N }, (_, i) => ({ id: `c-${i}`, kind: 'worker' })));
    expect(settle(w, N, 120_000)).toBe(true);
  }, 1_200_000);

  it('a newcomer handles the anti-entropy one frame per slice on a loaded host, its heartbeats between them: nobody is taken for dead', () => {
    // A realistic loaded-host cost for every step: 1 ms per KiB handled (a frame of the limit is a
    // 32 ms step). The old whole answer of about 7 MB would have been one step of several seconds,
    // with the newcomer's heartbeats stopped for all of it.
    const cost: StepCost = { sliceBytes: 64 * 1024, msPerKiB: 1 };
    w.stepCost = cost;
    // b's desired entries after each of its steps, and when it sent heartbeats. b has one link
    // here; a newcomer that links to three members with such a backlog queued is the case of
    // sim-handshake-backlog.test.ts (docs/SIMULATOR.md, bug 20).
    const grew: number[] = [];
    const grewAt: number[] = [];
    const beats: number[] = [];
    let had = 0;
    w.observers.push((_w, n, fx) => {
      if (n.name !== 'b') return;
      const now = n.core.info().desired;
      if (now > had) { grew.push(now - had); grewAt.push(w.now); }
      had = now;
      if (had < N && fx.some((e) => e.type === 'send' && e.bytes[2] === MSG.HEARTBEAT)) beats.push(w.now);
    });
    w.addNode('b', { seeds: ['sim://a'] });
    expect(settle(w, N, 300_000)).toBe(true);
    expect(w.node('b').core.info().desired).toBe(N);
    expect(downs(w)).toEqual([]);
    // One by one: the entries arrived over many steps, none taking more than a slice's worth
    // (two frames of about 450 specs each); a whole answer handled at once would be one step of N.
    expect(grew.length).toBeGreaterThan(N / 2000);
    expect(Math.max(...grew)).toBeLessThan(2000);
    // And b kept sending heartbeats while it took them in, never half a failure timeout apart.
    const window = grewAt[grewAt.length - 1] - grewAt[0];
    const gaps = beats.slice(1).map((t, i) => t - beats[i]);
    expect(beats.length).toBeGreaterThanOrEqual(Math.floor(window / (FAILURE_MS / 2)));
    expect(Math.max(0, ...gaps)).toBeLessThan(FAILURE_MS / 2);
    w.observers.pop();
    w.stepCost = undefined;
  }, 1_200_000);

  it('a start, newcomers and a re-established link send no frame above SYNC_FRAME_BYTES_MAX and no fragment, and the digests converge', () => {
    w.addNode('c', { seeds: ['sim://a'] });
    w.addNode('d', { seeds: ['sim://b'] });
    expect(settle(w, N, 120_000)).toBe(true);
    expect(w.node('d').core.info().desired).toBe(N);
    // b cut off and back: the full exchange between members that each hold all 100,000.
    w.partition(['b'], ['a', 'c', 'd']);
    w.runFor(3 * FAILURE_MS);
    w.heal();
    expect(settle(w, N, 120_000)).toBe(true);
    // A start of 10% more with every member up: one delta to cut, and ACKs of it from each member.
    const more = N / 10;
    w.startMany('c', Array.from({ length: more }, (_, i) => ({ id: `more-${i}`, kind: 'worker' })));
    expect(settle(w, N + more, 120_000)).toBe(true);
    for (const t of CAPPED) {
      const size = seen.largest.get(t) ?? 0;
      expect([MSG_NAMES[t], size > 0, size <= SYNC_FRAME_BYTES_MAX]).toEqual([MSG_NAMES[t], true, true]);
    }
    expect(seen.count.get(MSG.FRAGMENT) ?? 0).toBe(0);
    // The big messages really were cut: hundreds of DELTA frames, SYNC_LIVE in many, snapshots in parts.
    expect(seen.count.get(MSG.DELTA)!).toBeGreaterThan(N / 500);
    expect(seen.count.get(MSG.SYNC_LIVE)!).toBeGreaterThan(N / 10_000);
    expect([...seen.claimsKinds].filter((k) => CLAIMS_PARTS.has(k)).sort()).toEqual([2, 3, 4]);
  }, 1_200_000);
});

describe('sync frames of specs with groups', () => {
  // The cut is planned from each spec's encoded size (spec.ts encodedBytes), which must count every
  // field the spec writes: the groups list came after it and was left out, so full frames ran over
  // the limit by 4 bytes and more per spec.
  it('a start of specs in several long-named groups sends no frame above SYNC_FRAME_BYTES_MAX', () => {
    const w = cluster(7, ['a', 'b']);
    const seen = watchFrames(w);
    const groups = Array.from({ length: 8 }, (_, i) => `group-with-a-long-name-${i}`);
    const n = 2000;
    w.startMany('a', Array.from({ length: n }, (_, i) => ({ id: `g-${i}`, kind: 'worker', groups })));
    expect(settle(w, n, 60_000)).toBe(true);
    expect(seen.count.get(MSG.DELTA)!, 'the start was cut into frames').toBeGreaterThan(10);
    for (const t of [MSG.DELTA, MSG.SYNC_LIVE, MSG.ACK, MSG.CLAIMS]) expect([MSG_NAMES[t], (seen.largest.get(t) ?? 0) <= SYNC_FRAME_BYTES_MAX]).toEqual([MSG_NAMES[t], true]);
  }, 120_000);
});
