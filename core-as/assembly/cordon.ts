// Cordon, drain and weights: which members take new placements, and how a drained member's
// children leave it.
//
// - The cordon table (member name → mode, maxParallel, stamp, writer) is replicated to every
//   member, last writer wins by (stamp, writer name), the stamp a Lamport clock: any member may
//   cordon, drain or uncordon any member (itself included). An uncordon stays as an entry, so an
//   older cordon arriving late never comes back. The table goes out whole (CORDONS) when this
//   node writes it and to every member on connect, before our claims: a member that restarts
//   learns its own state before it is ready to start anything, so a cordon outlives a restart
//   of the cordoned member as long as any member remembers it.
// - Each member applies its own entry and says so (MEMBER_STATE: weight, mode, maxParallel,
//   the entry's stamp), after the claims of the same step, once it has an entry or a changed
//   weight (until then the others' assumptions, open and its HELLO weight, are right). Every
//   other member places by what a member says it applies, never by the table alone: a member
//   that starts a child in the step before it learns it is cordoned announces the claim first,
//   so no node that sees "cordoned" misses that child and starts a second copy (seed 162
//   --cordons: the table reached a third node before the member's claim). The price: a cordoned
//   member that restarts counts as open until it has learned its entry (one round trip), so its
//   winner children may stop on their fallbacks and start there again.
// - Placement (ownerOf): the rendezvous winner among the eligible members owns a child unless
//   it is restricted (cordoned or draining); a restricted winner keeps a child it claims, and
//   otherwise the winner among the open (unrestricted) eligible members owns it. So a cordon
//   moves nothing, an uncordon moves back exactly the children whose winner it is, and a join
//   or a weight change moves only children whose winner changed.
// - A draining member releases its own children, at most maxParallel moving at once (released
//   here and not yet claimed by another member). A child whose kind no open member advertises
//   stays where it runs: a drain never stops a child that has nowhere to go, and then cannot
//   finish before its deadline.
// - `sup.drain` resolves on the calling member once the drained member says it drains (at
//   the stamp of this drain or later) and claims nothing; it is rejected at its deadline
//   (R_DEADLINE), or when a later cordon or uncordon replaces it (R_CANCELLED).

import { Reader } from './io';
import { MSG_MEMBER_STATE, MSG_CORDONS, MSG_CLAIMS_REQ } from './codec';
import {
  PM_ACTIVE, PM_CORDONED, PM_DRAINING, OE_MEMBER_STATE, OE_WEIGHT_CHANGED, R_OK, R_NOT_RUNNING, R_INVALID_SPEC,
  R_UNKNOWN_MEMBER, R_DEADLINE, R_CANCELLED, R_TABLE_FULL,
} from './boundary';
import { NAME_BYTES_MAX, CORDONS_MAX, DRAIN_PARALLEL_MAX } from './limits';
import { Node } from './node';
import { Member, S_STOPPING, S_UNRESPONSIVE } from './model';
import { Candidate, CandidateSet, placeIn } from './placement';
import { StrMap, StrSet } from './strmap';
import { fxEvent, fxReply } from './effects';
import { membershipChanged } from './membership';
import { candidates, selfCandidate, ownerOf } from './ownership';
import { claimedByOther } from './claims';

export class CordonEntry {
  constructor(public name: string, public mode: u8, public maxParallel: u32, public stamp: u64, public writer: string) {}
  /** Last writer wins: the greater stamp, then the greater writer name. */
  beats(o: CordonEntry): bool { return this.stamp > o.stamp || (this.stamp == o.stamp && this.writer > o.writer); }
}

/** A cordon, uncordon or drain request waiting for its target to apply it (and, for a drain, to empty). */
export class CordonWaiter {
  constructor(public req: u32, public target: string, public stamp: u64, public writer: string, public drain: bool, public deadlineAt: i64) {}
}

