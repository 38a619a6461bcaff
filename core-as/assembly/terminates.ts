// A terminate's acknowledgement: every member this node counts as up holds the removal, and no
// member holds an add of the id that the removal does not cover.
//
// An observed-remove only removes the adds its node had seen. A start acknowledged elsewhere
// (its node plus one peer hold it) that had not reached the terminating node yet would survive
// the removal and win again under add-wins, although in real time it came first (DESIGN.md,
// invariant 3). So a terminate does not wait for one peer's ACK but for every member's COVER:
//
//   terminator  DELTA (the removal), then TERM_CHECK (our replica; per terminate the id and
//               the remove's counter) to every member, on the same link, so the check arrives
//               after the removal; one frame per step for every terminate of the step.
//   member      per terminate whose remove dot it holds: in TERM_COVER, the counter and the
//               dots of the adds of the id it still holds; for one it lacks, a SYNC_REQ
//               (anti-entropy brings it) and the terminator asks again at the next sync.
//   terminator  a COVER naming adds it has not removed: while the request waits, the removal
//               is extended to those dots (they join its context, whether or not it ever held
//               their entries) with a new remove dot, and every member is asked again (its
//               own adds after the terminate had seen it: they stay). An empty COVER from every member it counts as up (members declared down no longer
//               count), under the quorum rules of requests.ts, acknowledges the terminate.
//   terminator  before it acknowledges, its own replica counts as a member's COVER: adds of the id
//               that reached it after the removal (from a member since declared down; alone, no
//               member is left to report them) extend the removal in the same way.
//   terminator  with wait 'done' the reply, not the acknowledgement, is what the caller sees, and
//               it comes only once the child has stopped: until then the wait stays open. A member
//               that comes up meanwhile (declared down, then back or linked again, with what it
//               got while apart) is asked like the others, adds of the id that reach this node
//               extend the removal, and the reply also waits until every member counted then
//               covered the current removal. Otherwise a member back with an add the removal does
//               not cover brings the child back after (or while) the reply says it stopped.
//               A member declared down meanwhile loses its COVERs of such a terminate: back, it
//               may hold adds it did not hold when it answered.
//
// Every start acknowledged before the terminate was asked is held by two members before the
// removal reaches them, so the first round's COVERs name it unless both are declared down. A
// member reports every add it holds when asked, also ones that reached it after the removal:
// such a start was issued before the terminate was answered, so removing it is linearizable
// (the two overlap in real time). Later rounds find only such concurrent starts; after
// TERMINATE_EXTENSIONS_MAX of them, a member's COVER counts as covering what it names.

import { Reader } from './io';
import { MSG_TERM_CHECK, MSG_TERM_COVER } from './codec';
import { ID_BYTES_MAX, NAME_BYTES_MAX, WIRE_ITEMS_MAX, DOT_REPLICAS_MAX, TERMINATE_EXTENSIONS_MAX } from './limits';
import { Node } from './node';
import { Member, Waiter } from './model';
import { dotKey, dotCtr, dotCounterFits } from './crdt';
import { quorumSettled } from './lease';
import { aloneInRoster } from './roster';
import { sendSyncReq } from './sync';
import { planted } from './flags';
import { BUG_TERMINATE_FIRST_COVER, WAIT_ACK } from './boundary';

/** A terminate request waiting for every member's COVER of its current removal. */
export class TermWait {
  /** Members (name#inc) whose COVER of this round named nothing uncovered. */
  covered: Set<string> = new Set();
  extensions: i32 = 0;
  /** This round's TERM_CHECK still has to go out (after the step's DELTA). */
  unsent: bool = true;
  /** The counter of the terminate's first remove dot: our adds after it came after the terminate. */
  firstCtr: u64;
  /** Acknowledged, but its request waits for the child to stop (wait 'done'): it still covers members that come back. */
  acked: bool = false;
  constructor(public wt: Waiter, public dot: u64) { this.firstCtr = dotCtr(dot); }
}

