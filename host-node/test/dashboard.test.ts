// The dashboard page in real Chromium (playwright-core, Debian's chromium) against a real
// 3-member cluster: live updates pushed without a reload through a kill and a join, the event
// feed, the children filter, actions behind an operator credential, and a page that stays
// responsive with many children.
import { describe, it, expect, afterEach, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { start, type Supervisor } from '../src/index.js';
import { waitUntil } from '../../conformance/src/drivers/process-member.js';
import { threeMembers } from './three-members.js';

const CHROMIUM_PATH = process.env.TRELLIS_CHROMIUM ?? '/usr/bin/chromium';
const SECRET = 'dashboard-secret';
const kinds = {
  work: { run: (_a: unknown, ctx: { signal: AbortSignal }) => new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r())) },
  batch: { run: (_a: unknown, ctx: { signal: AbortSignal }) => new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r())) },
};
const base = { scope: 'dash', secret: SECRET, kinds, heartbeatMs: 100, failureTimeoutMs: 600, syncIntervalMs: 200 };
const running: Supervisor[] = [];
let browser: Browser;
let artifacts: string;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  artifacts = mkdtempSync(join(tmpdir(), 'trellis-dashboard-'));
});
afterAll(async () => { await browser?.close(); rmSync(artifacts, { recursive: true, force: true }); });
afterEach(async () => { await Promise.all(running.splice(0).map((s) => s.kill())); });
const node = async (o: Record<string, unknown>) => { const s = await start({ ...base, listen: { host: '127.0.0.1', port: 0 }, ...o }); running.push(s); return s; };
const dashboardUrl = (s: Supervisor) => s.address!.replace('ws://', 'http://') + '/dashboard/';

/** What the page shows: member rows with their state, the children count, the placement, the feed. */
function pageView(page: Page) {
  return page.evaluate(() => ({
    members: Object.fromEntries([...document.querySelectorAll('#members tbody tr')].map((tr) => [(tr as HTMLElement).dataset.member, (tr as HTMLElement).dataset.status])),
    count: document.getElementById('children-count')!.textContent,
    placement: Object.fromEntries([...document.querySelectorAll('#placement tbody tr')].map((tr) => [(tr as HTMLElement).dataset.member,
      Object.fromEntries([...tr.querySelectorAll('td[data-kind]')].map((td) => [(td as HTMLElement).dataset.kind, Number(td.textContent)]))])),
    feed: [...document.querySelectorAll('#feed li')].map((li) => li.textContent ?? ''),
    rowsInDom: document.querySelectorAll('#children .row').length,
  }));
}

const placementOf = (s: Supervisor) => {
  const p: Record<string, Record<string, number>> = {};
  for (const c of s.whichChildren('global')) { const m = (p[c.node ?? ''] ??= {}); m[c.kind] = (m[c.kind] ?? 0) + 1; }
  return p;
};

