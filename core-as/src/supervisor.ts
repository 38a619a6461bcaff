// The host-agnostic runtime: one Supervisor drives the Wasm core through the binding and the
// three adapters a host supplies (Transport, Runner, Clock). It decides nothing: it feeds the
// core events and time, and carries out the effects the core answers with.

import { Core } from './core.js';
import type { CoreEvent, Effect, ReplyCode } from './effect-reader.js';
import type { GlobalChildView, LocalChildView, MemberView, NodeInfo, RejectReason } from './queries.js';
import { NONCE_BYTES, STEP_BYTES } from './limits.js';
import type { Clock, ErrorInfo, ExitReason, Runner, RunnerHandlers, Transport, TransportHandlers } from './adapters.js';
import { Emitter } from './emitter.js';
import {
  AlreadyStartedError, ChildFailedError, InvalidChildSpecError, NotFoundError, NotRunningError, TimeoutError, TrellisError,
} from './errors.js';
import { resolveOptions, type ChildSpec, type CommonOptions, type ResolvedOptions } from './options.js';

/** Everything observers see: the core's events, plus what the runtime itself reports. */
export type TrellisEvent =
  | CoreEvent
  | { type: 'child_event'; id: string; name: string; data: unknown }
  | { type: 'transport_error'; error: ErrorInfo }
  /** A testing or debug core found its own state inconsistent (a core bug; never from release). */
  | { type: 'core_invariant_broken'; message: string }
  | { type: 'ready'; name: string; address: string | undefined };

export interface HostAdapters {
  transport: Transport;
  /** Built by the host once the node name is known. */
  runner: (nodeName: string, emitChildEvent: (id: string, name: string, data: unknown) => void) => Runner;
  clock: Clock;
  /** Cryptographically random bytes (handshake nonces). */
  randomBytes(n: number): Uint8Array;
  /** The Wasm core (bytes or a compiled module). */
  wasm: BufferSource | WebAssembly.Module;
  /** Default node name when the user gives none. */
  defaultName(): string;
}

export interface StartOptions { wait?: 'ack' | 'running'; timeoutMs?: number }
export interface TerminateOptions { wait?: 'ack' | 'stopped'; timeoutMs?: number }

interface Pending { resolve(): void; reject(e: Error): void; id: string; timer?: ReturnType<typeof setTimeout> }

function replyError(code: ReplyCode, field: string, message: string, id: string): TrellisError {
  switch (code) {
    case 'invalid_spec': return new InvalidChildSpecError(field || 'spec', message);
    case 'not_found': return new NotFoundError(id, message);
    case 'already_started': return new AlreadyStartedError(id, message);
    case 'child_failed': return new ChildFailedError(id, message);
    default: return new NotRunningError(message);
  }
}

function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

export class Supervisor extends Emitter<TrellisEvent> {
  readonly name: string;
  /** The address peers dial to reach this node, if it listens. */
  address: string | undefined;
  private readonly core: Core;
  private readonly opts: ResolvedOptions;
  private readonly a: HostAdapters;
  private runner!: Runner;
  private nextReq = 1;
  private pending = new Map<number, Pending>();
  private scheduled = false;
  private flushing = false;
  private state: 'starting' | 'running' | 'stopping' | 'stopped' = 'starting';
  private readonly runnerHandlers: RunnerHandlers;
  private readonly transportHandlers: TransportHandlers;

  private constructor(opts: ResolvedOptions, adapters: HostAdapters) {
    super();
    this.opts = opts;
    this.a = adapters;
    this.name = opts.name;
    this.core = Core.create(adapters.wasm);
    this.runnerHandlers = {
      started: (id, epoch) => this.feed(() => this.core.childStarted(id, epoch)),
      exited: (id, epoch, reason: ExitReason, error?: ErrorInfo) => this.feed(() => this.core.childExited(id, epoch, reason, error)),
      startFailed: (id, epoch, error) => this.feed(() => this.core.childStartFailed(id, epoch, error)),
      // The core keeps the child's claim (status 'unresponsive') until its exit is reported, so
      // no other member starts it meanwhile, and emits child_unresponsive.
      unresponsive: (id, epoch) => this.feed(() => this.core.childUnresponsive(id, epoch)),
    };
    this.transportHandlers = {
      opened: (link, outbound, address) => this.feed(() => this.core.linkOpened(link, outbound, address, this.a.randomBytes(NONCE_BYTES))),
      frame: (link, bytes) => this.feed(() => this.core.frame(link, bytes)),
      closed: (link, reason) => {
        // Frames the transport refused before the core saw them are counted here.
        if (reason === 'frame_too_large' || reason === 'text_frame') this.transportRejects[reason]++;
        this.feed(() => this.core.linkClosed(link));
      },
      dialFailed: (address, _reason, failure) => this.feed(() => this.core.dialFailed(address, failure ?? 'other')),
      error: (err) => this.emit({ type: 'transport_error', error: errorInfo(err) }),
    };
  }

