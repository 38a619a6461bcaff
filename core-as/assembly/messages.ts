// Messages to children by id: `send` (no reply) and `call` (one reply), routed by the core.
//
// Protocol (docs/PROTOCOL.md "Messages"):
//  - A sender keeps a **route** per child it sends to: the messages not yet delivered, in
//    sequence order (`seq` per route; a route has a generation `gen`, fresh whenever the route is
//    created, so a route dropped when empty never reuses a sequence number). It sends them to the
//    member that runs the child (a running claim, else a starting one, else the placement owner),
//    in MESSAGE frames; each group says `base`, the oldest seq the route still holds.
//  - The receiver delivers a message only to a running local instance and only in order: seq must
//    be max(last delivered + 1, base) for that sender and generation; an older seq is a duplicate,
//    dropped. It answers MESSAGE_ACK per child: DELIVERED up to seq, or WAIT from seq on (nothing
//    from seq on was delivered: the child does not run here), and later READY once it runs here.
//  - The sender drops what is DELIVERED (resolving `send`), takes WAITed messages back, and sends
//    them again only after READY, a change of target, or MESSAGE_RETRY_MS. It switches target only
//    when nothing is in flight, so every message is answered by the member it went to before it
//    can go anywhere else: none is delivered twice, and per-sender order holds across moves.
//  - A member lost (or whose link broke) with messages in flight cannot say whether it delivered
//    them: they fail with R_DELIVERY_UNKNOWN, never resent. Waiting messages are bounded per child
//    in count (R_BUFFER_FULL) and time (R_MSG_TIMEOUT); an id that is not desired is R_NOT_FOUND.
//  - A call's reply goes straight back to the caller (REPLY), not buffered: a lost one ends in
//    the caller's timeout. A call whose instance ends before it answers is answered CALL_STOPPED
//    by its member at the exit (call-stops.ts).
//
// Why buffering is here and on the sender: the rule (order, at most once, bounds) is the same on
// every host, and the sender is the only node that knows every message it has not seen delivered;
// the receiver keeps only one sequence number per sender per local child.

import { Reader } from './io';
import { MSG_MESSAGE_ACK, MSG_REPLY } from './codec';
import {
  R_OK, R_NOT_FOUND, R_NOT_RUNNING, R_BUFFER_FULL, R_MSG_TIMEOUT, R_DELIVERY_UNKNOWN, R_TOO_LARGE,
} from './boundary';
import {
  ID_BYTES_MAX, API_ID_BYTES_MAX, NAME_BYTES_MAX, WIRE_ITEMS_MAX, MESSAGE_BUFFER_DEFAULT, MESSAGE_BUFFER_DEFAULT_MS,
  MESSAGE_PAYLOAD_DEFAULT_BYTES, MESSAGE_PAYLOAD_BYTES_MAX, MESSAGE_RETRY_MS, MESSAGE_WAITERS_MAX,
  MESSAGE_MARKS_KEPT_MS, MESSAGE_MARKS_KEPT_TIMEOUTS, MESSAGE_MARKS_SWEEP_MS, MESSAGE_FAILED_CALLS_MAX,
} from './limits';
import { Node } from './node';
import { Member, LocalChild, S_RUNNING, C_RUNNING, C_STARTING, C_RESTARTING } from './model';
import { fxDeliver, fxCallReply, fxMessageStatus, fxMessagesDelivered } from './effects';
import { StrMap, StrSet } from './strmap';
import { ownerOf } from './ownership';
import { handingOff } from './handoff';
import { MessageBatches } from './message-batches';
import { callDelivered, callAnswered, flushCallStops } from './call-stops';

// MESSAGE_ACK codes.
export const ACK_DELIVERED: u8 = 0; // every message up to seq reached the running instance
export const ACK_WAIT: u8 = 1;      // seq and every later one were not delivered
export const ACK_READY: u8 = 2;     // the child now runs here: send again
const ACK_CODE_MAX: u8 = 2;

/** One message a sender holds until its target answers. */
class Outgoing {
  /** A call whose REPLY came while it still waited for its target's DELIVERED: it was delivered. */
  answered: bool = false;
  constructor(public seq: u64, public req: u32, public call: bool, public payload: Uint8Array, public at: i64) {}
}

