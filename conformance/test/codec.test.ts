// The frame codec: every message type the core sends matches docs/PROTOCOL.md (decoded by an
// independent reader and re-encoded byte for byte), and 100,000 random and mutated frames go
// through a node's real decoders without a throw or trap, each accepted or rejected with a reason.
import { describe, it, expect, beforeAll } from 'vitest';
import { TestCore as Core, REJECT_REASONS } from '@trellis/core/testing';
import { World } from '../src/sim/world.js';
import { decodeFrame, encodeFrame, MSG, MSG_NAMES } from '../src/protocol.js';
import { Prng } from '../src/sim/prng.js';
import { wasmModule } from './support.js';

/** Frames the core really sent, by message type, from a scenario that exercises every type. */
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
  // A start large enough to be fragmented (> 64 KiB in one delta).
  for (let i = 0; i < 800; i++) w.startChild('a', { id: `big-${i}`, kind: 'worker', args: 'x'.repeat(100) });
  w.runFor(500);
  // A newcomer gets the whole desired map in one anti-entropy delta: fragmented.
  w.addNode('d', { secret, seeds: ['sim://b'] });
  w.runFor(1000);
  w.terminateChild('b', 'big-1');
  // Loss makes a claims delta go missing, so a CLAIMS_REQ follows.
  w.net.loss = 0.3;
  for (let i = 0; i < 50; i++) w.startChild('c', { id: `lossy-${i}`, kind: 'worker' });
  w.runFor(2000);
  w.net.loss = 0;
  w.runFor(2000);
  w.leave('c');
  w.runFor(2000);
  return byType;
}

describe('codec', () => {
  let frames: Map<number, Uint8Array[]>;
  beforeAll(() => { frames = captureFrames(); });

  it.each(Object.entries(MSG))('%s frames sent by the core decode as documented and re-encode identically', (_name, type) => {
    const list = frames.get(type) ?? [];
    expect(list.length).toBeGreaterThan(0);
    for (const f of list) {
      const decoded = decodeFrame(f);
      expect(decoded.type).toBe(type);
      expect(encodeFrame(decoded)).toEqual(f);
    }
  });

  it('a node accepts every member message type the core sends (round trip through the real decoders)', () => {
    const core = Core.create(wasmModule);
    for (const [type, list] of frames) {
      if (type === MSG.HELLO || type === MSG.AUTH || type === MSG.FRAGMENT || type === MSG.BYE) continue;
      for (const f of list.slice(0, 5)) expect([MSG_NAMES[type], core.fuzzFrame(f)]).toEqual([MSG_NAMES[type], null]);
    }
    // a fragmented message reassembles
    const frags = frames.get(MSG.FRAGMENT)!;
    let last: string | null = 'none';
    for (const f of frags) { last = core.fuzzFrame(f); expect(last).toBeNull(); if (f[8] === 0) break; }
    expect(core.fuzzDesiredCount()).toBeGreaterThan(0);
  });

  it('100,000 random and mutated frames: none throws, each is accepted or rejected with a known reason', () => {
    const core = Core.create(wasmModule);
    const rng = new Prng(2024);
    const seeds = [...frames.entries()].filter(([t]) => t !== MSG.FRAGMENT).flatMap(([, l]) => l.slice(0, 10));
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
});