export class Cordons {
  table: StrMap<CordonEntry> = new StrMap<CordonEntry>();
  clock: u64 = 0;
  /** This node wrote the table in this step: it goes to every member at the end of the step. */
  written: bool = false;
  /**
   * MEMBER_STATE is sent once this node is ready and differs from what the others assume without
   * it (no table entry for us, the weight of our HELLO): a cluster that never cordons or
   * reweighs sends none. What it said last.
   */
  announced: bool = false;
  weightChanged: bool = false;
  sentWeight: f64 = 0;
  sentMode: u8 = PM_ACTIVE;
  sentParallel: u32 = 0;
  sentStamp: u64 = 0;
  /**
   * We may now win children that run elsewhere (we were uncordoned, our weight changed): after
   * our MEMBER_STATE, ask every member for its full claims and start nothing until they are in.
   */
  barrier: Array<Member> = [];
  /** Draining: children released here and not yet claimed elsewhere (they count against maxParallel). */
  releasing: StrSet = new StrSet();
  waiters: Array<CordonWaiter> = [];
}

export function modeName(mode: u8): string {
  if (mode == PM_CORDONED) return 'cordoned';
  if (mode == PM_DRAINING) return 'draining';
  return 'active';
}

/** The table's mode for a name (PM_ACTIVE without an entry). */
export function tableMode(n: Node, name: string): u8 {
  const at = n.cordons.table.find(name);
  return at < 0 ? PM_ACTIVE : n.cordons.table.valueAt(at).mode;
}

// ---- placement -------------------------------------------------------------------------------

/** The unrestricted candidates of a set (cached in it; a set is rebuilt whenever a flag changes). */
export function openSet(set: CandidateSet): CandidateSet {
  let o = set.open;
  if (o == null) {
    const list = new Array<Candidate>();
    for (let i = 0; i < set.cands.length; i++) if (!set.cands[i].restricted) list.push(set.cands[i]);
    o = new CandidateSet(list);
    set.open = o;
  }
  return o;
}

function claims(n: Node, name: string, id: string): bool {
  if (name == n.name) return n.claims.mine.has(id);
  return n.members.has(name) && n.members.get(name).claims.has(id);
}

/** The owner of a child whose rendezvous winner `w` is restricted (see the header). */
export function restrictedOwner(n: Node, id: string, idHash: u64, set: CandidateSet, w: Candidate): string {
  const open = openSet(set);
  const claimed = claims(n, w.name, id);
  const released = w.name == n.name && n.cordons.releasing.has(id);
  if (claimed && !(released && open.length > 0)) return w.name;
  const j = placeIn(idHash, open);
  if (j < 0) return claimed ? w.name : '';
  return open.cands[j].name;
}

/** Weights or restrictions changed: every owner may differ (placement caches and the view's rows). */
function placementChanged(n: Node): void {
  membershipChanged(n);
  n.view.feed.all = true;
}

/** Restricted flags from what each member says it applies (open until it said anything), ours from the table. */
function refreshRestricted(n: Node): void {
  let changed = false;
  const self = selfCandidate(n);
  const mine = tableMode(n, n.name) != PM_ACTIVE;
  if (self.restricted != mine) {
    if (!mine) beginBarrier(n);
    self.restricted = mine;
    changed = true;
  }
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    const want = m.announced && m.stateMode != PM_ACTIVE;
    if (m.cand.restricted != want) { m.cand.restricted = want; changed = true; }
  }
  if (changed) placementChanged(n);
}

// ---- each step -------------------------------------------------------------------------------

/** Start of the step's decisions (before reconcile): restrictions, and our own drain's next releases. */
export function cordonStep(n: Node): void {
  refreshRestricted(n);
  driveDrain(n);
}

