// Pair keys between credential members (docs/SECURITY.md "Credential tabs linking each other"),
// in-process: real Wasm cores over the simulator's network. Each credential member's host answers
// the core's pair_key effect as a tab's gateway does: with the key of the name its credential was
// minted for and the peer it names, never of a name the member chooses. So two honest credential
// members link each other; one that presents another member's name to a credential member is
// refused (bad_auth), and the honest ones are undisturbed.
import { describe, it, expect } from 'vitest';
import type { CoreCredential, CoreEvent } from '@trellis/core';
import { World, type SimNode } from '../src/sim/world.js';
import { mintCredential, pairKey, TAB_LINK_EPOCH_MS } from '../src/protocol-session.js';
import { wasmModule } from './support.js';

const secret = new TextEncoder().encode('pair keys in the simulator');
const EXPIRES_MS = 10 * 60_000;
const TAB_LINK_EPOCH_MS_N = Number(TAB_LINK_EPOCH_MS);

/** A credential for `name` as a server mints it, in the form the core takes. */
function credentialFor(scope: string, name: string): CoreCredential {
  const c = mintCredential(secret, scope, name, ['worker'], BigInt(EXPIRES_MS), 0n);
  return { kinds: c.kinds, expiresAtMs: Number(c.expiresAtMs), key: c.key, firstEpoch: Number(c.firstEpoch), tabLinkKeys: c.tabLinkKeys };
}

/** What the gateway gives a tab whose credential is for `holder` (and records what was asked). */
function broker(scope: string, holder: string, asked: string[]) {
  return (peer: string, epoch: number) => {
    asked.push(`${holder}:${peer}@${epoch}`);
    return peer === holder ? undefined : pairKey(secret, scope, BigInt(epoch), holder, peer);
  };
}

const up = (n: SimNode) => n.core.members().filter((m) => m.status === 'up' && m.name !== n.name).map((m) => m.name).sort();
const rejected = (n: SimNode, reason: string, peer?: string) =>
  n.events.filter((e): e is Extract<CoreEvent, { type: 'link_rejected' }> => e.type === 'link_rejected' && e.reason === reason && (peer === undefined || e.peer === peer)).length;

