// A cluster member in a Chromium tab: a page of one shared browser (one per test file) whose
// Supervisor (fixtures/tab-member.mjs on @trellis/browser) is driven through page.evaluate.
// Tabs join through the gateway of a Node member (TabGateways: infrastructure, hidden from the
// scenarios) with a credential that member mints, so the page never holds a secret.
// Faults, as a process member has them:
//   kill()   SIGKILL of the page's renderer process, which Chromium sees as a renderer crash (as
//            chrome://crash is): the page and its workers die at once, the browser closes their
//            sockets and releases their Web Locks, nothing leaves gracefully (page.close() would fire
//            pagehide, a graceful leave)
//   pause()  SIGSTOP of the page's renderer process, resume() SIGCONT: the tab is frozen whole,
//            sockets open and locks held, exactly like a stopped process. CDP
//            Page.setWebLifecycleState does not freeze a headless page (browser-lifecycle.test.ts).
//   stop()   sup.stop(): a graceful leave.
import type { Page } from 'playwright-core';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain ES module without types
import { bundleDir, serveStatic } from '@trellis/browser/serve';
import { launchBrowser, type Browser } from './chromium.js';
import { MemberBase, RemoteError, isolationsOf, type Member, type MemberOptions, type TimedEvent } from './member-api.js';
import { ProcessMember } from './process-member.js';

const fixturesDir = fileURLToPath(new URL('../../fixtures/', import.meta.url));
/** A tab's credential outlives any scenario; renewal has its own tests (browser-renewal). */
const CREDENTIAL_MS = 3_600_000;
/** How long kill() waits for the page's crash report (then it closes the page anyway). */
const CRASH_WAIT_MS = 5000;
const MEMBER_PAGE = `<!doctype html><meta charset="utf-8"><title>trellis member</title>
<script type="module">
import * as trellis from '/trellis/trellis.js';
window.trellis = trellis;
await import('/fixtures/tab-member.mjs');
window.loaded = true;
</script>`;

interface Site { url: string; close(): Promise<void> }
interface TabBrowser { browser: Browser; site: Site }

let shared: Promise<TabBrowser> | undefined;

/** The browser and the site its tabs load (the bundle, the fixtures, the member page), started once. */
function tabBrowser(): Promise<TabBrowser> {
  shared ??= (async () => {
    const [browser, site] = await Promise.all([
      // Without a spare renderer, the one process that appears with a page is the page's (pause, kill).
      launchBrowser(['--disable-features=SpareRendererForSitePerProcess']),
      serveStatic({ mounts: { '/trellis/': bundleDir, '/fixtures/': fixturesDir }, pages: { '/member.html': { body: MEMBER_PAGE } } }) as Promise<Site>,
    ]);
    return { browser, site };
  })();
  return shared;
}

/** Where a page's events go: kept in `early` until its member exists. */
interface EventSink { early: TimedEvent[]; to: ((e: TimedEvent) => void) | undefined }
interface LoadedPage { page: Page; rendererPid: number | undefined; sink: EventSink }

/**
 * A page with the member script loaded, nothing started. Loading it (a renderer, the bundle, the
 * module graph) costs more than the start itself on a busy machine, so the next one is loaded
 * while the current one runs: a member joins about as fast as a process member spawns.
 */
async function loadPage(): Promise<LoadedPage> {
  const { browser, site } = await tabBrowser();
  const before = browser.rendererPids();
  const page = await browser.context.newPage();
  const sink: EventSink = { early: [], to: undefined };
  await page.exposeFunction('trellisMemberEvents', (batch: TimedEvent[]) => { for (const e of batch) (sink.to ? sink.to(e) : sink.early.push(e)); });
  await page.goto(`${site.url}/member.html`);
  await page.waitForFunction(() => (window as unknown as { loaded?: boolean }).loaded === true);
  // The page's own renderer: the one process that appeared with it (unknown if Chromium put it in
  // a shared one). Pages load one at a time (takePage), so no other page's renderer appears meanwhile.
  const fresh = [...browser.rendererPids()].filter((p) => !before.has(p));
  return { page, rendererPid: fresh.length === 1 ? fresh[0] : undefined, sink };
}

let nextPage: Promise<LoadedPage> | undefined;

/** The page loaded ahead, and the loading of the one after it. */
function takePage(): Promise<LoadedPage> {
  const p = nextPage ?? loadPage();
  nextPage = p.then(loadPage, loadPage);
  nextPage.catch(() => undefined);
  return p;
}

/** Closes the shared browser and site (a test file's afterAll). */
export async function closeTabBrowser(): Promise<void> {
  const s = shared;
  shared = undefined;
  const spare = nextPage;
  nextPage = undefined;
  await spare?.catch(() => undefined);
  if (!s) return;
  const { browser, site } = await s;
  await browser.close();
  await site.close();
}

/** The names of the fixture kinds a tab runs (those tab-kinds.mjs exports), of `only` if given. */
async function tabKindNames(only: string[] | undefined): Promise<string[]> {
  const { kinds } = (await import(new URL('../../fixtures/kinds.mjs', import.meta.url).href)) as { kinds: Record<string, { isolate?: string }> };
  return Object.entries(kinds)
    .filter(([k, d]) => d.isolate !== 'process' && (only === undefined || only.includes(k))).map(([k]) => k);
}

