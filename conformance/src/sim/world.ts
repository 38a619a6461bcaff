// A deterministic world of real Wasm cores: virtual clock, virtual network, simulated runners.
// Everything that varies comes from one seeded PRNG, so one seed gives one trace. The fault
// injection (net faults, crashes, pauses, partitions) is driven from outside through the
// methods here; the world itself only delivers what the cores say, with configurable delays.
// Debugging scripts watch it through `onAction`, `observe` and `onFrame`, never by patching it
// (docs/SIMULATOR.md, "How to debug a seed").

import type { CoreConfig, CoreCredential, CoreEvent, DialFailure, Effect, PlacementState, ReplyCode, WaitMode } from '@trellis/core';
import { TestCore as Core, QUORUM_MAJORITY } from '@trellis/core/testing';
import type { ExitReason } from '@trellis/core';
import { Prng } from './prng.js';
import { MSG_NAMES, MSG_LINK_RETIRE, AUTH_MODE, helloFrame } from '../protocol.js';
import { MessageLedger } from './messages.js';

export interface NetConditions {
  delayMin: number;
  delayMax: number;
  /** Probability a frame is dropped (models a lossy path; the core must repair by sync). */
  loss: number;
  /** Probability a frame is delivered twice. */
  dup: number;
  /** Probability a frame may overtake earlier ones on its link. */
  reorder: number;
}

export interface RunnerBehaviour {
  /** Delay before the runner reports started (or start failure). */
  startDelay(): number;
  failStart(id: string): boolean;
  /** When and how the child ends by itself, or null for never. */
  exitAfter(id: string): { after: number; reason: 'normal' | 'crash' } | null;
  /** ms the child takes to honour a stop, or null if it ignores the signal. */
  shutdownTime(id: string): number | null;
  /**
   * For a child that ignores its signal: null if the host can kill it (a worker or process
   * child, killed at shutdownMs); else it is an inline function, reported unresponsive at
   * shutdownMs, that settles by itself this many ms later (as the real inline runner does).
   */
  settlesAfter?(id: string): number | null;
}

export interface Reply { code: ReplyCode; field: string; message: string; at: number }

export interface SimChild { id: string; kind: string; args: string; epoch: number; startedAt: number; stopping: boolean; started: boolean; unresponsive?: boolean }

export interface NodeOptions {
  kinds?: string[];
  seeds?: string[];
  weight?: number;
  secret?: Uint8Array;
  /** partition: { quorum: N } (0: 'available'; QUORUM_MAJORITY: 'majority'). */
  quorum?: number;
  listen?: boolean;
  bugs?: number;
  scope?: string;
  /** A credential member: its credential (instead of `secret`). */
  credential?: CoreCredential;
  /**
   * A credential member's source of pair keys, as a tab's gateway answers (undefined: refused);
   * the world hands its answer back PAIR_KEY_FETCH_SIM_MS after the core asks. Without one, the
   * core of a credential member asks secret members over its links (pair-key-relay.ts).
   */
  pairKeys?: (peer: string, epoch: number) => Uint8Array | undefined;
  /** How long its host takes to fetch a pair key, virtual ms (default PAIR_KEY_FETCH_SIM_MS). */
  pairKeyDelayMs?: number;
  /** This node's own timing (default: the world's config), as a tab's longer defaults differ from a server's. */
  heartbeatMs?: number;
  failureTimeoutMs?: number;
  /**
   * Its links to other nodes with this option open as watched links with this silence bound, ms
   * (core-as/assembly/watched-links.ts), as tabs of one origin link over the mesh: a link the host
   * would report the end of. The world still only breaks links as it always does; what changes is
   * what the cores ask of such a link.
   */
  watchedLinks?: number;
}

/** How long a simulated host takes to fetch a pair key (a round trip to its gateway), virtual ms. */
export const PAIR_KEY_FETCH_SIM_MS = 2;

/** How long a simulated child takes to give its state when asked (virtual ms; no randomness, so traces stay close). */
const DEHYDRATE_MS = 1;

type Item =
  | { k: 'deliver'; link: number; bytes: Uint8Array }
  | { k: 'opened'; link: number; outbound: boolean; address: string }
  | { k: 'closed'; link: number }
  | { k: 'dialFailed'; address: string; failure: DialFailure }
  /** `timer` names the host timer it belongs to (HostClock mode: only the armed one fires). */
  | { k: 'wake'; timer?: number }
  | { k: 'unstall' }
  | { k: 'idle'; slot: IdleSlot }
  | { k: 'started'; id: string; epoch: number }
  | { k: 'unresponsive'; id: string; epoch: number }
  | { k: 'startFailed'; id: string; epoch: number }
  | { k: 'exited'; id: string; epoch: number; reason: ExitReason }
  /** A child answers a call it was delivered (after the runner's delay). */
  | { k: 'answer'; caller: string; callerInc: number; req: number; data: string }
  /** A child asked for its state (handoff) answers. */
  | { k: 'dehydrated'; id: string; epoch: number }
  | { k: 'retire' }
  /** The host's answer to a pair_key effect. */
  | { k: 'pairKey'; peer: string; epoch: number; key: Uint8Array | undefined };

interface Queued { at: number; seq: number; node: string; inc: number; item: Item }

