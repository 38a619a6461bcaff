// A terminate's own replica counts as a member's (core-as/assembly/terminates.ts; docs/SIMULATOR.md,
// bug 23, seed 282): an add of the id that reaches the terminating node after its removal, from a
// member it then declares down, is removed too before the terminate is acknowledged. Before, a
// node left alone acknowledged the terminate while it held such an add itself, and ran the child.
import { describe, it, expect } from 'vitest';
import { World } from '../src/sim/world.js';
import { wasmModule } from './support.js';

const SPEC = { id: 'x', kind: 'worker', args: { nonce: 1 }, restart: 'permanent' };

describe('simulator: a terminate covers the adds its own node holds', () => {
  it('an older start that reaches the terminating node after its removal is removed before it is acknowledged alone', () => {
    const w = new World(wasmModule, 11);
    const a = w.addNode('a');
    const b = w.addNode('b', { seeds: ['sim://a'] });
    const up = (n: typeof a, peer: string) => n.core.members().some((m) => m.name === peer && m.status === 'up');
    expect(w.runUntil(() => up(a, 'b') && up(b, 'a'), 3000)).toBe(true);
    // Both hold a's first add of x.
    const first = w.startChild('a', SPEC);
    expect(w.runUntil(() => a.replies.get(first)?.code === 'ok' && b.core.specOf('x') !== undefined, 3000)).toBe(true);
    // Apart, a repeats the start (a new add, held by a alone, acknowledged alone: a documented ack).
    w.partition(['a'], ['b']);
    expect(w.runUntil(() => !up(a, 'b') && !up(b, 'a'), 5000)).toBe(true);
    const repeat = w.startChild('a', SPEC);
    expect(w.runUntil(() => a.replies.get(repeat)?.code === 'ok', 1000)).toBe(true);
    // Back together, b terminates x at once, before a's repeat reaches it: the terminate removes only
    // the first add. Then b's frames stop reaching a (its removal and TERM_CHECK are lost), while a's
    // anti-entropy brings b the repeat; b declares a down and is alone.
    w.heal();
    expect(w.runUntil(() => up(b, 'a'), 5000)).toBe(true);
    w.block('b', 'a', false);
    const term = w.terminateChild('b', 'x');
    expect(b.replies.has(term)).toBe(false);
    expect(w.runUntil(() => b.replies.has(term), 10_000)).toBe(true);
    expect(b.replies.get(term)?.code).toBe('ok');
    expect(up(b, 'a')).toBe(false);
    // Acknowledged: b desires x no more, and does not run it (the repeat it held is removed too).
    expect(b.core.specArgsOf('x')).toEqual([]);
    w.runFor(500);
    expect(b.running.has('x')).toBe(false);
    // Healed, b's removal reaches a: x is gone everywhere.
    w.heal();
    expect(w.runUntil(() => up(a, 'b') && up(b, 'a') && a.core.specOf('x') === undefined && b.core.specOf('x') === undefined, 10_000)).toBe(true);
    w.runFor(1000);
    expect([a.running.has('x'), b.running.has('x'), a.core.specOf('x'), b.core.specOf('x')]).toEqual([false, false, undefined, undefined]);
  });
});
