// The invariants of DESIGN.md ("Conformance"), checked against a running World: some after
// every core step (no overlap, terminated stays terminated, restart policy, authentication),
// the rest at quiescence, once faults have stopped (convergence, no loss). A violation carries
// the invariant's name, a readable detail and the virtual time.
//
// The checker knows what the workload did through the Ledger, and what each node holds through
// the core's own views (specOf, globalChildren, members, digest). Child args carry the start's
// nonce and its restart policy, so any running instance says which start it came from.
import type { CoreEvent, Effect, GlobalChildView } from '@trellis/core';
import type { SimNode, World } from './world.js';

export interface Violation {
  invariant: string; detail: string; at: number;
  /** The node the violation is about, when it is one node's (an `invariant` effect, a lost wake). */
  node?: string;
}


/** A wake fired this late (virtual ms) still counts as on time; HostClock late fires stay below it. */
export const WAKE_LATE_MAX_MS = 100;
/**
 * After a partition heals (or the network, a paused or stalled node recovers), an `available`
 * cluster may still run an id twice for one sync interval plus this slack: a redial waits up to
 * the dial backoff (2000 ms), the handshake and anti-entropy take a few network delays, and the
 * loser's child takes up to its shutdownMs (at most 300 ms in the workload) to stop.
 */
export const OVERLAP_SLACK_MS = 2500;

export type Policy = 'permanent' | 'transient' | 'temporary';

/** What every simulated child's args hold: its start's nonce and (a copy of) its policy. */
export interface SimArgs { nonce: number; restart: Policy; maxRestarts: number; periodMs: number }

const parsed = new Map<string, SimArgs | undefined>();
export function parseArgs(args: string | undefined): SimArgs | undefined {
  if (!args) return undefined;
  if (parsed.has(args)) return parsed.get(args);
  let r: SimArgs | undefined;
  try {
    const a = JSON.parse(args) as Partial<SimArgs>;
    r = typeof a.nonce === 'number' ? (a as SimArgs) : undefined;
  } catch { r = undefined; }
  if (parsed.size > 10_000) parsed.clear();
  parsed.set(args, r);
  return r;
}

export interface StartOp {
  req: number; id: string; nonce: number; node: string; inc: number;
  /** Logical time (world step count) when it was issued. */
  issuedStep: number;
  /** Nonces of the id the issuing node had been seen to hold before (its add came after those). */
  observed: Set<number>;
  wait: 'ack' | 'done';
  reply?: string;
  /** The issuing node had peers when it replied ok (a second holder exists). */
  ackedWithPeers?: boolean;
  /** The spec as issued (an identical repeat or a retry issues it again). */
  spec?: unknown;
  /** Request number of the start this one repeats (a retry after a client timeout, or a repeat). */
  repeats?: number;
  /** World step in which it was answered. */
  answeredStep?: number;
}

export interface TerminateOp {
  req: number; id: string; node: string; inc: number; issuedStep: number; issuedAt: number;
  /** Nonces of starts of the id the terminating node had observed when it issued the terminate. */
  observed: Set<number>;
  wait: 'ack' | 'done';
  reply?: string;
  ackedWithPeers?: boolean;
  /** World step in which it was answered. */
  answeredStep?: number;
  /**
   * Acknowledged: nonces of the id held then by live nodes its node did not count as members.
   * The acknowledgement covers what its members held (terminates.ts); starts only these held are
   * outside it.
   */
  outside?: Set<number>;
}

/**
 * A terminate that may have removed start `s`: it was not answered before `s` was issued (a
 * terminate extends its removal while it waits, to starts issued meanwhile too: terminates.ts).
 */
export function mayRemove(t: TerminateOp, s: { id: string; issuedStep: number }): boolean {
  return t.id === s.id && t.reply !== 'not_found' && (t.answeredStep === undefined || t.answeredStep > s.issuedStep);
}

/** What the workload did, as the checker needs to know it. */
export interface Ledger {
  starts: StartOp[];
  terminates: TerminateOp[];
  /** node#inc that crashed (kill -9) or left: what only they held may be gone. */
  departed: Set<string>;
  /** Crashes and graceful leaves: no loss is promised for more than one. */
  destructive: number;
  /** Intruder node names (wrong secret or none): they must never become members. */
  intruders: Set<string>;
}

export function newLedger(): Ledger {
  return { starts: [], terminates: [], departed: new Set(), destructive: 0, intruders: new Set() };
}

const key = (n: SimNode) => `${n.name}#${n.inc}`;

