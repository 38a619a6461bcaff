// The simulator's message ledger (conformance/src/sim/messages.ts): which sequences of outcomes
// it takes for a problem.
import { describe, it, expect } from 'vitest';
import { MessageLedger } from '../src/sim/messages.js';
import type { World } from '../src/sim/world.js';
import { decodeFrame, encodeFrame, MSG_CALL_STOPPED, TAG_BYTES } from '../src/protocol.js';
import { cluster, runnerOf } from './support.js';

function ledger(): MessageLedger {
  const l = new MessageLedger();
  l.sent({ req: 1, from: 'a#1', id: 'c1', call: true, at: 0, deliveries: [], replied: false });
  l.delivered(1, 'b#1', true, 7);
  return l;
}

describe('simulator: message ledger', () => {
  it('takes a reply, then delivered', () => {
    const l = ledger();
    l.replied(1);
    l.status(1, 'delivered');
    expect(l.problems).toEqual([]);
    expect(l.check(() => true, false)).toEqual([]);
  });

  it('reports a reply after delivery_unknown: the core drops a late reply to a failed call', () => {
    const l = ledger();
    l.status(1, 'delivery_unknown');
    l.replied(1);
    expect(l.problems).toEqual(['call #1 to c1 was answered after it failed (delivery_unknown)']);
  });

  it('reports a reply after a failure that says the call was not delivered', () => {
    const l = ledger();
    l.status(1, 'timeout');
    l.replied(1);
    expect(l.problems).toEqual(['call #1 to c1 was answered after it failed (timeout)']);
  });

  it('reports delivery_unknown after the reply: the caller knew the call was delivered', () => {
    const l = ledger();
    l.replied(1);
    l.status(1, 'delivery_unknown');
    expect(l.problems).toEqual(['call #1 to c1 was answered, then failed (delivery_unknown)']);
  });
});

describe('simulator: message ledger, child_stopped', () => {
  const ended = () => true, runs = () => false;

  it('takes child_stopped for an instance that ended as the call\'s outcome, also in a fault-free run', () => {
    const l = ledger();
    l.status(1, 'delivered');
    l.stoppedAnswer(1, 'terminated', ended);
    expect(l.problems).toEqual([]);
    expect(l.check(() => true, true)).toEqual([]);
  });

  it('reports child_stopped while the instance it was delivered to still runs', () => {
    const l = ledger();
    l.stoppedAnswer(1, 'moved', runs);
    expect(l.problems).toEqual(['call #1 to c1 from a#1 got child_stopped (moved), but its instance 7 on b#1 still runs']);
  });

  it('reports a reply after child_stopped, and child_stopped after a reply', () => {
    const l = ledger();
    l.stoppedAnswer(1, 'crashed', ended);
    l.replied(1);
    expect(l.problems).toEqual(['call #1 to c1 was answered twice (after child_stopped crashed)']);
    const k = ledger();
    k.replied(1);
    k.stoppedAnswer(1, 'crashed', ended);
    expect(k.problems).toEqual(['call #1 to c1 from a#1 got child_stopped (crashed) after an answer']);
  });

  it('reports child_stopped for a call never delivered', () => {
    const l = new MessageLedger();
    l.sent({ req: 1, from: 'a#1', id: 'c1', call: true, at: 0, deliveries: [], replied: false });
    l.stoppedAnswer(1, 'moved', ended);
    expect(l.problems).toEqual(['call #1 to c1 from a#1 got child_stopped (moved) though it was delivered 0 times']);
  });
});

