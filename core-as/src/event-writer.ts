// The event writer: encodes host → core events as batch records (u8 type, u32 length, payload;
// core-as/assembly/boundary.ts) in a growable JS-side buffer that a step copies into the core.

import type { DialFailure, ExitReason, ErrorInfo } from './adapters.js';
import {
  EV_INIT, EV_LINK_OPENED, EV_LINK_OPENED_WATCHED, EV_FRAME, EV_LINK_CLOSED, EV_DIAL_FAILED, EV_TICK, EV_START_CHILD, EV_TERMINATE_CHILD,
  EV_LEAVE, EV_LEAVE_WAIT_DEFAULT, EV_CHILD_STARTED, EV_CHILD_UNRESPONSIVE, EV_RENEW_CREDENTIAL, EV_CHILD_EXITED, EV_CHILD_START_FAILED, EV_ADD_SEEDS, EV_CORDON, EV_SET_WEIGHT, PM_ACTIVE, PM_CORDONED, PM_DRAINING, DIAL_FAILED_OTHER, DIAL_FAILED_REFUSED,
  EV_MESSAGE_SEND, EV_MESSAGE_REPLY, EV_MESSAGE_CONFIG,
  EV_STATE_CONFIG, EV_CHILD_STATE, EV_CHECKPOINT, EV_HEARD, EV_PAIR_KEY, EV_PAIR_KEY_RELAY, STATE_GIVEN, STATE_NONE, STATE_FAILED,
  AUTH_INSECURE, AUTH_SECRET, AUTH_CREDENTIAL, EXIT_NORMAL, EXIT_CRASH, EXIT_SHUTDOWN, EXIT_KILLED, TAG_ABSENT, TAG_STRING, TAG_NUMBER, TAG_OTHER, TAG_LIST, WAIT_ACK, WAIT_DONE,
} from './generated/boundary.js';
import { EVENT_BUFFER_BYTES, NONCE_BYTES, RECORD_HEADER_BYTES, TICK_RECORD_BYTES } from './limits.js';

/** How a node runs: the options that pass unchanged from start() to the core. */
export interface NodeParams {
  heartbeatMs: number;
  failureTimeoutMs: number;
  syncIntervalMs: number;
  /** 0 = partition 'available'; N = a side needs N live members to run children; QUORUM_MAJORITY (-1) = partition 'majority'. */
  quorum: number;
  weight: number;
  maxFrameBytes: number;
  /** Inbound links in their handshake at once at most (default PENDING_LINKS_DEFAULT); past it a connection is closed at once. */
  maxPendingLinks?: number;
}

/** What a credential member holds (from a token; see credential.ts). */
/** A credential as the core takes it: `tabLinkKeys` are those of epochs firstEpoch, firstEpoch + 1, ... */
export interface CoreCredential { kinds: string[]; expiresAtMs: number; key: Uint8Array; firstEpoch: number; tabLinkKeys: Uint8Array[] }

export interface CoreConfig extends NodeParams {
  name: string;
  /** Distinguishes restarts of one node name; must grow across restarts (e.g. a timestamp). */
  incarnation: number;
  scope: string;
  /** Address peers dial to reach us ('' for members that cannot listen). */
  listen?: string;
  /** The cluster secret; or `credential`; neither means an insecure node (anyone may join). */
  secret?: Uint8Array;
  credential?: CoreCredential;
  /** Seed for the core's jitter PRNG (not a secret). */
  seed: number;
  kinds: string[];
  seeds: string[];
}

export type WaitMode = 'ack' | 'done';

const EXIT_CODES: Record<ExitReason, number> = { normal: EXIT_NORMAL, crash: EXIT_CRASH, shutdown: EXIT_SHUTDOWN, killed: EXIT_KILLED };
const enc = new TextEncoder();

/** Told as each record begins (input-lanes.ts numbers records in their order of arrival). */
export interface RecordStamp { stamp(): void }

