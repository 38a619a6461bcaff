// The binding: the only code that knows the Wasm boundary layout (core-as/assembly/boundary.ts).
// Events are encoded into one JS-side buffer and copied into the core's input buffer in one go;
// `step()` runs them as one batch and decodes the effect batch. Views over Wasm memory are
// reused until the memory grows.

import { instantiateCore, type CoreInstance } from './wasm.js';
import type { ExitReason, ErrorInfo } from './adapters.js';

// Event record types (boundary.ts EV_*).
const EV_INIT = 1, EV_LINK_OPENED = 2, EV_FRAME = 3, EV_LINK_CLOSED = 4, EV_DIAL_FAILED = 5, EV_TICK = 6,
  EV_START_CHILD = 7, EV_TERMINATE_CHILD = 8, EV_LEAVE = 9, EV_CHILD_STARTED = 10, EV_CHILD_EXITED = 11,
  EV_CHILD_START_FAILED = 12, EV_PLANT_BUGS = 13;
// Effect record types (FX_*).
const FX_SEND = 1, FX_DIAL = 2, FX_CLOSE = 3, FX_RUN = 4, FX_STOP = 5, FX_WAKE = 6, FX_REPLY = 7, FX_EVENT = 8,
  FX_INVARIANT = 9;

export const PlantedBug = {
  startWithoutRelease: 1,
  skipAntiEntropy: 2,
  ignoreIncarnation: 4,
  terminateLoses: 8,
  breakInvariant: 16,
} as const;

export interface CoreConfig {
  name: string;
  /** Distinguishes restarts of one node name; must grow across restarts (e.g. a timestamp). */
  incarnation: number;
  scope: string;
  /** Address peers dial to reach us ('' for members that cannot listen). */
  listen?: string;
  secret?: Uint8Array;
  /** Seed for the core's jitter PRNG (not a secret). */
  seed: number;
  heartbeatMs: number;
  failureTimeoutMs: number;
  syncIntervalMs: number;
  /** 0 = partition 'available'; N = a side needs N live members to run children. */
  quorum: number;
  weight: number;
  maxFrameBytes: number;
  kinds: string[];
  seeds: string[];
}

export type ReplyCode = 'ok' | 'invalid_spec' | 'not_found' | 'already_started' | 'not_running' | 'child_failed';
const REPLY_CODES: ReplyCode[] = ['ok', 'invalid_spec', 'not_found', 'already_started', 'not_running', 'child_failed'];

export type CoreEvent =
  | { type: 'member_up'; name: string; incarnation: number; address: string }
  | { type: 'member_down'; name: string; incarnation: number; reason: string }
  | { type: 'child_started'; id: string; kind: string; epoch: number; restarts: number }
  | { type: 'child_exited'; id: string; reason: ExitReason | 'start_failed'; error?: ErrorInfo; epoch: number }
  | { type: 'child_restarting'; id: string; reason: string; restarts: number; delayMs: number }
  | { type: 'child_failed'; id: string; reason: string; restarts: number }
  | { type: 'child_stopping'; id: string; why: 'moved' | 'terminated' | 'quorum_lost' | 'leaving'; epoch: number }
  | { type: 'child_moved'; id: string; from: string; to: string }
  | { type: 'link_rejected'; reason: string; peer: string; address: string; link: number }
  | { type: 'left'; name: string; incarnation: number };

export type Effect =
  | { type: 'send'; link: number; bytes: Uint8Array }
  | { type: 'dial'; address: string }
  | { type: 'close'; link: number; reason: string }
  | { type: 'run'; id: string; epoch: number; kind: string; args: string }
  | { type: 'stop'; id: string; epoch: number; shutdownMs: number }
  | { type: 'wake'; at: number }
  | { type: 'reply'; req: number; code: ReplyCode; field: string; message: string }
  | { type: 'event'; event: CoreEvent }
  /** Testing builds only: a core invariant does not hold after this step ("name: detail"). */
  | { type: 'invariant'; message: string };

export type ChildStatus = 'pending' | 'starting' | 'running' | 'stopping' | 'restarting' | 'failed';
const STATUSES: ChildStatus[] = ['pending', 'starting', 'running', 'stopping', 'restarting', 'failed'];

