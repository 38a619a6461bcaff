// A newcomer's handshakes while a sync backlog is queued, in the step-cost model (world.ts
// StepCost): the newcomer's host queues the anti-entropy answers of every member it links to and
// hands them to the core a slice at a time. The handshake frames of its other new links arrive
// meanwhile; the member at the other end of such a link, its side up, sends its heartbeats and
// waits for the newcomer's. Every link's frames stay in their order; a link is not served only
// after the backlog of another (docs/SIMULATOR.md, bug 20).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import type { CoreEvent } from '@trellis/core';
import { releaseWasmUrl } from '@trellis/core/testing';
import { World, type StepCost } from '../src/sim/world.js';
import { MSG } from '../src/protocol.js';

// The release core (as sync-frames.test.ts): a testing build checks its invariants after every
// step in time linear in the children; the simulator's seeds check them at small scale.
const release = new WebAssembly.Module(readFileSync(releaseWasmUrl));

type Down = Extract<CoreEvent, { type: 'member_down' }>;
type Rejected = Extract<CoreEvent, { type: 'link_rejected' }>;
const FAILURE_MS = 1000;
const MEMBERS = ['a', 'c', 'd'];
/** Children the members hold: the newcomer has about 1.5 MB of answers and claims queued at once. */
const N = 5000;
/** A loaded host: 64 KiB slices, 4 ms per KiB (256 ms a slice); the backlog takes about 6 s of steps. */
const COST: StepCost = { sliceBytes: 64 * 1024, msPerKiB: 4 };

const downs = (w: World) => w.aliveNodes().flatMap((x) => x.events.filter((e): e is Down => e.type === 'member_down').map((d) => `${x.name}: ${d.name} ${d.reason}`));
const rejected = (w: World) => w.aliveNodes().flatMap((x) => x.events.filter((e): e is Rejected => e.type === 'link_rejected').map((r) => `${x.name}: ${r.reason}`));
/** The other members `name` sees up. */
const upMembers = (w: World, name: string) => w.node(name).core.members().filter((m) => m.status === 'up' && m.name !== name).map((m) => m.name).sort();

function loaded(seed: number): World {
  const w = new World(release, seed, { heartbeatMs: 250, failureTimeoutMs: FAILURE_MS, syncIntervalMs: 1000 });
  for (const [i, name] of MEMBERS.entries()) w.addNode(name, { seeds: i ? ['sim://a'] : [] });
  w.runFor(3000);
  w.startMany('a', Array.from({ length: N }, (_, i) => ({ id: `c-${i}`, kind: 'worker' })));
  const quiet = () => w.runningIds().size === N && new Set(w.aliveNodes().map((x) => x.core.digest().state)).size === 1
    && w.aliveNodes().every((x) => x.core.info().transitioning === 0 && x.core.info().desired === N && x.core.pending === 0);
  expect(w.runUntil(quiet, 120_000)).toBe(true);
  // The claims of the start settle too, so the only backlog is the newcomer's.
  w.runFor(3000);
  return w;
}

describe('a newcomer with a sync backlog links to every member (step-cost model)', () => {
  // Failed before input lanes (core-as/src/input-lanes.ts): c and d timed out their handshakes with b
  // (handshake_timeout), b's answers to them queued behind a's anti-entropy answer.
  it(`links to all three members of ${N.toLocaleString('en')} children while their answers queue on its host, and nobody is declared down`, () => {
    const w = loaded(20);
    w.stepCost = COST;
    // When the newcomer handled each member's first frame after the handshake, and how much it
    // still had queued then: the handshakes are handled while the backlog is there, not after it.
    const backlogAtUp: number[] = [];
    w.observers.push((_w, n, fx) => {
      if (n.name !== 'b') return;
      // One entry per member up (two links may come up in one step).
      for (const e of fx) if (e.type === 'event' && e.event.type === 'member_up') backlogAtUp.push(n.core.pending);
    });
    let beatsToAll = false;
    w.observers.push((_w, n, fx) => {
      if (n.name !== 'b' || beatsToAll) return;
      const links = new Set(fx.filter((e) => e.type === 'send' && e.bytes[2] === MSG.HEARTBEAT).map((e) => (e as { link: number }).link));
      beatsToAll = links.size === MEMBERS.length;
    });
    w.addNode('b', { seeds: ['sim://a'] });
    const joined = () => w.node('b').core.info().desired === N && w.aliveNodes().every((x) => x.core.info().transitioning === 0 && upMembers(w, x.name).length === MEMBERS.length);
    // Stops at the first false suspicion, so a failure names it.
    w.runUntil(() => joined() || downs(w).length > 0 || rejected(w).length > 0, 120_000);
    expect(downs(w)).toEqual([]);
    expect(rejected(w)).toEqual([]);
    expect(joined()).toBe(true);
    expect(upMembers(w, 'b')).toEqual(MEMBERS);
    expect(beatsToAll).toBe(true);
    // The links after the first came up while the first member's answer was still queued (the
    // case this test is about), not after it.
    expect(backlogAtUp.length).toBe(MEMBERS.length);
    expect(backlogAtUp.filter((bytes) => bytes > 256 * 1024).length).toBeGreaterThanOrEqual(MEMBERS.length - 1);
    // And the join ends as any does: every child runs once, the newcomer its share, nobody down.
    const once = () => w.runningIds().size === N && [...w.runningIds().values()].every((on) => on.length === 1) && w.node('b').running.size > 0;
    expect(w.runUntil(once, 60_000)).toBe(true);
    expect(downs(w)).toEqual([]);
  }, 600_000);
});
