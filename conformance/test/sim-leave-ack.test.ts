// An acknowledgement must not rest on a member that is leaving (DESIGN.md: an acknowledged
// startChild is held by at least two members; docs/SIMULATOR.md "Quorum mode", seed 268): a
// node that ACKed a start and leaves right after, or ACKs one while it leaves, must not leave
// the start held by its origin alone, where one crash loses it. And the rule that keeps it
// (leave-handover.ts) must not hold a leave back: a leave that ACKed nothing lately, or that
// cannot wait (a page being torn down), says BYE at once, and frozen members hold it only for
// the wait it was given.
import { describe, it, expect } from 'vitest';
import { Checker, newLedger, type StartOp } from '../src/sim/checker.js';
import type { World } from '../src/sim/world.js';
import { MSG } from '../src/protocol.js';
import { cluster } from './support.js';

const ZERO_JITTER = { delayMin: 5, delayMax: 5, loss: 0, dup: 0, reorder: 0 };

/** A spec no node runs ('nowhere' is advertised by none): only its desired entry matters. */
function spec(id: string, nonce: number) {
  return { id, kind: 'nowhere', args: { nonce, restart: 'permanent', maxRestarts: 3, periodMs: 5000 } };
}

/** A checker over `w` with the given quorum, and the start of `id` on `node` in its ledger. */
function checked(w: World, quorum: number) {
  const ledger = newLedger();
  const checker = new Checker(w, ledger);
  checker.quorum = quorum;
  checker.overlapByRule = true;
  const start = (node: string, id: string, nonce: number): StartOp => {
    const n = w.node(node);
    const op: StartOp = { req: 0, id, nonce, node, inc: n.inc, issuedStep: w.steps, observed: new Set(), wait: 'ack' };
    ledger.starts.push(op);
    // As run.ts does: the acknowledgement is judged once its step's effects are carried out.
    w.afterEffects.push((_w, x) => {
      if (x !== n || op.reply !== undefined) return;
      const r = n.replies.get(op.req);
      if (!r) return;
      op.reply = r.code;
      op.answeredStep = w.steps;
      op.ackedWithPeers = r.code === 'ok' && n.core.members().length > 1;
      checker.checkAckHeld(op, n);
    });
    op.req = w.startChild(node, spec(id, nonce));
    return op;
  };
  return { ledger, checker, start };
}

/** Every step after `op` is acknowledged: a live member that has not left, other than its origin, holds it. */
function watchHeld(w: World, op: StartOp): string[] {
  const lapses: string[] = [];
  w.observers.push((world) => {
    if (op.reply !== 'ok' || lapses.length > 0) return;
    const origin = world.node(op.node);
    if (!origin.alive) return;
    const holders = world.aliveNodes().filter((x) => x !== origin && !x.left && x.core.specOf(op.id) !== undefined);
    if (holders.length === 0) lapses.push(`${op.id} held by ${op.node} alone at ${world.now} ms`);
  });
  return lapses;
}

/** The leave_unconfirmed events of `name`, members in name order. */
const unconfirmed = (w: World, name: string) => w.node(name).events
  .flatMap((e) => (e.type === 'leave_unconfirmed' ? [{ ...e, members: [...e.members].sort() }] : []));

const ackSentBy = (w: World, name: string) => {
  const at = { ms: -1 };
  w.observers.push((world, n, fx) => {
    if (n.name === name && at.ms < 0 && fx.some((e) => e.type === 'send' && e.bytes[2] === MSG.ACK)) at.ms = world.now;
  });
  return at;
};

