// Same-origin mesh in real Chromium (issue 13): two tabs of one origin and scope link each other
// over their BroadcastChannel, not through the gateway (the gateway carries only their links to
// the Node member), and each holds a Web Lock for its life. When one tab's page closes without a
// pagehide leave (lifecycle off), the other is granted its lock and takes it as down at once, well
// before its failure timeout, and the closed tab's children run on the other exactly once. The
// same holds when a tab's renderer crashes (chrome://crash): no leave, no pagehide.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { LocalChildView } from '@trellis/core';
import { gatewayFixture, openTab, tabCall, until, type GatewayFixture } from './browser-harness.js';

const SCOPE = 'browser-mesh';
/** Long, so that a down before it can only come from the lock (heartbeats would take this long). */
const FAILURE_TIMEOUT_MS = 4000;

/** Starts a tab without lifecycle handling (a close sends no leave); its events carry the page's Date.now() as `at`. */
function startMeshTab(page: Page, gatewayUrl: string, name: string): Promise<void> {
  return page.evaluate(async ({ gatewayUrl, name, scope, failureTimeoutMs }) => {
    const w = window as unknown as { trellis: any; sup: any; events: unknown[] };
    const sup = await w.trellis.start({ scope, name, gateway: gatewayUrl, insecure: true, kinds: '/kinds.js', heartbeatMs: 200, failureTimeoutMs, lifecycle: false });
    w.sup = sup;
    sup.on('event', (e: object) => w.events.push({ ...e, at: Date.now() }));
  }, { gatewayUrl, name, scope: SCOPE, failureTimeoutMs: FAILURE_TIMEOUT_MS });
}

