// Cordon, drain and weights in the core, in-process: real Wasm cores over the simulator's virtual
// network without faults (core-as/assembly/cordon.ts). The real-process versions of these
// scenarios are in scenarios.ts (cluster-node, cluster-bun, cluster-mixed).
import { describe, it, expect } from 'vitest';
import { World } from '../src/sim/world.js';
import { cluster, settled, watchOverlap, wasmModule } from './support.js';

const spec = (id: string) => ({ id, kind: 'worker', args: { id } });
const ids = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => `${p}-${i}`);

function startAll(w: World, list: string[], at = 'a'): void {
  for (const id of list) w.startChild(at, spec(id));
  expect(w.runUntil(() => settled(w, list), 10_000)).toBe(true);
}

/** id → the node running it, for the ids given. */
function placement(w: World, list: string[]): Map<string, string> {
  const r = w.runningIds();
  return new Map(list.map((id) => [id, r.get(id)?.[0] ?? '']));
}
const countOn = (p: Map<string, string>, node: string) => [...p.values()].filter((x) => x === node).length;
const replied = (w: World, at: string, req: number) => w.runUntil(() => w.reply(at, req) !== undefined, 20_000);
/** Counts, per id, how many times a node started it (each start after the first is a move). */
function countStarts(w: World): Map<string, number> {
  const starts = new Map<string, number>();
  w.observers.push((_w, _n, fx) => { for (const e of fx) if (e.type === 'run') starts.set(e.id, (starts.get(e.id) ?? 0) + 1); });
  return starts;
}

describe('cordon', () => {
  it('a cordoned member keeps its children; new children avoid it; every member shows it cordoned', () => {
    const w = cluster(3);
    const first = ids(90, 'old');
    startAll(w, first);
    const before = placement(w, first);
    const onB = countOn(before, 'b');
    expect(onB).toBeGreaterThan(10);
    const r = w.cordon('c', 'b', 'cordoned');
    expect(replied(w, 'c', r)).toBe(true);
    expect(w.reply('c', r)?.code).toBe('ok');
    // The cordon resolves once b holds it; the other members learn it from the replicated state
    // (the DELTA at once, anti-entropy within a sync interval).
    const shown = () => ['a', 'b', 'c'].every((n) => w.node(n).core.members().find((m) => m.name === 'b')?.state === 'cordoned');
    expect(w.runUntil(shown, 2000)).toBe(true);
    const later = ids(90, 'new');
    startAll(w, later);
    w.runFor(1000);
    expect(placement(w, first)).toEqual(before);
    expect(countOn(placement(w, later), 'b')).toBe(0);
  });

  it('uncordon moves back exactly the children whose winner it is, and nothing else', () => {
    const w = cluster(3);
    const r0 = w.cordon('a', 'b', 'cordoned');
    expect(replied(w, 'a', r0)).toBe(true);
    const list = ids(120);
    startAll(w, list);
    const cordoned = placement(w, list);
    expect(countOn(cordoned, 'b')).toBe(0);
    const r = w.cordon('a', 'b', 'active');
    expect(replied(w, 'a', r)).toBe(true);
    w.runFor(2000);
    const after = placement(w, list);
    const moved = list.filter((id) => after.get(id) !== cordoned.get(id));
    expect(moved.length).toBe(countOn(after, 'b'));
    expect(moved.every((id) => after.get(id) === 'b')).toBe(true);
    expect(moved.length).toBeGreaterThan(20);
  });

  it('survives a restart of the cordoned member: it comes back cordoned and takes nothing', () => {
    const w = cluster(3);
    const list = ids(90);
    startAll(w, list);
    const r = w.cordon('a', 'c', 'cordoned');
    expect(replied(w, 'a', r)).toBe(true);
    w.crash('c');
    w.runFor(2000);
    w.restart('c');
    expect(w.runUntil(() => w.node('c').core.info().ready && w.node('c').core.members().length === 3, 5000)).toBe(true);
    w.runFor(3000);
    expect(w.node('c').core.members().find((m) => m.self)?.state).toBe('cordoned');
    expect(countOn(placement(w, list), 'c')).toBe(0);
    expect(settled(w, list)).toBe(true);
  });

  it('cordon of a name that is no member is an unknown_member error', () => {
    const w = cluster(2);
    const r = w.cordon('a', 'nobody', 'cordoned');
    expect(w.reply('a', r)?.code).toBe('unknown_member');
  });
});

