// Real-process chaos (npm run chaos): five members, Node and Bun alternating, each reachable by
// the others only through the fault proxy; journaling children of all three isolations; a
// seeded schedule of requests and faults; then heal, convergence and the checker.
//
// Members bind their own port and advertise their proxy listener (the driver's `advertise`
// option), so whatever address gossip spreads, every link crosses the proxy.
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessMember, waitUntil } from '../dist/drivers/process-member.js';
import { FaultProxy } from './proxy.mjs';
import { plan } from './plan.mjs';
import { readJournals, writeLog } from './journal.mjs';
import { check, countByKind, DEFINITE_REJECTIONS } from './checker.mjs';
import { sharedNow } from '../fixtures/shared-clock.mjs';

export const MEMBERS = ['a', 'b', 'c', 'd', 'e'];
export const HEARTBEAT_MS = 100;
export const FAILURE_TIMEOUT_MS = 800;
export const SYNC_INTERVAL_MS = 500;
/** After a partition or pause heals, overlap is allowed this much longer (detection plus a sync or two). */
export const SETTLE_MS = FAILURE_TIMEOUT_MS + 2 * SYNC_INTERVAL_MS + 500;
/**
 * Every member has heard of an acknowledged terminate by this long after it (the delta goes out at
 * once, a sync repairs a loss) and a child it had decided to start before then has journaled
 * its start (a process spawn on a loaded 2-core machine), ms.
 */
export const TERMINATE_LEARN_MS = SYNC_INTERVAL_MS + 1500;
/** The pool of child ids; id i has isolation ISOLATIONS[i % 3]. */
export const POOL_SIZE = 24;
export const ISOLATIONS = ['inline', 'worker', 'process'];
/** A child's own shutdown time after its abort, ms. */
const CHILD_STOP_MS = 30;
const CHILD_SHUTDOWN_MS = 1000;
/** The member's own request timeout, and the harness's deadline for any call to a member, ms. */
const REQUEST_TIMEOUT_MS = 3000;
const CALL_DEADLINE_MS = 3000;
/** Bounds of the end phase, ms. */
const DRAIN_MS_MAX = 15_000;
const CONVERGE_MS_MAX = 60_000;
/** After convergence, how long the end state must hold before it is read, ms. */
const GRACE_MS = 1500;
/** A member that does not exit after SIGKILL (it cannot happen, but the run must end), ms. */
const EXIT_DEADLINE_MS = 5000;

