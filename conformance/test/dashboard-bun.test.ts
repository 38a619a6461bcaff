// The dashboard served by a Bun member (Bun.serve, host-bun/src/dashboard-bun.ts), in real
// Chromium: the page lists the members, shows a child started on the other member and that
// member's kill without a reload, and an action with an operator credential runs on Bun.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { Cluster, bunDriver } from '../src/drivers/cluster.js';
import { launchBrowser, until, type Browser } from './browser-harness.js';

/** What the page shows: member rows with their status, the children count, the feed. */
function pageView(page: Page) {
  return page.evaluate(() => ({
    members: Object.fromEntries([...document.querySelectorAll('#members tbody tr')].map((tr) => [(tr as HTMLElement).dataset.member, (tr as HTMLElement).dataset.status])),
    count: document.getElementById('children-count')!.textContent,
    feed: [...document.querySelectorAll('#feed li')].map((li) => li.textContent ?? ''),
  }));
}

describe('the dashboard on Bun', () => {
  let browser: Browser;
  const cluster = new Cluster(bunDriver, { secret: 'dashboard-bun-secret', scope: 'dash-bun', heartbeatMs: 100, failureTimeoutMs: 600, syncIntervalMs: 200 });
  beforeAll(async () => { browser = await launchBrowser(); });
  afterAll(async () => { await cluster.close(); await browser?.close(); });

  it('a Bun member serves the page: members, a live child update and a member down without a reload, and a terminate with a credential', async () => {
    const b1 = await cluster.add({ name: 'b1', extra: { dashboard: { path: '/dashboard', actions: true } } });
    const b2 = await cluster.add({ name: 'b2' });
    expect([await b1.call('runtime'), await b2.call('runtime')]).toEqual(['bun', 'bun']);
    expect(await until(async () => (await b1.members()).filter((m) => m.status === 'up').length === 2, 10_000)).toBe(true);
    for (let i = 0; i < 8; i++) await b1.startChild({ id: `w${i}`, kind: 'worker' }, { wait: 'running' });

    const page = await browser.context.newPage();
    await page.goto(b1.address.replace('ws://', 'http://') + '/dashboard/');
    let view = await pageView(page);
    expect(await until(async () => (view = await pageView(page)).count === '8 of 8', 10_000)).toBe(true);
    expect(view.members).toEqual({ b1: 'up', b2: 'up' });

    await b2.startChild({ id: 'from-b2', kind: 'worker' }, { wait: 'running' });
    expect(await until(async () => (await pageView(page)).count === '9 of 9', 5000)).toBe(true);
    expect(await page.$$eval('#children .row', (rs) => rs.map((r) => (r as HTMLElement).dataset.id))).toContain('from-b2');

    const operator = await b1.mintCredential({ name: 'ops', kinds: [], expiresInMs: 60_000 });
    await page.click('#children .row[data-id="w3"] .terminate');
    await page.waitForFunction(() => document.getElementById('action-result')!.dataset.status !== undefined);
    expect(await page.getAttribute('#action-result', 'data-error')).toBe('credential_missing');
    await page.fill('#credential', operator);
    await page.click('#children .row[data-id="w3"] .terminate');
    await page.waitForFunction(() => document.getElementById('action-result')!.dataset.status === '200');
    // The terminate's 'stopped' is b1's view; b2 drops w3 from its own on its link from b1.
    await until(async () => !(await b2.whichChildren('global')).some((c) => c.id === 'w3'), 10_000);
    expect((await b2.whichChildren('global')).map((c) => c.id)).not.toContain('w3');

    await b2.kill();
    // The members delta and the events come in separate messages of one push: wait for both.
    const showsDown = (v: typeof view) => v.members.b2 !== 'up' && v.count === '8 of 8' && v.feed.some((l) => l.includes('member_down') && l.includes('name=b2'));
    expect(await until(async () => showsDown(view = await pageView(page)), 5000)).toBe(true);
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await page.close();
  }, 60_000);
});
