// State handoff and checkpoints: a child's state follows it when it moves.
//
//   planned move   A running child that must stop here because its owner changed (a join, a
//                  leave, ours or another's) is first asked for its state (FX_DEHYDRATE). Its
//                  answer, or the deadline (handoffTimeoutMs), decides: the state, its last
//                  checkpoint, or "start it fresh" goes to the new owner as one HANDOFF, and only
//                  then is the child stopped. The claim is released after the child exits, in a
//                  later step, so on the one link to the new owner the HANDOFF comes before the
//                  release that lets it start: the new instance starts with the state, and still
//                  only after the old one stopped (the claims protocol is unchanged).
//   checkpoint     A running child's checkpoint (EV_CHECKPOINT) is kept here and sent to the
//                  member that would own the child if this node went away (the owner among the
//                  candidates without us); sent again whenever that member changes.
//   starting       A node that starts a child it holds a copy for (a HANDOFF or a CHECKPOINT)
//                  gives it to the runner first (FX_REHYDRATE, then FX_RUN) and drops it.
//   links          A HANDOFF sent on a link that is then closed (two links to one member, one
//                  closed as a duplicate) may be lost with it: the sender keeps what it sent
//                  until some instance of the child is seen starting, and sends it again on the
//                  member's next link, before the claims that may let it start.
//   lost           Every planned move of a running child sends one HANDOFF (with a state, or
//                  "start it fresh"), ahead of the claim that says the child is stopping. So a
//                  node that saw a member's claim go from running to stopping, or that owns a
//                  child a member still ran when that member went down, expects a HANDOFF from
//                  that instance; starting the child without one, it reports `handoff_failed`
//                  (reason `lost`) and takes the instance's last checkpoint if it holds it.
//
// A copy names the instance it came from (member, epoch); a claim by any other instance, seen
// starting or running, makes it stale, and it is dropped (an older copy must never win over the
// state of a later instance). A local restart after a crash starts fresh.

import { Reader } from './io';
import { Node } from './node';
import { LocalChild, Member, Claim, S_RUNNING, S_STARTING, C_STARTING, C_RUNNING, C_STOPPING, WHY_MOVED, WHY_LEAVING } from './model';
import { MSG_HANDOFF, MSG_CHECKPOINT } from './codec';
import {
  STATE_GIVEN, STATE_NONE, PM_DRAINING, OE_HANDOFF, OE_HANDOFF_FAILED, OE_CHILD_REHYDRATED, OE_CHECKPOINT_REFUSED,
} from './boundary';
import { DIGEST_PATIENCE, ID_BYTES_MAX, STATE_BYTES_MAX, STATE_DEFAULT_BYTES, HANDOFF_TIMEOUT_DEFAULT_MS, ERROR_TEXT_BYTES_MAX } from './limits';
import { StrMap } from './strmap';
import { Candidate, CandidateSet, placeIn } from './placement';
import { xxh64String } from './hash';
import { candidates, ownerOf } from './ownership';
import { stopLocal } from './supervision';
import { fxEvent, fxDehydrate, fxRehydrate } from './effects';
import { openSet } from './cordon';

/** Sync intervals a copy of an id not desired here is kept (see stateReconciled). */
const COPY_GRACE: i64 = DIGEST_PATIENCE;
const SRC_HANDOFF: u8 = 0;
const SRC_CHECKPOINT: u8 = 1;
/** A HANDOFF that said "start it fresh": nothing to rehydrate, but the move was not lost. */
const SRC_NONE: u8 = 2;

/** A child's state as some instance (member, epoch) gave it. */
export class StateCopy {
  /** When it arrived (a copy for an id not desired here is kept a while: see stateReconciled). */
  at: i64 = 0;
  constructor(public from: string, public epoch: u32, public version: u32, public bytes: Uint8Array, public source: u8) {}
}

/** A running child asked for its state: until when it may answer, and why it stops then. */
class Asked {
  constructor(public epoch: u32, public until: i64, public why: u8) {}
}

