// One simulator seed: build a world, drive a random workload and random faults, then stop the
// faults, heal, and check convergence. Everything derives from the seed (the world's PRNG for
// the network and the runner, a second PRNG for workload and faults), so the same seed replays
// the same trace (invariant 6).
import type { Effect } from '@trellis/core';
import { World, QUORUM_MAJORITY, SIM_MESSAGE_BUFFER_MS, type SimNode, type NodeOptions, type StepObserver, type WorldAction } from './world.js';
import { Prng } from './prng.js';
import { Attacker } from './attacker.js';
import { workloadGroups, groupsAgree } from './groups.js';
import { Checker, newLedger, parseArgs, OVERLAP_SLACK_MS, type Policy, type SimArgs, type StartOp, type TerminateOp, type Violation } from './checker.js';

export interface SimOptions {
  /** Number of nodes at the start (default: 1–7 from the seed). */
  nodes?: number;
  /** Planted bugs (PlantedBug flags) on every node. */
  bugs?: number;
  /** Virtual ms of workload and faults (default 6000). */
  chaosMs?: number;
  /** 'auto' (70 % of seeds, from the seed), or force faults on/off. */
  faults?: 'auto' | boolean;
  /** Bound on convergence after the faults stop, virtual ms (default 10000). */
  quiesceMs?: number;
  /** Receives every trace line as it happens (the CLI's --trace). */
  onTrace?: (line: string) => void;
  /** Trace frames too (heartbeats excepted), into the trace. */
  frames?: boolean;
  /** Trace every world action with its arguments (CLI --actions). */
  actions?: boolean;
  /** Trace every effect but sends, as JSON with the node's incarnation: all nodes, or one by name (CLI --effects [NODE]). */
  effects?: boolean | string;
  /** Receives every world action (a node added, a fault, an API request) before it happens. */
  onAction?: (a: WorldAction) => void;
  /** Receives every core step's effects, with the node. */
  observe?: StepObserver;
  /** Sends and calls in the workload (default true; false: the workload of before messages). */
  messages?: boolean;
  /** Receives the world once it is built, before the first node: anything else a script needs. */
  onWorld?: (w: World) => void;

  // ---- the harsher world (docs/SIMULATOR.md, "A world as unkind as the real one") -------------
  /**
   * true: all four below, each unless set to false (CLI --harsh); false: none unless set. Left
   * out, the default world: clock, overlap rules and retries on, idle links off (DEFAULT_MODELS).
   */
  harsh?: boolean;
  /** The host's clock as Node's: wakes early (by 1 ms) or late, stalls, no re-arm (CLI --clock). */
  clock?: boolean;
  /** Overlap checked at every step by rule, not only before the first fault (CLI --overlap-rules). */
  overlapRules?: boolean;
  /** Identical repeated starts, retries after a client timeout, acknowledgements held twice (CLI --retries). */
  retries?: boolean;
  /** Pre-auth links that never finish their handshake, reopened before its timeout (CLI --idle-links). */
  idleLinks?: boolean;
  /** Cordons, drains and weight changes in the workload, all uncordoned before quiescence (CLI --cordons; not part of --harsh, so its seeds keep their traces). */
  cordons?: boolean;
  /** Groups in the workload's specs, checked at quiescence (CLI --groups; off by default, so other seeds keep their traces). */
  groups?: boolean;
  /**
   * Half the graceful leaves right behind a start from another member, once the leaver holds it
   * (CLI --leave-behind-start; on by default, --no-leave-behind-start turns it off).
   */
  leaveBehindStart?: boolean;
  /**
   * partition: 'majority' on every node (CLI --majority; the seed's workload and faults are drawn
   * as without it). Restarted nodes get seeds: one restarted without would found a second cluster.
   */
  majority?: boolean;
  /**
   * partition: { quorum: N } on every node (CLI --quorum [N]): N given, or true for what the seed
   * may draw by itself, a majority of the first nodes (floor(nodes / 2) + 1), in every seed of more
   * than 2 nodes (smaller ones stay 'available'). The workload and faults are drawn as without it.
   */
  quorum?: number | true;
}

type Models = { clock: boolean; overlapRules: boolean; retries: boolean; idleLinks: boolean; cordons: boolean; groups: boolean; leaveBehindStart: boolean };

/**
 * The world every seed runs in unless told otherwise: as unkind as the real one. Idle links stay
 * off until unauthenticated links no longer hold back readiness (issue 11).
 */
export const DEFAULT_MODELS: Models = { clock: true, overlapRules: true, retries: true, idleLinks: false, cordons: false, groups: false, leaveBehindStart: true };