describe('simulator: a call whose instance ends before it answers fails child_stopped at once (call-stops.ts)', () => {
  const spec = { id: 'c1', kind: 'worker', args: { restart: 'permanent', maxRestarts: 3, periodMs: 5000 } };
  /** Two nodes, c1 running on one of them; the other calls it. Answers come `answerMs` after delivery. */
  function setUp(answerMs: number, shutdownMs: number): { w: World; host: string; caller: string; frames: Uint8Array[] } {
    const w = cluster(2);
    const frames: Uint8Array[] = [];
    w.observers.push((_w, _n, fx) => { for (const e of fx) if (e.type === 'send' && e.bytes[2] === MSG_CALL_STOPPED) frames.push(e.bytes); });
    w.startChild('a', spec);
    expect(w.runUntil(() => runnerOf(w, 'c1') !== undefined && [...w.runningIds().values()].every((ns) => ns.length === 1), 3000)).toBe(true);
    w.runFor(200);
    const host = runnerOf(w, 'c1')!;
    w.runner.startDelay = () => answerMs;
    w.runner.shutdownTime = () => shutdownMs;
    return { w, host, caller: host === 'a' ? 'b' : 'a', frames };
  }
  const delivered = (w: World, req: number) => w.runUntil(() => (w.messages.all.get(req)?.deliveries.length ?? 0) === 1, 2000);

  it('terminated: CALL_STOPPED at the exit, "terminated", and the answer that comes later is dropped', () => {
    const { w, caller, frames } = setUp(400, 20);
    const req = w.sendMessage(caller, 'c1', true);
    expect(delivered(w, req)).toBe(true);
    const t0 = w.now;
    w.terminateChild(caller, 'c1');
    expect(w.runUntil(() => w.messages.all.get(req)!.stopped !== undefined, 1000)).toBe(true);
    expect(w.now - t0).toBeLessThan(100);
    w.runFor(1000); // past the answer the child would have given
    const m = w.messages.all.get(req)!;
    expect({ stopped: m.stopped, replied: m.replied, status: m.status }).toEqual({ stopped: 'terminated', replied: false, status: 'delivered' });
    expect(w.messages.problems).toEqual([]);
    expect(w.messages.check(() => true, true)).toEqual([]);
    // The frame decodes as docs/PROTOCOL.md says: list<u64 callerInc, u32 req, str reason>.
    expect(frames.length).toBe(1);
    const d = decodeFrame(frames[0], TAG_BYTES);
    expect(d.type).toBe(MSG_CALL_STOPPED);
    expect(d.fields[0]).toEqual([[BigInt(w.node(caller).inc), req, 'terminated']]);
    expect(encodeFrame(d)).toEqual(frames[0].subarray(0, frames[0].length - TAG_BYTES));
  });

  it('an answer given while the child shuts down still counts: no CALL_STOPPED', () => {
    const { w, caller, frames } = setUp(100, 300);
    const req = w.sendMessage(caller, 'c1', true);
    expect(delivered(w, req)).toBe(true);
    w.terminateChild(caller, 'c1');
    w.runFor(1000);
    const m = w.messages.all.get(req)!;
    expect({ stopped: m.stopped, replied: m.replied }).toEqual({ stopped: undefined, replied: true });
    expect(frames).toEqual([]);
    expect(w.messages.problems).toEqual([]);
  });

  it('the member running it leaves: "leaving", before its BYE; the child moves and takes calls again', () => {
    const { w, host, caller } = setUp(400, 20);
    const req = w.sendMessage(caller, 'c1', true);
    expect(delivered(w, req)).toBe(true);
    w.leave(host);
    expect(w.runUntil(() => w.messages.all.get(req)!.stopped !== undefined, 1000)).toBe(true);
    expect(w.messages.all.get(req)!.stopped).toBe('leaving');
    expect(w.runUntil(() => runnerOf(w, 'c1') === caller, 3000)).toBe(true);
    w.runner.startDelay = () => 1;
    const again = w.sendMessage(caller, 'c1', true);
    expect(w.runUntil(() => w.messages.all.get(again)!.replied, 2000)).toBe(true);
    expect(w.messages.problems).toEqual([]);
    expect(w.messages.check(() => true, true)).toEqual([]);
  });

  it('a call from the member that runs the child, through the core: "terminated" too', () => {
    const { w, host } = setUp(400, 20);
    const req = w.sendMessage(host, 'c1', true);
    expect(delivered(w, req)).toBe(true);
    w.terminateChild(host, 'c1');
    expect(w.runUntil(() => w.messages.all.get(req)!.stopped !== undefined, 1000)).toBe(true);
    w.runFor(1000);
    expect(w.messages.all.get(req)!.stopped).toBe('terminated');
    expect(w.messages.problems).toEqual([]);
  });
});
