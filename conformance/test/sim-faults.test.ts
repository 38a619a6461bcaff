// Failure detection, leases and acknowledgements in the simulator's world, one situation per
// test (docs/SIMULATOR.md, "Seeds that failed under --harsh"): each would fail on the core as it
// was before the fix it names.
import { describe, it, expect } from 'vitest';
import type { CoreEvent } from '@trellis/core';
import { World, type SimNode } from '../src/sim/world.js';
import { wasmModule } from './support.js';

const downOf = (n: SimNode, name: string) => n.events.find((e): e is Extract<CoreEvent, { type: 'member_down' }> => e.type === 'member_down' && e.name === name);

function pair(seed = 1): World {
  const w = new World(wasmModule, seed);
  w.addNode('a');
  w.addNode('b', { seeds: ['sim://a'] });
  w.runFor(1500);
  expect(w.node('a').members.has('b')).toBe(true);
  return w;
}

describe('failure detection', () => {
  it('a member whose process is killed is down at once: its link closes and the redial is refused (link_closed)', () => {
    const w = pair();
    const at = w.now;
    w.crash('b');
    expect(w.runUntil(() => downOf(w.node('a'), 'b') !== undefined, 2000)).toBe(true);
    expect(downOf(w.node('a'), 'b')!.reason).toBe('link_closed');
    // A round trip or two, far below the failure timeout (500 ms here).
    expect(w.now - at).toBeLessThan(50);
  });

  it('a member cut off by a partition is down only after the failure timeout (its redial times out)', () => {
    const w = pair();
    const at = w.now;
    w.partition(['a'], ['b']);
    w.flap('a', 'b');
    expect(w.runUntil(() => downOf(w.node('a'), 'b') !== undefined, 2000)).toBe(true);
    expect(downOf(w.node('a'), 'b')!.reason).toBe('timeout');
    expect(w.now - at).toBeGreaterThanOrEqual(500 - 100);
  });
});

describe('a joiner and a node named to it that goes away', () => {
  const FAILURE_TIMEOUT_MS = 10_000;
  const SYNC_INTERVAL_MS = 400;

  /**
   * a and x are members; j joins through a and cannot reach x (a partition: its dials time out),
   * so it waits for x, named by a. Returns the world with j waiting.
   */
  function joinerWaitingFor(seed: number): World {
    const w = new World(wasmModule, seed, { failureTimeoutMs: FAILURE_TIMEOUT_MS, syncIntervalMs: SYNC_INTERVAL_MS });
    w.addNode('a');
    w.addNode('x', { seeds: ['sim://a'] });
    expect(w.runUntil(() => w.node('a').members.has('x') && w.node('x').members.has('a'), 2000)).toBe(true);
    w.block('j', 'x');
    w.addNode('j', { seeds: ['sim://a'] });
    expect(w.runUntil(() => w.node('j').core.info().notReadyReason.startsWith('waiting for x'), 2000)).toBe(true);
    return w;
  }

  it('x leaves: j is ready at once, not after the failure timeout (a\'s MEMBERS withdraws x; named after it left)', () => {
    for (const seed of [1, 2, 3]) {
      const w = joinerWaitingFor(seed);
      const at = w.now;
      w.leave('x');
      expect(w.runUntil(() => w.node('j').core.info().ready, 3 * FAILURE_TIMEOUT_MS)).toBe(true);
      // a's BYE handling and one MEMBERS frame: a few network delays, well below the failure timeout.
      expect(w.now - at).toBeLessThan(SYNC_INTERVAL_MS);
    }
  });

  it('x crashes: j is ready once a has x down (link_closed), not after the failure timeout', () => {
    const w = joinerWaitingFor(4);
    const at = w.now;
    w.crash('x');
    expect(w.runUntil(() => w.node('j').core.info().ready, 3 * FAILURE_TIMEOUT_MS)).toBe(true);
    expect(downOf(w.node('a'), 'x')!.reason).toBe('link_closed');
    expect(w.now - at).toBeLessThan(SYNC_INTERVAL_MS);
  });

  it('x stays up, only cut off from j: j keeps waiting while a names it', () => {
    const w = joinerWaitingFor(5);
    w.runFor(3 * SYNC_INTERVAL_MS);
    expect(w.node('j').core.info().ready).toBe(false);
    expect(w.node('j').core.info().notReadyReason).toMatch(/^waiting for x/);
  });
});
