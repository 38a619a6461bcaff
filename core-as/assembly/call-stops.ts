// Calls a local child took and has not answered, and the answer its member gives for them when
// the instance ends first: CALL_STOPPED (docs/PROTOCOL.md "Messages to children").
//
// A call is delivered at most once and never resent, so a caller whose call reached an instance
// that then stopped (a move, a terminate, a leave, a crash, a restart, its own return) would
// otherwise wait out its whole timeout for an answer nobody will give. The member that delivered
// the call knows better: at the instance's exit it tells each such caller at once, over the same
// path as a REPLY, that the call was delivered and went unanswered, and why the instance ended.
// Only a member that is itself lost (a crash) leaves its callers to their timeout.
//
// At most one answer per call: a REPLY the host reports after the exit is dropped here (the
// call's entry stays as a tombstone, a ring of MESSAGE_FAILED_CALLS_MAX), and the caller drops a
// REPLY that comes after a CALL_STOPPED (messages.ts failedCalls). Past INBOUND_CALLS_MAX
// unanswered calls on one node, further calls are not tracked: they fall back to the timeout.

import { Reader } from './io';
import { MSG_CALL_STOPPED } from './codec';
import { EXIT_NORMAL } from './boundary';
import { INBOUND_CALLS_MAX, MESSAGE_FAILED_CALLS_MAX, WIRE_ITEMS_MAX } from './limits';
import { Node } from './node';
import { S_STOPPING, S_UNRESPONSIVE, whyName } from './model';
import { fxCallStopped } from './effects';
import { StrMap } from './strmap';
import { rememberFailedCall } from './messages';

/** Why the instance ended, as the caller's ChildStoppedError says it (besides the stop whys of model.ts). */
export const STOPPED_EXITED = 'exited';   // it returned by itself
export const STOPPED_CRASHED = 'crashed'; // it threw, crashed or was killed, not stopped by its member
const STOPPED_REASON_BYTES_MAX = 32;

/** One call delivered to a local instance, not answered yet (or, as a tombstone, answered CALL_STOPPED). */
class InCall {
  live: bool = true;
  reason: string = '';
  constructor(public id: string, public epoch: u32, public caller: string, public inc: u64, public req: u32) {}
}

export class CallStops {
  /** Per caller name, its calls here by request: live ones and tombstones. */
  byCaller: StrMap<Map<u32, InCall>> = new StrMap<Map<u32, InCall>>();
  /** Per child id, its calls in delivery order (answered ones are compacted away). */
  byChild: StrMap<Array<InCall>> = new StrMap<Array<InCall>>();
  /** Live entries of each child's array, and of the node. */
  liveOf: StrMap<i32> = new StrMap<i32>();
  live: i32 = 0;
  /** Tombstones, oldest first: a ring of MESSAGE_FAILED_CALLS_MAX. */
  tombs: Array<InCall> = [];
  tombNext: i32 = 0;
  /** CALL_STOPPED answers of this step, per caller member, sent at its end. */
  out: Map<string, Array<InCall>> = new Map();
}

/** A call delivered to the instance `epoch` of local child `id` (messages.ts receiveOne). */
export function callDelivered(n: Node, id: string, epoch: u32, caller: string, inc: u64, req: u32): void {
  const s = n.callStops;
  if (s.live >= INBOUND_CALLS_MAX) return;
  const c = new InCall(id, epoch, caller, inc, req);
  let at = s.byCaller.find(caller);
  if (at < 0) { s.byCaller.set(caller, new Map<u32, InCall>()); at = s.byCaller.find(caller); }
  const mine = s.byCaller.valueAt(at);
  // A request number the caller reused (its counter wrapped, or a new incarnation): the older entry is void.
  if (mine.has(req)) forget(s, mine.get(req));
  mine.set(req, c);
  at = s.byChild.find(id);
  if (at < 0) { s.byChild.set(id, new Array<InCall>()); s.liveOf.set(id, 0); at = s.byChild.find(id); }
  s.byChild.valueAt(at).push(c);
  s.liveOf.set(id, s.liveOf.get(id) + 1);
  s.live++;
}

/**
 * The host reports a child's answer to a call: false when it must be dropped (the call was
 * answered CALL_STOPPED already: its instance had ended).
 */
export function callAnswered(n: Node, caller: string, inc: u64, req: u32): bool {
  const s = n.callStops;
  const at = s.byCaller.find(caller);
  if (at < 0) return true;
  const mine = s.byCaller.valueAt(at);
  if (!mine.has(req)) return true;
  const c = mine.get(req);
  if (c.inc != inc) return true;
  if (!c.live) { mine.delete(req); if (mine.size == 0) s.byCaller.delete(caller); return false; }
  forget(s, c);
  return true;
}

/**
 * The instance `epoch` of local child `id` ended (an exit, before supervision decides what comes
 * next): each call it took and did not answer is answered CALL_STOPPED, with why it ended.
 */
export function callsChildEnded(n: Node, id: string, epoch: u32, exitReason: u8): void {
  const s = n.callStops;
  const at = s.byChild.find(id);
  if (at < 0) return;
  let reason = exitReason == EXIT_NORMAL ? STOPPED_EXITED : STOPPED_CRASHED;
  const lat = n.locals.find(id);
  if (lat >= 0) {
    const lc = n.locals.valueAt(lat);
    if (lc.epoch == epoch && (lc.state == S_STOPPING || lc.state == S_UNRESPONSIVE)) reason = whyName(lc.why);
  }
  const list = s.byChild.valueAt(at);
  const kept = new Array<InCall>();
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (!c.live) continue;
    if (c.epoch != epoch) { kept.push(c); continue; }
    c.live = false;
    c.reason = reason;
    s.live--;
    entomb(s, c);
    if (c.caller == n.name) {
      if (c.inc == n.inc) callStoppedHere(n, c.req, reason);
      continue;
    }
    if (!s.out.has(c.caller)) s.out.set(c.caller, new Array<InCall>());
    s.out.get(c.caller).push(c);
  }
  if (kept.length == 0) { s.byChild.delete(id); s.liveOf.delete(id); }
  else { s.byChild.set(id, kept); s.liveOf.set(id, kept.length); }
}