export interface LocalChildView { id: string; kind: string; status: ChildStatus; epoch: number; restarts: number }
export interface GlobalChildView { id: string; kind: string; node: string | null; status: ChildStatus; restarts: number; reason?: string }
export interface MemberView {
  name: string; incarnation: number; address: string; weight: number; kinds: string[];
  children: number; status: 'up' | 'leaving' | 'disconnected'; self: boolean;
}
export interface NodeInfo {
  name: string; incarnation: number; ready: boolean; leaving: boolean; left: boolean;
  /** Children in the replicated desired set, and run by this node. */
  desired: number; local: number;
  /** Why this node does not start children yet ('' when ready). */
  notReadyReason: string;
  /** Local children running, and starting / stopping / restarting. */
  running: number; transitioning: number;
  /** Other live members. */
  peers: number;
}

/** Names of the rejected-frame counters, in the core's order (codec.ts FERR_*). */
export const REJECT_REASONS = ['handshake_timeout', 'truncated', 'oversized', 'bad_magic', 'bad_version', 'unknown_type',
  'malformed', 'unauthenticated', 'bad_auth', 'wrong_scope', 'secret_mismatch', 'stale_incarnation', 'self_link', 'unexpected'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

const EXIT_CODES: Record<ExitReason, number> = { normal: 0, crash: 1, shutdown: 2, killed: 3 };
const EXIT_NAMES = ['normal', 'crash', 'shutdown', 'killed'] as const;
const WHYS = ['unknown', 'moved', 'terminated', 'quorum_lost', 'leaving'] as const;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A growable little-endian writer for event records (JS side). */
class EventWriter {
  buf = new Uint8Array(1 << 16);
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
      const next = cut + 5 + this.view.getUint32(cut + 1, true);
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
  begin(type: number): void { this.u8(type); this.recAt = this.len; this.u32(0); }
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

/** A bounds-checked reader over a Uint8Array (effects and query results). */
class OutReader {
  pos = 0;
  constructor(private b: Uint8Array, private v: DataView, private end: number) {}
  get more(): boolean { return this.pos < this.end; }
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
  bytes(n: number): Uint8Array { const s = this.b.slice(this.pos, this.pos + n); this.pos += n; return s; }
}

// Tags for API-encoded spec fields (spec.ts TAG_*).
const TAG_ABSENT = 0, TAG_STRING = 1, TAG_NUMBER = 2, TAG_OTHER = 3;

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

export type WaitMode = 'ack' | 'done';

/** A member as placement sees it: its name hashes its position; weight defaults to 1. */
export interface PlacementMember { name: string; weight?: number; kinds: string[] }

/** One node's core: a Wasm instance, fed events, answering effects. */
export class Core {
  private readonly x: CoreInstance;
  /** Events from the network, the runner and time: always handled first. */
  private readonly w = new EventWriter();
  /**
   * API requests (startChild, terminateChild, leave), in their own queue: a burst of 100,000
   * starts must not hold back a peer's heartbeat queued behind it, or the peer looks dead.
   * Requests keep their order among themselves; against network events they are concurrent.
   */
  private readonly api = new EventWriter();
  private mem!: Uint8Array;
  private view!: DataView;

  private constructor(x: CoreInstance) {
    this.x = x;
    this.refreshViews();
  }

  static create(source: BufferSource | WebAssembly.Module): Core {
    return new Core(instantiateCore(source));
  }

  private refreshViews(): void {
    const buf = this.x.memory.buffer;
    if (!this.mem || this.mem.buffer !== buf) {
      this.mem = new Uint8Array(buf);
      this.view = new DataView(buf);
    }
  }

  private fn<T extends (...a: never[]) => unknown>(name: string): T {
    return this.x[name] as T;
  }

  // ---- events -----------------------------------------------------------------------------

  init(c: CoreConfig): void {
    const w = this.w;
    w.begin(EV_INIT);
    w.str(c.name); w.u64(c.incarnation); w.str(c.scope); w.str(c.listen ?? '');
    w.u8(c.secret && c.secret.length ? 1 : 0); w.bytes(c.secret ?? new Uint8Array(0));
    w.u64(c.seed);
    w.u32(c.heartbeatMs); w.u32(c.failureTimeoutMs); w.u32(c.syncIntervalMs); w.u32(c.quorum);
    w.f64(c.weight); w.u32(c.maxFrameBytes);
    w.u32(c.kinds.length); for (const k of c.kinds) w.str(k);
    w.u32(c.seeds.length); for (const s of c.seeds) w.str(s);
    w.end();
  }
  tick(nowMs: number): void { this.w.begin(EV_TICK); this.w.f64(nowMs); this.w.end(); }
  linkOpened(link: number, outbound: boolean, address: string, nonce: Uint8Array): void {
    if (nonce.length !== 16) throw new RangeError('nonce must be 16 random bytes');
    const w = this.w;
    w.begin(EV_LINK_OPENED); w.u32(link); w.u8(outbound ? 1 : 0); w.str(address); w.raw(nonce); w.end();
  }
  frame(link: number, bytes: Uint8Array): void {
    const w = this.w;
    w.begin(EV_FRAME); w.u32(link); w.raw(bytes); w.end();
  }
  linkClosed(link: number): void { this.w.begin(EV_LINK_CLOSED); this.w.u32(link); this.w.end(); }
  dialFailed(address: string): void { this.w.begin(EV_DIAL_FAILED); this.w.str(address); this.w.end(); }
  /** `spec` is whatever the user passed: the core validates it and replies with the field at fault. */
  startChild(req: number, spec: unknown, wait: WaitMode): void {
    const s = (spec !== null && typeof spec === 'object' ? spec : {}) as Record<string, unknown>;
    const w = this.api;
    w.begin(EV_START_CHILD); w.u32(req); w.u8(wait === 'done' ? 1 : 0);
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
    w.end();
  }
  terminateChild(req: number, id: string, wait: WaitMode): void {
    const w = this.api;
    w.begin(EV_TERMINATE_CHILD); w.u32(req); w.u8(wait === 'done' ? 1 : 0); w.str(String(id)); w.end();
  }
  leave(req: number): void { this.api.begin(EV_LEAVE); this.api.u32(req); this.api.end(); }
  childStarted(id: string, epoch: number): void {
    const w = this.w; w.begin(EV_CHILD_STARTED); w.str(id); w.u32(epoch); w.end();
  }
  childExited(id: string, epoch: number, reason: ExitReason, error?: ErrorInfo): void {
    const w = this.w;
    w.begin(EV_CHILD_EXITED); w.str(id); w.u32(epoch); w.u8(EXIT_CODES[reason] ?? 1);
    w.str(error?.name ?? ''); w.str(error?.message ?? ''); w.end();
  }
  childStartFailed(id: string, epoch: number, error: ErrorInfo): void {
    const w = this.w;
    w.begin(EV_CHILD_START_FAILED); w.str(id); w.u32(epoch); w.str(error.name); w.str(error.message); w.end();
  }
  /** Simulator only: switch on known bugs to prove the checker finds them. */
  plantBugs(flags: number): void { this.w.begin(EV_PLANT_BUGS); this.w.u32(flags); this.w.end(); }

  /** Number of queued event bytes. */
  get pending(): number { return this.w.queued + this.api.queued; }

  // ---- step ---------------------------------------------------------------------------------

  /** Runs every queued event as one batch and returns the effects, in order. */
  step(opts: { now?: number; maxBytes?: number } = {}): Effect[] {
    // Cut at a record boundary when a budget is given: the rest stays queued for the next
    // step, so a host can let I/O (heartbeats!) run between slices of a huge batch. Network
    // and runner events go first; API requests fill what is left of the budget.
    const budget = opts.maxBytes ?? Infinity;
    const w = this.w, api = this.api;
    const wEnd = w.cut(budget, true);
    const wLen = wEnd - w.head;
    const apiEnd = api.cut(Math.max(0, budget - wLen), wLen === 0);
    const apiLen = apiEnd - api.head;
    // The batch's time goes first, so every event in it is handled at that time.
    const tick = opts.now === undefined ? 0 : 13;
    const total = tick + wLen + apiLen;
    const ptr = (this.fn<(n: number) => number>('inputBuffer'))(total);
    this.refreshViews();
    if (tick) {
      this.mem[ptr] = EV_TICK;
      const dv = new DataView(this.mem.buffer, ptr + 1, 12);
      dv.setUint32(0, 8, true);
      dv.setFloat64(4, opts.now!, true);
    }
    this.mem.set(w.buf.subarray(w.head, wEnd), ptr + tick);
    this.mem.set(api.buf.subarray(api.head, apiEnd), ptr + tick + wLen);
    w.consume(wEnd);
    api.consume(apiEnd);
    const outLen = (this.fn<(n: number) => number>('step'))(total);
    return this.decodeEffects(outLen);
  }

  private reader(len: number): OutReader {
    this.refreshViews();
    const p = (this.fn<() => number>('outputPtr'))();
    return new OutReader(this.mem.subarray(p, p + len), new DataView(this.mem.buffer, this.mem.byteOffset + p, len), len);
  }

  private decodeEffects(len: number): Effect[] {
    const fx: Effect[] = [];
    if (len === 0) return fx;
    const r = this.reader(len);
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
        case FX_REPLY: fx.push({ type: 'reply', req: r.u32(), code: REPLY_CODES[r.u8()] ?? 'invalid_spec', field: r.str(), message: r.str() }); break;
        case FX_EVENT: fx.push({ type: 'event', event: decodeEvent(r) }); break;
        case FX_INVARIANT: fx.push({ type: 'invariant', message: r.str() }); break;
      }
      r.pos = end;
    }
    return fx;
  }

  // ---- hashing and crypto (test vectors, benchmarks) -------------------------------------------

  private toInput(bytes: Uint8Array): void {
    const ptr = (this.fn<(n: number) => number>('inputBuffer'))(bytes.length);
    this.refreshViews();
    this.mem.set(bytes, ptr);
  }

  /** XXH64 of `bytes` as the core computes it (placement hashes ids and names with seed 0). */
  xxh64(bytes: Uint8Array, seed = 0n): bigint {
    this.toInput(bytes);
    const n = (this.fn<(len: number, seed: bigint) => number>('hashInput'))(bytes.length, seed);
    return this.reader(n).u64big();
  }

  sha256(bytes: Uint8Array): Uint8Array {
    this.toInput(bytes);
    return this.reader((this.fn<(n: number) => number>('sha256Input'))(bytes.length)).bytes(32);
  }

  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    const both = new Uint8Array(key.length + data.length);
    both.set(key); both.set(data, key.length);
    this.toInput(both);
    return this.reader((this.fn<(k: number, d: number) => number>('hmacInput'))(key.length, data.length)).bytes(32);
  }

  // ---- placement (vectors, property tests, benchmarks) ------------------------------------------

  /**
   * Owners of `ids` among `members`, as the core places them: index into `members`, or -1 when
   * no member advertises the id's kind. `kinds` is one kind for all ids or one per id.
   * `wasmMs` is the time spent inside the core alone.
   */
  place(ids: string[], kinds: string | string[], members: PlacementMember[]): { owners: Int32Array; wasmMs: number } {
    const w = new EventWriter();
    w.u32(members.length);
    for (const m of members) {
      w.str(m.name); w.f64(m.weight ?? 1);
      w.u32(m.kinds.length); for (const k of m.kinds) w.str(k);
    }
    if (typeof kinds === 'string') { w.u8(0); w.str(kinds); w.u32(ids.length); for (const id of ids) w.str(id); }
    else { w.u8(1); w.u32(ids.length); for (let i = 0; i < ids.length; i++) { w.str(ids[i]); w.str(kinds[i]); } }
    this.toInput(w.buf.subarray(0, w.len));
    const t0 = performance.now();
    const n = (this.fn<(len: number) => number>('placeBatch'))(w.len);
    const wasmMs = performance.now() - t0;
    if (n < 0) throw new RangeError('placement input did not decode');
    const r = this.reader(n);
    const owners = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) owners[i] = r.u32() | 0;
    return { owners, wasmMs };
  }

  // ---- codec probes (tests, benchmarks) -----------------------------------------------------

  /**
   * Runs one frame through the decoders of a separate in-core "fuzz node" that has one
   * authenticated peer. Returns null if accepted, else the reason it was rejected.
   */
  fuzzFrame(bytes: Uint8Array): RejectReason | null {
    const ptr = (this.fn<(n: number) => number>('inputBuffer'))(bytes.length);
    this.refreshViews();
    this.mem.set(bytes, ptr);
    const code = (this.fn<(n: number) => number>('fuzzFrame'))(bytes.length);
    return code === 0 ? null : REJECT_REASONS[code];
  }

  /** Children the fuzz node holds after the frames it accepted. */
  fuzzDesiredCount(): number { return (this.fn<() => number>('fuzzDesiredCount'))(); }

  /**
   * Runs a randomized self-test of one of the core's data structures inside Wasm against a
   * reference implementation; returns the number of disagreements (0 = correct).
   */
  selfTest(structure: 'strmap' | 'workqueue', seed: number, ops: number, keySpace: number): number {
    const name = structure === 'strmap' ? 'selfTestStrMap' : 'selfTestWorkQueue';
    return (this.fn<(s: number, o: number, k: number) => number>(name))(seed >>> 0, ops, keySpace >>> 0);
  }

  // ---- queries -------------------------------------------------------------------------------

  private query(kind: number): OutReader {
    const len = (this.fn<(k: number) => number>('query'))(kind);
    return this.reader(len);
  }

  /** The spec this node holds for an id (its effective entry), or undefined. */
  specOf(id: string): { id: string; kind: string; args: string; restart: number; shutdownMs: number; maxRestarts: number; periodMs: number; failed: boolean } | undefined {
    const bytes = enc.encode(id);
    const head = new Uint8Array(4 + bytes.length);
    new DataView(head.buffer).setUint32(0, bytes.length, true);
    head.set(bytes, 4);
    this.toInput(head);
    const r = this.reader((this.fn<(n: number) => number>('querySpec'))(head.length));
    if (r.u8() === 0) return undefined;
    return { id: r.str(), kind: r.str(), args: r.str(), restart: r.u8(), shutdownMs: r.u32(), maxRestarts: r.u32(), periodMs: r.u32(), failed: r.u8() === 1 };
  }

  localChildren(): LocalChildView[] {
    const r = this.query(1);
    const n = r.u32();
    const outv: LocalChildView[] = new Array(n);
    for (let i = 0; i < n; i++) outv[i] = { id: r.str(), kind: r.str(), status: STATUSES[r.u8()], epoch: r.u32(), restarts: r.u32() };
    return outv;
  }

  globalChildren(): GlobalChildView[] {
    const r = this.query(2);
    const table = () => { const n = r.u32(); const t: string[] = new Array(n); for (let i = 0; i < n; i++) t[i] = r.str(); return t; };
    const kinds = table(), nodes = table(), reasons = table();
    const n = r.u32();
    const outv: GlobalChildView[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const id = r.str();
      const kind = kinds[r.u16()];
      const ni = r.i16();
      const status = STATUSES[r.u8()];
      const restarts = r.u32();
      const ri = r.i16();
      const v: GlobalChildView = { id, kind, node: ni < 0 ? null : nodes[ni], status, restarts };
      if (ri >= 0) v.reason = reasons[ri];
      outv[i] = v;
    }
    return outv;
  }

  members(): MemberView[] {
    const r = this.query(3);
    const n = r.u32();
    const outv: MemberView[] = [];
    for (let i = 0; i < n; i++) {
      const name = r.str(), incarnation = r.u64(), address = r.str(), weight = r.f64();
      const k = r.u32(); const kinds: string[] = []; for (let j = 0; j < k; j++) kinds.push(r.str());
      const children = r.u32(); const st = r.u8(); const self = r.u8() === 1;
      outv.push({ name, incarnation, address, weight, kinds, children, status: st === 1 ? 'leaving' : st === 2 ? 'disconnected' : 'up', self });
    }
    return outv;
  }

  /** Digest of the whole replicated state (desired map + every live member's claims), and of the desired map alone. */
  digest(): { state: bigint; desired: bigint } {
    const r = this.query(4);
    return { state: r.u64big(), desired: r.u64big() };
  }

  counters(): Record<RejectReason, number> {
    const r = this.query(5);
    const n = r.u32();
    const c = {} as Record<RejectReason, number>;
    for (let i = 0; i < n; i++) c[REJECT_REASONS[i] ?? (`code_${i}` as RejectReason)] = r.u32();
    return c;
  }

  info(): NodeInfo {
    const r = this.query(6);
    return { name: r.str(), incarnation: r.u64(), ready: r.u8() === 1, leaving: r.u8() === 1, left: r.u8() === 1, desired: r.u32(), local: r.u32(), notReadyReason: r.str(), running: r.u32(), transitioning: r.u32(), peers: r.u32() };
  }
}