/** What one sender holds for one child (see the protocol above). */
export class Route {
  msgs: Array<Outgoing> = [];
  /** msgs[head..] are held; the ones before were answered. */
  head: i32 = 0;
  nextSeq: u64 = 1;
  /** msgs[head, head + inFlight) went to `target` and wait for its answer. */
  inFlight: i32 = 0;
  /** The member the in-flight messages went to (null: none, or this node), and over which link. */
  target: Member | null = null;
  targetLink: u32 = 0;
  /** The target said WAIT: no resend before READY, a change of target or `retryAt`. */
  waiting: bool = false;
  waitingOn: string = '';
  retryAt: i64 = 0;
  /**
   * Each (re)send after messages were taken back starts a new round (node-wide counter); answers
   * carry the round they answer, and those of an earlier round are about messages taken back.
   */
  round: u32 = 0;
  constructor(public id: string, public gen: u64) {}
  get held(): i32 { return this.msgs.length - this.head; }
  get base(): u64 { return this.head < this.msgs.length ? this.msgs[this.head].seq : this.nextSeq; }
  /** Drops answered messages from the front once they are half the array. */
  compact(): void {
    if (this.head > 64 && this.head * 2 > this.msgs.length) { this.msgs = this.msgs.slice(this.head); this.head = 0; }
  }
}

/**
 * The last message a child took here from one sender (route generation and seq; 0: none yet),
 * and the latest round of that sender's this node has answered for the child.
 */
class SenderMark {
  constructor(public inc: u64, public gen: u64, public seq: u64, public round: u32) {}
}

/**
 * A child's marks on this node. They outlive its local instance by MESSAGE_MARKS_KEPT_MS, so a
 * sender that resends over a new link what it sent before the old one broke learns it was
 * delivered, even when the instance has stopped meanwhile.
 */
class Marks {
  senders: StrMap<SenderMark> = new StrMap<SenderMark>();
  /** When no local instance was seen any more (-1 while there is one). */
  releasedAt: i64 = -1;
}

class Answer {
  constructor(public id: string, public code: u8, public seq: u64, public round: u32) {}
}

export class Messages {
  bufferMax: i32 = MESSAGE_BUFFER_DEFAULT;
  bufferMs: i64 = MESSAGE_BUFFER_DEFAULT_MS;
  maxPayloadBytes: i32 = MESSAGE_PAYLOAD_DEFAULT_BYTES;
  routes: StrMap<Route> = new StrMap<Route>();
  /** Routes to look at in this step's flush. */
  dirty: StrSet = new StrSet();
  allDirty: bool = false;
  gens: u64 = 0;
  rounds: u32 = 0;
  /** Per child id, the members told WAIT here that want a READY when it runs. */
  waiters: StrMap<Array<string>> = new StrMap<Array<string>>();
  /** Answers of this step, per member name, sent at its end over the member's link of that moment. */
  answers: Map<string, Array<Answer>> = new Map();
  marks: StrMap<Marks> = new StrMap<Marks>();
  nextSweep: i64 = i64.MAX_VALUE;
  /** Calls sent from here and not settled yet, by request (a REPLY may come before the DELIVERED). */
  calls: Map<u32, Outgoing> = new Map();
  /** Calls settled with a failure, oldest first (a ring of MESSAGE_FAILED_CALLS_MAX): a late REPLY to one is dropped. */
  failedCalls: Set<u32> = new Set();
  failedOrder: Array<u32> = [];
  failedNext: i32 = 0;
  /** The earliest time a held message expires or a waiting route retries (i64.MAX: none). */
  nextDue: i64 = i64.MAX_VALUE;
  /** This step's MESSAGE frames, per link, filled by the routes and sent at the end of their flush. */
  batches: MessageBatches = new MessageBatches();
  /** Requests settled R_OK in this step, reported together at its end (FX_MESSAGES_DELIVERED). */
  delivered: Array<u32> = [];
}

// ---- events in: the API and the runner -------------------------------------------------------

export function configureMessages(n: Node, r: Reader): void {
  const max = <i32>r.u32();
  const ms = <i64>r.u32();
  const bytes = <i32>r.u32();
  if (!r.ok) return;
  const m = n.msgs;
  if (max > 0) m.bufferMax = max;
  if (ms > 0) m.bufferMs = ms;
  if (bytes > 0) m.maxPayloadBytes = min(bytes, MESSAGE_PAYLOAD_BYTES_MAX);
}