function driveDrain(n: Node): void {
  const p = n.cordons;
  const at = p.table.find(n.name);
  const e: CordonEntry | null = at < 0 ? null : p.table.valueAt(at);
  if (e == null || e.mode != PM_DRAINING || n.leaving || n.left) {
    if (p.releasing.size == 0) return;
    const ids = p.releasing.values();
    for (let i = 0; i < ids.length; i++) n.dirty.add(ids[i]);
    p.releasing.clear();
    return;
  }
  // A released child stops moving once another member claims it, or once it is not desired.
  if (p.releasing.size > 0) {
    const ids = p.releasing.values();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (n.locals.has(id)) continue;
      const d = n.desired.get(id);
      if (d == null || d.spec.failed || claimedByOther(n, id)) p.releasing.delete(id);
    }
  }
  if (<u32>p.releasing.size >= e.maxParallel) return;
  const cs = n.localChildren();
  for (let i = 0; i < cs.length && <u32>p.releasing.size < e.maxParallel; i++) {
    const c = cs[i];
    if (c.state == S_STOPPING || c.state == S_UNRESPONSIVE || p.releasing.has(c.id)) continue;
    if (openSet(candidates(n, c.spec.kind)).length == 0) continue; // nowhere to go: it stays
    p.releasing.add(c.id);
    n.dirty.add(c.id);
  }
}

/** End of the step, after the claims: our table if we wrote it, what we apply if it changed, the waiters. */
export function flushCordons(n: Node): void {
  const p = n.cordons;
  if (p.written) {
    p.written = false;
    if (n.members.count > 0) { writeCordons(n); n.outbox.toAll(n.members); }
  }
  if (!p.announced && (p.weightChanged || p.table.has(n.name))) p.announced = true;
  if (p.announced && stateChanged(n)) {
    writeMemberState(n);
    n.outbox.toAll(n.members);
  }
  if (p.barrier.length > 0) sendBarrier(n);
  if (p.waiters.length > 0) checkWaiters(n);
}

/**
 * The race this closes: a member starts a child that another released (a drain, a move) and
 * its claim is still on the way to us when we become the child's winner; without fresh claims
 * we would start a second copy. Every member answers CLAIMS_REQ after our MEMBER_STATE (one
 * link, in order), so its full claims hold everything it started before it knew, and after it
 * knows it starts nothing we win. Until they are in, we are not ready (membership.ts).
 */
function beginBarrier(n: Node): void {
  // Not ready from now on, so this very step's reconcile starts nothing; the requests go out
  // at the end of the step, after our MEMBER_STATE.
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.link == 0) continue;
    m.claimsSynced = false;
    m.awaitingFull = true;
    n.cordons.barrier.push(m);
  }
}

function sendBarrier(n: Node): void {
  const ms = n.cordons.barrier;
  n.cordons.barrier = [];
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (n.members.is(m) && m.link != 0) n.outbox.empty(m.link, MSG_CLAIMS_REQ);
  }
}

/** On connect, before our claims: the table (the peer may be a cordoned member back from a restart). */
export function sendCordonsTo(n: Node, link: u32): void {
  if (n.cordons.table.size == 0) return;
  writeCordons(n);
  n.outbox.to(link);
}

/** On connect, after our claims: what we apply, once we have said it to anyone. */
export function sendMemberStateTo(n: Node, link: u32): void {
  if (!n.cordons.announced) return;
  writeMemberState(n);
  n.outbox.to(link);
}

// ---- MEMBER_STATE: f64 weight, u8 mode, u32 maxParallel, u64 stamp ---------------------------

function selfEntry(n: Node): CordonEntry | null {
  const at = n.cordons.table.find(n.name);
  return at < 0 ? null : n.cordons.table.valueAt(at);
}

function stateChanged(n: Node): bool {
  const p = n.cordons;
  const e = selfEntry(n);
  const mode = e == null ? PM_ACTIVE : e.mode;
  const stamp: u64 = e == null ? 0 : e.stamp;
  const par: u32 = e == null ? 0 : e.maxParallel;
  return p.sentWeight != n.cfg.weight || p.sentMode != mode || p.sentStamp != stamp || p.sentParallel != par;
}

function writeMemberState(n: Node): void {
  const p = n.cordons;
  const e = selfEntry(n);
  p.sentWeight = n.cfg.weight;
  p.sentMode = e == null ? PM_ACTIVE : e.mode;
  p.sentParallel = e == null ? 0 : e.maxParallel;
  p.sentStamp = e == null ? 0 : e.stamp;
  const w = n.outbox.frame(MSG_MEMBER_STATE);
  w.f64(p.sentWeight); w.u8(p.sentMode); w.u32(p.sentParallel); w.u64(p.sentStamp);
}

