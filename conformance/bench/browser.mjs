// Browser benchmarks (npm run bench -- browser), in Debian's Chromium through playwright-core:
//   tab_join_ms            start() in a tab until the server member reports member_up
//   tab_close_failover_ms  page closed (no pagehide) until its children run on the other tab
//   tab_leave_failover_ms  page navigated away (pagehide: graceful leave) until the same
//   tab_crash_failover_ms  renderer crashed (chrome://crash) until the same
//   tab_lock_death_ms      same-origin peer closed (no pagehide) until the other tab has it down,
//                          by its Web Lock (host-browser/src/transport-mesh.ts), failure timeout 4 s
//   boundary_empty_us / boundary_4k_us / decode_frames_per_s  the core inside a Chromium page
//   gateway_call_us        a tab's sup.call to a child on a Node member, through the gateway (p50, p99)
//   direct_call_us         the same call from a Node member over a direct link
//   tab_local_call_us      a tab's call to a child in its own worker (the page-to-worker part, no link)
//   gateway_hop_added_us   gateway_call - direct_call - tab_local_call, per quantile: what the
//                          gateway's pipe adds (an estimate: quantiles do not subtract exactly)
//   gateway_idle_cpu_pct   CPU time of a gateway member's process (its own Node process) over a
//                          minute, as a % of one core, with 100 idle tabs joined through it
// Options: --tabs N (join samples, default 5), --rounds N (failover samples each, default 3),
// --calls N (calls per latency sample, default 500), --idle-tabs N (default 100), --idle-ms N
// (the idle measurement's length, default 60,000; the line also gives tabsCpuPct, the CPU of the
// browser's own processes over the same window, every tab together, tabsCpuByType by Chromium
// process type, and the gateway's member_down and cut-off counts by reason),
// --only PART,... (hop, idle, join, failover, lock, boundary; default all).
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { start as startNode } from '@trellis/node';
import { releaseWasmUrl, testingWasmUrl } from '@trellis/core/testing';
import { bundleDir, serveStatic } from '@trellis/browser/serve';
import { ProcessMember } from '../dist/drivers/process-member.js';
import { arg, numArg, emitter, median, best } from './args.mjs';

const TABS = numArg('--tabs', 5);
const ROUNDS = numArg('--rounds', 3);
const CHILDREN = 8;
const CALLS = numArg('--calls', 500);
const CALLS_WARMUP = 50;
const IDLE_TABS = numArg('--idle-tabs', 100);
const PARTS = ['hop', 'idle', 'join', 'failover', 'lock', 'boundary'];
const ONLY = arg('--only', PARTS.join(',')).split(',');
for (const p of ONLY) if (!PARTS.includes(p)) { console.error(`--only: unknown part '${p}' (${PARTS.join(', ')})`); process.exit(2); }
const want = (part) => ONLY.includes(part);
const IDLE_MEASURE_MS = numArg('--idle-ms', 60_000);
/** How long the idle part waits, after the last tab's start(), for every tab to be up at the gateway; and how often it says how many are. */
const IDLE_ALL_UP_MS = 120_000;
const IDLE_PROGRESS_MS = 10_000;
const FAILURE_TIMEOUT_MS = 1000;
const HEARTBEAT_MS = 100;
const DEADLINE_MS = 10_000;
const emit = emitter('browser', { digits: 3 });
const summary = (xs) => ({ samples: xs.length, min: Math.min(...xs), max: Math.max(...xs) });

async function until(cond, timeoutMs = DEADLINE_MS) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('bench: a condition did not hold before its deadline');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const KINDS = `export const kinds = {
  'tab-job': { run: (a, ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => r())) },
  'tab-echo': { run: (a, ctx) => new Promise((r) => { ctx.onMessage((m) => m); ctx.signal.addEventListener('abort', () => r()); }) },
};`;
const echo = (_a, ctx) => new Promise((r) => { ctx.onMessage((m) => m); ctx.signal.addEventListener('abort', () => r()); });
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const INDEX = `<!doctype html><meta charset="utf-8"><script type="module">import * as t from '/trellis/trellis.js'; window.trellis = t; window.loaded = true;</script>`;