/** A local child's last checkpoint and the member it was sent to. */
class Checkpoint {
  to: string = '';
  constructor(public epoch: u32, public version: u32, public bytes: Uint8Array) {}
}

/** A HANDOFF sent (with a state, or "fresh"), kept to be sent again on the member's next link. */
class Sent {
  constructor(public to: string, public has: bool, public copy: StateCopy) {}
}

/** The instance a HANDOFF is expected from (see "lost" above). */
class Expected {
  constructor(public from: string, public epoch: u32) {}
}

/** The candidates for a kind without us, derived from (and renewed with) the candidate cache. */
class NextSet {
  constructor(public base: CandidateSet, public next: CandidateSet) {}
}

export class StateTable {
  timeoutMs: i64 = HANDOFF_TIMEOUT_DEFAULT_MS;
  maxBytes: i32 = STATE_DEFAULT_BYTES;
  /** Children asked for their state, by id. */
  asked: StrMap<Asked> = new StrMap<Asked>();
  /** Our running children's last checkpoints, by id. */
  ckpts: StrMap<Checkpoint> = new StrMap<Checkpoint>();
  /** Copies other members gave us (handed over or checkpointed), by id. */
  copies: StrMap<StateCopy> = new StrMap<StateCopy>();
  /** HANDOFFs sent whose child no instance was seen starting yet, by id. */
  sent: StrMap<Sent> = new StrMap<Sent>();
  /** Children moving from another member's instance, whose HANDOFF we expect, by id. */
  expected: StrMap<Expected> = new StrMap<Expected>();
  nextSets: StrMap<NextSet> = new StrMap<NextSet>();
}

// ---- events in -------------------------------------------------------------------------------

/** EV_STATE_CONFIG: the deadline and the size limit (0 keeps the default). */
export function stateConfig(n: Node, timeoutMs: u32, maxBytes: u32): void {
  if (timeoutMs > 0) n.handoff.timeoutMs = <i64>timeoutMs;
  if (maxBytes > 0) n.handoff.maxBytes = maxBytes > <u32>STATE_BYTES_MAX ? STATE_BYTES_MAX : <i32>maxBytes;
}

/**
 * Reconcile's stop of a child that is no longer ours: a running child that moves (planned) is
 * asked for its state first, once; anything else stops at once.
 */
export function stopOrHandOff(n: Node, c: LocalChild, why: u8): void {
  // Nobody to hand it to (the last member of its kind leaves): nothing to wait for.
  if ((why != WHY_MOVED && why != WHY_LEAVING) || c.state != S_RUNNING || ownerOf(n, c.id, c.spec.kind).length == 0) {
    stopLocal(n, c, why);
    return;
  }
  const t = n.handoff;
  const at = t.asked.find(c.id);
  if (at >= 0 && t.asked.valueAt(at).epoch == c.epoch) return; // asked: its answer or the deadline stops it
  t.asked.set(c.id, new Asked(c.epoch, n.now + t.timeoutMs, why));
  n.actions++;
  fxDehydrate(c.id, c.epoch);
}

/**
 * The child was asked for its state and has not answered: it takes no more messages (they wait
 * for the new instance), or those it took after giving its state would be lost with it.
 */
export function handingOff(n: Node, c: LocalChild): bool {
  const at = n.handoff.asked.find(c.id);
  return at >= 0 && n.handoff.asked.valueAt(at).epoch == c.epoch;
}