/** sup.send / sup.call: `req` is the host's id for the message; a call wants a reply. */
export function sendMessage(n: Node, req: u32, call: bool, r: Reader): void {
  const id = r.str(API_ID_BYTES_MAX);
  const len = <i32>r.u32();
  if (!r.ok || len < 0 || len > r.remaining) { fxMessageStatus(req, R_TOO_LARGE); return; }
  if (!n.initialised || n.left) { fxMessageStatus(req, R_NOT_RUNNING); return; }
  if (len > n.msgs.maxPayloadBytes) { fxMessageStatus(req, R_TOO_LARGE); return; }
  const e = n.desired.get(id);
  if (e != null ? e.spec.failed : claimant(n, id) == null) { fxMessageStatus(req, R_NOT_FOUND); return; }
  const m = n.msgs;
  let route: Route;
  const at = m.routes.find(id);
  if (at >= 0) route = m.routes.valueAt(at);
  else { m.gens++; route = new Route(id, m.gens); m.routes.set(id, route); }
  if (route.held >= m.bufferMax) { fxMessageStatus(req, R_BUFFER_FULL); return; }
  const o = new Outgoing(route.nextSeq++, req, call, r.fixed(len), n.now);
  route.msgs.push(o);
  if (call) m.calls.set(req, o);
  m.dirty.add(id);
}

/** A child answered a call: to the caller, here or over its member link. */
export function replyMessage(n: Node, r: Reader): void {
  const caller = r.str(NAME_BYTES_MAX);
  const inc = r.u64();
  const req = r.u32();
  const len = <i32>r.u32();
  if (!r.ok || len < 0 || len > r.remaining) return;
  if (!callAnswered(n, caller, inc, req)) return; // its instance ended first: answered CALL_STOPPED
  if (caller == n.name) {
    if (inc == n.inc) fxCallReply(req, r.ptr + <usize>r.pos, len);
    return;
  }
  if (!n.members.has(caller)) return;
  const m = n.members.get(caller);
  if (m.inc != inc || m.link == 0) return;
  const w = n.outbox.frame(MSG_REPLY);
  w.u64(inc);
  w.u32(req);
  w.u32(<u32>len);
  w.raw(r.ptr + <usize>r.pos, len);
  n.outbox.to(m.link);
}

/** A local child runs: the routes that wait for it here, and the members told to wait, may go. */
export function messagesChildRunning(n: Node, id: string): void {
  const m = n.msgs;
  if (m.routes.has(id)) m.dirty.add(id);
  const at = m.waiters.find(id);
  if (at < 0) return;
  const names = m.waiters.valueAt(at);
  m.waiters.delete(id);
  for (let i = 0; i < names.length; i++) answer(n, names[i], id, ACK_READY, 0, 0);
}

/** A claim of another member changed, or membership did: the route may have a new target. */
export function messagesRetarget(n: Node, id: string): void {
  if (n.msgs.routes.has(id)) n.msgs.dirty.add(id);
}

// ---- frames in -------------------------------------------------------------------------------

class InGroup {
  msgs: Array<InMsg> = [];
  constructor(public id: string, public gen: u64, public base: u64, public round: u32) {}
}
class InMsg {
  constructor(public seq: u64, public req: u32, public ptr: usize, public len: i32) {}
}

/** MESSAGE: list<str id, u64 gen, u64 base, u32 round, list<u64 seq, u32 req, bytes payload>>. */
export function onMessage(n: Node, from: Member, link: u32, r: Reader): bool {
  // Validate the whole frame first; payloads are referenced in place, copied only when delivered.
  const ng = r.count(WIRE_ITEMS_MAX, 24);
  const groups = new Array<InGroup>();
  for (let g = 0; g < ng && r.ok; g++) {
    const id = r.str(ID_BYTES_MAX);
    const gen = r.u64();
    const base = r.u64();
    const grp = new InGroup(id, gen, base, r.u32());
    const nm = r.count(WIRE_ITEMS_MAX, 16);
    for (let i = 0; i < nm && r.ok; i++) {
      const seq = r.u64();
      const req = r.u32();
      const len = <i32>r.u32();
      if (!r.ok || len < 0 || len > r.remaining || len > MESSAGE_PAYLOAD_BYTES_MAX) return false;
      grp.msgs.push(new InMsg(seq, req, r.ptr + <usize>r.pos, len));
      r.skip(len);
    }
    if (id.length == 0) return false;
    groups.push(grp);
  }
  if (!r.ok || r.remaining != 0) return false;
  for (let g = 0; g < groups.length; g++) receiveGroup(n, from, groups[g]);
  return true;
}