export class Checker {
  readonly violations: Violation[] = [];
  /** Overlap is an invariant only while nothing but planned moves (joins, leaves) happen. */
  faultFree = true;
  /** partition: { quorum } of the nodes (0: 'available'). */
  quorum = 0;
  /** partition: 'majority' (N from each node's roster). */
  majority = false;
  /** Some lease holds: no overlap, ever, and nothing acknowledged without quorum. */
  private get leased(): boolean { return this.quorum > 0 || this.majority; }
  /** Called on the first violation (the runner snapshots its trace). */
  onViolation?: (v: Violation) => void;
  /**
   * Overlap checked at every step by rule instead of only before the first fault: planned moves
   * and crashes never excuse one; in `available` mode a partition-like fault does, until it ends
   * plus one sync interval plus OVERLAP_SLACK_MS; in quorum mode nothing does, except a node
   * paused or stalled beyond the documented bound (excuseNode).
   */
  overlapByRule = false;
  /** Partition-like faults in progress (available mode excuses overlap while any is). */
  private disorders = new Set<string>();
  private excusedUntil = -1;
  /**
   * node name → until when overlaps involving its instances are excused (virtual ms), and which:
   * those it started before `startedBefore`, the end of its pause. A frozen node cannot stop
   * what it ran; what it starts once it runs again it started on a view it could have checked.
   */
  private nodeExcused = new Map<string, { until: number; startedBefore: number }>();

  /** node#inc → id → nonces this node has held as the id's effective entry. */
  private held = new Map<string, Map<string, Set<number>>>();
  /** node#inc → "id/nonce" this node held and then dropped (no entry for the id at all). */
  private gone = new Map<string, Set<string>>();
  /** node#inc/id → epoch → args of the instance the node ran. */
  private instances = new Map<string, Map<number, SimArgs | undefined>>();
  /** node#inc/id → epochs the core asked to stop. */
  private stopping = new Map<string, Set<number>>();
  /** node#inc/id → times of unplanned exits, oldest first. */
  private exits = new Map<string, number[]>();
  /** id → logical times (step counts) at which an instance of the id ended for good. */
  readonly doneSteps = new Map<string, number[]>();

  constructor(private readonly world: World, private readonly ledger: Ledger) {
    world.observers.push((w, n, fx) => this.afterStep(w, n, fx));
    world.afterEffects.push((_w, n) => this.checkWakeArmed(n));
  }

  /** name#inc of members some node saw leave gracefully (member_down 'left'): off every roster. */
  private seenLeft = new Set<string>();

  /**
   * Majority mode, at quiescence: every node has the same roster; it names no intruder and no
   * member seen to leave, and nobody but live nodes and members that left unseen (their BYE
   * reached nobody: they count as crashed). Returns whether a majority of it is alive (then
   * every live node must be in it), or what is wrong.
   */
  private rosterAtQuiescence(alive: SimNode[]): boolean | string {
    const rosters = alive.map((n) => n.core.roster().sort().join(','));
    if (new Set(rosters).size > 1) return `rosters differ: ${alive.map((n, i) => `${n.name}=[${rosters[i]}]`).join(' ')}`;
    const roster = alive[0].core.roster();
    const live = new Set(alive.map((n) => n.name));
    for (const name of roster) {
      if (live.has(name)) continue;
      if (this.ledger.intruders.has(name)) return `the roster names intruder ${name}`;
      const lives = [...this.ledger.departed].filter((k) => k.startsWith(`${name}#`));
      if (lives.length === 0) return `the roster names ${name}, which is neither alive nor departed`;
      if (lives.every((k) => this.seenLeft.has(k))) return `the roster still names ${name}, which was seen to leave`;
    }
    const majority = roster.filter((x) => live.has(x)).length >= Math.floor(roster.length / 2) + 1;
    const out = alive.find((n) => !roster.includes(n.name));
    if (majority && out) return `${out.name} is alive but not in the roster [${roster.join(',')}] of a live majority`;
    return majority;
  }

  /** A partition-like fault starts (`on`) or ends; see overlapByRule. */
  disorder(what: string, on: boolean, extraMs = 0): void {
    if (on) { this.disorders.add(what); return; }
    if (!this.disorders.delete(what) && extraMs === 0) return;
    const until = this.world.now + extraMs + this.syncIntervalMs + OVERLAP_SLACK_MS;
    if (until > this.excusedUntil) this.excusedUntil = until;
  }

  /**
   * Overlaps involving `node`'s instances started before `startedBefore` (the end of its pause)
   * are excused until `untilMs` (a pause beyond the bounds). `ends`: the pause excused so far
   * (with no end yet) is over, and this excuse replaces it.
   */
  excuseNode(node: string, untilMs: number, startedBefore: number, ends = false): void {
    const was = ends ? undefined : this.nodeExcused.get(node);
    this.nodeExcused.set(node, { until: Math.max(untilMs, was?.until ?? -1), startedBefore: Math.max(startedBefore, was?.startedBefore ?? -1) });
  }

  /** The instance of `id` on `node` may overlap: started on `node` before a pause beyond the bounds ended, within its excuse. */
  private excusedInstance(node: string, id: string, now: number): boolean {
    const x = this.nodeExcused.get(node);
    if (!x || x.until < now) return false;
    return this.world.node(node).running.get(id)!.startedAt < x.startedBefore;
  }

  syncIntervalMs = 400;

