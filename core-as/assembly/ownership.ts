// Ownership: who should run each desired child, and reconcile, which makes this node do its part.
//
// The owner of a child is chosen by weighted rendezvous placement (placement.ts) among the
// eligible candidates for its kind: live members (and us) that advertise the kind and are not
// leaving; a cordoned or draining winner keeps only the children it claims (cordon.ts). Every node computes the same owner from the same membership; while views differ, the
// claims keep two nodes from running one child: a node starts a child only when no other live
// member claims it, so a move is stop-there, release, then start-here.

import { Node } from './node';
import { LocalChild, S_RESTARTING, WHY_MOVED, WHY_TERMINATED, WHY_QUORUM, WHY_LEAVING } from './model';
import { BUG_START_WITHOUT_RELEASE } from './boundary';
import { RECONCILE_BUDGET, RECONCILE_GUARD_SLACK } from './limits';
import { planted } from './flags';
import { Candidate, CandidateSet, placeIn } from './placement';
import { xxh64String } from './hash';
import { quorumOk, quorumProvisional, takeoverAllowed } from './lease';
import { claimedByOther } from './claims';
import { startLocal, stopLocal } from './supervision';
import { restrictedOwner } from './cordon';
import { stopOrHandOff, stateReconciled } from './handoff';
import { checkWaiters, WANT_GONE, WANT_FAILED, WANT_DESIRED } from './requests';
import { StrMap, strHash } from './strmap';
import { Entry } from './crdt';

/** Eligible owners for a kind: live, not leaving, advertising it. Cached until membership changes. */
export function candidates(n: Node, kind: string): CandidateSet {
  // The last kind asked for, remembered while the cache is unchanged: a walk over thousands of
  // children of one kind then compares a short string per child instead of hashing it.
  const last = n.candLast;
  if (last != null && n.candLastGeneration == n.candCache.generation && n.candLastKind == kind) return last;
  const at = n.candCache.find(kind);
  let set: CandidateSet;
  if (at >= 0) set = n.candCache.valueAt(at);
  else { set = new CandidateSet(freshCandidates(n, kind)); n.candCache.set(kind, set); }
  n.candLast = set;
  n.candLastKind = kind;
  n.candLastGeneration = n.candCache.generation;
  return set;
}

/** The candidates for a kind computed from membership now (the cache holds these). */
export function freshCandidates(n: Node, kind: string): Array<Candidate> {
  const list = new Array<Candidate>();
  if (!n.leaving && !n.left && n.kindSet.has(kind)) list.push(selfCandidate(n));
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (!m.leaving && m.kindSet.has(kind)) list.push(m.cand);
  }
  return list;
}

export function selfCandidate(n: Node): Candidate {
  let c = n.selfCand;
  if (c == null) { c = new Candidate(n.name, n.cfg.weight); n.selfCand = c; }
  return c;
}

/** The owner of a child in this node's view, or '' when no live member can run its kind. */
export function ownerOf(n: Node, id: string, kind: string): string {
  const set = candidates(n, kind);
  const h = xxh64String(id, 0);
  const i = placeIn(h, set);
  if (i < 0) return '';
  const w = set.cands[i];
  // A cordoned or draining winner keeps only what it claims (cordon.ts).
  return w.restricted ? restrictedOwner(n, id, h, set, w) : w.name;
}

/**
 * One child: what this node should do about it, as a case table.
 *
 *   desired?          mine?  here               claimed elsewhere?  then
 *   no, or failed     -      an instance        -                   stop it (terminated)
 *   yes               no     an instance        -                   stop it (moved, quorum lost, leaving)
 *   yes, other spec   yes    an instance        -                   stop it (terminated); the new spec
 *                                                                    starts once it has stopped
 *   yes               yes    restarting, due    -                   start it again
 *   yes               yes    nothing            no (and ready)      start it
 *   yes               yes    nothing            yes                 wait for the release
 *
 * "Mine" needs quorum and that we are not leaving; a start also waits until no lost member may
 * still run anything (lease.ts takeoverAt, quorum mode). Waiters on the child are checked last.
 */