function receiveGroup(n: Node, from: Member, g: InGroup): void {
  if (olderRoute(n, g.id, from.name, from.inc, g.gen, g.round)) return;
  noteRound(n, g.id, from.name, from.inc, g.gen, g.round);
  const at = n.locals.find(g.id);
  const c: LocalChild | null = at >= 0 ? n.locals.valueAt(at) : null;
  let lastDelivered: u64 = 0;
  for (let i = 0; i < g.msgs.length; i++) {
    const msg = g.msgs[i];
    const code = receiveOne(n, g.id, c, from.name, from.inc, g.gen, g.base, msg.seq, msg.req, msg.ptr, msg.len);
    if (code == ACK_DELIVERED) { lastDelivered = msg.seq; continue; }
    if (lastDelivered > 0) answer(n, from.name, g.id, ACK_DELIVERED, lastDelivered, g.round);
    answer(n, from.name, g.id, ACK_WAIT, msg.seq, g.round);
    rememberWaiter(n, g.id, from.name);
    return;
  }
  if (lastDelivered > 0) answer(n, from.name, g.id, ACK_DELIVERED, lastDelivered, g.round);
}

/**
 * A group older than one this node already answered for the child from the same sender
 * incarnation: of an older route (generations only grow, and a route is dropped only once all its
 * messages settled), or of an earlier round (a sender's rounds only grow, and it starts a round
 * only when it holds nothing in flight: it took that round's messages back or sent them again
 * over another link). A copy that came late over another link (a retired duplicate): delivering
 * it would deliver a message the sender took back, which it may then fail with TimeoutError or
 * send to another member (simulator seed 3103 --cordons). Nothing waits for its answer.
 */
function olderRoute(n: Node, id: string, sender: string, inc: u64, gen: u64, round: u32): bool {
  const mat = n.msgs.marks.find(id);
  if (mat < 0) return false;
  const marks = n.msgs.marks.valueAt(mat);
  const at = marks.senders.find(sender);
  if (at < 0) return false;
  const mark = marks.senders.valueAt(at);
  return mark.inc == inc && (gen < mark.gen || (gen == mark.gen && round < mark.round));
}

/** Keeps the round of a group it answers (delivered or WAIT): its earlier rounds are stale from now on. */
function noteRound(n: Node, id: string, sender: string, inc: u64, gen: u64, round: u32): void {
  let marks: Marks;
  const mat = n.msgs.marks.find(id);
  if (mat >= 0) marks = n.msgs.marks.valueAt(mat);
  else {
    marks = new Marks();
    n.msgs.marks.set(id, marks);
    if (n.msgs.nextSweep == i64.MAX_VALUE) n.msgs.nextSweep = n.now + MESSAGE_MARKS_SWEEP_MS;
  }
  const at = marks.senders.find(sender);
  if (at < 0) { marks.senders.set(sender, new SenderMark(inc, gen, 0, round)); return; }
  const mark = marks.senders.valueAt(at);
  if (mark.inc != inc) { mark.inc = inc; mark.gen = gen; mark.seq = 0; mark.round = round; return; }
  if (mark.gen != gen) { mark.gen = gen; mark.seq = 0; }
  if (round > mark.round) mark.round = round;
}