interface Endpoint { node: string; inc: number; peer: number; open: boolean; lastAt: number }

/** A pre-auth link that never completes its handshake: silent, or a HELLO and then nothing. */
export type IdleMode = 'silent' | 'hello';
interface IdleSlot { node: string; mode: IdleMode; link: number }

/** One thing the world was asked to do, with its arguments, at virtual time `at` (see onAction). */
export interface WorldAction { at: number; action: string; args: unknown[] }

/**
 * How a host's timer and event loop behave. Without one (the default) a wake fires exactly at
 * the asked time and the host never stalls. With one, the world models the host as
 * core-as/src/supervisor.ts and clock.ts are: one timer, replaced by every wake effect, fired at
 * `fireAt` (Node's setTimeout may fire while Date.now() is still below the asked time), and not
 * re-armed when it fires early; after a step the host may stall (a GC pause), holding
 * everything that arrives until it runs again.
 */
export interface HostClock {
  /** Virtual time at which a timer armed for `at` fires. */
  fireAt(at: number): number;
  /** ms the host does not run after this step (0: it does not stall). */
  stallAfter(node: SimNode): number;
}

/**
 * What a step costs the host (a model of a loaded machine; off by default). With it the world
 * runs a node as core-as/src/supervisor.ts does: what arrives is queued in the core (a frame
 * stamped with its arrival, heard.ts), a step takes at most `sliceBytes` of the queue with the
 * time ahead of it, and the node then runs nothing for `msPerKiB` per KiB the step took, holding
 * what arrives meanwhile; whatever is left is the next slice. Bulk frames so delay the frames
 * behind them, a heartbeat included, by the time their slices take.
 */
export interface StepCost {
  sliceBytes: number;
  msPerKiB: number;
}

export class SimNode {
  core: Core;
  alive = true;
  paused = false;
  held: Queued[] = [];
  running = new Map<string, SimChild>();
  replies = new Map<number, Reply>();
  events: CoreEvent[] = [];
  /** The latest wake the core asked for. */
  wakeAt = -1;
  /** The host's armed timer (0: none armed). */
  timer = 0;
  /** Virtual time of the node's last step (-1: none yet). */
  lastStepAt = -1;
  /** Members this node has reported up (member_up/member_down events), name to incarnation. */
  readonly members = new Map<string, number>();
  /** The host is stalled (HostClock): what arrives is held until it runs again. */
  stalled = false;
  /** The core reported `left` (it shuts down shortly). */
  left = false;
  constructor(public name: string, public inc: number, public address: string, public opts: NodeOptions, core: Core) {
    this.core = core;
  }
}

export interface StepObserver {
  (world: World, node: SimNode, effects: Effect[]): void;
}

/** A dial into a partition fails after this long (a connect timeout, shortened: virtual time is cheap, seeds are not). */
const DIAL_TIMEOUT_SIM_MS = 20;

/** An idle link is reopened this much (at most) before the node's handshake timeout. */
const IDLE_REOPEN_MARGIN_MS = 40;

const DEFAULT_CONFIG = { heartbeatMs: 100, failureTimeoutMs: 500, syncIntervalMs: 400, maxFrameBytes: 1 << 20 };
/** Messages in the simulator: a small buffer and a short wait, so their bounds are reached. */
export { QUORUM_MAJORITY };
export const SIM_MESSAGE_BUFFER_MAX = 24;
export const SIM_MESSAGE_BUFFER_MS = 1500;

export class World {
  /** id → the state its last instance asked for one gave (a 'dehydrate' answer; the checker compares). */
  readonly statesGiven = new Map<string, string>();
  now = 0;
  readonly rng: Prng;
  readonly nodes = new Map<string, SimNode>();
  net: NetConditions = { delayMin: 1, delayMax: 5, loss: 0, dup: 0, reorder: 0 };
  runner: RunnerBehaviour;
  /** Pairs of node names that cannot reach each other (both directions unless asymmetric). */
  private blocked = new Set<string>();
  private queue: Queued[] = [];
  private seq = 0;
  private nextLink = 1;
  private nextReq = 1;
  private nextInc = 1;
  private endpoints = new Map<number, Endpoint>();
  readonly observers: StepObserver[] = [];
  /** Links a node closed as the duplicate of its member's link (both ends' ids). */
  private closedAsDuplicate = new Set<number>();
  /**
   * Frames that reached a link closed as a duplicate, after its close (a LINK_RETIRE answer
   * crossing the close aside): what a duplicate's close lost, which nothing else resends.
   */
  lostOnDuplicateClose = 0;
  /** Like observers, but called after the step's effects were carried out (timers armed, links opened). */
  readonly afterEffects: StepObserver[] = [];
  /** Sees every frame sent and delivered, as a readable line (the sim CLI's --frames). */
  onFrame?: (line: string) => void;
  /** Sees every action the world is asked to do (nodes, faults, API requests), before it happens. */
  onAction?: (a: WorldAction) => void;
  /** The host's timer and event loop (see HostClock); undefined: exact timers, no stalls. */
  hostClock?: HostClock;
  /** What a step costs (see StepCost); undefined: steps take no time. */
  stepCost?: StepCost;
  private timers = 0;
  private idleSlots: IdleSlot[] = [];
  steps = 0;
  scope = 'sim';
  /** Runner faults are over (see calm()). */
  calmed = false;
  /** Every send and call and what became of it (messages.ts). */
  readonly messages = new MessageLedger();

