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