function reconcile(n: Node, id: string, ready: bool): void {
  const h = strHash(id);
  const at = n.desired.store.findHashed(id, h);
  reconcileEntry(n, id, h, at < 0 ? null : n.desired.effectiveAt(at), ready);
}

/** reconcile() of an id whose strHash `h` and effective desired entry `e` (null: none) are known. */
function reconcileEntry(n: Node, id: string, h: u32, e: Entry | null, ready: bool): void {
  const lat = n.locals.findHashed(id, h);
  const c: LocalChild | null = lat >= 0 ? n.locals.valueAt(lat) : null;
  if (e == null || e.spec.failed) {
    if (c != null) stopLocal(n, c, WHY_TERMINATED);
    stateReconciled(n, id, false, c);
    checkWaiters(n, id, e == null ? WANT_GONE : WANT_FAILED);
    return;
  }
  const spec = e.spec;
  const quorum = quorumOk(n);
  const mine = !n.leaving && !n.left && quorum && ownerOf(n, id, spec.kind) == n.name;
  if (c != null) {
    if (!mine) {
      // A lost quorum stops at once, also on a leaving node: a handoff would keep the child
      // running for as long as its state takes, past the lease the others wait out.
      stopOrHandOff(n, c, !quorum ? WHY_QUORUM : n.leaving || n.left ? WHY_LEAVING : WHY_MOVED);
    } else if (!c.spec.sameAs(spec)) {
      // Terminated and started again with another spec while this instance ran (e.g. across
      // a partition): replace it.
      stopLocal(n, c, WHY_TERMINATED);
    } else if (c.state == S_RESTARTING && n.now >= c.nextStartAt && !quorumProvisional(n)) {
      startLocal(n, id, spec, c);
    }
  } else if (mine && ready && takeoverAllowed(n) && (!claimedByOther(n, id) || planted(n.bugs, BUG_START_WITHOUT_RELEASE))) {
    startLocal(n, id, spec, null);
  }
  stateReconciled(n, id, true, c);
  checkWaiters(n, id, WANT_DESIRED);
}

/** End of step: reconcile the dirty ids, within this step's budget of starts and stops. */
export function reconcileAll(n: Node): void {
  const ready = n.ready();
  if (ready && !n.wasReady) n.allDirty = true;
  n.wasReady = ready;
  if (ready) n.everReady = true;
  n.actions = 0;
  const store = n.desired.store;
  if (n.allDirty) {
    // Everything is looked at again: the desired ids by a walk of their table (sweep.ts), the
    // local children and waiters that are no desired id through the queue.
    n.allDirty = false;
    n.sweep.start(store);
    queueUndesired(n, n.locals);
    queueUndesired(n, n.doneWaits);
  }
  // Work through the walk, then the dirty ids in order (reconcile may dirty more: releases),
  // until none is left or this step has started or stopped RECONCILE_BUDGET children; the rest
  // waits for the next step, which the wake asks for at once. An id the queue holds is left to
  // the queue. The guard bounds a step even if some id kept dirtying itself without an action;
  // reaching it is counted (an invariant: never).
  while (n.actions < RECONCILE_BUDGET) {
    const s = n.sweep.next(store);
    if (s < 0) break;
    const id = store.keyAt(s), h = store.hashAt(s);
    if (!n.dirty.hasHashed(id, h)) reconcileEntry(n, id, h, n.desired.effectiveAt(s), ready);
  }
  let guard = n.dirty.size * 2 + RECONCILE_GUARD_SLACK;
  while (n.dirty.size > 0 && n.actions < RECONCILE_BUDGET) {
    if (guard-- <= 0) { n.guardStops++; break; }
    reconcile(n, n.dirty.take(), ready);
  }
}

/** Queues the ids of `table` that are no desired id (the walk covers those). */
function queueUndesired<V>(n: Node, table: StrMap<V>): void {
  const store = n.desired.store;
  for (let i = 0, end = table.slots; i < end; i++) {
    const h = table.hashAt(i);
    if (h < 2) continue;
    const id = table.keyAt(i);
    if (store.findHashed(id, h) < 0) n.dirty.add(id);
  }
}

/** Reconcile has work left for a later step: ids queued, or a walk under way. */
export function reconcilePending(n: Node): bool { return n.dirty.size > 0 || n.sweep.active; }