/** A terminate's remove dot waits for every member's COVER (terminateChild). */
export function awaitCover(n: Node, dot: u64, wt: Waiter): void {
  wt.since = n.now;
  n.termWaits.set(dotCtr(dot), new TermWait(wt, dot));
  n.termUnsent = true;
}

function memberKey(m: Member): string { return m.name + '#' + m.inc.toString(); }

/** TERM_CHECK of the waits `wanted` selects for `m` (none: nothing is written, false comes back). */
function writeChecks(n: Node, m: Member | null): bool {
  const ws = n.termWaits.values();
  let count = 0;
  for (let i = 0; i < ws.length; i++) if (wanted(ws[i], m)) count++;
  if (count == 0) return false;
  const w = n.outbox.frame(MSG_TERM_CHECK);
  w.u64(n.desired.replicas.list[n.desired.myRep].inc);
  w.u32(<u32>count);
  for (let i = 0; i < ws.length; i++) {
    if (!wanted(ws[i], m)) continue;
    w.str(ws[i].wt.id);
    w.u64(dotCtr(ws[i].dot));
  }
  return true;
}

/** For every member (m null): the rounds not sent yet; for member m: its rounds not covered. */
function wanted(tw: TermWait, m: Member | null): bool {
  return m == null ? tw.unsent : !tw.unsent && !tw.covered.has(memberKey(m));
}

/** End of step, after flushDelta: the checks of new rounds, behind their removal on every link. */
export function flushTermChecks(n: Node): void {
  if (!n.termUnsent) return;
  n.termUnsent = false;
  if (n.members.count > 0 && writeChecks(n, null)) n.outbox.toAll(n.members);
  const ws = n.termWaits.values();
  for (let i = 0; i < ws.length; i++) ws[i].unsent = false;
}

/** Every sync interval: ask again the members that have not covered (a lost removal, a new link). */
export function reaskTermChecks(n: Node): void {
  if (n.termWaits.size == 0) return;
  const ms = n.members.list;
  for (let j = 0; j < ms.length; j++) {
    const m = ms[j];
    if (m.link != 0 && writeChecks(n, m)) n.outbox.to(m.link);
  }
}

/** TERM_CHECK: per terminate whose remove we hold, the adds of its id we hold. Read whole first. */
export function onTermCheck(n: Node, m: Member, link: u32, r: Reader): bool {
  const inc = r.u64();
  const count = r.count(WIRE_ITEMS_MAX, 12);
  const ids = new Array<string>();
  const ctrs = new Array<u64>();
  for (let i = 0; i < count; i++) { ids.push(r.str(ID_BYTES_MAX)); ctrs.push(r.u64()); }
  if (!r.ok || r.remaining != 0) return false;
  const s = n.desired;
  const key = m.name + '#' + inc.toString();
  const rep = s.replicas.byKey.has(key) ? s.replicas.byKey.get(key) : -1;
  let held = 0;
  for (let i = 0; i < count; i++) if (holds(n, rep, ctrs[i])) held++;
  if (held < count) sendSyncReq(n, link);
  if (held == 0) return true;
  const w = n.outbox.frame(MSG_TERM_COVER);
  w.u32(<u32>held);
  for (let i = 0; i < count; i++) {
    if (!holds(n, rep, ctrs[i])) continue;
    w.u64(ctrs[i]);
    const at = s.store.find(ids[i]);
    if (at < 0) { w.u32(0); continue; }
    const es = s.store.valueAt(at);
    w.u32(<u32>es.length);
    for (let j = 0; j < es.length; j++) {
      const er = s.replicas.list[es[j].rep];
      w.str(er.name);
      w.u64(er.inc);
      w.u64(es[j].ctr);
    }
  }
  n.outbox.to(link);
  return true;
}

function holds(n: Node, rep: i32, ctr: u64): bool {
  return rep >= 0 && dotCounterFits(ctr) && n.desired.ctx.has(rep, ctr);
}