/** Request, fault and death times, compared with the children's journal times. */
const now = sharedNow;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects a call that has not settled within `ms`; the timer is cleared either way. */
function deadline(p, ms, what) {
  let timer;
  const t = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function runChaos({ minutes, seed, quorum = false, log = () => {} }) {
  const durationMs = Math.round(minutes * 60_000);
  const dir = mkdtempSync(join(journalRoot(), 'trellis-chaos-'));
  const ids = Array.from({ length: POOL_SIZE }, (_, i) => `c${i}`);
  const isoOf = (id) => ISOLATIONS[Number(id.slice(1)) % ISOLATIONS.length];
  const spec = (id) => ({ id, kind: `j-${isoOf(id)}`, args: { journal: dir, iso: isoOf(id), stopMs: CHILD_STOP_MS }, shutdownMs: CHILD_SHUTDOWN_MS });
  const kindsModule = new URL('../fixtures/chaos-kinds.mjs', import.meta.url).href;

  const proxy = new FaultProxy();
  const members = new Map(); // name -> { host, proc, state: up | dead | paused | left | busy }
  const spawned = []; // every process ever started: { name, host, pid, at, exitedAt }
  const deaths = new Map(); // member pid -> exit time of the process spawned last with that pid
  // Every member process's life, { pid, from, to }: a pid may come back as another member later.
  const lives = [];
  const faultsDone = {};
  const windows = []; // excuse windows in available mode: pauses and link faults
  const openWindows = new Map();
  const requests = [];
  const procs = []; // every member process, for its event log: { name, proc }
  const inflight = new Map(); // id -> promise
  const pending = new Set(); // fault actions under way (restarts, leaves)
  let skipped = 0;
  const count = (k) => { faultsDone[k] = (faultsDone[k] ?? 0) + 1; };

  for (const name of MEMBERS) members.set(name, { host: MEMBERS.indexOf(name) % 2 === 0 ? 'node' : 'bun', proc: undefined, state: 'dead' });
  const ports = new Map();
  for (const name of MEMBERS) ports.set(name, await proxy.listen(name));
  const addr = (name) => `ws://127.0.0.1:${ports.get(name)}`;

  async function spawn(name) {
    const m = members.get(name);
    m.state = 'busy';
    const proc = await ProcessMember.spawn(m.host, {
      name, seeds: MEMBERS.filter((x) => x !== name).map(addr), advertise: addr(name), kindsModule,
      heartbeatMs: HEARTBEAT_MS, failureTimeoutMs: FAILURE_TIMEOUT_MS, syncIntervalMs: SYNC_INTERVAL_MS,
      partition: quorum ? { quorum: 3 } : 'available',
    }).catch((e) => { m.state = 'dead'; throw e; });
    proxy.setTarget(name, Number(new URL(proc.boundAddress).port), proc.pid);
    const row = { name, host: m.host, pid: proc.pid, at: now(), exitedAt: undefined };
    spawned.push(row);
    const life = { pid: proc.pid, from: row.at, to: undefined };
    lives.push(life);
    deaths.delete(proc.pid);
    proc.exited.then(() => { row.exitedAt = now(); life.to ??= deaths.get(proc.pid) ?? row.exitedAt; });
    procs.push({ name, proc });
    m.proc = proc;
    m.state = 'up';
  }

  const windowOpen = (key, kind, pid, pair) => openWindows.set(key, { kind, pid, pair, from: now() });
  const windowClose = (key) => { const w = openWindows.get(key); if (w) { windows.push({ ...w, to: now() }); openWindows.delete(key); } };

  async function fault(x) {
    const m = x.member ? members.get(x.member) : undefined;
    switch (x.kind) {
      case 'kill':
        if (m.state !== 'up') { skipped++; return; }
        m.state = 'busy'; count('kill');
        {
          const exited = m.proc.kill();
          // Once kill(2) has returned, the process runs no more code: its children's journal
          // intervals end here, not when its exit is reported to this (maybe busy) process.
          deaths.set(m.proc.pid, now());
          for (const l of lives) if (l.pid === m.proc.pid && l.to === undefined) l.to = now();
          await deadline(exited, EXIT_DEADLINE_MS, `${x.member} exit`);
        }
        m.state = 'dead';
        return;
      case 'restart': case 'rejoin': {
        if (m.state !== (x.kind === 'restart' ? 'dead' : 'left')) { skipped++; return; }
        count(x.kind);
        await spawn(x.member);
        return;
      }
      case 'pause':
        if (m.state !== 'up') { skipped++; return; }
        count('pause'); windowOpen(`p:${x.member}`, 'pause', m.proc.pid); m.proc.pause(); m.state = 'paused';
        return;
      case 'resume':
        if (m.state !== 'paused') return;
        m.proc.resume(); m.state = 'up'; windowClose(`p:${x.member}`);
        return;
      case 'leave':
        if (m.state !== 'up') { skipped++; return; }
        m.state = 'busy'; count('leave');
        await m.proc.stop();
        m.state = 'left';
        return;
      case 'cut': case 'blackhole': case 'delay':
        // Keyed by the fault, not the pair: a second fault on a pair may begin before the first heals.
        count(x.kind); windowOpen(`l:${x.token}`, x.kind, undefined, `${x.a}|${x.b}`);
        proxy.setLink(x.a, x.b, { mode: x.kind, delayMs: x.delayMs }, x.token);
        return;
      case 'heal':
        proxy.healLink(x.a, x.b, x.token); windowClose(`l:${x.token}`);
        return;
      default: throw new Error(`unknown action ${x.kind}`);
    }
  }

  function request(x) {
    if (inflight.has(x.id)) { skipped++; return; }
    const live = MEMBERS.filter((n) => members.get(n).state === 'up');
    if (live.length === 0) { skipped++; return; }
    const name = live[x.pick % live.length];
    const proc = members.get(name).proc;
    const q = { op: x.op, id: x.id, member: name, pid: proc.pid, sent: now(), answered: undefined, outcome: 'ambiguous', code: undefined };
    requests.push(q);
    const call = x.op === 'start'
      ? proc.startChild(spec(x.id), { timeoutMs: REQUEST_TIMEOUT_MS })
      : proc.terminateChild(x.id, { timeoutMs: REQUEST_TIMEOUT_MS });
    // The id stays in flight until its member answers or dies, so requests on one id never overlap.
    const p = call.then(
      () => { q.outcome = 'ok'; },
      (e) => { q.code = e?.code ?? 'member_gone'; q.outcome = DEFINITE_REJECTIONS.has(q.code) ? 'rejected' : 'ambiguous'; },
    ).finally(() => { q.answered = now(); inflight.delete(x.id); });
    inflight.set(x.id, p);
  }

  const result = { seed, minutes, quorum, dir, violations: [], faults: faultsDone };
  /** Why the cluster has not converged yet ('' once it has), for the unconverged violation. */
  let unconvergedWhy = 'not checked yet';
  /** When the faults were healed and every member was back (the start of convergence). */
  let healedAt = 0;
  try {
    for (const name of MEMBERS) await spawn(name);
    await waitUntil(() => formed(), 30_000, 'five members up');
    const actions = plan({ seed, durationMs, members: MEMBERS, ids });
    const t0 = performance.now();
    for (const x of actions) {
      const wait = x.at - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
      if (x.kind === 'request') { request(x); continue; }
      const what = `fault ${x.kind} ${x.member ?? `${x.a}|${x.b}`}`;
      log(`+${Math.round(performance.now() - t0)} ms: ${what}`);
      const p = fault(x).catch((e) => log(`${what}: ${e.message}`));
      pending.add(p);
      p.finally(() => pending.delete(p));
    }
    log('schedule done; healing');
    await deadline(Promise.allSettled([...pending]), DRAIN_MS_MAX, 'fault actions').catch((e) => log(e.message));
    proxy.healAll();
    for (const key of [...openWindows.keys()]) windowClose(key);
    for (const [name, m] of members) {
      if (m.state === 'paused') { m.proc.resume(); m.state = 'up'; }
      if (m.state === 'dead' || m.state === 'left') await spawn(name);
    }
    for (const key of [...openWindows.keys()]) windowClose(key);
    await deadline(Promise.allSettled([...inflight.values()]), DRAIN_MS_MAX, 'requests').catch((e) => log(e.message));
    healedAt = now();
    let convergedAt;
    try {
      await waitUntil(() => converged(), CONVERGE_MS_MAX, 'convergence', 200);
      convergedAt = now();
    } catch (e) {
      result.violations.push({ kind: 'unconverged', id: '*', detail: `${e.message}: ${unconvergedWhy}` });
    }
    await sleep(GRACE_MS);
    const readAt = now();
    const records = readJournals(dir);
    const alivePids = new Set(records.filter((r) => r.ev === 'start' && aliveSince(r.pid, r.t)).map((r) => r.pid));
    const alive = (pid, since) => alivePids.has(pid) && aliveSince(pid, since);
    const r = check({ records, requests, faults: windows, deaths: lives, alive, readAt, quorum, settleMs: SETTLE_MS, learnMs: TERMINATE_LEARN_MS });
    result.violations.push(...r.violations);
    result.convergeMs = convergedAt === undefined ? undefined : Math.round(convergedAt - healedAt);
    result.orphanPids = [...alivePids].filter((pid) => !spawned.some((s) => s.pid === pid && s.exitedAt === undefined));
    writeLog(dir, 'requests.jsonl', requests);
    writeLog(dir, 'faults.jsonl', windows);
    writeLog(dir, 'members.jsonl', spawned);
    writeLog(dir, 'violations.jsonl', result.violations);
    // What each member process saw (member_up/down with reasons, child events), to read a failure by.
    for (const { name, proc } of procs) writeLog(dir, `events-${name}-${proc.pid}.jsonl`, proc.events);
    writeLog(dir, 'proxy.jsonl', proxy.log);
  } finally {
    await Promise.allSettled([...members.values()].map((m) => m.proc && (m.proc.resume(), deadline(m.proc.kill(), EXIT_DEADLINE_MS, 'exit'))));
    // Process children that outlived their member (a bug the checker reports) must not outlive the run.
    for (const rec of safeRecords(dir)) if (rec.iso === 'process' && aliveSince(rec.pid, rec.t) && isProcessChild(rec.pid)) try { process.kill(rec.pid, 'SIGKILL'); } catch { /* gone */ }
    await proxy.close();
  }
  const reqs = (op) => requests.filter((q) => q.op === op);
  result.starts = { sent: reqs('start').length, acked: reqs('start').filter((q) => q.outcome === 'ok').length };
  result.terminates = { sent: reqs('terminate').length, acked: reqs('terminate').filter((q) => q.outcome === 'ok').length };
  result.skipped = skipped;
  result.byKind = countByKind(result.violations);
  result.proxy = { accepted: proxy.accepted, unidentified: proxy.unidentified, refused: proxy.refused };
  log(`proxy: ${JSON.stringify(result.proxy)}`);
  if (result.violations.length === 0) rmSync(dir, { recursive: true, force: true });
  return result;

  async function formed() {
    for (const m of members.values()) {
      if (m.state !== 'up') return false;
      const ms = await deadline(m.proc.members(), CALL_DEADLINE_MS, 'members');
      if (ms.filter((x) => x.status === 'up').length !== MEMBERS.length) return false;
    }
    return true;
  }

  /** All five up in every view, identical digests, every desired child running exactly once. */
  async function converged() {
    const why = await convergenceGap();
    // Each new reason, with its time since the heal: what a slow convergence waited for (--verbose).
    if (why !== unconvergedWhy) log(`convergence +${Math.round(now() - healedAt)} ms: ${why || 'converged'}`);
    unconvergedWhy = why;
    return unconvergedWhy === '';
  }

  async function convergenceGap() {
    for (const [name, m] of members) {
      if (m.state !== 'up') return `${name} is ${m.state}`;
      const ms = await deadline(m.proc.members(), CALL_DEADLINE_MS, 'members');
      const up = ms.filter((x) => x.status === 'up').map((x) => x.name);
      if (up.length !== MEMBERS.length) return `${name} sees up: ${up.join(',')}`;
    }
    const procs = [...members.values()].map((m) => m.proc);
    const digests = await Promise.all(procs.map((p) => deadline(p.digest(), CALL_DEADLINE_MS, 'digest')));
    if (digests.some((d) => d !== digests[0])) return `digests differ: ${digests.join(' ')}`;
    const runs = new Map();
    for (const [name, m] of members) {
      for (const c of await deadline(m.proc.whichChildren('local'), CALL_DEADLINE_MS, 'local children')) {
        if (c.status !== 'running') return `${c.id} is ${c.status} on ${name}`;
        runs.set(c.id, [...(runs.get(c.id) ?? []), name]);
      }
    }
    const global = await deadline(procs[0].whichChildren('global'), CALL_DEADLINE_MS, 'global children');
    for (const g of global) {
      const on = runs.get(g.id) ?? [];
      if (on.length !== 1) return `${g.id} (${g.status} in the global view) runs on [${on.join(',')}]`;
    }
    const extra = [...runs.keys()].filter((id) => !global.some((g) => g.id === id));
    if (extra.length) return `running but not desired: ${extra.join(',')}`;
    return '';
  }
}

/**
 * Where the journals go: tmpfs when there is one. Children append to them synchronously, and on
 * a disk shared with heavy writers an append can stall for seconds under dirty-page throttling,
 * which stalls the member's event loop: a fault of the harness, not of the cluster.
 */
function journalRoot() {
  return process.env.TRELLIS_CHAOS_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
}

function pidAlive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Jiffies per second of /proc/<pid>/stat's start time (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_S = 100;
/** Boot time, epoch ms, from /proc/stat. */
const BOOT_MS = (() => {
  try { return Number(/\nbtime (\d+)/.exec(readFileSync('/proc/stat', 'utf8'))[1]) * 1000; } catch { return 0; }
})();
/** /proc's start time is whole seconds of boot plus jiffies: a process is "the same" within this, ms. */
const START_SLACK_MS = 1500;

/**
 * Process `pid` is alive and is the one that wrote a record at `t` (epoch ms): it started before
 * then. pids are reused (pid_max is 32,768 here) and a long run spawns thousands of processes.
 */
function aliveSince(pid, t) {
  if (!pidAlive(pid)) return false;
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = st.slice(st.lastIndexOf(')') + 2).split(' ');
    const startedAt = BOOT_MS + (Number(fields[19]) * 1000) / CLOCK_TICKS_PER_S;
    return startedAt <= t + START_SLACK_MS;
  } catch { return false; }
}

/** `pid` is one of our process children (the hosts run them from entry-process.js). */
function isProcessChild(pid) {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('entry-process'); } catch { return false; }
}

function safeRecords(dir) {
  try { return readJournals(dir); } catch { return []; }
}

/** The one summary line. */
export function summary(r) {
  const kv = (o) => Object.entries(o).sort().map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  const total = Object.values(r.faults).reduce((s, n) => s + n, 0);
  return `chaos: seed=${r.seed} minutes=${r.minutes} mode=${r.quorum ? 'quorum' : 'available'} members=${MEMBERS.length} (node ${MEMBERS.filter((_, i) => i % 2 === 0).length}, bun ${MEMBERS.filter((_, i) => i % 2 === 1).length})`
    + ` faults=${total} [${kv(r.faults)}] starts=${r.starts.acked}/${r.starts.sent} acked terminates=${r.terminates.acked}/${r.terminates.sent} acked`
    + ` skipped=${r.skipped} converge_ms=${r.convergeMs ?? 'never'} violations=${r.violations.length} [${kv(r.byKind)}]`;
}
