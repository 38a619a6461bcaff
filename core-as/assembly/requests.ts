// API requests: startChild, terminateChild and leave, and the replies they wait for.
//
// A start or terminate is a local CRDT op; its dot goes out in this step's DELTA. A start
// waits until a peer acknowledges that dot: then two members hold it. A terminate waits until
// every member it counts as up covers its removal (terminates.ts), under the same rules. Alone at the end
// of a step in 'available' mode, a node acknowledges what waits (the API documents that such an
// ack survives only as long as this node), and so does a node in 'majority' mode whose roster is
// itself alone (it is the whole cluster); in quorum mode it never does, and an ACK counts only
// while the node holds its quorum, as judged at the end of the step the ACK came in. No ACK counts
// from a member known to be leaving (leave-handover.ts). An identical repeated start is a new op
// of the same spec and waits like the first. Wait mode 'ack' replies then; 'done' then waits for the child to run
// somewhere (start) or to have stopped everywhere and its removal to be covered by every member
// counted then (terminate, terminates.ts stopCovered), checked whenever reconcile looks at the child.

import { Reader } from './io';
import { MSG_LEAVING, MSG_BYE } from './codec';
import {
  OE_LEFT, R_OK, R_INVALID_SPEC, R_NOT_FOUND, R_ALREADY_STARTED, R_NOT_RUNNING, R_CHILD_FAILED, WAIT_ACK,
} from './boundary';
import { NAME_BYTES_MAX, WIRE_ITEMS_MAX } from './limits';
import { Node } from './node';
import { Member, Waiter } from './model';
import { readSpecFromApi } from './spec';
import { dotKey, dotCounterFits } from './crdt';
import { fxReply, fxEvent } from './effects';
import { membershipChanged } from './membership';
import { quorumOk, quorumSettled } from './lease';
import { aloneInRoster } from './roster';
import { claimedByOther, runningSomewhere } from './claims';
import { awaitCover, takeCoveredTerminates, stopCovered } from './terminates';
import { closeHandshakesLeft } from './handshake';
import { beginHandover, handoverDone, reportUnconfirmed, takeHandoverAcks } from './leave-handover';

// What reconcile found for a child whose waiters it checks.
export const WANT_GONE: i32 = 0;     // not desired (any more)
export const WANT_DESIRED: i32 = 1;  // desired
export const WANT_FAILED: i32 = 2;   // desired, but failed (restart intensity exceeded)

export function startChild(n: Node, req: u32, wait: u8, r: Reader): void {
  const res = readSpecFromApi(r);
  if (!n.initialised || n.leaving || n.left) { fxReply(req, R_NOT_RUNNING, '', 'node is not running'); return; }
  const spec = res.spec;
  if (spec == null) { fxReply(req, R_INVALID_SPEC, res.field, res.message); return; }
  const e = n.desired.get(spec.id);
  if (e != null && !e.spec.failed) {
    if (!e.spec.sameAs(spec)) {
      fxReply(req, R_ALREADY_STARTED, 'id', 'child ' + spec.id + ' already exists with a different spec');
      return;
    }
    // Same spec: nothing changes here, but the repeat is added again and waits for its own
    // acknowledgement. Answering at once would acknowledge what one member may hold alone (the
    // first may still wait for its ACK), and a terminate concurrent with the repeat (one that
    // had not seen it) would remove what was just acknowledged.
  }
  // Local ops write straight into the delta flushed at the end of the step.
  const dot = n.desired.add(spec, n.pendingDelta);
  n.dirty.add(spec.id);
  awaitAck(n, dot, new Waiter(req, spec.id, true, wait));
}

export function terminateChild(n: Node, req: u32, wait: u8, id: string): void {
  if (!n.initialised || n.left) { fxReply(req, R_NOT_RUNNING, '', 'node is not running'); return; }
  if (!n.desired.store.has(id)) {
    fxReply(req, R_NOT_FOUND, 'id', 'no child with id ' + id);
    return;
  }
  const dot = n.desired.remove(id, n.pendingDelta);
  n.dirty.add(id);
  awaitCover(n, dot, new Waiter(req, id, false, wait));
}

/** `waitMs`: how long the BYE may wait for the entries ACKed lately to be held by members that stay (leave-handover.ts). */
export function leave(n: Node, req: u32, waitMs: u32): void {
  if (!n.initialised || n.left) { fxReply(req, R_OK, '', ''); return; }
  n.leaveReqs.push(req);
  if (n.leaving) return;
  n.leaving = true;
  n.outbox.emptyToAll(n.members, MSG_LEAVING);
  beginHandover(n, waitMs);
  membershipChanged(n);
}

/**
 * End of step: once leaving, nothing runs or is unannounced here, and the members that stay hold
 * what this node ACKed lately (or the wait for it is over), say BYE and reply.
 */
export function checkLeft(n: Node): void {
  if (!n.leaving || n.left || n.locals.size > 0 || n.claims.changes.length > 0 || !handoverDone(n)) return;
  reportUnconfirmed(n);
  n.outbox.emptyToAll(n.members, MSG_BYE);
  n.left = true;
  closeHandshakesLeft(n);
  for (let i = 0; i < n.leaveReqs.length; i++) fxReply(n.leaveReqs[i], R_OK, '', '');
  n.leaveReqs = [];
  fxEvent(OE_LEFT, n.name, '', '', '', <f64>n.inc, 0);
}

