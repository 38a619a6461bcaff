// The member side of a cluster bench step's end (drivers/view-wait.ts): when the wait says the
// condition began to hold, and when it says it did not hold throughout.
import { describe, it, expect } from 'vitest';
import { ViewWait, upMembersKey, viewHolds, type ViewMemberRow } from '../src/drivers/view-wait.js';

const row = (name: string, status = 'up', weight = 1, kinds = ['worker']): ViewMemberRow => ({ name, status, weight, kinds });
const three = [row('n1'), row('n3'), row('n4')];
const key3 = () => upMembersKey(three);

describe('awaitView condition (view-wait.ts)', () => {
  it('is pollView\'s: exactly the share running and nothing starting or stopping', () => {
    expect(viewHolds(3394, 0, 3394)).toBe(true);
    expect(viewHolds(3393, 0, 3394)).toBe(false);
    expect(viewHolds(3395, 0, 3394)).toBe(false);
    expect(viewHolds(3394, 1, 3394)).toBe(false);
    expect(viewHolds(0, 0, 0)).toBe(true);
  });

  it('keeps the time of the first look at which it held, not a later one', () => {
    const w = new ViewWait(10, []);
    expect(w.observe(8, 2, key3, 100)).toBe(false);
    expect(w.since).toBeUndefined();
    expect(w.observe(10, 0, key3, 130)).toBe(true);
    expect(w.observe(10, 0, key3, 170)).toBe(false);
    expect(w.since).toBe(130);
    expect(w.held).toBe(true);
  });

  it('is broken by a later look where a child starts or stops, even if the count comes back', () => {
    const w = new ViewWait(10, []);
    w.observe(10, 0, key3, 100);
    w.observe(10, 1, key3, 110);
    w.observe(10, 0, key3, 120);
    expect(w.since).toBe(100);
    expect(w.held).toBe(false);
  });

  it('is broken when the up members change while the count holds', () => {
    const w = new ViewWait(10, []);
    w.observe(10, 0, key3, 100);
    w.observe(10, 0, () => upMembersKey([row('n1'), row('n3'), row('n4', 'disconnected')]), 110);
    expect(w.held).toBe(false);
    const v = new ViewWait(10, []);
    v.observe(10, 0, key3, 100);
    v.observe(10, 0, () => upMembersKey([row('n1'), row('n3'), row('n4', 'up', 2)]), 110);
    expect(v.held).toBe(false);
  });

  it('is worth a look only when the ids its events say are running number the share', () => {
    const w = new ViewWait(3, ['a']);
    expect(w.mayHold).toBe(false);
    w.started('b');
    w.started('b');
    expect(w.mayHold).toBe(false);
    w.started('c');
    expect(w.mayHold).toBe(true);
    w.started('d');
    expect(w.mayHold).toBe(false);
    w.left('a');
    expect(w.mayHold).toBe(true);
    w.left('x');
    expect(w.mayHold).toBe(true);
    expect(new ViewWait(2, ['a', 'b', 'c']).mayHold).toBe(false);
    w.observe(3, 0, key3, 100);
    expect(w.mayHold).toBe(false);
  });

  it('after it held, any local child event or a change of the up members is a break', () => {
    const a = new ViewWait(2, ['a']);
    a.left('z');
    a.started('b');
    a.observe(2, 0, key3, 100);
    expect(a.held).toBe(true);
    a.membersLook(key3);
    expect(a.held).toBe(true);
    a.started('c');
    expect(a.held).toBe(false);
    const b = new ViewWait(2, ['a', 'b']);
    b.observe(2, 0, key3, 100);
    b.left('a');
    expect(b.held).toBe(false);
    const m = new ViewWait(2, ['a', 'b']);
    m.observe(2, 0, key3, 100);
    m.membersLook(() => upMembersKey([row('n1'), row('n3')]));
    expect(m.held).toBe(false);
  });

  it('never held: not held', () => {
    const w = new ViewWait(10, []);
    w.observe(9, 0, key3, 100);
    expect(w.held).toBe(false);
  });

  it('compares the up members in one order, without the members that are not up', () => {
    expect(upMembersKey([row('n4'), row('n1'), row('n3'), row('n2', 'down')])).toBe(upMembersKey(three));
    expect(upMembersKey([row('n1', 'up', 1, ['b', 'a'])])).toBe(upMembersKey([row('n1', 'up', 1, ['a', 'b'])]));
  });
});
