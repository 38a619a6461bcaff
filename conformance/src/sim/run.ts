// One simulator seed: build a world, drive a random workload and random faults, then heal and
// check convergence. Everything derives from the seed, so the same seed replays the same trace.
import type { Effect } from '@trellis/core';
import { World, type SimNode, type NodeOptions } from './world.js';
import { Prng } from './prng.js';
import { Checker, type IdPolicy, type Ledger, type Policy, type Violation } from './checker.js';

export interface SimOptions {
  /** Number of nodes (default: 1–7 from the seed). */
  nodes?: number;
  /** Planted bugs (PlantedBug flags) on every node. */
  bugs?: number;
  /** Virtual ms of workload and faults. */
  chaosMs?: number;
  /** 'auto' (from the seed), or force faults on/off. */
  faults?: 'auto' | boolean;
}

export interface SimResult {
  seed: number;
  steps: number;
  virtualMs: number;
  violations: Violation[];
  trace: string[];
  /** Hash of every effect, in order: equal for equal seeds (invariant 6). */
  traceHash: string;
  faults: boolean;
}

const CONFIG = { heartbeatMs: 100, failureTimeoutMs: 500, syncIntervalMs: 400 };
const SECRET = new TextEncoder().encode('sim-secret');
const IDS = 16;
const QUIESCE_MS = 20_000;

function describe(n: SimNode, e: Effect): string | null {
  switch (e.type) {
    case 'run': return `${n.name} run ${e.id}#${e.epoch}`;
    case 'stop': return `${n.name} stop ${e.id}#${e.epoch}`;
    case 'dial': return `${n.name} dial ${e.address}`;
    case 'close': return `${n.name} close link ${e.link} (${e.reason})`;
    case 'reply': return `${n.name} reply #${e.req} ${e.code}${e.message ? ` ${e.message}` : ''}`;
    case 'event': return `${n.name} ${JSON.stringify(e.event)}`;
    default: return null;
  }
}

