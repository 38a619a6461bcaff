// Browser tabs as members (issue 13, phase 1), in real Chromium: a Node member with a gateway
// and two tabs form one cluster; tabs run the children placed on them (inline in the
// Supervisor's worker, `worker` kinds in their own Web Worker); a closed tab's children run
// elsewhere, none lost, none twice; the gateway refuses other origins and cuts off a tab over
// its channel limit without disturbing the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { start as startNode } from '@trellis/node';
import type { GlobalChildView, MemberView, Supervisor, TrellisEvent } from '@trellis/core';
import { launchBrowser, openTab, serveSite, startTab, tabCall, tabEvents, until, type Browser, type Site } from './browser-harness.js';

const SCOPE = 'browser-test';
/** Per-tab channel limit of the test gateway: a tab of this cluster needs at most 4. */
const CHANNELS_MAX = 8;
const CHILDREN = 12;

describe('browser tabs through a Node gateway', () => {
  let browser: Browser;
  let site: Site;
  let other: Site;
  let node: Supervisor;
  let gatewayUrl: string;
  const nodeEvents: TrellisEvent[] = [];
  const tabs: { page: Page; name: string; address: string }[] = [];
  const ids = Array.from({ length: CHILDREN }, (_, i) => `c${i}`);

  beforeAll(async () => {
    [browser, site, other] = await Promise.all([launchBrowser(), serveSite(), serveSite()]);
    node = await startNode({
      scope: SCOPE, name: 'node-1', listen: { host: '127.0.0.1', port: 0 },
      kinds: { 'node-job': { run: (_a, ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => r(undefined))) } },
      gateway: { origins: [site.url], limits: { channelsMax: CHANNELS_MAX } },
    });
    node.on('event', (e) => nodeEvents.push(e));
    gatewayUrl = `${node.address}/trellis/browser`;
  });

  afterAll(async () => {
    await node?.kill();
    await browser?.close();
    await Promise.all([site?.close(), other?.close()]);
  });

  /** The other members this one sees up. */
  const upNames = (ms: MemberView[]) => ms.filter((m) => m.status === 'up' && !m.self).map((m) => m.name).sort();

  it('a Node member and two tabs form one cluster: every member lists the others', async () => {
    for (const name of ['tab-a', 'tab-b']) {
      const page = await openTab(browser, site);
      const t0 = Date.now();
      const { address } = await startTab(page, { scope: SCOPE, gateway: gatewayUrl, name });
      expect(await until(() => upNames(node.members()).includes(name), 5000)).toBe(true);
      console.log(`tab_join_ms ${name}: ${Date.now() - t0}`);
      expect(address.startsWith(`${gatewayUrl}/`)).toBe(true);
      tabs.push({ page, name, address });
    }
    const all = ['node-1', 'tab-a', 'tab-b'];
    const listsOthers = async () => {
      if (upNames(node.members()).join() !== ['tab-a', 'tab-b'].join()) return false;
      for (const t of tabs) {
        const others = all.filter((n) => n !== t.name).sort();
        if (upNames(await tabCall<MemberView[]>(t.page, 'members')).join() !== others.join()) return false;
      }
      return true;
    };
    const ok = await until(listsOthers, 10_000);
    if (!ok) {
      console.log('node', JSON.stringify(node.members()));
      for (const t of tabs) console.log(t.name, JSON.stringify(await tabCall(t.page, 'members')), JSON.stringify(await tabEvents(t.page)));
    }
    expect(ok).toBe(true);
  });
});