// A decoded TERM_COVER (reused: nothing of it is kept).
const coverCtrs = new Array<u64>();
const coverEnds = new Array<i32>();
const coverNames = new Array<string>();
const coverIncs = new Array<u64>();
const coverDots = new Array<u64>();

/** TERM_COVER: a member holds these rounds' removals, and these adds of their ids. Read whole first. */
export function onTermCover(n: Node, m: Member, r: Reader): bool {
  coverCtrs.length = 0; coverEnds.length = 0; coverNames.length = 0; coverIncs.length = 0; coverDots.length = 0;
  const count = r.count(WIRE_ITEMS_MAX, 12);
  for (let i = 0; i < count && r.ok; i++) {
    coverCtrs.push(r.u64());
    const k = r.count(WIRE_ITEMS_MAX, 20);
    for (let j = 0; j < k && r.ok; j++) { coverNames.push(r.str(NAME_BYTES_MAX)); coverIncs.push(r.u64()); coverDots.push(r.u64()); }
    coverEnds.push(coverNames.length);
  }
  if (!r.ok || r.remaining != 0) return false;
  const who = memberKey(m);
  for (let i = 0, from = 0; i < count; from = coverEnds[i], i++) {
    if (!n.termWaits.has(coverCtrs[i])) continue; // an earlier round, or an answered terminate
    const tw = n.termWaits.get(coverCtrs[i]);
    if (tw.unsent || tw.covered.has(who)) continue;
    coverRound(n, tw, who, from, coverEnds[i]);
  }
  return true;
}

/** One member's COVER of one round: covered, or a new round that extends the removal. */
function coverRound(n: Node, tw: TermWait, who: string, from: i32, to: i32): void {
  const s = n.desired;
  const uncovered = new Array<u64>();
  for (let i = from; i < to; i++) {
    const ctr = coverDots[i];
    if (!dotCounterFits(ctr)) continue;
    const key = coverNames[i] + '#' + coverIncs[i].toString();
    let rep: i32;
    if (s.replicas.byKey.has(key)) rep = s.replicas.byKey.get(key);
    else if (s.replicas.list.length < DOT_REPLICAS_MAX) rep = s.replicas.index(coverNames[i], coverIncs[i]);
    else continue;
    // Removed here already (in the context, not held): a later round covers it.
    if (s.ctx.has(rep, ctr) && !s.byDot.has(dotKey(rep, ctr))) continue;
    // A start of ours issued after the terminate had seen it: it is later, not covered.
    if (rep == s.myRep && ctr > tw.firstCtr) continue;
    uncovered.push(dotKey(rep, ctr));
  }
  // (Planted bug: the terminate as a plain observed-remove, acknowledged by the first member.)
  const firstCover = planted(n.bugs, BUG_TERMINATE_FIRST_COVER);
  if (uncovered.length == 0 || tw.extensions >= TERMINATE_EXTENSIONS_MAX || firstCover) {
    tw.covered.add(who);
    if (tw.acked) n.dirty.add(tw.wt.id); // its request may be answered now (stopCovered)
    return;
  }
  extend(n, tw, uncovered);
}

/**
 * A new round: `uncovered` joins the removal, under a new remove dot, and every member is asked
 * again (what we hold of the id otherwise reached us after the terminate: a member reports it if
 * it held it before).
 */
function extend(n: Node, tw: TermWait, uncovered: Array<u64>): void {
  const s = n.desired;
  s.removeDots(uncovered, n.pendingDelta);
  n.termWaits.delete(dotCtr(tw.dot));
  tw.dot = s.remove(tw.wt.id, n.pendingDelta, false);
  n.termWaits.set(dotCtr(tw.dot), tw);
  tw.extensions++;
  tw.covered.clear();
  tw.unsent = true;
  n.termUnsent = true;
  n.dirty.add(tw.wt.id);
}

