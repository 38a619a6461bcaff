// Cluster benchmark (npm run bench -- cluster [--host node|bun]): a loopback cluster of real
// processes with inline children, the same steps as the Horde and Pogo runs in docs/BENCHMARKS.md.
// Prints one JSON object per line. Where a step ends is judged outside the members: which ids
// each member runs (its local view) against the owners that the documented placement, computed
// here in plain JS over the membership every member reports, gives them; when it ended is the
// moment the members saw their part of it (cluster-steps.mjs untilOnOwners).
import { Cluster, nodeDriver, bunDriver } from '../dist/drivers/cluster.js';
import { waitUntil } from '../dist/drivers/process-member.js';
import { KIND, agreedMembers, ownersOf, untilOnOwners } from './cluster-steps.mjs';
import { host, emitter } from './args.mjs';

const driver = host === 'bun' ? bunDriver : nodeDriver;
const N = Number(process.env.TRELLIS_BENCH_CHILDREN ?? 10000);
const BIG = Number(process.env.TRELLIS_BENCH_BIG ?? 100000);
const FAILURE_MS = 1000;
const GLOBAL_VIEW_CALLS = 5;
const emit = emitter('cluster', { fields: { host } });
const idsOf = (n, p) => Array.from({ length: n }, (_, i) => `${p}-${i}`);

/** Latest wall-clock time at which one of `ids` reported 'up' on a member in `on`, after `since`. */
function lastUp(c, ids, on, since) {
  const want = new Set(ids);
  const first = new Map();
  for (const m of c.members) {
    if (!on.includes(m.name)) continue;
    for (const { event } of m.events) {
      if (event.type !== 'child_event' || event.name !== 'up' || !want.has(event.id)) continue;
      const t = event.data?.t ?? 0;
      if (t >= since && !first.has(event.id)) first.set(event.id, t);
    }
  }
  return first.size === want.size ? Math.max(...first.values()) : NaN;
}

/** Latest wall-clock time, over the members in `on`, of the first of their events after `since` that `match`es. */
function lastFirst(c, on, since, match) {
  let last = NaN;
  for (const m of c.members) {
    if (!on.includes(m.name)) continue;
    const e = m.events.find(({ event, t }) => t >= since && match(event));
    if (!e) return NaN;
    last = Number.isNaN(last) ? e.t : Math.max(last, e.t);
  }
  return last;
}

/** How a step's end was seen (cluster-steps.mjs untilOnOwners): by whom, and when the harness had read it. */
const seen = (r, t0) => ({
  endedBy: r.endedBy, observedMs: r.observedAt - t0,
  ...(r.atOf ? {
    membersAtMs: Object.fromEntries(Object.entries(r.atOf).map(([k, v]) => [k, v - t0])),
    // each member's last look before it held: [ms from the start, running, starting or stopping]
    membersBefore: Object.fromEntries(Object.entries(r.beforeOf).map(([k, b]) => [k, b && [b[0] - t0, b[1], b[2]]])),
  } : { membersWhy: r.membersWhy?.slice(0, 300) }),
});

async function globalView(m) {
  const first = (await m.call('timeGlobal')).ms;
  let best = first, n = 0;
  for (let i = 1; i < GLOBAL_VIEW_CALLS; i++) { const x = await m.call('timeGlobal'); best = Math.min(best, x.ms); n = x.n; }
  return { first, best, n };
}

