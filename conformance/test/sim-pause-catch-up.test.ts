// A pause of the judge itself must not make it take a live member for dead (docs/SIMULATOR.md
// bug 28, docs/ARCHITECTURE-faults-notes.md "Death and silence"). After a pause a node puts a
// due judgement of silence off by a catch-up, so that the frames queued meanwhile are read first.
// Here one step runs inside the pause (an API call in the same busy stretch, which reads no
// socket). When b's silence is due then, that step begins the catch-up and the pause goes on
// past its end; before, the first step after the pause judged at once, having read one queued
// frame at most, and took b or c down (in 'available' mode it then started their children: an
// overlap). (The step after a pause that reads one member's frame first and so looked as if no
// pause had been is seed 3123 --harsh in sim.test.ts: here the node's own held wake comes first.)
import { describe, it, expect } from 'vitest';
import type { CoreEvent } from '@trellis/core';
import { cluster } from './support.js';

const CONFIG = { heartbeatMs: 100, failureTimeoutMs: 500, syncIntervalMs: 400 };

/** b's silence is due when a steps inside its pause: that step begins the catch-up, which ends before a can read anything. */
const STEP_AT_MS = CONFIG.failureTimeoutMs + 10;
/** How long a stays frozen after that step. */
const WAKE_AFTER_MS = 200;

describe('a pause of the judge: the catch-up after it', () => {
  it.each([1, 2, 3, 4, 5, 6])('a step inside the pause does not use up the catch-up (seed %i)', (seed) => {
    const w = cluster(3, {}, seed, CONFIG);
    w.runFor(1000);
    const downs = () => w.node('a').events.filter((e: CoreEvent) => e.type === 'member_down');
    expect(downs()).toEqual([]);
    // b goes quiet for 200 ms (its frames to a stop), a freezes 100 ms later.
    w.pause('b');
    const t0 = w.now;
    w.runFor(100);
    w.pause('a');
    w.runFor(100);
    w.resume('b');
    // a steps once for an API call (and sends its heartbeats, so b and c keep it up), still
    // frozen for the sockets, then wakes.
    w.runUntilTime(t0 + STEP_AT_MS);
    w.sendMessage('a', 'nobody', false);
    w.runFor(WAKE_AFTER_MS);
    w.resume('a');
    w.runFor(2000);
    expect(downs().map((e) => `${(e as { name: string }).name}: ${(e as { reason: string }).reason}`)).toEqual([]);
    expect(w.aliveNodes().every((n) => n.core.members().every((m) => m.status === 'up'))).toBe(true);
  });
});