/** One message for a local child: delivered (or a duplicate of one delivered), or WAIT. */
function receiveOne(n: Node, id: string, c: LocalChild | null, sender: string, inc: u64, gen: u64, base: u64, seq: u64, req: u32, ptr: usize, len: i32): u8 {
  let marks: Marks | null = null;
  let mark: SenderMark | null = null;
  const mat = n.msgs.marks.find(id);
  if (mat >= 0) {
    marks = n.msgs.marks.valueAt(mat);
    const at = marks.senders.find(sender);
    if (at >= 0) mark = marks.senders.valueAt(at);
  }
  const same = mark != null && mark.inc == inc && mark.gen == gen;
  if (same && seq <= mark!.seq) return ACK_DELIVERED;
  if (c == null || c.state != S_RUNNING || handingOff(n, c)) return ACK_WAIT;
  let expected = base;
  if (same && mark!.seq + 1 > expected) expected = mark!.seq + 1;
  if (seq != expected) return ACK_WAIT;
  if (marks == null) { marks = new Marks(); n.msgs.marks.set(id, marks); }
  marks.releasedAt = -1;
  if (mark == null) { mark = new SenderMark(inc, gen, seq, 0); marks.senders.set(sender, mark); }
  else { mark.inc = inc; mark.gen = gen; mark.seq = seq; }
  if (n.msgs.nextSweep == i64.MAX_VALUE) n.msgs.nextSweep = n.now + MESSAGE_MARKS_SWEEP_MS;
  fxDeliver(c.id, c.epoch, sender, inc, req, ptr, len);
  if (req > 0) callDelivered(n, c.id, c.epoch, sender, inc, req);
  return ACK_DELIVERED;
}

function rememberWaiter(n: Node, id: string, name: string): void {
  const w = n.msgs.waiters;
  const at = w.find(id);
  if (at >= 0) { const names = w.valueAt(at); if (!names.includes(name)) names.push(name); return; }
  if (w.size >= MESSAGE_WAITERS_MAX) return;
  const names = new Array<string>();
  names.push(name);
  w.set(id, names);
}

function answer(n: Node, member: string, id: string, code: u8, seq: u64, round: u32): void {
  const a = n.msgs.answers;
  if (!a.has(member)) a.set(member, new Array<Answer>());
  a.get(member).push(new Answer(id, code, seq, round));
}

/** MESSAGE_ACK: list<str id, u8 code, u64 seq, u32 round>. */
export function onMessageAck(n: Node, from: Member, r: Reader): bool {
  const count = r.count(WIRE_ITEMS_MAX, 17);
  const list = new Array<Answer>();
  for (let i = 0; i < count && r.ok; i++) {
    const id = r.str(ID_BYTES_MAX);
    const code = r.u8();
    const seq = r.u64();
    const round = r.u32();
    if (code > ACK_CODE_MAX) return false;
    list.push(new Answer(id, code, seq, round));
  }
  if (!r.ok || r.remaining != 0) return false;
  for (let i = 0; i < list.length; i++) applyAnswer(n, from, list[i]);
  return true;
}

function applyAnswer(n: Node, from: Member, a: Answer): void {
  const m = n.msgs;
  const at = m.routes.find(a.id);
  if (at < 0) return;
  const route = m.routes.valueAt(at);
  if (a.code == ACK_READY) {
    if (route.waiting && route.waitingOn == from.name) { route.waiting = false; m.dirty.add(a.id); }
    return;
  }
  // Answers of another round, or from a member the route no longer sends to, are about messages
  // already taken back (a link is FIFO: they all arrive before any answer of the current round).
  if (route.target != from || a.round != route.round) return;
  if (a.code == ACK_DELIVERED) {
    while (route.inFlight > 0 && route.msgs[route.head].seq <= a.seq) {
      settle(n, route.msgs[route.head], R_OK);
      route.head++;
      route.inFlight--;
    }
  } else {
    // WAIT: nothing from a.seq on was delivered; the messages before it are answered separately.
    let keep = 0;
    while (keep < route.inFlight && route.msgs[route.head + keep].seq < a.seq) keep++;
    if (keep == route.inFlight) return; // a WAIT for messages already taken back
    route.inFlight = keep;
    route.waiting = true;
    route.waitingOn = from.name;
    route.retryAt = n.now + MESSAGE_RETRY_MS;
  }
  if (route.inFlight == 0) route.target = null;
  route.compact();
  m.dirty.add(a.id);
}

