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