/** End of step (messages.ts flushMessages): this step's CALL_STOPPED, one frame per caller member. */
export function flushCallStops(n: Node): void {
  const s = n.callStops;
  if (s.out.size == 0) return;
  const names = s.out.keys();
  for (let i = 0; i < names.length; i++) {
    const list = s.out.get(names[i]);
    if (!n.members.has(names[i])) continue;
    const m = n.members.get(names[i]);
    if (m.link == 0) continue;
    let count = 0;
    for (let j = 0; j < list.length; j++) if (list[j].inc == m.inc) count++;
    if (count == 0) continue;
    const w = n.outbox.frame(MSG_CALL_STOPPED);
    w.u32(<u32>count);
    for (let j = 0; j < list.length; j++) {
      if (list[j].inc != m.inc) continue;
      w.u64(list[j].inc);
      w.u32(list[j].req);
      w.str(list[j].reason);
    }
    n.outbox.to(m.link);
  }
  s.out.clear();
}

/** CALL_STOPPED: list<u64 callerInc, u32 req, str reason>. */
export function onCallStopped(n: Node, r: Reader): bool {
  const count = r.count(WIRE_ITEMS_MAX, 16);
  const reqs = new Array<u32>();
  const reasons = new Array<string>();
  for (let i = 0; i < count && r.ok; i++) {
    const inc = r.u64();
    const req = r.u32();
    const reason = r.str(STOPPED_REASON_BYTES_MAX);
    if (inc == n.inc) { reqs.push(req); reasons.push(reason); }
  }
  if (!r.ok || r.remaining != 0) return false;
  for (let i = 0; i < reqs.length; i++) callStoppedHere(n, reqs[i], reasons[i]);
  return true;
}

/**
 * One of this node's calls was delivered and its instance ended unanswered: the caller's promise
 * fails now. It was delivered, so it settles delivered whatever becomes of its DELIVERED, and a
 * REPLY that still comes is dropped.
 */
function callStoppedHere(n: Node, req: u32, reason: string): void {
  const m = n.msgs;
  if (m.failedCalls.has(req)) return; // failed already (delivery unknown), or answered so
  if (m.calls.has(req)) m.calls.get(req).answered = true;
  rememberFailedCall(m, req);
  fxCallStopped(req, reason);
}

function forget(s: CallStops, c: InCall): void {
  const at = s.byCaller.find(c.caller);
  if (at >= 0) {
    const mine = s.byCaller.valueAt(at);
    if (mine.has(c.req) && mine.get(c.req) == c) mine.delete(c.req);
    if (mine.size == 0) s.byCaller.delete(c.caller);
  }
  if (!c.live) return;
  c.live = false;
  s.live--;
  const lat = s.liveOf.find(c.id);
  if (lat < 0) return;
  const left = s.liveOf.valueAt(lat) - 1;
  const list = s.byChild.get(c.id);
  if (left == 0) { s.byChild.delete(c.id); s.liveOf.delete(c.id); return; }
  s.liveOf.set(c.id, left);
  // Answered entries are dropped once they are most of the array (amortised: a busy child's calls).
  if (list.length > 16 && left * 2 < list.length) {
    const kept = new Array<InCall>();
    for (let i = 0; i < list.length; i++) if (list[i].live) kept.push(list[i]);
    s.byChild.set(c.id, kept);
  }
}

function entomb(s: CallStops, c: InCall): void {
  if (s.tombs.length < MESSAGE_FAILED_CALLS_MAX) { s.tombs.push(c); return; }
  const old = s.tombs[s.tombNext];
  const at = s.byCaller.find(old.caller);
  if (at >= 0) {
    const mine = s.byCaller.valueAt(at);
    if (mine.has(old.req) && mine.get(old.req) == old) mine.delete(old.req);
    if (mine.size == 0) s.byCaller.delete(old.caller);
  }
  s.tombs[s.tombNext] = c;
  s.tombNext = (s.tombNext + 1) % MESSAGE_FAILED_CALLS_MAX;
}

/** Testing builds (invariants.ts): the live count agrees with the entries. */
export function callStopsSane(n: Node): string {
  const s = n.callStops;
  let live = 0;
  const ids = s.byChild.keys();
  for (let i = 0; i < ids.length; i++) {
    const list = s.byChild.get(ids[i]);
    let l = 0;
    for (let j = 0; j < list.length; j++) if (list[j].live) l++;
    if (l != s.liveOf.get(ids[i])) return 'call_stops: ' + ids[i] + ' has ' + l.toString() + ' live calls, ' + s.liveOf.get(ids[i]).toString() + ' counted';
    if (l > 0 && !n.locals.has(ids[i])) return 'call_stops: ' + ids[i] + ' has ' + l.toString() + ' unanswered calls and no local instance';
    live += l;
  }
  if (live != s.live) return 'call_stops: ' + live.toString() + ' live calls, ' + s.live.toString() + ' counted';
  if (n.left && s.live > 0) return 'call_stops: left with ' + s.live.toString() + ' unanswered calls';
  return '';
}
