// One simulator seed: build a world, drive a random workload and random faults, then stop the
// faults, heal, and check convergence. Everything derives from the seed (the world's PRNG for
// the network and the runner, a second PRNG for workload and faults), so the same seed replays
// the same trace (invariant 6).
import type { Effect } from '@trellis/core';
import { World, type SimNode, type NodeOptions } from './world.js';
import { Prng } from './prng.js';
import { Checker, newLedger, type Policy, type SimArgs, type StartOp, type TerminateOp, type Violation } from './checker.js';

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
  options: SimOptions;
}

export const SIM_CONFIG = { heartbeatMs: 100, failureTimeoutMs: 500, syncIntervalMs: 400 };
const SECRET = new TextEncoder().encode('sim-secret');
const IDS = Array.from({ length: 16 }, (_, i) => `c${i}`);
const TRACE_LINES = 60;
const KINDS = ['worker', 'worker', 'worker', 'gpu', 'nowhere'];
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
  const w = new World(wasm, seed, SIM_CONFIG);
  const faults = o.faults === undefined || o.faults === 'auto' ? rng.chance(0.7) : o.faults;
  const nNodes = o.nodes ?? rng.int(1, 7);
  const chaosMs = o.chaosMs ?? rng.int(4000, 12000);
  const quiesceMs = o.quiesceMs ?? 10_000;
  const names = Array.from({ length: nNodes }, (_, i) => `n${i}`);
  // partition: { quorum: N } in some seeds (a majority of the first nodes), 'available' otherwise.
  const quorum = nNodes > 2 && rng.chance(0.2) ? Math.floor(nNodes / 2) + 1 : 0;
  const ledger = newLedger();
  const checker = new Checker(w, ledger);
  checker.quorum = quorum;

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
  checker.onViolation = (v) => { line(`!! ${v.invariant}: ${v.detail}`); frozen = [...trace]; };
  const ops = new Map<number, StartOp | TerminateOp>();
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
          op.ackedWithPeers = e.code === 'ok' && n.core.members().length > 1;
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

  const nodeOpts = (i: number): NodeOptions => ({
    kinds: i % 3 === 1 ? ['worker', 'gpu'] : ['worker'],
    secret: SECRET,
    bugs: o.bugs,
    weight: rng.pick([1, 1, 1, 2, 0.5]),
    quorum,
  });
  const joined: string[] = [];
  for (let i = 0; i < nNodes; i++) {
    // Like a static config: the first node plus one other we know of.
    w.addNode(names[i], { ...nodeOpts(i), seeds: joined.length ? [...new Set([World.address(joined[0]), World.address(rng.pick(joined))])] : [] });
    joined.push(names[i]);
  }
  note(`${nNodes} nodes (${names.map((x) => `${x}:${w.node(x).opts.kinds!.join('+')}${w.node(x).opts.weight !== 1 ? `*${w.node(x).opts.weight}` : ''}`).join(' ')}), faults ${faults ? 'on' : 'off'}, ${chaosMs} ms${quorum ? `, quorum ${quorum}` : ''}${o.bugs ? `, planted bugs ${o.bugs}` : ''}`);
  w.runFor(1500);

  const leaving = new Set<string>();
  const liveNames = () => w.aliveNodes().filter((n) => !n.core.info().left && !n.paused && !ledger.intruders.has(n.name)).map((n) => n.name);
  /** Seeds as a user would configure them: the static list of first nodes, plus one member up now. */
  const seedsFor = (live: string[]) => {
    const ok = live.filter((x) => !leaving.has(x));
    const pool = ok.length ? ok : live;
    return [...new Set([...names.filter((x) => !leaving.has(x)).map(World.address), World.address(rng.pick(pool))])];
  };

  /** A reply given in the request's own step (before the op was registered). */
  const answered = (n: SimNode, op: StartOp | TerminateOp) => {
    const r = n.replies.get(op.req);
    if (r && op.reply === undefined) {
      op.reply = r.code;
      op.ackedWithPeers = r.code === 'ok' && n.core.members().length > 1;
    }
  };
  let nonce = 0;
  const start = (node: string, id: string) => {
    const n = w.node(node);
    const args: SimArgs = { nonce: ++nonce, restart: rng.pick(POLICIES), maxRestarts: rng.int(1, 4), periodMs: rng.int(500, 4000) };
    const spec = { id, kind: rng.pick(KINDS), args, restart: args.restart, maxRestarts: args.maxRestarts, periodMs: args.periodMs, shutdownMs: rng.int(0, 300) };
    checker.sample([id]);
    const wait = rng.chance(0.15) ? 'done' : 'ack';
    const op: StartOp = { req: 0, id, nonce: args.nonce, node, inc: n.inc, issuedStep: w.steps, observed: checker.observedBy(n, id), wait };
    note(`${node} startChild ${id} #${args.nonce} ${spec.kind} ${args.restart}${wait === 'done' ? ' (wait running)' : ''}`);
    op.req = w.startChild(node, spec, wait);
    ops.set(op.req, op);
    answered(n, op);
    ledger.starts.push(op);
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

  let crashed: string | null = null;
  let restartAt = 0;
  let restarted: string | null = null;
  let restartedAt = 0;
  let left = 0;
  let incarnations = nNodes;
  const end = w.now + chaosMs;
  while (w.now < end && checker.violations.length === 0) {
    w.runFor(rng.int(10, 250));
    checker.sample(IDS);
    if (crashed && w.now >= restartAt) {
      // A process manager brings the crashed node back: a new incarnation at the same address.
      note(`restart ${crashed}`);
      w.restart(crashed);
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
      note(`leave ${who}`);
      leaving.add(who);
      ledger.departed.add(`${who}#${w.node(who).inc}`);
      w.leave(who);
      left++;
      ledger.destructive++;
    } else if (roll < 0.6 && joined.length < 9) {
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
        w.net = { delayMin: 1, delayMax: tail ? rng.int(40, 150) : rng.int(2, 40), loss: rng.chance(0.5) ? rng.float() * 0.2 : 0, dup: rng.float() * 0.1, reorder: rng.float() * (tail ? 0.1 : 0.3) };
        fault(`net ${JSON.stringify(w.net)}`);
      } else if (f === 1 && live.length > 1) {
        const a = rng.pick(live), b = rng.pick(live);
        if (a !== b) { fault(`flap ${a}-${b}`); w.flap(a, b); }
      } else if (f === 2 && live.length > 1) {
        const side = live.filter(() => rng.chance(0.5));
        const rest = live.filter((x) => !side.includes(x));
        const sym = rng.chance(0.7);
        fault(`partition ${side.join(',')} | ${rest.join(',')}${sym ? '' : ' (asymmetric: only the first side hears the second)'}`);
        w.partition(side, rest, sym);
      } else if (f === 3) {
        fault('heal');
        w.heal();
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
        w.runFor(SIM_CONFIG.failureTimeoutMs + rng.int(50, 800));
        note(`resume ${p}`);
        w.resume(p);
      } else if (f === 6) {
        // A peer with the wrong secret, or with none: it must never become a member.
        const name = `x${incarnations++}`;
        const wrong = rng.chance(0.5);
        note(`intruder ${name} (${wrong ? 'wrong secret' : 'no secret'})`);
        ledger.intruders.add(name);
        const intr = w.addNode(name, { seeds: [World.address(rng.pick(live))], secret: wrong ? new TextEncoder().encode('wrong') : undefined });
        w.runFor(rng.int(50, 400));
        w.crash(intr.name);
      }
    }
  }

  let convergedMs: number | undefined;
  if (checker.violations.length === 0) {
    // Quiescence: faults stop, the network heals, paused nodes resume, a crashed node comes
    // back as a new incarnation (as a process manager restarts it), children stop crashing.
    note('quiesce: faults stop');
    w.heal();
    w.net = { delayMin: 1, delayMax: 5, loss: 0, dup: 0, reorder: 0 };
    for (const n of w.nodes.values()) if (n.paused) w.resume(n.name);
    if (crashed) { note(`restart ${crashed}`); w.restart(crashed); crashed = null; }
    w.calm();
    const settledAt = w.now;
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
      }
    }
  }
  return {
    seed, steps: w.steps, virtualMs: w.now, violations: checker.violations, trace: frozen ?? trace,
    traceHash: (h >>> 0).toString(16).padStart(8, '0'), faults, nodes: nNodes, convergedMs, options: o,
  };
}

/** The one command that replays a seed with the same options. */
export function replayCommand(seed: number, o: SimOptions = {}): string {
  const parts = [`npm run sim -- --seed ${seed}`];
  o = { ...o, onTrace: undefined, frames: undefined };
  if (o.bugs) parts.push(`--bugs ${o.bugs}`);
  if (o.nodes !== undefined) parts.push(`--nodes ${o.nodes}`);
  if (o.faults === true || o.faults === false) parts.push(`--faults ${o.faults ? 'on' : 'off'}`);
  if (o.chaosMs !== undefined) parts.push(`--chaos-ms ${o.chaosMs}`);
  if (o.quiesceMs !== undefined) parts.push(`--quiesce-ms ${o.quiesceMs}`);
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
