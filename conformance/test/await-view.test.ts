// The member op the cluster bench ends its steps with (member.ts awaitView / viewHeld, on a real
// Node process): it answers when the member's own view first meets pollView's condition, with the
// member's time then, and viewHeld says whether that view changed afterwards.
import { describe, it, expect, afterEach } from 'vitest';
import { Cluster, nodeDriver } from '../src/drivers/cluster.js';

const CHILDREN = 5;
const WAIT_MS = 10_000;
const SHORT_WAIT_MS = 200;

interface ViewAnswer { counts: { running: number; busy: number }; ids: string[] | null; at: number | null }

describe('awaitView (member driver)', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => { await cluster?.close(); cluster = undefined; });

  it('answers once the share runs, with the member\'s time then; viewHeld sees a later change', async () => {
    const c = (cluster = new Cluster(nodeDriver, {}));
    const [a] = await c.addMany(['a']);
    const ids = Array.from({ length: CHILDREN }, (_, i) => `v${i}`);
    const asked = Date.now();
    const answer = a.call<ViewAnswer>('awaitView', CHILDREN, WAIT_MS);
    // Asked before any child exists: the answer can only come from a look after a later step.
    for (const id of ids) await a.startChild({ id, kind: 'worker' });
    const got = await answer;
    const answered = Date.now();
    expect(got.at).not.toBeNull();
    expect(got.at!).toBeGreaterThanOrEqual(asked);
    expect(got.at!).toBeLessThanOrEqual(answered);
    expect(got.counts).toMatchObject({ running: CHILDREN, busy: 0 });
    expect([...got.ids!].sort()).toEqual(ids);
    expect(await a.call('viewHeld')).toBe(true);

    // Held, then a child stops: not held, though the wait had answered.
    const again = await a.call<ViewAnswer>('awaitView', CHILDREN, WAIT_MS);
    expect(again.at).not.toBeNull();
    await a.terminateChild('v0');
    expect(await a.call('viewHeld')).toBe(false);

    // A share it never reaches: answered at the deadline, with no time, and not held.
    const never = await a.call<ViewAnswer>('awaitView', CHILDREN + 1, SHORT_WAIT_MS);
    expect(never.at).toBeNull();
    expect(never.ids).toBeNull();
    expect(await a.call('viewHeld')).toBe(false);
  });
});