/** EV_CHILD_STATE: the answer to FX_DEHYDRATE. Decides what the new owner gets, then stops the child. */
export function childState(n: Node, r: Reader): void {
  const id = r.str(ID_BYTES_MAX);
  const epoch = r.u32();
  const outcome = r.u8();
  const version = r.u32();
  const bytes = r.bytes(STATE_BYTES_MAX);
  r.skipStr(ERROR_TEXT_BYTES_MAX);
  const message = r.str(ERROR_TEXT_BYTES_MAX);
  if (!r.ok) return;
  const c = askedChild(n, id, epoch);
  if (c == null) return; // late (past the deadline), or the child ended meanwhile
  const why = n.handoff.asked.get(id).why;
  n.handoff.asked.delete(id);
  const to = ownerOf(n, id, c.spec.kind);
  if (outcome == STATE_GIVEN) {
    if (bytes.length > n.handoff.maxBytes) handOffFresh(n, c, to, 'too_large', bytes.length.toString() + ' bytes');
    else handOff(n, c, to, new StateCopy(n.name, epoch, version, bytes, SRC_HANDOFF));
  } else if (outcome == STATE_NONE) {
    // No hook: the last checkpoint, if any, is the state to move with.
    const k = n.handoff.ckpts.find(id);
    const cp: Checkpoint | null = k >= 0 ? n.handoff.ckpts.valueAt(k) : null;
    if (cp != null && cp.epoch == epoch) handOff(n, c, to, new StateCopy(n.name, epoch, cp.version, cp.bytes, SRC_CHECKPOINT));
    else tellFresh(n, c, to); // nothing to carry, but the new owner must hear that the move was not lost
  } else {
    handOffFresh(n, c, to, 'dehydrate_failed', message);
  }
  stopLocal(n, c, why);
}

/** EV_CHECKPOINT: keep it and send it to the member next in line. */
export function childCheckpoint(n: Node, r: Reader): void {
  const id = r.str(ID_BYTES_MAX);
  const epoch = r.u32();
  const version = r.u32();
  const bytes = r.bytes(STATE_BYTES_MAX);
  if (!r.ok) return;
  const at = n.locals.find(id);
  if (at < 0) return;
  const c = n.locals.valueAt(at);
  if (c.epoch != epoch || (c.state != S_RUNNING && c.state != S_STARTING)) return;
  if (bytes.length > n.handoff.maxBytes) {
    fxEvent(OE_CHECKPOINT_REFUSED, id, 'too_large', '', '', <f64>bytes.length, 0);
    return;
  }
  const cp = new Checkpoint(epoch, version, bytes);
  n.handoff.ckpts.set(id, cp);
  replicate(n, c, cp);
}

// ---- frames in --------------------------------------------------------------------------------

/** HANDOFF: str id, u8 has state, u32 epoch, u32 version, bytes state. */
export function onHandoff(n: Node, m: Member, r: Reader): bool {
  const id = r.str(ID_BYTES_MAX);
  const has = r.bool();
  const epoch = r.u32();
  const version = r.u32();
  const bytes = r.bytes(STATE_BYTES_MAX);
  if (!r.ok || r.remaining != 0 || id.length == 0) return false;
  const lat = n.locals.find(id);
  if (lat >= 0) {
    // Sent again after we started with it: nothing to keep. A state of any other instance comes
    // too late (an instance already runs here, after a fault): it is not taken, and that is said.
    const c = n.locals.valueAt(lat);
    if (has && (c.stateFrom != m.name || c.stateEpoch != epoch)) {
      fxEvent(OE_HANDOFF_FAILED, id, 'superseded', n.name, 'an instance already runs here', <f64>epoch, 0);
    }
    return true;
  }
  // "Fresh" replaces any copy held (a checkpoint), and says the move was not lost.
  keepCopy(n, id, new StateCopy(m.name, epoch, version, has ? bytes : new Uint8Array(0), has ? SRC_HANDOFF : SRC_NONE));
  return true;
}

/** CHECKPOINT: str id, u32 epoch, u32 version, bytes state. */
export function onCheckpoint(n: Node, m: Member, r: Reader): bool {
  const id = r.str(ID_BYTES_MAX);
  const epoch = r.u32();
  const version = r.u32();
  const bytes = r.bytes(STATE_BYTES_MAX);
  if (!r.ok || r.remaining != 0 || id.length == 0) return false;
  if (!n.locals.has(id)) keepCopy(n, id, new StateCopy(m.name, epoch, version, bytes, SRC_CHECKPOINT));
  return true;
}

/**
 * A member's claim came in (before it replaces the member's previous one): a copy from any other
 * instance than the one claiming to run is stale; a running instance that now stops may be
 * moving, and then its HANDOFF has come first (same link) or is lost.
 */
