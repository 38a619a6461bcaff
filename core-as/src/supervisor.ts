// The host-agnostic runtime: one Supervisor drives the Wasm core through the binding and the
// three adapters a host supplies (Transport, Runner, Clock). It decides nothing: it feeds the
// core events and time, and carries out the effects the core answers with.

import { Core } from './core.js';
import { GlobalViewKeeper } from './global-view-keeper.js';
import type { CoreEvent, Effect, ReplyCode } from './effect-reader.js';
import type { GlobalChildView, LocalChildView, MemberView, NodeInfo, RejectReason } from './queries.js';
import { BYE_READ_WAIT_MS, NONCE_BYTES, SEEDS_SENT_MAX, STEP_BYTES, STEPS_CHAINED_MAX, STEP_YIELD_MS } from './limits.js';
import { resolveSeeds, type SeedFailure } from './seeds.js';
import { advertisedAddress } from './advertise.js';
import { externalIpv4Addresses, systemLookup, type Lookup } from './system-net.js';
import { TLS_REASONS, type TlsReason } from './tls.js';
import type { Clock, ErrorInfo, ExitReason, Runner, RunnerHandlers, Transport, TransportHandlers } from './adapters.js';
import { Emitter } from './emitter.js';
import { nextStepBudget } from './step-budget.js';
import type { GatewayEvent } from './gateway.js';
import {
  AlreadyStartedError, ChildFailedError, InvalidChildSpecError, InvalidOptionError, NotFoundError, NotRunningError, TimeoutError, TrellisError,
  UnknownMemberError, DrainTimeoutError, DrainCancelledError,
} from './errors.js';
import { checkMember, checkWeight, resolveCordonOptions, resolveDrainOptions, type CordonOptions, type DrainOptions } from './cordon-options.js';
import { resolveOptions, type ChildSpec, type CommonOptions, type ResolvedOptions } from './options.js';
import { encodeCredentialToken, type CredentialToken } from './credential.js';
import { renewedCredential } from './renewal.js';
import type { MetricsData } from './metrics-data.js';
import { Messaging, CALL_TIMEOUT_DEFAULT_MS, type CallOptions } from './messaging.js';
import { publish, type PublishResult } from './groups.js';
import type { StateBytes } from './child-state.js';

/** Everything observers see: the core's events, plus what the runtime itself reports. */
export type TrellisEvent =
  | CoreEvent
  | GatewayEvent
  | { type: 'child_event'; id: string; name: string; data: unknown }
  | { type: 'transport_error'; error: ErrorInfo }
  /** A testing or debug core found its own state inconsistent (a core bug; never from release). */
  | { type: 'core_invariant_broken'; message: string }
  | { type: 'ready'; name: string; address: string | undefined }
  /** The core asked for a link to `address` (a seed, a gossiped member, a lost member). */
  | { type: 'dialing'; address: string }
  /** A TLS link refused by certificate verification, on this side (see TlsReason). */
  | { type: 'tls_failed'; address: string; outbound: boolean; reason: TlsReason; code: string }
  /** A DNS seed or seed function could not be read (tried again next sync interval). */
  | ({ type: 'seed_failed' } & SeedFailure)
  /** `insecure`: started with `insecure: true`, so anyone who can connect can join. Emitted once, on the turn after start() resolves. */
  | { type: 'warning'; code: 'insecure'; message: string };

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
  /** The resolver for DNS seeds (default: the system resolver, where the host has one). */
  lookup?: Lookup;
  /** The machine's non-loopback IPv4 addresses, for a wildcard bind without `advertise` (default: read from the OS). */
  externalIpv4?: () => string[];
  /**
   * Runs `fn` in a later task, after pending I/O (the yield between slices of a long batch).
   * Default setImmediate (after pending I/O; Node and Bun), else setTimeout(0); a browser passes a
   * MessageChannel, since hidden pages clamp timers.
   */
  yieldTask?(fn: () => void): void;
}

