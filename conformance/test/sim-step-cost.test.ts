// The start burst on a loaded machine, in the simulator's step-cost model (world.ts StepCost):
// steps take virtual time by the bytes they handle, so bulk frames (a burst's deltas and claims)
// queue in front of the heartbeats behind them. A member whose bytes arrived is heard then, not
// when its backlog is handled (core-as/assembly/heard.ts); a member that really falls silent is
// still down within failureTimeoutMs.
import { describe, it, expect } from 'vitest';
import type { CoreEvent } from '@trellis/core';
import { World, type SimNode } from '../src/sim/world.js';
import { wasmModule } from './support.js';

type Down = Extract<CoreEvent, { type: 'member_down' }>;
const downs = (n: SimNode) => n.events.filter((e): e is Down => e.type === 'member_down');
const NAMES = ['a', 'b', 'c'];
const FAILURE_MS = 1000;
/** A starved host: 64 KiB slices (STEP_BYTES), each KiB 12 ms (a core's cost under a 2-core machine's load of 15 or more). */
const COST = { sliceBytes: 64 * 1024, msPerKiB: 12 };
/** Enough that the deltas and claims queue for more than failureTimeoutMs on b and c. */
const BURST = 5000;
/** A loaded host, for the silent member: a slice takes at most 128 ms. */
const LOADED = { sliceBytes: 64 * 1024, msPerKiB: 2 };
const SLICE_MS = (LOADED.sliceBytes / 1024) * LOADED.msPerKiB;
/** PAUSE_CATCH_UP_MS (core-as/assembly/limits.ts). */
const CATCH_UP_MS = 50;

function cluster(seed: number, cost = COST): World {
  const w = new World(wasmModule, seed, { heartbeatMs: 250, failureTimeoutMs: FAILURE_MS, syncIntervalMs: 1000 });
  for (const [i, name] of NAMES.entries()) w.addNode(name, { seeds: i ? ['sim://a'] : [] });
  w.runFor(3000);
  for (const x of NAMES) expect(w.node(x).members.size).toBe(2);
  w.stepCost = cost;
  return w;
}

describe('a start burst on a loaded host (step-cost model)', () => {
  // Fails without heard.ts: b and c each declared the other down (timeout) with its heartbeats queued.
  it(`no member is declared down while ${BURST} children start, their deltas queued in front of the heartbeats`, () => {
    const w = cluster(3);
    for (let i = 0; i < BURST; i++) w.startChild('a', { id: `burst-${i}`, kind: 'worker' });
    const all = () => w.runningIds().size === BURST && w.aliveNodes().every((x) => x.core.info().transitioning === 0);
    expect(w.runUntil(all, 300_000)).toBe(true);
    for (const x of NAMES) expect(downs(w.node(x)).map((d) => `${x}: ${d.name} ${d.reason}`)).toEqual([]);
  });

  it('a member that falls silent during the burst is still down after failureTimeoutMs, as soon as the busy node looks', () => {
    const w = cluster(4, LOADED);
    for (let i = 0; i < BURST; i++) w.startChild('a', { id: `burst-${i}`, kind: 'worker' });
    w.runFor(2000);
    const at = w.now;
    w.pause('c');
    expect(w.runUntil(() => downs(w.node('b')).some((d) => d.name === 'c'), 10_000)).toBe(true);
    expect(downs(w.node('b')).find((d) => d.name === 'c')!.reason).toBe('timeout');
    // c's last bytes reached b at most a heartbeat before the pause, and b read them at most a
    // slice later; b judges at the end of a slice, and a slice that long looks like a pause of
    // b's own, so the judgement waits for the catch-up and the next slice.
    expect(w.now - at).toBeGreaterThanOrEqual(FAILURE_MS - 250);
    expect(w.now - at).toBeLessThanOrEqual(FAILURE_MS + 250 + 3 * SLICE_MS + CATCH_UP_MS);
  });
});
