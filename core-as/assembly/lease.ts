// Quorum as a lease (`partition: { quorum: N }` or `'majority'`; DESIGN.md "Handover, overlap
// and partitions").
//
// - In majority mode N is a majority of the node's roster (roster.ts: every name it has known in
//   this scope, crashed or silent ones included, minus those that left gracefully), only members
//   of the roster count, and a node not yet admitted to its own roster holds no quorum. The rest
//   of this file applies unchanged with that N.
// - Once per step, after the step's frames (node.ts endStep), a node counts its FRESH members:
//   itself and every member heard within failureTimeoutMs on a link that is still open. Fewer
//   than N: it holds no quorum, stops its children and starts none, and acknowledges nothing.
// - A member lost without a BYE may still run children until it has seen its own quorum go and
//   stopped them: that is at most takeoverWaitMs after the last frame we had from it. A node
//   with quorum starts nothing new until then (`takeoverAt`); children it runs keep running.
//   Members that link to it later are told that wait and keep it too (lease-wait.ts).
// - A closed link makes its member stale at once: a member that takes us for dead closes the
//   link, and if it still reached us over a one-way path we would count it fresh for ever while
//   it takes our children over. (A one-way path that also swallows the close is outside the
//   bounds: see docs/ARCHITECTURE-faults-notes.md.)
// The bounds this relies on are the constants of limits.ts "failure detection and the quorum
// lease"; the notes for the lead state them.

import { Node } from './node';
import { Member } from './model';
import { namedButUnlinked, namedWindowMs } from './dials';
import { majorityMode, rosterCounts, rosterHasSelf, rosterQuorum, rosterAdmit } from './roster';
import { leaseWaitGrew } from './lease-wait';
import {
  STOP_KILL_GRACE_MS, LEASE_DELIVERY_MARGIN_MS, LEASE_CLOCK_RATE_PERMILLE, PAUSE_CATCH_UP_MS, PAUSE_CATCH_UPS_MAX,
} from './limits';

/** This node may start children and acknowledge ops (always, in 'available' mode). */
export function quorumOk(n: Node): bool {
  // A node whose credential expired runs nothing: the cluster has closed it out.
  if (n.ownCredentialExpired) return false;
  return n.cfg.quorum == 0 || n.quorumHeld;
}

/**
 * Quorum mode, catching up after a pause (node.ts judgeSilence puts the judgement of silence off
 * by PAUSE_CATCH_UP_MS so that the frames queued meanwhile are read first): the quorum judged
 * before the pause stands for now, so the children keep running, but nothing starts, restarts
 * or is acknowledged on it. A woken host runs its timers before the I/O that waited: a lease or
 * a name window that ran out during the pause would otherwise start children a member that this
 * one no longer reaches still runs (docs/SIMULATOR.md bug 27).
 */
export function quorumProvisional(n: Node): bool { return n.cfg.quorum != 0 && n.silenceDeferred; }

/** The quorum is held and judged on what came in since any pause: starts and acknowledgements may go on. */
export function quorumSettled(n: Node): bool { return quorumOk(n) && !quorumProvisional(n); }

/**
 * One evaluation per step: itself plus the fresh members against N (in majority mode, only
 * members of the roster count, and N is a majority of it). Returns whether it changed.
 */
export function evaluateQuorum(n: Node): bool {
  if (n.cfg.quorum == 0) return false;
  const majority = majorityMode(n);
  let fresh = 1;
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.link != 0 && n.now - m.lastHeard <= n.cfg.failureTimeoutMs && (!majority || rosterCounts(n, m))) fresh++;
  }
  const held = majority ? rosterHasSelf(n) && fresh >= rosterQuorum(n) : fresh >= n.cfg.quorum;
  const changed = held != n.quorumHeld;
  n.quorumHeld = held;
  if (majority) rosterAdmit(n);
  return changed;
}

