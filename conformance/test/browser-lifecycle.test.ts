// The page lifecycle (issue 13), in real Chromium: a frozen tab leaves gracefully (its children
// move at once, well before the failure timeout); when it resumes it rejoins as a new
// incarnation, its old Supervisor and children stopped first; a tab navigated away (a real
// pagehide) leaves gracefully too; every child runs exactly once throughout.
//
// Chromium 156 headless ignores CDP Page.setWebLifecycleState for a visible page (every headless
// page is visible: no freeze event, timers keep running; measured), so the freeze and resume
// events are dispatched on the document as the browser fires them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { MemberView, Supervisor, TrellisEvent } from '@trellis/core';
import { gatewayFixture, joinedTab, tabCall, until, type Browser, type GatewayFixture, type Site } from './browser-harness.js';

const SCOPE = 'browser-lifecycle';
const FAILURE_TIMEOUT_MS = 3000;
const CHILDREN = 8;
/** Fires a page lifecycle event on the document, as the browser does around a freeze. */
const lifecycleEvent = (page: Page, type: 'freeze' | 'resume') => page.evaluate((type) => { document.dispatchEvent(new Event(type)); }, type);
/** Keeps the tab's lifecycle events in `window.lifecycle`. */
const recordLifecycle = (page: Page) => page.evaluate(() => {
  const w = window as unknown as { sup: any; lifecycle: unknown[] };
  w.lifecycle = [];
  w.sup.onLifecycle((e: unknown) => w.lifecycle.push(e));
});
const blockUntilAborted = (_a: unknown, ctx: { signal: AbortSignal }) => new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()));

describe('page lifecycle: freeze leaves, resume rejoins as a new incarnation', () => {
  let fx: GatewayFixture;
  let browser: Browser;
  let site: Site;
  let node: Supervisor;
  let events: TrellisEvent[];
  let page: Page;

  beforeAll(async () => {
    fx = await gatewayFixture({ scope: SCOPE, insecure: true, heartbeatMs: 200, failureTimeoutMs: FAILURE_TIMEOUT_MS, kinds: { 'tab-inline': { run: blockUntilAborted } } });
    ({ browser, site, node, events } = fx);
    ({ page } = await joinedTab(browser, site, { scope: SCOPE, gateway: fx.gatewayUrl, name: 'tab-l', heartbeatMs: 200, failureTimeoutMs: FAILURE_TIMEOUT_MS }, node));
    await recordLifecycle(page);
    for (let i = 0; i < CHILDREN; i++) await node.startChild({ id: `l${i}`, kind: 'tab-inline' });
  });

  afterAll(async () => { await fx?.close(); });

  /** Where each child runs by the Node member's view; fails on a child seen running twice. */
  const placement = () => {
    const where = new Map<string, string>();
    for (const c of node.whichChildren('global')) {
      if (c.status !== 'running' || c.node === undefined) continue;
      expect(where.has(c.id), `${c.id} running twice`).toBe(false);
      where.set(c.id, c.node);
    }
    return where;
  };
  const tabIncarnation = () => node.members().find((m: MemberView) => m.name === 'tab-l' && m.status === 'up')?.incarnation;

  it('frozen: the tab leaves and its children run on the server before the failure timeout', async () => {
    expect(await until(() => placement().size === CHILDREN, 5000)).toBe(true);
    const onTab = [...placement().values()].filter((n) => n === 'tab-l').length;
    expect(onTab).toBeGreaterThan(0);
    const t0 = Date.now();
    await lifecycleEvent(page, 'freeze');
    const allOnNode = () => { const p = placement(); return p.size === CHILDREN && [...p.values()].every((n) => n === 'node-1'); };
    const moved = await until(allOnNode, FAILURE_TIMEOUT_MS);
    expect(moved).toBe(true);
    const ms = Date.now() - t0;
    console.log(`tab_freeze_failover_ms: ${ms} (${onTab} children moved)`);
    expect(ms).toBeLessThan(FAILURE_TIMEOUT_MS);
    // Down by its BYE, which follows the released children on the tab's link (a deadline for a loaded machine).
    expect(await until(() => tabIncarnation() === undefined, 5000)).toBe(true);
  });

  it('active again: it rejoins as a new incarnation with no child left from before', async () => {
    const before = events.filter((e) => e.type === 'member_up' && e.name === 'tab-l').map((e) => ('incarnation' in e ? Number(e.incarnation) : 0));
    await lifecycleEvent(page, 'resume');
    expect(await until(() => tabIncarnation() !== undefined, 5000)).toBe(true);
    expect(Number(tabIncarnation())).toBeGreaterThan(Math.max(...before));
    // node-1's view has the new incarnation up once its HELLO arrived, which may be before the
    // page has its rejoin in hand: wait for the page's own record.
    const lifecycle = () => page.evaluate(() => (window as unknown as { lifecycle: { type: string; cause: string }[] }).lifecycle.map((e) => `${e.type}:${e.cause}`));
    await until(async () => (await lifecycle()).length >= 2, 5000);
    expect(await lifecycle()).toEqual(['tab_left:freeze', 'tab_rejoined:resume']);
    // The new incarnation started with no children: whatever it runs now, the server placed on it.
    // The tab starts a child before its report reaches node-1, so the two views are compared once
    // they agree on how many run on the tab, both read in the same look.
    let local: { id: string; status: string }[] = [];
    let mine: string[] = [];
    expect(await until(async () => {
      local = await tabCall<{ id: string; status: string }[]>(page, 'whichChildren', 'local');
      mine = [...placement()].filter(([, n]) => n === 'tab-l').map(([id]) => id).sort();
      return local.filter((c) => c.status === 'running').length === mine.length;
    }, 5000)).toBe(true);
    expect(local.every((c) => mine.includes(c.id) || c.status !== 'running')).toBe(true);
    expect(placement().size).toBe(CHILDREN);
  });

  it('navigated away (a real pagehide): the tab leaves and its children run on the others before the failure timeout', async () => {
    const { page: other } = await joinedTab(browser, site, { scope: SCOPE, gateway: fx.gatewayUrl, name: 'tab-n', heartbeatMs: 200, failureTimeoutMs: FAILURE_TIMEOUT_MS }, node);
    for (let i = CHILDREN; i < 2 * CHILDREN; i++) await node.startChild({ id: `l${i}`, kind: 'tab-inline' });
    expect(await until(() => [...placement().values()].includes('tab-n'), 5000)).toBe(true);
    const t0 = Date.now();
    await other.goto('about:blank');
    const noneOnN = () => { const p = placement(); return p.size === 2 * CHILDREN && ![...p.values()].includes('tab-n'); };
    expect(await until(noneOnN, FAILURE_TIMEOUT_MS)).toBe(true);
    const ms = Date.now() - t0;
    console.log(`tab_navigate_failover_ms: ${ms}`);
    expect(ms).toBeLessThan(FAILURE_TIMEOUT_MS);
  });
});