/** REPLY: u64 callerInc, u32 req, bytes payload. */
export function onReply(n: Node, r: Reader): bool {
  const inc = r.u64();
  const req = r.u32();
  const len = <i32>r.u32();
  if (!r.ok || len < 0 || len != r.remaining) return false;
  if (inc != n.inc) return true;
  // The caller was told the call failed (its target was lost, then came back on a new link).
  if (n.msgs.failedCalls.has(req)) { n.msgs.failedCalls.delete(req); return true; }
  fxCallReply(req, r.ptr + <usize>r.pos, len);
  if (n.msgs.calls.has(req)) n.msgs.calls.get(req).answered = true;
  return true;
}

/**
 * A message's outcome for the host, exactly once (a call's answer follows its R_OK separately).
 * A call that was answered was delivered, whatever became of its DELIVERED (a REPLY and then a
 * lost link before the MESSAGE_ACK): it settles R_OK, never R_DELIVERY_UNKNOWN. Deliveries are
 * the common case, thousands a step under load: they go out as one record.
 */
function settle(n: Node, o: Outgoing, code: u8): void {
  const c = o.answered ? R_OK : code;
  if (o.call) {
    n.msgs.calls.delete(o.req);
    if (c != R_OK) rememberFailedCall(n.msgs, o.req);
  }
  if (c == R_OK) n.msgs.delivered.push(o.req);
  else fxMessageStatus(o.req, c);
}

export function rememberFailedCall(m: Messages, req: u32): void {
  if (m.failedOrder.length < MESSAGE_FAILED_CALLS_MAX) m.failedOrder.push(req);
  else {
    m.failedCalls.delete(m.failedOrder[m.failedNext]);
    m.failedOrder[m.failedNext] = req;
    m.failedNext = (m.failedNext + 1) % MESSAGE_FAILED_CALLS_MAX;
  }
  m.failedCalls.add(req);
}

// ---- end of step: routes out, answers out ----------------------------------------------------

/** End of step: every dirty route sends what it can; this step's answers go out, one frame per link. */
export function flushMessages(n: Node): void {
  const m = n.msgs;
  if (m.allDirty) {
    m.allDirty = false;
    const ids = m.routes.keys();
    for (let i = 0; i < ids.length; i++) m.dirty.add(ids[i]);
  }
  if (m.dirty.size > 0) {
    const ids = m.dirty.values();
    m.dirty.clear();
    for (let i = 0; i < ids.length; i++) if (m.routes.has(ids[i])) flushRoute(n, m.routes.get(ids[i]));
    m.batches.flush(n.outbox);
    computeDue(n);
  }
  if (m.answers.size > 0) {
    // To the member's link of this moment: a sender whose link was replaced resends over the
    // new one anyway, and these answers tell it what already arrived.
    const names = m.answers.keys();
    for (let i = 0; i < names.length; i++) {
      if (!n.members.has(names[i]) || n.members.get(names[i]).link == 0) continue;
      const list = m.answers.get(names[i]);
      const w = n.outbox.frame(MSG_MESSAGE_ACK);
      w.u32(<u32>list.length);
      for (let j = 0; j < list.length; j++) { w.str(list[j].id); w.u8(list[j].code); w.u64(list[j].seq); w.u32(list[j].round); }
      n.outbox.to(n.members.get(names[i]).link);
    }
    m.answers.clear();
  }
  flushCallStops(n);
  if (m.delivered.length > 0) { fxMessagesDelivered(m.delivered); m.delivered.length = 0; }
}

/** The message timer row: held messages past bufferMs fail, waiting routes ask again. */
export function messagesDue(n: Node): i64 { return min(n.msgs.nextDue, n.msgs.nextSweep); }

export function messagesFire(n: Node): void {
  const m = n.msgs;
  if (m.nextDue <= n.now) {
    const ids = m.routes.keys();
    for (let i = 0; i < ids.length; i++) m.dirty.add(ids[i]);
    m.nextDue = i64.MAX_VALUE;
  }
  if (m.nextSweep <= n.now) sweepMarks(n);
}

/** Marks of children that no longer run here are kept MESSAGE_MARKS_KEPT_MS, then dropped. */
function sweepMarks(n: Node): void {
  const m = n.msgs;
  const keep = max(MESSAGE_MARKS_KEPT_MS, n.cfg.failureTimeoutMs * MESSAGE_MARKS_KEPT_TIMEOUTS);
  const ids = m.marks.keys();
  for (let i = 0; i < ids.length; i++) {
    const mk = m.marks.get(ids[i]);
    if (n.locals.has(ids[i])) { mk.releasedAt = -1; continue; }
    if (mk.releasedAt < 0) mk.releasedAt = n.now;
    else if (n.now - mk.releasedAt >= keep) m.marks.delete(ids[i]);
  }
  m.nextSweep = m.marks.size > 0 ? n.now + MESSAGE_MARKS_SWEEP_MS : i64.MAX_VALUE;
}