  constructor(readonly wasm: BufferSource | WebAssembly.Module, seed: number, readonly config: Partial<typeof DEFAULT_CONFIG> = {}) {
    this.rng = new Prng(seed);
    const rng = this.rng;
    this.runner = {
      startDelay: () => rng.int(0, 3),
      failStart: () => false,
      exitAfter: () => null,
      shutdownTime: () => rng.int(0, 5),
    };
  }

  static address(name: string): string { return `sim://${name}`; }

  // ---- nodes --------------------------------------------------------------------------------

  /** Calls `fn` after every core step with the step's effects; returns a function that stops it. */
  observe(fn: StepObserver): () => void {
    this.observers.push(fn);
    return () => { const i = this.observers.indexOf(fn); if (i >= 0) this.observers.splice(i, 1); };
  }

  private act(action: string, ...args: unknown[]): void {
    this.onAction?.({ at: this.now, action, args });
  }

  addNode(name: string, opts: NodeOptions = {}): SimNode {
    this.act('addNode', name, opts);
    return this.createNode(name, opts);
  }

  private createNode(name: string, opts: NodeOptions): SimNode {
    const old = this.nodes.get(name);
    if (old?.alive) throw new Error(`node ${name} is alive`);
    const inc = this.nextInc++;
    const core = Core.create(this.wasm);
    const listen = opts.listen === false ? '' : World.address(name);
    const cfg: CoreConfig = {
      name, incarnation: inc, scope: opts.scope ?? this.scope, listen, secret: opts.secret, credential: opts.credential, seed: this.rng.u32(),
      heartbeatMs: opts.heartbeatMs ?? this.config.heartbeatMs ?? DEFAULT_CONFIG.heartbeatMs,
      failureTimeoutMs: opts.failureTimeoutMs ?? this.config.failureTimeoutMs ?? DEFAULT_CONFIG.failureTimeoutMs,
      syncIntervalMs: this.config.syncIntervalMs ?? DEFAULT_CONFIG.syncIntervalMs,
      quorum: opts.quorum ?? 0, weight: opts.weight ?? 1,
      maxFrameBytes: this.config.maxFrameBytes ?? DEFAULT_CONFIG.maxFrameBytes,
      kinds: opts.kinds ?? ['worker'], seeds: opts.seeds ?? [],
    };
    const node = new SimNode(name, inc, listen, opts, core);
    this.nodes.set(name, node);
    if (opts.bugs) core.plantBugs(opts.bugs);
    core.init(cfg);
    core.messageConfig(SIM_MESSAGE_BUFFER_MAX, SIM_MESSAGE_BUFFER_MS, 0);
    // A credential member with no gateway (as the Supervisor of a Node or Bun credential member): its core asks secret members.
    if (opts.credential && !opts.pairKeys) core.pairKeyRelay();
    this.stepNode(node);
    for (const slot of this.idleSlots) if (slot.node === name) this.openIdle(slot);
    return node;
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** kill -9: the process is gone, its links break, its children die with it. */
  crash(name: string): void {
    this.act('crash', name);
    this.kill(name);
  }

  private kill(name: string): void {
    const n = this.node(name);
    if (!n.alive) return;
    n.alive = false;
    n.running.clear();
    n.held = [];
    for (const [id, ep] of this.endpoints) {
      if (ep.node === name && ep.inc === n.inc && ep.open) this.breakLink(id);
    }
  }

  /** A new incarnation of a crashed node, at the same address (with other seeds, if given). */
  restart(name: string, seeds?: string[]): SimNode {
    this.act('restart', name);
    const old = this.node(name);
    if (old.alive) this.kill(name);
    return this.createNode(name, seeds ? { ...old.opts, seeds } : old.opts);
  }

  pause(name: string): void { this.act('pause', name); this.node(name).paused = true; }

  resume(name: string): void {
    this.act('resume', name);
    const n = this.node(name);
    if (!n.paused) return;
    n.paused = false;
    this.release(n);
    // Without a HostClock a resumed node also ticks at once (its held wake may be stale).
    if (!this.hostClock) this.schedule(n, 0, { k: 'wake' });
  }

  /** What a paused or stalled node held arrives now, in its order. */
  private release(n: SimNode): void {
    const held = n.held;
    n.held = [];
    for (const q of held) this.push({ ...q, at: this.now });
  }

  /**
   * Keeps `count` pre-auth links open to `name` that never finish their handshake ('silent':
   * never a byte; 'hello': a HELLO, then nothing), each closed and reopened just before the
   * node's handshake timeout (failureTimeoutMs), also on every later incarnation of the node.
   */
  idleLinks(name: string, count: number, mode: IdleMode): void {
    this.act('idleLinks', name, count, mode);
    for (let i = 0; i < count; i++) {
      const slot: IdleSlot = { node: name, mode, link: 0 };
      this.idleSlots.push(slot);
      if (this.nodes.get(name)?.alive) this.openIdle(slot);
    }
  }

  /** Idle links stop (quiescence for them): the open ones are closed. */
  stopIdleLinks(): void {
    this.act('stopIdleLinks');
    for (const s of this.idleSlots) if (s.link) this.breakLink(s.link);
    this.idleSlots = [];
  }

  private openIdle(slot: IdleSlot): void {
    const n = this.node(slot.node);
    const raw = this.openRaw(n, `idle://${slot.node}`);
    slot.link = raw.link;
    if (slot.mode === 'hello') {
      const hello = helloFrame({ scope: this.scope, name: `idle-${raw.link}`, incarnation: BigInt(raw.link), nonce: this.rng.bytes(16), listen: '', weight: 1,
        kinds: ['worker'], auth: AUTH_MODE.secret, credentialKinds: [], expiresAtMs: 0n, heartbeatWantMs: this.config.heartbeatMs ?? DEFAULT_CONFIG.heartbeatMs });
      this.schedule(n, 1, { k: 'deliver', link: raw.link, bytes: hello });
    }
    const fto = this.config.failureTimeoutMs ?? DEFAULT_CONFIG.failureTimeoutMs;
    // The core stamps the link with its own time, the last tick it had: the time of the node's
    // last step, since this world ticks after a step's events (a node with few wakes is behind).
    const behind = n.lastStepAt < 0 ? 0 : this.now - n.lastStepAt;
    this.schedule(n, Math.max(1, fto - behind - this.rng.int(IDLE_REOPEN_MARGIN_MS / 4, IDLE_REOPEN_MARGIN_MS)), { k: 'idle', slot });
  }

  // ---- network --------------------------------------------------------------------------------

  private key(a: string, b: string): string { return `${a}>${b}`; }
  block(a: string, b: string, symmetric = true): void {
    this.act('block', a, b, symmetric);
    this.blockPair(a, b, symmetric);
  }
  private blockPair(a: string, b: string, symmetric: boolean): void {
    this.blocked.add(this.key(a, b));
    if (symmetric) this.blocked.add(this.key(b, a));
  }
  partition(sideA: string[], sideB: string[], symmetric = true): void {
    this.act('partition', sideA, sideB, symmetric);
    for (const a of sideA) for (const b of sideB) this.blockPair(a, b, symmetric);
  }
  heal(): void { this.act('heal'); this.blocked.clear(); }
  /** New network conditions from now on. */
  setNet(net: NetConditions): void { this.act('setNet', net); this.net = net; }
  reachable(a: string, b: string): boolean { return !this.blocked.has(this.key(a, b)); }

  private breakLink(id: number): void {
    const ep = this.endpoints.get(id);
    if (!ep || !ep.open) return;
    ep.open = false;
    const peer = this.endpoints.get(ep.peer);
    const owner = this.nodes.get(ep.node);
    if (owner?.alive && owner.inc === ep.inc) this.schedule(owner, 0, { k: 'closed', link: id });
    const raw = this.raws.get(ep.peer);
    if (raw) raw.closed = true;
    if (peer && peer.open) {
      peer.open = false;
      const pn = this.nodes.get(peer.node);
      if (pn && pn.alive && pn.inc === peer.inc) this.schedule(pn, this.delay(), { k: 'closed', link: ep.peer });
    }
  }

  /** How many links of the node's current incarnation are open. */
  openLinks(name: string): number {
    const n = this.node(name);
    let count = 0;
    for (const ep of this.endpoints.values()) if (ep.node === name && ep.inc === n.inc && ep.open) count++;
    return count;
  }

  /** Close every link between two nodes (a flap). */
  flap(a: string, b: string): void {
    this.act('flap', a, b);
    for (const [id, ep] of this.endpoints) {
      const peer = this.endpoints.get(ep.peer);
      if (ep.open && peer && ep.node === a && peer.node === b) this.breakLink(id);
    }
  }

  private delay(): number { return this.rng.int(this.net.delayMin, this.net.delayMax); }

  private dial(from: SimNode, address: string): void {
    const target = [...this.nodes.values()].find((n) => n.address === address && n.alive);
    const ok = !!target && target.name !== from.name ? this.reachable(from.name, target.name) && this.reachable(target.name, from.name) : !!target;
    if (!target || !ok) {
      // Nothing listens at a crashed node's address: refused at once. A partition drops the
      // SYN: the dial times out, which says nothing about the peer.
      if (target) this.schedule(from, this.delay() + DIAL_TIMEOUT_SIM_MS, { k: 'dialFailed', address, failure: 'other' });
      else this.schedule(from, this.delay() + 1, { k: 'dialFailed', address, failure: 'refused' });
      return;
    }
    const a = this.nextLink++, b = this.nextLink++;
    const t = this.delay();
    this.endpoints.set(a, { node: from.name, inc: from.inc, peer: b, open: true, lastAt: 0 });
    this.endpoints.set(b, { node: target.name, inc: target.inc, peer: a, open: true, lastAt: 0 });
    this.schedule(from, t, { k: 'opened', link: a, outbound: true, address });
    this.schedule(target, t, { k: 'opened', link: b, outbound: false, address: World.address(from.name) });
  }

  private send(from: SimNode, link: number, bytes: Uint8Array): void {
    const ep = this.endpoints.get(link);
    if (!ep || !ep.open) return;
    const peer = this.endpoints.get(ep.peer);
    if (!peer || !peer.open) return;
    const raw = this.raws.get(ep.peer);
    if (raw) { raw.received.push(bytes); return; }
    const to = this.nodes.get(peer.node);
    if (!to || !to.alive || to.inc !== peer.inc) return;
    if (!this.reachable(from.name, to.name)) return; // silently lost: a partition
    if (this.net.loss > 0 && this.rng.chance(this.net.loss)) return;
    // Links are FIFO, as every transport is (TCP, WebSocket, BroadcastChannel): a frame never
    // overtakes an earlier one on its link. 'reorder' holds a frame back (jitter), which
    // reorders it against frames on other links, where reordering really happens.
    let at = this.now + this.delay();
    if (this.net.reorder > 0 && this.rng.chance(this.net.reorder)) at += this.rng.int(1, this.net.delayMax * 4);
    at = Math.max(at, ep.lastAt);
    ep.lastAt = at;
    this.push({ at, seq: this.seq++, node: to.name, inc: to.inc, item: { k: 'deliver', link: ep.peer, bytes } });
    if (this.net.dup > 0 && this.rng.chance(this.net.dup)) {
      // A duplicate arrives later on the same link (a retransmitting path or proxy).
      const again = ep.lastAt + this.delay();
      ep.lastAt = again;
      this.push({ at: again, seq: this.seq++, node: to.name, inc: to.inc, item: { k: 'deliver', link: ep.peer, bytes } });
    }
  }

  /**
   * Opens an inbound link to `name` whose other end is the test itself: frames the node sends
   * on it are collected in the returned object, and `rawSend` injects bytes as if from a peer.
   */
  rawLink(name: string): { link: number; received: Uint8Array[]; closed: boolean } {
    this.act('rawLink', name);
    return this.openRaw(this.node(name), 'raw://test');
  }
  private openRaw(n: SimNode, address: string): { link: number; received: Uint8Array[]; closed: boolean } {
    const a = this.nextLink++, b = this.nextLink++;
    const raw = { link: b, received: [] as Uint8Array[], closed: false };
    this.endpoints.set(a, { node: '#raw', inc: 0, peer: b, open: true, lastAt: 0 });
    this.endpoints.set(b, { node: n.name, inc: n.inc, peer: a, open: true, lastAt: 0 });
    this.raws.set(a, raw);
    this.schedule(n, 0, { k: 'opened', link: b, outbound: false, address });
    return raw;
  }
  rawSend(raw: { link: number }, bytes: Uint8Array): void {
    this.act('rawSend', raw.link, bytes.length);
    const ep = this.endpoints.get(raw.link);
    if (!ep || !ep.open) return;
    const n = this.nodes.get(ep.node);
    if (n) this.schedule(n, 1, { k: 'deliver', link: raw.link, bytes });
  }
  private raws = new Map<number, { link: number; received: Uint8Array[]; closed: boolean }>();

  /**
   * Delivers `bytes` to the far end of the link a node sent on as `sentOn` (its own endpoint id),
   * as if the link had carried them: an attacker on the path injecting or replaying a frame.
   */
  injectOnLink(sentOn: number, bytes: Uint8Array): boolean {
    this.act('injectOnLink', sentOn, bytes.length);
    const ep = this.endpoints.get(sentOn);
    const peer = ep && this.endpoints.get(ep.peer);
    const to = peer && this.nodes.get(peer.node);
    if (!ep || !ep.open || !peer || !peer.open || !to || !to.alive || to.inc !== peer.inc) return false;
    this.schedule(to, 1, { k: 'deliver', link: ep.peer, bytes });
    return true;
  }

  // ---- API ------------------------------------------------------------------------------------

  startChild(name: string, spec: unknown, wait: WaitMode = 'ack'): number {
    const n = this.node(name);
    const req = this.nextReq++;
    this.act('startChild', name, spec, wait, req);
    n.core.tick(this.now);
    n.core.startChild(req, spec, wait);
    this.stepNode(n);
    return req;
  }
  /** startChild of every spec, handed to the core in one batch (as a host's startMany queues them). */
  startMany(name: string, specs: unknown[], wait: WaitMode = 'ack'): number[] {
    const n = this.node(name);
    this.act('startMany', name, specs.length, wait);
    n.core.tick(this.now);
    const reqs = specs.map((spec) => { const req = this.nextReq++; n.core.startChild(req, spec, wait); return req; });
    this.stepNode(n);
    return reqs;
  }
  terminateChild(name: string, id: string, wait: WaitMode = 'ack'): number {
    const n = this.node(name);
    const req = this.nextReq++;
    this.act('terminateChild', name, id, wait, req);
    n.core.tick(this.now);
    n.core.terminateChild(req, id, wait);
    this.stepNode(n);
    return req;
  }
  /** A child running on `name` checkpoints `state` (the codec tests capture CHECKPOINT frames). */
  checkpoint(name: string, id: string, state: Uint8Array): void {
    const n = this.node(name);
    const c = n.running.get(id);
    if (!c) throw new Error(`${id} does not run on ${name}`);
    this.act('checkpoint', name, id, state.length);
    n.core.tick(this.now);
    n.core.checkpoint(id, c.epoch, 1, state);
    this.stepNode(n);
  }
  /** `waitMs`: the BYE's handover wait (Supervisor.stop's handoverWaitMs); undefined: the core's default. */
  leave(name: string, waitMs?: number): number {
    const n = this.node(name);
    const req = this.nextReq++;
    this.act('leave', name, req);
    n.core.tick(this.now);
    n.core.leave(req, waitMs);
    this.stepNode(n);
    return req;
  }
  /** cordon / uncordon (state 'active') / drain `member`, asked at node `name`. */
  cordon(name: string, member: string, state: PlacementState, maxParallel = 0, deadlineMs = 0): number {
    const n = this.node(name);
    const req = this.nextReq++;
    this.act('cordon', name, member, state, maxParallel, deadlineMs, req);
    n.core.tick(this.now);
    n.core.cordon(req, member, state, maxParallel, deadlineMs);
    this.stepNode(n);
    return req;
  }
  setWeight(name: string, weight: number): number {
    const n = this.node(name);
    const req = this.nextReq++;
    this.act('setWeight', name, weight, req);
    n.opts.weight = weight;
    n.core.tick(this.now);
    n.core.setWeight(req, weight);
    this.stepNode(n);
    return req;
  }
  reply(name: string, req: number): Reply | undefined { return this.nodes.get(name)?.replies.get(req); }

  /** sup.send (or sup.call) from `name` to the child `id`; the payload names the request. */
  sendMessage(name: string, id: string, call: boolean): number {
    const n = this.node(name);
    const req = this.nextReq++;
    this.act('sendMessage', name, id, call, req);
    this.messages.sent({ req, from: `${name}#${n.inc}`, id, call, at: this.now, deliveries: [], replied: false });
    n.core.tick(this.now);
    n.core.messageSend(req, call, id, JSON.stringify({ k: req }));
    this.stepNode(n);
    return req;
  }

  // ---- time -----------------------------------------------------------------------------------

  private push(q: Queued): void {
    // binary-heap insert by (at, seq)
    const h = this.queue;
    h.push(q);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }
  private pop(): Queued | undefined {
    const h = this.queue;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }

  private schedule(n: SimNode, delay: number, item: Item): void {
    this.push({ at: this.now + delay, seq: this.seq++, node: n.name, inc: n.inc, item });
  }

  /** Runs until virtual time `until`; returns false if nothing is left to do. */
  runUntilTime(until: number): void {
    for (;;) {
      const h = this.queue;
      if (h.length === 0 || h[0].at > until) break;
      const q = this.pop()!;
      this.now = Math.max(this.now, q.at);
      this.process(q);
    }
    this.now = Math.max(this.now, until);
  }

  runFor(ms: number): void { this.runUntilTime(this.now + ms); }

  /** Runs until `pred` holds (checked after every item) or `maxMs` of virtual time pass. */
  runUntil(pred: () => boolean, maxMs: number): boolean {
    const end = this.now + maxMs;
    if (pred()) return true;
    for (;;) {
      const h = this.queue;
      if (h.length === 0 || h[0].at > end) { this.now = end; return pred(); }
      const q = this.pop()!;
      this.now = Math.max(this.now, q.at);
      this.process(q);
      if (pred()) return true;
    }
  }

  private process(q: Queued): void {
    const n = this.nodes.get(q.node);
    if (!n || !n.alive || n.inc !== q.inc) return;
    const it = q.item;
    if (it.k === 'unstall') {
      n.stalled = false;
      if (n.paused) return;
      if (!this.stepCost) { this.release(n); return; }
      // The host runs again: it reads everything that arrived meanwhile, then steps once (a
      // timer that fired meanwhile asks for a step too, with nothing queued).
      const held = n.held;
      n.held = [];
      let due = false;
      for (const h of held) due = this.feed(n, h) || due;
      if (n.alive && n.inc === q.inc && (due || n.core.pending > 0)) this.stepNode(n);
      return;
    }
    if (n.paused || n.stalled) { n.held.push(q); return; }
    if (this.feed(n, q)) this.stepNode(n);
  }

  /** Hands one arrival to the core (no step); false when there is nothing to step for. */
  private feed(n: SimNode, q: Queued): boolean {
    if (!n.alive || n.inc !== q.inc) return false;
    const it = q.item;
    const core = n.core;
    switch (it.k) {
      case 'wake':
        // A HostClock host has one timer: a replaced timer never fires. Without one, any wake
        // item at or after the latest asked time ticks (equivalent, and the traces stay as before).
        if (this.hostClock ? it.timer !== n.timer : n.wakeAt > this.now) return false;
        n.timer = 0;
        break;
      case 'retire': this.kill(n.name); return false;
      case 'pairKey': core.pairKey(it.peer, it.epoch, it.key); break;
      case 'answer': core.messageReply(it.caller, it.callerInc, it.req, it.data); break;
      case 'idle': {
        if (!this.idleSlots.includes(it.slot)) return false;
        this.breakLink(it.slot.link);
        this.openIdle(it.slot);
        return false;
      }
      case 'deliver': {
        const ep = this.endpoints.get(it.link);
        if (!ep || !ep.open) {
          if (this.closedAsDuplicate.has(it.link) && it.bytes[2] !== MSG_LINK_RETIRE) this.lostOnDuplicateClose++;
          return false;
        }
        this.onFrame?.(`${n.name} <- link ${it.link}: ${MSG_NAMES[it.bytes[2]] ?? it.bytes[2]} (${it.bytes.length} B)`);
        if (this.stepCost) core.frame(it.link, it.bytes, this.now);
        else core.frame(it.link, it.bytes);
        break;
      }
      case 'opened': {
        const ep = this.endpoints.get(it.link);
        if (!ep || !ep.open) { if (it.outbound) core.dialFailed(it.address, 'other'); break; }
        const peer = this.endpoints.get(ep.peer);
        const watched = peer !== undefined && this.nodes.get(peer.node)?.opts.watchedLinks !== undefined ? n.opts.watchedLinks ?? 0 : 0;
        core.linkOpened(it.link, it.outbound, it.address, this.rng.bytes(16), watched);
        break;
      }
      case 'closed': core.linkClosed(it.link); break;
      case 'dialFailed': core.dialFailed(it.address, it.failure); break;
      case 'started': {
        const c = n.running.get(it.id);
        if (!c || c.epoch !== it.epoch) return false;
        c.started = true;
        core.childStarted(it.id, it.epoch);
        const ex = this.runner.exitAfter(it.id);
        if (ex !== null) this.schedule(n, ex.after, { k: 'exited', id: it.id, epoch: it.epoch, reason: ex.reason });
        break;
      }
      case 'unresponsive': {
        const c = n.running.get(it.id);
        if (!c || c.epoch !== it.epoch) return false;
        c.unresponsive = true;
        core.childUnresponsive(it.id, it.epoch);
        break;
      }
      case 'startFailed': {
        const c = n.running.get(it.id);
        if (!c || c.epoch !== it.epoch) return false;
        if (this.calmed) { this.process({ ...q, item: { k: 'started', id: it.id, epoch: it.epoch } }); return false; }
        n.running.delete(it.id);
        core.childStartFailed(it.id, it.epoch, { name: 'SimStartError', message: 'simulated start failure' });
        break;
      }
      case 'dehydrated': {
        const c = n.running.get(it.id);
        if (!c || c.epoch !== it.epoch) return false;
        // Each instance gives a state that names it, so a checker can tell whose state a new instance got.
        const state = `${n.name}#${n.inc}/${it.id}/${it.epoch}`;
        this.statesGiven.set(it.id, state);
        core.childState(it.id, it.epoch, { outcome: 'given', version: 1, bytes: new TextEncoder().encode(state) });
        break;
      }
      case 'exited': {
        const c = n.running.get(it.id);
        if (!c || c.epoch !== it.epoch) return false;
        // A self-exit (crash or normal end) scheduled before calm() does not happen.
        if (this.calmed && !c.stopping && (it.reason === 'crash' || it.reason === 'normal')) return false;
        n.running.delete(it.id);
        core.childExited(it.id, it.epoch, it.reason, it.reason === 'crash' ? { name: 'SimCrash', message: 'simulated crash' } : undefined);
        break;
      }
    }
    return true;
  }

  /** Feeds the current time, runs the core's batch, carries out its effects. */
  stepNode(n: SimNode): void {
    const cost = this.stepCost;
    // A busy host runs nothing: what was queued waits for the step its unstall runs.
    if (cost && n.stalled) return;
    const queued = n.core.pending;
    // The step's time goes ahead of its frames, as a host's step({ now }) puts it: a frame read
    // after a pause is stamped with the time it is read, not with the time of the step before.
    const fx = n.core.step(cost ? { now: this.now, maxBytes: cost.sliceBytes } : { now: this.now });
    if (cost && !n.stalled) {
      const took = Math.ceil(((queued - n.core.pending) / 1024) * cost.msPerKiB);
      if (took > 0) { n.stalled = true; this.schedule(n, took, { k: 'unstall' }); }
    }
    this.steps++;
    n.lastStepAt = this.now;
    for (const o of this.observers) o(this, n, fx);
    for (const e of fx) this.apply(n, e);
    for (const o of this.afterEffects) o(this, n, fx);
    if (this.hostClock && !n.stalled && n.alive) {
      const d = this.hostClock.stallAfter(n);
      if (d > 0) { n.stalled = true; this.schedule(n, d, { k: 'unstall' }); }
    }
  }

  private apply(n: SimNode, e: Effect): void {
    switch (e.type) {
      case 'send':
        this.onFrame?.(`${n.name} -> link ${e.link}: ${MSG_NAMES[e.bytes[2]] ?? e.bytes[2]} (${e.bytes.length} B)`);
        this.send(n, e.link, e.bytes);
        break;
      case 'dial': this.dial(n, e.address); break;
      case 'close':
        if (e.reason === 'duplicate_link') {
          const ep = this.endpoints.get(e.link);
          this.closedAsDuplicate.add(e.link);
          if (ep) this.closedAsDuplicate.add(ep.peer);
        }
        this.breakLink(e.link);
        break;
      case 'pair_key': this.schedule(n, n.opts.pairKeyDelayMs ?? PAIR_KEY_FETCH_SIM_MS, { k: 'pairKey', peer: e.peer, epoch: e.epoch, key: n.opts.pairKeys?.(e.peer, e.epoch) }); break;
      case 'wake': {
        // The core asks after every step; an armed timer for the same time is kept (as
        // core-as/src/clock.ts does). Otherwise arming replaces the previous timer.
        if (n.timer !== 0 && n.wakeAt === e.at) break;
        n.wakeAt = e.at;
        n.timer = ++this.timers;
        const at = this.hostClock ? this.hostClock.fireAt(e.at) : e.at;
        this.push({ at: Math.max(at, this.now), seq: this.seq++, node: n.name, inc: n.inc, item: { k: 'wake', timer: n.timer } });
        break;
      }
      case 'reply': n.replies.set(e.req, { code: e.code, field: e.field, message: e.message, at: this.now }); break;
      case 'deliver': {
        const c = n.running.get(e.id);
        const key = (JSON.parse(e.data) as { k: number }).k;
        this.messages.delivered(key, `${n.name}#${n.inc}`, !!c && c.epoch === e.epoch && c.started && !c.stopping, e.epoch);
        if (e.req > 0) this.schedule(n, this.runner.startDelay(), { k: 'answer', caller: e.caller, callerInc: e.callerInc, req: e.req, data: `r${e.data}` });
        break;
      }
      case 'message_status': this.messages.status(e.req, e.outcome); break;
      case 'messages_delivered': for (const req of e.reqs) this.messages.status(req, 'delivered'); break;
      case 'call_reply': this.messages.replied(e.req); break;
      case 'call_stopped': this.messages.stoppedAnswer(e.req, e.reason, (at, epoch) => this.instanceEnded(at, epoch)); break;
      case 'event':
        n.events.push(e.event);
        if (e.event.type === 'member_up') n.members.set(e.event.name, e.event.incarnation);
        else if (e.event.type === 'member_down' && n.members.get(e.event.name) === e.event.incarnation) n.members.delete(e.event.name);
        // A node that finished leaving shuts down, as a host does: its last frames still arrive.
        if (e.event.type === 'left') n.left = true;
        if (e.event.type === 'left') this.schedule(n, this.net.delayMax + 1, { k: 'retire' });
        break;
      case 'run': {
        n.running.set(e.id, { id: e.id, kind: e.kind, args: e.args, epoch: e.epoch, startedAt: this.now, stopping: false, started: false });
        const fail = this.runner.failStart(e.id);
        this.schedule(n, this.runner.startDelay(), fail ? { k: 'startFailed', id: e.id, epoch: e.epoch } : { k: 'started', id: e.id, epoch: e.epoch });
        break;
      }
      case 'dehydrate': this.schedule(n, DEHYDRATE_MS, { k: 'dehydrated', id: e.id, epoch: e.epoch }); break;
      case 'stop': {
        const c = n.running.get(e.id);
        if (!c || c.epoch !== e.epoch) break;
        c.stopping = true;
        const t = this.runner.shutdownTime(e.id);
        const settles = t === null || t > e.shutdownMs ? this.runner.settlesAfter?.(e.id) ?? null : null;
        if (settles !== null) {
          // An inline function cannot be forced: unresponsive at shutdownMs, still running until it settles.
          this.schedule(n, e.shutdownMs, { k: 'unresponsive', id: e.id, epoch: e.epoch });
          this.schedule(n, e.shutdownMs + settles, { k: 'exited', id: e.id, epoch: e.epoch, reason: 'shutdown' });
        } else if (t === null || t > e.shutdownMs) this.schedule(n, e.shutdownMs, { k: 'exited', id: e.id, epoch: e.epoch, reason: 'killed' });
        else this.schedule(n, t, { k: 'exited', id: e.id, epoch: e.epoch, reason: 'shutdown' });
        break;
      }
    }
  }

  /**
   * Runner faults stop: no new start failures or self-exits, and those already scheduled do not
   * happen (a child that would have crashed keeps running; a start that would have failed
   * succeeds). Stops and their exits are unaffected.
   */
  calm(): void {
    this.act('calm');
    this.calmed = true;
    this.runner.failStart = () => false;
    this.runner.exitAfter = () => null;
  }

  // ---- views for tests and the checker ----------------------------------------------------------

  /** Whether the child instance `epoch` on `at` (`name#incarnation`) has exited, or its node is gone. */
  instanceEnded(at: string, epoch: number): boolean {
    const hash = at.lastIndexOf('#');
    const n = this.nodes.get(at.slice(0, hash));
    if (!n || !n.alive || String(n.inc) !== at.slice(hash + 1)) return true;
    for (const c of n.running.values()) if (c.epoch === epoch) return false;
    return true;
  }

  aliveNodes(): SimNode[] { return [...this.nodes.values()].filter((n) => n.alive); }

  /** Which alive nodes have a child running (from run until exit), by id. */
  runningIds(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const n of this.aliveNodes()) for (const id of n.running.keys()) {
      const l = m.get(id);
      if (l) l.push(n.name); else m.set(id, [n.name]);
    }
    return m;
  }

  idle(): boolean { return this.queue.length === 0; }
}

function before(a: Queued, b: Queued): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
