// Pair keys relayed by a secret member (docs/SECURITY.md "Credential tabs linking each other",
// docs/PROTOCOL.md "Pair key relay"), in-process: real Wasm cores over the simulator's network.
// Credential members with no gateway (as Node and Bun processes started with a credential) ask a
// secret member over their authenticated link (PAIR_KEY_REQ); it answers only for the name that
// link was authenticated under and epochs its credential reaches. Raw links speaking the
// documented handshake (protocol-session.ts) check the server's answers and refusals, and that a
// credential member answers nothing.
import { describe, it, expect } from 'vitest';
import type { CoreCredential, CoreEvent } from '@trellis/core';
import { World, type SimNode } from '../src/sim/world.js';
import { decodeFrame, encodeFrame, helloFrame, AUTH_MODE, MSG, MSG_PAIR_KEY_REQ, MSG_PAIR_KEY } from '../src/protocol.js';
import { LinkCrypto, clusterKey, credentialKey, deriveLinkKeys, mintCredential, pairKey, transcriptHash, TAB_LINK_EPOCH_MS } from '../src/protocol-session.js';
import { wasmModule } from './support.js';

const secret = new TextEncoder().encode('pair key relay in the simulator');
/** core-as/assembly/pair-key-relay.ts: a link's burst of answers, and their refill per second. */
const PAIR_KEY_ANSWERS_BURST_MAX = 256;
const PAIR_KEY_ANSWERS_PER_S_MAX = 64;
const EXPIRES_MS = 10 * 60_000;
const EPOCH = Math.floor(EXPIRES_MS / Number(TAB_LINK_EPOCH_MS));

function credentialFor(scope: string, name: string): CoreCredential {
  const c = mintCredential(secret, scope, name, ['worker'], BigInt(EXPIRES_MS), 0n);
  return { kinds: c.kinds, expiresAtMs: Number(c.expiresAtMs), key: c.key, firstEpoch: Number(c.firstEpoch), tabLinkKeys: c.tabLinkKeys };
}

const up = (n: SimNode) => n.core.members().filter((m) => m.status === 'up' && m.name !== n.name).map((m) => m.name).sort();
const rejected = (n: SimNode, reason: string, peer?: string) =>
  n.events.filter((e): e is Extract<CoreEvent, { type: 'link_rejected' }> => e.type === 'link_rejected' && e.reason === reason && (peer === undefined || e.peer === peer)).length;

/** Frames of `type` each node sent, counted by sender, from now on. */
function countSends(w: World, type: number): Map<string, number> {
  const by = new Map<string, number>();
  w.observers.push((_w, n, fx) => {
    for (const e of fx) if (e.type === 'send' && e.bytes[2] === type) by.set(n.name, (by.get(n.name) ?? 0) + 1);
  });
  return by;
}

/**
 * A raw member `name` dialing `node` with the documented handshake under `root`: with the secret
 * (auth secret; the cluster key, or `node`'s credential key when `node` is a credential member),
 * or with credential `c` (its key). Returns a sender of sealed frames and the frames it received, opened.
 */
function rawMember(w: World, node: string, name: string, root: Uint8Array, c?: CoreCredential) {
  const raw = w.rawLink(node);
  w.runFor(5);
  const hello = helloFrame({ scope: w.scope, name, incarnation: 1n, nonce: new Uint8Array(16).fill(7), listen: '', weight: 1, kinds: [],
    auth: c ? AUTH_MODE.credential : AUTH_MODE.secret, credentialKinds: c ? c.kinds : [], expiresAtMs: c ? BigInt(c.expiresAtMs) : 0n, heartbeatWantMs: 100 });
  const keys = deriveLinkKeys(root, transcriptHash(hello, raw.received[0]), 'dialer');
  w.rawSend(raw, hello);
  w.rawSend(raw, encodeFrame({ type: MSG.AUTH, fields: [keys.ownProof] }));
  w.runFor(5);
  const link = new LinkCrypto(keys);
  let seen = 2; // the node's HELLO and AUTH
  const opened: Uint8Array[] = [];
  return {
    raw,
    send: (type: number, fields: (string | bigint | number | Uint8Array)[]) => w.rawSend(raw, link.seal(encodeFrame({ type, fields }))),
    /** Every frame received so far, opened (a frame that does not open fails the test). */
    frames(): Uint8Array[] {
      for (; seen < raw.received.length; seen++) {
        const f = link.open(raw.received[seen]);
        expect(f).not.toBeNull();
        opened.push(f!.slice());
      }
      return opened;
    },
  };
}