/** A growable little-endian writer for event records. */
export class EventWriter {
  buf = new Uint8Array(EVENT_BUFFER_BYTES);
  view = new DataView(this.buf.buffer);
  /** Queued records are buf[head, len): steps take from the front without moving the rest. */
  head = 0;
  len = 0;
  private recAt = 0;
  get queued(): number { return this.len - this.head; }
  /**
   * End offset of the records a step takes from the front: whole records within `budget` bytes,
   * and at least one when `atLeastOne` (a record larger than the budget still goes through).
   */
  cut(budget: number, atLeastOne: boolean): number {
    if (this.len - this.head <= budget) return this.len;
    let cut = this.head;
    while (cut < this.len) {
      const next = cut + RECORD_HEADER_BYTES + this.view.getUint32(cut + 1, true);
      if (next - this.head > budget && (cut > this.head || !atLeastOne)) break;
      cut = next;
    }
    return cut;
  }
  /** Drops the records before `end`, which a step has copied into the core. */
  consume(end: number): void {
    this.head = end;
    if (this.head === this.len) { this.head = 0; this.len = 0; }
  }
  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    // Reclaim the consumed front first; grow only when that is not enough.
    if (this.head > 0) {
      this.buf.copyWithin(0, this.head, this.len);
      this.len -= this.head;
      this.recAt -= this.head;
      this.head = 0;
      if (this.len + n <= this.buf.length) return;
    }
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }
  /** When this writer is one lane of several (input-lanes.ts): told of each record. */
  stamps: RecordStamp | null = null;
  begin(type: number): void { if (this.stamps !== null) this.stamps.stamp(); this.u8(type); this.recAt = this.len; this.u32(0); }
  /** End offset of the record that starts at `at`. */
  recordEnd(at: number): number { return at + RECORD_HEADER_BYTES + this.view.getUint32(at + 1, true); }
  end(): void { this.view.setUint32(this.recAt, this.len - this.recAt - 4, true); }
  u8(v: number): void { this.reserve(1); this.buf[this.len++] = v; }
  u32(v: number): void { this.reserve(4); this.view.setUint32(this.len, v >>> 0, true); this.len += 4; }
  u64(v: number): void { this.reserve(8); this.view.setBigUint64(this.len, BigInt(Math.max(0, Math.floor(v))), true); this.len += 8; }
  f64(v: number): void { this.reserve(8); this.view.setFloat64(this.len, v, true); this.len += 8; }
  bytes(b: Uint8Array): void { this.u32(b.length); this.raw(b); }
  raw(b: Uint8Array): void { this.reserve(b.length); this.buf.set(b, this.len); this.len += b.length; }
  str(s: string): void {
    // worst case 3 bytes per UTF-16 unit
    this.reserve(4 + s.length * 3);
    const r = enc.encodeInto(s, this.buf.subarray(this.len + 4));
    this.view.setUint32(this.len, r.written, true);
    this.len += 4 + r.written;
  }
}

/** Writes the EV_TICK record for `nowMs` at `at` of `view` (the step puts it ahead of its batch). */
export function putTick(mem: Uint8Array, view: DataView, at: number, nowMs: number): void {
  mem[at] = EV_TICK;
  view.setUint32(at + 1, TICK_RECORD_BYTES - RECORD_HEADER_BYTES, true);
  view.setFloat64(at + RECORD_HEADER_BYTES, nowMs, true);
}

/** Bytes of an EV_HEARD record for `links` links: the header, a u32 count, a u32 link and an f64 time each. */
export function heardRecordBytes(links: number): number { return RECORD_HEADER_BYTES + 4 + links * 12; }

/** Puts an EV_HEARD record (link → when its last frame arrived) at `at`, ahead of a batch (heard.ts). */
export function putHeard(mem: Uint8Array, view: DataView, at: number, heard: ReadonlyMap<number, number>): void {
  mem[at] = EV_HEARD;
  view.setUint32(at + 1, heardRecordBytes(heard.size) - RECORD_HEADER_BYTES, true);
  view.setUint32(at + RECORD_HEADER_BYTES, heard.size, true);
  let p = at + RECORD_HEADER_BYTES + 4;
  for (const [link, ms] of heard) {
    view.setUint32(p, link, true);
    view.setFloat64(p + 4, ms, true);
    p += 12;
  }
}

