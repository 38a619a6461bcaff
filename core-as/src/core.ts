// The core: one Wasm instance, fed events and answering effects. Events are encoded into JS-side
// queues and copied into the core's input buffer in one go; `step()` runs them as one batch and
// decodes the effect batch. Views over Wasm memory are reused until the memory grows.
//
// Vocabulary (as in core-as/assembly): events in (init … childStartFailed), one step, effects out,
// and read-only queries (localChildren … specOf).

import { instantiateCore, type CoreInstance } from './wasm.js';
import type { DialFailure, ExitReason, ErrorInfo } from './adapters.js';
import {
  EventWriter, putTick, putHeard, heardRecordBytes, writeInit, writeTick, writeLinkOpened, writeFrame, writeLinkClosed, writeDialFailed,
  writeAddSeeds, writeStartChild, writeTerminateChild, writeLeave, writeCordon, writeSetWeight, type PlacementState, writeChildStarted, writeChildUnresponsive, writeRenewCredential, writePairKey, writePairKeyRelay, writeChildExited, writeChildStartFailed,
  writeMessageSend, writeMessageReply, writeMessageConfig,
  type CoreConfig, type CoreCredential, type WaitMode,
  writeStateConfig, writeChildState, writeCheckpoint, type StateAnswer,
} from './event-writer.js';
import { OutReader, readEffects, type Effect } from './effect-reader.js';
import {
  readLocalChildren, readMembers, readDigest, readCounters, readInfo, readSpec,
  type LocalChildView, type GlobalChildView, type MemberView, type NodeInfo, type RejectReason, type SpecView,
} from './queries.js';
import { GlobalViewCache } from './global-view.js';
import { Q_LOCAL, Q_MEMBERS, Q_DIGEST, Q_COUNTERS, Q_INFO, Q_INIT, Q_ROSTER } from './generated/boundary.js';
import { TICK_RECORD_BYTES } from './limits.js';
import { InputLanes } from './input-lanes.js';

type InputBuffer = (len: number) => number;
type Step = (len: number) => number;
type OutputPtr = () => number;
type Query = (kind: number) => number;

export class Core {
  protected readonly x: CoreInstance;
  /**
   * Events from the network, the runner and time, handled before API requests: one lane per
   * link and one for the rest, shared fairly when a step is cut (input-lanes.ts).
   */
  private readonly lanes = new InputLanes();
  /** The lane of events that belong to no link. */
  protected readonly w = this.lanes.local;
  /**
   * API requests (startChild, terminateChild, leave), in their own queue: a burst of 100,000
   * starts must not hold back a peer's heartbeat queued behind it, or the peer looks dead.
   * Requests keep their order among themselves; against network events they are concurrent.
   */
  private readonly api = new EventWriter();
  private readonly out = new OutReader();
  private mem!: Uint8Array;
  private view!: DataView;
  private readonly inputBuffer: InputBuffer;
  private readonly stepFn: Step;
  private readonly outputPtr: OutputPtr;
  private readonly queryFn: Query;
  private readonly querySpecFn: Step;
  private readonly queryGroupFn: Step;
  private readonly queryGlobalFn: Query;
  private readonly globalViewPendingFn: () => number;
  /** The global view's rows as last answered: each call decodes only what changed. */
  private readonly globalView = new GlobalViewCache();

