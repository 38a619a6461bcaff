// A member woken from a pause must not start children on what it knew before the pause
// (issue 12 item 4, docs/SIMULATOR.md bug 27). Five members, { quorum: 3 }: the b–d link alone is
// cut, so b and d each take the other down; d starts none of b's children, since a, c and e still
// name b (lease.ts meshComplete). Then d is paused past the failure timeout, the name window and
// b's lease; a, c and e take d down and close their links. On resume a real host runs its timers
// before the I/O that waited (Node: a timer due during SIGSTOP fires before the sockets are read),
// so d's first step sees its lease for b over and no recent name of b, with the quorum it judged
// before the pause: it started b's children while b ran them.
import { describe, it, expect } from 'vitest';
import type { CoreEvent } from '@trellis/core';
import type { World } from '../src/sim/world.js';
import { cluster, settled } from './support.js';

const IDS = Array.from({ length: 40 }, (_, i) => `p${i}`);
const SHUTDOWN_MS = 100;
const PAUSE_MS = 6000;

const downOn = (w: World, at: string, who: string) => w.node(at).events.some((e: CoreEvent) => e.type === 'member_down' && e.name === who);

/** Ids that ran on two members at once at some step, with where and when. */
function watchOverlaps(w: World): string[] {
  const seen: string[] = [];
  w.observers.push((world) => {
    for (const [id, ns] of world.runningIds()) if (ns.length > 1) seen.push(`${id}@${ns.join('/')}@${world.now}`);
  });
  return seen;
}

describe('quorum mode: a member that wakes from a pause starts nothing on its view from before it', () => {
  it.each([1, 2, 3, 4, 5])('seed %i: no id of b runs on d while b runs it', (seed) => {
    const w = cluster(5, { quorum: 3 }, seed);
    w.runner.shutdownTime = () => 20;
    for (const id of IDS) w.startChild('a', { id, kind: 'worker', args: { id }, shutdownMs: SHUTDOWN_MS });
    expect(w.runUntil(() => settled(w, IDS), 5000)).toBe(true);
    const onB = [...w.node('b').running.keys()];
    expect(onB.length).toBeGreaterThan(0);
    const overlaps = watchOverlaps(w);
    w.block('b', 'd');
    expect(w.runUntil(() => downOn(w, 'b', 'd') && downOn(w, 'd', 'b'), 5000)).toBe(true);
    w.runFor(500);
    const startedOnD = () => w.node('d').events.filter((e: CoreEvent) => e.type === 'child_started' && onB.includes((e as { id: string }).id)).length;
    expect(startedOnD()).toBe(0);
    w.pause('d');
    expect(w.runUntil(() => ['a', 'c', 'e'].every((x) => downOn(w, x, 'd')), 5000)).toBe(true);
    w.runFor(PAUSE_MS);
    const resumedAt = w.now;
    w.resume('d');
    w.runFor(3000);
    expect(overlaps.filter((o) => o.includes('b/d') || o.includes('d/b')).slice(0, 3).map((o) => `${o} (resumed at ${resumedAt})`)).toEqual([]);
    // b kept its children the whole time, and d, once caught up, is cut off without quorum.
    expect(onB.every((id) => w.runningIds().get(id)?.includes('b'))).toBe(true);
  });
});