/** The boundary and decoder loops of conformance/bench/boundary.mjs, on the wasm the page fetches. */
const BOUNDARY = `import { TestCore } from '@trellis/core/testing';
import { decoderFrameMix } from './frame-mix.mjs';
// args.mjs reads the command line at its top level: its best() comes in as source, not an import.
${best.toString()}
export async function run() {
  const release = await WebAssembly.compile(await (await fetch('/release.wasm')).arrayBuffer());
  const testing = await WebAssembly.compile(await (await fetch('/testing.wasm')).arrayBuffer());
  const core = TestCore.create(release);
  core.init({ name: 'bench', incarnation: 1, scope: 'bench', listen: '', seed: 1, heartbeatMs: 250, failureTimeoutMs: 1000,
    syncIntervalMs: 1000, quorum: 0, weight: 1, maxFrameBytes: 1 << 20, kinds: ['worker'], seeds: [] });
  core.step();
  const N = 200000, M = 50000, K = 200000;
  const empty = best(5, () => { for (let i = 0; i < N; i++) core.step(); });
  const payload = new Uint8Array(1024 - 9).fill(7);
  const four = best(5, () => { for (let i = 0; i < M; i++) { for (let k = 0; k < 4; k++) core.frame(999, payload); core.step(); } });
  const frames = decoderFrameMix();
  const probe = TestCore.create(testing);
  const dec = best(3, () => { for (let i = 0; i < K; i++) probe.fuzzFrame(frames[i % frames.length]); });
  return { emptyUs: (empty * 1000) / N, fourUs: (four * 1000) / M, decodePerS: K / (dec / 1000) };
}`;