  protected constructor(x: CoreInstance) {
    this.x = x;
    this.inputBuffer = x.inputBuffer as InputBuffer;
    this.stepFn = x.step as Step;
    this.outputPtr = x.outputPtr as OutputPtr;
    this.queryFn = x.query as Query;
    this.querySpecFn = x.querySpec as Step;
    this.queryGroupFn = x.queryGroup as Step;
    this.queryGlobalFn = x.queryGlobal as Query;
    this.globalViewPendingFn = x.globalViewPending as () => number;
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

  // ---- events -----------------------------------------------------------------------------

  init(c: CoreConfig): void { writeInit(this.w, c); }
  tick(nowMs: number): void { writeTick(this.w, nowMs); }
  /** `watchedSilenceMs` > 0: the transport reports the peer's end itself, and a silent peer is down after that long (core-as/assembly/watched-links.ts). */
  linkOpened(link: number, outbound: boolean, address: string, nonce: Uint8Array, watchedSilenceMs = 0): void { writeLinkOpened(this.lanes.link(link), link, outbound, address, nonce, watchedSilenceMs); }
  /**
   * A frame arrived at `atMs` (the host's clock; omitted: not told, the frame counts when handled).
   * The next step tells the core when each link last had bytes, ahead of the queue (heard.ts).
   */
  frame(link: number, bytes: Uint8Array, atMs?: number): void {
    writeFrame(this.lanes.link(link), link, bytes);
    if (atMs !== undefined) this.heard.set(link, atMs);
  }
  /** Links with frames arrived since the last step → when the last one arrived. */
  private readonly heard = new Map<number, number>();
  linkClosed(link: number): void { writeLinkClosed(this.lanes.link(link), link); }
  dialFailed(address: string, failure: DialFailure = 'other'): void { writeDialFailed(this.w, address, failure); }
  addSeeds(addresses: readonly string[]): void { writeAddSeeds(this.w, addresses); }
  /** `spec` is whatever the user passed: the core validates it and replies with the field at fault. */
  startChild(req: number, spec: unknown, wait: WaitMode): void { writeStartChild(this.api, req, spec, wait); }
  terminateChild(req: number, id: string, wait: WaitMode): void { writeTerminateChild(this.api, req, id, wait); }
  leave(req: number, waitMs?: number): void { writeLeave(this.api, req, waitMs); }
  cordon(req: number, member: string, state: PlacementState, maxParallel: number, deadlineMs: number): void {
    writeCordon(this.api, req, member, state, maxParallel, deadlineMs);
  }
  setWeight(req: number, weight: number): void { writeSetWeight(this.api, req, weight); }
  childStarted(id: string, epoch: number): void { writeChildStarted(this.w, id, epoch); }
  /** A stopping child did not settle within its shutdownMs: it keeps its claim until it exits. */
  childUnresponsive(id: string, epoch: number): void { writeChildUnresponsive(this.w, id, epoch); }
  renewCredential(c: CoreCredential): void { writeRenewCredential(this.w, c); }
  /** The answer to a pair_key effect (undefined: this host cannot get the key; the link is refused). */
  pairKey(peer: string, epoch: number, key: Uint8Array | undefined): void { writePairKey(this.w, peer, epoch, key); }
  /** Right after init, for a credential member whose host has no pair-key source: the core fetches pair keys from secret members over its links (no pair_key effects). */
  pairKeyRelay(): void { writePairKeyRelay(this.w); }
  childExited(id: string, epoch: number, reason: ExitReason, error?: ErrorInfo): void { writeChildExited(this.w, id, epoch, reason, error); }
  childStartFailed(id: string, epoch: number, error: ErrorInfo): void { writeChildStartFailed(this.w, id, epoch, error); }
  /** sup.send / sup.call (an API request, in the API queue). */
  messageSend(req: number, call: boolean, id: string, json: string): void { writeMessageSend(this.api, req, call, id, json); }
  /** A child answered a call (a runner report). */
  messageReply(caller: string, callerInc: number, req: number, answer: string): void { writeMessageReply(this.w, caller, callerInc, req, answer); }
  messageConfig(bufferMax: number, bufferMs: number, maxMessageBytes: number): void { writeMessageConfig(this.w, bufferMax, bufferMs, maxMessageBytes); }
  /** Right after init: the handoff deadline and the state size limit. */
  stateConfig(handoffTimeoutMs: number, maxStateBytes: number): void { writeStateConfig(this.w, handoffTimeoutMs, maxStateBytes); }
  /** A child's answer to a 'dehydrate' effect. */
  childState(id: string, epoch: number, answer: StateAnswer): void { writeChildState(this.w, id, epoch, answer); }
  checkpoint(id: string, epoch: number, version: number, bytes: Uint8Array): void { writeCheckpoint(this.w, id, epoch, version, bytes); }

  /** Number of queued event bytes. */
  get pending(): number { return this.lanes.queued + this.api.queued; }

  // ---- step ---------------------------------------------------------------------------------

  /** Runs every queued event as one batch and returns the effects, in order. */
  step(opts: { now?: number; maxBytes?: number } = {}): Effect[] {
    // Cut at a record boundary when a budget is given: the rest stays queued for the next
    // step, so a host can let I/O (heartbeats!) run between slices of a huge batch. Network
    // and runner events go first, each link's lane its share (input-lanes.ts); API requests
    // fill what is left of the budget.
    const budget = opts.maxBytes ?? Infinity;
    const api = this.api;
    const wLen = this.lanes.take(budget, true);
    const apiEnd = api.cut(Math.max(0, budget - wLen), wLen === 0);
    const apiLen = apiEnd - api.head;
    // The batch's time goes first, so every event in it is handled at that time.
    // Then when each link last had bytes (they may wait behind this slice, for later ones).
    const tick = opts.now === undefined ? 0 : TICK_RECORD_BYTES;
    const heard = this.heard.size ? heardRecordBytes(this.heard.size) : 0;
    const head = tick + heard;
    const total = head + wLen + apiLen;
    const ptr = this.inputBuffer(total);
    this.refreshViews();
    if (tick) putTick(this.mem, this.view, ptr, opts.now!);
    if (heard) { putHeard(this.mem, this.view, ptr + tick, this.heard); this.heard.clear(); }
    this.lanes.copy(this.mem, ptr + head);
    this.mem.set(api.buf.subarray(api.head, apiEnd), ptr + head + wLen);
    api.consume(apiEnd);
    const outLen = this.stepFn(total);
    if (outLen === 0) return [];
    return readEffects(this.output(outLen));
  }

  // ---- buffers (also used by the probes in ./testing) -----------------------------------------

  /** Copies `bytes` into the core's input buffer. */
  protected toInput(bytes: Uint8Array): void {
    const ptr = this.inputBuffer(bytes.length);
    this.refreshViews();
    this.mem.set(bytes, ptr);
  }

  /** The reader, over the `len` bytes the last call left in the core's output buffer. */
  protected output(len: number): OutReader {
    this.refreshViews();
    return this.out.reset(this.mem, this.view, this.outputPtr(), len);
  }

  // ---- queries -------------------------------------------------------------------------------

  private query(kind: number): OutReader { return this.output(this.queryFn(kind)); }

  localChildren(): LocalChildView[] { return readLocalChildren(this.query(Q_LOCAL)); }
  /** A snapshot of this node's replica (global-view.ts): frozen rows, a new array each call. */
  globalChildren(): GlobalChildView[] { this.updateGlobalView(); return this.globalView.snapshot(); }
  /** Whether globalChildren() would decode rows (changed since its last call or update). */
  globalViewPending(): boolean { return this.globalViewPendingFn() !== 0; }
  /** Decodes the rows changed since the last call or update, ahead of a read (global-view-keeper.ts). */
  updateGlobalView(): void { this.globalView.apply(this.output(this.queryGlobalFn(this.globalView.version))); }
  members(): MemberView[] { return readMembers(this.query(Q_MEMBERS)); }
  /** Digest of the whole replicated state (desired map + every live member's claims), and of the desired map alone. */
  digest(): { state: bigint; desired: bigint } { return readDigest(this.query(Q_DIGEST)); }
  counters(): Record<RejectReason, number> { return readCounters(this.query(Q_COUNTERS)); }
  /** partition 'majority': the names this node's roster counts (empty in the other modes). */
  roster(): string[] { const r = this.query(Q_ROSTER); return Array.from({ length: r.u32() }, () => r.str()); }
  info(): NodeInfo { return readInfo(this.query(Q_INFO)); }

  /** The spec this node holds for an id (its effective entry), or undefined. */
  specOf(id: string): SpecView | undefined {
    const bytes = new TextEncoder().encode(id);
    const head = new Uint8Array(4 + bytes.length);
    new DataView(head.buffer).setUint32(0, bytes.length, true);
    head.set(bytes, 4);
    this.toInput(head);
    return readSpec(this.output(this.querySpecFn(head.length)));
  }

  /** The ids of the children in `group` in this node's replica now (core-as/assembly/groups.ts). */
  groupMembers(group: string): string[] {
    const s = new EventWriter();
    s.str(group);
    this.toInput(s.buf.subarray(0, s.len));
    const r = this.output(this.queryGroupFn(s.len));
    const n = r.u32();
    const ids: string[] = new Array(n);
    for (let i = 0; i < n; i++) ids[i] = r.str();
    return ids;
  }

  /** Why the core refused its init ('field: rule'), or '' once it runs. Read after the first step. */
  initError(): string { return this.query(Q_INIT).str(); }

  /**
   * Mints a credential token's bytes for `name`, `kinds` from `issuedAtMs` until `expiresAtMs`
   * (wall-clock), or says why not ('field: rule'): only a node that holds the secret can
   * (docs/PROTOCOL.md). The issue time picks the first tab link key the credential carries.
   */
  mintCredential(name: string, kinds: string[], expiresAtMs: number, issuedAtMs: number): { token: Uint8Array } | { error: string } {
    const s = new EventWriter();
    s.str(name); s.u32(kinds.length); for (const k of kinds) s.str(k); s.u64(expiresAtMs); s.u64(issuedAtMs);
    this.toInput(s.buf.subarray(0, s.len));
    const r = this.output((this.x.mintCredential as Step)(s.len));
    const error = r.str();
    if (error) return { error };
    return { token: r.bytes(r.end - r.pos) };
  }
}