// ---- one function per event ------------------------------------------------------------------

export function writeInit(w: EventWriter, c: CoreConfig): void {
  w.begin(EV_INIT);
  w.str(c.name); w.u64(c.incarnation); w.str(c.scope); w.str(c.listen ?? '');
  const cred = c.credential;
  w.u8(cred ? AUTH_CREDENTIAL : c.secret && c.secret.length ? AUTH_SECRET : AUTH_INSECURE);
  w.bytes(cred ? cred.key : c.secret ?? new Uint8Array(0));
  w.u32(cred ? cred.kinds.length : 0); for (const k of cred?.kinds ?? []) w.str(k);
  w.u64(cred ? cred.expiresAtMs : 0);
  w.u64(cred ? cred.firstEpoch : 0);
  w.u32(cred ? cred.tabLinkKeys.length : 0); for (const k of cred?.tabLinkKeys ?? []) w.bytes(k);
  w.u64(c.seed);
  w.u32(c.heartbeatMs); w.u32(c.failureTimeoutMs); w.u32(c.syncIntervalMs); w.u32(c.quorum);
  w.f64(c.weight); w.u32(c.maxFrameBytes); w.u32(c.maxPendingLinks ?? 0);
  w.u32(c.kinds.length); for (const k of c.kinds) w.str(k);
  w.u32(c.seeds.length); for (const s of c.seeds) w.str(s);
  w.end();
}

/** Seeds found after init (re-resolved DNS names, a seed function): dialed like any seed. */
export function writeAddSeeds(w: EventWriter, addresses: readonly string[]): void {
  w.begin(EV_ADD_SEEDS); w.u32(addresses.length); for (const a of addresses) w.str(a); w.end();
}

export function writeTick(w: EventWriter, nowMs: number): void { w.begin(EV_TICK); w.f64(nowMs); w.end(); }

