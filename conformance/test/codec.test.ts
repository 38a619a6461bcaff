// The frame codec: every message type the core sends matches docs/PROTOCOL.md (decoded by an
// independent reader and re-encoded byte for byte; every frame after the handshake carries a
// 16-byte tag), 100,000 random and mutated frames go through a node's real decoders without a
// throw or trap, each accepted or rejected with a reason, and a rejected frame changes nothing.
import { describe, it, expect, beforeAll } from 'vitest';
import { TestCore as Core, REJECT_REASONS } from '@trellis/core/testing';
import { World } from '../src/sim/world.js';
import { decodeFrame, encodeFrame, helloFrame, AUTH_MODE, MSG, MSG_NAMES, MSG_PAIR_KEY, MSG_PAIR_KEY_REQ, TAG_BYTES } from '../src/protocol.js';
import { LinkCrypto, clusterKey, deriveLinkKeys, mintCredential, transcriptHash } from '../src/protocol-session.js';
import { Prng } from '../src/sim/prng.js';
import { wasmModule } from './support.js';

/** A handshake frame is sent bare; every later frame is followed by its tag, which this strips. */
const untagged = (f: Uint8Array) => (f[2] <= MSG.AUTH ? f : f.subarray(0, f.length - TAG_BYTES));

/** Frames the core really sent (without their tags), by message type, from a scenario that exercises every type. */
function captureFrames(): Map<number, Uint8Array[]> {
  const byType = new Map<number, Uint8Array[]>();
  const w = new World(wasmModule, 11);
  w.observers.push((_w, _n, fx) => {
    for (const e of fx) if (e.type === 'send') {
      const t = e.bytes[2];
      const l = byType.get(t) ?? [];
      if (l.length < 50) l.push(e.bytes);
      byType.set(t, l);
    }
  });
  const secret = new TextEncoder().encode('k');
  w.addNode('a', { secret });
  w.addNode('b', { secret, seeds: ['sim://a'] });
  w.addNode('c', { secret, seeds: ['sim://a'] });
  w.runFor(1000);
  // A start larger than one sync frame (> 64 KiB of specs): several DELTA frames, never fragments.
  for (let i = 0; i < 800; i++) w.startChild('a', { id: `big-${i}`, kind: 'worker', args: 'x'.repeat(100) });
  w.runFor(500);
  // A newcomer gets the whole desired map as anti-entropy: DELTA frames, then SYNC_LIVE.
  w.addNode('d', { secret, seeds: ['sim://b'] });
  w.runFor(1000);
  w.terminateChild('b', 'big-1');
  // Messages to a child (MESSAGE, MESSAGE_ACK, REPLY) from every member, sends and calls.
  w.startChild('a', { id: 'talk', kind: 'worker', groups: ['talkers', 'all'] }, 'done');
  w.runFor(300);
  for (const from of ['a', 'b', 'c', 'd']) for (let i = 0; i < 4; i++) w.sendMessage(from, 'talk', i % 2 === 0);
  w.runFor(300);
  // The cordon table (CORDONS) and what a member applies (MEMBER_STATE).
  w.cordon('a', 'b', 'cordoned');
  w.setWeight('c', 2);
  w.runFor(500);
  // A running child checkpoints: a CHECKPOINT to the member next in line (c's children move with
  // HANDOFFs when it leaves, below); one of 100 KB goes as FRAGMENT frames.
  const [id, [on]] = [...w.runningIds()].find(([, ns]) => ns.length === 1)!;
  w.checkpoint(on, id, new TextEncoder().encode('{"n":1}'));
  w.runFor(100);
  w.checkpoint(on, id, new TextEncoder().encode(JSON.stringify({ s: 'y'.repeat(100_000) })));
  // A member whose DIGEST names claims a node has not seen is asked for them (CLAIMS_REQ): a raw
  // member with the secret, speaking the documented handshake (protocol-session.ts), sends one.
  const raw = w.rawLink('c');
  w.runFor(5);
  const dialerHello = helloFrame({ scope: w.scope, name: 'raw', incarnation: 1n, nonce: new Uint8Array(16).fill(9), listen: '', weight: 1,
    kinds: [], auth: AUTH_MODE.secret, credentialKinds: [], expiresAtMs: 0n, heartbeatWantMs: 100 });
  const keys = deriveLinkKeys(clusterKey(secret, w.scope), transcriptHash(dialerHello, raw.received[0]), 'dialer');
  w.rawSend(raw, dialerHello);
  w.rawSend(raw, encodeFrame({ type: MSG.AUTH, fields: [keys.ownProof] }));
  w.runFor(5);
  const link = new LinkCrypto(keys);
  w.rawSend(raw, link.seal(encodeFrame({ type: MSG.DIGEST, fields: [0n, 999n] })));
  w.runFor(2000);
  w.leave('c');
  w.runFor(2000);
  // Two credential members with no gateway link each other with the pair key a secret member
  // gives them (PAIR_KEY_REQ, PAIR_KEY).
  for (const t of ['e', 'f']) {
    const c = mintCredential(secret, w.scope, t, ['worker'], 600_000n, 0n);
    w.addNode(t, { credential: { kinds: c.kinds, expiresAtMs: Number(c.expiresAtMs), key: c.key, firstEpoch: 0, tabLinkKeys: c.tabLinkKeys }, seeds: ['sim://a'] });
  }
  w.runFor(1000);
  return byType;
}

