// Dashboard benchmark (npm run bench -- dashboard [--host node|bun] [--runs N]): a loopback
// cluster of 3 real processes whose n1 serves the dashboard, and a real Chromium page on it.
//   dashboard_update_ms: a child's own 'up' event (its wall clock, on whichever member runs it)
//     until its row shows as running in the open page (the page's wall clock, seen by a
//     MutationObserver on the children table), with N children in the cluster; one probe child
//     at a time, started on n1, n2, n3 in turn. Both clocks are this machine's.
//   start_10k_ms with and without an open page: the cluster bench's start step (startMany of N
//     specs sent to n1 → every id runs exactly once on its owner), in a fresh cluster each run,
//     the runs alternating; dashboard_start_10k_ratio is the median with over the median without.
//     The page runs on the same machine as the members, so its rendering competes with them for
//     CPU; dashboard_serving_cpu_ratio is the serving member's own CPU time over the step, with
//     over without (what the open page costs that member alone).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Cluster, nodeDriver, bunDriver } from '../dist/drivers/cluster.js';
import { waitUntil } from '../dist/drivers/process-member.js';
import { KIND, agreedMembers, untilOnOwners } from './cluster-steps.mjs';
import { host, numArg, emitter, median } from './args.mjs';

const driver = host === 'bun' ? bunDriver : nodeDriver;
const RUNS = numArg('--runs', 3);
const N = Number(process.env.TRELLIS_BENCH_CHILDREN ?? 10000);
const PROBES = 9;
const PAGE_LOAD_MS = 30000;
const PROBE_DEADLINE_MS = 10000;
const emit = emitter('dashboard', { fields: { host } });
const range = (xs) => `${Math.min(...xs)}–${Math.max(...xs)}`;

const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-dashboard-'));
const context = await chromium.launchPersistentContext(dir, {
  executablePath: process.env.TRELLIS_CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

/** A cluster of 3 whose n1 serves the dashboard, with every member agreeing on the 3. */
async function cluster() {
  const c = new Cluster(driver, { heartbeatMs: 250, failureTimeoutMs: 1000, syncIntervalMs: 1000 });
  await c.add({ name: 'n1', extra: { dashboard: { path: '/dashboard' } } });
  await c.addMany(['n2', 'n3']);
  for (const m of c.alive()) await m.call('quiet', 'all');
  await waitUntil(async () => (await agreedMembers(c))?.length === 3, 20000, 'cluster of 3');
  return c;
}

/** A page on n1's dashboard, once it shows `n` children. */
async function openPage(c, n) {
  const page = await context.newPage();
  await page.goto(c.get('n1').address.replace('ws://', 'http://') + '/dashboard/');
  await page.waitForFunction((n) => document.getElementById('children-count')?.textContent === `${n} of ${n}`, n, { timeout: PAGE_LOAD_MS });
  return page;
}

const specs = (n, prefix) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, kind: KIND }));

/** One start_10k run in a fresh cluster, with or without a page open on n1 through it. */
async function startRun(withPage, run) {
  const c = await cluster();
  let page;
  try {
    if (withPage) page = await openPage(c, 0);
    const ids = specs(N, 'c').map((s) => s.id);
    const n1 = c.get('n1');
    const cpu0 = await n1.cpu();
    const t0 = Date.now();
    await n1.call('startMany', specs(N, 'c'));
    await untilOnOwners(c, ids, 'all running once on their owners');
    const ms = Date.now() - t0;
    const cpu1 = await n1.cpu();
    const cpuMs = Math.round((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / 1000);
    if (page) await page.waitForFunction((n) => document.getElementById('children-count').textContent === `${n} of ${n}`, N, { timeout: PAGE_LOAD_MS });
    emit('start_10k_ms', ms, 'ms', { children: N, page: withPage, run, servingCpuMs: cpuMs });
    return { ms, cpuMs };
  } finally {
    await page?.close();
    await c.close();
  }
}

/** The probe's row shown as running in the page: resolves to the page's Date.now() then. */
function watchRow(page, id) {
  return page.evaluate((id) => new Promise((resolve, reject) => {
    const search = document.getElementById('search');
    search.value = id;
    search.dispatchEvent(new Event('input'));
    const box = document.getElementById('children');
    const seen = () => box.querySelector(`.row[data-id="${id}"][data-status="running"]`) !== null;
    if (seen()) { reject(new Error(`${id} already shown`)); return; }
    const obs = new MutationObserver(() => { if (seen()) { obs.disconnect(); resolve(Date.now()); } });
    obs.observe(box, { childList: true, subtree: true, attributes: true });
    window.__probeArmed = true;
  }), id);
}

async function updateRun() {
  const c = await cluster();
  try {
    const ids = specs(N, 'c').map((s) => s.id);
    await c.get('n1').call('startMany', specs(N, 'c'));
    await untilOnOwners(c, ids, 'all running once on their owners');
    const page = await openPage(c, N);
    // Child events (the probes' 'up') are reported from now on; the rest stay quiet.
    for (const m of c.alive()) await m.call('quiet', true);
    const out = [];
    for (let i = 0; i < PROBES; i++) {
      const id = `probe-${i}`;
      const shown = watchRow(page, id);
      await page.waitForFunction(() => window.__probeArmed === true);
      await page.evaluate(() => { window.__probeArmed = false; });
      await c.alive()[i % 3].startChild({ id, kind: KIND }, { wait: 'running' });
      const shownAt = await Promise.race([shown, new Promise((_, no) => setTimeout(() => no(new Error(`${id} not shown within ${PROBE_DEADLINE_MS} ms`)), PROBE_DEADLINE_MS))]);
      const up = c.members.flatMap((m) => m.events.filter(({ event }) => event.type === 'child_event' && event.id === id && event.name === 'up').map(({ event }) => ({ on: m.name, t: event.data.t })));
      if (up.length !== 1) throw new Error(`${id}: ${up.length} 'up' events`);
      out.push({ ms: shownAt - up[0].t, on: up[0].on });
    }
    const ms = out.map((x) => Math.round(x.ms));
    emit('dashboard_update_ms', median(ms), 'ms', { children: N, probes: PROBES, range: range(ms), runsOn: out.map((x) => x.on).join(','), note: 'median over probes' });
    await page.close();
  } finally {
    await c.close();
  }
}

try {
  await updateRun();
  const without = [], withPage = [];
  for (let r = 0; r < RUNS; r++) {
    // Alternating which goes first, so a load trend over the runs falls on both sides.
    if (r % 2 === 0) { without.push(await startRun(false, r)); withPage.push(await startRun(true, r)); }
    else { withPage.push(await startRun(true, r)); without.push(await startRun(false, r)); }
  }
  const summary = (what) => {
    const w = withPage.map((x) => x[what]), wo = without.map((x) => x[what]);
    return { ratio: median(w) / median(wo), withPage: `${median(w)} (${range(w)})`, withoutPage: `${median(wo)} (${range(wo)})` };
  };
  const wall = summary('ms'), cpu = summary('cpuMs');
  emit('dashboard_start_10k_ratio', wall.ratio, 'ratio', { children: N, runs: RUNS, withPageMs: wall.withPage, withoutPageMs: wall.withoutPage });
  emit('dashboard_serving_cpu_ratio', cpu.ratio, 'ratio', { children: N, runs: RUNS, withPageCpuMs: cpu.withPage, withoutPageCpuMs: cpu.withoutPage });
} finally {
  await context.close();
  rmSync(dir, { recursive: true, force: true });
}
