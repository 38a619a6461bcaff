// Cluster benchmark (npm run bench -- cluster [--host node|bun]): a loopback cluster of real
// processes with inline children, the same steps as the Pogo runs in docs/BENCHMARKS.md.
// Prints one JSON object per line.
import { Cluster, nodeDriver, bunDriver } from '../dist/drivers/cluster.js';
import { waitUntil } from '../dist/drivers/process-member.js';

const argv = process.argv.slice(2);
const host = argv.includes('--host') ? argv[argv.indexOf('--host') + 1] : 'node';
const driver = host === 'bun' ? bunDriver : nodeDriver;
const N = Number(process.env.TRELLIS_BENCH_CHILDREN ?? 10000);
const BIG = Number(process.env.TRELLIS_BENCH_BIG ?? 100000);
const FAILURE_MS = 1000;
const emit = (metric, value, unit, extra = {}) => console.log(JSON.stringify({ bench: 'cluster', host, metric, value: Math.round(value * 100) / 100, unit, ...extra }));
const specs = (n, p) => Array.from({ length: n }, (_, i) => ({ id: `${p}-${i}`, kind: 'worker' }));

async function counts(c) {
  const per = {};
  for (const m of c.alive()) per[m.name] = await m.call('counts');
  return per;
}
const total = (per, status = 'running') => Object.values(per).reduce((s, c) => s + (c[status] ?? 0), 0);
const busy = (per) => Object.values(per).some((c) => c.busy > 0);

async function exactlyOnce(c, n) {
  const seen = new Set();
  for (const m of c.alive()) for (const id of await m.call('localIds')) { if (seen.has(id)) return false; seen.add(id); }
  return seen.size === n;
}

async function run(n, prefix, full) {
  const c = new Cluster(driver, { heartbeatMs: 250, failureTimeoutMs: FAILURE_MS, syncIntervalMs: 1000 });
  try {
    const [a] = await c.addMany(['n1', 'n2', 'n3']);
    // Children report start/stop times for the overlap measurement; the 100k run skips them.
    for (const m of c.alive()) await m.call('quiet', full ? true : 'all');
    await waitUntil(async () => (await a.members()).filter((m) => m.status === 'up').length === 3, 20000, 'cluster');
    const t0 = Date.now();
    await a.call('startMany', specs(n, prefix));
    await waitUntil(async () => { const p = await counts(c); return total(p) === n && !busy(p) && (await exactlyOnce(c, n)); }, 120000, 'all running exactly once', 20);
    const startMs = Date.now() - t0;
    emit(n >= 100000 ? 'start_100k_ms' : 'start_10k_ms', startMs, 'ms', { children: n });
    if (!full) return;

    // best of 5 calls (the first also compiles the decoding path)
    let g = await a.call('timeGlobal');
    const first = g.ms;
    for (let i = 0; i < 4; i++) { const x = await a.call('timeGlobal'); if (x.ms < g.ms) g = x; }
    emit('global_view_10k_ms', g.ms, 'ms', { children: g.n, firstCallMs: Math.round(first * 10) / 10 });
    let rss = 0;
    for (const m of c.alive()) rss = Math.max(rss, await m.rss());
    emit('rss_10k_mb', rss / 1048576, 'MB', { note: 'max over nodes' });

    // idle CPU over 10 s
    const before = await Promise.all(c.alive().map((m) => m.cpu()));
    const tIdle = Date.now();
    await new Promise((r) => setTimeout(r, 10000));
    const after = await Promise.all(c.alive().map((m) => m.cpu()));
    const idleMs = Date.now() - tIdle;
    const pct = Math.max(...after.map((x, i) => ((x.user + x.system - before[i].user - before[i].system) / 1000 / idleMs) * 100));
    emit('idle_cpu_pct', pct, '%', { note: 'max over nodes, 10k children' });

    // a 4th node joins
    const t1 = Date.now();
    const d = await c.add({ name: 'n4' });
    await d.call('quiet', true);
    await waitUntil(async () => {
      const p = await counts(c);
      return (p.n4?.running ?? 0) > 0 && total(p) === n && !busy(p);
    }, 120000, 'rebalanced', 20);
    emit('join_rebalance_10k_ms', Date.now() - t1, 'ms', { moved: (await counts(c)).n4.running });
    emit('join_overlap_ids', c.overlaps().length, 'ids');

    // kill -9 one node
    const victim = c.get('n2');
    const t2 = Date.now();
    await victim.kill();
    await waitUntil(async () => { const p = await counts(c); return total(p) === n && !busy(p); }, 120000, 'failover', 20);
    emit('kill_failover_ms', Date.now() - t2, 'ms', { failureTimeoutMs: FAILURE_MS });
  } finally {
    await c.close();
  }
}

await run(N, 'c', true);
if (BIG > 0) await run(BIG, 'big', false);