  /** Validates options, listens, joins the cluster and submits the boot children. */
  static async start(options: CommonOptions | unknown, adapters: HostAdapters): Promise<Supervisor> {
    const opts = resolveOptions(options, adapters.defaultName);
    const sup = new Supervisor(opts, adapters);
    await sup.boot();
    return sup;
  }

  private async boot(): Promise<void> {
    const o = this.opts;
    this.runner = this.a.runner(o.name, (id, name, data) => this.emit({ type: 'child_event', id, name, data }));
    // Events that arrive before init are held (an inbound link can open as soon as we listen).
    const held: (() => void)[] = [];
    let initDone = false;
    const realFeed = this.feed.bind(this);
    this.feed = (fn) => (initDone ? realFeed(fn) : void held.push(fn));
    this.address = await this.a.transport.listen(this.transportHandlers);
    const incarnation = Date.now() * 1000 + Math.floor(Math.random() * 1000);
    this.core.init({
      name: o.name, incarnation, scope: o.scope, listen: this.address ?? '', secret: o.secret,
      seed: Math.floor(Math.random() * 2 ** 32), heartbeatMs: o.heartbeatMs, failureTimeoutMs: o.failureTimeoutMs,
      syncIntervalMs: o.syncIntervalMs, quorum: o.quorum, weight: o.weight, maxFrameBytes: o.maxFrameBytes,
      kinds: Object.keys(o.kinds), seeds: o.seeds,
    });
    initDone = true;
    this.feed = realFeed;
    for (const fn of held) fn();
    this.state = 'running';
    // Boot children: submitted at once; an invalid one fails start().
    const acks = o.children.map((spec) => this.startChild(spec));
    this.flush();
    const bad = await Promise.race([
      Promise.allSettled(acks).then((rs) => rs.find((r) => r.status === 'rejected' && r.reason instanceof InvalidChildSpecError)),
      new Promise<undefined>((r) => queueMicrotask(() => r(undefined))),
    ]);
    for (const p of acks) p.catch(() => undefined);
    if (bad && bad.status === 'rejected') {
      await this.kill();
      throw bad.reason;
    }
    this.emit({ type: 'ready', name: this.name, address: this.address });
  }

  // ---- the pump ------------------------------------------------------------------------------

  /** Queues an event for the core and schedules one batch for everything queued together. */
  private feed(fn: () => void): void {
    if (this.state === 'stopped') return;
    fn();
    this.schedule();
  }