export function claimSeen(n: Node, m: Member, c: Claim): void {
  const t = n.handoff;
  if (c.status == C_STOPPING) {
    const at = m.claims.find(c.id);
    if (at >= 0 && m.claims.valueAt(at).status == C_RUNNING && n.desired.get(c.id) != null) t.expected.set(c.id, new Expected(m.name, c.epoch));
    return;
  }
  if (c.status != C_STARTING && c.status != C_RUNNING) return;
  const sat = t.sent.find(c.id);
  if (sat >= 0) {
    // An instance started: nothing to send again. On another member than the one the state went
    // to (ownership changed again meanwhile), it starts without it: say so here, where it is known.
    const s = t.sent.valueAt(sat);
    if (s.has && s.to != m.name) fxEvent(OE_HANDOFF_FAILED, c.id, 'lost', m.name, 'the state went to ' + s.to, <f64>s.copy.epoch, 0);
    t.sent.delete(c.id);
  }
  const ex = t.expected.find(c.id);
  if (ex >= 0 && (t.expected.valueAt(ex).from != m.name || t.expected.valueAt(ex).epoch != c.epoch)) t.expected.delete(c.id); // a new instance: its node answers for it
  const at = n.handoff.copies.find(c.id);
  if (at < 0) return;
  const copy = n.handoff.copies.valueAt(at);
  if (copy.from != m.name || copy.epoch != c.epoch) n.handoff.copies.delete(c.id);
}

// ---- reconcile and start -----------------------------------------------------------------------

/**
 * End of reconcile for one id: drop what no longer applies (a checkpoint of a child that left,
 * a copy of a child no longer desired), and send a checkpoint again when the next member changed.
 *
 * A race tolerated here: a member that has just joined learns a moving child's state (HANDOFF)
 * and its old instance's release before the desired entry itself (the next sync). So a copy of
 * an id not desired here is dropped only once anti-entropy has had its rounds (COPY_GRACE
 * sync intervals); until then a start of a terminated id could still pick it up.
 */
export function stateReconciled(n: Node, id: string, desired: bool, c: LocalChild | null): void {
  const t = n.handoff;
  // The common case, every child of a failover walk: nothing held for it (no string hashed).
  if (desired && t.ckpts.size == 0) return;
  if (!desired) {
    if (t.sent.has(id)) t.sent.delete(id);
    if (t.expected.has(id)) t.expected.delete(id);
    const k = t.copies.find(id);
    if (k >= 0 && n.now - t.copies.valueAt(k).at > n.cfg.syncIntervalMs * COPY_GRACE) t.copies.delete(id);
  }
  const at = t.ckpts.find(id);
  if (at < 0) return;
  const cp = t.ckpts.valueAt(at);
  if (c == null || c.epoch != cp.epoch) { t.ckpts.delete(id); return; }
  if (c.state == S_RUNNING && nextOwner(n, id, c.spec.kind) != cp.to) replicate(n, c, cp);
}

/**
 * A member goes down (before it is removed): the children it still ran that were moving away
 * from it (placed elsewhere, or it was draining) and are ours now were moving to us, so their
 * HANDOFF is expected (it may be lost). A child it ran as its owner fails over: its checkpoint,
 * if any, is the contract there, not a handoff.
 */
export function handoffsMemberDown(n: Node, m: Member): void {
  // A walk by slot (a failover looks at every claim of the lost member: thousands).
  const cs = m.claims;
  const store = n.desired.store;
  const draining = m.stateMode == PM_DRAINING;
  for (let s = 0, end = cs.slots; s < end; s++) {
    const h = cs.hashAt(s);
    if (h < 2) continue;
    const c = cs.valueAt(s);
    if (c.status != C_RUNNING && c.status != C_STOPPING) continue;
    const id = cs.keyAt(s);
    const at = store.findHashed(id, h);
    if (at < 0) continue;
    const e = n.desired.effectiveAt(at);
    if (e.spec.failed) continue;
    const set = candidates(n, e.spec.kind);
    const idh = xxh64String(id, 0);
    const w = placeIn(idh, set);
    if (w < 0) continue;
    let to: string;
    if (set.cands[w].name != m.name) to = ownerOf(n, id, e.spec.kind);
    else if (draining) { const open = openSet(set); const j = placeIn(idh, open); to = j < 0 ? '' : open.cands[j].name; }
    else continue;
    if (to == n.name && !n.handoff.expected.has(id)) n.handoff.expected.set(id, new Expected(m.name, c.epoch));
  }
}