export function onMemberState(n: Node, m: Member, r: Reader): bool {
  const weight = r.f64();
  const mode = r.u8();
  const par = r.u32();
  const stamp = r.u64();
  if (!r.ok || r.remaining != 0 || !(weight > 0) || !isFinite(weight) || mode > PM_DRAINING) return false;
  m.announced = true;
  m.stateMode = mode;
  m.stateStamp = stamp;
  if (weight != m.weight) {
    m.weight = weight;
    m.cand.weight = weight;
    placementChanged(n);
    fxEvent(OE_WEIGHT_CHANGED, m.name, '', '', '', weight, 0);
  }
  return par <= DRAIN_PARALLEL_MAX;
}

// ---- CORDONS: list<str name, u8 mode, u32 maxParallel, u64 stamp, str writer> ----------------

function writeCordons(n: Node): void {
  const es = n.cordons.table.values();
  const w = n.outbox.frame(MSG_CORDONS);
  w.u32(<u32>es.length);
  for (let i = 0; i < es.length; i++) {
    const e = es[i];
    w.str(e.name); w.u8(e.mode); w.u32(e.maxParallel); w.u64(e.stamp); w.str(e.writer);
  }
}

/** CORDONS: decoded whole into a scratch list, then merged entry by entry (last writer wins). */
export function onCordons(n: Node, r: Reader): bool {
  const count = r.count(CORDONS_MAX, 22);
  const list = new Array<CordonEntry>();
  for (let i = 0; i < count; i++) {
    const name = r.str(NAME_BYTES_MAX);
    const mode = r.u8();
    const par = r.u32();
    const stamp = r.u64();
    const writer = r.str(NAME_BYTES_MAX);
    if (!r.ok || name.length == 0 || writer.length == 0 || mode > PM_DRAINING || par > DRAIN_PARALLEL_MAX) return false;
    list.push(new CordonEntry(name, mode, par, stamp, writer));
  }
  if (!r.ok || r.remaining != 0) return false;
  const p = n.cordons;
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    const at = p.table.find(e.name);
    if (at >= 0 && !e.beats(p.table.valueAt(at))) continue;
    if (at < 0 && p.table.size >= CORDONS_MAX) continue; // full: a write elsewhere was refused the same way
    if (e.stamp > p.clock) p.clock = e.stamp;
    p.table.set(e.name, e);
    fxEvent(OE_MEMBER_STATE, e.name, modeName(e.mode), e.writer, '', 0, <f64>e.maxParallel);
  }
  return true;
}

// ---- API requests ----------------------------------------------------------------------------

/** cordon / uncordon / drain of `name`: a table write, then a waiter until it is applied (and done). */
export function cordonRequest(n: Node, req: u32, name: string, mode: u8, maxParallel: u32, deadlineMs: u32): void {
  if (!n.initialised || n.leaving || n.left) { fxReply(req, R_NOT_RUNNING, '', 'node is not running'); return; }
  if (mode > PM_DRAINING) { fxReply(req, R_INVALID_SPEC, 'mode', 'unknown placement state'); return; }
  const p = n.cordons;
  const known = name == n.name || n.members.has(name) || p.table.has(name);
  if (!known) { fxReply(req, R_UNKNOWN_MEMBER, 'member', 'no member named ' + name); return; }
  if (!p.table.has(name) && p.table.size >= CORDONS_MAX) {
    fxReply(req, R_TABLE_FULL, 'member', 'the cordon table holds ' + CORDONS_MAX.toString() + ' names already');
    return;
  }
  const par: u32 = maxParallel < 1 ? 1 : maxParallel > DRAIN_PARALLEL_MAX ? DRAIN_PARALLEL_MAX : maxParallel;
  p.clock++;
  const e = new CordonEntry(name, mode, mode == PM_DRAINING ? par : 0, p.clock, n.name);
  p.table.set(name, e);
  p.written = true;
  fxEvent(OE_MEMBER_STATE, name, modeName(mode), n.name, '', 0, <f64>e.maxParallel);
  const deadline = deadlineMs == 0 ? i64.MAX_VALUE : n.now + <i64>deadlineMs;
  p.waiters.push(new CordonWaiter(req, name, e.stamp, n.name, mode == PM_DRAINING, deadline));
}