const bundled = await build({
  stdin: { contents: BOUNDARY, resolveDir: fileURLToPath(new URL('.', import.meta.url)) },
  bundle: true, format: 'esm', platform: 'browser', write: false,
});
const js = 'text/javascript';
const site = await serveStatic({
  mounts: { '/trellis/': bundleDir },
  pages: {
    '/': { body: INDEX }, '/kinds.js': { type: js, body: KINDS }, '/boundary.js': { type: js, body: bundled.outputFiles[0].text },
    '/release.wasm': { type: 'application/wasm', body: readFileSync(releaseWasmUrl) },
    '/testing.wasm': { type: 'application/wasm', body: readFileSync(testingWasmUrl) },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-chromium-'));
const context = await chromium.launchPersistentContext(dir, {
  executablePath: process.env.TRELLIS_CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const node = await startNode({
  scope: 'bench-browser', name: 'node-1', listen: { host: '127.0.0.1', port: 0 }, insecure: true, kinds: {},
  heartbeatMs: HEARTBEAT_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS, gateway: { origins: [site.url] },
});
const upAt = new Map();
node.on('event', (e) => { if (e.type === 'member_up') upAt.set(e.name, Date.now()); });
const gateway = `${node.address}/trellis/browser`;

async function openTab(name, more = {}) {
  const page = await context.newPage();
  await page.goto(`${site.url}/`);
  await page.waitForFunction(() => window.loaded === true);
  const calledAt = await page.evaluate(async (o) => {
    const at = Date.now();
    window.sup = await window.trellis.start({ insecure: true, ...o, kinds: '/kinds.js' });
    window.downs = new Map();
    window.sup.on('event', (e) => { if (e.type === 'member_down') window.downs.set(e.name, Date.now()); });
    return at;
  }, { scope: 'bench-browser', gateway, name, heartbeatMs: HEARTBEAT_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS, ...more });
  await until(() => upAt.has(name));
  return { page, name, joinMs: upAt.get(name) - calledAt };
}

/** Waits until none of `names` is an up member (closed tabs are down after the failure timeout). */
const gone = (names) => until(() => !node.members().some((m) => m.status === 'up' && names.includes(m.name)));

/** Where each child runs, by the server's view. */
const placement = () => new Map(node.whichChildren('global').filter((c) => c.status === 'running').map((c) => [c.id, c.node]));

let round = 0;
/** A tab runs the children; `end(page)` takes it away; ms until all run on the other tab. */
async function failover(end) {
  const r = round++;
  // The children start on `a` alone, then `b` joins: every child has to move.
  const a = await openTab(`f${r}-a`);
  const ids = Array.from({ length: CHILDREN }, (_, i) => `f${r}-c${i}`);
  for (const id of ids) await node.startChild({ id, kind: 'tab-job' });
  await until(() => { const p = placement(); return ids.every((id) => p.get(id) === a.name); });
  const b = await openTab(`f${r}-b`);
  const t0 = Date.now();
  await end(a.page);
  await until(() => { const p = placement(); return ids.every((id) => p.get(id) === b.name); });
  const ms = Date.now() - t0;
  for (const id of ids) await node.terminateChild(id).catch(() => undefined);
  await b.page.close();
  if (!a.page.isClosed()) await a.page.close();
  // The next round's children must not be placed on this round's tabs.
  await gone([a.name, b.name]);
  return ms;
}

/** Two same-origin tabs linked over the mesh, without lifecycle leave; ms from closing one until the other has it down. */
const LOCK_FAILURE_TIMEOUT_MS = 4000;
async function lockDeath() {
  const r = round++;
  const more = { lifecycle: false, failureTimeoutMs: LOCK_FAILURE_TIMEOUT_MS };
  const a = await openTab(`l${r}-a`, more), b = await openTab(`l${r}-b`, more);
  await until(async () => (await a.page.evaluate(() => window.sup.meshLinks())) >= 1 && (await a.page.evaluate((n) => window.sup.members(), b.name)).some((m) => m.name === b.name && m.status === 'up'));
  const t0 = await a.page.evaluate(() => Date.now());
  await b.page.close();
  await until(() => a.page.evaluate((n) => window.downs.has(n), b.name), LOCK_FAILURE_TIMEOUT_MS * 2);
  const ms = (await a.page.evaluate((n) => window.downs.get(n), b.name)) - t0;
  await a.page.close();
  await gone([a.name, b.name]);
  return ms;
}

/** µs of `n` sequential calls, sorted, after a warm-up: from the bench's Node member, or from a tab's page. */
async function nodeCalls(id, n) {
  for (let i = 0; i < CALLS_WARMUP; i++) await node.call(id, i);
  const us = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await node.call(id, i); us.push((performance.now() - t) * 1000); }
  return us.sort((a, b) => a - b);
}
const tabCalls = (page, id, n) => page.evaluate(async ({ id, n, warm }) => {
  for (let i = 0; i < warm; i++) await window.sup.call(id, i);
  const us = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await window.sup.call(id, i); us.push((performance.now() - t) * 1000); }
  return us.sort((a, b) => a - b);
}, { id, n, warm: CALLS_WARMUP });

/** The gateway's added latency: a tab's call through it against a Node member's over a direct link, to one child on node-2. */
async function gatewayHop() {
  const far = await startNode({
    scope: 'bench-browser', name: 'node-2', listen: { host: '127.0.0.1', port: 0 }, insecure: true, kinds: { echo: { run: echo } },
    heartbeatMs: HEARTBEAT_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS, seeds: [node.address],
  });
  try {
    await until(() => upAt.has('node-2'));
    // mesh off: the tab's only way to node-2 is through the gateway.
    const tab = await openTab('hop-tab', { mesh: false });
    await node.startChild({ id: 'hop-far', kind: 'echo' }, { wait: 'running' });
    await node.startChild({ id: 'hop-local', kind: 'tab-echo' }, { wait: 'running' });
    const rows = { gateway: [], direct: [], local: [] };
    for (let r = 0; r < ROUNDS; r++) {
      rows.gateway.push(await tabCalls(tab.page, 'hop-far', CALLS));
      rows.direct.push(await nodeCalls('hop-far', CALLS));
      rows.local.push(await tabCalls(tab.page, 'hop-local', CALLS));
    }
    const at = (name, q) => rows[name].map((us) => quantile(us, q));
    for (const [metric, name] of [['gateway_call_us', 'gateway'], ['direct_call_us', 'direct'], ['tab_local_call_us', 'local']]) {
      for (const q of [0.5, 0.99]) emit(metric, median(at(name, q)), 'us', { quantile: q, calls: CALLS, ...summary(at(name, q)) });
    }
    for (const q of [0.5, 0.99]) {
      const added = rows.gateway.map((g, i) => quantile(g, q) - quantile(rows.direct[i], q) - quantile(rows.local[i], q));
      emit('gateway_hop_added_us', median(added), 'us', { quantile: q, ...summary(added) });
    }
    for (const id of ['hop-far', 'hop-local']) await node.terminateChild(id).catch(() => undefined);
    await tab.page.close();
  } finally {
    await far.kill();
  }
}

/**
 * CPU ms (user + system, from /proc) of every process below `root` except the subtree of `skip`
 * (Linux), in all and by Chromium process type (`--type=` on the command line; `browser` for none).
 */
function treeCpuMs(root, skip) {
  const parent = new Map(), ticks = new Map(), kind = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      ticks.set(Number(d), Number(f[11]) + Number(f[12]));
      const type = /--type=([a-z-]+)/.exec(readFileSync(`/proc/${d}/cmdline`, 'utf8'));
      kind.set(Number(d), type ? type[1] : 'browser');
    } catch { /* gone meanwhile */ }
  }
  const below = (pid) => { for (let p = pid; p > 1; p = parent.get(p) ?? 0) { if (p === skip) return false; if (p === root) return true; } return false; };
  const byType = {};
  let t = 0;
  for (const [pid, v] of ticks) {
    if (pid === root || !below(pid)) continue;
    t += v;
    byType[kind.get(pid)] = (byType[kind.get(pid)] ?? 0) + v * 10;
  }
  return { ms: t * 10, byType }; // USER_HZ 100
}

/** Each type's share of one core over `ms`, from two treeCpuMs readings (exited processes drop out). */
function typePct(b0, b1, ms) {
  const out = {};
  for (const [k, v] of Object.entries(b1.byType)) out[k] = Math.round((1000 * (v - (b0.byType[k] ?? 0))) / ms) / 10;
  return out;
}

/** CPU of a gateway member's own process while IDLE_TABS tabs sit joined through it (gateway: heartbeat 250 ms, failure timeout 1 s; tabs: their defaults). */
async function idleGateway() {
  const gw = await ProcessMember.spawn('node', {
    name: 'idle-gw', scope: 'bench-idle', kindNames: [], heartbeatMs: 250, failureTimeoutMs: 1000, extra: { gateway: { origins: [site.url] } },
  });
  const pages = [];
  const joinStart = performance.now();
  try {
    for (let i = 0; i < IDLE_TABS; i++) {
      const page = await context.newPage();
      pages.push(page);
      await page.goto(`${site.url}/`);
      await page.waitForFunction(() => window.loaded === true);
      await page.evaluate(async (o) => { window.sup = await window.trellis.start({ insecure: true, ...o, kinds: '/kinds.js' }); }, { scope: 'bench-idle', gateway: `${gw.address}/trellis/browser`, name: `idle-${i}` });
      if ((i + 1) % 10 === 0) console.error(`bench browser: ${i + 1} idle tabs joined after ${Math.round(performance.now() - joinStart)} ms`);
    }
    const upCount = async () => (await gw.members()).filter((m) => m.status === 'up' && m.name !== 'idle-gw').length;
    let said = performance.now();
    await until(async () => {
      const up = await upCount();
      if (performance.now() - said > IDLE_PROGRESS_MS) {
        said = performance.now();
        console.error(`bench browser: ${up} of ${IDLE_TABS} idle tabs up at the gateway after ${Math.round(said - joinStart)} ms; so far ${JSON.stringify(idleTrouble(gw.events))}`);
      }
      return up === IDLE_TABS;
    }, IDLE_ALL_UP_MS);
    const downsBefore = gw.events.filter((e) => e.event.type === 'member_down').length;
    const eventsBefore = gw.events.length;
    const c0 = await gw.cpu();
    const b0 = treeCpuMs(process.pid, gw.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_MEASURE_MS));
    const c1 = await gw.cpu();
    const b1 = treeCpuMs(process.pid, gw.pid);
    const ms = performance.now() - t0;
    const cpuMs = (c1.user - c0.user + c1.system - c0.system) / 1000;
    emit('gateway_idle_cpu_pct', (100 * cpuMs) / ms, '%', {
      tabs: IDLE_TABS, measuredMs: Math.round(ms), upAtEnd: await upCount(), tabsCpuPct: Math.round((1000 * (b1.ms - b0.ms)) / ms) / 10, tabsCpuByType: typePct(b0, b1, ms),
      joinMs: Math.round(t0 - joinStart),
      memberDownsDuring: gw.events.filter((e) => e.event.type === 'member_down').length - downsBefore,
      downReasons: gw.events.slice(eventsBefore).filter((e) => e.event.type === 'member_down')
        .reduce((o, e) => ({ ...o, [e.event.reason]: (o[e.event.reason] ?? 0) + 1 }), {}),
    });
  } catch (e) {
    // The rest of the bench still runs; the line says how far the joins got.
    emit('gateway_idle_cpu_pct', null, '%', { tabs: IDLE_TABS, error: String(e.message ?? e).split('\n')[0], joinedTabs: pages.length - 1, afterMs: Math.round(performance.now() - joinStart), ...idleTrouble(gw.events) });
  } finally {
    for (const p of pages) await p.close().catch(() => undefined);
    await gw.kill();
  }
}

