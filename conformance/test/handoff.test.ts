// State handoff and checkpoints in the simulator, where the network and every node's effects are
// visible: a checkpoint is restored after its owner crashes, on the member that was next in
// line, and follows a change of that member (a join).
import { describe, it, expect } from 'vitest';
import { cluster, settled, runnerOf, NAMES } from './support.js';
import type { World } from '../src/sim/world.js';
import { placementOf } from '../bench/placement-reference.mjs';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const ownerAmong = (names: string[], id: string): string => placementOf(names.map((name) => ({ name, weight: 1, kinds: ['worker'] })))(id, 'worker');

/** Every 'rehydrate' effect, with the node it was for. */
function rehydrates(w: World): { node: string; id: string; source: string; from: string; state: string }[] {
  const seen: { node: string; id: string; source: string; from: string; state: string }[] = [];
  w.observers.push((_w, n, fx) => {
    for (const e of fx) if (e.type === 'rehydrate') seen.push({ node: n.name, id: e.id, source: e.source, from: e.from, state: dec(e.bytes) });
  });
  return seen;
}

describe('checkpoints (simulator)', () => {
  it('after a crash of its owner, the child starts from its last checkpoint on the member next in line', () => {
    const w = cluster(3);
    const got = rehydrates(w);
    w.startChild('a', { id: 'x', kind: 'worker' });
    expect(w.runUntil(() => settled(w, ['x']), 5000)).toBe(true);
    const owner = runnerOf(w, 'x')!;
    const next = ownerAmong(NAMES.slice(0, 3).filter((m) => m !== owner), 'x');
    w.checkpoint(owner, 'x', enc('n=1'));
    w.checkpoint(owner, 'x', enc('n=2'));
    w.runFor(50);
    w.crash(owner);
    expect(w.runUntil(() => settled(w, ['x']), 10000)).toBe(true);
    expect(runnerOf(w, 'x')).toBe(next);
    expect(got).toEqual([{ node: next, id: 'x', source: 'checkpoint', from: owner, state: 'n=2' }]);
  });

  it('when a join makes another member next in line, the checkpoint is sent to it again', () => {
    // An id that a runs among a, b, c, whose next in line moves from b or c to d when d joins,
    // while a still owns it.
    const id = Array.from({ length: 500 }, (_, i) => `y-${i}`).find((x) => ownerAmong(['a', 'b', 'c'], x) === 'a'
      && ownerAmong(['a', 'b', 'c', 'd'], x) === 'a' && ownerAmong(['b', 'c', 'd'], x) === 'd')!;
    const w = cluster(3);
    const got = rehydrates(w);
    w.startChild('a', { id, kind: 'worker' });
    expect(w.runUntil(() => settled(w, [id]), 5000)).toBe(true);
    w.checkpoint('a', id, enc('before the join'));
    w.runFor(50);
    w.addNode('d', { seeds: ['sim://a'] });
    expect(w.runUntil(() => w.node('a').core.members().filter((m) => m.status === 'up').length === 4 && settled(w, [id]), 5000)).toBe(true);
    w.runFor(200);
    w.crash('a');
    expect(w.runUntil(() => settled(w, [id]), 10000)).toBe(true);
    expect(runnerOf(w, id)).toBe('d');
    expect(got).toEqual([{ node: 'd', id, source: 'checkpoint', from: 'a', state: 'before the join' }]);
  });
});

/** Every handoff_failed event, with the node that reported it. */
function handoffFailures(w: World): { node: string; id: string; reason: string }[] {
  const seen: { node: string; id: string; reason: string }[] = [];
  w.observers.push((_w, n, fx) => {
    for (const e of fx) if (e.type === 'event' && e.event.type === 'handoff_failed') seen.push({ node: n.name, id: e.event.id, reason: e.event.reason });
  });
  return seen;
}

/** From now on, `from`'s HANDOFF frames are dropped, and the first one dropped cuts `from` off from `to`. */
function loseHandoffThenCut(w: World, from: string, to: string): { dropped: number } {
  const HANDOFF = 17;
  const out = { dropped: 0 };
  w.observers.push((world, n, fx) => {
    if (n.name !== from) return;
    for (let i = fx.length - 1; i >= 0; i--) {
      const e = fx[i];
      if (e.type !== 'send' || e.bytes[2] !== HANDOFF) continue;
      fx.splice(i, 1);
      if (out.dropped++ === 0) world.partition([from], [to]);
    }
  });
  return out;
}

