// Fault benchmarks (npm run bench -- faults [--host node|bun] [--runs N]): three real member
// processes whose links all cross a fault proxy (conformance/chaos/proxy.mjs), with inline
// children that journal their own start and stop (fixtures/chaos-kinds.mjs). Prints one JSON
// object per line.
//
//   stop_failover_ms              SIGSTOP of the member running the most children → every child
//                                 it ran runs on exactly one of the two others (their local views)
//   kill_failover_small_ms        the same after SIGKILL (death the OS reports: no failure timeout)
//   partition_quorum_overlap_ids  quorum mode (quorum 2): one member cut off from both others for
//                                 PARTITION_MS, then healed: ids that the children's journals show
//                                 running on two members at the same time (target 0)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessMember, waitUntil } from '../dist/drivers/process-member.js';
import { FaultProxy } from '../chaos/proxy.mjs';
import { readJournals } from '../chaos/journal.mjs';
import { intervals } from '../chaos/checker.mjs';
import { host, numArg, wallMs, median, round, emitter } from './args.mjs';

const RUNS = numArg('--runs', 3);
const NAMES = ['f1', 'f2', 'f3'];
const CHILDREN = 300;
const HEARTBEAT_MS = 100;
const FAILURE_TIMEOUT_MS = 1000;
const SYNC_INTERVAL_MS = 500;
/** How long the cut-off member stays cut off, ms (well past its failure timeout and the lease). */
const PARTITION_MS = 4000;
/** A child's own stop time and its shutdown bound (the quorum lease waits for the latter), ms. */
const CHILD_STOP_MS = 30;
const CHILD_SHUTDOWN_MS = 500;
const STEP_DEADLINE_MS = 60_000;
const POLL_MS = 10;

const now = wallMs;
const line = emitter('faults', { digits: 1, fields: { host } });
/** A figure over runs: the median, with the range beside it. */
const emit = (metric, values, unit, extra = {}) => {
  const sorted = [...values].sort((a, b) => a - b);
  line(metric, median(sorted), unit, { min: round(sorted[0], 1), max: round(sorted.at(-1), 1), runs: values.length, ...extra });
};

/** Three members behind one proxy; `quorum` turns the lease on. */
async function cluster({ quorum }) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-faults-'));
  const proxy = new FaultProxy();
  const ports = new Map();
  for (const name of NAMES) ports.set(name, await proxy.listen(name));
  const addr = (name) => `ws://127.0.0.1:${ports.get(name)}`;
  const members = new Map();
  for (const name of NAMES) {
    const m = await ProcessMember.spawn(host, {
      name, seeds: NAMES.filter((x) => x !== name).map(addr), advertise: addr(name),
      kindsModule: new URL('../fixtures/chaos-kinds.mjs', import.meta.url).href,
      heartbeatMs: HEARTBEAT_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS, syncIntervalMs: SYNC_INTERVAL_MS,
      partition: quorum ? { quorum: 2 } : 'available',
    });
    proxy.setTarget(name, Number(new URL(m.boundAddress).port), m.pid);
    members.set(name, m);
  }
  const all = [...members.values()];
  await waitUntil(async () => {
    for (const m of all) if ((await m.members()).filter((x) => x.status === 'up').length !== NAMES.length) return false;
    return true;
  }, STEP_DEADLINE_MS, 'three members up');
  const specs = Array.from({ length: CHILDREN }, (_, i) => ({ id: `f-${i}`, kind: 'j-inline', args: { journal: dir, stopMs: CHILD_STOP_MS }, shutdownMs: CHILD_SHUTDOWN_MS }));
  await all[0].call('startMany', specs);
  await waitUntil(() => runsOnce(all, specs.map((s) => s.id)), STEP_DEADLINE_MS, 'every child running once');
  const close = async () => {
    await Promise.allSettled(all.map((m) => (m.resume(), m.kill())));
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, proxy, members, all, ids: specs.map((s) => s.id), close };
}

/** Every id of `ids` runs exactly once over `ms` (their local views). */
async function runsOnce(ms, ids) {
  const seen = new Map();
  for (const m of ms) for (const id of await m.call('localIds')) seen.set(id, (seen.get(id) ?? 0) + 1);
  return ids.every((id) => seen.get(id) === 1);
}

/** The member running the most children, and the ids it runs. */
async function busiest(all) {
  let best = all[0], ids = [];
  for (const m of all) { const mine = await m.call('localIds'); if (mine.length > ids.length) { best = m; ids = mine; } }
  return { victim: best, ids };
}

async function failover(kind) {
  const c = await cluster({ quorum: false });
  try {
    const { victim, ids } = await busiest(c.all);
    const others = c.all.filter((m) => m !== victim);
    const t0 = now();
    if (kind === 'stop') victim.pause(); else void victim.kill();
    await waitUntil(() => runsOnce(others, ids), STEP_DEADLINE_MS, `${kind}: children on the survivors`, POLL_MS);
    return { ms: now() - t0, moved: ids.length };
  } finally { await c.close(); }
}

async function partitionOverlap() {
  const c = await cluster({ quorum: true });
  try {
    const { victim } = await busiest(c.all);
    const others = c.all.filter((m) => m !== victim);
    for (const o of others) c.proxy.setLink(victim.name, o.name, { mode: 'cut' });
    await new Promise((r) => setTimeout(r, PARTITION_MS));
    c.proxy.healAll();
    await waitUntil(async () => {
      for (const m of c.all) if ((await m.members()).filter((x) => x.status === 'up').length !== NAMES.length) return false;
      return runsOnce(c.all, c.ids);
    }, STEP_DEADLINE_MS, 'converged after the heal', 100);
    const byId = new Map();
    for (const iv of intervals(readJournals(c.dir), { alive: () => true, readAt: now() })) byId.set(iv.id, [...(byId.get(iv.id) ?? []), iv]);
    let overlapping = 0;
    for (const list of byId.values()) {
      const twice = list.some((a, i) => list.slice(i + 1).some((b) => a.pid !== b.pid && Math.min(a.end, b.end) > Math.max(a.start, b.start)));
      if (twice) overlapping++;
    }
    return { ids: overlapping, moved: [...byId.values()].filter((l) => l.length > 1).length };
  } finally { await c.close(); }
}

const stops = [], kills = [], overlaps = [];
let movedStop = 0, movedKill = 0, movedPartition = 0;
for (let r = 0; r < RUNS; r++) {
  const s = await failover('stop'); stops.push(s.ms); movedStop = s.moved;
  const k = await failover('kill'); kills.push(k.ms); movedKill = k.moved;
  const p = await partitionOverlap(); overlaps.push(p.ids); movedPartition = p.moved;
}
emit('stop_failover_ms', stops, 'ms', { children: movedStop, failureTimeoutMs: FAILURE_TIMEOUT_MS });
emit('kill_failover_small_ms', kills, 'ms', { children: movedKill });
emit('partition_quorum_overlap_ids', overlaps, 'ids', { movedIds: movedPartition, partitionMs: PARTITION_MS });
