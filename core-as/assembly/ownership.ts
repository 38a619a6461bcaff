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
import { quorumOk, takeoverAllowed } from './lease';
import { claimedByOther } from './claims';
import { startLocal, stopLocal } from './supervision';
import { restrictedOwner } from './cordon';
import { stopOrHandOff, stateReconciled } from './handoff';
import { checkWaiters, WANT_GONE, WANT_FAILED, WANT_DESIRED } from './requests';

/** Eligible owners for a kind: live, not leaving, advertising it. Cached until membership changes. */
export function candidates(n: Node, kind: string): CandidateSet {
  const at = n.candCache.find(kind);
  if (at >= 0) return n.candCache.valueAt(at);
  const set = new CandidateSet(freshCandidates(n, kind));
  n.candCache.set(kind, set);
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
  const e = n.desired.get(id);
  const lat = n.locals.find(id);
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
      stopOrHandOff(n, c, n.leaving || n.left ? WHY_LEAVING : !quorum ? WHY_QUORUM : WHY_MOVED);
    } else if (!c.spec.sameAs(spec)) {
      // Terminated and started again with another spec while this instance ran (e.g. across
      // a partition): replace it.
      stopLocal(n, c, WHY_TERMINATED);
    } else if (c.state == S_RESTARTING && n.now >= c.nextStartAt) {
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
  if (n.allDirty) {
    // Everything is looked at again; the budgeted loop below works through it.
    n.allDirty = false;
    const ids = n.desired.store.keys();
    for (let i = 0; i < ids.length; i++) n.dirty.add(ids[i]);
    const lids = n.locals.keys();
    for (let i = 0; i < lids.length; i++) n.dirty.add(lids[i]);
    const wids = n.doneWaits.keys();
    for (let i = 0; i < wids.length; i++) n.dirty.add(wids[i]);
  }
  // Work through the dirty ids in order (reconcile may dirty more: releases) until none is
  // left or this step has started or stopped RECONCILE_BUDGET children; the rest waits for
  // the next step, which the wake asks for at once. The guard bounds a step even if some id
  // kept dirtying itself without an action; reaching it is counted (an invariant: never).
  let guard = n.dirty.size * 2 + RECONCILE_GUARD_SLACK;
  while (n.dirty.size > 0 && n.actions < RECONCILE_BUDGET) {
    if (guard-- <= 0) { n.guardStops++; break; }
    reconcile(n, n.dirty.take(), ready);
  }
}