describe('dashboard', () => {
  it('shows 3 members, then a killed member down and its children on the others, then a joined member, without a reload', async () => {
    const [a, , c] = await threeMembers(node, { dashboard: { path: '/dashboard' } });
    for (let i = 0; i < 40; i++) await a.startChild({ id: `child-${i}`, kind: i % 4 === 0 ? 'batch' : 'work', args: {} }, { wait: 'running' });
    const page = await browser.newPage();
    await page.goto(dashboardUrl(a));
    let view = await pageView(page);
    await waitUntil(async () => { view = await pageView(page); return view.count === '40 of 40'; }, 5000, 'the page lists 40 children');
    expect(view.members).toEqual({ a: 'up', b: 'up', c: 'up' });
    expect(view.placement).toEqual(placementOf(a));
    await page.screenshot({ path: join(artifacts, '1-three-members.png') });

    const onC = a.whichChildren('global').filter((x) => x.node === 'c').length;
    expect(onC).toBeGreaterThan(0);
    const killedAt = Date.now();
    await c.kill();
    await waitUntil(async () => {
      view = await pageView(page);
      // The members delta and the events of one push are separate messages: the feed line is part of what is shown.
      return view.members.c !== 'up' && !('c' in view.placement) && (view.placement.a?.work ?? 0) + (view.placement.b?.work ?? 0) + (view.placement.a?.batch ?? 0) + (view.placement.b?.batch ?? 0) === 40
        && view.feed.some((l) => l.includes('member_down') && l.includes('name=c'));
    }, 2000, 'the page shows c down, its children on a and b, and the member_down line');
    const shownMs = Date.now() - killedAt;
    expect(view.placement).toEqual(placementOf(a));
    await page.screenshot({ path: join(artifacts, '2-after-kill.png') });

    const d = await node({ name: 'd', seeds: [a.address!] });
    await waitUntil(async () => { view = await pageView(page); return view.members.d === 'up' && view.feed.some((l) => l.includes('member_up') && l.includes('name=d')); }, 3000, 'the page shows d joined and its member_up line');
    await page.screenshot({ path: join(artifacts, '3-after-join.png') });
    expect(['1-three-members.png', '2-after-kill.png', '3-after-join.png'].every((f) => existsSync(join(artifacts, f)))).toBe(true);
    // The page was never reloaded: the same document saw every state.
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    expect(shownMs).toBeLessThan(2000);
    void d;
    await page.close();
  }, 60_000);

  it('terminate from the page is refused without an operator credential and with a bad one (each refusal typed and shown), and with one the child is gone cluster-wide', async () => {
    const a = await node({ name: 'a', dashboard: { path: '/dashboard', actions: true } });
    const b = await node({ name: 'b', seeds: [a.address!], dashboard: { path: '/dashboard' } });
    await waitUntil(() => a.members().length === 2 && b.members().length === 2, 5000, 'two members');
    for (let i = 0; i < 6; i++) await a.startChild({ id: `t${i}`, kind: 'work', args: {} }, { wait: 'running' });
    const operator = b.mintCredential({ name: 'ops', kinds: [], expiresInMs: 60_000 });
    const page = await browser.newPage();
    await page.goto(dashboardUrl(a));
    await page.waitForFunction(() => document.getElementById('children-count')!.textContent === '6 of 6');
    /** Clicks terminate on t3 with `credential` pasted; resolves to the answer shown on the page. */
    const terminateT3 = async (credential: string) => {
      await page.fill('#credential', credential);
      await page.evaluate(() => { delete document.getElementById('action-result')!.dataset.status; });
      await page.click('#children .row[data-id="t3"] .terminate');
      await page.waitForFunction(() => document.getElementById('action-result')!.dataset.status !== undefined);
      return page.evaluate(() => { const r = document.getElementById('action-result')!; return { status: r.dataset.status, error: r.dataset.error, text: r.textContent }; });
    };
    expect(await terminateT3('')).toMatchObject({ status: '401', error: 'credential_missing' });
    // Minted with another secret (a forgery), for another scope, already expired, or not a token at all.
    const other = await node({ name: 'x', secret: 'another-secret' });
    expect(await terminateT3(other.mintCredential({ name: 'ops', kinds: [], expiresInMs: 60_000 }))).toMatchObject({ status: '401', error: 'credential_forged' });
    const otherScope = await node({ name: 'y', scope: 'elsewhere' });
    expect(await terminateT3(otherScope.mintCredential({ name: 'ops', kinds: [], expiresInMs: 60_000 }))).toMatchObject({ status: '401', error: 'credential_scope' });
    const expired = a.mintCredential({ name: 'ops', kinds: [], expiresInMs: 1 });
    await new Promise((r) => setTimeout(r, 5));
    const shown = await terminateT3(expired);
    expect(shown).toMatchObject({ status: '401', error: 'credential_expired' });
    expect(shown.text).toContain('expired');
    expect(await terminateT3('not-a-credential')).toMatchObject({ status: '401', error: 'credential_malformed' });
    expect(b.whichChildren('global').map((c) => c.id)).toContain('t3');
    // A member whose dashboard has no actions refuses them whatever the credential.
    const off = await fetch(dashboardUrl(b) + 'actions/terminate', { method: 'POST', headers: { authorization: `Bearer ${operator}` }, body: JSON.stringify({ id: 't3' }) });
    expect(off.status).toBe(403);
    expect(await off.json()).toMatchObject({ error: 'actions_off' });
    expect(b.whichChildren('local').length + a.whichChildren('local').length).toBe(6);

    expect(await terminateT3(operator)).toMatchObject({ status: '200' });
    await waitUntil(() => [a, b].every((s) => !s.whichChildren('global').some((c) => c.id === 't3')), 5000, 't3 gone on a and b');
    expect([...a.whichChildren('local'), ...b.whichChildren('local')].map((c) => c.id).sort()).toEqual(['t0', 't1', 't2', 't4', 't5']);
    await page.waitForFunction(() => document.getElementById('children-count')!.textContent === '5 of 5');
    await page.close();
  }, 30_000);

  it('actions: { names } accepts only the credentials of those names; actions need the secret', async () => {
    const a = await node({ name: 'a', dashboard: { path: '/dashboard', actions: { names: ['alice'] } } });
    await a.startChild({ id: 'n1', kind: 'work', args: {} }, { wait: 'running' });
    const post = (token: string) => fetch(dashboardUrl(a) + 'actions/terminate', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ id: 'n1' }) });
    const bob = await post(a.mintCredential({ name: 'bob', kinds: [], expiresInMs: 60_000 }));
    expect([bob.status, (await bob.json()).error]).toEqual([403, 'credential_not_allowed']);
    expect(a.whichChildren('local').map((c) => c.id)).toEqual(['n1']);
    const alice = await post(a.mintCredential({ name: 'alice', kinds: [], expiresInMs: 60_000 }));
    expect(alice.status).toBe(200);
    expect(a.whichChildren('global')).toEqual([]);
    await expect(start({ scope: 'dash', insecure: true, kinds: {}, listen: { host: '127.0.0.1', port: 0 }, dashboard: { path: '/dashboard', actions: true } }))
      .rejects.toMatchObject({ code: 'invalid_option', option: 'dashboard.actions' });
  }, 30_000);

  it('cordon, uncordon and drain from the page: refused without a credential; with one the state and weight are shown, the drain empties the member, the moves are charted', async () => {
    const a = await node({ name: 'a', dashboard: { path: '/dashboard', actions: true } });
    const b = await node({ name: 'b', seeds: [a.address!] });
    const c = await node({ name: 'c', seeds: [a.address!], weight: 2 });
    await waitUntil(() => [a, b, c].every((s) => s.members().length === 3 && s.ready), 5000, 'three members');
    for (let i = 0; i < 24; i++) await a.startChild({ id: `m${i}`, kind: 'work', args: {} }, { wait: 'running' });
    const onB = b.whichChildren('local').length;
    expect(onB).toBeGreaterThan(0);
    const page = await browser.newPage();
    await page.goto(dashboardUrl(a));
    await page.waitForFunction(() => document.getElementById('children-count')!.textContent === '24 of 24');
    const rowOf = (m: string) => page.evaluate((name) => {
      const tr = document.querySelector(`#members tr[data-member="${name}"]`) as HTMLElement;
      return { state: tr.dataset.state, weight: tr.children[3].textContent, moves: Number(tr.querySelector('svg.moves')?.getAttribute('data-total')) };
    }, m);
    expect(await rowOf('c')).toMatchObject({ state: 'active', weight: '2' });
    const result = async () => { await page.waitForFunction(() => document.getElementById('action-result')!.dataset.status !== undefined); return page.getAttribute('#action-result', 'data-status'); };

    await page.click('#members tr[data-member="b"] .cordon');
    expect(await result()).toBe('401');
    expect(a.members().find((m) => m.name === 'b')?.state).toBe('active');

    await page.fill('#credential', a.mintCredential({ name: 'ops', kinds: [], expiresInMs: 60_000 }));
    await page.click('#members tr[data-member="b"] .cordon');
    expect(await result()).toBe('200');
    // The cordon resolves once b applies it (a has b's word); c learns the table from a on its own link.
    for (const s of [a, b, c]) {
      await waitUntil(() => s.members().find((m) => m.name === 'b')?.state === 'cordoned', 10_000, `${s.name} shows b cordoned`);
      expect(s.members().find((m) => m.name === 'b')?.state).toBe('cordoned');
    }
    await page.waitForFunction(() => (document.querySelector('#members tr[data-member="b"]') as HTMLElement).dataset.state === 'cordoned');
    await page.screenshot({ path: join(artifacts, '4-cordoned.png') });
    await page.click('#members tr[data-member="b"] .uncordon');
    expect(await result()).toBe('200');
    await page.waitForFunction(() => (document.querySelector('#members tr[data-member="b"]') as HTMLElement).dataset.state === 'active');

    await page.click('#members tr[data-member="b"] .drain');
    expect(await result()).toBe('200');
    expect(b.whichChildren('local')).toEqual([]);
    await page.waitForFunction(() => (document.querySelector('#members tr[data-member="b"]') as HTMLElement).dataset.state === 'draining');
    await waitUntil(async () => (await rowOf('a')).moves + (await rowOf('c')).moves >= onB, 3000, 'the moves charted');
    await page.screenshot({ path: join(artifacts, '5-drained.png') });
    await page.close();
  }, 30_000);

  it('filters children by search, status and member', async () => {
    const a = await node({ name: 'a', dashboard: { path: '/dashboard' } });
    for (let i = 0; i < 25; i++) await a.startChild({ id: `${i % 5 === 0 ? 'special' : 'plain'}-${i}`, kind: 'work', args: {} }, { wait: 'running' });
    const page = await browser.newPage();
    await page.goto(dashboardUrl(a));
    await page.waitForFunction(() => document.getElementById('children-count')!.textContent === '25 of 25');
    await page.fill('#search', 'special');
    expect(await page.textContent('#children-count')).toBe('5 of 25');
    expect(await page.$$eval('#children .row', (rs) => rs.map((r) => (r as HTMLElement).dataset.id))).toEqual(['special-0', 'special-10', 'special-15', 'special-20', 'special-5']);
    await page.fill('#search', '');
    await page.selectOption('#member', 'a');
    expect(await page.textContent('#children-count')).toBe('25 of 25');
    await page.selectOption('#status', 'running');
    expect(await page.textContent('#children-count')).toBe('25 of 25');
    await page.check('#restarted');
    expect(await page.textContent('#children-count')).toBe('0 of 25');
    await page.close();
  }, 30_000);

  it('stays responsive with 100,000 children: the table is virtualised and a search answers quickly', async () => {
    const a = await node({ name: 'a', dashboard: { path: '/dashboard' } });
    const N = 100_000;
    await Promise.all(Array.from({ length: N }, (_, i) => a.startChild({ id: `c${String(i).padStart(6, '0')}`, kind: 'work', args: {} })));
    await waitUntil(() => a.stats().running === N, 60_000, 'all children running');
    const page = await browser.newPage();
    const t0 = Date.now();
    await page.goto(dashboardUrl(a));
    await page.waitForFunction((n) => document.getElementById('children-count')!.textContent === `${n} of ${n}`, N, { timeout: 20_000 });
    const loadMs = Date.now() - t0;
    const view = await pageView(page);
    expect(view.rowsInDom).toBeLessThan(60);
    // A measured interaction: typing a search until the filtered table is shown.
    const searchMs = await page.evaluate(async () => {
      const s = performance.now();
      const input = document.getElementById('search') as HTMLInputElement;
      input.value = 'c099999';
      input.dispatchEvent(new Event('input'));
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      if (document.getElementById('children-count')!.textContent !== '1 of 100000') throw new Error('search not applied');
      return performance.now() - s;
    });
    expect(searchMs).toBeLessThan(500);
    // A child event on the member reaches the open page (waited for with a deadline; how fast is
    // the benchmark's dashboard_update_ms, not this test's).
    const t1 = Date.now();
    await a.startChild({ id: 'late-arrival', kind: 'work', args: {} });
    await page.waitForFunction((n) => (window as unknown as { trellisDashboard?: { rows: number } }).trellisDashboard?.rows === n, N + 1, { timeout: 5000, polling: 5 });
    const updateMs = Date.now() - t1;
    console.info(`dashboard_update_ms at ${N} children: ${updateMs}`);
    expect(loadMs).toBeLessThan(20_000);
    console.info(`dashboard with ${N} children: load ${loadMs} ms, search ${searchMs.toFixed(1)} ms`);
    await page.close();
  }, 120_000);
});