/** `watchedSilenceMs` > 0: a watched link (core-as/assembly/watched-links.ts) with that silence bound. */
export function writeLinkOpened(w: EventWriter, link: number, outbound: boolean, address: string, nonce: Uint8Array, watchedSilenceMs = 0): void {
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} random bytes`);
  const watched = watchedSilenceMs > 0;
  w.begin(watched ? EV_LINK_OPENED_WATCHED : EV_LINK_OPENED); w.u32(link); w.u8(outbound ? 1 : 0); w.str(address); w.raw(nonce);
  if (watched) w.u32(Math.min(Math.floor(watchedSilenceMs), 0xffff_ffff));
  w.end();
}

export function writeFrame(w: EventWriter, link: number, bytes: Uint8Array): void {
  w.begin(EV_FRAME); w.u32(link); w.raw(bytes); w.end();
}

export function writeLinkClosed(w: EventWriter, link: number): void { w.begin(EV_LINK_CLOSED); w.u32(link); w.end(); }

export function writeDialFailed(w: EventWriter, address: string, failure: DialFailure): void {
  w.begin(EV_DIAL_FAILED); w.str(address); w.u8(failure === 'refused' ? DIAL_FAILED_REFUSED : DIAL_FAILED_OTHER); w.end();
}

function stringField(w: EventWriter, v: unknown): void {
  if (v === undefined) w.u8(TAG_ABSENT);
  else if (typeof v === 'string') { w.u8(TAG_STRING); w.str(v); }
  else { w.u8(TAG_OTHER); w.str(typeof v); }
}
function numberField(w: EventWriter, v: unknown): void {
  if (v === undefined) w.u8(TAG_ABSENT);
  else if (typeof v === 'number') { w.u8(TAG_NUMBER); w.f64(v); }
  else { w.u8(TAG_OTHER); w.str(typeof v); }
}
/** `groups`: absent, an array (TAG_LIST: count, then each item tagged as a string field), or another type (core-as/assembly/groups.ts). */
function listField(w: EventWriter, v: unknown): void {
  if (v === undefined) w.u8(TAG_ABSENT);
  else if (Array.isArray(v)) { w.u8(TAG_LIST); w.u32(v.length); for (const x of v) stringField(w, x); }
  else { w.u8(TAG_OTHER); w.str(typeof v); }
}
const waitCode = (wait: WaitMode): number => (wait === 'done' ? WAIT_DONE : WAIT_ACK);

/** `spec` is whatever the user passed: the core validates it and replies with the field at fault. */
export function writeStartChild(w: EventWriter, req: number, spec: unknown, wait: WaitMode): void {
  const s = (spec !== null && typeof spec === 'object' ? spec : {}) as Record<string, unknown>;
  w.begin(EV_START_CHILD); w.u32(req); w.u8(waitCode(wait));
  if (spec === null || typeof spec !== 'object') { w.u8(TAG_OTHER); w.str('spec is not an object'); }
  else stringField(w, s.id);
  stringField(w, s.kind);
  let args: string | undefined;
  let argsError: string | undefined;
  try {
    args = s.args === undefined ? undefined : JSON.stringify(s.args);
    if (s.args !== undefined && args === undefined) argsError = `${typeof s.args} is not JSON`;
  } catch (e) {
    argsError = e instanceof Error ? e.message : String(e);
  }
  if (argsError !== undefined) { w.u8(TAG_OTHER); w.str(argsError); }
  else stringField(w, args);
  stringField(w, s.restart);
  numberField(w, s.shutdownMs);
  numberField(w, s.maxRestarts);
  numberField(w, s.periodMs);
  listField(w, s.groups);
  w.end();
}

export function writeTerminateChild(w: EventWriter, req: number, id: string, wait: WaitMode): void {
  w.begin(EV_TERMINATE_CHILD); w.u32(req); w.u8(waitCode(wait)); w.str(String(id)); w.end();
}

/** `waitMs`: how long the BYE may wait for members that stay to hold what this node ACKed lately; undefined: the core's default. */
export function writeLeave(w: EventWriter, req: number, waitMs?: number): void {
  const wait = waitMs === undefined || !(waitMs >= 0) ? EV_LEAVE_WAIT_DEFAULT : Math.min(Math.floor(waitMs), EV_LEAVE_WAIT_DEFAULT - 1);
  w.begin(EV_LEAVE); w.u32(req); w.u32(wait); w.end();
}

/** A member's placement state as the API names it (cordon.ts in the core). */
export type PlacementState = 'active' | 'cordoned' | 'draining';
const PLACEMENT_CODES: Record<PlacementState, number> = { active: PM_ACTIVE, cordoned: PM_CORDONED, draining: PM_DRAINING };

/** cordon / uncordon (state 'active') / drain of a member; `deadlineMs` 0 = none. */
export function writeCordon(w: EventWriter, req: number, member: string, state: PlacementState, maxParallel: number, deadlineMs: number): void {
  w.begin(EV_CORDON); w.u32(req); w.str(member); w.u8(PLACEMENT_CODES[state]); w.u32(maxParallel); w.u32(deadlineMs); w.end();
}

export function writeSetWeight(w: EventWriter, req: number, weight: number): void {
  w.begin(EV_SET_WEIGHT); w.u32(req); w.f64(weight); w.end();
}

export function writeChildStarted(w: EventWriter, id: string, epoch: number): void {
  w.begin(EV_CHILD_STARTED); w.str(id); w.u32(epoch); w.end();
}

/** Our credential renewed: the kinds are those of the credential it renews (the Supervisor checks). */
export function writeRenewCredential(w: EventWriter, c: CoreCredential): void {
  w.begin(EV_RENEW_CREDENTIAL); w.bytes(c.key); w.u64(c.expiresAtMs); w.u64(c.firstEpoch);
  w.u32(c.tabLinkKeys.length); for (const k of c.tabLinkKeys) w.bytes(k);
  w.end();
}

/** The answer to a pair_key effect: the key of this node and `peer` in `epoch`, or none (the host cannot get it). */
export function writePairKey(w: EventWriter, peer: string, epoch: number, key: Uint8Array | undefined): void {
  w.begin(EV_PAIR_KEY); w.str(peer); w.u64(epoch); w.bytes(key ?? new Uint8Array(0));
  w.end();
}

/** Once, right after init, on a credential member whose host has no pair-key source: the core asks secret members for pair keys itself. */
export function writePairKeyRelay(w: EventWriter): void {
  w.begin(EV_PAIR_KEY_RELAY); w.end();
}

export function writeChildUnresponsive(w: EventWriter, id: string, epoch: number): void {
  w.begin(EV_CHILD_UNRESPONSIVE); w.str(id); w.u32(epoch); w.end();
}

export function writeChildExited(w: EventWriter, id: string, epoch: number, reason: ExitReason, error?: ErrorInfo): void {
  w.begin(EV_CHILD_EXITED); w.str(id); w.u32(epoch); w.u8(EXIT_CODES[reason] ?? EXIT_CRASH);
  w.str(error?.name ?? ''); w.str(error?.message ?? ''); w.end();
}

export function writeChildStartFailed(w: EventWriter, id: string, epoch: number, error: ErrorInfo): void {
  w.begin(EV_CHILD_START_FAILED); w.str(id); w.u32(epoch); w.str(error.name); w.str(error.message); w.end();
}

// ---- messages to children (core-as/assembly/messages.ts) ----------------------------------------

/** sup.send / sup.call: `json` is the message as JSON text, encoded straight into the record. */
export function writeMessageSend(w: EventWriter, req: number, call: boolean, id: string, json: string): void {
  w.begin(EV_MESSAGE_SEND); w.u32(req); w.u8(call ? 1 : 0); w.str(id); w.str(json); w.end();
}

/** A child's answer to a call from `caller` (its incarnation and request number as delivered). */
export function writeMessageReply(w: EventWriter, caller: string, callerInc: number, req: number, answer: string): void {
  w.begin(EV_MESSAGE_REPLY); w.str(caller); w.u64(callerInc); w.u32(req); w.str(answer); w.end();
}

export function writeMessageConfig(w: EventWriter, bufferMax: number, bufferMs: number, maxMessageBytes: number): void {
  w.begin(EV_MESSAGE_CONFIG); w.u32(bufferMax); w.u32(bufferMs); w.u32(maxMessageBytes); w.end();
}

// ---- state handoff and checkpoints (core-as/assembly/handoff.ts) --------------------------------

/** What a child answered when asked for its state: its encoded state, no hook, or a failure. */
export type StateAnswer =
  | { outcome: 'given'; version: number; bytes: Uint8Array }
  | { outcome: 'none' }
  | { outcome: 'failed'; error: ErrorInfo };

const EMPTY = new Uint8Array(0);

/** Sent once, right after init: the handoff deadline and the state size limit. */
export function writeStateConfig(w: EventWriter, handoffTimeoutMs: number, maxStateBytes: number): void {
  w.begin(EV_STATE_CONFIG); w.u32(handoffTimeoutMs); w.u32(maxStateBytes); w.end();
}

export function writeChildState(w: EventWriter, id: string, epoch: number, a: StateAnswer): void {
  w.begin(EV_CHILD_STATE); w.str(id); w.u32(epoch);
  w.u8(a.outcome === 'given' ? STATE_GIVEN : a.outcome === 'none' ? STATE_NONE : STATE_FAILED);
  w.u32(a.outcome === 'given' ? a.version : 0);
  w.bytes(a.outcome === 'given' ? a.bytes : EMPTY);
  w.str(a.outcome === 'failed' ? a.error.name : ''); w.str(a.outcome === 'failed' ? a.error.message : '');
  w.end();
}

export function writeCheckpoint(w: EventWriter, id: string, epoch: number, version: number, bytes: Uint8Array): void {
  w.begin(EV_CHECKPOINT); w.str(id); w.u32(epoch); w.u32(version); w.bytes(bytes); w.end();
}