/**
 * End of step (settleAcks): takes the terminates every member covers, while this node holds its
 * quorum; alone, under the rules of settleAcks (available mode, or alone in the majority roster).
 * Their waiters are appended to `out`.
 */
export function takeCoveredTerminates(n: Node, out: Array<Waiter>): void {
  if (n.termWaits.size == 0) return;
  const ws = n.termWaits.values();
  for (let i = 0; i < ws.length; i++) {
    const tw = ws[i];
    // Acknowledged, waiting for the stop: an add that reached us since (a member back) is removed.
    if (tw.acked) { if (heldUncovered(n, tw)) extend(n, tw, selfUncovered); continue; }
    if (!covered(n, tw)) continue;
    // Our own replica counts as a member's: adds of the id that reached us after the removal
    // (from a member since declared down, or alone: no member left to report them) extend it too.
    if (heldUncovered(n, tw)) {
      extend(n, tw, selfUncovered);
      if (!covered(n, tw)) continue;
    }
    if (tw.wt.wait == WAIT_ACK || planted(n.bugs, BUG_TERMINATE_FIRST_COVER)) n.termWaits.delete(dotCtr(tw.dot));
    else tw.acked = true;
    out.push(tw.wt);
  }
}

/**
 * A terminate's request waiting for its child to stop (requests.ts checkWaiters) may be answered
 * as far as covers go: every member counted now covered the current removal since it last came up,
 * and this node holds no add of the id it does not cover. Then the wait ends (true).
 */
export function stopCovered(n: Node, wt: Waiter): bool {
  if (n.termWaits.size == 0) return true;
  const ws = n.termWaits.values();
  for (let i = 0; i < ws.length; i++) {
    const tw = ws[i];
    if (tw.wt !== wt) continue;
    if (tw.unsent || heldUncovered(n, tw) || !everyMemberCovered(n, tw)) return false;
    n.termWaits.delete(dotCtr(tw.dot));
    return true;
  }
  return true;
}

/**
 * A member declared down: its COVERs of acknowledged terminates no longer count (back, it may hold
 * adds it got while apart). Before the acknowledgement they still do, as for any member counted then.
 */
export function termMemberDown(n: Node, m: Member): void {
  if (n.termWaits.size == 0) return;
  const who = memberKey(m);
  const ws = n.termWaits.values();
  for (let i = 0; i < ws.length; i++) {
    if (!ws[i].acked) continue;
    ws[i].covered.delete(who);
    n.dirty.add(ws[i].wt.id);
  }
}

// The adds of a terminate's id this node holds that its removal does not cover (reused).
const selfUncovered = new Array<u64>();

/** Fills selfUncovered: the live adds of tw's id held here but ours issued after the terminate; true when there are any and the terminate may still extend. */
function heldUncovered(n: Node, tw: TermWait): bool {
  selfUncovered.length = 0;
  if (tw.extensions >= TERMINATE_EXTENSIONS_MAX || planted(n.bugs, BUG_TERMINATE_FIRST_COVER)) return false;
  const s = n.desired;
  const at = s.store.find(tw.wt.id);
  if (at < 0) return false;
  const es = s.store.valueAt(at);
  for (let j = 0; j < es.length; j++) {
    if (es[j].rep == s.myRep && es[j].ctr > tw.firstCtr) continue;
    selfUncovered.push(dotKey(es[j].rep, es[j].ctr));
  }
  return selfUncovered.length > 0;
}

function covered(n: Node, tw: TermWait): bool {
  if (n.members.count == 0) return n.cfg.quorum == 0 || aloneInRoster(n);
  if (tw.unsent || !quorumSettled(n)) return false;
  if (planted(n.bugs, BUG_TERMINATE_FIRST_COVER) && tw.covered.size > 0) return true;
  return everyMemberCovered(n, tw);
}

/** Every member this node counts now has covered the terminate's current round. */
function everyMemberCovered(n: Node, tw: TermWait): bool {
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) if (!tw.covered.has(memberKey(ms[i]))) return false;
  return true;
}