export interface StartOptions { wait?: 'ack' | 'running'; timeoutMs?: number }
export interface TerminateOptions { wait?: 'ack' | 'stopped'; timeoutMs?: number }

interface Pending { resolve(): void; reject(e: Error): void; id: string; drain?: boolean; timer?: ReturnType<typeof setTimeout> }

function replyError(code: ReplyCode, field: string, message: string, id: string, drain = false): TrellisError {
  switch (code) {
    case 'unknown_member': return new UnknownMemberError(id, message);
    case 'deadline': return drain ? new DrainTimeoutError(id, message) : new TimeoutError(message);
    case 'cancelled': return new DrainCancelledError(id, message);
    case 'table_full': return new TrellisError('table_full', message);
    case 'invalid_spec': return new InvalidChildSpecError(field || 'spec', message);
    case 'not_found': return new NotFoundError(id, message);
    case 'already_started': return new AlreadyStartedError(id, message);
    case 'child_failed': return new ChildFailedError(id, message);
    default: return new NotRunningError(message);
  }
}

/** Node's and Bun's setImmediate (runs after pending I/O, without setTimeout's 1 ms floor); absent in browsers. */
const setImmediateFn = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;

function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

export class Supervisor extends Emitter<TrellisEvent> {
  readonly name: string;
  /** The address peers dial to reach this node, if it listens. */
  address: string | undefined;
  /** The address this node's transport listens on (differs from `address` behind a proxy or NAT). */
  boundAddress: string | undefined;
  private readonly core: Core;
  /** Decodes the global view's changed rows between reads (global-view-keeper.ts). */
  private readonly viewKeeper: GlobalViewKeeper;
  private readonly opts: ResolvedOptions;
  /** The credential this member holds now (renewCredential replaces it). */
  private credential: CredentialToken | undefined;
  private readonly a: HostAdapters;
  private runner!: Runner;
  private nextReq = 1;
  private pending = new Map<number, Pending>();
  private scheduled = false;
  private flushing = false;
  private state: 'starting' | 'running' | 'stopping' | 'stopped' = 'starting';
  private readonly runnerHandlers: RunnerHandlers;
  private readonly transportHandlers: TransportHandlers;
  private readonly messaging: Messaging;

  private constructor(opts: ResolvedOptions, adapters: HostAdapters) {
    super();
    this.opts = opts;
    this.a = adapters;
    this.name = opts.name;
    this.core = Core.create(adapters.wasm);
    this.messaging = new Messaging(this.core, opts, (fn) => this.feed(fn));
    this.viewKeeper = new GlobalViewKeeper(this.core);
    this.runnerHandlers = {
      started: (id, epoch) => this.feed(() => this.core.childStarted(id, epoch)),
      exited: (id, epoch, reason: ExitReason, error?: ErrorInfo) => this.feed(() => this.core.childExited(id, epoch, reason, error)),
      startFailed: (id, epoch, error) => this.feed(() => this.core.childStartFailed(id, epoch, error)),
      // The core keeps the child's claim (status 'unresponsive') until its exit is reported, so
      // no other member starts it meanwhile, and emits child_unresponsive.
      unresponsive: (id, epoch) => this.feed(() => this.core.childUnresponsive(id, epoch)),
      state: (id, epoch, answer) => this.feed(() => this.core.childState(id, epoch, answer)),
      checkpoint: (id, epoch, s) => this.feed(() => this.core.checkpoint(id, epoch, s.version, s.bytes)),
    };
    this.transportHandlers = {
      opened: (link, outbound, address, watchedSilenceMs) => this.feed(() => this.core.linkOpened(link, outbound, address, this.a.randomBytes(NONCE_BYTES), watchedSilenceMs)),
      // Stamped on arrival: a member is heard then, even if its frame waits behind a backlog.
      frame: (link, bytes) => { this.frameCounts.in++; this.feed(() => this.core.frame(link, bytes, this.a.clock.now())); },
      closed: (link, reason) => {
        // Frames the transport refused before the core saw them are counted here.
        if (reason === 'frame_too_large' || reason === 'text_frame') this.transportRejects[reason]++;
        this.feed(() => this.core.linkClosed(link));
      },
      dialFailed: (address, _reason, failure) => this.feed(() => this.core.dialFailed(address, failure ?? 'other')),
      tlsFailed: (address, outbound, reason, code) => {
        this.tlsRejects[reason]++;
        this.emit({ type: 'tls_failed', address, outbound, reason, code });
      },
      error: (err) => this.emit({ type: 'transport_error', error: errorInfo(err) }),
      gateway: (event) => this.emit(event),
      knownAddress: (address) => this.knowsAddress(address),
    };
  }

