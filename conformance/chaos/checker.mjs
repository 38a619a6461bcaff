// The chaos checker: reads what the children journaled and what the workload was told, and
// names every broken promise. Pure: no I/O, no clock; every input is data (journal.mjs reads
// the files, harness.mjs records requests, faults and member deaths).
//
// Invariants (DESIGN.md, "Conformance"), by violation kind:
//   lost             an id whose last decided request is an acknowledged start runs nowhere at the end
//   duplicate        an id runs more than once at the end
//   not_stopped      an id whose last decided request is an acknowledged terminate still runs at the end
//   terminate_undone a start journaled after a terminate was acknowledged and before the next start
//                    was asked (unless a start overlapped the terminate in real time: either may
//                    win), by the member process that acknowledged it (it knew), or by any
//                    member later than `learnMs` after the acknowledgement (by then every member
//                    had heard of it, unless a fault window excuses it in available mode). A member
//                    that decided a start before the terminate reached it journals that start a
//                    spawn's time later: that is a race the design allows, not an undone terminate.
//   overlap_planned  two members ran one id at once, not inside a partition/pause window (+ settle),
//                    and not both until the end (that is a duplicate)
//   overlap_quorum   two members ran one id at once in quorum mode (never allowed)
//   orphan           a process child saw its member die and kept running (past ORPHAN_GRACE_MS,
//                    or to the end)
// A request that timed out or whose member vanished is undecided: afterwards the id may run once
// or not at all, never twice. A typed rejection (already_started, not_found) changes nothing.
// Crashes (kill -9) and graceful leaves never excuse an overlap: a dead member's children are dead.

/** Rejections that prove a request changed nothing. */
export const DEFINITE_REJECTIONS = new Set(['already_started', 'not_found', 'invalid_spec']);

/** A process child that saw its member die may run this long before it exits (its IPC 'disconnect' comes after), ms. */
export const ORPHAN_GRACE_MS = 1000;

/** A worker or process child whose last beat is older than this at the end is gone, ms. */
export const BEAT_STALE_MS = 1000;

/**
 * Turns journal records into one interval per child instance: { id, node, iso, pid, host, start,
 * end, orphan }. `host` is the member process that ran it. An instance with no stop record still
 * runs (end Infinity) if `alive(pid)` holds and, unless inline, it beat within `staleMs` of
 * `readAt` (a worker can be terminated inside a live member); otherwise it ended at its member's
 * death (inline, worker, or a process child that never saw itself orphaned) or its last beat.
 */
export function intervals(records, { deaths = new Map(), alive = () => false, readAt = Infinity, staleMs = BEAT_STALE_MS } = {}) {
  const sorted = [...records].sort((a, b) => a.t - b.t);
  const open = new Map();
  const out = [];
  const close = (key, end) => { const iv = open.get(key); if (iv) { iv.end = end; open.delete(key); } };
  for (const r of sorted) {
    // The writer's time origin tells apart two processes (or worker threads) that had one pid.
    const key = `${r.pid}|${r.origin ?? ''}|${r.id}`;
    switch (r.ev) {
      case 'start': {
        close(key, r.t);
        const iv = { id: r.id, node: r.node, iso: r.iso, pid: r.pid, host: r.iso === 'process' ? r.ppid : r.pid, start: r.t, end: undefined, last: r.t, orphan: false };
        open.set(key, iv);
        out.push(iv);
        break;
      }
      case 'beat': { const iv = open.get(key); if (iv) iv.last = r.t; break; }
      case 'orphan': { const iv = open.get(key); if (iv) { iv.orphan = true; iv.orphanAt = r.t; iv.last = r.t; } break; }
      case 'stop': case 'exit': close(key, r.t); break;
      default: throw new Error(`unknown journal event ${r.ev}`);
    }
  }
  for (const iv of open.values()) {
    if (alive(iv.pid, iv.start) && (iv.iso === 'inline' || iv.last >= readAt - staleMs)) { iv.end = Infinity; continue; }
    // It died with its member if it was alive (beating) until then; a worker or process child
    // that stopped beating long before its member died was killed on its own.
    const hostDeath = deathOf(deaths, iv.host, iv.start);
    const withHost = !iv.orphan && hostDeath !== undefined && hostDeath >= iv.last && (iv.iso === 'inline' || hostDeath - iv.last <= staleMs);
    iv.end = withHost ? hostDeath : iv.last;
  }
  return out;
}

