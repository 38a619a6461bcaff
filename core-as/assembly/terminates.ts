// A terminate's acknowledgement: every member this node counts as up holds the removal, and no
// member holds an add of the id that the removal does not cover.
//
// An observed-remove only removes the adds its node had seen. A start acknowledged elsewhere
// (its node plus one peer hold it) that had not reached the terminating node yet would survive
// the removal and win again under add-wins, although in real time it came first (DESIGN.md,
// invariant 3). So a terminate does not wait for one peer's ACK but for every member's COVER:
//
//   terminator  DELTA (the removal), then TERM_CHECK (id, our replica, the remove's counter)
//               to every member, on the same link, so the check arrives after the removal.
//   member      once it holds the remove's dot: TERM_COVER (the counter, the dots of the adds
//               of the id it still holds); without it, a SYNC_REQ (anti-entropy brings it)
//               and the terminator asks again at the next sync.
//   terminator  a COVER naming adds it has not removed: while the request waits, the removal
//               is extended to those dots (they join its context, whether or not it ever held
//               their entries) with a new remove dot, and every member is asked again (its
//               own adds after the terminate had seen it: they stay). An empty COVER from every member it counts as up (members declared down no longer
//               count), under the quorum rules of requests.ts, acknowledges the terminate.
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
import { quorumOk } from './lease';
import { aloneInRoster } from './roster';
import { sendSyncReq } from './sync';
import { planted } from './flags';
import { BUG_TERMINATE_FIRST_COVER } from './boundary';

/** A terminate request waiting for every member's COVER of its current removal. */
export class TermWait {
  /** Members (name#inc) whose COVER of this round named nothing uncovered. */
  covered: Set<string> = new Set();
  extensions: i32 = 0;
  /** This round's TERM_CHECK still has to go out (after the step's DELTA). */
  unsent: bool = true;
  /** The counter of the terminate's first remove dot: our adds after it came after the terminate. */
  firstCtr: u64;
  constructor(public wt: Waiter, public dot: u64) { this.firstCtr = dotCtr(dot); }
}

/** A terminate's remove dot waits for every member's COVER (terminateChild). */
export function awaitCover(n: Node, dot: u64, wt: Waiter): void {
  wt.since = n.now;
  n.termWaits.push(new TermWait(wt, dot));
}

function memberKey(m: Member): string { return m.name + '#' + m.inc.toString(); }

function writeCheck(n: Node, tw: TermWait): void {
  const w = n.outbox.frame(MSG_TERM_CHECK);
  w.str(tw.wt.id);
  w.u64(n.desired.replicas.list[n.desired.myRep].inc);
  w.u64(dotCtr(tw.dot));
}

/** End of step, after flushDelta: the checks of new rounds, behind their removal on every link. */
export function flushTermChecks(n: Node): void {
  for (let i = 0; i < n.termWaits.length; i++) {
    const tw = n.termWaits[i];
    if (!tw.unsent) continue;
    tw.unsent = false;
    if (n.members.count == 0) continue;
    writeCheck(n, tw);
    n.outbox.toAll(n.members);
  }
}

/** Every sync interval: ask again the members that have not covered (a lost removal, a new link). */
export function reaskTermChecks(n: Node): void {
  const ms = n.members.list;
  for (let i = 0; i < n.termWaits.length; i++) {
    const tw = n.termWaits[i];
    if (tw.unsent) continue;
    for (let j = 0; j < ms.length; j++) {
      const m = ms[j];
      if (m.link == 0 || tw.covered.has(memberKey(m))) continue;
      writeCheck(n, tw);
      n.outbox.to(m.link);
    }
  }
}

/** TERM_CHECK: the adds of the id we hold, once we hold the remove it names. */
export function onTermCheck(n: Node, m: Member, link: u32, r: Reader): bool {
  const id = r.str(ID_BYTES_MAX);
  const inc = r.u64();
  const ctr = r.u64();
  if (!r.ok || r.remaining != 0) return false;
  const s = n.desired;
  const key = m.name + '#' + inc.toString();
  if (!dotCounterFits(ctr) || !s.replicas.byKey.has(key) || !s.ctx.has(s.replicas.byKey.get(key), ctr)) {
    sendSyncReq(n, link);
    return true;
  }
  const w = n.outbox.frame(MSG_TERM_COVER);
  w.u64(ctr);
  const at = s.store.find(id);
  if (at < 0) { w.u32(0); n.outbox.to(link); return true; }
  const es = s.store.valueAt(at);
  w.u32(<u32>es.length);
  for (let i = 0; i < es.length; i++) {
    const rep = s.replicas.list[es[i].rep];
    w.str(rep.name);
    w.u64(rep.inc);
    w.u64(es[i].ctr);
  }
  n.outbox.to(link);
  return true;
}