function decodeEvent(r: OutReader): CoreEvent {
  const kind = r.u8();
  const a = r.str(), b = r.str(), c = r.str(), d = r.str();
  const n1 = r.f64(), n2 = r.f64();
  switch (kind) {
    case 1: return { type: 'member_up', name: a, address: b, incarnation: n1 };
    case 2: return { type: 'member_down', name: a, reason: b, incarnation: n1 };
    case 3: return { type: 'child_started', id: a, kind: b, epoch: n1, restarts: n2 };
    case 4: {
      const e: CoreEvent = { type: 'child_exited', id: a, reason: b as ExitReason | 'start_failed', epoch: n1 };
      if (c || d) e.error = { name: c, message: d };
      return e;
    }
    case 5: return { type: 'child_restarting', id: a, reason: b, restarts: n1, delayMs: n2 };
    case 6: return { type: 'child_failed', id: a, reason: b, restarts: n1 };
    case 7: return { type: 'child_stopping', id: a, why: (WHYS as readonly string[]).includes(b) ? b as 'moved' : 'moved', epoch: n1 };
    case 8: return { type: 'child_moved', id: a, from: b, to: c };
    case 9: return { type: 'link_rejected', reason: a, peer: b, address: c, link: n1 };
    default: return { type: 'left', name: a, incarnation: n1 };
  }
}

export { EXIT_NAMES };