/** The four models of the harsher world, with `harsh` and the defaults applied. */
export function harshModels(o: SimOptions): Models {
  const base = o.harsh === undefined ? DEFAULT_MODELS : { clock: o.harsh, overlapRules: o.harsh, retries: o.harsh, idleLinks: o.harsh, cordons: false, groups: false, leaveBehindStart: DEFAULT_MODELS.leaveBehindStart };
  return {
    clock: o.clock ?? base.clock, overlapRules: o.overlapRules ?? base.overlapRules, retries: o.retries ?? base.retries, idleLinks: o.idleLinks ?? base.idleLinks,
    cordons: o.cordons ?? base.cordons, groups: o.groups ?? base.groups, leaveBehindStart: o.leaveBehindStart ?? base.leaveBehindStart,
  };
}

export interface SimResult {
  seed: number;
  steps: number;
  virtualMs: number;
  violations: Violation[];
  /** The last events before the first violation (or before the end), readable. */
  trace: string[];
  /** Hash of every effect, in order: equal for equal seeds (invariant 6). */
  traceHash: string;
  faults: boolean;
  nodes: number;
  /** Virtual ms from the end of the faults until the cluster converged (undefined if it did not). */
  convergedMs?: number;
  /** Moved children that started from a handed-over state (the checker compared each). */
  handoffs: number;
  options: SimOptions;
}

/** A leave right behind a start waits at most this long for the leaver to hold that start. */
const LEAVE_BEHIND_START_MS = 100;
export const SIM_CONFIG = { heartbeatMs: 100, failureTimeoutMs: 500, syncIntervalMs: 400 };
const SECRET = new TextEncoder().encode('sim-secret');
const IDS = Array.from({ length: 16 }, (_, i) => `c${i}`);
const TRACE_LINES = 60;
const KINDS = ['worker', 'worker', 'worker', 'gpu', 'nowhere'];
/** HostClock: share of timers that fire 1 ms early, and how often a host stalls. */
const EARLY_FIRE_P = 0.05;
const STALL_EVERY_MS: [number, number] = [200, 4000];
const LONG_STALL_P = 0.15;
/** Retries: share of starts with a client timeout, and its range. */
const CLIENT_TIMEOUT_P = 0.3;
const CLIENT_TIMEOUT_MS: [number, number] = [1, 40];
const POLICIES: Policy[] = ['permanent', 'permanent', 'transient', 'temporary'];

function describe(n: SimNode, e: Effect): string | null {
  switch (e.type) {
    case 'run': return `${n.name} run ${e.id}#${e.epoch} ${e.args}`;
    case 'stop': return `${n.name} stop ${e.id}#${e.epoch} (${e.shutdownMs} ms)`;
    case 'dial': return `${n.name} dial ${e.address}`;
    case 'close': return `${n.name} close link ${e.link} (${e.reason})`;
    case 'reply': return `${n.name} reply #${e.req} ${e.code}${e.message ? ` ${e.message}` : ''}`;
    case 'event': {
      const ev = e.event as unknown as Record<string, unknown>;
      const { type, ...rest } = ev;
      return `${n.name} ${String(type)} ${JSON.stringify(rest)}`;
    }
    default: return null;
  }
}