/**
 * Right before the FX_RUN of a start: the copy this node holds, if any, goes to the runner first.
 * A HANDOFF expected and not received is reported lost; the instance's checkpoint, if held, is used.
 */
export function rehydrateFor(n: Node, id: string, epoch: u32): void {
  const t = n.handoff;
  const ex = t.expected.find(id);
  const want: Expected | null = ex >= 0 ? t.expected.valueAt(ex) : null;
  if (want != null) t.expected.delete(id);
  const at = t.copies.find(id);
  let copy: StateCopy | null = at >= 0 ? t.copies.valueAt(at) : null;
  if (copy == null && t.sent.has(id)) {
    // Ours again before any instance started elsewhere: the state we sent is still the latest.
    const s = t.sent.get(id);
    t.sent.delete(id);
    if (s.has) { copy = s.copy; t.copies.set(id, copy); }
  }
  if (want != null && (copy == null || copy.source == SRC_CHECKPOINT || copy.from != want.from || copy.epoch != want.epoch)) {
    const fallback = copy != null && copy.source == SRC_CHECKPOINT ? ', starting from its checkpoint' : ', starting fresh';
    fxEvent(OE_HANDOFF_FAILED, id, 'lost', n.name, 'no state from ' + want.from + fallback, <f64>want.epoch, 0);
  }
  if (copy == null) return;
  t.copies.delete(id);
  if (copy.source == SRC_NONE) return;
  const lat = n.locals.find(id);
  if (lat >= 0) { n.locals.valueAt(lat).stateFrom = copy.from; n.locals.valueAt(lat).stateEpoch = copy.epoch; }
  const source = copy.source == SRC_HANDOFF ? 'handoff' : 'checkpoint';
  fxRehydrate(id, epoch, copy.version, source, copy.from, copy.bytes);
  fxEvent(OE_CHILD_REHYDRATED, id, source, copy.from, '', <f64>copy.version, <f64>copy.bytes.length);
}

// ---- the deadline row (node.ts T_HANDOFFS) ----------------------------------------------------

export function handoffsDue(n: Node): i64 {
  let at = i64.MAX_VALUE;
  const t = n.handoff.asked;
  if (t.size == 0) return at;
  const vs = t.values();
  for (let i = 0; i < vs.length; i++) if (vs[i].until < at) at = vs[i].until;
  return at;
}

/** Children that did not give their state in time move without it (fresh) and stop now. */
export function handoffsFire(n: Node): void {
  const t = n.handoff.asked;
  const ids = t.keys();
  for (let i = 0; i < ids.length; i++) {
    const a = t.get(ids[i]);
    if (a.until > n.now) continue;
    const c = askedChild(n, ids[i], a.epoch);
    t.delete(ids[i]);
    if (c == null) continue;
    handOffFresh(n, c, ownerOf(n, c.id, c.spec.kind), 'timeout', 'no state within ' + n.handoff.timeoutMs.toString() + ' ms');
    stopLocal(n, c, a.why);
  }
}

// ---- helpers ----------------------------------------------------------------------------------

/** The local child asked for its state at `epoch`, still running; null (and the ask dropped) otherwise. */
function askedChild(n: Node, id: string, epoch: u32): LocalChild | null {
  const t = n.handoff.asked;
  const at = t.find(id);
  if (at < 0 || t.valueAt(at).epoch != epoch) return null;
  const lat = n.locals.find(id);
  const c: LocalChild | null = lat >= 0 ? n.locals.valueAt(lat) : null;
  if (c == null || c.epoch != epoch || c.state != S_RUNNING) { t.delete(id); return null; }
  return c;
}