  /**
   * Timer contract, after every step: a node with members must have a wake pending, or nothing
   * will make it tick when no frame arrives (a host that drops a wake it still needed never ticks again).
   */
  private checkWakeArmed(n: SimNode): void {
    if (n.timer !== 0 || !n.alive || n.left || n.members.size === 0 || this.wakeReported.has(key(n))) return;
    this.wakeReported.add(key(n));
    this.fail('liveness', `no wake pending: ${n.name} has ${n.members.size} members and no timer armed (the core asked for ${n.wakeAt}, the host's timer fired at ${n.lastStepAt})`, n.name);
  }
  private wakeReported = new Set<string>();

  /** Timer contract, sampled: a node that asked for a wake gets a tick at or after it. */
  private checkWakesHonoured(): void {
    const now = this.world.now;
    for (const n of this.world.aliveNodes()) {
      if (n.paused || n.stalled || n.left || n.wakeAt < 0 || n.lastStepAt >= n.wakeAt || now <= n.wakeAt + WAKE_LATE_MAX_MS) continue;
      if (this.wakeReported.has(key(n))) continue;
      this.wakeReported.add(key(n));
      this.fail('liveness', `${n.name} asked for a wake at ${n.wakeAt} and has not ticked since ${n.lastStepAt}`, n.name);
    }
  }

