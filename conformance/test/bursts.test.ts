// A node under a burst of work stays a good peer: network events are not held behind a backlog
// of API requests, and reconcile spreads a large start over short steps (docs/BENCHMARKS.md,
// start_100k_ms: before these rules, members declared each other lost during the burst).
import { describe, it, expect } from 'vitest';
import { Core, type Effect } from '@trellis/core';
import { wasmModule } from './support.js';

function lone(name = 'a'): Core {
  const core = Core.create(wasmModule);
  core.init({
    name, incarnation: 1, scope: 's', listen: `ws://${name}`, secret: undefined, seed: 1, heartbeatMs: 250,
    failureTimeoutMs: 1000, syncIntervalMs: 1000, quorum: 0, weight: 1, maxFrameBytes: 1 << 20, kinds: ['worker'], seeds: [],
  });
  core.step({ now: 1000 });
  return core;
}
const runs = (fx: Effect[]) => fx.filter((e) => e.type === 'run').length;

describe('bursts', () => {
  it('handles a link event in the first step, ahead of 20,000 queued startChild calls', () => {
    const core = lone();
    for (let i = 0; i < 20_000; i++) core.startChild(i + 1, { id: `c-${i}`, kind: 'worker' }, 'ack');
    core.linkOpened(7, true, 'ws://b', new Uint8Array(16).fill(3));
    const fx = core.step({ now: 1001, maxBytes: 64 * 1024 });
    // The handshake starts at once (our HELLO on link 7) ...
    expect(fx.some((e) => e.type === 'send' && e.link === 7)).toBe(true);
    // ... while most of the requests are still queued for later steps.
    const replies = fx.filter((e) => e.type === 'reply').length;
    expect(replies).toBeGreaterThan(0);
    expect(replies).toBeLessThan(20_000);
    expect(core.pending).toBeGreaterThan(0);
  });

  it('keeps the order of API requests among themselves', () => {
    const core = lone();
    core.startChild(1, { id: 'x', kind: 'worker' }, 'ack');
    core.terminateChild(2, 'x', 'ack');
    const fx = core.step({ now: 1001 });
    const replies = fx.filter((e): e is Extract<Effect, { type: 'reply' }> => e.type === 'reply');
    expect(replies.map((r) => [r.req, r.code])).toEqual([[1, 'ok'], [2, 'ok']]);
  });

  it('starts at most 1,000 children per step and asks to be woken at once for the rest', () => {
    const core = lone();
    for (let i = 0; i < 2_500; i++) core.startChild(i + 1, { id: `c-${i}`, kind: 'worker' }, 'ack');
    let now = 1001;
    const fx1 = core.step({ now });
    expect(fx1.filter((e) => e.type === 'reply')).toHaveLength(2_500); // every request answered
    expect(runs(fx1)).toBe(1_000);
    const wake = fx1.filter((e): e is Extract<Effect, { type: 'wake' }> => e.type === 'wake').at(-1);
    expect(wake?.at).toBe(now + 1);
    expect(runs(core.step({ now: ++now }))).toBe(1_000);
    expect(runs(core.step({ now: ++now }))).toBe(500);
    expect(runs(core.step({ now: ++now }))).toBe(0);
    expect(core.info().local).toBe(2_500);
  });
});

describe('the yield between slices', () => {
  it('goes through the host\'s yieldTask when one is given (browsers: a MessageChannel, not a clamped setTimeout)', async () => {
    const { startWith } = await import('@trellis/core');
    const { WsTransport, NodeRunner, coreModule } = await import('@trellis/node');
    const { messageChannelYield } = await import('../../host-browser/dist/yield.js');
    const channel = messageChannelYield();
    let yields = 0;
    const sup = await startWith({ scope: 's', name: 'y', kinds: {}, insecure: true }, {
      transport: () => new WsTransport({}),
      runner: (name, kinds, emit) => new NodeRunner(name, kinds, emit),
      randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
      wasm: coreModule,
      defaultName: () => 'y',
      yieldTask: (fn) => { yields++; channel(fn); },
    });
    // 5,000 requests are several 64 KiB slices: each slice after the first waits for a yield.
    await Promise.all(Array.from({ length: 5_000 }, (_, i) => sup.startChild({ id: `y-${i}`, kind: 'elsewhere' })));
    expect(yields).toBeGreaterThan(0);
    expect(sup.whichChildren('global')).toHaveLength(5_000);
    await sup.kill();
  });
});