/** TERM_COVER: a member holds this round's removal, and these adds of the id. Read whole first. */
export function onTermCover(n: Node, m: Member, r: Reader): bool {
  const ctr = r.u64();
  const count = r.count(WIRE_ITEMS_MAX, 20);
  const names = new Array<string>();
  const incs = new Array<u64>();
  const ctrs = new Array<u64>();
  for (let i = 0; i < count; i++) { names.push(r.str(NAME_BYTES_MAX)); incs.push(r.u64()); ctrs.push(r.u64()); }
  if (!r.ok || r.remaining != 0) return false;
  let tw: TermWait | null = null;
  for (let i = 0; i < n.termWaits.length; i++) if (dotCtr(n.termWaits[i].dot) == ctr) { tw = n.termWaits[i]; break; }
  if (tw == null || tw.unsent) return true; // an answer to an earlier round, or to an answered terminate
  const who = memberKey(m);
  if (tw.covered.has(who)) return true;
  const s = n.desired;
  const uncovered = new Array<u64>();
  for (let i = 0; i < count; i++) {
    if (!dotCounterFits(ctrs[i])) continue;
    const key = names[i] + '#' + incs[i].toString();
    let rep: i32;
    if (s.replicas.byKey.has(key)) rep = s.replicas.byKey.get(key);
    else if (s.replicas.list.length < DOT_REPLICAS_MAX) rep = s.replicas.index(names[i], incs[i]);
    else continue;
    const k = dotKey(rep, ctrs[i]);
    // Removed here already (in the context, not held): a later round covers it.
    if (s.ctx.has(rep, ctrs[i]) && !s.byDot.has(k)) continue;
    // A start of ours issued after the terminate had seen it: it is later, not covered.
    if (rep == s.myRep && ctrs[i] > tw.firstCtr) continue;
    uncovered.push(k);
  }
  // (Planted bug: the terminate as a plain observed-remove, acknowledged by the first member.)
  const firstCover = planted(n.bugs, BUG_TERMINATE_FIRST_COVER);
  if (uncovered.length == 0 || tw.extensions >= TERMINATE_EXTENSIONS_MAX || firstCover) { tw.covered.add(who); return true; }
  // A new round: the reported adds, under a new remove dot (what we hold of the id otherwise
  // reached us after the terminate: a member reports it if it held it before).
  s.removeDots(uncovered, n.pendingDelta);
  tw.dot = s.remove(tw.wt.id, n.pendingDelta, false);
  tw.extensions++;
  tw.covered.clear();
  tw.unsent = true;
  n.dirty.add(tw.wt.id);
  return true;
}

/**
 * End of step (settleAcks): terminates every member covers, while this node holds its quorum;
 * alone, under the rules of settleAcks (available mode, or alone in the majority roster).
 */
export function settleTerminates(n: Node, acked: (n: Node, wt: Waiter) => void): void {
  if (n.termWaits.length == 0) return;
  const keep = new Array<TermWait>();
  const done = new Array<Waiter>();
  for (let i = 0; i < n.termWaits.length; i++) {
    const tw = n.termWaits[i];
    if (covered(n, tw)) done.push(tw.wt);
    else keep.push(tw);
  }
  if (done.length == 0) return;
  n.termWaits = keep;
  for (let i = 0; i < done.length; i++) acked(n, done[i]);
}

function covered(n: Node, tw: TermWait): bool {
  if (n.members.count == 0) return n.cfg.quorum == 0 || aloneInRoster(n);
  if (tw.unsent || !quorumOk(n)) return false;
  if (planted(n.bugs, BUG_TERMINATE_FIRST_COVER) && tw.covered.size > 0) return true;
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) if (!tw.covered.has(memberKey(ms[i]))) return false;
  return true;
}