function handOff(n: Node, c: LocalChild, to: string, copy: StateCopy): void {
  if (to == n.name) { keepCopy(n, c.id, copy); return; } // ours again: we start it with the state
  const link = linkTo(n, to);
  if (link == 0) { fxEvent(OE_HANDOFF_FAILED, c.id, to.length ? 'no_link' : 'no_owner', to, '', <f64>c.epoch, 0); return; }
  const s = new Sent(to, true, copy);
  n.handoff.sent.set(c.id, s);
  sendHandoff(n, c.id, s, link);
  fxEvent(OE_HANDOFF, c.id, to, '', '', <f64>copy.version, <f64>copy.bytes.length);
}

function sendHandoff(n: Node, id: string, s: Sent, link: u32): void {
  const w = n.outbox.frame(MSG_HANDOFF);
  w.str(id);
  w.bool(s.has);
  w.u32(s.copy.epoch);
  w.u32(s.copy.version);
  w.bytes(s.copy.bytes);
  n.outbox.to(link);
}

/** A member (re)connected on `link`: the HANDOFFs for it go again, ahead of our full claims. */
export function handoffsOnConnect(n: Node, m: Member, link: u32): void {
  const t = n.handoff.sent;
  if (t.size == 0) return;
  const ids = t.keys();
  for (let i = 0; i < ids.length; i++) {
    const s = t.get(ids[i]);
    if (s.to == m.name) sendHandoff(n, ids[i], s, link);
  }
}

/** The move goes without a state: the event, and the new owner drops any copy it holds (a checkpoint). */
function handOffFresh(n: Node, c: LocalChild, to: string, reason: string, message: string): void {
  fxEvent(OE_HANDOFF_FAILED, c.id, reason, to, message, <f64>c.epoch, 0);
  tellFresh(n, c, to);
}

/** A HANDOFF without a state: the new owner starts the child fresh, and drops any copy it holds. */
function tellFresh(n: Node, c: LocalChild, to: string): void {
  if (to == n.name) { if (n.handoff.copies.has(c.id)) n.handoff.copies.delete(c.id); return; }
  const link = linkTo(n, to);
  if (link == 0) return;
  const s = new Sent(to, false, new StateCopy(n.name, c.epoch, 0, new Uint8Array(0), SRC_HANDOFF));
  n.handoff.sent.set(c.id, s);
  sendHandoff(n, c.id, s, link);
}

function keepCopy(n: Node, id: string, copy: StateCopy): void {
  copy.at = n.now;
  n.handoff.copies.set(id, copy);
}

function replicate(n: Node, c: LocalChild, cp: Checkpoint): void {
  const to = nextOwner(n, c.id, c.spec.kind);
  cp.to = to;
  const link = linkTo(n, to);
  if (link == 0) return;
  const w = n.outbox.frame(MSG_CHECKPOINT);
  w.str(c.id);
  w.u32(cp.epoch);
  w.u32(cp.version);
  w.bytes(cp.bytes);
  n.outbox.to(link);
}

function linkTo(n: Node, name: string): u32 {
  if (name.length == 0 || name == n.name || !n.members.has(name)) return 0;
  return n.members.get(name).link;
}

/** The member that would own the child if this node went away ('' when none could). */
export function nextOwner(n: Node, id: string, kind: string): string {
  const base = candidates(n, kind);
  const t = n.handoff.nextSets;
  const at = t.find(kind);
  let ns: NextSet | null = at >= 0 ? t.valueAt(at) : null;
  if (ns == null || ns.base !== base) {
    const list = new Array<Candidate>();
    for (let i = 0; i < base.cands.length; i++) if (base.cands[i].name != n.name) list.push(base.cands[i]);
    ns = new NextSet(base, new CandidateSet(list));
    t.set(kind, ns);
  }
  const i = placeIn(xxh64String(id, 0), ns.next);
  return i < 0 ? '' : ns.next.cands[i].name;
}