function computeDue(n: Node): void {
  const m = n.msgs;
  let due = i64.MAX_VALUE;
  const ids = m.routes.keys();
  for (let i = 0; i < ids.length; i++) {
    const route = m.routes.get(ids[i]);
    const first = route.head + route.inFlight;
    if (first < route.msgs.length) {
      const t = route.msgs[first].at + m.bufferMs;
      if (t < due) due = t;
      if (route.waiting && route.retryAt < due) due = route.retryAt;
    }
  }
  m.nextDue = due;
}

function flushRoute(n: Node, route: Route): void {
  const m = n.msgs;
  const e = n.desired.get(route.id);
  const via = e == null ? claimant(n, route.id) : null;
  const desired = e != null ? !e.spec.failed : via != null;
  if (route.inFlight > 0) {
    const t = route.target;
    if (t == null || !n.members.is(t)) {
      // In flight to a member that is gone: it may have delivered them, and nobody can tell.
      for (let i = 0; i < route.inFlight; i++) settle(n, route.msgs[route.head + i], R_DELIVERY_UNKNOWN);
      route.head += route.inFlight;
      route.inFlight = 0;
      route.target = null;
    } else if (t.link != route.targetLink) {
      // Its link broke or was replaced: to the same member again, over the new link, in a new
      // round (its marks answer DELIVERED for what had arrived). Nowhere else before it answers.
      if (t.link == 0) return;
      route.inFlight = 0;
      sendTo(n, route, t);
      return;
    }
  }
  expire(n, route, desired);
  if (route.held == 0) { m.routes.delete(route.id); return; }
  if (!desired) return;
  const to = e != null ? targetOf(n, route.id, e.spec.kind) : via;
  if (route.inFlight > 0 && to != route.target) return; // answers first, then the new target
  if (route.waiting) {
    const sameTarget = to == null ? route.waitingOn == n.name : route.waitingOn == to.name;
    if (sameTarget && n.now < route.retryAt) return;
    route.waiting = false;
  }
  if (to == null) { deliverLocally(n, route); return; }
  if (to.link == 0) return;
  sendTo(n, route, to);
}

/** Held messages past bufferMs (not in flight), or for an id no longer desired, fail. */
function expire(n: Node, route: Route, desired: bool): void {
  const from = route.head + route.inFlight;
  let cut = from;
  const deadline = n.now - n.msgs.bufferMs;
  while (cut < route.msgs.length && (!desired || route.msgs[cut].at <= deadline)) cut++;
  if (cut == from) return;
  for (let i = from; i < cut; i++) settle(n, route.msgs[i], desired ? R_MSG_TIMEOUT : R_NOT_FOUND);
  route.msgs.splice(from, cut - from);
}

/**
 * Where a child's messages go: the member that claims it running, else starting or restarting,
 * else its owner by placement. Null means this node (it runs here, or is its owner), and also
 * when no live member can run its kind (then the messages wait for their deadline here).
 */
function targetOf(n: Node, id: string, kind: string): Member | null {
  const lat = n.locals.find(id);
  if (lat >= 0 && n.locals.valueAt(lat).state == S_RUNNING) return null;
  const c = claimant(n, id);
  if (c != null) return c;
  if (lat >= 0) return null;
  const owner = ownerOf(n, id, kind);
  if (owner.length == 0 || owner == n.name || !n.members.has(owner)) return null;
  return n.members.get(owner);
}

/**
 * A live member that claims an id not desired here (running first, else starting): a start this
 * node has not heard of yet, whose claim came over a shorter path than its delta (a tab hears the
 * runner directly, the starter through a gateway), or a terminated child not yet stopped. Its
 * messages go there: the claimant delivers them or answers WAIT, and they fail NOT_FOUND once
 * neither a desired entry nor a claim is left. So a child shown by whichChildren('global') takes calls.
 */