/** setWeight: our share of placements from now on (announced in MEMBER_STATE at the end of the step). */
export function setWeight(n: Node, req: u32, weight: f64): void {
  if (!n.initialised || n.left) { fxReply(req, R_NOT_RUNNING, '', 'node is not running'); return; }
  if (!(weight > 0) || !isFinite(weight)) { fxReply(req, R_INVALID_SPEC, 'weight', 'must be a positive finite number'); return; }
  if (weight != n.cfg.weight) {
    n.cfg.weight = weight;
    selfCandidate(n).weight = weight;
    n.cordons.weightChanged = true;
    beginBarrier(n);
    placementChanged(n);
    fxEvent(OE_WEIGHT_CHANGED, n.name, '', '', '', weight, 0);
  }
  fxReply(req, R_OK, '', '');
}

/** Children the target still runs in this node's view (-1: it applies an older state than the waiter's). */
function remaining(n: Node, wt: CordonWaiter): i32 {
  if (wt.target == n.name) return n.locals.size > n.claims.mine.size ? n.locals.size : n.claims.mine.size;
  if (!n.members.has(wt.target)) return 0; // gone: it runs nothing (its claims are void)
  const m = n.members.get(wt.target);
  if (!m.announced || m.stateStamp < wt.stamp) return -1;
  return m.claims.size;
}

/**
 * A drain is done once its children run elsewhere, not merely once they stopped: every desired
 * child that some member could run is claimed by someone. Only asked once the target claims
 * nothing, so the pass over the desired map runs in a drain's last steps.
 */
function everyChildClaimed(n: Node): bool {
  const ids = n.desired.store.keys();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const e = n.desired.get(id);
    if (e == null || e.spec.failed || n.claims.mine.has(id) || claimedByOther(n, id)) continue;
    if (ownerOf(n, id, e.spec.kind).length > 0) return false;
  }
  return true;
}

function checkWaiters(n: Node): void {
  const p = n.cordons;
  const keep = new Array<CordonWaiter>();
  for (let i = 0; i < p.waiters.length; i++) {
    const wt = p.waiters[i];
    const at = p.table.find(wt.target);
    const e: CordonEntry | null = at < 0 ? null : p.table.valueAt(at);
    const replaced = e == null || e.stamp != wt.stamp || e.writer != wt.writer;
    if (wt.drain && replaced && (e == null || e.mode != PM_DRAINING)) {
      fxReply(wt.req, R_CANCELLED, 'member', 'the drain of ' + wt.target + ' was replaced by ' + (e == null ? 'nothing' : modeName(e.mode)));
      continue;
    }
    const left = remaining(n, wt);
    const done = wt.drain ? left == 0 && everyChildClaimed(n) : left >= 0;
    if (done) fxReply(wt.req, R_OK, '', '');
    else keep.push(wt);
  }
  p.waiters = keep;
}

// ---- the deadline timer ----------------------------------------------------------------------

export function cordonWaitsDue(n: Node): i64 {
  let at = i64.MAX_VALUE;
  const ws = n.cordons.waiters;
  for (let i = 0; i < ws.length; i++) if (ws[i].deadlineAt < at) at = ws[i].deadlineAt;
  return at;
}

export function cordonWaitsFire(n: Node): void {
  const p = n.cordons;
  const keep = new Array<CordonWaiter>();
  for (let i = 0; i < p.waiters.length; i++) {
    const wt = p.waiters[i];
    if (wt.deadlineAt > n.now) { keep.push(wt); continue; }
    const left = remaining(n, wt);
    const what = wt.drain ? 'drain' : 'placement state change';
    const detail = left < 0 ? ': it has not applied it' : ': ' + left.toString() + ' children still run there';
    fxReply(wt.req, R_DEADLINE, wt.target, 'the ' + what + ' of ' + wt.target + ' did not complete before its deadline' + detail);
  }
  p.waiters = keep;
}