const answers = (frames: Uint8Array[]) => frames.filter((f) => f[2] === MSG_PAIR_KEY).map((f) => decodeFrame(f).fields);

/** A secret member s1 and a raw credential member cred-r linked to it, up. */
function secretAndRawCredential(seed: number) {
  const w = new World(wasmModule, seed);
  w.addNode('s1', { secret });
  w.runFor(100);
  const cred = credentialFor(w.scope, 'cred-r');
  const r = rawMember(w, 's1', 'cred-r', cred.key, cred);
  w.runFor(50);
  expect(up(w.node('s1'))).toEqual(['cred-r']);
  return { w, r };
}

describe('security: pair keys relayed by a secret member (simulator)', () => {
  it('credential members without a gateway link each other under their pair key from a secret member; children run once; a restarted one is linked with the keys the others keep', () => {
    const w = new World(wasmModule, 21);
    const reqs = countSends(w, MSG_PAIR_KEY_REQ), given = countSends(w, MSG_PAIR_KEY);
    w.addNode('s1', { secret });
    for (const t of ['cred-a', 'cred-b', 'cred-c']) w.addNode(t, { credential: credentialFor(w.scope, t), seeds: ['sim://s1'] });
    const all = ['s1', 'cred-a', 'cred-b', 'cred-c'];
    expect(w.runUntil(() => all.every((n) => up(w.node(n)).length === 3), 5000)).toBe(true);
    for (const t of ['cred-a', 'cred-b', 'cred-c']) expect(reqs.get(t) ?? 0).toBeGreaterThanOrEqual(2);
    expect(reqs.get('s1') ?? 0).toBe(0);
    expect(given.get('s1')).toBe([...reqs.values()].reduce((a, b) => a + b, 0));
    for (let i = 0; i < 12; i++) w.startChild('s1', { id: `relay-${i}`, kind: 'worker' });
    expect(w.runUntil(() => {
      const ids = w.runningIds();
      return Array.from({ length: 12 }, (_, i) => ids.get(`relay-${i}`)?.length === 1).every(Boolean);
    }, 5000)).toBe(true);
    w.runFor(500);
    for (let i = 0; i < 12; i++) expect(w.runningIds().get(`relay-${i}`)).toHaveLength(1);
    for (const n of all) expect(rejected(w.node(n), 'bad_auth') + rejected(w.node(n), 'no_shared_key')).toBe(0);
    // cred-c restarts (a new incarnation, the same epoch): the others link it with the key they
    // keep, asking no one; the new core asks for both of its keys again
    const before = new Map(reqs);
    w.crash('cred-c');
    w.runFor(100);
    w.restart('cred-c');
    expect(w.runUntil(() => all.every((n) => up(w.node(n)).length === 3), 5000)).toBe(true);
    expect(reqs.get('cred-a')).toBe(before.get('cred-a'));
    expect(reqs.get('cred-b')).toBe(before.get('cred-b'));
    expect((reqs.get('cred-c') ?? 0) - (before.get('cred-c') ?? 0)).toBeGreaterThanOrEqual(2);
  });

  it('a credential member with no secret member up waits for one, then links (the request goes out when a secret link comes up)', () => {
    const w = new World(wasmModule, 23);
    w.addNode('cred-a', { credential: credentialFor(w.scope, 'cred-a') });
    w.addNode('cred-b', { credential: credentialFor(w.scope, 'cred-b'), seeds: ['sim://cred-a'] });
    w.runFor(300);
    expect(up(w.node('cred-a'))).toEqual([]);
    w.addNode('s1', { secret, seeds: ['sim://cred-a', 'sim://cred-b'] });
    expect(w.runUntil(() => up(w.node('cred-a')).includes('cred-b') && up(w.node('cred-b')).includes('cred-a'), 5000)).toBe(true);
  });

  it('a member presenting another name to a relaying credential member is refused (bad_auth); the honest ones stay linked', () => {
    const w = new World(wasmModule, 25);
    w.addNode('s1', { secret });
    w.addNode('cred-a', { credential: credentialFor(w.scope, 'cred-a'), seeds: ['sim://s1'] });
    w.addNode('cred-b', { credential: credentialFor(w.scope, 'cred-b'), seeds: ['sim://s1'] });
    expect(w.runUntil(() => up(w.node('cred-a')).length === 2 && up(w.node('cred-b')).length === 2, 5000)).toBe(true);
    // 'cred-z' holds cred-m's credential and is handed cred-m's pair keys; it presents the name cred-z.
    w.addNode('cred-z', {
      credential: credentialFor(w.scope, 'cred-m'), kinds: ['worker'], seeds: ['sim://cred-b'],
      pairKeys: (peer, epoch) => pairKey(secret, w.scope, BigInt(epoch), 'cred-m', peer),
    });
    w.runFor(1500);
    const b = w.node('cred-b');
    expect(rejected(b, 'bad_auth', 'cred-z')).toBeGreaterThan(0);
    expect(up(b)).toEqual(['cred-a', 's1']);
    expect(up(w.node('cred-z'))).toEqual([]);
    for (const n of ['s1', 'cred-a', 'cred-b']) expect(w.node(n).events.filter((e) => e.type === 'member_down')).toEqual([]);
  });

  it('a secret member answers for the name the link was authenticated under only, for epochs the credential reaches', () => {
    const { w, r } = secretAndRawCredential(27);
    const e = BigInt(EPOCH);
    r.send(MSG_PAIR_KEY_REQ, ['cred-a', 'cred-b', e]);   // another requester's name: refused
    r.send(MSG_PAIR_KEY_REQ, ['cred-r', 'cred-b', e]);   // its own: given, the key of cred-r and cred-b
    r.send(MSG_PAIR_KEY_REQ, ['cred-r', 'cred-r', e]);   // itself: refused
    r.send(MSG_PAIR_KEY_REQ, ['cred-r', 'cred-b', e + 1n]); // past its credential's expiry: refused
    w.runFor(50);
    const got = answers(r.frames());
    const none = new Uint8Array(0);
    expect(got).toEqual([
      ['cred-b', e, 2, none],
      ['cred-b', e, 0, new Uint8Array(pairKey(secret, w.scope, e, 'cred-r', 'cred-b'))],
      ['cred-r', e, 3, none],
      ['cred-b', e + 1n, 4, none],
    ]);
    expect(got[1][3]).not.toEqual(new Uint8Array(pairKey(secret, w.scope, e, 'cred-a', 'cred-b')));
    expect(r.raw.closed).toBe(false);
    // a secret member asking is no credential member: refused
    const s = rawMember(w, 's1', 'raw-s', clusterKey(secret, w.scope));
    w.runFor(50);
    s.send(MSG_PAIR_KEY_REQ, ['raw-s', 'cred-b', e]);
    w.runFor(50);
    expect(answers(s.frames())).toEqual([['cred-b', e, 1, none]]);
  });

  it('a secret member answers at most PAIR_KEY_ANSWERS_BURST_MAX requests on a link at once, then refuses rate (code 6) but for what its budget refills; the link stays up', () => {
    const { w, r } = secretAndRawCredential(31);
    const e = BigInt(EPOCH);
    /** Sends `count` requests at once; the answer codes, and the virtual ms the node took to answer them all. */
    const flood = (count: number, peer: (i: number) => string) => {
      const before = answers(r.frames()).length;
      const t0 = w.now;
      for (let i = 0; i < count; i++) r.send(MSG_PAIR_KEY_REQ, ['cred-r', peer(i), e]);
      w.runUntil(() => answers(r.frames()).length >= before + count, 1000);
      expect(answers(r.frames()).length - before).toBe(count);
      const got = answers(r.frames()).slice(before);
      // The core reads a step's worth of frames at a time, so the burst spans a few ms: what they refill may be given too.
      return { got, codes: got.map((a) => a[2]), refillMax: Math.ceil(((w.now - t0) * PAIR_KEY_ANSWERS_PER_S_MAX) / 1000) };
    };
    const EXTRA = 100;
    const first = flood(PAIR_KEY_ANSWERS_BURST_MAX + EXTRA, (i) => `cred-p${i}`);
    expect(first.codes.slice(0, PAIR_KEY_ANSWERS_BURST_MAX)).toEqual(Array(PAIR_KEY_ANSWERS_BURST_MAX).fill(0));
    expect(first.got[PAIR_KEY_ANSWERS_BURST_MAX - 1][3]).toEqual(new Uint8Array(pairKey(secret, w.scope, e, 'cred-r', `cred-p${PAIR_KEY_ANSWERS_BURST_MAX - 1}`)));
    const given = first.codes.filter((c) => c === 0).length;
    expect(given).toBeLessThanOrEqual(PAIR_KEY_ANSWERS_BURST_MAX + first.refillMax);
    expect(first.codes.filter((c) => c === 6)).toHaveLength(PAIR_KEY_ANSWERS_BURST_MAX + EXTRA - given);
    expect(first.got.filter((a) => a[2] === 6).every((a) => a[3].length === 0)).toBe(true);
    expect(first.refillMax).toBeLessThan(EXTRA / 2);
    // a second later the budget has refilled by PAIR_KEY_ANSWERS_PER_S_MAX (a burst of it, not of the whole bucket)
    for (let i = 0; i < 10; i++) { r.send(MSG.HEARTBEAT, []); w.runFor(100); } // a live member (failure timeout 500 ms)
    const later = flood(2 * PAIR_KEY_ANSWERS_PER_S_MAX, () => 'cred-b');
    expect(later.codes.slice(0, PAIR_KEY_ANSWERS_PER_S_MAX)).toEqual(Array(PAIR_KEY_ANSWERS_PER_S_MAX).fill(0));
    expect(later.codes.filter((c) => c === 0).length).toBeLessThanOrEqual(PAIR_KEY_ANSWERS_PER_S_MAX + later.refillMax + 1);
    expect(later.codes.at(-1)).toBe(6);
    expect(r.raw.closed).toBe(false);
    expect(up(w.node('s1'))).toEqual(['cred-r']);
  });

  it('a credential member never answers PAIR_KEY_REQ', () => {
    const w = new World(wasmModule, 29);
    const cred = credentialFor(w.scope, 'cred-a');
    w.addNode('cred-a', { credential: cred });
    w.runFor(100);
    // a member with the secret links to cred-a under cred-a's credential key and asks it
    const r = rawMember(w, 'cred-a', 'raw-s', credentialKey(secret, w.scope, 'cred-a', cred.kinds, BigInt(cred.expiresAtMs)));
    w.runFor(50);
    expect(up(w.node('cred-a'))).toEqual(['raw-s']);
    r.send(MSG_PAIR_KEY_REQ, ['raw-s', 'cred-b', BigInt(EPOCH)]);
    w.runFor(200);
    expect(answers(r.frames())).toEqual([]);
    expect(r.frames().length).toBeGreaterThan(0); // it did talk on the link (heartbeats, gossip)
    expect(r.raw.closed).toBe(false);
    expect(up(w.node('cred-a'))).toEqual(['raw-s']);
  });
});
