// Watched links (core-as/assembly/watched-links.ts): a link its host reports the end of (the
// same-origin mesh between tabs, by Web Locks) and gives a silence bound (a tab's default 60 s,
// host-browser/src/defaults.ts) asks for a heartbeat a quarter of that bound, is judged silent
// only after it, and gets the sync's DIGEST and MEMBERS once per bound. A full mesh of 100 tabs could not stay idle on 2 cores
// with a heartbeat every 1,250 ms and a sync every 5 s on each of its 4,950 links (docs/BENCHMARKS.md
// "100 idle tabs"). Other links of the same node, and every link under a quorum, keep their rates.
import { describe, it, expect } from 'vitest';
import type { CoreEvent } from '@trellis/core';
import { World, type SimNode, type NodeOptions } from '../src/sim/world.js';
import { wasmModule } from './support.js';
import { MSG } from '../src/protocol.js';

const WATCHED_LINK_SILENCE_MS = 60_000;
const WATCHED_HEARTBEAT_MS = WATCHED_LINK_SILENCE_MS / 4;
const WATCHED_LINK_SYNC_MS = WATCHED_LINK_SILENCE_MS;
const TAB: NodeOptions = { heartbeatMs: 1250, failureTimeoutMs: 5000, watchedLinks: WATCHED_LINK_SILENCE_MS };

const downOf = (n: SimNode, name: string) => n.events.find((e): e is Extract<CoreEvent, { type: 'member_down' }> => e.type === 'member_down' && e.name === name);

/** Tabs a and b (watched between them), and a server-like s (not watched), each linked to the others; frames counted by type, sender and receiver. */
function world(seed: number, more: NodeOptions = {}) {
  const w = new World(wasmModule, seed);
  const sent = new Map<string, number>();
  const linkPeer = new Map<number, string>();
  w.observers.push((_w, n, fx) => {
    for (const e of fx) {
      if (e.type !== 'send') continue;
      const key = `${n.name}>${linkPeer.get(e.link) ?? '?'}:${e.bytes[2]}`;
      sent.set(key, (sent.get(key) ?? 0) + 1);
    }
  });
  w.addNode('s', more);
  w.addNode('a', { ...TAB, ...more, seeds: ['sim://s'] });
  w.addNode('b', { ...TAB, ...more, seeds: ['sim://s'] });
  const all = () => ['s', 'a', 'b'].every((x) => ['s', 'a', 'b'].every((y) => x === y || w.node(x).members.has(y)));
  expect(w.runUntil(all, 5000)).toBe(true);
  // Which peer each link leads to, from the endpoints the world keeps (name of the other end).
  const eps = (w as unknown as { endpoints: Map<number, { node: string; peer: number }> }).endpoints;
  for (const [id, ep] of eps) { const p = eps.get(ep.peer); if (p) linkPeer.set(id, p.node); }
  const count = (from: string, to: string, type: number) => sent.get(`${from}>${to}:${type}`) ?? 0;
  return { w, count, reset: () => sent.clear() };
}