describe('a tab whose worker stalls past its failure timeout', () => {
  let fx: GatewayFixture;
  afterAll(async () => { await fx?.close(); });

  it('ends its Supervisor and children and rejoins as a new incarnation; the child runs once', async () => {
    fx = await gatewayFixture({ scope: `${SCOPE}-stall`, insecure: true, heartbeatMs: 100, failureTimeoutMs: 1000, kinds: { 'tab-inline': { run: blockUntilAborted } } });
    const { node } = fx;
    const { page } = await joinedTab(fx.browser, fx.site, { scope: `${SCOPE}-stall`, gateway: fx.gatewayUrl, name: 'tab-s', heartbeatMs: 100, failureTimeoutMs: 1000 }, node);
    await recordLifecycle(page);
    const up = () => node.members().find((m) => m.name === 'tab-s' && m.status === 'up')?.incarnation;
    const first = Number(up());
    // Only tabs have tab-block: it runs in tab-s and blocks its Supervisor's thread for 2 s.
    await node.startChild({ id: 'stall', kind: 'tab-block', args: { untilMs: Date.now() + 2000 } });
    const rejoined = () => page.evaluate(() => (window as unknown as { lifecycle: { type: string; cause: string; awayMs: number }[] }).lifecycle);
    expect(await until(async () => (await rejoined()).some((e) => e.type === 'tab_rejoined'), 8000)).toBe(true);
    const [e] = await rejoined();
    expect(e).toMatchObject({ type: 'tab_rejoined', cause: 'stall' });
    expect(e.awayMs).toBeGreaterThan(1000);
    expect(await until(() => Number(up() ?? 0) > first, 5000)).toBe(true);
    // The child runs once, in the new incarnation (its block has passed), and nowhere twice.
    expect(await until(() => node.whichChildren('global').filter((c) => c.id === 'stall' && c.status === 'running').length === 1, 5000)).toBe(true);
  });
});
