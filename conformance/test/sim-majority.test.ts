// partition: 'majority' in the simulator's world (DESIGN.md "Handover, overlap and partitions"):
// the same lease as { quorum: N } with N a majority of each node's roster, where members that
// left gracefully no longer count. Scaling down member by member never halts the cluster; a
// netsplit halts the minority side; a minority cannot grow itself a majority with joiners.
import { describe, it, expect } from 'vitest';
import { resolveOptions, InvalidOptionError, type CoreEvent } from '@trellis/core';
import { World, QUORUM_MAJORITY, type SimNode } from '../src/sim/world.js';
import { runSeed, formatViolation } from '../src/sim/run.js';
import { decodeFrame, encodeFrame, MSG_ROSTER, TAG_BYTES } from '../src/protocol.js';
import { wasmModule, NAMES, sweepSeeds } from './support.js';

const secret = new TextEncoder().encode('majority');
const IDS = Array.from({ length: 20 }, (_, i) => `m${i}`);

/** n members in majority mode, the first founding it, the others seeded with it; every roster names all n. */
function majorityCluster(n: number): World {
  const w = new World(wasmModule, 3);
  for (let i = 0; i < n; i++) w.addNode(NAMES[i], { secret, quorum: QUORUM_MAJORITY, seeds: i === 0 ? [] : ['sim://a'] });
  const formed = w.runUntil(() => w.aliveNodes().every((x) => x.core.roster().length === n && x.core.info().quorum && x.core.info().ready), 5000);
  expect(formed).toBe(true);
  return w;
}

/** Every id below started on `from`, then running exactly once somewhere. */
function startAll(w: World, from: string): void {
  for (const id of IDS) w.startChild(from, { id, kind: 'worker', args: '' });
  expect(w.runUntil(() => IDS.every((id) => w.runningIds().get(id)?.length === 1), 5000)).toBe(true);
}

/** Records, at every step, each id that runs on two nodes at once, and each stop for a lost quorum. */
function watch(w: World): { overlaps: string[]; quorumStops: string[] } {
  const seen = { overlaps: [] as string[], quorumStops: [] as string[] };
  w.observers.push((world, n, fx) => {
    for (const [id, ns] of world.runningIds()) if (ns.length > 1) seen.overlaps.push(`${id}@${ns.join('/')}@${world.now}`);
    for (const e of fx) if (e.type === 'event' && e.event.type === 'child_stopping' && e.event.why === 'quorum_lost') seen.quorumStops.push(`${n.name}:${e.event.id}`);
  });
  return seen;
}

const members = (w: World) => w.aliveNodes().filter((n) => !n.core.info().left);
const left = (n: SimNode) => n.events.some((e: CoreEvent) => e.type === 'left');

describe('the partition option', () => {
  const base = { scope: 's', insecure: true, kinds: { worker: { run: async () => undefined } } };
  const resolve = (partition: unknown) => resolveOptions({ ...base, partition }, () => 'n');
  it("'majority' reaches the core as QUORUM_MAJORITY; 'available' and { quorum: N } as before", () => {
    expect(resolve('majority').quorum >>> 0).toBe(QUORUM_MAJORITY);
    expect(resolve('available').quorum).toBe(0);
    expect(resolve(undefined).quorum).toBe(0);
    expect(resolve({ quorum: 2 }).quorum).toBe(2);
  });
  it('anything else is an InvalidOptionError naming `partition`', () => {
    for (const bad of ['Majority', 'quorum', { quorum: 0 }, { quorum: 1.5 }, { majority: true }, null, 3]) {
      let err: unknown;
      try { resolve(bad); } catch (e) { err = e; }
      expect(err, JSON.stringify(bad)).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option).toBe('partition');
    }
  });
});