  /**
   * An acknowledged start (wait 'ack') is held by at least two members, or by the only member
   * when it is alone in available mode (DESIGN.md); in quorum mode it needs a quorum of members.
   */
  checkAckHeld(op: StartOp, n: SimNode): void {
    if (op.wait !== 'ack' || op.reply !== 'ok') return;
    const peers = n.members.size;
    const need = this.majority ? Math.floor(n.core.info().roster / 2) + 1 : this.quorum;
    if (this.leased && peers + 1 < need) {
      this.fail('durability', `${n.name} acknowledged startChild ${op.id} #${op.nonce} (request #${op.req}) with ${peers + 1} of the ${need} members its quorum needs`, n.name);
      return;
    }
    if (peers === 0) return;
    // Alone in fact: every other node has left or crashed, its BYE or its close not yet read
    // here (a stalled node reads its peer's ACK, then its BYE). No second member exists to hold
    // it, which no node can know before those frames arrive: the same as alone.
    if (!this.world.aliveNodes().some((m) => m !== n && !m.left && !this.ledger.intruders.has(m.name))) return;
    // Gone for a reason: terminated since, or its instance ended for good (temporary, transient).
    if (this.ledger.terminates.some((t) => mayRemove(t, op))) return;
    if ((this.doneSteps.get(op.id) ?? []).some((d) => d >= op.issuedStep)) return;
    // Held: another member has the start, or a start of the id this one had not observed (a
    // concurrent one that wins the id's effective entry, or a later one): the id stays desired.
    // Every live entry counts, not only the effective one: a member that has the start's entry
    // but not yet the removal of an older one this start had seen removed (the terminate is on
    // its way) still shows the older one, the greatest dot, as its spec; the start is held there.
    for (const m of this.world.aliveNodes()) {
      if (m === n || m.left || this.ledger.intruders.has(m.name)) continue;
      for (const args of m.core.specArgsOf(op.id)) {
        const there = parseArgs(args)?.nonce;
        if (there !== undefined && (there === op.nonce || !op.observed.has(there))) return;
      }
      if (this.held.get(key(m))?.get(op.id)?.has(op.nonce)) return;
    }
    this.fail('durability', `${n.name} acknowledged startChild ${op.id} #${op.nonce} (request #${op.req}${op.repeats ? `, repeating #${op.repeats}` : ''}) while no other member holds it: one crash loses it`, n.name);
  }

  /** Overlap by rule (overlapByRule): at steps that run something, and at every sample. */
  private checkOverlapByRule(): void {
    const w = this.world;
    const now = w.now;
    // An available cluster may run both sides of a partition (DESIGN.md) until it heals.
    if (!this.leased && (this.disorders.size > 0 || now <= this.excusedUntil)) return;
    for (const [id, nodes] of w.runningIds()) {
      if (nodes.length < 2 || this.overlapReported.has(id)) continue;
      if (nodes.some((x) => this.excusedInstance(x, id, now))) continue;
      // An inline child that ignores its stop cannot be forced: a majority cut off from its node
      // cannot know it still runs (outside the quorum guarantee, docs/ARCHITECTURE-faults-notes.md).
      if (this.leased && nodes.some((x) => w.node(x).running.get(id)!.unresponsive)) continue;
      const args = nodes.map((x) => w.node(x).running.get(id)!.args);
      if (this.concurrentStarts(args)) continue;
      this.overlapReported.add(id);
      const why = this.majority ? 'in majority mode' : this.quorum > 0 ? `in quorum mode (quorum ${this.quorum})` : this.faultFree ? 'during a fault-free planned move' : 'outside any partition window';
      this.fail('no-overlap', `${id} runs on ${nodes.join(' and ')} (${args.map((a) => `#${parseArgs(a)?.nonce}`).join(', ')}) ${why}`);
    }
  }

  fail(invariant: string, detail: string, node?: string): void {
    const v: Violation = node === undefined ? { invariant, detail, at: this.world.now } : { invariant, detail, at: this.world.now, node };
    if (this.violations.length === 0) this.onViolation?.(v);
    if (this.violations.length < 20) this.violations.push(v);
  }

  // ---- after every step -------------------------------------------------------------------------

  private afterStep(w: World, n: SimNode, fx: Effect[]): void {
    const k = key(n);
    // Decisions of this batch, by id (the core decides an exit in the step that reports it).
    let decided: Set<string> | undefined;
    for (const e of fx) {
      if (e.type === 'event' && (e.event.type === 'child_restarting' || e.event.type === 'child_failed')) (decided ??= new Set()).add(e.event.id);
    }
    let ran = false;
    for (const e of fx) {
      if (e.type === 'event' && e.event.type === 'member_down' && e.event.reason === 'left') this.seenLeft.add(`${e.event.name}#${e.event.incarnation}`);
      // The testing build checks the core's own consistency after every step.
      if (e.type === 'invariant') {
        this.fail('invariant', `${n.name}: ${e.message}`, n.name);
        continue;
      }
      switch (e.type) {
        case 'run': {
          ran = true;
          this.checkHandoffAccounted(n, e.id, parseArgs(e.args)?.nonce);
          const a = parseArgs(e.args);
          let m = this.instances.get(`${k}/${e.id}`);
          if (!m) this.instances.set(`${k}/${e.id}`, (m = new Map()));
          m.set(e.epoch, a);
          if (a) {
            if (this.heldAgain(k, `${e.id}/${a.nonce}`)) {
              this.fail('terminated-stays-terminated', `${n.name} runs ${e.id} (start #${a.nonce}) again after it had dropped that start`);
            }
            this.noteHeld(k, e.id, a.nonce);
          }
          break;
        }
        case 'stop': {
          let s = this.stopping.get(`${k}/${e.id}`);
          if (!s) this.stopping.set(`${k}/${e.id}`, (s = new Set()));
          s.add(e.epoch);
          break;
        }
        case 'event':
          if (e.event.type === 'handoff_failed') this.handoffsReported.add(`${e.event.id}/${e.event.epoch}`);
          this.checkPolicy(n, k, e.event, decided);
          break;
        case 'rehydrate': this.checkHandedOver(n, e); this.handoffsAccounted.set(e.id, this.world.statesGiven.get(e.id)); break;
      }
    }
    if (this.overlapByRule) {
      if (ran) this.checkOverlapByRule();
    } else if (this.faultFree) {
      for (const [id, nodes] of w.runningIds()) {
        if (nodes.length > 1 && !this.overlapReported.has(id) && !this.concurrentStarts(nodes.map((x) => w.node(x).running.get(id)!.args))) {
          this.overlapReported.add(id);
          this.fail('no-overlap', `${id} runs on ${nodes.join(' and ')} (${nodes.map((x) => `#${parseArgs(w.node(x).running.get(id)!.args)?.nonce}`).join(', ')}) during a fault-free planned move`);
        }
      }
    }
  }

  private overlapReported = new Set<string>();

  /**
   * Handoff: without faults, a moved child's new instance starts from the state its old instance
   * gave (the last one given for the id), never an older one. The simulated children do not
   * checkpoint, so every state comes from a handoff.
   */
  private checkHandedOver(n: SimNode, e: Extract<Effect, { type: 'rehydrate' }>): void {
    const got = new TextDecoder().decode(e.bytes);
    const given = this.world.statesGiven.get(e.id);
    this.handoffs++;
    if (e.source !== 'handoff') this.fail('handoff', `${n.name} starts ${e.id} from a ${e.source}, which no simulated child takes`);
    else if (this.faultFree && got !== given) this.fail('handoff', `${n.name} starts ${e.id} from state ${got}, but the last one given is ${given}`);
  }
  /** States handed over and taken up (a run's statistic). */
  handoffs = 0;

  /**
   * A moved state arrives or is reported: when a new instance of an id starts after an instance
   * whose node is still up (a planned move, no crash) gave its state, either that state was
   * rehydrated since or some node reported `handoff_failed` for the giving instance (a planned
   * move between live members: join, drain, cordon, weight). Only for a
   * new instance of the same start (a changed spec or a new start of the id begins afresh), and
   * while no fault has happened: after a partition two instances may run, and the state of the
   * one that yields can be dropped unreported (docs/SIMULATOR.md). Lost frames are tested on
   * their own (handoff.test.ts).
   */
  private checkHandoffAccounted(n: SimNode, id: string, nonce: number | undefined): void {
    const given = this.world.statesGiven.get(id);
    if (!this.faultFree || given === undefined || this.handoffsAccounted.get(id) === given) return;
    this.handoffsAccounted.set(id, given);
    // The state names its instance: `${node}#${inc}/${id}/${epoch}`.
    const m = /^(.*)#(\d+)\/.*\/(\d+)$/.exec(given);
    if (!m) return;
    const from = this.world.nodes.get(m[1]);
    // Gone since (crashed: checkpoints are the contract; or left, whose last HANDOFF can still be
    // lost with a link that closes as it goes, docs/SIMULATOR.md): only moves between live members.
    if (!from || from.inc !== Number(m[2]) || !from.alive || from.left) return;
    const giver = this.instances.get(`${m[1]}#${m[2]}/${id}`)?.get(Number(m[3]));
    if (nonce === undefined || giver?.nonce !== nonce) return;
    // The report may come a little later, from the member that gave the state (it learns of
    // the start from the claims): judged at quiescence.
    this.handoffsPending.push({ key: `${id}/${m[3]}`, detail: `${n.name} starts ${id} fresh at ${this.world.now} ms after ${m[1]} gave its state (${given}), and no node reported handoff_failed`, node: n.name });
  }

  /** At quiescence: every fresh start after a given state was reported by some node. */
  checkHandoffsAccounted(): void {
    for (const p of this.handoffsPending) if (!this.handoffsReported.has(p.key)) this.fail('handoff-accounted', p.detail, p.node);
  }
  private handoffsPending: { key: string; detail: string; node: string }[] = [];
  /** The last given state per id that a rehydrate or a run has accounted for. */
  private handoffsAccounted = new Map<string, string | undefined>();
  /** `${id}/${epoch}` of every instance whose handoff some node reported failed. */
  private handoffsReported = new Set<string>();

  /**
   * Two instances of different starts may overlap when those starts were concurrent: issued on
   * two nodes, neither having seen the other (conflicting specs of one id, each started by its
   * own owner before the other's claim arrived). A start issued after its node had seen the other
   * one came after its removal, and must wait for the release like any planned move.
   */
  private concurrentStarts(args: string[]): boolean {
    const nonces = [...new Set(args.map((a) => parseArgs(a)?.nonce))];
    if (nonces.length < 2 || nonces.includes(undefined)) return false;
    const op = (x: number | undefined) => this.ledger.starts.find((s) => s.nonce === x);
    for (let i = 0; i < nonces.length; i++) {
      for (let j = i + 1; j < nonces.length; j++) {
        const a = op(nonces[i]), b = op(nonces[j]);
        if (!a || !b || a.observed.has(b.nonce) || b.observed.has(a.nonce)) return false;
      }
    }
    return true;
  }

  private noteHeld(k: string, id: string, nonce: number): void {
    let byId = this.held.get(k);
    if (!byId) this.held.set(k, (byId = new Map()));
    let s = byId.get(id);
    if (!s) byId.set(id, (s = new Set()));
    s.add(nonce);
  }

  /**
   * Invariant 3 on every node, sampled: once a node holds no entry at all for an id, every start
   * of it that node had held is in its causal context and can never come back there (the map is
   * add-wins only for adds it has not observed). A node that held start #x, then nothing, then
   * #x again (or runs #x again) undid a remove.
   */
  sample(ids: readonly string[]): void {
    this.checkWakesHonoured();
    if (this.overlapByRule) this.checkOverlapByRule();
    for (const n of this.world.aliveNodes()) {
      if (n.paused) continue;
      const k = key(n);
      for (const id of ids) {
        const spec = n.core.specOf(id);
        const a = parseArgs(spec?.args);
        const byId = this.held.get(k)?.get(id);
        if (a === undefined) {
          if (spec !== undefined || !byId) continue;
          let g = this.gone.get(k);
          if (!g) this.gone.set(k, (g = new Set()));
          for (const nonce of byId) {
            if (g.has(`${id}/${nonce}`)) continue;
            g.add(`${id}/${nonce}`);
            this.checkRemoved(n, id, nonce);
          }
          continue;
        }
        if (this.heldAgain(k, `${id}/${a.nonce}`)) {
          this.fail('terminated-stays-terminated', `${n.name} holds ${id} (start #${a.nonce}) again after it had dropped that start`);
        }
        this.noteHeld(k, id, a.nonce);
      }
    }
  }

  /**
   * Invariant 4, during the run: a start leaves a node's state only through an operation that
   * observed it (a terminate, a newer start, the end of a temporary or transient child), and
   * every one of those is issued after it. A node that held start #x and now holds nothing for
   * the id, with no terminate or end of the id since #x was issued, lost it.
   */
  private checkRemoved(n: SimNode, id: string, nonce: number): void {
    const s = this.ledger.starts.find((x) => x.nonce === nonce);
    if (!s) return;
    if (this.ledger.terminates.some((t) => mayRemove(t, s))) return;
    if ((this.doneSteps.get(id) ?? []).some((d) => d >= s.issuedStep)) return;
    this.fail('no-loss', `${n.name} dropped ${id} (start #${nonce} on ${s.node}) though no terminate of it and no end of it came after that start`);
  }

  /**
   * An identical start issued again (a repeat or a retry) adds its spec anew: a node that had
   * dropped it may hold it again, and terminates issued before it did not remove this add.
   */
  reissued(op: StartOp): void {
    const k = `${op.id}/${op.nonce}`;
    this.reissuedKeys.add(k);
    for (const g of this.gone.values()) g.delete(k);
  }
  /**
   * "id/nonce" of starts issued again. A repeat is a new add (a new dot) of the same spec, so a
   * node that dropped the first may hold the nonce again whenever the repeat reaches it (also
   * after a terminate that had seen only the first): such a nonce no longer names one dot.
   */
  private reissuedKeys = new Set<string>();
  /** A node holds or runs a start it had dropped: a violation unless that start was issued again. */
  private heldAgain(k: string, key: string): boolean {
    const g = this.gone.get(k);
    if (!g?.has(key)) return false;
    if (!this.reissuedKeys.has(key)) return true;
    g.delete(key);
    return false;
  }

  /** Nonces of the id the node (this incarnation) has been seen to hold. */
  observedBy(n: SimNode, id: string): Set<number> {
    return new Set(this.held.get(key(n))?.get(id) ?? []);
  }

  /** Invariant 5: restarts follow the policy of the instance and its intensity. */
  private checkPolicy(n: SimNode, k: string, e: CoreEvent, decided: Set<string> | undefined): void {
    const now = this.world.now;
    switch (e.type) {
      case 'child_exited': {
        const ik = `${k}/${e.id}`;
        if (this.stopping.get(ik)?.has(e.epoch)) return; // asked to stop: no restart decision
        const a = this.instances.get(ik)?.get(e.epoch);
        if (!a) return;
        let ex = this.exits.get(ik);
        if (!ex) this.exits.set(ik, (ex = []));
        ex.push(now);
        const restarts = a.restart === 'permanent' || (a.restart === 'transient' && e.reason !== 'normal');
        if (!restarts) {
          const d = this.doneSteps.get(e.id) ?? [];
          d.push(this.world.steps);
          this.doneSteps.set(e.id, d);
        } else if (!decided?.has(e.id)) {
          this.fail('restart-policy', `${a.restart} child ${e.id} exited (${e.reason}) on ${n.name} and was neither restarted nor marked failed`);
        }
        return;
      }
      case 'child_restarting': {
        const ik = `${k}/${e.id}`;
        const ex = this.exits.get(ik) ?? [];
        const a = this.lastInstance(ik);
        if (!a) return;
        if (a.restart === 'temporary') this.fail('restart-policy', `temporary child ${e.id} restarted on ${n.name}`);
        if (a.restart === 'transient' && e.reason === 'normal') this.fail('restart-policy', `transient child ${e.id} restarted after a normal exit on ${n.name}`);
        // The core's instance has exited `restarts` times (each exit so far was restarted).
        const mine = ex.slice(Math.max(0, ex.length - e.restarts));
        const recent = mine.filter((t) => now - t < a.periodMs);
        if (recent.length > a.maxRestarts) this.fail('restart-policy', `${e.id} restarted on ${n.name} after ${recent.length} exits in ${a.periodMs} ms (max ${a.maxRestarts})`);
        return;
      }
      case 'child_failed': {
        const ik = `${k}/${e.id}`;
        const ex = this.exits.get(ik) ?? [];
        const a = this.lastInstance(ik);
        if (!a) return;
        const mine = ex.slice(Math.max(0, ex.length - (e.restarts + 1)));
        const recent = mine.filter((t) => now - t < a.periodMs);
        if (recent.length <= a.maxRestarts) this.fail('restart-policy', `${e.id} marked failed on ${n.name} after only ${recent.length} exits in ${a.periodMs} ms (max ${a.maxRestarts})`);
        return;
      }
      case 'member_up':
        if (this.ledger.intruders.has(e.name)) this.fail('authentication', `${n.name} accepted ${e.name}, a peer with a wrong or no secret, as a member`);
        return;
    }
  }

  private lastInstance(ik: string): SimArgs | undefined {
    const m = this.instances.get(ik);
    if (!m) return undefined;
    let best = -1;
    for (const ep of m.keys()) if (ep > best) best = ep;
    return m.get(best);
  }

  // ---- at quiescence ---------------------------------------------------------------------------

  /** Members that count at quiescence: alive, not left. */
  private members(): SimNode[] {
    return this.world.aliveNodes().filter((n) => !n.core.info().left);
  }

  /**
   * Invariant 1 (null when it holds): every desired, non-failed child whose kind some live
   * member advertises runs on exactly one node, with the desired spec, and that node is its
   * owner by placement over the live members; the global views agree; digests are equal.
   */
  converged(): string | null {
    const alive = this.members();
    if (alive.length === 0) return null;
    for (const n of alive) {
      const r = n.core.info();
      if (!r.ready) return `${n.name} is not ready (${r.notReadyReason})`;
      if (r.peers !== alive.length - 1) return `${n.name} sees ${r.peers} peers of ${alive.length - 1}`;
      // A member still listed but whose link is down may yet time out (its silence began in the
      // faults): not converged until every link is back.
      const off = n.core.members().find((m) => m.status !== 'up');
      if (off) return `${n.name} sees ${off.name} ${off.status}`;
    }
    const digests = new Set(alive.map((n) => n.core.digest().state));
    if (digests.size > 1) return `digests differ: ${alive.map((n) => `${n.name}=${n.core.digest().state.toString(16).slice(0, 8)}`).join(' ')}`;
    const view = alive[0].core.globalChildren();
    const other = alive[alive.length - 1].core.globalChildren();
    const fmt = (v: typeof view) => JSON.stringify([...v].sort((x, y) => (x.id < y.id ? -1 : 1)).map((c) => [c.id, c.node, c.status]));
    if (fmt(view) !== fmt(other)) return `${alive[0].name} and ${alive[alive.length - 1].name} disagree on the global view`;
    for (const [i, n] of [alive[0], alive[alive.length - 1]].entries()) {
      const kept = globalViewText(i === 0 ? view : other), scratch = globalViewText(n.core.globalChildrenScratch());
      if (kept !== scratch) {
        this.fail('global-view', `${n.name}'s kept global view differs from one computed from scratch: ${firstDifference(kept, scratch)}`, n.name);
        return `${n.name}'s global view is stale`;
      }
    }
    // Entries of kind '' are claims of children no longer desired (still stopping).
    for (const c of view) if (c.kind === '') return `${c.id} is still ${c.status} on ${c.node} but not desired`;
    const running = this.world.runningIds();
    const members = alive.map((n) => ({ name: n.name, kinds: n.opts.kinds ?? ['worker'], weight: n.opts.weight ?? 1 }));
    // Below quorum no side runs anything (DESIGN.md: a side without N live members starts none).
    // In majority mode every roster name is alive by now (crashed nodes came back, the rest left).
    let below = this.quorum > alive.length;
    if (this.majority) {
      const why = this.rosterAtQuiescence(alive);
      if (typeof why === 'string') return why;
      below = !why;
    }
    const kindsLive = new Set(below ? [] : members.flatMap((m) => m.kinds));
    for (const c of view) {
      const at = running.get(c.id) ?? [];
      if (c.status === 'failed' || !kindsLive.has(c.kind)) {
        if (at.length) return `${c.id} (${c.status}, kind ${c.kind}) runs on ${at.join(',')}`;
        if (c.status !== 'failed' && c.status !== 'pending') return `${c.id} of kind ${c.kind} nobody runs is ${c.status}`;
        continue;
      }
      if (at.length !== 1) return `${c.id} runs on ${at.length} nodes (${at.join(',')})`;
      if (c.status !== 'running' || c.node !== at[0]) return `${c.id} is ${c.status} on ${c.node} in the view but runs on ${at[0]}`;
      const owner = members[alive[0].core.place([c.id], c.kind, members).owners[0]]?.name;
      if (owner !== at[0]) return `${c.id} runs on ${at[0]} but its owner is ${owner}`;
      const node = alive.find((n) => n.name === at[0])!;
      const r = node.running.get(c.id)!;
      if (!r.started) return `${c.id} has not started on ${at[0]}`;
      const want = parseArgs(node.core.specOf(c.id)?.args)?.nonce;
      const have = parseArgs(r.args)?.nonce;
      if (want !== have) return `${c.id} runs start #${have} on ${at[0]} but start #${want} is desired`;
    }
    const desired = new Set(view.map((c) => c.id));
    for (const [id, nodes] of running) if (!desired.has(id)) return `${id} runs on ${nodes.join(',')} but is not desired`;
    return null;
  }

  /**
   * An acknowledgement that promises durability: ok, and either a second member held it, or
   * the node that acknowledged it alone is still there (no crash, no leave while alone).
   */
  private durable(op: { reply?: string; ackedWithPeers?: boolean; node: string; inc: number }): boolean {
    return op.reply === 'ok' && (op.ackedWithPeers === true || !this.ledger.departed.has(`${op.node}#${op.inc}`));
  }

  /**
   * Invariant 4, at quiescence: an acknowledged start survives one crash (or leave): its id is
   * still desired, unless a terminate of the id was issued after it (it may have observed the
   * start) or an instance of the id ended for good after it (temporary/transient).
   */
  checkNoLoss(): void {
    if (this.ledger.destructive > 1) return;
    const alive = this.members();
    if (alive.length === 0) return;
    const desired = new Set(alive[0].core.globalChildren().filter((c) => c.kind !== '').map((c) => c.id));
    for (const s of this.ledger.starts) {
      if (!this.durable(s) || desired.has(s.id)) continue;
      if (this.ledger.terminates.some((t) => mayRemove(t, s))) continue;
      if ((this.doneSteps.get(s.id) ?? []).some((d) => d >= s.issuedStep)) continue;
      this.fail('no-loss', `acknowledged start of ${s.id} (#${s.nonce} on ${s.node}) is gone`);
      return;
    }
  }

  /**
   * At quiescence, every request to a node that is still there has been answered: 'ack' always;
   * 'done' (running / stopped) when its child is running, failed or gone, and a terminate when
   * its child is gone. (A start of a child nobody can run waits, as documented; so does every
   * request in majority mode when no live majority of the roster is left.)
   */
  checkReplies(): void {
    const alive = this.members();
    if (alive.length === 0) return;
    if (this.majority && this.rosterAtQuiescence(alive) === false) return;
    const here = new Set(alive.map((n) => key(n)));
    const view = new Map(alive[0].core.globalChildren().map((c) => [c.id, c]));
    for (const op of [...this.ledger.starts, ...this.ledger.terminates]) {
      if (op.reply !== undefined || !here.has(`${op.node}#${op.inc}`)) continue;
      const what = 'nonce' in op ? `startChild ${op.id} #${op.nonce}` : `terminateChild ${op.id}`;
      const c = view.get(op.id);
      if (op.wait === 'done') {
        if ('nonce' in op ? c?.status === 'pending' : c !== undefined) {
          // A terminate that waits for its child to stop keeps covering every member until it
          // replies (terminates.ts): its child may be desired again by a later start, not by
          // one every issue of which was acknowledged before the terminate was issued.
          const revived = 'nonce' in op ? undefined : this.revivedBefore(op);
          if (revived === undefined) continue;
          this.fail('terminated-stays-terminated', `${op.node}'s ${what} (wait done, request #${op.req}) was never answered while start #${revived}, acknowledged before it was issued, is desired again`);
          return;
        }
      }
      this.fail('liveness', `${op.node}'s ${what} (wait ${op.wait}, request #${op.req}) was never answered; the child is ${c ? `${c.status} on ${c.node}` : 'gone'}`);
      return;
    }
  }

  /** The nonce of `t`'s id desired on a member, when every start with it was acknowledged before `t` was issued. */
  private revivedBefore(t: TerminateOp): number | undefined {
    for (const n of this.members()) {
      const a = parseArgs(n.core.specOf(t.id)?.args);
      if (!a) continue;
      const starts = this.ledger.starts.filter((s) => s.nonce === a.nonce);
      if (starts.length > 0 && starts.every((s) => s.reply === 'ok' && s.answeredStep !== undefined && s.answeredStep <= t.issuedStep)) return a.nonce;
    }
    return undefined;
  }

  /**
   * A start (the first or a repeat: each is its own add) the terminate may not have seen: issued
   * after it, or a repeat issued on another node (concurrent with it: add-wins keeps it).
   */
  private unseenBy(s: StartOp, t: TerminateOp): boolean {
    if (s.issuedStep > t.issuedStep) return true;
    return s.repeats !== undefined && (s.node !== t.node || s.inc !== t.inc);
  }

  /**
   * The nonces of `id` that live nodes `n` does not count as members hold (at the moment `n`
   * acknowledges a terminate of it: TerminateOp.outside).
   */
  heldOutside(n: SimNode, id: string): Set<number> {
    const counted = new Set(n.core.members().map((m) => `${m.name}#${m.incarnation}`));
    const out = new Set<number>();
    for (const m of this.world.aliveNodes()) {
      if (m === n || m.left || counted.has(key(m))) continue;
      for (const args of m.core.specArgsOf(id)) {
        const x = parseArgs(args)?.nonce;
        if (x !== undefined) out.add(x);
      }
    }
    return out;
  }

  /**
   * Invariant 3, at quiescence, causally and in real time: no start an acknowledged terminate
   * removed (one the terminating node had observed), and no start acknowledged before the
   * terminate was issued (every start with its nonce was: nothing concurrent could bring it
   * back), is desired or running anywhere; unless only nodes the terminating node did not count
   * as members held it when it acknowledged (the documented bound).
   */
  checkTerminated(): void {
    for (const t of this.ledger.terminates) {
      if (!this.durable(t)) continue;
      const before = (s: StartOp) => s.reply === 'ok' && s.answeredStep !== undefined && s.answeredStep <= t.issuedStep;
      for (const n of this.members()) {
        const spec = parseArgs(n.core.specOf(t.id)?.args);
        const run = parseArgs(n.running.get(t.id)?.args);
        for (const [what, a] of [['desired', spec], ['running', run]] as const) {
          if (!a) continue;
          if (t.observed.has(a.nonce) && !this.ledger.starts.some((s) => s.nonce === a.nonce && this.unseenBy(s, t))) {
            this.fail('terminated-stays-terminated', `${t.id} (start #${a.nonce}) is ${what} on ${n.name} although ${t.node}'s terminate, acknowledged, had observed it`);
            return;
          }
          const starts = this.ledger.starts.filter((s) => s.nonce === a.nonce);
          if (starts.length > 0 && starts.every(before) && !t.outside?.has(a.nonce)) {
            const s = starts[starts.length - 1];
            this.fail('terminated-stays-terminated', `${t.id} (start #${a.nonce}, acknowledged by ${s.node} before ${t.node}'s terminate was issued) is ${what} on ${n.name} although that terminate was acknowledged`);
            return;
          }
        }
      }
    }
  }
}

/** A global view as text, every field of every row, in id order (rows are compared as a set). */
export function globalViewText(v: readonly GlobalChildView[]): string {
  return [...v].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
    .map((c) => JSON.stringify([c.id, c.kind, c.node, c.status, c.restarts, c.reason ?? null])).join('\n');
}

function firstDifference(a: string, b: string): string {
  const x = a.split('\n'), y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return `kept ${x[i] ?? '(none)'}, scratch ${y[i] ?? '(none)'}`;
  return 'none';
}