describe('watched links (simulator)', () => {
  it('between two tabs: a heartbeat every 15 s and a DIGEST a minute; to and from the server, the usual rates', () => {
    for (const seed of [1, 2]) {
      const { w, count, reset } = world(seed);
      w.runFor(1000);
      reset();
      w.runFor(120_000);
      for (const [x, y] of [['a', 'b'], ['b', 'a']]) {
        // 120 s at 15 s (a beat may go a quarter early): 8 to 11.
        expect(count(x, y, MSG.HEARTBEAT), `seed ${seed}: heartbeats ${x} to ${y}`).toBeGreaterThanOrEqual(7);
        expect(count(x, y, MSG.HEARTBEAT), `seed ${seed}: heartbeats ${x} to ${y}`).toBeLessThanOrEqual(11);
        expect(count(x, y, MSG.DIGEST), `seed ${seed}: DIGESTs ${x} to ${y}`).toBeGreaterThanOrEqual(120_000 / WATCHED_LINK_SYNC_MS - 1);
        expect(count(x, y, MSG.DIGEST), `seed ${seed}: DIGESTs ${x} to ${y}`).toBeLessThanOrEqual(120_000 / WATCHED_LINK_SYNC_MS + 1);
        // The tabs' link to s is not watched: s asks for its own 100 ms and gets its sync every 400 ms.
        expect(count(x, 's', MSG.HEARTBEAT), `seed ${seed}: heartbeats ${x} to s`).toBeGreaterThanOrEqual(1000);
        expect(count('s', x, MSG.DIGEST), `seed ${seed}: DIGESTs s to ${x}`).toBeGreaterThanOrEqual(250);
      }
      for (const n of ['s', 'a', 'b']) expect(w.node(n).events.filter((e) => e.type === 'member_down'), `seed ${seed}: downs at ${n}`).toEqual([]);
    }
  });

  it('a tab that goes silent on a watched link (hung, its lock still held) is down after the long bound, not its failure timeout', () => {
    const { w } = world(3);
    w.runFor(1000);
    const at = w.now;
    w.partition(['a'], ['b']);
    expect(w.runUntil(() => downOf(w.node('a'), 'b') !== undefined, WATCHED_LINK_SILENCE_MS + 5000)).toBe(true);
    expect(downOf(w.node('a'), 'b')!.reason).toBe('timeout');
    // Silent from its last frame, up to a heartbeat before the cut: at least the bound less one heartbeat.
    expect(w.now - at).toBeGreaterThanOrEqual(WATCHED_LINK_SILENCE_MS - WATCHED_HEARTBEAT_MS);
    expect(w.now - at).toBeLessThanOrEqual(WATCHED_LINK_SILENCE_MS + 1000);
    // The server still hears both, and takes neither down.
    expect(downOf(w.node('s'), 'a')).toBeUndefined();
    expect(downOf(w.node('s'), 'b')).toBeUndefined();
  });

  it('a watched link that closes while both tabs live (a flap, long after the last heartbeat) is relinked: nobody is taken down', () => {
    for (const seed of [5, 6, 7]) {
      const { w } = world(seed);
      // Past a failure timeout (5 s) of silence on the watched link (its first heartbeat goes
      // 11.25 s after the link-up at the earliest), then the link closes.
      w.runFor(9000);
      w.flap('a', 'b');
      w.runFor(20_000);
      expect(downOf(w.node('a'), 'b'), `seed ${seed}: a took b down`).toBeUndefined();
      expect(downOf(w.node('b'), 'a'), `seed ${seed}: b took a down`).toBeUndefined();
      expect(w.node('a').members.has('b') && w.node('b').members.has('a')).toBe(true);
    }
  });

  it('a bound not above the failure timeout relaxes nothing (a tab that set its failure timeout)', () => {
    const w = new World(wasmModule, 8);
    let beats = 0;
    w.observers.push((_w, n, fx) => { for (const e of fx) if (n.name === 'a' && e.type === 'send' && e.bytes[2] === MSG.HEARTBEAT) beats++; });
    w.addNode('a', { heartbeatMs: 100, failureTimeoutMs: 600, watchedLinks: 600 });
    w.addNode('b', { heartbeatMs: 100, failureTimeoutMs: 600, watchedLinks: 600, seeds: ['sim://a'] });
    expect(w.runUntil(() => w.node('a').members.has('b') && w.node('b').members.has('a'), 2000)).toBe(true);
    w.runFor(500);
    beats = 0;
    w.runFor(2000);
    expect(beats).toBeGreaterThanOrEqual(15);
    const at = w.now;
    w.partition(['a'], ['b']);
    expect(w.runUntil(() => downOf(w.node('a'), 'b') !== undefined, 3000)).toBe(true);
    expect(w.now - at).toBeLessThanOrEqual(600 + 200);
  });

  it('under a quorum nothing is relaxed: the tabs beat each other at their own rate and judge by their failure timeout', () => {
    const { w, count, reset } = world(4, { quorum: 2 });
    w.runFor(1000);
    reset();
    w.runFor(10_000);
    // 10 s at 1,250 ms: 7 to 11.
    expect(count('a', 'b', MSG.HEARTBEAT)).toBeGreaterThanOrEqual(7);
    expect(count('a', 'b', MSG.HEARTBEAT)).toBeLessThanOrEqual(11);
    const at = w.now;
    w.partition(['a'], ['b']);
    expect(w.runUntil(() => downOf(w.node('a'), 'b') !== undefined, 10_000)).toBe(true);
    expect(w.now - at).toBeLessThanOrEqual(5000 + 1000);
  });
});