/**
 * How long after the last frame from a member it may still run a child: its silence makes it
 * lose its quorum (failureTimeoutMs, judged up to PAUSE_CATCH_UPS_MAX catch-ups after a pause),
 * one heartbeat of ours it may have missed (`heartbeatMs`: at the rate it asked for,
 * heartbeats.ts), then its children stop (the longest shutdownMs of any desired child, then the
 * kill), all stretched by the clock-rate bound.
 */
export function takeoverWaitMs(n: Node, heartbeatMs: i64): i64 {
  const base = n.cfg.failureTimeoutMs + heartbeatMs + PAUSE_CATCH_UP_MS * PAUSE_CATCH_UPS_MAX + maxShutdownMs(n)
    + STOP_KILL_GRACE_MS + LEASE_DELIVERY_MARGIN_MS;
  return base + (base * LEASE_CLOCK_RATE_PERMILLE + 999) / 1000;
}

/** The longest shutdownMs of any desired child (any of them may be one the lost member runs). */
function maxShutdownMs(n: Node): i64 {
  let max: i64 = 0;
  const all = n.desired.store.values();
  for (let i = 0; i < all.length; i++) {
    const es = all[i];
    for (let j = 0; j < es.length; j++) if (<i64>es[j].spec.shutdownMs > max) max = <i64>es[j].spec.shutdownMs;
  }
  return max;
}

/** A member is lost (not by BYE): in quorum mode, nothing new starts here until its lease is over. */
export function leaseLost(n: Node, m: Member, reason: string): void {
  if (n.cfg.quorum == 0 || reason == 'left') return;
  const at = m.lastHeard + takeoverWaitMs(n, max(n.cfg.heartbeatMs, m.heartbeatEveryMs));
  if (at <= n.takeoverAt) return;
  n.takeoverAt = at;
  n.takeoverPending = true;
  leaseWaitGrew(n);
}

/**
 * New starts are allowed: no lost member may still run a child, and (quorum mode) every node a
 * member of ours named lately is a connected member of ours too. Claims travel only over direct
 * links, so two quorums that overlap without a link between two of their members would each
 * start what the other runs (a heal, a join or a flap can leave the mesh incomplete).
 */
export function takeoverAllowed(n: Node): bool {
  return n.now >= n.takeoverAt && (n.cfg.quorum == 0 || (!n.silenceDeferred && meshComplete(n)));
}

/**
 * No named node is missing. When one is, the time it stops counting is kept (meshHeldUntil), so
 * that the starts it held back are looked at again then: computed from the dials alone, that
 * time would vanish at the very tick it is due (the node no longer counts as missing), and the
 * held-back starts would wait for an unrelated change, maybe for ever.
 */
function meshComplete(n: Node): bool {
  const ds = n.dials.values();
  let complete = true;
  for (let i = 0; i < ds.length; i++) {
    if (!namedButUnlinked(n, ds[i])) continue;
    complete = false;
    const t = ds[i].namedAt + namedWindowMs(n) + 1;
    if (t > n.meshHeldUntil) n.meshHeldUntil = t;
  }
  return complete;
}

/** The next time starts may become allowed: a lease ends, a named node stops counting, or a catch-up after a pause ends. */
export function takeoverDue(n: Node): i64 {
  let at = n.takeoverPending ? n.takeoverAt : i64.MAX_VALUE;
  if (n.meshHeldUntil > 0 && n.meshHeldUntil < at) at = n.meshHeldUntil;
  if (quorumProvisional(n) && n.silenceJudgedFrom < at) at = n.silenceJudgedFrom;
  return at;
}

/** A lease is over or a named node no longer counts: everything is looked at again. */
export function takeoverFire(n: Node): void {
  if (n.takeoverPending && n.now >= n.takeoverAt) n.takeoverPending = false;
  if (n.meshHeldUntil > 0 && n.now >= n.meshHeldUntil) n.meshHeldUntil = 0;
  n.allDirty = true;
}