  /** Validates options, listens, joins the cluster and submits the boot children. */
  static async start(options: CommonOptions | unknown, adapters: HostAdapters): Promise<Supervisor> {
    const opts = resolveOptions(options, adapters.defaultName);
    const sup = new Supervisor(opts, adapters);
    if (opts.insecure) sup.emit({ type: 'warning', code: 'insecure', message: 'started with insecure: true: anyone who can connect to this node can join the cluster' });
    try {
      await sup.boot();
    } finally {
      // Events of the boot (the warning, the first dials, ready) reach the listeners the caller
      // attaches once start() has resolved: they are released on the next task.
      setTimeout(() => sup.releaseBootEvents(), 0);
    }
    return sup;
  }

  /** Events emitted while start() runs, held until the caller could have subscribed. */
  private bootEvents: TrellisEvent[] | null = [];
  protected override emit(e: TrellisEvent): void {
    if (this.bootEvents) this.bootEvents.push(e);
    else super.emit(e);
  }
  private releaseBootEvents(): void {
    const held = this.bootEvents ?? [];
    this.bootEvents = null;
    for (const e of held) super.emit(e);
  }

  private async boot(): Promise<void> {
    const o = this.opts;
    this.runner = this.a.runner(o.name, (id, name, data) => this.emit({ type: 'child_event', id, name, data }));
    this.messaging.runner = this.runner;
    // Events that arrive before init are held (an inbound link can open as soon as we listen).
    const held: (() => void)[] = [];
    let initDone = false;
    const realFeed = this.feed.bind(this);
    this.feed = (fn) => (initDone ? realFeed(fn) : void held.push(fn));
    const bound = await this.a.transport.listen(this.transportHandlers);
    this.boundAddress = bound;
    try {
      this.address = advertisedAddress(bound, o.advertise, this.a.externalIpv4 ?? externalIpv4Addresses);
    } catch (e) {
      await this.a.transport.shutdown();
      throw e;
    }
    const found = o.seedSources.length ? await this.readSeeds() : [];
    const incarnation = Date.now() * 1000 + Math.floor(Math.random() * 1000);
    const c = o.credential;
    this.credential = c;
    this.core.init({
      name: o.name, incarnation, scope: o.scope, listen: this.address ?? '', secret: o.secret,
      credential: c && { kinds: c.kinds, expiresAtMs: c.expiresAtMs, key: c.key, firstEpoch: c.firstEpoch, tabLinkKeys: c.tabLinkKeys },
      seed: Math.floor(Math.random() * 2 ** 32), heartbeatMs: o.heartbeatMs, failureTimeoutMs: o.failureTimeoutMs,
      syncIntervalMs: o.syncIntervalMs, quorum: o.quorum, weight: o.weight, maxFrameBytes: o.maxFrameBytes,
      maxPendingLinks: o.maxPendingLinks, kinds: Object.keys(o.kinds), seeds: [...o.seeds, ...found],
    });
    this.messaging.configure();
    this.core.stateConfig(o.handoffTimeoutMs, o.maxStateBytes);
    // No gateway to ask (a Node or Bun credential member): the core asks a secret member itself.
    if (c && !this.a.transport.pairKey) this.core.pairKeyRelay();
    // The core checks what options cannot (its own limits, the handshake size): a refused init
    // fails start() with the core's reason rather than leaving a node that answers not_running.
    for (const e of this.core.step({ now: this.a.clock.now(), maxBytes: 0 })) this.apply(e);
    const refused = this.core.initError();
    if (refused) {
      await this.kill();
      const at = refused.indexOf(': ');
      throw new InvalidOptionError(at > 0 ? refused.slice(0, at) : 'options', at > 0 ? refused.slice(at + 2) : refused);
    }
    if (o.seedSources.length) this.seedTimer = setInterval(() => void this.rereadSeeds(), o.syncIntervalMs);
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

  /** A member's address as this node lists members, or a seed's (given or found). */
  private knowsAddress(address: string): boolean {
    if (this.opts.seeds.includes(address) || this.seedsSent.has(address)) return true;
    return this.state !== 'stopped' && this.core.members().some((m) => m.address === address);
  }

  // ---- seeds found at run time (DNS names, functions) -------------------------------------------

  private seedTimer: ReturnType<typeof setInterval> | undefined;
  private seedsReading = false;
  /** Addresses already handed to the core (it keeps them in its dial table). */
  private seedsSent = new Set<string>();

  /** Reads the dynamic seed sources once; failures become events, and the addresses are remembered as sent. */
  private async readSeeds(): Promise<string[]> {
    const { addresses, failures } = await resolveSeeds(this.opts.seedSources, this.a.lookup ?? systemLookup());
    for (const f of failures) this.emit({ type: 'seed_failed', ...f });
    const fresh = addresses.filter((a) => !this.seedsSent.has(a));
    if (this.seedsSent.size + fresh.length > SEEDS_SENT_MAX) this.seedsSent.clear();
    for (const a of fresh) this.seedsSent.add(a);
    return fresh;
  }

  private async rereadSeeds(): Promise<void> {
    if (this.seedsReading || this.state !== 'running') return;
    this.seedsReading = true;
    try {
      const fresh = await this.readSeeds();
      if (fresh.length && this.state === 'running') this.feed(() => this.core.addSeeds(fresh));
    } finally {
      this.seedsReading = false;
    }
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

  /** Event bytes the next step takes at most (step-budget.ts). */
  private stepBudget = STEP_BYTES;
  private mustYield = false;
  /** Time spent in steps since the last yield to I/O (a cut batch yields once it is STEP_YIELD_MS). */
  private busyMs = 0;
  /** Steps run in microtasks since the last yield to I/O. */
  private chained = 0;
  private readonly runScheduled = (): void => {
    if (this.mustYield || this.chained >= STEPS_CHAINED_MAX) {
      this.mustYield = false;
      this.chained = 0;
      this.busyMs = 0;
      if (this.a.yieldTask) this.a.yieldTask(this.runScheduled);
      else if (setImmediateFn) setImmediateFn(this.runScheduled);
      else setTimeout(this.runScheduled, 0);
      return;
    }
    this.scheduled = false;
    this.chained++;
    this.flush();
  };

  private flush(): void {
    if (this.flushing || this.state === 'stopped') return;
    this.flushing = true;
    // A batch over the step budget (step-budget.ts) is cut: the next slice waits for I/O once the
    // slices since the last yield took STEP_YIELD_MS. Events the effects of this step queue
    // (runner reports, a child's answer) run in the next microtask.
    const budget = this.stepBudget;
    const queued = this.core.pending;
    const sliced = queued > budget;
    const t0 = performance.now();
    try {
      const fx = this.core.step({ now: this.a.clock.now(), maxBytes: budget });
      const used = queued - this.core.pending;
      if (this.onStepSeconds) this.onStepSeconds((performance.now() - t0) / 1000);
      for (const e of fx) this.apply(e);
      this.stepBudget = nextStepBudget(budget, used, performance.now() - t0);
    } finally {
      this.flushing = false;
    }
    this.busyMs += performance.now() - t0;
    if (this.core.pending > 0) this.schedule(sliced && this.busyMs >= STEP_YIELD_MS);
    else {
      // Nothing queued: what comes next comes from I/O or a timer, so the budget starts again.
      this.busyMs = 0;
      this.viewKeeper.afterStep();
      this.afterStep?.();
    }
  }

  /**
   * A credential member's link to another waits for their pair key: the transport fetches it
   * from a server (a tab's gateway), and no key refuses the link. A host without such a source
   * set the core to ask secret members itself at init (pairKeyRelay), so it is never asked.
   */
  private fetchPairKey(peer: string, epoch: number): void {
    const fetch = this.a.transport.pairKey?.(peer, epoch) ?? Promise.resolve(undefined);
    void fetch.catch(() => undefined).then((key) => this.feed(() => this.core.pairKey(peer, epoch, key)));
  }

  private apply(e: Effect): void {
    switch (e.type) {
      case 'send': this.frameCounts.out++; this.a.transport.send(e.link, e.bytes); break;
      case 'dial': this.emit({ type: 'dialing', address: e.address }); this.a.transport.dial(e.address); break;
      case 'close': this.a.transport.close(e.link, e.reason); break;
      case 'run': {
        let args: unknown = null;
        try { args = JSON.parse(e.args); } catch { /* validated at the API; cannot happen */ }
        const state = this.rehydrating.get(e.id);
        if (state) this.rehydrating.delete(e.id);
        try {
          this.runner.run(e.id, e.epoch, e.kind, args, this.runnerHandlers, state?.epoch === e.epoch ? state : undefined);
        } catch (err) {
          this.runnerHandlers.startFailed(e.id, e.epoch, errorInfo(err));
        }
        break;
      }
      case 'stop': this.messaging.stopped(e.id, e.epoch); this.runner.stop(e.id, e.epoch, e.shutdownMs); break;
      // State handoff: the core decides when; the runner calls the child's hook (none: answered at once).
      case 'dehydrate':
        // From now on its messages go through the core, which holds them for the new instance.
        this.messaging.stopped(e.id, e.epoch);
        if (!this.runner.dehydrate?.(e.id, e.epoch)) this.feed(() => this.core.childState(e.id, e.epoch, { outcome: 'none' }));
        break;
      case 'rehydrate': this.rehydrating.set(e.id, e); break;
      case 'wake': this.a.clock.setTimer(e.at, () => this.feed(() => undefined)); break;
      case 'pair_key': this.fetchPairKey(e.peer, e.epoch); break;
      case 'reply': this.settle(e.req, e.code, e.field, e.message); break;
      case 'event':
        if (e.event.type === 'child_started') this.messaging.started(e.event.id, e.event.epoch);
        else if (e.event.type === 'child_stopping') this.messaging.stopping(e.event.id, e.event.epoch, e.event.why);
        else if (e.event.type === 'child_exited') this.messaging.exited(e.event.id, e.event.epoch, e.event.reason);
        this.emit(e.event);
        break;
      // Only a testing or debug core checks its invariants; a broken one is a core bug to report.
      case 'invariant': this.emit({ type: 'core_invariant_broken', message: e.message }); break;
      case 'deliver': this.messaging.deliver(this.runner, e.id, e.epoch, e.caller, e.callerInc, e.req, e.data); break;
      case 'call_reply': this.messaging.reply(e.req, e.data); break;
      case 'call_stopped': this.messaging.callStopped(e.req, e.reason); break;
      case 'message_status': this.messaging.status(e.req, e.outcome); break;
      case 'messages_delivered': for (let i = 0; i < e.reqs.length; i++) this.messaging.status(e.reqs[i], 'delivered'); break;
    }
  }

  /** The state a child's next run starts from: a 'rehydrate' effect comes right before its 'run'. */
  private readonly rehydrating = new Map<string, StateBytes & { epoch: number }>();

  private settle(req: number, code: ReplyCode, field: string, message: string): void {
    const p = this.pending.get(req);
    if (!p) return;
    this.pending.delete(req);
    if (p.timer) clearTimeout(p.timer);
    if (code === 'ok') p.resolve();
    else p.reject(replyError(code, field, message, p.id, p.drain));
  }

  private request(id: string, timeoutMs: number | undefined, send: (req: number) => void, drain = false): Promise<void> {
    if (this.state !== 'running') return Promise.reject(new NotRunningError());
    const req = this.nextReq++;
    return new Promise<void>((resolve, reject) => {
      const p: Pending = { resolve, reject, id, drain };
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

  /**
   * Sends `msg` (JSON data) to the child `id`, wherever it runs. Resolves once a running instance
   * has taken it; rejects with NotFoundError (no such child is desired), BufferFullError,
   * TimeoutError (no running instance took it within messageBufferMs), DeliveryUnknownError (the
   * member running it was lost before it confirmed) or MessageTooLargeError. Never delivered twice;
   * messages from one node to one child arrive in the order they were sent, across moves.
   */
  send(id: string, msg: unknown): Promise<void> {
    if (this.state !== 'running') return Promise.reject(new NotRunningError());
    return this.messaging.send(id, msg);
  }

  /**
   * Sends `msg` to the child `id` and resolves with its answer (see ctx.onMessage). Rejects as
   * `send` does, with TimeoutError after `timeoutMs` (default 5,000) without an answer, with
   * CallFailedError when the child's handler threw, and with ChildStoppedError (delivered, not
   * answered) when the instance that took it ended first.
   */
  call(id: string, msg: unknown, options: CallOptions = {}): Promise<unknown> {
    if (this.state !== 'running') return Promise.reject(new NotRunningError());
    const t = options.timeoutMs ?? CALL_TIMEOUT_DEFAULT_MS;
    if (typeof t !== 'number' || !(t > 0)) return Promise.reject(new InvalidOptionError('timeoutMs', 'must be a positive number of milliseconds'));
    return this.messaging.call(id, msg, t);
  }

  /**
   * Sends `msg` to every child in `group` (spec field `groups`), as a `send` to each: resolves once
   * every one took it or failed, with `sent` (the children in the group in this member's replica
   * when called) and the failures. An empty group resolves `{ sent: 0 }`; MessageTooLargeError
   * rejects before anything is sent (groups.ts).
   */
  publish(group: string, msg: unknown): Promise<PublishResult> {
    if (this.state !== 'running') return Promise.reject(new NotRunningError());
    return publish(this.core, this.messaging, group, msg);
  }

  /**
   * No new children are placed on `member` (any member, this one included); what it runs stays.
   * The state is replicated and outlives a restart of the member while any member remembers it.
   * Resolves once the member applies it (at once for a member that is down).
   */
  cordon(member: string, options?: CordonOptions): Promise<void> {
    const { timeoutMs } = resolveCordonOptions(options);
    return this.request(checkMember(member), undefined, (req) => this.core.cordon(req, member, 'cordoned', 0, timeoutMs));
  }

  /** `member` takes new children again; the children whose placement winner it is move back to it. */
  uncordon(member: string, options?: CordonOptions): Promise<void> {
    const { timeoutMs } = resolveCordonOptions(options);
    return this.request(checkMember(member), undefined, (req) => this.core.cordon(req, member, 'active', 0, timeoutMs));
  }

  /**
   * Cordons `member` and moves its children to the other members, at most `maxParallel` at once
   * (each stopped there before it starts elsewhere). Resolves once it runs no children; rejects
   * with DrainTimeoutError at `deadlineMs` (the member stays draining until uncordoned). A child
   * whose kind no other open member runs stays, so the drain cannot finish in time.
   */
  drain(member: string, options?: DrainOptions): Promise<void> {
    const { deadlineMs, maxParallel } = resolveDrainOptions(options);
    return this.request(checkMember(member), undefined, (req) => this.core.cordon(req, member, 'draining', maxParallel, deadlineMs), true);
  }

  /** This member's share of placements from now on (relative to the others' weights); children move accordingly. */
  setWeight(weight: number): Promise<void> {
    const w = checkWeight(weight);
    return this.request(this.name, undefined, (req) => this.core.setWeight(req, w));
  }

  whichChildren(scope: 'local'): LocalChildView[];
  whichChildren(scope: 'global'): GlobalChildView[];
  whichChildren(scope: 'local' | 'global'): LocalChildView[] | GlobalChildView[] {
    return scope === 'local' ? this.core.localChildren() : this.core.globalChildren();
  }

  members(): MemberView[] { return this.core.members(); }

  /** Digest of the replicated state: equal on every member once the cluster has converged. */
  digest(): string { return this.core.digest().state.toString(16); }

  /**
   * Mints a credential token for a member that will join under `name`, advertising at most
   * `kinds`, until `expiresInMs` from now (docs/SECURITY.md). Only a node started with the secret
   * can mint; a credential member cannot.
   */
  mintCredential(o: { name: string; kinds: string[]; expiresInMs: number }): string {
    if (o === null || typeof o !== 'object') throw new InvalidOptionError('options', 'must be { name, kinds, expiresInMs }');
    if (typeof o.name !== 'string' || o.name.length === 0) throw new InvalidOptionError('name', 'must be a non-empty string');
    if (!Array.isArray(o.kinds) || !o.kinds.every((k) => typeof k === 'string' && k.length > 0)) throw new InvalidOptionError('kinds', 'must be an array of kind names');
    if (!Number.isInteger(o.expiresInMs) || o.expiresInMs <= 0) throw new InvalidOptionError('expiresInMs', 'must be a positive integer');
    if (this.state === 'stopped') throw new NotRunningError('supervisor stopped');
    const now = this.a.clock.now();
    const r = this.core.mintCredential(o.name, o.kinds, now + o.expiresInMs, now);
    if ('error' in r) {
      const at = r.error.indexOf(': ');
      throw new InvalidOptionError(r.error.slice(0, at), r.error.slice(at + 2));
    }
    return encodeCredentialToken(r.token);
  }

  /**
   * Replaces this member's credential with a later one for the same scope, name and kinds
   * (minted again by the application's route): every link stays up, each peer checks the renewal
   * (docs/SECURITY.md "Renewal"), and no child moves. Emits `credential_renewed`.
   */
  renewCredential(token: string): void {
    if (this.state === 'stopped') throw new NotRunningError('supervisor stopped');
    const c = renewedCredential(this.credential, token, this.a.clock.now());
    this.credential = c;
    this.feed(() => this.core.renewCredential({ kinds: c.kinds, expiresAtMs: c.expiresAtMs, key: c.key, firstEpoch: c.firstEpoch, tabLinkKeys: c.tabLinkKeys }));
  }

  /** Frames refused, by reason. */
  rejectedFrames(): Record<RejectReason | 'frame_too_large' | 'text_frame', number> {
    return { ...this.core.counters(), ...this.transportRejects };
  }
  private transportRejects = { frame_too_large: 0, text_frame: 0 };

  /** TLS links refused on this side, by reason (each also reported as a `tls_failed` event). */
  tlsFailures(): Record<TlsReason, number> { return { ...this.tlsRejects }; }
  private tlsRejects = Object.fromEntries(TLS_REASONS.map((r) => [r, 0])) as Record<TlsReason, number>;

  // ---- observation: what metrics.ts reads. It is attached by the hosts that have prom-client
  // (Node, Bun); this file stays free of it, since the browser host runs it too.

  /** Frames carried over links since start, by direction. */
  readonly frameCounts = { in: 0, out: 0 };
  /** Called with the duration of each core step, in seconds, while something observes steps. */
  onStepSeconds: ((seconds: number) => void) | undefined;
  /** Where this node serves its Prometheus metrics (option `metrics`), if it does. */
  metricsUrl: string | undefined;
  /** With option `gateway`: the tabs joined to this member's gateway and their open channels now. */
  gatewayStats: (() => { tabs: number; channels: number }) | undefined;
  private metricsSource: (() => Promise<MetricsData>) | undefined;
  /** Attaches what `metrics()` answers (core-as/src/metrics.ts does). */
  attachMetrics(source: () => Promise<MetricsData>): void { this.metricsSource = source; }
  /** This node's metrics as data: the same families and values its Prometheus endpoint serves. */
  metrics(): Promise<MetricsData> {
    if (!this.metricsSource) return Promise.reject(new TrellisError('unsupported', 'metrics are not available on this host'));
    return this.metricsSource();
  }

  /** Counts and readiness of this node, cheap enough to poll. */
  stats(): NodeInfo { return this.core.info(); }

  /** True once this node knows the cluster well enough to start children. */
  get ready(): boolean { return this.core.info().ready; }

  get running(): boolean { return this.state === 'running'; }

  /**
   * Graceful leave: hand every local child over (stopping it first), then close everything.
   * `handoverWaitMs`: how long the BYE may wait for the members that stay to hold the starts this
   * node acknowledged lately (default 3000 ms; 0 for a process or page with no time left: they are
   * sent and the BYE follows at once). docs/ARCHITECTURE.md "A leave keeps what it acknowledged
   * lately durable" says what each choice keeps.
   */
  async stop(options: { timeoutMs?: number; handoverWaitMs?: number } = {}): Promise<void> {
    if (this.state !== 'running') return;
    const wait = options.handoverWaitMs;
    if (wait !== undefined && (typeof wait !== 'number' || !(wait >= 0))) throw new InvalidOptionError('handoverWaitMs', 'must be a number of milliseconds, 0 or more');
    const timeoutMs = options.timeoutMs ?? 30_000;
    const left = this.request(this.name, timeoutMs, (req) => this.core.leave(req, wait));
    this.state = 'stopping';
    try {
      await left;
      await this.peersClosed(BYE_READ_WAIT_MS);
    } catch {
      /* timed out: close anyway; peers detect the loss */
    }
    await this.kill();
  }

  /** Run after every step that leaves nothing queued (the wait of peersClosed). */
  private afterStep: (() => void) | undefined;

  /**
   * After BYE: until every member has closed its link, or `waitMs`. A member closes it once it has
   * read the BYE, so everything sent before it (a moving child's state) has reached that member.
   * Closing first would not do: a socket closed with bytes the peer has not read yet, or with
   * unread bytes of its own, is reset, and a reset drops what the kernel still held for the peer.
   */
  private peersClosed(waitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.afterStep = undefined; resolve(); };
      const timer = setTimeout(done, waitMs);
      this.afterStep = () => { if (this.state === 'stopped' || this.core.info().linked === 0) done(); };
      this.afterStep();
    });
  }

  /** Immediate shutdown without handover (children are stopped at once; peers detect the loss). */
  async kill(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.afterStep?.(); // a stop waiting for its peers (peersClosed) ends with it
    this.a.clock.clearTimer();
    this.viewKeeper.stop();
    clearInterval(this.seedTimer);
    for (const [, p] of this.pending) { if (p.timer) clearTimeout(p.timer); p.reject(new NotRunningError('supervisor stopped')); }
    this.pending.clear();
    this.messaging.close();
    await Promise.allSettled([this.a.transport.shutdown(), this.runner?.stopAll(0)]);
  }
}