  private schedule(yieldFirst = false): void {
    // After a full slice the next one waits for a later task, even when an effect of this slice
    // (a runner report, a reply) already queued a microtask flush: otherwise the slices chain
    // through microtasks, sockets and timers never get their turn, and a node busy for longer
    // than failureTimeoutMs looks dead to its peers.
    if (yieldFirst) this.mustYield = true;
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.runScheduled);
  }

  private mustYield = false;
  private readonly runScheduled = (): void => {
    if (this.mustYield) {
      this.mustYield = false;
      setTimeout(this.runScheduled, 0);
      return;
    }
    this.scheduled = false;
    this.flush();
  };

  private flush(): void {
    if (this.flushing || this.state === 'stopped') return;
    this.flushing = true;
    try {
      const fx = this.core.step({ now: this.a.clock.now(), maxBytes: STEP_BYTES });
      for (const e of fx) this.apply(e);
    } finally {
      this.flushing = false;
    }
    if (this.core.pending > 0) this.schedule(true);
  }

  private apply(e: Effect): void {
    switch (e.type) {
      case 'send': this.a.transport.send(e.link, e.bytes); break;
      case 'dial': this.a.transport.dial(e.address); break;
      case 'close': this.a.transport.close(e.link, e.reason); break;
      case 'run': {
        let args: unknown = null;
        try { args = JSON.parse(e.args); } catch { /* validated at the API; cannot happen */ }
        try {
          this.runner.run(e.id, e.epoch, e.kind, args, this.runnerHandlers);
        } catch (err) {
          this.runnerHandlers.startFailed(e.id, e.epoch, errorInfo(err));
        }
        break;
      }
      case 'stop': this.runner.stop(e.id, e.epoch, e.shutdownMs); break;
      case 'wake': this.a.clock.setTimer(e.at, () => this.feed(() => undefined)); break;
      case 'reply': this.settle(e.req, e.code, e.field, e.message); break;
      case 'event': this.emit(e.event); break;
      // Only a testing or debug core checks its invariants; a broken one is a core bug to report.
      case 'invariant': this.emit({ type: 'core_invariant_broken', message: e.message }); break;
    }
  }

  private settle(req: number, code: ReplyCode, field: string, message: string): void {
    const p = this.pending.get(req);
    if (!p) return;
    this.pending.delete(req);
    if (p.timer) clearTimeout(p.timer);
    if (code === 'ok') p.resolve();
    else p.reject(replyError(code, field, message, p.id));
  }

  private request(id: string, timeoutMs: number | undefined, send: (req: number) => void): Promise<void> {
    if (this.state !== 'running') return Promise.reject(new NotRunningError());
    const req = this.nextReq++;
    return new Promise<void>((resolve, reject) => {
      const p: Pending = { resolve, reject, id };
      if (timeoutMs !== undefined) {
        p.timer = setTimeout(() => {
          this.pending.delete(req);
          reject(new TimeoutError(`request for ${id} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(req, p);
      this.feed(() => send(req));
    });
  }

  // ---- the public API -------------------------------------------------------------------------

  /** Starts a child somewhere in the cluster. Resolves once a second member holds the spec
   *  (at once when alone), or with `wait: 'running'` once its owner runs it. */
  startChild(spec: ChildSpec, options: StartOptions = {}): Promise<void> {
    const id = spec !== null && typeof spec === 'object' && typeof spec.id === 'string' ? spec.id : '';
    return this.request(id, options.timeoutMs, (req) => this.core.startChild(req, spec, options.wait === 'running' ? 'done' : 'ack'));
  }

  /** Terminates a child wherever it runs; with `wait: 'stopped'` resolves once nothing runs it. */
  terminateChild(id: string, options: TerminateOptions = {}): Promise<void> {
    return this.request(id, options.timeoutMs, (req) => this.core.terminateChild(req, id, options.wait === 'stopped' ? 'done' : 'ack'));
  }

  whichChildren(scope: 'local'): LocalChildView[];
  whichChildren(scope: 'global'): GlobalChildView[];
  whichChildren(scope: 'local' | 'global'): LocalChildView[] | GlobalChildView[] {
    return scope === 'local' ? this.core.localChildren() : this.core.globalChildren();
  }

  members(): MemberView[] { return this.core.members(); }

  /** Digest of the replicated state: equal on every member once the cluster has converged. */
  digest(): string { return this.core.digest().state.toString(16); }

  /** Frames refused, by reason. */
  rejectedFrames(): Record<RejectReason | 'frame_too_large' | 'text_frame', number> {
    return { ...this.core.counters(), ...this.transportRejects };
  }
  private transportRejects = { frame_too_large: 0, text_frame: 0 };

  /** Counts and readiness of this node, cheap enough to poll. */
  stats(): NodeInfo { return this.core.info(); }

  /** True once this node knows the cluster well enough to start children. */
  get ready(): boolean { return this.core.info().ready; }

  get running(): boolean { return this.state === 'running'; }

  /** Graceful leave: hand every local child over (stopping it first), then close everything. */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.state !== 'running') return;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const left = this.request(this.name, timeoutMs, (req) => this.core.leave(req));
    this.state = 'stopping';
    try {
      await left;
    } catch {
      /* timed out: close anyway; peers detect the loss */
    }
    await this.kill();
  }

  /** Immediate shutdown without handover (children are stopped at once; peers detect the loss). */
  async kill(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.a.clock.clearTimer();
    for (const [, p] of this.pending) { if (p.timer) clearTimeout(p.timer); p.reject(new NotRunningError('supervisor stopped')); }
    this.pending.clear();
    await Promise.allSettled([this.a.transport.shutdown(), this.runner?.stopAll(0)]);
  }
}
