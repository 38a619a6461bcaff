// The effect reader: decodes the core's output buffer (effect records and query results) into
// typed values. One reader per core reads straight from the Wasm memory views, so a step or a
// query allocates only the values it returns.

import type { ExitReason, ErrorInfo } from './adapters.js';
import type { ChildStopReason } from './errors.js';
import {
  FX_SEND, FX_DIAL, FX_CLOSE, FX_RUN, FX_STOP, FX_WAKE, FX_REPLY, FX_EVENT, FX_INVARIANT, FX_DELIVER, FX_CALL_REPLY, FX_CALL_STOPPED, FX_MESSAGE_STATUS, FX_MESSAGES_DELIVERED, FX_DEHYDRATE, FX_REHYDRATE, FX_PAIR_KEY,
  OE_HANDOFF, OE_HANDOFF_FAILED, OE_CHILD_REHYDRATED, OE_CHECKPOINT_REFUSED, OE_LEAVE_UNCONFIRMED,
  OE_MEMBER_UP, OE_MEMBER_DOWN, OE_CHILD_STARTED, OE_CHILD_EXITED, OE_CHILD_RESTARTING, OE_CHILD_FAILED,
  OE_CHILD_STOPPING, OE_CHILD_MOVED, OE_LINK_REJECTED, OE_CHILD_UNRESPONSIVE, OE_CREDENTIAL_RENEWED, OE_MEMBER_STATE, OE_WEIGHT_CHANGED, REPLY_NAMES,
  R_OK, R_NOT_FOUND, R_NOT_RUNNING, R_BUFFER_FULL, R_MSG_TIMEOUT, R_DELIVERY_UNKNOWN, R_TOO_LARGE,
  R_UNKNOWN_MEMBER, R_DEADLINE, R_CANCELLED, R_TABLE_FULL,
} from './generated/boundary.js';

/** Replies of cordon, uncordon and drain (codes beyond the contiguous table). */
const CORDON_REPLIES: Record<number, 'unknown_member' | 'deadline' | 'cancelled' | 'table_full'> = {
  [R_UNKNOWN_MEMBER]: 'unknown_member', [R_DEADLINE]: 'deadline', [R_CANCELLED]: 'cancelled', [R_TABLE_FULL]: 'table_full',
};
export type ReplyCode = (typeof REPLY_NAMES)[number] | (typeof CORDON_REPLIES)[number];
const replyCode = (c: number): ReplyCode => (REPLY_NAMES as readonly ReplyCode[])[c] ?? CORDON_REPLIES[c] ?? 'invalid_spec';

/** A message's outcome (FX_MESSAGE_STATUS): delivered, or why it never will be (messages.ts). */
export type MessageOutcome = 'delivered' | 'not_found' | 'not_running' | 'buffer_full' | 'timeout' | 'delivery_unknown' | 'too_large';
const OUTCOMES = new Map<number, MessageOutcome>([
  [R_OK, 'delivered'], [R_NOT_FOUND, 'not_found'], [R_NOT_RUNNING, 'not_running'], [R_BUFFER_FULL, 'buffer_full'],
  [R_MSG_TIMEOUT, 'timeout'], [R_DELIVERY_UNKNOWN, 'delivery_unknown'], [R_TOO_LARGE, 'too_large'],
]);

export type StopWhy = 'moved' | 'terminated' | 'quorum_lost' | 'leaving';
/** The core's whyName strings; anything else is reported as 'moved'. */
const WHYS: readonly string[] = ['moved', 'terminated', 'quorum_lost', 'leaving'] satisfies StopWhy[];

/** The core's reasons in CALL_STOPPED (call-stops.ts); anything else is reported as 'crashed'. */
const STOP_REASONS: readonly string[] = ['moved', 'terminated', 'quorum_lost', 'leaving', 'exited', 'crashed'] satisfies ChildStopReason[];
const stopReason = (s: string): ChildStopReason => (STOP_REASONS.includes(s) ? s as ChildStopReason : 'crashed');