/**
 * When the member process `pid` that ran an instance started at `at` died: `deaths` is a Map of
 * pid → exit time, or a list of member lives { pid, from, to } (a pid may come back as another
 * member later in a long run).
 */
function deathOf(deaths, pid, at) {
  if (deaths instanceof Map) return deaths.get(pid);
  let best;
  for (const l of deaths) if (l.pid === pid && l.from <= at && (best === undefined || l.from > best.from)) best = l;
  return best?.to;
}

/** Union of [from, to + settleMs] windows, sorted and merged. */
export function excuseWindows(faults, settleMs) {
  const ws = faults.map((f) => [f.from, f.to + settleMs]).sort((a, b) => a[0] - b[0]);
  const out = [];
  for (const w of ws) {
    const last = out[out.length - 1];
    if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
    else out.push([...w]);
  }
  return out;
}

/**
 * The id's expected state after its requests: 'running', 'stopped', 'either' or 'unknown'.
 * Acknowledged requests are linearizable: the end state is that of an acknowledged request no
 * other acknowledged request strictly follows in real time (sent after it was answered). Two that
 * overlap may take effect in either order (a terminate may remove a start sent while it waited,
 * or lose to it), so when such last requests disagree, either state is right. A request that
 * timed out or whose member vanished, sent after every acknowledged one, leaves it unknown.
 */
export function expectedState(requests) {
  const ok = requests.filter((q) => q.outcome === 'ok');
  const lastSent = ok.reduce((m, q) => Math.max(m, q.sent), -Infinity);
  if (requests.some((q) => q.outcome === 'ambiguous' && q.sent > lastSent)) return 'unknown';
  if (ok.length === 0) return 'stopped';
  const last = ok.filter((q) => !ok.some((p) => p.sent > q.answered));
  const states = new Set(last.map((q) => (q.op === 'start' ? 'running' : 'stopped')));
  return states.size > 1 ? 'either' : [...states][0];
}

/**
 * Checks one run. `readAt` is when the end state was read (after convergence); `faults` are the
 * windows in which overlap is allowed in available mode (pauses, link faults: { kind, from, to }).
 * Returns { violations: [{ kind, id, detail }], intervals }.
 */
