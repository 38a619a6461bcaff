// Credential renewal in real Chromium (issue 13): two tabs hold credentials of 3 s and renew them
// through the application's route (here a function the test exposes to the page, which mints on
// the Node member) when half their life is left. Across several renewals their links stay up,
// their children keep running where they started (no restart, no move), and every member hears
// each renewal (`credential_renewed`) and so never closes a tab out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { LocalChildView, TrellisEvent } from '@trellis/core';
import { gatewayFixture, openTab, tabCall, tabEvents, until, type GatewayFixture } from './browser-harness.js';

const SCOPE = 'browser-renewal';
const SECRET = 'browser-renewal-test-secret-0123456789abcdef';
const TAB_KINDS = ['tab-block', 'tab-inline', 'tab-rejects', 'tab-throws', 'tab-worker'];
const CREDENTIAL_MS = 3000;
const RENEWALS_MIN = 2;

describe('credential renewal in Chromium', () => {
  let fx: GatewayFixture;
  beforeAll(async () => { fx = await gatewayFixture({ scope: SCOPE, secret: SECRET, heartbeatMs: 100, failureTimeoutMs: 1000 }); });
  afterAll(async () => { await fx?.close(); });

  /** A credential tab whose renewCredential calls back into the test for a fresh token. */
  async function renewingTab(name: string, mesh: boolean): Promise<Page> {
    const page = await openTab(fx.browser, fx.site);
    await page.exposeFunction('mintAgain', () => fx.node.mintCredential({ name, kinds: TAB_KINDS, expiresInMs: CREDENTIAL_MS }));
    const credential = fx.node.mintCredential({ name, kinds: TAB_KINDS, expiresInMs: CREDENTIAL_MS });
    await page.evaluate(async ({ gatewayUrl, credential, scope, mesh }) => {
      const w = window as unknown as { trellis: any; sup: any; events: unknown[]; lifecycle: unknown[]; mintAgain(): Promise<string> };
      w.lifecycle = [];
      const sup = await w.trellis.start({ scope, gateway: gatewayUrl, credential, mesh, renewCredential: () => w.mintAgain(), kinds: '/kinds.js', heartbeatMs: 100, failureTimeoutMs: 1000 });
      w.sup = sup;
      sup.on('event', (e: unknown) => w.events.push(e));
      sup.onLifecycle((e: unknown) => w.lifecycle.push(e));
    }, { gatewayUrl: fx.gatewayUrl, credential, scope: SCOPE, mesh });
    return page;
  }

  // Their link to each other over the same-origin mesh, or (mesh off) through the gateway.
  it.each([['the mesh', true, 'r'], ['the gateway', false, 's']] as const)('two tabs linked over %s renew a 3 s credential at least twice: links stay up, children keep running where they started', async (_path, mesh, prefix) => {
    const names = [`tab-${prefix}1`, `tab-${prefix}2`];
    const pages = [await renewingTab(names[0], mesh), await renewingTab(names[1], mesh)];
    const seesUp = async (page: Page, other: string) => (await tabCall<Array<{ name: string; status: string }>>(page, 'members')).some((m) => m.name === other && m.status === 'up');
    expect(await until(async () => (await seesUp(pages[0], names[1])) && (await seesUp(pages[1], names[0])), 5000)).toBe(true);
    const N = 8;
    expect(await until(async () => (await Promise.all(pages.map((p) => tabCall<number>(p, 'meshLinks')))).every((n) => n === (mesh ? 1 : 0)), 5000)).toBe(true);
    for (let i = 0; i < N; i++) await fx.node.startChild({ id: `${prefix}${i}`, kind: i % 2 ? 'tab-worker' : 'tab-inline' });
    const running = async () => (await Promise.all(pages.map((p) => tabCall<LocalChildView[]>(p, 'whichChildren', 'local'))))
      .map((l) => l.filter((c) => c.status === 'running' && c.id.startsWith(prefix)).map((c) => c.id).sort());
    expect(await until(async () => (await running()).flat().length === N, 5000)).toBe(true);
    const placed = await running();
    const started = async () => Promise.all(pages.map(async (p) => (await tabEvents(p)).filter((e) => e.type === 'child_started').length));
    const startedBefore = await started();
    const firstExpiry = Date.now() + CREDENTIAL_MS;
    const downsBefore = fx.events.filter((e) => e.type === 'member_down' && names.includes((e as { name: string }).name)).length;

    const renewals = async (p: Page) => (await p.evaluate(() => (window as unknown as { lifecycle: Array<{ type: string }> }).lifecycle))
      .filter((e) => e.type === 'credential_renewed').length;
    const renewedEnough = async () => Date.now() > firstExpiry + 1000 && (await Promise.all(pages.map(renewals))).every((n) => n >= RENEWALS_MIN);
    expect(await until(renewedEnough, CREDENTIAL_MS * 4)).toBe(true);

    // Past the first credentials' expiry: nothing moved, restarted or went down.
    expect(await running()).toEqual(placed);
    expect(await started()).toEqual(startedBefore);
    for (const p of pages) {
      const ev = await tabEvents<{ type: string; name?: string; reason?: string }>(p);
      expect(ev.filter((e) => e.type === 'member_down')).toEqual([]);
      expect(ev.filter((e) => e.type === 'link_rejected')).toEqual([]);
    }
    expect(fx.events.filter((e) => e.type === 'member_down' && names.includes((e as { name: string }).name)).length).toBe(downsBefore);
    expect(fx.node.members().filter((m) => names.includes(m.name) && m.status === 'up').length).toBe(2);
    // The server believed each tab's renewals (it would close a tab out at an expiry it had not heard extended).
    // The tabs counted their own renewals above; each reaches the others a link's delay later.
    const heard = (n: string) => fx.events.filter((e): e is Extract<TrellisEvent, { type: 'credential_renewed' }> => e.type === 'credential_renewed' && e.name === n);
    await until(() => names.every((n) => heard(n).length >= RENEWALS_MIN), 5000);
    for (const n of names) expect(heard(n).length).toBeGreaterThanOrEqual(RENEWALS_MIN);
    // And each tab believed the other's, on their direct link (proved under the tab link key).
    const believed = async (i: number) => (await tabEvents<{ type: string; name?: string }>(pages[i])).filter((e) => e.type === 'credential_renewed' && e.name === names[1 - i]).length;
    await until(async () => (await believed(0)) >= RENEWALS_MIN && (await believed(1)) >= RENEWALS_MIN, 5000);
    for (let i = 0; i < 2; i++) expect(await believed(i)).toBeGreaterThanOrEqual(RENEWALS_MIN);
    // The tabs' own views were checked above; node-1 learns of their starts from their reports.
    const all = Array.from({ length: N }, (_, i) => `${prefix}${i}`).sort();
    const runningByNode = () => fx.node.whichChildren('global').filter((c) => c.id.startsWith(prefix) && c.status === 'running').map((c) => c.id).sort();
    await until(() => runningByNode().join() === all.join(), 5000);
    const g = fx.node.whichChildren('global').filter((c) => c.id.startsWith(prefix));
    expect(g.filter((c) => c.status === 'running').map((c) => c.id).sort()).toEqual(all);
    expect(g.every((c) => c.restarts === 0)).toBe(true);
    for (let i = 0; i < N; i++) await fx.node.terminateChild(`${prefix}${i}`, { wait: 'stopped' });
    await Promise.all(pages.map((p) => p.close()));
  });
});