export function runSeed(wasm: BufferSource | WebAssembly.Module, seed: number, o: SimOptions = {}): SimResult {
  const rng = new Prng(seed ^ 0x5eed);
  const w = new World(wasm, seed, CONFIG);
  const faults = o.faults === undefined || o.faults === 'auto' ? rng.chance(0.7) : o.faults;
  const nNodes = o.nodes ?? rng.int(1, 7);
  const chaosMs = o.chaosMs ?? 6000;
  const names = Array.from({ length: nNodes }, (_, i) => `n${i}`);

  // The ledger: per-id policies are fixed for the seed (so the checker knows them); the args
  // carry a nonce per start request, so concurrent starts of one id differ.
  const kinds = ['worker', 'worker', 'worker', 'gpu', 'nowhere'];
  const policies: Policy[] = ['permanent', 'permanent', 'transient', 'temporary'];
  const ledger: Ledger = { policy: new Map(), starts: new Map(), terminated: [], terminateIssued: new Set(), terminating: [], destructive: 0 };
  for (let i = 0; i < IDS; i++) {
    const p: IdPolicy = { restart: rng.pick(policies), maxRestarts: rng.int(1, 4), periodMs: rng.int(500, 4000), kind: rng.pick(kinds) };
    ledger.policy.set(`c${i}`, p);
  }
  const checker = new Checker(w, ledger);

  // Trace: the last effects, readable; and a hash of all of them.
  const trace: string[] = [];
  let h = 0x811c9dc5;
  w.observers.push((world, n, fx) => {
    for (const e of fx) {
      const d = describe(n, e);
      const s = d ?? `${n.name} ${e.type}`;
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      if (d) { trace.push(`${String(world.now).padStart(6)} ${d}`); if (trace.length > 80) trace.shift(); }
    }
  });
  const note = (s: string) => { trace.push(`${String(w.now).padStart(6)} ** ${s}`); if (trace.length > 80) trace.shift(); };

  // Runner behaviour: children crash, exit, fail to start, shut down slowly or not at all.
  w.runner = {
    startDelay: () => rng.int(0, 5),
    failStart: () => rng.chance(0.03),
    exitAfter: () => (rng.chance(0.08) ? { after: rng.int(20, 3000), reason: rng.chance(0.7) ? 'crash' : 'normal' } : null),
    shutdownTime: () => (rng.chance(0.05) ? null : rng.int(0, 60)),
  };

  const nodeOpts = (i: number): NodeOptions => ({
    kinds: i % 3 === 1 ? ['worker', 'gpu'] : ['worker'],
    secret: SECRET,
    bugs: o.bugs,
  });
  const joined: string[] = [];
  for (let i = 0; i < nNodes; i++) {
    // Like a static config: the first node plus one other we know of.
    w.addNode(names[i], { ...nodeOpts(i), seeds: joined.length ? [...new Set([World.address(joined[0]), World.address(rng.pick(joined))])] : [] });
    joined.push(names[i]);
  }
  w.runFor(1500);

  // Replies to starts/terminates we issued, checked after each run slice.
  const pendingStarts: { node: string; req: number }[] = [];
  const pendingTerms: { node: string; req: number; id: string; removedNonce: number | null }[] = [];
  let nonce = 0;
  const collect = () => {
    for (let i = pendingStarts.length - 1; i >= 0; i--) {
      const p = pendingStarts[i];
      const r = w.nodes.get(p.node)?.replies.get(p.req);
      if (!r) continue;
      pendingStarts.splice(i, 1);
      // A start acknowledged by a node alone was held by one member only: no durability promise.
      if (r.code === 'ok' && w.node(p.node).core.members().length > 1) ledger.starts.get(p.req)!.acked = true;
    }
    for (let i = pendingTerms.length - 1; i >= 0; i--) {
      const p = pendingTerms[i];
      const r = w.nodes.get(p.node)?.replies.get(p.req);
      if (!r) continue;
      pendingTerms.splice(i, 1);
      // A terminate acknowledged by a node alone is as fragile as a start acknowledged alone.
      if (r.code === 'ok' && w.node(p.node).core.members().length > 1) ledger.terminated.push({ id: p.id, removedNonce: p.removedNonce, ackedAt: w.now });
    }
  };
  const leaving = new Set<string>();
  const liveNames = () => w.aliveNodes().filter((n) => !n.core.info().left && !n.paused).map((n) => n.name);
  /** Seeds as a user would configure them: two members that are up and staying. */
  const seedsFor = (live: string[]) => {
    // A static list of the first nodes (as deployments have), plus one member that is up now.
    const ok = live.filter((x) => !leaving.has(x));
    const pool = ok.length ? ok : live;
    return [...new Set([...names.filter((x) => !leaving.has(x)).map(World.address), World.address(rng.pick(pool))])];
  };

  const start = (node: string, id: string) => {
    const p = ledger.policy.get(id)!;
    const myNonce = ++nonce;
    const req = w.startChild(node, { id, kind: p.kind, args: { nonce: myNonce }, restart: p.restart, maxRestarts: p.maxRestarts, periodMs: p.periodMs, shutdownMs: rng.int(0, 200) });
    ledger.starts.set(req, { id, nonce: myNonce, node, acked: false });
    pendingStarts.push({ node, req });
  };
  const terminate = (node: string, id: string) => {
    // What the terminating node holds for the id now is what its terminate removes.
    const held = w.node(node).core.specOf(id);
    let removedNonce: number | null = null;
    if (held) { try { removedNonce = (JSON.parse(held.args) as { nonce: number }).nonce; } catch { /* none */ } }
    ledger.terminateIssued.add(id);
    ledger.terminating.push({ id, removedNonce, issuedAt: w.now });
    const req = w.terminateChild(node, id);
    pendingTerms.push({ node, req, id, removedNonce });
  };

  let crashed: string | null = null;
  let left = 0;
  let incarnations = nNodes;
  const end = w.now + chaosMs;
  if (faults) checker.faultFree = false;
  while (w.now < end) {
    w.runFor(rng.int(10, 250));
    collect();
    const live = liveNames();
    if (live.length === 0) break;
    const roll = rng.float();
    if (roll < 0.45) {
      const id = `c${rng.int(0, IDS - 1)}`;
      start(rng.pick(live), id);
      if (rng.chance(0.2)) start(rng.pick(live), id); // concurrent start from another node
    } else if (roll < 0.55) {
      terminate(rng.pick(live), `c${rng.int(0, IDS - 1)}`);
    } else if (roll < 0.6 && nNodes > 1 && left === 0 && live.length > 1 && !crashed) {
      // a graceful leave, later a fresh incarnation joins
      const who = rng.pick(live);
      note(`leave ${who}`);
      leaving.add(who);
      w.leave(who);
      left++;
      ledger.destructive++;
    } else if (roll < 0.64 && joined.length < 8) {
      const name = `j${incarnations++}`;
      note(`join ${name}`);
      w.addNode(name, { ...nodeOpts(incarnations), seeds: seedsFor(live) });
      joined.push(name);
    } else if (faults) {
      const f = rng.int(0, 9);
      if (f === 0) { w.net = { delayMin: 1, delayMax: rng.int(2, 80), loss: rng.chance(0.5) ? rng.float() * 0.2 : 0, dup: rng.float() * 0.1, reorder: rng.float() * 0.3 }; note(`net ${JSON.stringify(w.net)}`); }
      else if (f === 1 && live.length > 1) { const a = rng.pick(live), b = rng.pick(live); if (a !== b) { note(`flap ${a}-${b}`); w.flap(a, b); } }
      else if (f === 2 && live.length > 1) {
        const side = live.filter(() => rng.chance(0.5));
        const rest = live.filter((x) => !side.includes(x));
        const sym = rng.chance(0.7);
        note(`partition ${side.join(',')} | ${rest.join(',')}${sym ? '' : ' (asymmetric)'}`);
        w.partition(side, rest, sym);
      } else if (f === 3) { note('heal'); w.heal(); }
      else if (f === 4 && !crashed && ledger.destructive === 0 && live.length > 1) {
        crashed = rng.pick(live); note(`crash ${crashed}`); w.crash(crashed); ledger.destructive++;
      } else if (f === 5 && crashed) { note(`restart ${crashed}`); w.restart(crashed); crashed = null; }
      else if (f === 6 && live.length > 1) {
        const p = rng.pick(live); note(`pause ${p}`); w.pause(p);
        w.runFor(CONFIG.failureTimeoutMs + rng.int(50, 800));
        note(`resume ${p}`); w.resume(p);
      } else if (f === 7) {
        // a peer with the wrong secret, or with none
        const name = `x${incarnations++}`;
        note(`intruder ${name}`);
        const intr = w.addNode(name, { seeds: [World.address(rng.pick(live))], secret: rng.chance(0.5) ? new TextEncoder().encode('wrong') : undefined });
        w.runFor(rng.int(50, 400));
        w.crash(intr.name);
      }
    }
  }

  // Quiescence: faults stop, the network heals, paused nodes resume, workload stops.
  note('quiesce');
  w.heal();
  w.net = { delayMin: 1, delayMax: 5, loss: 0, dup: 0, reorder: 0 };
  for (const n of w.nodes.values()) if (n.paused) w.resume(n.name);
  // Crashed members come back (as a process manager restarts them), as new incarnations.
  if (crashed) { note(`restart ${crashed}`); w.restart(crashed); crashed = null; }
  w.runner.exitAfter = () => null;
  w.runner.failStart = () => false;
  const settledAt = w.now;
  let reason: string | null = 'not checked';
  while (w.now - settledAt < QUIESCE_MS) {
    w.runFor(250);
    collect();
    reason = checker.converged();
    if (reason === null) break;
  }
  if (reason !== null) checker.violations.push({ invariant: 'convergence', detail: `${reason} (after ${QUIESCE_MS} ms of quiet)`, at: w.now });
  else { checker.checkNoLoss(); checker.checkTerminated(); }
  return { seed, steps: w.steps, virtualMs: w.now, violations: checker.violations, trace, traceHash: (h >>> 0).toString(16), faults };
}

/** The command that replays one seed. */
export function replayCommand(seed: number, bugs?: number): string {
  return `npm run sim -- --seed ${seed}${bugs ? ` --bugs ${bugs}` : ''}`;
}

export function formatViolation(r: SimResult, bugs?: number): string {
  const v = r.violations[0];
  return [
    `seed ${r.seed}: ${v.invariant} violated at ${v.at} ms: ${v.detail}`,
    ...r.violations.slice(1, 4).map((x) => `  also ${x.invariant} at ${x.at} ms: ${x.detail}`),
    '  last events:',
    ...r.trace.slice(-40).map((t) => `    ${t}`),
    `  replay: ${replayCommand(r.seed, bugs)}`,
  ].join('\n');
}