function claimant(n: Node, id: string): Member | null {
  const ms = n.members.list;
  let starting: Member | null = null;
  for (let i = 0; i < ms.length; i++) {
    const at = ms[i].claims.find(id);
    if (at < 0) continue;
    const st = ms[i].claims.valueAt(at).status;
    if (st == C_RUNNING) return ms[i];
    if ((st == C_STARTING || st == C_RESTARTING) && starting == null) starting = ms[i];
  }
  return starting;
}

function deliverLocally(n: Node, route: Route): void {
  const at = n.locals.find(route.id);
  const c: LocalChild | null = at >= 0 ? n.locals.valueAt(at) : null;
  while (route.head < route.msgs.length) {
    const o = route.msgs[route.head];
    const code = receiveOne(n, route.id, c, n.name, n.inc, route.gen, route.base, o.seq, o.call ? o.req : 0, o.payload.dataStart, o.payload.length);
    if (code != ACK_DELIVERED) {
      route.waiting = true;
      route.waitingOn = n.name;
      route.retryAt = n.now + MESSAGE_RETRY_MS;
      break;
    }
    settle(n, o, R_OK);
    route.head++;
  }
  route.compact();
  if (route.held == 0) n.msgs.routes.delete(route.id);
}

/**
 * Sends the held messages not yet in flight to `to`: groups in this step's MESSAGE frames to its
 * link (message-batches.ts), of about MESSAGE_BATCH_BYTES each.
 */
function sendTo(n: Node, route: Route, to: Member): void {
  let i = route.head + route.inFlight;
  if (i >= route.msgs.length) return;
  if (route.inFlight == 0) { n.msgs.rounds++; route.round = n.msgs.rounds; }
  route.target = to;
  route.targetLink = to.link;
  const b = n.msgs.batches;
  const link = to.link;
  while (i < route.msgs.length) {
    let room = b.room(link, route.id);
    // A first message that does not fit what is left of the frame starts the next one.
    if (route.msgs[i].payload.length + 16 > room) { b.send(n.outbox, link); room = b.room(link, route.id); }
    const w = b.writer(link);
    w.str(route.id);
    w.u64(route.gen);
    w.u64(route.base);
    w.u32(route.round);
    const countAt = w.len;
    w.u32(0);
    let count: u32 = 0;
    let bytes = 0;
    while (i < route.msgs.length && (count == 0 || bytes + route.msgs[i].payload.length + 16 <= room)) {
      const o = route.msgs[i];
      w.u64(o.seq);
      w.u32(o.call ? o.req : 0);
      w.bytes(o.payload);
      bytes += o.payload.length + 16;
      count++;
      i++;
    }
    w.patchU32(countAt, count);
    b.added(n.outbox, link);
    route.inFlight += <i32>count;
  }
}

// ---- invariants (testing builds, invariants.ts) ------------------------------------------------

/** Every route, after a step: holds something, in sequence order, within its bound, in flight only to a target. */
export function routesSane(n: Node): string {
  const m = n.msgs;
  const ids = m.routes.keys();
  let calls = 0;
  for (let i = 0; i < ids.length; i++) {
    const r = m.routes.get(ids[i]);
    for (let j = r.head; j < r.msgs.length; j++) if (r.msgs[j].call) calls++;
    if (r.held <= 0) return 'message_routes: the route of ' + r.id + ' holds nothing after the step';
    if (r.held > m.bufferMax) return 'message_routes: the route of ' + r.id + ' holds ' + r.held.toString() + ' messages, over its bound';
    if (r.inFlight < 0 || r.inFlight > r.held) return 'message_routes: ' + r.id + ' has ' + r.inFlight.toString() + ' in flight of ' + r.held.toString();
    if (r.inFlight > 0 && r.target == null) return 'message_routes: ' + r.id + ' has messages in flight to no target';
    for (let j = r.head + 1; j < r.msgs.length; j++) {
      if (r.msgs[j].seq <= r.msgs[j - 1].seq) return 'message_routes: ' + r.id + ' holds seq ' + r.msgs[j].seq.toString() + ' after ' + r.msgs[j - 1].seq.toString();
    }
  }
  if (calls != m.calls.size) return 'message_routes: ' + calls.toString() + ' calls held, ' + m.calls.size.toString() + ' unsettled calls known';
  return '';
}