export function runSeed(wasm: BufferSource | WebAssembly.Module, seed: number, o: SimOptions = {}): SimResult {
  const rng = new Prng(seed ^ 0x5eed);
  // The harsher models draw from their own generators, so a seed without them replays as before.
  const models = harshModels(o);
  const crng = new Prng(seed ^ 0xc10c);
  const wrng = new Prng(seed ^ 0x7e7);
  // Messages draw from their own generator too (the network's delays still see their frames).
  const mrng = new Prng(seed ^ 0x3e55);
  const prng = new Prng(seed ^ 0xc0d);
  const grng = new Prng(seed ^ 0x6e0);
  const lrng = new Prng(seed ^ 0x1ea7);
  const w = new World(wasm, seed, SIM_CONFIG);
  o.onWorld?.(w);
  const faults = o.faults === undefined || o.faults === 'auto' ? rng.chance(0.7) : o.faults;
  const nNodes = o.nodes ?? rng.int(1, 7);
  const chaosMs = o.chaosMs ?? rng.int(4000, 12000);
  const quiesceMs = o.quiesceMs ?? 10_000;
  const names = Array.from({ length: nNodes }, (_, i) => `n${i}`);
  // partition: { quorum: N } in some seeds (a majority of the first nodes), 'available' otherwise.
  const drawn = nNodes > 2 && rng.chance(0.2) ? Math.floor(nNodes / 2) + 1 : 0;
  const majority = o.majority === true;
  const forced = o.quorum === true ? (nNodes > 2 ? Math.floor(nNodes / 2) + 1 : 0) : o.quorum;
  const quorum = majority ? 0 : forced ?? drawn;
  const ledger = newLedger();
  const checker = new Checker(w, ledger);
  checker.quorum = quorum;
  checker.majority = majority;
  checker.syncIntervalMs = SIM_CONFIG.syncIntervalMs;
  checker.overlapByRule = models.overlapRules;

  // Trace: the last events, readable, frozen at the first violation; and a hash of all effects.
  let trace: string[] = [];
  let frozen: string[] | undefined;
  let h = 0x811c9dc5;
  const line = (s: string) => {
    const l = `${String(w.now).padStart(6)} ${s}`;
    trace.push(l);
    if (trace.length > TRACE_LINES) trace.shift();
    o.onTrace?.(l);
  };
  if (o.frames) w.onFrame = (f) => { if (!f.includes('HEARTBEAT')) line(`   ${f}`); };
  if (o.actions || o.onAction) {
    const user = w.onAction;
    w.onAction = (a) => {
      if (o.actions) line(`   @ ${a.action} ${JSON.stringify(a.args, jsonBytes).slice(1, -1)}`);
      o.onAction?.(a);
      user?.(a);
    };
  }
  if (o.observe) w.observe(o.observe);
  if (o.effects) {
    const only = typeof o.effects === 'string' ? o.effects : undefined;
    w.observe((_w, n, fx) => {
      if (only !== undefined && n.name !== only) return;
      for (const e of fx) if (e.type !== 'send') line(`   ${n.name}#${n.inc} ${JSON.stringify(e)}`);
    });
  }
  checker.onViolation = (v) => { line(`!! ${v.invariant}: ${v.detail}`); frozen = [...trace]; };
  const ops = new Map<number, StartOp | TerminateOp>();
  // Acknowledgements are checked once the step's effects are carried out (members up to date).
  const acked: [StartOp, SimNode][] = [];
  w.afterEffects.push(() => {
    for (const [op, n] of acked) checker.checkAckHeld(op, n);
    acked.length = 0;
  });
  w.observers.unshift((world, n, fx) => {
    for (const e of fx) {
      const d = describe(n, e);
      const s = d ?? `${n.name} ${e.type}`;
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      if (d && e.type !== 'dial' && e.type !== 'close') line(d);
      if (e.type === 'reply') {
        const op = ops.get(e.req);
        if (op && op.reply === undefined) {
          op.reply = e.code;
          op.answeredStep = world.steps;
          op.ackedWithPeers = e.code === 'ok' && n.core.members().length > 1;
          if (!('nonce' in op) && e.code === 'ok') op.outside = checker.heldOutside(n, op.id);
          if (models.retries && 'nonce' in op) acked.push([op, n]);
        }
      }
    }
  });
  const note = (s: string) => line(`** ${s}`);

  // The runner: children start after a random delay, fail to start, crash or exit normally at
  // random, shut down in random time or ignore the signal until they are killed.
  w.runner = {
    startDelay: () => (rng.chance(0.1) ? rng.int(20, 300) : rng.int(0, 5)),
    failStart: () => rng.chance(0.03),
    exitAfter: () => (rng.chance(0.08) ? { after: rng.int(20, 3000), reason: rng.chance(0.7) ? 'crash' : 'normal' } : null),
    shutdownTime: () => (rng.chance(0.05) ? null : rng.chance(0.2) ? rng.int(50, 400) : rng.int(0, 20)),
  };
  // Half the children that ignore their signal are inline functions: they settle by themselves
  // (unresponsive until then), the others are killed at shutdownMs.
  if (models.clock) w.runner.settlesAfter = () => (crng.chance(0.5) ? crng.int(50, 1500) : null);

  const nodeOpts = (i: number): NodeOptions => ({
    kinds: i % 3 === 1 ? ['worker', 'gpu'] : ['worker'],
    secret: SECRET,
    bugs: o.bugs,
    weight: rng.pick([1, 1, 1, 2, 0.5]),
    quorum: majority ? QUORUM_MAJORITY : quorum,
  });
  const joined: string[] = [];
  for (let i = 0; i < nNodes; i++) {
    // Like a static config: the first node plus one other we know of.
    w.addNode(names[i], { ...nodeOpts(i), seeds: joined.length ? [...new Set([World.address(joined[0]), World.address(rng.pick(joined))])] : [] });
    joined.push(names[i]);
  }
  note(`${nNodes} nodes (${names.map((x) => `${x}:${w.node(x).opts.kinds!.join('+')}${w.node(x).opts.weight !== 1 ? `*${w.node(x).opts.weight}` : ''}`).join(' ')}), faults ${faults ? 'on' : 'off'}, ${chaosMs} ms${quorum ? `, quorum ${quorum}` : ''}${majority ? ', majority' : ''}${o.bugs ? `, planted bugs ${o.bugs}` : ''}`);
  w.runFor(1500);

  const leaving = new Set<string>();
  const liveNames = () => w.aliveNodes().filter((n) => !n.core.info().left && !n.paused && !ledger.intruders.has(n.name)).map((n) => n.name);
  /** Seeds as a user would configure them: the static list of first nodes, plus one member up now. */
  const seedsFor = (live: string[]) => {
    const ok = live.filter((x) => !leaving.has(x));
    const pool = ok.length ? ok : live;
    return [...new Set([...names.filter((x) => !leaving.has(x)).map(World.address), World.address(rng.pick(pool))])];
  };

  /** Majority mode: a restarted node is given the first nodes' addresses (a node without seeds founds a cluster). */
  const restartSeeds = () => (majority ? names.map(World.address) : undefined);
  /** A reply given in the request's own step (before the op was registered). */
  const answered = (n: SimNode, op: StartOp | TerminateOp) => {
    const r = n.replies.get(op.req);
    if (r && op.reply === undefined) {
      op.reply = r.code;
      op.answeredStep = w.steps;
      op.ackedWithPeers = r.code === 'ok' && n.core.members().length > 1;
      if (!('nonce' in op) && r.code === 'ok') op.outside = checker.heldOutside(n, op.id);
      if (models.retries && 'nonce' in op) checker.checkAckHeld(op, n);
    }
  };
  /** Starts with a client timeout (retries): the client retries the identical start after it. */
  const timeouts: { op: StartOp; at: number }[] = [];
  let nonce = 0;
  const start = (node: string, id: string) => {
    const n = w.node(node);
    const args: SimArgs = { nonce: ++nonce, restart: rng.pick(POLICIES), maxRestarts: rng.int(1, 4), periodMs: rng.int(500, 4000) };
    const spec = { id, kind: rng.pick(KINDS), args, restart: args.restart, maxRestarts: args.maxRestarts, periodMs: args.periodMs, shutdownMs: rng.int(0, 300),
      ...(models.groups ? { groups: workloadGroups(grng) } : {}) };
    checker.sample([id]);
    const wait = rng.chance(0.15) ? 'done' : 'ack';
    issue(n, id, args.nonce, spec, wait, `${spec.kind} ${args.restart}`);
  };
  const issue = (n: SimNode, id: string, nonce: number, spec: unknown, wait: 'ack' | 'done', what: string, repeats?: number) => {
    const op: StartOp = { req: 0, id, nonce, node: n.name, inc: n.inc, issuedStep: w.steps, observed: checker.observedBy(n, id), wait, spec, repeats };
    note(`${n.name} startChild ${id} #${nonce} ${what}${wait === 'done' ? ' (wait running)' : ''}${repeats ? ` (repeats request #${repeats})` : ''}`);
    op.req = w.startChild(n.name, spec, wait);
    ops.set(op.req, op);
    answered(n, op);
    ledger.starts.push(op);
    if (models.retries && wait === 'ack' && op.reply === undefined && wrng.chance(CLIENT_TIMEOUT_P)) timeouts.push({ op, at: w.now + wrng.int(...CLIENT_TIMEOUT_MS) });
  };
  /** An identical start again: the same spec, from `node` (a retry or a repeated boot). */
  const repeat = (node: string, op: StartOp, why: string) => {
    checker.sample([op.id]);
    checker.reissued(op);
    issue(w.node(node), op.id, op.nonce, op.spec, 'ack', why, op.req);
  };
  /** Retries (retries): clients whose start timed out issue it again, identical, from the same node. */
  const retryTimedOut = (live: string[]) => {
    for (let i = 0; i < timeouts.length; i++) {
      const t = timeouts[i];
      if (t.at > w.now) continue;
      timeouts.splice(i--, 1);
      const n = w.nodes.get(t.op.node);
      if (t.op.reply !== undefined || !n || n.inc !== t.op.inc || !live.includes(n.name)) continue;
      repeat(n.name, t.op, 'retry after a client timeout');
    }
  };
  const terminate = (node: string, id: string) => {
    const n = w.node(node);
    checker.sample([id]);
    // What the terminating node has observed of the id: what it was seen to hold, and its own starts.
    const observed = checker.observedBy(n, id);
    for (const s of ledger.starts) if (s.id === id && s.node === node && s.inc === n.inc && (s.reply === undefined || s.reply === 'ok')) observed.add(s.nonce);
    const wait = rng.chance(0.15) ? 'done' : 'ack';
    const op: TerminateOp = { req: 0, id, node, inc: n.inc, issuedStep: w.steps, issuedAt: w.now, observed, wait };
    note(`${node} terminateChild ${id}${wait === 'done' ? ' (wait stopped)' : ''} (observed ${[...observed].map((x) => `#${x}`).join(',') || 'none'})`);
    op.req = w.terminateChild(node, id, wait);
    ops.set(op.req, op);
    answered(n, op);
    ledger.terminates.push(op);
  };
  const fault = (s: string) => { note(s); checker.faultFree = false; };
  /** A problem the message ledger found (delivered twice, out of order, to no instance) is a violation at once. */
  const messageProblems = () => { if (w.messages.problems.length && checker.violations.length === 0) checker.fail('messages', w.messages.problems[0]); };
  /** Sends and calls from random live members to random ids; now and then a burst to one id (its bound). */
  const sendMessages = () => {
    const live = liveNames();
    if (live.length === 0) return;
    const burst = mrng.chance(0.1);
    const count = burst ? mrng.int(5, 40) : mrng.int(0, 3);
    const to = mrng.pick(IDS);
    const from = mrng.pick(live);
    for (let i = 0; i < count; i++) {
      const node = burst ? from : mrng.pick(live);
      if (!liveNames().includes(node)) continue;
      w.sendMessage(node, burst ? to : mrng.pick(IDS), mrng.chance(0.3));
    }
    messageProblems();
  };
  /** Cordons (model): a weight change, a cordon, a drain or an uncordon of a live member, asked at a live member. */
  const cordoned = new Set<string>();
  const placementChange = (live: string[]) => {
    const at = prng.pick(live), who = prng.pick(live);
    const what = prng.int(0, 3);
    if (what === 0) { const wt = prng.pick([0.5, 1, 2, 3]); note(`${who} setWeight ${wt}`); w.setWeight(who, wt); return; }
    const state = what === 1 ? 'cordoned' : what === 2 ? 'draining' : 'active';
    note(`${at} ${state === 'active' ? 'uncordon' : state === 'cordoned' ? 'cordon' : 'drain'} ${who}`);
    if (state !== 'active') cordoned.add(who);
    w.cordon(at, who, state, prng.int(1, 4), 3000);
  };

  if (models.clock) {
    // The host as core-as/src/supervisor.ts and clock.ts are today: one timer, replaced by each
    // wake, fired up to 1 ms early against the core's clock (Node's setTimeout) or late, never
    // re-armed; GC-like stalls, mostly under half the failure timeout, sometimes up to it.
    const fto = SIM_CONFIG.failureTimeoutMs;
    const nextStall = new Map<string, number>();
    w.hostClock = {
      fireAt: (at) => (crng.chance(EARLY_FIRE_P) ? at - 1 : at + (crng.chance(0.1) ? crng.int(3, 30) : crng.int(0, 2))),
      stallAfter: (n) => {
        const k = `${n.name}#${n.inc}`;
        const next = nextStall.get(k);
        if (next === undefined) nextStall.set(k, w.now + crng.int(...STALL_EVERY_MS));
        if (next === undefined || w.now < next) return 0;
        const long = !w.calmed && crng.chance(LONG_STALL_P);
        const d = long ? crng.int(fto / 2 + 1, fto) : crng.int(5, fto / 2);
        // The next stall is counted from the end of this one: two short stalls back to back
        // would be one long stall that the checker does not excuse.
        nextStall.set(k, w.now + d + crng.int(...STALL_EVERY_MS));
        // Beyond the documented bound on pauses: its children may overlap a takeover.
        // A fault, too: its peers may rightly take it for dead.
        if (long) {
          checker.excuseNode(n.name, w.now + d + fto + SIM_CONFIG.syncIntervalMs + OVERLAP_SLACK_MS, w.now + d);
          checker.faultFree = false;
        }
        line(`   ${n.name} stalls ${d} ms`);
        return d;
      },
    };
  }
  if (models.idleLinks) {
    // Pre-auth links that never finish their handshake, kept open to one or two members.
    for (const target of [...new Set([wrng.pick(names), wrng.pick(names)])]) {
      const count = wrng.int(1, 3), mode = wrng.chance(0.5) ? 'silent' : 'hello';
      note(`idle links to ${target}: ${count} ${mode}`);
      w.idleLinks(target, count, mode);
    }
  }

  let crashed: string | null = null;
  let attacker: Attacker | undefined;
  let restartAt = 0;
  let restarted: string | null = null;
  let restartedAt = 0;
  let left = 0;
  let incarnations = nNodes;
  const end = w.now + chaosMs;
  while (w.now < end && checker.violations.length === 0) {
    w.runFor(rng.int(10, 250));
    checker.sample(IDS);
    if (o.messages !== false) sendMessages();
    if (crashed && w.now >= restartAt) {
      // A process manager brings the crashed node back: a new incarnation at the same address.
      note(`restart ${crashed}`);
      w.restart(crashed, restartSeeds());
      restarted = crashed;
      restartedAt = w.now;
      crashed = null;
      // Its boot-time children, as a host's start({ children }) would issue them again.
      w.runFor(rng.int(30, 300));
      if (liveNames().includes(restarted)) for (let i = rng.int(1, 3); i > 0; i--) start(restarted, rng.pick(IDS));
    }
    const live = liveNames();
    // For a while after a restart, the new incarnation issues many of the requests.
    const pickNode = () => (restarted && w.now - restartedAt < 3000 && live.includes(restarted) && rng.chance(0.4) ? restarted : rng.pick(live));
    if (live.length === 0) break;
    if (models.retries) {
      retryTimedOut(live);
      // An identical start of an id some start of which is still desired (a repeated boot, a
      // client that does not know its first attempt succeeded).
      if (wrng.chance(0.1)) {
        const from = wrng.pick(live), id = wrng.pick(IDS);
        const nonce = parseArgs(w.node(from).core.specOf(id)?.args)?.nonce;
        const first = nonce === undefined ? undefined : ledger.starts.find((s) => s.nonce === nonce && s.spec !== undefined);
        if (first) repeat(from, first, 'identical repeat');
      }
    }
    if (models.cordons && prng.chance(0.08)) placementChange(live);
    const roll = rng.float();
    if (roll < 0.42) {
      const id = rng.pick(IDS);
      start(pickNode(), id);
      if (rng.chance(0.2)) start(rng.pick(live), id); // concurrent start of the same id, from another node
    } else if (roll < 0.52) {
      const id = rng.pick(IDS);
      terminate(pickNode(), id);
      if (rng.chance(0.15)) start(rng.pick(live), id); // a start racing the terminate
    } else if (roll < 0.56 && nNodes > 1 && ledger.destructive === 0 && live.length > 1) {
      // A graceful leave (a planned move); the node shuts down when it has handed over.
      const who = rng.pick(live);
      // Half of them right behind a start the leaver has just taken (and so ACKed, unless it
      // was lost): the start's acknowledgement may rest on the leaver (sim-leave-ack.test.ts).
      const others = live.filter((x) => x !== who);
      let behind = '';
      if (models.leaveBehindStart && others.length > 0 && lrng.chance(0.5)) {
        const id = rng.pick(IDS);
        start(rng.pick(others), id);
        const issued = nonce;
        w.runUntil(() => parseArgs(w.node(who).core.specOf(id)?.args)?.nonce === issued, LEAVE_BEHIND_START_MS);
        behind = ` (right behind a start of ${id})`;
      }
      note(`leave ${who}${behind}`);
      leaving.add(who);
      ledger.departed.add(`${who}#${w.node(who).inc}`);
      w.leave(who);
      left++;
      ledger.destructive++;
    } else if (roll < 0.6 && joined.length < 9 && (quorum === 0 || !models.overlapRules || joined.filter((x) => !leaving.has(x)).length + 1 <= 2 * quorum - 1)) {
      // (A quorum of N keeps two sides from both running only while the cluster has at most
      // 2N - 1 members, crashed ones that come back included: quorum seeds judged by rule do
      // not grow beyond that.)
      const name = `j${incarnations++}`;
      const opts = { ...nodeOpts(incarnations), seeds: seedsFor(live) };
      note(`join ${name} (${opts.kinds!.join('+')}${opts.weight !== 1 ? ` *${opts.weight}` : ''})`);
      w.addNode(name, opts);
      joined.push(name);
    } else if (faults) {
      const f = rng.int(0, 7);
      if (f === 0) {
        // Delay from a random distribution: uniform, or mostly fast with a long tail.
        const tail = rng.chance(0.5);
        const net = { delayMin: 1, delayMax: tail ? rng.int(40, 150) : rng.int(2, 40), loss: rng.chance(0.5) ? rng.float() * 0.2 : 0, dup: rng.float() * 0.1, reorder: rng.float() * (tail ? 0.1 : 0.3) };
        fault(`net ${JSON.stringify(net)}`);
        w.setNet(net);
        checker.disorder('net', true); // lost or long-held heartbeats: a member may look down
      } else if (f === 1 && live.length > 1) {
        const a = rng.pick(live), b = rng.pick(live);
        if (a !== b) { fault(`flap ${a}-${b}`); w.flap(a, b); checker.disorder('flap', false, SIM_CONFIG.failureTimeoutMs); }
      } else if (f === 2 && live.length > 1) {
        const side = live.filter(() => rng.chance(0.5));
        const rest = live.filter((x) => !side.includes(x));
        const sym = rng.chance(0.7);
        fault(`partition ${side.join(',')} | ${rest.join(',')}${sym ? '' : ' (asymmetric: only the first side hears the second)'}`);
        w.partition(side, rest, sym);
        checker.disorder('partition', true);
      } else if (f === 3) {
        fault('heal');
        w.heal();
        checker.disorder('partition', false);
      } else if (f === 4 && !crashed && ledger.destructive === 0 && live.length > 1) {
        crashed = rng.pick(live);
        fault(`crash ${crashed}`);
        ledger.departed.add(`${crashed}#${w.node(crashed).inc}`);
        w.crash(crashed);
        restartAt = w.now + rng.int(100, 2500);
        ledger.destructive++;
      } else if (f === 5 && live.length > 1) {
        // A pause (GC, a stopped VM, a frozen tab) longer than the failure timeout.
        const p = rng.pick(live);
        fault(`pause ${p}`);
        w.pause(p);
        checker.disorder(`pause ${p}`, true);
        checker.excuseNode(p, Infinity, Infinity);
        w.runFor(SIM_CONFIG.failureTimeoutMs + rng.int(50, 800));
        note(`resume ${p}`);
        w.resume(p);
        // Paused beyond the failure timeout (beyond the documented bound): until it has noticed
        // and stopped what moved, its children may overlap, also in quorum mode.
        checker.disorder(`pause ${p}`, false, SIM_CONFIG.failureTimeoutMs);
        checker.excuseNode(p, w.now + SIM_CONFIG.failureTimeoutMs + SIM_CONFIG.syncIntervalMs + OVERLAP_SLACK_MS, w.now, true);
      } else if (f === 6) {
        // A peer with the wrong secret, or with none: it must never become a member.
        const name = `x${incarnations++}`;
        const wrong = rng.chance(0.5);
        note(`intruder ${name} (${wrong ? 'wrong secret' : 'no secret'})`);
        ledger.intruders.add(name);
        const intr = w.addNode(name, { seeds: [World.address(rng.pick(live))], secret: wrong ? new TextEncoder().encode('wrong') : undefined });
        w.runFor(rng.int(50, 400));
        w.crash(intr.name);
      } else if (f === 7 && live.length > 0) {
        // An attacker without the secret (attacker.ts): relays, replays, injects, idles.
        attacker ??= new Attacker(w);
        fault(`attacker ${attacker.move(rng, live)}`);
        // A replayed or injected frame closes its link, like a flap.
        checker.disorder('flap', false, SIM_CONFIG.failureTimeoutMs);
      }
    }
  }

  const leaked = attacker?.leakedProof();
  if (leaked) checker.fail('authentication', leaked);

  let convergedMs: number | undefined;
  if (checker.violations.length === 0) {
    // Quiescence: faults stop, the network heals, paused nodes resume, a crashed node comes
    // back as a new incarnation (as a process manager restarts it), children stop crashing.
    note('quiesce: faults stop');
    w.heal();
    checker.disorder('partition', false);
    w.setNet({ delayMin: 1, delayMax: 5, loss: 0, dup: 0, reorder: 0 });
    checker.disorder('net', false);
    for (const n of w.nodes.values()) if (n.paused) w.resume(n.name);
    if (crashed) { note(`restart ${crashed}`); w.restart(crashed, restartSeeds()); crashed = null; }
    w.calm();
    // A long stall that began before calm() is still a fault: convergence is timed from its end.
    w.runUntil(() => w.aliveNodes().every((n) => !n.stalled), SIM_CONFIG.failureTimeoutMs);
    if (cordoned.size > 0) {
      // Every cordon and drain undone, once the healed links have carried the tables (an uncordon
      // written with an older table would lose to a cordon it has not seen).
      w.runFor(SIM_CONFIG.failureTimeoutMs + 2 * SIM_CONFIG.syncIntervalMs);
      const asker = liveNames().find((x) => !leaving.has(x));
      if (asker) for (const who of cordoned) { note(`${asker} uncordon ${who}`); w.cordon(asker, who, 'active'); }
    }
    const settledAt = w.now;
    // Silence from the fault period (a member cut off by a partition still counts as up) is judged
    // up to a failure timeout after the heal: convergence is not looked for before then.
    if (!checker.faultFree) w.runFor(SIM_CONFIG.failureTimeoutMs);
    let reason: string | null = 'not checked';
    while (w.now - settledAt < quiesceMs && checker.violations.length === 0) {
      w.runFor(50);
      checker.sample(IDS);
      reason = checker.converged();
      if (reason === null) break;
    }
    if (checker.violations.length === 0) {
      if (reason !== null) checker.fail('convergence', `${reason} (${quiesceMs} ms after the faults stopped)`);
      else {
        convergedMs = w.now - settledAt;
        note(`converged after ${convergedMs} ms`);
        // Converged means stable: nothing moves over two more sync rounds.
        w.runFor(2 * SIM_CONFIG.syncIntervalMs);
        checker.sample(IDS);
        const again = checker.converged();
        if (again !== null) checker.fail('convergence', `converged at +${convergedMs} ms, then diverged: ${again}`);
        checker.checkNoLoss();
        checker.checkTerminated();
        checker.checkReplies();
        checker.checkHandoffsAccounted();
        if (models.groups) { const g = groupsAgree(w, IDS); if (g) checker.fail('groups', g); }
        // Every message from a sender still running has its outcome once its wait has run out.
        const alive = (from: string) => { const [name, inc] = from.split('#'); const n = w.nodes.get(name); return !!n && n.alive && !n.left && String(n.inc) === inc; };
        w.runFor(SIM_MESSAGE_BUFFER_MS + 2 * SIM_CONFIG.syncIntervalMs);
        const bad = w.messages.check(alive, checker.faultFree);
        if (bad.length) checker.fail('messages', `${bad[0]}${bad.length > 1 ? ` (and ${bad.length - 1} more)` : ''}`);
      }
    }
  }
  return {
    seed, steps: w.steps, virtualMs: w.now, violations: checker.violations, trace: frozen ?? trace,
    traceHash: (h >>> 0).toString(16).padStart(8, '0'), faults, nodes: nNodes, convergedMs, handoffs: checker.handoffs, options: o,
  };
}

/** The one command that replays a seed with the same options. */
export function replayCommand(seed: number, o: SimOptions = {}): string {
  const parts = [`npm run sim -- --seed ${seed}`];
  if (o.bugs) parts.push(`--bugs ${o.bugs}`);
  if (o.nodes !== undefined) parts.push(`--nodes ${o.nodes}`);
  if (o.faults === true || o.faults === false) parts.push(`--faults ${o.faults ? 'on' : 'off'}`);
  if (o.chaosMs !== undefined) parts.push(`--chaos-ms ${o.chaosMs}`);
  if (o.quiesceMs !== undefined) parts.push(`--quiesce-ms ${o.quiesceMs}`);
  if (o.harsh === true) parts.push('--harsh');
  if (o.harsh === false) parts.push('--gentle');
  if (o.majority) parts.push('--majority');
  if (o.quorum !== undefined) parts.push(o.quorum === true ? '--quorum' : `--quorum ${o.quorum}`);
  const base = harshModels({ harsh: o.harsh });
  const flags: [keyof Models, string][] = [['clock', 'clock'], ['overlapRules', 'overlap-rules'], ['retries', 'retries'], ['idleLinks', 'idle-links'], ['cordons', 'cordons'], ['groups', 'groups'], ['leaveBehindStart', 'leave-behind-start']];
  for (const [k, flag] of flags) {
    if (o[k] === true && !base[k]) parts.push(`--${flag}`);
    if (o[k] === false && base[k]) parts.push(`--no-${flag}`);
  }
  return parts.join(' ');
}

export function formatViolation(r: SimResult): string {
  const v = r.violations[0];
  return [
    `seed ${r.seed}: invariant ${v.invariant} violated at ${v.at} ms: ${v.detail}`,
    ...r.violations.slice(1, 4).map((x) => `  also ${x.invariant} at ${x.at} ms: ${x.detail}`),
    `  last events (${r.nodes} nodes, faults ${r.faults ? 'on' : 'off'}):`,
    ...r.trace.map((t) => `    ${t}`),
    `  replay: ${replayCommand(r.seed, r.options)}`,
  ].join('\n');
}

/** JSON.stringify replacer: byte arrays as their length (secrets, frames). */
function jsonBytes(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === 'bigint' ? String(v) : v;
}
