// MEMBERS with every sync, without resending an unchanged list (core-as/assembly/members-gossip.ts,
// docs/PROTOCOL.md MEMBERS_SAME). Before, every sync sent every member the whole list, so a full
// mesh of n nodes moved n² lists of n entries per sync interval (100 tabs: a million entries).
import { describe, it, expect } from 'vitest';
import { World } from '../src/sim/world.js';
import { wasmModule, NAMES } from './support.js';
import { MSG, MSG_MEMBERS_SAME, decodeFrame, TAG_BYTES } from '../src/protocol.js';
import { rawMember } from './raw-member.js';

describe('MEMBERS_SAME (simulator)', () => {
  it('an idle full mesh sends its unchanged lists as MEMBERS_SAME, and a change goes in full', () => {
    const w = new World(wasmModule, 7);
    const sent = { full: 0, same: 0 };
    const sames: Uint8Array[] = [];
    w.observers.push((_w, _n, fx) => {
      for (const e of fx) {
        if (e.type !== 'send') continue;
        if (e.bytes[2] === MSG.MEMBERS) sent.full++;
        if (e.bytes[2] === MSG_MEMBERS_SAME) { sent.same++; sames.push(e.bytes); }
      }
    });
    for (let i = 0; i < 6; i++) w.addNode(NAMES[i], { seeds: i === 0 ? [] : ['sim://a'] });
    expect(w.runUntil(() => w.aliveNodes().every((x) => x.core.members().filter((m) => m.status === 'up').length === 6), 5000)).toBe(true);
    w.runFor(1000);
    sent.full = 0; sent.same = 0;
    // 4 s at a 400 ms sync: 6 nodes × 5 members × 10 syncs.
    w.runFor(4000);
    expect(sent.full).toBe(0);
    expect(sent.same).toBeGreaterThanOrEqual(6 * 5 * 9);
    for (const f of sames) expect(decodeFrame(f, TAG_BYTES)).toEqual({ type: MSG_MEMBERS_SAME, fields: [] });
    // A member goes: the survivors' lists change, and go in full again (at once, and at the next sync).
    w.crash('f');
    expect(w.runUntil(() => w.aliveNodes().every((x) => !x.core.members().some((m) => m.name === 'f' && m.status === 'up')), 3000)).toBe(true);
    w.runFor(500);
    expect(sent.full).toBeGreaterThanOrEqual(5 * 4);
    // The lists still name every live member: a node added now through one seed reaches all of them.
    w.addNode('g', { seeds: ['sim://e'] });
    expect(w.runUntil(() => w.node('g').core.members().filter((m) => m.status === 'up').length === 6, 5000)).toBe(true);
  });

  it('a MEMBERS_SAME repeats the last full list on its own link, not an older one that came late on a retired duplicate', () => {
    // Seed 6 --majority, once claims deltas moved the schedule: a member's list naming a node
    // that then left came late on a retired duplicate link, after the newer list on the kept
    // link; every MEMBERS_SAME replayed the old list, so the node stayed named for ever and, in
    // quorum mode, the mesh never counted complete: the receiver started nothing again.
    const secret = new TextEncoder().encode('members-same duplicate secret');
    const w = new World(wasmModule, 12);
    w.addNode('c', { secret, quorum: 2 });
    const x = rawMember(w, 'c', secret);
    const members = (names: string[]) => ({ type: MSG.MEMBERS, fields: [names.map((m, i) => [m, BigInt(i + 7), m === 'x' ? '' : `sim://${m}`])] });
    const one = x.open();
    const two = x.open();
    expect(one.raw.received.some((f) => f[2] === 34), 'c retired the first link').toBe(true);
    two.send({ type: MSG.CLAIMS, fields: [1, 0n, 0n, []] });
    // On the kept link x's list without ghost; then, late on the retired one, its older list with it.
    two.send(members(['x']));
    one.send(members(['x', 'ghost']));
    // x's syncs say its list is unchanged: c repeats the list of the kept link, which names no
    // ghost, so its mesh is complete and the start (c's to run: x runs no kind) goes ahead.
    w.startChild('c', { id: 'g', kind: 'worker' }, 'none');
    for (let i = 0; i < 12; i++) { two.send({ type: MSG_MEMBERS_SAME, fields: [] }); two.send({ type: MSG.HEARTBEAT, fields: [] }); w.runFor(200); }
    expect(w.node('c').core.info().notReadyReason).toBe('');
    expect(w.runningIds().get('g'), 'g runs on c').toEqual(['c']);
  });
});
