// Heartbeats at the rate the receiver asks for (core-as/assembly/heartbeats.ts, docs/PROTOCOL.md
// "Handshake"): each HELLO says how often its sender needs a frame, and each side heartbeats a
// link at its peer's rate, not its own. Before, every node heartbeat every member at its own
// heartbeatMs, so a full mesh of tabs with a long failure timeout still beat every 250 ms on each
// of its 4,950 links (docs/BENCHMARKS.md "idle tabs"). Silence is still judged by each side's own
// failureTimeoutMs.
import { describe, it, expect } from 'vitest';
import type { CoreEvent } from '@trellis/core';
import { World, type SimNode } from '../src/sim/world.js';
import { wasmModule } from './support.js';
import { AUTH_MODE, MSG, decodeFrame, encodeFrame, helloFrame, readHello } from '../src/protocol.js';
import { clusterKey, deriveLinkKeys, transcriptHash, LinkCrypto } from '../src/protocol-session.js';

const downOf = (n: SimNode, name: string) => n.events.find((e): e is Extract<CoreEvent, { type: 'member_down' }> => e.type === 'member_down' && e.name === name);

/** A server-like node s (heartbeat 100 ms, failure timeout 500 ms) and a tab-like node t (1,250 ms, 5 s). */
function mixed(seed: number) {
  const w = new World(wasmModule, seed);
  const beats = { toT: 0, toS: 0 };
  w.observers.push((_w, n, fx) => {
    for (const e of fx) {
      if (e.type !== 'send' || e.bytes[2] !== MSG.HEARTBEAT) continue;
      if (n.name === 's') beats.toT++; else beats.toS++;
    }
  });
  w.addNode('s');
  w.addNode('t', { seeds: ['sim://s'], heartbeatMs: 1250, failureTimeoutMs: 5000 });
  expect(w.runUntil(() => w.node('s').members.has('t') && w.node('t').members.has('s'), 2000)).toBe(true);
  return { w, beats };
}

describe('heartbeat rate (simulator)', () => {
  it('a node with a long failure timeout is sent heartbeats at the rate it asked for, and still hears nothing stall', () => {
    for (const seed of [1, 2, 3]) {
      const { w, beats } = mixed(seed);
      beats.toT = 0; beats.toS = 0;
      w.runFor(10_000);
      // 10 s at 1,250 ms (a beat may go up to a quarter early, with others due): 8 to 11.
      expect(beats.toT, `seed ${seed}: heartbeats s sent t`).toBeGreaterThanOrEqual(7);
      expect(beats.toT, `seed ${seed}: heartbeats s sent t`).toBeLessThanOrEqual(12);
      // t beats s at s's rate, 100 ms, though its own is 1,250 ms.
      expect(beats.toS, `seed ${seed}: heartbeats t sent s`).toBeGreaterThanOrEqual(90);
      expect(downOf(w.node('s'), 't'), `seed ${seed}: s took t down`).toBeUndefined();
      expect(downOf(w.node('t'), 's'), `seed ${seed}: t took s down`).toBeUndefined();
    }
  });

  it('each side judges silence by its own failure timeout: the short one in time, the long one not sooner', () => {
    const { w } = mixed(4);
    w.runFor(1000);
    const at = w.now;
    w.partition(['s'], ['t']);
    expect(w.runUntil(() => downOf(w.node('s'), 't') !== undefined, 2000)).toBe(true);
    expect(downOf(w.node('s'), 't')!.reason).toBe('timeout');
    expect(w.now - at, 's (500 ms) took t down').toBeLessThanOrEqual(500 + 100);
    expect(downOf(w.node('t'), 's')).toBeUndefined();
    expect(w.runUntil(() => downOf(w.node('t'), 's') !== undefined, 7000)).toBe(true);
    expect(downOf(w.node('t'), 's')!.reason).toBe('timeout');
    expect(w.now - at, 't (5 s) took s down').toBeGreaterThanOrEqual(5000 - 1250);
  });

  it('a HELLO asking for heartbeats faster than the floor (10 ms) gets them at the floor, and the core asks for its own heartbeatMs', () => {
    const secret = new TextEncoder().encode('heartbeat-rate secret');
    const w = new World(wasmModule, 5);
    w.addNode('c', { secret });
    const raw = w.rawLink('c');
    w.runFor(5);
    expect(readHello(decodeFrame(raw.received[0])).heartbeatWantMs).toBe(100);
    const dialerHello = helloFrame({ scope: w.scope, name: 'raw', incarnation: 1n, nonce: new Uint8Array(16).fill(9), listen: '', weight: 1,
      kinds: [], auth: AUTH_MODE.secret, credentialKinds: [], expiresAtMs: 0n, heartbeatWantMs: 1 });
    const keys = deriveLinkKeys(clusterKey(secret, w.scope), transcriptHash(dialerHello, raw.received[0]), 'dialer');
    w.rawSend(raw, dialerHello);
    w.rawSend(raw, encodeFrame({ type: MSG.AUTH, fields: [keys.ownProof] }));
    const link = new LinkCrypto(keys);
    // Keep c hearing from us (its failure timeout is 500 ms) while we count its heartbeats.
    let beats = 0;
    for (let t = 0; t < 1000; t += 50) {
      const from = raw.received.length;
      w.runFor(50);
      w.rawSend(raw, link.seal(encodeFrame({ type: MSG.HEARTBEAT, fields: [] })));
      for (const f of raw.received.slice(from)) if (f[2] === MSG.HEARTBEAT) beats++;
    }
    expect(raw.closed).toBe(false);
    // 1 s at the 10 ms floor, a beat up to a quarter early: 100 to 134; never the 1,000 asked for.
    expect(beats).toBeGreaterThanOrEqual(90);
    expect(beats).toBeLessThanOrEqual(140);
  });
});