describe('drain', () => {
  it('moves every child off the member, each once, never two copies, at most maxParallel at once', () => {
    const w = cluster(3);
    const list = ids(150);
    startAll(w, list);
    const before = placement(w, list);
    const onB = list.filter((id) => before.get(id) === 'b');
    const overlap = watchOverlap(w);
    const starts = countStarts(w);
    let moving = 0, maxMoving = 0;
    w.observers.push((world) => {
      // moving = stopped on b (or gone from it) and not yet running anywhere else
      const r = world.runningIds();
      moving = onB.filter((id) => { const ns = r.get(id) ?? []; return !ns.includes('b') || world.node('b').running.get(id)?.stopping ? !ns.some((x) => x !== 'b') : false; }).length;
      maxMoving = Math.max(maxMoving, moving);
    });
    const r = w.cordon('a', 'b', 'draining', 4, 30_000);
    expect(replied(w, 'a', r)).toBe(true);
    expect(w.reply('a', r)?.code).toBe('ok');
    expect(w.node('b').running.size).toBe(0);
    expect(overlap.overlaps).toEqual([]);
    expect(maxMoving).toBeLessThanOrEqual(4);
    const after = placement(w, list);
    for (const id of list) {
      if (before.get(id) === 'b') { expect(after.get(id)).not.toBe('b'); expect(starts.get(id)).toBe(1); }
      else { expect(after.get(id)).toBe(before.get(id)); expect(starts.get(id)).toBeUndefined(); }
    }
    for (const n of ['a', 'b', 'c']) expect(w.node(n).core.members().find((m) => m.name === 'b')?.state).toBe('draining');
  });

  it('a drain whose children have nowhere to go keeps them and rejects at its deadline', () => {
    const w = new World(wasmModule, 5);
    w.addNode('a', { kinds: ['worker', 'only-a'] });
    w.addNode('b', { seeds: ['sim://a'] });
    expect(w.runUntil(() => w.aliveNodes().every((x) => x.core.info().ready && x.core.members().length === 2), 5000)).toBe(true);
    w.startChild('a', { id: 'solo', kind: 'only-a' });
    expect(w.runUntil(() => w.node('a').running.get('solo')?.started === true, 3000)).toBe(true);
    const t0 = w.now;
    const r = w.cordon('b', 'a', 'draining', 2, 1500);
    expect(replied(w, 'b', r)).toBe(true);
    expect(w.reply('b', r)?.code).toBe('deadline');
    expect(w.now - t0).toBeGreaterThanOrEqual(1500);
    expect(w.node('a').running.has('solo')).toBe(true);
  });

  it('a drain replaced by an uncordon is cancelled', () => {
    const w = cluster(2);
    const list = ids(40);
    startAll(w, list);
    const r = w.cordon('a', 'b', 'draining', 1, 30_000);
    expect(w.runUntil(() => w.node('b').core.members().find((m) => m.self)?.state === 'draining', 1000)).toBe(true);
    const u = w.cordon('b', 'b', 'active');
    expect(replied(w, 'a', r)).toBe(true);
    expect(w.reply('a', r)?.code).toBe('cancelled');
    expect(w.reply('b', u)?.code).toBe('ok');
    w.runFor(1000);
    expect(settled(w, list)).toBe(true);
  });

  it('a rolling drain of every member (drain, uncordon, next) moves no child twice within a drain or an uncordon', () => {
    const w = cluster(4);
    const list = ids(200);
    startAll(w, list);
    const overlap = watchOverlap(w);
    for (const m of ['a', 'b', 'c', 'd']) {
      const home = placement(w, list);
      const onM = list.filter((id) => home.get(id) === m);
      let starts = countStarts(w);
      const r = w.cordon('a', m, 'draining', 8, 30_000);
      expect(replied(w, 'a', r)).toBe(true);
      expect(w.reply('a', r)?.code).toBe('ok');
      const drained = placement(w, list);
      for (const id of list) expect(starts.get(id) ?? 0).toBe(onM.includes(id) ? 1 : 0);
      expect(countOn(drained, m)).toBe(0);
      w.observers.pop();
      starts = countStarts(w);
      const u = w.cordon('a', m, 'active');
      expect(replied(w, 'a', u)).toBe(true);
      expect(w.runUntil(() => settled(w, list) && countOn(placement(w, list), m) === onM.length, 10_000)).toBe(true);
      w.runFor(500);
      for (const id of list) expect(starts.get(id) ?? 0).toBe(onM.includes(id) ? 1 : 0);
      expect(placement(w, list)).toEqual(home);
      w.observers.pop();
    }
    expect(overlap.overlaps).toEqual([]);
  });
});

describe('weights', () => {
  it('a weight-3 member runs about 3 times the children of a weight-1 member (within 20 %)', () => {
    const w = new World(wasmModule, 9);
    w.addNode('a', { weight: 1 });
    w.addNode('b', { weight: 3, seeds: ['sim://a'] });
    w.addNode('c', { weight: 1, seeds: ['sim://a'] });
    expect(w.runUntil(() => w.aliveNodes().every((x) => x.core.info().ready && x.core.members().length === 3), 5000)).toBe(true);
    const list = ids(600);
    startAll(w, list);
    const p = placement(w, list);
    const ratio = countOn(p, 'b') / ((countOn(p, 'a') + countOn(p, 'c')) / 2);
    expect(ratio).toBeGreaterThan(3 * 0.8);
    expect(ratio).toBeLessThan(3 * 1.2);
    for (const n of ['a', 'c']) expect(w.node(n).core.members().find((m) => m.name === 'b')?.weight).toBe(3);
  });

  it('setWeight at run time moves children only to the member whose weight grew, and every member learns it', () => {
    const w = cluster(3);
    const list = ids(600);
    startAll(w, list);
    const before = placement(w, list);
    const overlap = watchOverlap(w);
    const r = w.setWeight('b', 4);
    expect(w.reply('b', r)?.code).toBe('ok');
    expect(w.runUntil(() => ['a', 'c'].every((n) => w.node(n).core.members().find((m) => m.name === 'b')?.weight === 4), 3000)).toBe(true);
    w.runFor(3000);
    expect(settled(w, list)).toBe(true);
    const after = placement(w, list);
    const moved = list.filter((id) => after.get(id) !== before.get(id));
    expect(moved.every((id) => after.get(id) === 'b')).toBe(true);
    // ideal share of b: 4/6 of 600 = 400, up from about 200
    expect(countOn(after, 'b')).toBeGreaterThan(340);
    expect(countOn(after, 'b')).toBeLessThan(460);
    expect(overlap.overlaps).toEqual([]);
  });
});