/** A local op's dot waits for a peer's ACK (or for the end of the step, alone: settleAcks). */
function awaitAck(n: Node, dot: u64, wt: Waiter): void {
  wt.since = n.now;
  wt.dot = dot;
  n.ackWaits.set(dot, wt);
  n.pendingDelta.acks.push(dot);
}

/**
 * ACK: dots a peer now holds; ours among them answer their requests. Read whole first (nothing
 * kept), then applied: a frame that does not decode acknowledges nothing.
 */
export function onAck(n: Node, m: Member, r: Reader): bool {
  const start = r.pos;
  const count = r.count(WIRE_ITEMS_MAX, 20);
  for (let i = 0; i < count; i++) { r.skipStr(NAME_BYTES_MAX); r.u64(); r.u64(); }
  if (!r.ok || r.remaining != 0) return false;
  r.pos = start;
  takeHandoverAcks(n, m, r);
  // A member that leaves is no holder an acknowledgement may rest on (leave-handover.ts): its
  // ACK answers nothing, and the op waits for a member that stays.
  if (m.leaving) return true;
  r.pos = start;
  r.count(WIRE_ITEMS_MAX, 20);
  for (let i = 0; i < count; i++) {
    // Acks of a 100k burst come by the hundred thousand: compare the name in place.
    const mine = r.strIs(NAME_BYTES_MAX, n.nameUtf8);
    const inc = r.u64();
    const ctr = r.u64();
    // A counter that does not fit a dot was never one of ours.
    if (!mine || inc != n.inc || !dotCounterFits(ctr)) continue;
    const k = dotKey(n.desired.myRep, ctr);
    if (n.ackWaits.has(k)) {
      const wt = n.ackWaits.get(k);
      n.ackWaits.delete(k);
      // In quorum mode only the quorum judged at the end of this step counts: one judged at the
      // last step may still count a member whose silence ran out since (settleAcks).
      if (n.cfg.quorum == 0 && quorumOk(n)) acked(n, wt);
      else { wt.ackedBy = m; n.ackedAwaitingQuorum.push(wt); }
    }
  }
  return true;
}

/** A change is held by a second member (or we are alone): reply, or wait for running/stopped. */
function acked(n: Node, wt: Waiter): void {
  if (wt.wait == WAIT_ACK) { fxReply(wt.req, R_OK, '', ''); return; }
  if (!n.doneWaits.has(wt.id)) n.doneWaits.set(wt.id, []);
  n.doneWaits.get(wt.id).push(wt);
  n.dirty.add(wt.id);
}

/**
 * End of step (after the quorum is evaluated): ops a peer holds are acknowledged once this node
 * holds its quorum, if that peer is still a member; alone at the end of a step in 'available' mode or alone in its roster (not merely between a
 * member going and another coming in one step), every waiting op is acknowledged.
 */
export function settleAcks(n: Node): void {
  if (n.ackedAwaitingQuorum.length > 0 && quorumSettled(n)) {
    const ws = n.ackedAwaitingQuorum;
    n.ackedAwaitingQuorum = [];
    for (let i = 0; i < ws.length; i++) {
      const wt = ws[i];
      // Its holder was lost (while the quorum was, or in this step), or leaves: only this node
      // holds the op, or soon will. It waits for another ACK (asked for at once) instead of
      // being acknowledged on a lost copy.
      const by = wt.ackedBy;
      if (by != null && (!n.members.is(by) || by.leaving)) {
        wt.ackedBy = null;
        wt.since = n.now;
        n.ackWaits.set(wt.dot, wt);
        n.pendingDelta.acks.push(wt.dot);
        continue;
      }
      acked(n, wt);
    }
  }
  const alone = (n.cfg.quorum == 0 || aloneInRoster(n)) && n.members.count == 0;
  if (!alone || n.ackWaits.size == 0) {
    if (n.termWaits.size == 0) return;
    const ts = new Array<Waiter>();
    takeCoveredTerminates(n, ts);
    for (let i = 0; i < ts.length; i++) acked(n, ts[i]);
    return;
  }
  const vs = n.ackWaits.values();
  n.ackWaits.clear();
  // Alone, starts and terminates are answered together, in the order they were asked.
  const starts = vs.length;
  takeCoveredTerminates(n, vs);
  if (vs.length > starts) vs.sort((a, b) => (a.req < b.req ? -1 : a.req > b.req ? 1 : 0));
  for (let i = 0; i < vs.length; i++) acked(n, vs[i]);
}

/** Answers the 'done' waiters of a child that are done, given what reconcile found (WANT_*). */
export function checkWaiters(n: Node, id: string, want: i32): void {
  if (n.doneWaits.size == 0 || !n.doneWaits.has(id)) return;
  const ws = n.doneWaits.get(id);
  const keep = new Array<Waiter>();
  for (let i = 0; i < ws.length; i++) {
    const wt = ws[i];
    if (wt.start) {
      if (want == WANT_FAILED) fxReply(wt.req, R_CHILD_FAILED, 'id', 'child ' + id + ' failed: restart intensity exceeded');
      else if (want == WANT_GONE) fxReply(wt.req, R_NOT_FOUND, 'id', 'child ' + id + ' is no longer desired');
      else if (runningSomewhere(n, id)) fxReply(wt.req, R_OK, '', '');
      else keep.push(wt);
    } else {
      if (!n.locals.has(id) && !claimedByOther(n, id) && stopCovered(n, wt)) fxReply(wt.req, R_OK, '', '');
      else keep.push(wt);
    }
  }
  if (keep.length == 0) n.doneWaits.delete(id);
  else n.doneWaits.set(id, keep);
}