/**
 * The gateway members of one cluster, one per secret (a tab of another secret, an intruder,
 * joins another cluster of the same scope through its own gateway). Node processes that run no
 * children; their names are hidden from the scenario's members.
 */
export class TabGateways {
  private readonly gateways = new Map<string, Promise<ProcessMember>>();
  readonly names = new Set<string>();
  constructor(private readonly defaults: Partial<MemberOptions>) {}

  /** The gateway for `secret`, started (seeded with `seeds`) on first use. */
  for(o: MemberOptions, seeds: string[]): Promise<ProcessMember> {
    const key = o.secret ?? '';
    let g = this.gateways.get(key);
    if (!g) {
      const name = `gateway-${this.gateways.size}`;
      this.names.add(name);
      g = tabBrowser().then(({ site }) => ProcessMember.spawn('node', {
        name, scope: o.scope ?? this.defaults.scope, secret: o.secret, seeds, kindNames: [],
        heartbeatMs: this.defaults.heartbeatMs, failureTimeoutMs: this.defaults.failureTimeoutMs, syncIntervalMs: this.defaults.syncIntervalMs,
        // A cluster has one partition mode: the gateway member counts in every roster like any member.
        partition: o.partition,
        extra: { gateway: { origins: [site.url] } },
      }));
      this.gateways.set(key, g);
    }
    return g;
  }

  async close(): Promise<void> {
    await Promise.all([...this.gateways.values()].map((g) => g.then((m) => m.kill(), () => undefined)));
  }
}

export class TabMember extends MemberBase implements Member {
  readonly host = 'browser' as const;
  readonly isolations = isolationsOf('browser');
  address = '';
  alive = true;

  private constructor(readonly name: string, readonly page: Page, private readonly rendererPid: number | undefined) {
    super();
    page.on('crash', () => { this.alive = false; });
    page.on('close', () => { this.alive = false; });
  }

  /** Opens a tab and starts its member through `gateway`; rejects like start() does (a RemoteError with the option). */
  static async open(gateway: ProcessMember, o: MemberOptions): Promise<TabMember> {
    if (o.port !== undefined || o.advertise !== undefined || o.kindsModule !== undefined) throw new Error('a tab member cannot listen, advertise or load another kinds module');
    const { page, rendererPid, sink } = await takePage();
    const kindNames = await tabKindNames(o.kindNames);
    const credential = o.credential ?? (o.secret === undefined ? undefined : await gateway.mintCredential({ name: o.name, kinds: kindNames, expiresInMs: CREDENTIAL_MS }));
    const only = o.kindNames === undefined ? '' : `?only=${encodeURIComponent(kindNames.join(','))}`;
    const options = {
      scope: o.scope ?? 'conformance', name: o.name, gateway: `${gateway.address}/trellis/browser`, credential,
      insecure: credential === undefined ? true : undefined,
      seeds: o.seeds, kinds: `/fixtures/tab-kinds.mjs${only}`,
      heartbeatMs: o.heartbeatMs ?? 100, failureTimeoutMs: o.failureTimeoutMs ?? 600, syncIntervalMs: o.syncIntervalMs ?? 500,
      partition: o.partition, weight: o.weight, children: o.children, ...o.extra,
    };
    const r = await page.evaluate((opts) => (window as unknown as { bootMember(o: unknown): Promise<{ ok: boolean; name: string; address: string; error: RemoteError['info'] }> }).bootMember(opts), JSON.parse(JSON.stringify(options)));
    if (!r.ok) { await page.close(); throw new RemoteError(r.error); }
    const m = new TabMember(o.name, page, rendererPid);
    m.address = r.address;
    for (const e of sink.early) m.log.push(e);
    sink.to = (e) => m.log.push(e);
    return m;
  }

  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`member ${this.name} is not running`));
    return this.page.evaluate(({ op, args }) => (window as unknown as { memberOp(op: string, a: unknown[]): Promise<unknown> }).memberOp(op, args), { op, args })
      .then((r) => {
        const x = r as { ok: boolean; result: T; error: RemoteError['info'] };
        if (!x.ok) throw new RemoteError(x.error);
        return x.result;
      }, (e: Error) => { throw this.alive ? e : new Error(`member ${this.name} exited`); });
  }


  async stop(): Promise<void> {
    if (!this.alive) return;
    await this.call('stop').catch(() => undefined);
    this.alive = false;
    await this.page.close().catch(() => undefined);
  }

  /** SIGKILL of the page's renderer, which Chromium reports as the renderer crashing (as chrome://crash does; this works while paused too). */
  async kill(): Promise<void> {
    if (this.alive) {
      this.alive = false;
      const crashed = new Promise<void>((r) => { this.page.once('crash', () => r()); setTimeout(r, CRASH_WAIT_MS); });
      if (this.rendererPid !== undefined) process.kill(this.rendererPid, 'SIGKILL');
      else await this.page.goto('chrome://crash', { timeout: CRASH_WAIT_MS }).catch(() => undefined);
      await crashed;
    }
    await this.page.close().catch(() => undefined);
  }

  pause(): void { process.kill(this.renderer(), 'SIGSTOP'); }
  resume(): void { process.kill(this.renderer(), 'SIGCONT'); }

  private renderer(): number {
    if (this.rendererPid === undefined) throw new Error(`${this.name}: its renderer process is not known (Chromium shares it with another page)`);
    return this.rendererPid;
  }
}