async function run(n, prefix, full) {
  const c = new Cluster(driver, { heartbeatMs: 250, failureTimeoutMs: FAILURE_MS, syncIntervalMs: 1000 });
  const ids = idsOf(n, prefix);
  try {
    const [a] = await c.addMany(['n1', 'n2', 'n3']);
    // Children report start/stop times for the overlap measurement; the 100k run skips them.
    for (const m of c.alive()) await m.call('quiet', full ? true : 'all');
    let members3 = null;
    await waitUntil(async () => (members3 = await agreedMembers(c))?.length === 3, 20000, 'cluster of 3');
    const owners3 = ownersOf(members3, ids);

    // start: startMany sent → every id runs exactly once on its owner
    const t0 = Date.now();
    await a.call('startMany', ids.map((id) => ({ id, kind: KIND })));
    const started = await untilOnOwners(c, ids, 'all running once on their owners', members3);
    const before = started.at;
    emit(n >= 100000 ? 'start_100k_ms' : 'start_10k_ms', started.endAt - t0, 'ms', { children: n, ...seen(started, t0) });

    const g = await globalView(a);
    if (g.n !== n) throw new Error(`global view lists ${g.n} children, expected ${n}`);
    const tag = n >= 100000 ? '100k' : '10k';
    emit(`global_view_${tag}_ms`, g.best, 'ms', { children: g.n, calls: GLOBAL_VIEW_CALLS, note: 'best of the calls' });
    emit(`global_view_${tag}_first_ms`, g.first, 'ms', { children: g.n });
    if (!full) return;

    let rss = 0;
    for (const m of c.alive()) rss = Math.max(rss, await m.rss());
    emit('rss_10k_mb', rss / 1048576, 'MB', { note: 'max over nodes' });

    // idle CPU over 10 s
    const cpu0 = await Promise.all(c.alive().map((m) => m.cpu()));
    const tIdle = Date.now();
    await new Promise((r) => setTimeout(r, 10000));
    const cpu1 = await Promise.all(c.alive().map((m) => m.cpu()));
    const idleMs = Date.now() - tIdle;
    const pct = Math.max(...cpu1.map((x, i) => ((x.user + x.system - cpu0[i].user - cpu0[i].system) / 1000 / idleMs) * 100));
    emit('idle_cpu_pct', pct, '%', { note: 'max over nodes, 10k children' });

    // a 4th node joins: spawn started → every id runs exactly once on its owner among the 4
    // the membership expected after the join, computed before timing (a cache, not a check)
    const members4 = [...members3, { ...members3[0], name: 'n4' }];
    ownersOf(members4, ids);
    const t1 = Date.now();
    const d = await c.add({ name: 'n4' });
    await d.call('quiet', true);
    const rebalanced = await untilOnOwners(c, ids, 'every child on its owner among 4 members', members4);
    const { at: after, members: joined } = rebalanced;
    const joinMs = rebalanced.endAt - t1;
    const moved = ids.filter((id) => before.get(id)[0] !== after.get(id)[0]);
    const owners4 = ownersOf(joined, ids);
    const ownersChanged = ids.filter((_, i) => owners3[i] !== owners4[i]).length;
    emit('join_rebalance_10k_ms', joinMs, 'ms', { lastMovedUpMs: Math.round(lastUp(c, moved, ['n4'], t1) - t1), ...seen(rebalanced, t1) });
    emit('join_moved_ids', moved.length, 'ids', { ideal: n / 4, ownersChanged, movedNotToNewcomer: moved.filter((id) => after.get(id)[0] !== 'n4').length });
    emit('join_overlap_ids', c.overlaps().length, 'ids');

    // kill -9: SIGKILL sent → every child of the killed member runs once on its owner among the survivors
    const victim = c.get('n2');
    const orphans = ids.filter((id) => after.get(id)[0] === victim.name);
    const survivors = c.alive().filter((m) => m !== victim).map((m) => m.name);
    const members3After = members4.filter((m) => m.name !== victim.name);
    const ownersAfter = ownersOf(members3After, ids);
    const orphanOwners = ids.flatMap((id, i) => (after.get(id)[0] === victim.name ? [ownersAfter[i]] : []));
    // Each survivor's CPU time over the step: what the failover cost it, which on 2 cores shared
    // by 3 survivors bounds the step as much as any wait (less sensitive to load than the step).
    const survivorMembers = c.alive().filter((m) => m !== victim);
    // The survivors watch for their part before the SIGKILL, so that setting up the watch (a walk
    // of each one's children) is not spent in the step it measures.
    let cpuBefore, t2;
    const kill = async () => {
      cpuBefore = await Promise.all(survivorMembers.map((m) => m.cpu()));
      t2 = Date.now();
      await victim.kill();
      return t2;
    };
    const failedOver = await untilOnOwners(c, ids, 'failover', members3After, { run: kill, leaves: [victim] });
    const killMs = failedOver.endAt - t2;
    const cpuAfter = await Promise.all(survivorMembers.map((m) => m.cpu()));
    const survivorCpuMs = Object.fromEntries(survivorMembers.map((m, i) => [m.name, Math.round((cpuAfter[i].user + cpuAfter[i].system - cpuBefore[i].user - cpuBefore[i].system) / 1000)]));
    emit('kill_failover_ms', killMs, 'ms', {
      failureTimeoutMs: FAILURE_MS, orphans: orphans.length, ...seen(failedOver, t2), survivorCpuMs,
      // the survivors saw the link close (they redial at once), and found the member gone (the redial refused)
      redialMs: Math.round(lastFirst(c, survivors, t2, (e) => e.type === 'dialing' && e.address === victim.address) - t2),
      downMs: Math.round(lastFirst(c, survivors, t2, (e) => e.type === 'member_down' && e.name === victim.name) - t2),
      lastOrphanUpMs: Math.round(lastUp(c, orphans, survivors, t2) - t2),
      // per survivor: its member_down of the victim, and the last of its orphans up (each orphan has one owner among the survivors)
      downOnMs: Object.fromEntries(survivors.map((s) => [s, Math.round(lastFirst(c, [s], t2, (e) => e.type === 'member_down' && e.name === victim.name) - t2)])),
      lastOrphanUpOnMs: Object.fromEntries(survivors.map((s) => [s, Math.round(lastUp(c, orphans.filter((_, i) => orphanOwners[i] === s), [s], t2) - t2)])),
    });
  } finally {
    await c.close();
  }
}

if (N > 0) await run(N, 'c', true);
if (BIG > 0) await run(BIG, 'big', false);
