// The quorum lease towards members that never knew the lost member (DESIGN.md "Handover, overlap
// and partitions"; docs/SIMULATOR.md "Majority mode", seed 525): a node that joins, or links up,
// while the others wait out a lost member's lease must wait it out too. In both quorum modes the
// wait a member still owes travels on every new link before its claims, and again when it grows.
import { describe, it, expect } from 'vitest';
import type { CoreEvent } from '@trellis/core';
import type { World } from '../src/sim/world.js';
import { decodeFrame, encodeFrame, MSG_LEASE_WAIT, TAG_BYTES } from '../src/protocol.js';
import { runSeed, formatViolation } from '../src/sim/run.js';
import { cluster, settled, sweepSeeds, wasmModule } from './support.js';

const IDS = Array.from({ length: 40 }, (_, i) => `q${i}`);
/** Children take this long to stop, so a lost member's children still run well after its cut. */
const STOP_MS = 250;
const SHUTDOWN_MS = 300;

/** Every step: each id on two nodes at once (the no-overlap rule of quorum mode), once per id. */
function watchOverlaps(w: World): string[] {
  const seen: string[] = [];
  const ids = new Set<string>();
  w.observers.push((world) => {
    for (const [id, ns] of world.runningIds()) {
      if (ns.length < 2 || ids.has(id)) continue;
      ids.add(id);
      seen.push(`${id}@${ns.join('/')}@${world.now}`);
    }
  });
  return seen;
}

const downOn = (w: World, at: string, who: string) => w.node(at).events.some((e: CoreEvent) => e.type === 'member_down' && e.name === who);

/**
 * Four members with quorum `quorum`, d running some of 40 children; d is cut off; `join` is
 * called once the others have declared d down ('declared') or right after the cut ('cut').
 */
function lostMemberThenJoiner(quorum: number, when: 'declared' | 'cut', watch?: (w: World) => void): { w: World; onD: string[]; overlaps: string[] } {
  const w = cluster(4, { quorum }, 525);
  watch?.(w);
  w.runner.shutdownTime = () => STOP_MS;
  for (const id of IDS) w.startChild('a', { id, kind: 'worker', args: { id }, shutdownMs: SHUTDOWN_MS });
  expect(w.runUntil(() => settled(w, IDS), 5000)).toBe(true);
  const onD = [...w.node('d').running.keys()];
  expect(onD.length).toBeGreaterThan(0);
  const overlaps = watchOverlaps(w);
  w.partition(['d'], ['a', 'b', 'c', 'j']);
  if (when === 'declared') expect(w.runUntil(() => ['a', 'b', 'c'].every((x) => downOn(w, x, 'd')), 3000)).toBe(true);
  else w.runFor(50);
  w.addNode('j', { quorum, seeds: ['sim://a'] });
  return { w, onD, overlaps };
}

describe('the quorum lease reaches a member that joins while a lost member may still run children', () => {
  it.each([
    [3, 'declared'],
    [3, 'cut'],
  ] as const)('{ quorum: %i }, joiner added when d is %s: no id of d runs on two members at once, and every one moves', (quorum, when) => {
    const { w, onD, overlaps } = lostMemberThenJoiner(quorum, when);
    const moved = w.runUntil(() => IDS.every((id) => { const r = w.runningIds().get(id); return r?.length === 1 && r[0] !== 'd'; }), 10_000);
    expect(moved).toBe(true);
    expect(overlaps).toEqual([]);
    // The joiner ran some of d's children: the case the lease must cover did happen.
    expect(onD.some((id) => w.runningIds().get(id)?.[0] === 'j')).toBe(true);
  });
});

describe('LEASE_WAIT (frame 29)', () => {
  it('the frames the core sends decode as docs/PROTOCOL.md says and re-encode identically', () => {
    const frames: Uint8Array[] = [];
    const { w } = lostMemberThenJoiner(3, 'declared', (world) => world.observers.push((_w, _n, fx) => {
      for (const e of fx) if (e.type === 'send' && e.bytes[2] === MSG_LEASE_WAIT) frames.push(e.bytes);
    }));
    expect(w.runUntil(() => IDS.every((id) => w.runningIds().get(id)?.length === 1), 10_000)).toBe(true);
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) {
      const d = decodeFrame(f, TAG_BYTES);
      expect(d.type).toBe(MSG_LEASE_WAIT);
      expect(Number(d.fields[0])).toBeGreaterThan(0);
      expect(encodeFrame(d)).toEqual(f.subarray(0, f.length - TAG_BYTES));
    }
  });
});

describe('simulator: seeds that found a { quorum: N } problem (--quorum; docs/SIMULATOR.md "Quorum mode")', () => {
  it.each([
    [1263, { quorum: true }, 'a leaving node that loses its quorum stops its children at once (no handoff first)'],
    [1102, { quorum: true }, 'a start ACK counts with the quorum judged at the end of its step, not one that still counted a member whose silence ran out'],
    [46, { quorum: 3, nodes: 4 }, 'an ACK held while the quorum was lost does not count once its holder is gone'],
    [192, { quorum: true }, 'the same, another schedule'],
  ] as const)('seed %i %o: %s', (seed, options) => {
    const r = runSeed(wasmModule, seed, options);
    expect(r.violations.length ? formatViolation(r) : '').toBe('');
  }, 60_000);
});

describe('simulator: the random workload and faults in quorum mode (--quorum)', () => {
  it('seeds 1..40: every invariant holds (no id on two nodes at any step, nothing acknowledged without a quorum)', () => {
    const { failures, marked } = sweepSeeds(40, { quorum: true }, /\*\* \d+ nodes.*, quorum \d/);
    expect(failures).toBe('');
    // Seeds of more than 2 nodes run in quorum mode (the others stay 'available').
    expect(marked).toBeGreaterThan(20);
  }, 300_000);
});