describe('a start acknowledged on the ACK of a member that leaves stays held by a member that stays', () => {
  it.each([
    ['available', 0],
    ['{ quorum: 2 }', 2],
  ] as const)('3 members, %s: a ACKs b\'s start and leaves at once, c never got it from b, b crashes: c still holds it', (_mode, quorum) => {
    const w = cluster(3, quorum ? { quorum } : {}, 268);
    w.setNet(ZERO_JITTER);
    const { checker, start } = checked(w, quorum);
    // b's DELTA to c is lost: only a's copy can reach c.
    w.block('b', 'c', false);
    const acked = ackSentBy(w, 'a');
    const op = start('b', 'x1', 1);
    const lapses = watchHeld(w, op);
    // What c holds when a says BYE (the step in which the core reports it left).
    let atBye: boolean | undefined;
    w.afterEffects.push((_w, n) => { if (n.name === 'a' && n.left && atBye === undefined) atBye = w.node('c').core.specOf('x1') !== undefined; });
    expect(w.runUntil(() => acked.ms >= 0, 100)).toBe(true);
    // Leaving right behind its ACK: LEAVING and BYE follow the ACK on a's link to b.
    w.leave('a');
    expect(w.runUntil(() => op.reply !== undefined && w.node('a').left, 3000)).toBe(true);
    expect(op.reply).toBe('ok');
    w.crash('b');
    w.heal();
    w.runFor(3000);
    expect(checker.violations.map((v) => `${v.invariant}: ${v.detail}`)).toEqual([]);
    expect(lapses).toEqual([]);
    expect(atBye, 'c holds the start when a says BYE').toBe(true);
    expect(w.node('c').core.specOf('x1')).toBeDefined();
    expect(unconfirmed(w, 'a'), 'every member that stays ACKed it before the BYE').toEqual([]);
  });

  it('3 members: a start that reaches a while it leaves is not acknowledged on a\'s ACK', () => {
    const w = cluster(3, {}, 268);
    w.setNet(ZERO_JITTER);
    const { checker, start } = checked(w, 0);
    // a's leave takes a while: it runs a child that takes 150 ms to stop.
    w.runner.shutdownTime = () => 150;
    w.startChild('a', { id: 'slow', kind: 'worker', args: { nonce: 99, restart: 'permanent', maxRestarts: 3, periodMs: 5000 }, shutdownMs: 400 });
    // Place it on a whatever the hash says: a must have something to stop.
    expect(w.runUntil(() => w.runningIds().has('slow'), 1000)).toBe(true);
    const where = w.runningIds().get('slow')![0];
    w.leave(where);
    w.runFor(20);
    expect(w.node(where).left).toBe(false);
    const [origin, other] = ['a', 'b', 'c'].filter((x) => x !== where);
    w.block(origin, other, false);
    const op = start(origin, 'x2', 2);
    const lapses = watchHeld(w, op);
    // The leaver ends its leave; the origin's start may be acknowledged only by `other`.
    expect(w.runUntil(() => w.node(where).left, 3000)).toBe(true);
    w.runFor(100);
    w.heal();
    expect(w.runUntil(() => op.reply !== undefined, 5000)).toBe(true);
    expect(op.reply).toBe('ok');
    w.crash(origin);
    w.runFor(3000);
    expect(checker.violations.map((v) => `${v.invariant}: ${v.detail}`)).toEqual([]);
    expect(lapses).toEqual([]);
    expect(w.node(other).core.specOf('x2')).toBeDefined();
  });

  it('3 members: a page torn down (handover wait 0) sends what it ACKed lately before its BYE, in the same step; b crashes the moment it acknowledges: c holds the start', () => {
    // No wait, so no round trip: b may acknowledge on a's ACK after a's BYE, while a's DELTA to c
    // is still on the wire (the checker's rule, judged at the acknowledgement, cannot see frames
    // in flight). What must hold: the start survives b's crash at that very moment.
    const w = cluster(3, {}, 268);
    w.setNet(ZERO_JITTER);
    const { start } = checked(w, 0);
    w.block('b', 'c', false);
    const acked = ackSentBy(w, 'a');
    const op = start('b', 'x3', 3);
    expect(w.runUntil(() => acked.ms >= 0, 100)).toBe(true);
    w.leave('a', 0);
    expect(w.node('a').left, 'BYE in the step of the leave').toBe(true);
    expect(unconfirmed(w, 'a'), 'the BYE went before any ACK').toEqual([{ type: 'leave_unconfirmed', members: ['b', 'c'], entries: 1 }]);
    expect(w.runUntil(() => op.reply !== undefined, 100)).toBe(true);
    expect(op.reply).toBe('ok');
    w.crash('b');
    w.heal();
    w.runFor(3000);
    expect(w.node('c').core.specOf('x3')).toBeDefined();
  });

  it('3 members: a leave that ACKed nothing lately says BYE in the step of the leave, as before the handover', () => {
    const w = cluster(3, {}, 268);
    w.setNet(ZERO_JITTER);
    const { start } = checked(w, 0);
    const op = start('b', 'x4', 4);
    expect(w.runUntil(() => op.reply === 'ok', 100)).toBe(true);
    // ACKED_LATELY_SYNC_INTERVALS (2) sync intervals (400 ms here) at least, twice that at most.
    w.runFor(4 * 400 + 50);
    w.leave('a');
    expect(w.node('a').left).toBe(true);
    expect(unconfirmed(w, 'a')).toEqual([]);
  });

  it.each([
    ['its own wait (1200 ms)', 1200],
    ['the default wait (3000 ms)', undefined],
  ] as const)('3 members: frozen members that stay hold a leave that ACKed lately for %s, not for ever', (_what, waitMs) => {
    // Silence long enough for the freeze: the frozen members are not declared down meanwhile.
    const w = cluster(3, {}, 268, { failureTimeoutMs: 20000 });
    w.setNet(ZERO_JITTER);
    const { start } = checked(w, 0);
    const acked = ackSentBy(w, 'a');
    start('b', 'x5', 5);
    expect(w.runUntil(() => acked.ms >= 0, 100)).toBe(true);
    // b has the ACK in flight; both freeze before they read anything more.
    w.pause('b');
    w.pause('c');
    const wait = waitMs ?? 3000;
    const from = w.now;
    w.leave('a', waitMs);
    w.runFor(wait - 50);
    expect(w.node('a').left, 'waits for the members that stay').toBe(false);
    expect(w.runUntil(() => w.node('a').left, 200)).toBe(true);
    expect(w.now - from).toBeGreaterThanOrEqual(wait);
    expect(unconfirmed(w, 'a')).toEqual([{ type: 'leave_unconfirmed', members: ['b', 'c'], entries: 1 }]);
    w.resume('b');
    w.resume('c');
    w.runFor(1000);
    expect(w.node('c').core.specOf('x5')).toBeDefined();
  });
});