export type CoreEvent =
  | { type: 'member_up'; name: string; incarnation: number; address: string }
  | { type: 'member_down'; name: string; incarnation: number; reason: string }
  | { type: 'child_started'; id: string; kind: string; epoch: number; restarts: number }
  | { type: 'child_exited'; id: string; reason: ExitReason | 'start_failed'; error?: ErrorInfo; epoch: number }
  | { type: 'child_restarting'; id: string; reason: string; restarts: number; delayMs: number }
  | { type: 'child_failed'; id: string; reason: string; restarts: number }
  | { type: 'child_stopping'; id: string; why: StopWhy; epoch: number }
  /** Asked to stop, it has not settled within shutdownMs: it keeps its claim (status 'unresponsive') until it does. */
  | { type: 'child_unresponsive'; id: string; epoch: number }
  | { type: 'child_moved'; id: string; from: string; to: string }
  | { type: 'link_rejected'; reason: string; peer: string; address: string; link: number }
  /** The cordon table changed for `name` (written here or merged from `by`): replicated to every member. */
  | { type: 'member_state'; name: string; state: 'active' | 'cordoned' | 'draining'; by: string; maxParallel: number }
  /** A member's placement weight changed (ours by setWeight, another's by its announcement). */
  | { type: 'weight_changed'; name: string; weight: number }
  /** A credential was renewed: ours (`name` is this member's), or a peer's whose renewal verified; `expiresAtMs` as believed. */
  | { type: 'credential_renewed'; name: string; expiresAtMs: number }
  | { type: 'left'; name: string; incarnation: number }
  /** A moving child's state went to its new owner (`bytes` long, the child's schema `version`). */
  | { type: 'handoff'; id: string; to: string; version: number; bytes: number }
  /** A moving child's state could not be handed over: its new instance starts fresh. */
  | { type: 'handoff_failed'; id: string; reason: HandoffFailure; to: string; message: string; epoch: number }
  /** A child starts from a state: handed over by its previous instance, or its last checkpoint. */
  | { type: 'child_rehydrated'; id: string; source: 'handoff' | 'checkpoint'; from: string; version: number; bytes: number }
  /** A checkpoint was not kept (larger than maxStateBytes). */
  | { type: 'checkpoint_refused'; id: string; reason: 'too_large'; bytes: number }
  /**
   * This node said BYE before `members` (that stay) had ACKed the up to `entries` starts it had
   * ACKed lately: its handover wait ended, or was 0. Such a start may be held by its origin alone.
   */
  | { type: 'leave_unconfirmed'; members: string[]; entries: number };

/** Why a handoff failed: no state in handoffTimeoutMs, the hook threw, the state is over maxStateBytes, no link to or no new owner. */
export type HandoffFailure = 'timeout' | 'dehydrate_failed' | 'too_large' | 'no_link' | 'no_owner' | 'lost' | 'superseded';

export type Effect =
  | { type: 'send'; link: number; bytes: Uint8Array }
  | { type: 'dial'; address: string }
  | { type: 'close'; link: number; reason: string }
  | { type: 'run'; id: string; epoch: number; kind: string; args: string }
  | { type: 'stop'; id: string; epoch: number; shutdownMs: number }
  /** Ask the child for its state (handoff): answer with Core.childState. */
  | { type: 'dehydrate'; id: string; epoch: number }
  /** The state the following run of `epoch` starts from. */
  | { type: 'rehydrate'; id: string; epoch: number; version: number; source: 'handoff' | 'checkpoint'; from: string; bytes: Uint8Array }
  | { type: 'wake'; at: number }
  /** Fetch the pair key of this node and `peer` in `epoch` (a credential member's link to another): answer with Core.pairKey. */
  | { type: 'pair_key'; peer: string; epoch: number }
  | { type: 'reply'; req: number; code: ReplyCode; field: string; message: string }
  | { type: 'event'; event: CoreEvent }
  /** Testing and debug builds only: a core invariant does not hold after this step ("name: detail"). */
  | { type: 'invariant'; message: string }
  /** A message (JSON text) for a running local child; `req` > 0 when the caller wants a reply. */
  | { type: 'deliver'; id: string; epoch: number; caller: string; callerInc: number; req: number; data: string }
  /** The answer to one of this node's calls (child-messages.ts encoding). */
  | { type: 'call_reply'; req: number; data: string }
  /** One of this node's calls was delivered and the instance that took it ended unanswered (call-stops.ts). */
  | { type: 'call_stopped'; req: number; reason: ChildStopReason }
  /** A message's outcome: R_OK delivered, or an R_* code why it never will be. */
  | { type: 'message_status'; req: number; outcome: MessageOutcome }
  /** Messages delivered in this step (outcome 'delivered'), one effect for all of them. */
  | { type: 'messages_delivered'; reqs: Uint32Array };