export function check({ records, requests, faults = [], deaths, alive, readAt, quorum = false, settleMs = 0, slackMs = 1, staleMs = BEAT_STALE_MS, learnMs = 0, orphanGraceMs = ORPHAN_GRACE_MS }) {
  const ivs = intervals(records, { deaths, alive, readAt, staleMs });
  const violations = [];
  const add = (kind, id, detail) => violations.push({ kind, id, detail });
  const byId = new Map();
  for (const iv of ivs) byId.set(iv.id, [...(byId.get(iv.id) ?? []), iv]);
  const reqById = new Map();
  for (const q of requests) reqById.set(q.id, [...(reqById.get(q.id) ?? []), q]);

  // A child that saw its parent gone may beat once before its own 'disconnect' handler ends it
  // (a loaded machine runs timers before I/O): an orphan is one that kept running past the grace.
  for (const iv of ivs) {
    if (iv.orphan && (iv.end === Infinity || iv.last - iv.orphanAt > orphanGraceMs)) add('orphan', iv.id, `pid ${iv.pid} outlived member pid ${iv.host} (${iv.node})`);
  }

  const excuse = quorum ? [] : excuseWindows(faults, settleMs);
  const excused = (lo, hi) => excuse.some(([f, t]) => lo >= f && hi <= t);
  for (const [id, list] of byId) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i], b = list[j];
        if (a.host === b.host || a.orphan || b.orphan) continue;
        const lo = Math.max(a.start, b.start), hi = Math.min(a.end, b.end);
        if (hi - lo <= slackMs) continue;
        if (quorum) add('overlap_quorum', id, `${overlapText(a, b, lo, hi)}${pausedAround(faults, a, b, lo, hi)}`);
        // still both running at the end: reported once, as a duplicate
        else if (hi <= readAt && !excused(lo, hi)) add('overlap_planned', id, `${overlapText(a, b, lo, hi)}${nearest(excuse, lo, hi)}`);
      }
    }
  }

  const ids = new Set([...byId.keys(), ...reqById.keys()]);
  for (const id of ids) {
    const running = (byId.get(id) ?? []).filter((iv) => iv.end > readAt);
    const state = expectedState(reqById.get(id) ?? []);
    const where = running.map((iv) => `${iv.node}/${iv.iso}/pid ${iv.pid}`).join(', ');
    if (running.length > 1) add('duplicate', id, `runs ${running.length} times: ${where}`);
    else if (state === 'running' && running.length === 0) add('lost', id, 'acknowledged start, runs nowhere');
    else if (state === 'stopped' && running.length === 1) add('not_stopped', id, `${reqById.has(id) ? 'acknowledged terminate' : 'never started'}, still runs on ${where}`);
  }

  for (const [id, qs] of reqById) {
    const sorted = [...qs].sort((a, b) => a.sent - b.sent);
    for (let i = 0; i < sorted.length; i++) {
      const t = sorted[i];
      if (t.op !== 'terminate' || t.outcome !== 'ok') continue;
      // A start overlapping the terminate in real time may win: strict only when every start
      // sent before the terminate was answered before the terminate was sent.
      if (sorted.some((q) => q.op === 'start' && q.outcome !== 'rejected' && q.sent < t.answered && !(q.answered < t.sent))) continue;
      const next = sorted.slice(i + 1).find((q) => q.op === 'start');
      const until = next ? next.sent : Infinity;
      const knew = (iv) => (t.pid !== undefined && iv.host === t.pid) || (iv.start > t.answered + learnMs && !excused(iv.start, iv.start));
      const late = (byId.get(id) ?? []).find((iv) => iv.start > t.answered + slackMs && iv.start < until && knew(iv));
      if (late) {
        const ran = late.end === Infinity ? 'still running' : `ran ${Math.round(late.end - late.start)} ms`;
        add('terminate_undone', id, `started on ${late.node} ${Math.round(late.start - t.answered)} ms after the terminate was acknowledged by ${t.member}, ${ran}`);
      }
    }
  }
  return { violations, intervals: ivs };
}

/** Whether one side was SIGSTOPped during the overlap (a pause longer than the bounds excuses nothing, but says why). */
function pausedAround(faults, a, b, lo, hi) {
  const p = faults.find((f) => f.kind === 'pause' && (f.pid === a.host || f.pid === b.host) && f.from < hi && f.to > lo);
  return p ? `; pid ${p.pid} was SIGSTOPped for ${Math.round(p.to - p.from)} ms meanwhile` : '';
}

/** Where the overlap began relative to the last excuse window that opened before it. */
function nearest(excuse, lo, hi) {
  const w = excuse.filter(([f]) => f <= lo).pop();
  if (!w) return '; no fault window before it';
  return lo < w[1] ? `; began inside a fault window (with settle) but outlasted it by ${Math.round(hi - w[1])} ms` : `; began ${Math.round(lo - w[1])} ms after the last fault window (with settle) closed`;
}

function overlapText(a, b, lo, hi) {
  const len = hi === Infinity ? 'until the end' : `${Math.round(hi - lo)} ms`;
  return `${a.node}/${a.iso}/pid ${a.pid} and ${b.node}/${b.iso}/pid ${b.pid} both ran it, ${len}`;
}

/** Counts violations by kind, e.g. { lost: 2, duplicate: 1 }. */
export function countByKind(violations) {
  const out = {};
  for (const v of violations) out[v.kind] = (out[v.kind] ?? 0) + 1;
  return out;
}