describe('a lost HANDOFF (simulator)', () => {
  // An id that a runs among a, b, c; draining a moves it to b, which is also next in line.
  const movingToB = () => Array.from({ length: 500 }, (_, i) => `z-${i}`).find((x) => ownerAmong(['a', 'b', 'c'], x) === 'a'
    && ownerAmong(['b', 'c'], x) === 'b')!;

  /** a runs the id; a's drain moves it to b. */
  function started(checkpoint?: string): { w: World; id: string; got: ReturnType<typeof rehydrates>; failed: ReturnType<typeof handoffFailures> } {
    const id = movingToB();
    const w = cluster(3);
    const got = rehydrates(w);
    const failed = handoffFailures(w);
    w.startChild('a', { id, kind: 'worker' });
    expect(w.runUntil(() => settled(w, [id]), 5000)).toBe(true);
    expect(runnerOf(w, id)).toBe('a');
    if (checkpoint !== undefined) { w.checkpoint('a', id, enc(checkpoint)); w.runFor(50); }
    return { w, id, got, failed };
  }

  it('the link cut mid-move loses the state: the new owner reports handoff_failed (lost) and starts from the checkpoint it holds', () => {
    const { w, id, got, failed } = started('checkpointed');
    const cut = loseHandoffThenCut(w, 'a', 'b');
    w.cordon('c', 'a', 'draining');
    expect(w.runUntil(() => w.node('b').running.has(id), 15000)).toBe(true);
    expect(cut.dropped).toBeGreaterThan(0);
    expect(failed).toContainEqual({ node: 'b', id, reason: 'lost' });
    expect(got.filter((g) => g.node === 'b')).toEqual([{ node: 'b', id, source: 'checkpoint', from: 'a', state: 'checkpointed' }]);
  });

  it('without a checkpoint the child starts fresh on the new owner, and handoff_failed (lost) says so', () => {
    const { w, id, got, failed } = started();
    const cut = loseHandoffThenCut(w, 'a', 'b');
    w.cordon('c', 'a', 'draining');
    expect(w.runUntil(() => w.node('b').running.has(id), 15000)).toBe(true);
    expect(cut.dropped).toBeGreaterThan(0);
    expect(failed).toContainEqual({ node: 'b', id, reason: 'lost' });
    expect(got.filter((g) => g.node === 'b')).toEqual([]);
  });

  it('a HANDOFF lost once on a link that then breaks is sent again on the next one: the state arrives, nothing is reported', () => {
    const { w, id, got, failed } = started();
    let dropped = 0;
    w.observers.push((_w, n, fx) => {
      if (n.name !== 'a' || dropped > 0) return;
      const i = fx.findIndex((e) => e.type === 'send' && e.bytes[2] === 17);
      if (i >= 0) { fx.splice(i, 1); dropped++; }
    });
    w.cordon('c', 'a', 'draining');
    expect(w.runUntil(() => w.node('b').running.has(id) && settled(w, [id]), 15000)).toBe(true);
    expect(dropped).toBe(1);
    expect(failed).toEqual([]);
    expect(got.filter((g) => g.node === 'b').map((g) => g.source)).toEqual(['handoff']);
  });
});

describe('messages during a handoff (simulator)', () => {
  it('a child asked for its state takes no more messages: one sent meanwhile reaches the new instance, which has the state', () => {
    const id = Array.from({ length: 500 }, (_, i) => `m-${i}`).find((x) => ownerAmong(['a', 'b', 'c'], x) === 'a' && ownerAmong(['b', 'c'], x) === 'b')!;
    const w = cluster(3);
    const got = rehydrates(w);
    w.startChild('a', { id, kind: 'worker' });
    expect(w.runUntil(() => settled(w, [id]), 5000)).toBe(true);
    let asked = false;
    w.observers.push((_w, n, fx) => { if (n.name === 'a' && fx.some((e) => e.type === 'dehydrate' && e.id === id)) asked = true; });
    w.cordon('c', 'a', 'draining');
    expect(w.runUntil(() => asked, 5000)).toBe(true);
    // Sent on a itself while its instance is asked (and still running): no network in between.
    expect(w.node('a').running.get(id)?.stopping).toBeFalsy();
    const req = w.sendMessage('a', id, false);
    expect(w.runUntil(() => w.node('b').running.has(id) && settled(w, [id]) && w.messages.all.get(req)!.status !== undefined, 10000)).toBe(true);
    const m = w.messages.all.get(req)!;
    expect([m.status, m.deliveries.map((d) => d.split('#')[0])]).toEqual(['delivered', ['b']]);
    expect(got.filter((g) => g.node === 'b').map((g) => g.source)).toEqual(['handoff']);
  });
});

describe('messages to a child known only by its claim (simulator)', () => {
  it('a call from a member that sees the running claim before the start reaches it succeeds: it goes to the claimant', () => {
    // Started on a, run by b; c hears b's claim, but a's delta to c is held back.
    const id = Array.from({ length: 500 }, (_, i) => `k-${i}`).find((x) => ownerAmong(['a', 'b', 'c'], x) === 'b')!;
    const w = cluster(3);
    w.block('a', 'c', false);
    w.startChild('a', { id, kind: 'worker' });
    const claimedOnC = () => w.node('c').core.globalChildren().some((g) => g.id === id && g.node === 'b');
    expect(w.runUntil(() => w.node('b').running.has(id) && claimedOnC(), 5000)).toBe(true);
    expect(w.node('c').core.specArgsOf(id), 'c has not heard of the start').toEqual([]);
    const req = w.sendMessage('c', id, true);
    expect(w.runUntil(() => w.messages.all.get(req)!.replied, 5000)).toBe(true);
    const m = w.messages.all.get(req)!;
    expect([m.status, m.replied, m.deliveries.map((d) => d.split('#')[0])]).toEqual(['delivered', true, ['b']]);
  });

  it('a call to an id neither desired nor claimed anywhere it knows fails with not_found at once', () => {
    const w = cluster(3);
    const req = w.sendMessage('c', 'nobody', true);
    expect(w.messages.all.get(req)!.status).toBe('not_found');
  });
});