try {
  if (want('hop')) await gatewayHop();
  if (want('idle')) await idleGateway();
  if (want('join')) {
    const joins = [];
    for (let i = 0; i < TABS; i++) { const t = await openTab(`join-${i}`); joins.push(t.joinMs); await t.page.close(); }
    await gone(Array.from({ length: TABS }, (_, i) => `join-${i}`));
    emit('tab_join_ms', median(joins), 'ms', summary(joins));
  }

  const cases = [
    ['tab_close_failover_ms', (p) => p.close()],
    ['tab_leave_failover_ms', (p) => p.goto('about:blank')],
    ['tab_crash_failover_ms', (p) => p.goto('chrome://crash').catch(() => undefined)],
  ];
  for (const [metric, end] of want('failover') ? cases : []) {
    const xs = [];
    for (let i = 0; i < ROUNDS; i++) xs.push(await failover(end));
    emit(metric, median(xs), 'ms', { ...summary(xs), failureTimeoutMs: FAILURE_TIMEOUT_MS });
  }

  if (want('lock')) {
    const deaths = [];
    for (let i = 0; i < ROUNDS; i++) deaths.push(await lockDeath());
    emit('tab_lock_death_ms', median(deaths), 'ms', { ...summary(deaths), failureTimeoutMs: LOCK_FAILURE_TIMEOUT_MS });
  }

  if (want('boundary')) {
    const page = await context.newPage();
    await page.goto(`${site.url}/`);
    const b = await page.evaluate("import('/boundary.js').then((m) => m.run())");
    emit('boundary_empty_us', b.emptyUs, 'us', { runtime: 'chromium' });
    emit('boundary_4k_us', b.fourUs, 'us', { runtime: 'chromium' });
    emit('decode_frames_per_s', b.decodePerS, 'frames/s', { runtime: 'chromium' });
  }
} finally {
  await node.kill();
  await context.close();
  rmSync(dir, { recursive: true, force: true });
  await site.close();
}
