// A tab navigated away (a real pagehide), in real Chromium, ten times: each time its children run
// on the other tab long before the failure timeout. The other tab joined a moment before, as in
// the browser bench, so it is still waiting for the leaving tab its gateway's member named to it:
// it must stop waiting once that member takes the tab down (issue 13, tab_leave_failover_ms; the
// core's fix is the MEMBERS withdrawal in dials.ts, docs/SIMULATOR.md "named after it left").
// Only tabs run `tab-inline` here (node-1 has no kinds), so every child has to move to a tab.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayFixture, joinedTab, openTab, startTab, until, type GatewayFixture } from './browser-harness.js';

const SCOPE = 'browser-leave';
/** Long, so that a tab found dead by silence (or a joiner that waits out its window) cannot pass. */
const FAILURE_TIMEOUT_MS = 10_000;
const HEARTBEAT_MS = 200;
const ROUNDS = 10;
const CHILDREN = 4;
/** "Long before the failure timeout": a behaviour bound, not a latency target. */
const MOVED_WITHIN_MS = FAILURE_TIMEOUT_MS / 4;

describe('a tab navigated away while another tab has just joined', () => {
  let fx: GatewayFixture;
  beforeAll(async () => {
    fx = await gatewayFixture({ scope: SCOPE, insecure: true, heartbeatMs: HEARTBEAT_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS });
  });
  afterAll(async () => { await fx?.close(); });

  const tab = (name: string) => joinedTab(fx.browser, fx.site, { scope: SCOPE, gateway: fx.gatewayUrl, name, heartbeatMs: HEARTBEAT_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS }, fx.node);
  /** Where each child runs by node-1's view; fails on a child seen running twice. */
  const placement = () => {
    const where = new Map<string, string>();
    for (const c of fx.node.whichChildren('global')) {
      if (c.status !== 'running' || c.node === undefined) continue;
      expect(where.has(c.id), `${c.id} running twice`).toBe(false);
      where.set(c.id, c.node);
    }
    return where;
  };
  const upOnNode = (name: string) => fx.node.members().some((m) => m.name === name && m.status === 'up');

  it(`${ROUNDS} times: the children run on the other tab within ${MOVED_WITHIN_MS} ms (failure timeout ${FAILURE_TIMEOUT_MS} ms)`, async () => {
    const took: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const a = await tab(`leave-${r}-a`);
      const ids = Array.from({ length: CHILDREN }, (_, i) => `leave-${r}-c${i}`);
      for (const id of ids) await fx.node.startChild({ id, kind: 'tab-inline' });
      expect(await until(() => ids.every((id) => placement().get(id) === a.name), 5000)).toBe(true);
      // b: navigated away the moment node-1 has it up (polled every 2 ms), before it has linked a.
      const bPage = await openTab(fx.browser, fx.site);
      const b = { page: bPage, ...(await startTab(bPage, { scope: SCOPE, gateway: fx.gatewayUrl, name: `leave-${r}-b`, heartbeatMs: HEARTBEAT_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS })) };
      try {
        expect(await until(() => upOnNode(b.name), 5000, 2)).toBe(true);
        const t0 = Date.now();
        await a.page.goto('about:blank');
        const moved = await until(() => { const p = placement(); return ids.every((id) => p.get(id) === b.name); }, MOVED_WITHIN_MS);
        took.push(Date.now() - t0);
        expect(moved, `round ${r}: children ${JSON.stringify([...placement()])} not all on ${b.name} within ${MOVED_WITHIN_MS} ms`).toBe(true);
        // It left: down on the server too, not merely silent.
        expect(upOnNode(a.name)).toBe(false);
      } finally {
        for (const id of ids) await fx.node.terminateChild(id).catch(() => undefined);
        await b.page.close();
        await a.page.close();
      }
      // The next round's children must not be placed on this round's tabs.
      expect(await until(() => !upOnNode(a.name) && !upOnNode(b.name), 5000)).toBe(true);
    }
    console.log(`tab_leave_failover_ms (${ROUNDS} rounds, a joiner beside): ${took.join(' ')}`);
  });
});
