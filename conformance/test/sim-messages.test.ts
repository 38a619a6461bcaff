// The simulator's message ledger (conformance/src/sim/messages.ts): which sequences of outcomes
// it takes for a problem.
import { describe, it, expect } from 'vitest';
import { MessageLedger } from '../src/sim/messages.js';

function ledger(): MessageLedger {
  const l = new MessageLedger();
  l.sent({ req: 1, from: 'a#1', id: 'c1', call: true, at: 0, deliveries: [], replied: false });
  l.delivered(1, 'b#1', true);
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