describe("partition: 'majority'", () => {
  it('5 members leave gracefully one by one down to 1: every step keeps the quorum, children keep running on the rest', () => {
    const w = majorityCluster(5);
    startAll(w, 'a');
    const seen = watch(w);
    let halted = '';
    w.observers.push((world) => {
      for (const n of members(world)) if (!halted && !n.core.info().quorum) halted = `${n.name} lost its quorum at ${world.now}`;
    });
    let rest = ['a', 'b', 'c', 'd', 'e'];
    for (const who of ['e', 'd', 'c', 'b']) {
      w.leave(who);
      rest = rest.filter((x) => x !== who);
      const done = w.runUntil(() => left(w.node(who)) && IDS.every((id) => { const at = w.runningIds().get(id); return at?.length === 1 && rest.includes(at[0]); }), 10_000);
      expect(done, `${who} left and its children moved to ${rest.join(',')}`).toBe(true);
      // The BYE took it off every roster: N follows the members that remain.
      expect(w.runUntil(() => members(w).every((n) => n.core.roster().length === rest.length), 2000)).toBe(true);
    }
    expect(halted).toBe('');
    expect(seen.quorumStops).toEqual([]);
    expect(seen.overlaps).toEqual([]);
    expect(w.node('a').core.roster()).toEqual(['a']);
    // Alone in its roster it is the whole cluster: a new start is acknowledged and runs.
    const req = w.startChild('a', { id: 'late', kind: 'worker', args: '' });
    expect(w.runUntil(() => w.node('a').replies.get(req)?.code === 'ok' && w.runningIds().get('late')?.length === 1, 2000)).toBe(true);
  });

  it('a netsplit 2 | 3: the 2 side stops its children and starts none, the 3 side runs everything, no id ever on two nodes', () => {
    const w = majorityCluster(5);
    startAll(w, 'c');
    const seen = watch(w);
    w.partition(['a', 'b'], ['c', 'd', 'e']);
    const split = w.runUntil(() => {
      const r = w.runningIds();
      return IDS.every((id) => r.get(id)?.length === 1 && ['c', 'd', 'e'].includes(r.get(id)![0]));
    }, 10_000);
    expect(split).toBe(true);
    expect(w.node('a').core.info().quorum).toBe(false);
    expect(w.node('b').core.info().quorum).toBe(false);
    expect(['c', 'd', 'e'].every((x) => w.node(x).core.info().quorum)).toBe(true);
    // The minority stays stopped: a start there is not acknowledged and runs nowhere on its side.
    const req = w.startChild('a', { id: 'minority', kind: 'worker', args: '' });
    w.runFor(2000);
    expect(w.node('a').replies.get(req)).toBeUndefined();
    expect(w.node('a').running.size + w.node('b').running.size).toBe(0);
    // Every child the 2 side ran stopped for its lost quorum; none moved back.
    expect(seen.quorumStops.every((s) => s.startsWith('a:') || s.startsWith('b:'))).toBe(true);
    w.heal();
    expect(w.runUntil(() => members(w).every((n) => n.core.info().quorum) && [...IDS, 'minority'].every((id) => w.runningIds().get(id)?.length === 1), 10_000)).toBe(true);
    expect(w.node('a').replies.get(req)?.code).toBe('ok');
    expect(seen.overlaps).toEqual([]);
  });

  it('a joiner on the minority side of a netsplit is not admitted (the minority cannot grow a majority); after the heal it is', () => {
    const w = majorityCluster(3);
    w.partition(['a'], ['b', 'c']);
    w.runFor(1500);
    // Two joiners beside a: with them the side would have 3 of 5, but a holds no quorum, so admits neither.
    w.addNode('f', { secret, quorum: QUORUM_MAJORITY, seeds: ['sim://a'] });
    w.addNode('g', { secret, quorum: QUORUM_MAJORITY, seeds: ['sim://a'] });
    w.partition(['a', 'f', 'g'], ['b', 'c']);
    w.runFor(3000);
    for (const x of ['a', 'f', 'g']) expect(w.node(x).core.info().quorum, x).toBe(false);
    expect(w.node('a').core.roster().sort()).toEqual(['a', 'b', 'c']);
    expect(w.node('f').core.roster()).not.toContain('f');
    w.heal();
    expect(w.runUntil(() => w.aliveNodes().every((n) => n.core.roster().length === 5 && n.core.info().quorum), 10_000)).toBe(true);
  });

  it('a restarted member (same name, new incarnation) takes its old place in the roster: the count stays', () => {
    const w = majorityCluster(3);
    w.crash('c');
    w.restart('c', ['sim://a']);
    expect(w.runUntil(() => w.aliveNodes().every((n) => n.core.info().quorum && n.core.roster().length === 3), 5000)).toBe(true);
  });

  it('ROSTER frames the core sends decode as docs/PROTOCOL.md says and re-encode identically', () => {
    const frames: Uint8Array[] = [];
    const w = new World(wasmModule, 5);
    w.observers.push((_w, _n, fx) => { for (const e of fx) if (e.type === 'send' && e.bytes[2] === MSG_ROSTER) frames.push(e.bytes); });
    w.addNode('a', { secret, quorum: QUORUM_MAJORITY });
    w.addNode('b', { secret, quorum: QUORUM_MAJORITY, seeds: ['sim://a'] });
    w.runFor(1000);
    w.leave('b');
    w.runFor(1000);
    expect(frames.length).toBeGreaterThan(2);
    for (const f of frames) {
      const d = decodeFrame(f, TAG_BYTES);
      expect(d.type).toBe(MSG_ROSTER);
      expect(encodeFrame(d)).toEqual(f.subarray(0, f.length - TAG_BYTES));
    }
  });
});

describe('simulator: seeds that found a majority-mode problem (docs/SIMULATOR.md "Majority mode")', () => {
  it.each([
    [25, 'a single founder acknowledges alone: its roster is itself, it is the whole cluster'],
    [7, 'a leave whose BYE reached nobody counts as a crash: the roster of two halts, and the checker expects that'],
    [48, 'a call answered (REPLY) and then its target lost before the DELIVERED settles delivered, not delivery_unknown'],
    [525, "a member that joins while a lost member's lease runs waits it out too (ROSTER carries the wait)"],
  ])('seed %i --majority: %s', (seed) => {
    const r = runSeed(wasmModule, seed, { majority: true });
    expect(r.violations.length ? formatViolation(r) : '').toBe('');
  }, 60_000);
  it('seed 1101 --harsh --majority: a REPLY that comes after its call failed (the target lost, then back on a new link) is dropped', () => {
    const r = runSeed(wasmModule, 1101, { harsh: true, majority: true });
    expect(r.violations.length ? formatViolation(r) : '').toBe('');
  }, 60_000);
});

describe("simulator: the random workload and faults in majority mode (--majority)", () => {
  it('seeds 1..60: every invariant holds (no id on two nodes at any step, rosters agree at quiescence)', () => {
    const { failures, marked } = sweepSeeds(60, { majority: true }, /, majority/);
    expect(failures).toBe('');
    expect(marked).toBe(60);
  }, 300_000);
});
