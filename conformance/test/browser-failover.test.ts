// Refused dials through the gateway, as fast death detection needs them (a member whose link
// closed and whose redial is refused is down at once): a member's redial of a closed tab gets a
// reset (the code a transport reports as refused), not an HTTP answer; a tab's dial of a member
// where nothing listens comes back as `dial_refused`, which the tab's transport reports as refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Supervisor, TrellisEvent } from '@trellis/core';
import { freePort, gatewayFixture, joinedTab, openTab, until, type Browser, type GatewayFixture, type Site } from './browser-harness.js';

const SCOPE = 'browser-failover';

/** Dials `address` as a member's transport does; resolves to the error code, or the HTTP status, or 'open'. */
function dialOutcome(address: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(address);
    ws.once('open', () => { ws.terminate(); resolve('open'); });
    ws.once('unexpected-response', (_req, res) => { resolve(`http_${res.statusCode}`); ws.terminate(); });
    ws.once('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message));
  });
}

describe('refused dials through the gateway', () => {
  let browser: Browser;
  let site: Site;
  let node: Supervisor;
  let gatewayUrl: string;
  let dead: string;
  let nodeEvents: TrellisEvent[];
  let fx: GatewayFixture;

  beforeAll(async () => {
    dead = `ws://127.0.0.1:${await freePort()}`;
    fx = await gatewayFixture({ scope: SCOPE, insecure: true, seeds: [dead] });
    ({ browser, site, node, gatewayUrl, events: nodeEvents } = fx);
  });

  afterAll(async () => { await fx?.close(); });

  it('a member\'s redial of a closed tab is reset (a refused dial), while the tab lived it was a link', async () => {
    const { page, address } = await joinedTab(browser, site, { scope: SCOPE, gateway: gatewayUrl, name: 'tab-gone' }, node);
    expect(await dialOutcome(address)).toBe('open');
    await page.close();
    expect(await until(() => nodeEvents.some((e) => e.type === 'gateway_tab_closed'), 5000)).toBe(true);
    expect(await dialOutcome(address)).toBe('ECONNRESET');
    // Another path under the gateway that never was a tab is refused the same way; the gateway's
    // other refusals (origin) stay HTTP answers.
    expect(await dialOutcome(`${gatewayUrl}/t000000000000000000000000`)).toBe('ECONNRESET');
  });

  it('a tab\'s dial of a member where nothing listens fails as dial_refused, reported as refused', async () => {
    const page = await openTab(browser, site);
    const failed = await page.evaluate(async ({ gatewayUrl, dead }) => {
      const { GatewayTransport } = (window as unknown as { trellis: any }).trellis;
      let done: (v: unknown[]) => void;
      const got = new Promise<unknown[]>((r) => { done = r; });
      const t = new GatewayTransport(gatewayUrl, { mode: 'insecure' }, undefined);
      const noop = () => undefined;
      await t.listen({ opened: noop, frame: noop, closed: noop, dialFailed: (...a: unknown[]) => done(a) });
      t.dial(dead);
      const a = await got;
      await t.shutdown();
      return a;
    }, { gatewayUrl, dead });
    expect(failed).toEqual([dead, 'dial_refused', 'refused']);
    await page.close();
  });

  it('a tab that reaches the gateway by another host name joins through the member\'s advertised address', async () => {
    const viaLocalhost = gatewayUrl.replace('127.0.0.1', 'localhost');
    expect(viaLocalhost).not.toBe(gatewayUrl);
    const { page } = await joinedTab(browser, site, { scope: SCOPE, gateway: viaLocalhost, name: 'tab-host' }, node);
    expect(nodeEvents.filter((e) => e.type === 'gateway_dial_refused')).toEqual([]);
    await page.close();
  });
});