const dec = new TextDecoder();

/** A little-endian reader over the core's memory, from `pos` to `end` (absolute offsets). */
export class OutReader {
  pos = 0;
  end = 0;
  private b: Uint8Array = new Uint8Array(0);
  private v: DataView = new DataView(this.b.buffer);

  /** Points the reader at `len` bytes at `ptr` of `mem` (the views are kept until memory grows). */
  reset(mem: Uint8Array, view: DataView, ptr: number, len: number): this {
    if (this.b !== mem) { this.b = mem; this.v = view; }
    this.pos = ptr;
    this.end = ptr + len;
    return this;
  }
  get more(): boolean { return this.pos < this.end; }
  /** The memory read from (the global view reads typed-array columns straight from it). */
  get memory(): Uint8Array { return this.b; }
  u8(): number { return this.b[this.pos++]; }
  u32(): number { const x = this.v.getUint32(this.pos, true); this.pos += 4; return x; }
  u16(): number { const x = this.v.getUint16(this.pos, true); this.pos += 2; return x; }
  i16(): number { const x = this.v.getInt16(this.pos, true); this.pos += 2; return x; }
  u64(): number { const x = Number(this.v.getBigUint64(this.pos, true)); this.pos += 8; return x; }
  u64big(): bigint { const x = this.v.getBigUint64(this.pos, true); this.pos += 8; return x; }
  f64(): number { const x = this.v.getFloat64(this.pos, true); this.pos += 8; return x; }
  str(): string {
    const n = this.u32();
    const b = this.b, start = this.pos;
    this.pos += n;
    // Ids, kinds and names are short and mostly ASCII: decoding them by hand is several times
    // faster than TextDecoder on tiny subarrays (whichChildren('global') decodes 4 per child).
    if (n <= 64) {
      let ascii = true;
      for (let i = start; i < start + n; i++) if (b[i] > 0x7f) { ascii = false; break; }
      if (ascii) return String.fromCharCode.apply(null, b.subarray(start, start + n) as unknown as number[]);
    }
    return dec.decode(b.subarray(start, start + n));
  }
  /** `n` bytes of UTF-8 text (message payloads). */
  text(n: number): string { const s = dec.decode(this.b.subarray(this.pos, this.pos + n)); this.pos += n; return s; }
  /** A copy: the core reuses its output buffer on the next call. */
  bytes(n: number): Uint8Array { const s = this.b.slice(this.pos, this.pos + n); this.pos += n; return s; }
}

/** Decodes every effect record up to the reader's end, in order. */
export function readEffects(r: OutReader): Effect[] {
  const fx: Effect[] = [];
  while (r.more) {
    const type = r.u8();
    const n = r.u32();
    const end = r.pos + n;
    switch (type) {
      case FX_SEND: { const link = r.u32(); fx.push({ type: 'send', link, bytes: r.bytes(end - r.pos) }); break; }
      case FX_DIAL: fx.push({ type: 'dial', address: r.str() }); break;
      case FX_CLOSE: fx.push({ type: 'close', link: r.u32(), reason: r.str() }); break;
      case FX_RUN: fx.push({ type: 'run', id: r.str(), epoch: r.u32(), kind: r.str(), args: r.str() }); break;
      case FX_STOP: fx.push({ type: 'stop', id: r.str(), epoch: r.u32(), shutdownMs: r.u32() }); break;
      case FX_WAKE: fx.push({ type: 'wake', at: r.f64() }); break;
      case FX_PAIR_KEY: fx.push({ type: 'pair_key', peer: r.str(), epoch: r.u64() }); break;
      case FX_REPLY: fx.push({ type: 'reply', req: r.u32(), code: replyCode(r.u8()), field: r.str(), message: r.str() }); break;
      case FX_EVENT: fx.push({ type: 'event', event: readEvent(r) }); break;
      case FX_INVARIANT: fx.push({ type: 'invariant', message: r.str() }); break;
      case FX_DELIVER: {
        const id = r.str(), epoch = r.u32(), caller = r.str(), callerInc = r.u64(), req = r.u32();
        fx.push({ type: 'deliver', id, epoch, caller, callerInc, req, data: r.text(r.u32()) });
        break;
      }
      case FX_CALL_REPLY: { const req = r.u32(); fx.push({ type: 'call_reply', req, data: r.text(r.u32()) }); break; }
      case FX_CALL_STOPPED: { const req = r.u32(); fx.push({ type: 'call_stopped', req, reason: stopReason(r.str()) }); break; }
      case FX_MESSAGES_DELIVERED: {
        const reqs = new Uint32Array(r.u32());
        for (let i = 0; i < reqs.length; i++) reqs[i] = r.u32();
        fx.push({ type: 'messages_delivered', reqs });
        break;
      }
      case FX_MESSAGE_STATUS: fx.push({ type: 'message_status', req: r.u32(), outcome: OUTCOMES.get(r.u8()) ?? 'not_running' }); break;
      case FX_DEHYDRATE: fx.push({ type: 'dehydrate', id: r.str(), epoch: r.u32() }); break;
      case FX_REHYDRATE: {
        const id = r.str(), epoch = r.u32(), version = r.u32(), source = r.str() === 'handoff' ? 'handoff' : 'checkpoint', from = r.str();
        fx.push({ type: 'rehydrate', id, epoch, version, source, from, bytes: r.bytes(r.u32()) });
        break;
      }
    }
    r.pos = end;
  }
  return fx;
}

