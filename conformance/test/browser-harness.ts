// Harness for the Chromium tests: Debian's chromium through playwright-core (never a downloaded
// browser), pages served from http://127.0.0.1:<port>, a Node member with a gateway, and tabs
// driven through page.evaluate. Each tab's page keeps its handle in `window.sup` and its events
// in `window.events`.
import { createServer } from 'node:net';
import type { Page } from 'playwright-core';
import { start as startNode, type NodeStartOptions } from '@trellis/node';
import type { GatewayLimits, MemberView, Supervisor, TrellisEvent } from '@trellis/core';
// @ts-expect-error plain ES module without types
import { bundleDir, serveStatic } from '@trellis/browser/serve';
import { launchBrowser, type Browser } from '../src/drivers/chromium.js';

export { CHROMIUM_PATH, launchBrowser, type Browser } from '../src/drivers/chromium.js';

/** Polls `cond` until it holds or `timeoutMs` passes; returns whether it held. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 25): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The page every tab loads: the bundle on window, nothing started. */
const INDEX = `<!doctype html><meta charset="utf-8"><title>trellis tab</title>
<script type="module">
import * as trellis from '/trellis/trellis.js';
window.trellis = trellis;
window.events = [];
window.loaded = true;
</script>`;

/**
 * The kinds a tab runs: `tab-inline` in the Supervisor's worker, `tab-worker` in its own Web
 * Worker, `tab-block` stalls the worker. The first two answer { op: 'echo', v } with { v, id }.
 */
const KINDS = `export const kinds = {
  'tab-inline': { run: (args, ctx) => new Promise((resolve) => {
    ctx.emit('running', { script: String(self.location.href) });
    ctx.onMessage((m) => (m && m.op === 'echo' ? { v: m.v, id: ctx.id } : undefined));
    ctx.signal.addEventListener('abort', () => resolve());
  }) },
  'tab-worker': { module: './worker-kind.js', isolate: 'worker' },
  'tab-rejects': { module: './rejects-kind.js', isolate: 'worker' },
  'tab-throws': { module: './throws-kind.js', isolate: 'worker' },
  // Blocks the Supervisor's worker thread until args.untilMs (a stall), then runs until stopped.
  'tab-block': { run: (args, ctx) => { while (Date.now() < args.untilMs); return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve())); } },
};`;
/** Worker kinds that crash without their function failing: an unhandled rejection, an uncaught throw in a timer. */
const REJECTS_KIND = `export function run() { Promise.reject(new Error('rejected')); return new Promise(() => {}); }`;
const THROWS_KIND = `export function run() { setTimeout(() => { throw new Error('thrown'); }, 0); return new Promise(() => {}); }`;
const WORKER_KIND = `export function run(args, ctx) {
  ctx.emit('running', { script: String(self.location.href) });
  ctx.onMessage((m) => (m && m.op === 'echo' ? { v: m.v, id: ctx.id } : undefined));
  return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
}`;

export interface Site { url: string; close(): Promise<void> }

/** Serves the bundle under /trellis/, the tab page at /, and the kinds modules. */
export function serveSite(): Promise<Site> {
  const js = 'text/javascript';
  return serveStatic({
    mounts: { '/trellis/': bundleDir },
    pages: { '/': { body: INDEX }, '/kinds.js': { type: js, body: KINDS }, '/worker-kind.js': { type: js, body: WORKER_KIND },
      '/rejects-kind.js': { type: js, body: REJECTS_KIND }, '/throws-kind.js': { type: js, body: THROWS_KIND } },
  });
}

/** A page of `site` with the bundle loaded. */
export async function openTab(b: Browser, site: Site): Promise<Page> {
  const page = await b.context.newPage();
  await page.goto(`${site.url}/`);
  await page.waitForFunction(() => (window as unknown as { loaded?: boolean }).loaded === true);
  return page;
}

export interface TabStart {
  scope: string; gateway: string; name: string; heartbeatMs?: number; failureTimeoutMs?: number;
  /** start()'s options of the same names (default true each). */
  lifecycle?: boolean; mesh?: boolean;
}

/** Starts a member in the page; resolves to its name, address and the page's Date.now() when start() was called. */
export function startTab(page: Page, o: TabStart): Promise<{ name: string; address: string; calledAt: number }> {
  return page.evaluate(async (o) => {
    const w = window as unknown as { trellis: any; sup: any; events: unknown[] };
    const calledAt = Date.now();
    const sup = await w.trellis.start({ insecure: true, ...o, kinds: '/kinds.js' });
    w.sup = sup;
    sup.on('event', (e: unknown) => w.events.push(e));
    return { name: sup.name as string, address: sup.address as string, calledAt };
  }, o);
}

/**
 * Opens a page of `site` and starts member `o` in it; resolves once `server` (a Node member)
 * lists it up, and fails if it does not within `timeoutMs`.
 */
export async function joinedTab(b: Browser, site: Site, o: TabStart, server: { members(): MemberView[] }, timeoutMs = 5000): Promise<{ page: Page; name: string; address: string; calledAt: number }> {
  const page = await openTab(b, site);
  const started = await startTab(page, o);
  if (!(await until(() => server.members().some((m) => m.name === started.name && m.status === 'up'), timeoutMs))) {
    throw new Error(`${started.name} is not up on ${JSON.stringify(server.members().map((m) => m.name))} within ${timeoutMs} ms`);
  }
  return { page, ...started };
}

/** Calls a method of the tab's handle (members, whichChildren, ...). */
export function tabCall<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(({ method, args }) => (window as unknown as { sup: any }).sup[method](...args), { method, args }) as Promise<T>;
}

export function tabEvents<T = { type: string }>(page: Page): Promise<T[]> {
  return page.evaluate(() => (window as unknown as { events: unknown[] }).events) as Promise<T[]>;
}

export interface GatewayFixture { browser: Browser; site: Site; node: Supervisor; gatewayUrl: string; events: TrellisEvent[]; close(): Promise<void> }

/** Chromium, a site and one Node member `node-1` whose gateway admits the site's origin (with `limits`); `options` complete its start options. */
export async function gatewayFixture(options: Omit<NodeStartOptions, 'name' | 'listen' | 'kinds'> & Partial<NodeStartOptions>, limits?: Partial<GatewayLimits>): Promise<GatewayFixture> {
  const [browser, site] = await Promise.all([launchBrowser(), serveSite()]);
  const node = await startNode({ name: 'node-1', listen: { host: '127.0.0.1', port: 0 }, kinds: {}, gateway: { origins: [site.url], limits }, ...options });
  const events: TrellisEvent[] = [];
  node.on('event', (e) => events.push(e));
  return {
    browser, site, node, events, gatewayUrl: `${node.address}/trellis/browser`,
    close: async () => { await node.kill(); await browser.close(); await site.close(); },
  };
}

/** A loopback port free a moment ago (bound, then closed): nothing listens there. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