describe('same-origin mesh over BroadcastChannel and Web Locks', () => {
  let fx: GatewayFixture;
  beforeAll(async () => { fx = await gatewayFixture({ scope: SCOPE, insecure: true, heartbeatMs: 200, failureTimeoutMs: FAILURE_TIMEOUT_MS }); });
  afterAll(async () => { await fx?.close(); });

  it('two tabs link over the channel, not the gateway; one closes: the other has it down before the failure timeout, its children run once', async () => {
    const [a, b] = [await openTab(fx.browser, fx.site), await openTab(fx.browser, fx.site)];
    await startMeshTab(a, fx.gatewayUrl, 'tab-ma');
    await startMeshTab(b, fx.gatewayUrl, 'tab-mb');
    const seesUp = async (page: Page, other: string) => (await tabCall<Array<{ name: string; status: string }>>(page, 'members')).some((m) => m.name === other && m.status === 'up');
    expect(await until(async () => (await seesUp(a, 'tab-mb')) && (await seesUp(b, 'tab-ma')), 5000)).toBe(true);
    expect(await until(() => ['tab-ma', 'tab-mb'].every((n) => fx.node.members().some((m) => m.name === n && m.status === 'up')), 5000)).toBe(true);
    // Each tab has one mesh link (to the other); the gateway holds only the two tabs' links to node-1.
    expect(await until(async () => (await tabCall<number>(a, 'meshLinks')) === 1 && (await tabCall<number>(b, 'meshLinks')) === 1
      && fx.node.gatewayStats!().channels === 2, 5000)).toBe(true);
    expect(fx.node.gatewayStats!()).toEqual({ tabs: 2, channels: 2 });

    const N = 8;
    for (let i = 0; i < N; i++) await fx.node.startChild({ id: `m${i}`, kind: 'tab-inline' });
    const runningIn = async (p: Page) => (await tabCall<LocalChildView[]>(p, 'whichChildren', 'local')).filter((c) => c.status === 'running').map((c) => c.id);
    expect(await until(async () => (await runningIn(a)).length + (await runningIn(b)).length === N, 5000)).toBe(true);
    expect((await runningIn(b)).length).toBeGreaterThan(0);

    const closedAt = await a.evaluate(() => Date.now());
    await b.close();
    const downAt = async () => (await a.evaluate(() => (window as unknown as { events: Array<{ type: string; name?: string; at: number }> }).events))
      .find((e) => e.type === 'member_down' && e.name === 'tab-mb')?.at;
    expect(await until(async () => (await downAt()) !== undefined, FAILURE_TIMEOUT_MS * 2)).toBe(true);
    const tookMs = (await downAt())! - closedAt;
    expect(tookMs).toBeLessThan(FAILURE_TIMEOUT_MS / 4);
    // Every child now runs on tab-ma, exactly once, and stays so.
    expect(await until(async () => (await runningIn(a)).length === N, 5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect((await runningIn(a)).sort()).toEqual(Array.from({ length: N }, (_, i) => `m${i}`).sort());
    // tab-ma's own view; node-1 learns of the starts from its reports through the gateway.
    const onMaByNode = () => fx.node.whichChildren('global').filter((c) => c.status === 'running' && c.node === 'tab-ma').length;
    await until(() => onMaByNode() === N, 5000);
    expect(onMaByNode()).toBe(N);
    await a.close();
  });

  it('a tab whose renderer crashes (chrome://crash) is down on the other before the failure timeout; its children run there exactly once', async () => {
    const [a, b] = [await openTab(fx.browser, fx.site), await openTab(fx.browser, fx.site)];
    await startMeshTab(a, fx.gatewayUrl, 'tab-ca');
    await startMeshTab(b, fx.gatewayUrl, 'tab-cb');
    const seesUp = async (page: Page, other: string) => (await tabCall<Array<{ name: string; status: string }>>(page, 'members')).some((m) => m.name === other && m.status === 'up');
    expect(await until(async () => (await seesUp(a, 'tab-cb')) && (await seesUp(b, 'tab-ca')), 5000)).toBe(true);
    const N = 8;
    for (let i = 0; i < N; i++) await fx.node.startChild({ id: `k${i}`, kind: i % 2 ? 'tab-worker' : 'tab-inline' });
    const runningIn = async (p: Page) => (await tabCall<LocalChildView[]>(p, 'whichChildren', 'local')).filter((c) => c.status === 'running' && c.id.startsWith('k')).map((c) => c.id);
    expect(await until(async () => (await runningIn(a)).length + (await runningIn(b)).length === N, 5000)).toBe(true);
    expect((await runningIn(b)).length).toBeGreaterThan(0);

    const crashedAt = await a.evaluate(() => Date.now());
    await b.goto('chrome://crash').catch(() => undefined);
    expect(await until(async () => (await runningIn(a)).length === N, FAILURE_TIMEOUT_MS * 2)).toBe(true);
    const down = (await a.evaluate(() => (window as unknown as { events: Array<{ type: string; name?: string; at: number }> }).events))
      .find((e) => e.type === 'member_down' && e.name === 'tab-cb');
    expect(down).toBeDefined();
    expect(down!.at - crashedAt).toBeLessThan(FAILURE_TIMEOUT_MS / 4);
    await new Promise((r) => setTimeout(r, 500));
    expect((await runningIn(a)).sort()).toEqual(Array.from({ length: N }, (_, i) => `k${i}`).sort());
    // tab-ca's own view; node-1 learns of the starts from its reports through the gateway.
    const byNode = () => JSON.stringify(fx.node.whichChildren('global').filter((c) => c.id.startsWith('k')).map((c) => [c.id, c.node, c.status]).sort());
    const want = Array.from({ length: N }, (_, i) => [`k${i}`, 'tab-ca', 'running']).sort();
    await until(() => byNode() === JSON.stringify(want), 5000);
    const g = fx.node.whichChildren('global').filter((c) => c.id.startsWith('k'));
    expect(g.map((c) => [c.id, c.node, c.status]).sort()).toEqual(want);
    await a.close();
    await b.close().catch(() => undefined);
  });
});