/** An observer event (FX_EVENT payload): u8 kind, four strings, two numbers. */
function readEvent(r: OutReader): CoreEvent {
  const kind = r.u8();
  const a = r.str(), b = r.str(), c = r.str(), d = r.str();
  const n1 = r.f64(), n2 = r.f64();
  switch (kind) {
    case OE_MEMBER_UP: return { type: 'member_up', name: a, address: b, incarnation: n1 };
    case OE_MEMBER_DOWN: return { type: 'member_down', name: a, reason: b, incarnation: n1 };
    case OE_CHILD_STARTED: return { type: 'child_started', id: a, kind: b, epoch: n1, restarts: n2 };
    case OE_CHILD_EXITED: {
      const e: CoreEvent = { type: 'child_exited', id: a, reason: b as ExitReason | 'start_failed', epoch: n1 };
      if (c || d) e.error = { name: c, message: d };
      return e;
    }
    case OE_CHILD_RESTARTING: return { type: 'child_restarting', id: a, reason: b, restarts: n1, delayMs: n2 };
    case OE_CHILD_FAILED: return { type: 'child_failed', id: a, reason: b, restarts: n1 };
    case OE_CHILD_STOPPING: return { type: 'child_stopping', id: a, why: WHYS.includes(b) ? b as StopWhy : 'moved', epoch: n1 };
    case OE_CHILD_MOVED: return { type: 'child_moved', id: a, from: b, to: c };
    case OE_CHILD_UNRESPONSIVE: return { type: 'child_unresponsive', id: a, epoch: n1 };
    case OE_CREDENTIAL_RENEWED: return { type: 'credential_renewed', name: a, expiresAtMs: n1 };
    case OE_LINK_REJECTED: return { type: 'link_rejected', reason: a, peer: b, address: c, link: n1 };
    case OE_MEMBER_STATE: return { type: 'member_state', name: a, state: b === 'cordoned' || b === 'draining' ? b : 'active', by: c, maxParallel: n2 };
    case OE_WEIGHT_CHANGED: return { type: 'weight_changed', name: a, weight: n1 };
    case OE_HANDOFF: return { type: 'handoff', id: a, to: b, version: n1, bytes: n2 };
    case OE_HANDOFF_FAILED: return { type: 'handoff_failed', id: a, reason: b as HandoffFailure, to: c, message: d, epoch: n1 };
    case OE_CHILD_REHYDRATED: return { type: 'child_rehydrated', id: a, source: b === 'handoff' ? 'handoff' : 'checkpoint', from: c, version: n1, bytes: n2 };
    case OE_CHECKPOINT_REFUSED: return { type: 'checkpoint_refused', id: a, reason: 'too_large', bytes: n1 };
    case OE_LEAVE_UNCONFIRMED: return { type: 'leave_unconfirmed', members: a.split(','), entries: n1 };
    default: return { type: 'left', name: a, incarnation: n1 }; // OE_LEFT
  }
}