describe('codec', () => {
  let frames: Map<number, Uint8Array[]>;
  beforeAll(() => { frames = captureFrames(); });
  const bare = (t: number) => (frames.get(t) ?? []).map(untagged);

  it.each([...Object.entries(MSG), ['PAIR_KEY_REQ', MSG_PAIR_KEY_REQ], ['PAIR_KEY', MSG_PAIR_KEY]] as const)('%s frames sent by the core decode as documented and re-encode identically', (_name, type) => {
    const list = frames.get(type) ?? [];
    expect(list.length).toBeGreaterThan(0);
    for (const f of list) {
      const tagged = type > MSG.AUTH;
      const decoded = decodeFrame(f, tagged ? TAG_BYTES : 0);
      expect(decoded.type).toBe(type);
      expect(encodeFrame(decoded)).toEqual(untagged(f));
    }
  });

  it('a node accepts every member message type the core sends (round trip through the real decoders)', () => {
    const core = Core.create(wasmModule);
    for (const [type, list] of frames) {
      if (type === MSG.HELLO || type === MSG.AUTH || type === MSG.FRAGMENT || type === MSG.BYE) continue;
      for (const f of list.slice(0, 5).map(untagged)) expect([MSG_NAMES[type], core.fuzzFrame(f)]).toEqual([MSG_NAMES[type], null]);
    }
    // a fragmented message (a 100 KB checkpoint) reassembles and its decoder accepts it
    const frags = bare(MSG.FRAGMENT);
    let ended = false;
    for (const f of frags) { expect(core.fuzzFrame(f)).toBeNull(); if (f[8] === 0) { ended = true; break; } }
    expect(ended).toBe(true);
  });

  it('100,000 random and mutated frames: none throws, each is accepted or rejected with a known reason', () => {
    const core = Core.create(wasmModule);
    const rng = new Prng(2024);
    const seeds = [...frames.entries()].filter(([t]) => t !== MSG.FRAGMENT).flatMap(([, l]) => l.slice(0, 10).map(untagged));
    const reasons = new Map<string, number>();
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) {
      let f: Uint8Array;
      const mode = i % 5;
      if (mode === 0) f = rng.bytes(rng.int(0, 64));
      else {
        const base = rng.pick(seeds);
        f = base.slice();
        if (mode === 1) for (let k = rng.int(1, 4); k > 0; k--) f[rng.int(0, f.length - 1)] ^= 1 << rng.int(0, 7);
        else if (mode === 2) f = f.slice(0, rng.int(0, f.length));
        else if (mode === 3) { const g = new Uint8Array(f.length + rng.int(1, 16)); g.set(f); g.set(rng.bytes(g.length - f.length), f.length); f = g; }
        else if (f.length > 12) {
          // corrupt a length/count field inside the payload, keeping the header consistent
          const at = rng.int(8, f.length - 4);
          new DataView(f.buffer).setUint32(at, rng.pick([0, 1, 0xffffffff, 0x7fffffff, rng.u32()]), true);
        }
      }
      const r = core.fuzzFrame(f);
      if (r === null) accepted++;
      else reasons.set(r, (reasons.get(r) ?? 0) + 1);
    }
    for (const r of reasons.keys()) expect(REJECT_REASONS).toContain(r);
    expect(accepted).toBeGreaterThan(100);
    expect([...reasons.values()].reduce((a, b) => a + b, 0) + accepted).toBe(100_000);
    for (const r of ['truncated', 'bad_magic', 'malformed', 'unknown_type', 'bad_version']) expect(reasons.get(r) ?? 0).toBeGreaterThan(0);
    // the core still works after all that
    expect(core.fuzzFrame(seeds.find((s) => s[2] === MSG.HEARTBEAT)!)).toBeNull();
  });

  it('every frame type truncated at every byte and mutated at every byte: a rejected frame changes no state', () => {
    const core = Core.create(wasmModule);
    let rejected = 0, accepted = 0;
    const rng = new Prng(77);
    /** Feeds one variant; a rejected one must leave the node's digest as it was. */
    const check = (f: Uint8Array, handshake: boolean) => {
      const node = handshake ? 'handshake' : 'member';
      const before = core.fuzzDigest(node);
      const r = handshake ? core.fuzzHandshake(f) : core.fuzzFrame(f);
      if (r === null) { accepted++; return; }
      rejected++;
      expect([MSG_NAMES[f[2]] ?? f[2], r, core.fuzzDigest(node)]).toEqual([MSG_NAMES[f[2]] ?? f[2], r, before]);
    };
    const withLength = (f: Uint8Array) => { new DataView(f.buffer, f.byteOffset).setUint32(4, f.length - 8, true); return f; };
    for (const [type, list] of frames) {
      const handshake = type <= MSG.AUTH;
      // Fragments are 64 KiB each: one of them; every other type: its three smallest frames (a
      // burst's DELTA frames are up to a sync frame each, and every byte of each is varied).
      const smallest = [...list].sort((a, b) => a.length - b.length);
      for (const whole of smallest.slice(0, type === MSG.FRAGMENT ? 1 : 3).map(untagged)) {
        for (let cut = 0; cut < whole.length; cut++) {
          check(whole.slice(0, cut), handshake);                       // cut, header as sent
          if (cut >= 8) check(withLength(whole.slice(0, cut)), handshake); // cut, header fixed up
        }
        for (let at = 0; at < whole.length; at++) {
          const m = whole.slice();
          m[at] ^= 1 << rng.int(0, 7);
          check(m, handshake);
        }
      }
    }
    // Many variants still decode (a flipped bit inside a string, a shorter fragment); the rest were checked.
    expect(rejected).toBeGreaterThan(10_000);
    expect(accepted).toBeGreaterThan(0);
  });

  it('the handshake decoders: HELLO and AUTH from a stranger, mutated, never make a member or leave a link', () => {
    const core = Core.create(wasmModule);
    const before = core.fuzzDigest('handshake');
    const rng = new Prng(5);
    const seeds = [...bare(MSG.HELLO), ...bare(MSG.AUTH)];
    const reasons = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const f = rng.pick(seeds).slice();
      for (let k = rng.int(0, 3); k > 0; k--) f[rng.int(0, f.length - 1)] ^= 1 << rng.int(0, 7);
      const r = core.fuzzHandshake(f);
      if (r !== null) reasons.add(r);
    }
    // A stranger's HELLO is never enough: no member, no link, no dial is left behind.
    expect(core.fuzzDigest('handshake')).toBe(before);
    for (const r of ['malformed', 'unauthenticated', 'wrong_scope', 'bad_magic']) expect(reasons).toContain(r);
  });
});