describe('security: pair keys between credential members (simulator)', () => {
  it('two credential members link each other with their pair key; each pair and epoch asks for its own key', () => {
    const w = new World(wasmModule, 7);
    const asked: string[] = [];
    w.addNode('s1', { secret });
    for (const t of ['tab-a', 'tab-b', 'tab-c']) {
      w.addNode(t, { credential: credentialFor(w.scope, t), pairKeys: broker(w.scope, t, asked), seeds: ['sim://s1'] });
    }
    const all = ['s1', 'tab-a', 'tab-b', 'tab-c'];
    expect(w.runUntil(() => all.every((n) => up(w.node(n)).length === 3), 5000)).toBe(true);
    for (const t of ['tab-a', 'tab-b', 'tab-c']) expect(up(w.node(t))).toEqual(all.filter((n) => n !== t));
    // every tab asked for the key of each other tab, none of its own name, none for a server
    const e = Math.floor(EXPIRES_MS / TAB_LINK_EPOCH_MS_N);
    for (const t of ['tab-a', 'tab-b', 'tab-c']) {
      const mine = new Set(asked.filter((q) => q.startsWith(`${t}:`)));
      expect([...mine].sort()).toEqual(['tab-a', 'tab-b', 'tab-c'].filter((p) => p !== t).map((p) => `${t}:${p}@${e}`));
    }
    // children spread over the tabs run exactly once, placed the same way everywhere
    for (let i = 0; i < 12; i++) w.startChild('s1', { id: `pk-${i}`, kind: 'worker' });
    expect(w.runUntil(() => {
      const ids = w.runningIds();
      return Array.from({ length: 12 }, (_, i) => ids.get(`pk-${i}`)?.length === 1).every(Boolean);
    }, 5000)).toBe(true);
    w.runFor(500);
    for (let i = 0; i < 12; i++) expect(w.runningIds().get(`pk-${i}`)).toHaveLength(1);
    for (const n of all) expect(rejected(w.node(n), 'bad_auth') + rejected(w.node(n), 'no_shared_key')).toBe(0);
    // the key of a pair differs per pair and per epoch
    const k = (a: string, b: string, ep: number) => Buffer.from(pairKey(secret, w.scope, BigInt(ep), a, b)).toString('hex');
    expect(new Set([k('tab-a', 'tab-b', e), k('tab-a', 'tab-c', e), k('tab-b', 'tab-c', e), k('tab-a', 'tab-b', e + 1)]).size).toBe(4);
    expect(k('tab-b', 'tab-a', e)).toBe(k('tab-a', 'tab-b', e));
  });

  it('a credential member presenting another member\'s name to a credential member is refused (bad_auth); the honest ones stay linked', () => {
    const w = new World(wasmModule, 11);
    const asked: string[] = [];
    w.addNode('s1', { secret });
    w.addNode('tab-a', { credential: credentialFor(w.scope, 'tab-a'), pairKeys: broker(w.scope, 'tab-a', asked), seeds: ['sim://s1'] });
    w.addNode('tab-b', { credential: credentialFor(w.scope, 'tab-b'), pairKeys: broker(w.scope, 'tab-b', asked), seeds: ['sim://s1'] });
    expect(w.runUntil(() => up(w.node('tab-a')).length === 2 && up(w.node('tab-b')).length === 2, 5000)).toBe(true);
    // 'tab-z' holds tab-m's credential and its gateway answers for tab-m; it presents the name
    // tab-z (which no credential of the cluster is for) towards the tabs, seeded with tab-b only.
    w.addNode('tab-z', { credential: credentialFor(w.scope, 'tab-m'), pairKeys: broker(w.scope, 'tab-m', asked), seeds: ['sim://tab-b'], kinds: ['worker'] });
    w.runFor(1500);
    const b = w.node('tab-b');
    expect(rejected(b, 'bad_auth', 'tab-z')).toBeGreaterThan(0);
    expect(up(b)).toEqual(['s1', 'tab-a']);
    expect(up(w.node('tab-z'))).toEqual([]);
    // tab-b asked for the pair key of the name it was shown; the impostor's gateway gave it tab-m's
    expect(asked).toContain(`tab-b:tab-z@${Math.floor(EXPIRES_MS / TAB_LINK_EPOCH_MS_N)}`);
    expect(asked.some((q) => q.startsWith('tab-m:tab-b@'))).toBe(true);
    // the honest tabs and the server were never disturbed: no member went down
    for (const n of ['s1', 'tab-a', 'tab-b']) expect(w.node(n).events.filter((e) => e.type === 'member_down')).toEqual([]);
    expect(up(w.node('s1'))).toEqual(['tab-a', 'tab-b']);
  });

  it('a listener whose pair key comes after the dialer\'s AUTH keeps the proof and checks it then: the link comes up, or with no key is refused', () => {
    for (const slowGives of [true, false]) {
      const w = new World(wasmModule, 17);
      const asked: string[] = [];
      w.addNode('s1', { secret });
      // tab-b's host takes far longer than a round trip: tab-a's AUTH waits on tab-b for the key
      const slow = broker(w.scope, 'tab-b', asked);
      w.addNode('tab-b', { credential: credentialFor(w.scope, 'tab-b'), pairKeys: slowGives ? slow : () => undefined, pairKeyDelayMs: 300, seeds: ['sim://s1'] });
      w.runFor(300);
      w.addNode('tab-a', { credential: credentialFor(w.scope, 'tab-a'), pairKeys: broker(w.scope, 'tab-a', asked), seeds: ['sim://tab-b'] });
      w.runFor(1500);
      const a = w.node('tab-a'), b = w.node('tab-b');
      if (slowGives) {
        expect(up(a)).toContain('tab-b');
        expect(up(b)).toContain('tab-a');
        expect(rejected(a, 'bad_auth') + rejected(b, 'bad_auth') + rejected(b, 'unauthenticated') + rejected(b, 'unexpected')).toBe(0);
      } else {
        expect(rejected(b, 'no_shared_key', 'tab-a')).toBeGreaterThan(0);
        expect(up(b)).not.toContain('tab-a');
      }
    }
  });

  it('a host that cannot get the pair key refuses the link (no_shared_key) and keeps its other members', () => {
    const w = new World(wasmModule, 13);
    w.addNode('s1', { secret });
    w.addNode('tab-a', { credential: credentialFor(w.scope, 'tab-a'), pairKeys: () => undefined, seeds: ['sim://s1'] });
    w.addNode('tab-b', { credential: credentialFor(w.scope, 'tab-b'), pairKeys: () => undefined, seeds: ['sim://s1'] });
    w.runFor(1500);
    expect(rejected(w.node('tab-a'), 'no_shared_key') + rejected(w.node('tab-b'), 'no_shared_key')).toBeGreaterThan(0);
    expect(up(w.node('tab-a'))).toEqual(['s1']);
    expect(up(w.node('s1'))).toEqual(['tab-a', 'tab-b']);
  });
});
