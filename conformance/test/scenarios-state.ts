// The state scenarios: a child's state follows it when it moves (handoff on a planned move,
// checkpoints after a kill -9), in every isolation, run per driver like scenarios.ts. The
// counter (fixtures/counter-child.mjs) reports what each instance started from and what it gave,
// so each check compares the state a new instance got with the one its old instance handed over.
import { describe, it, expect } from 'vitest';
import { allSupport, type Cluster, type ClusterDriver } from '../src/drivers/cluster.js';
import { waitUntil, type Member } from '../src/drivers/member-api.js';
import { clusterPerTest, formed, FAILURE_MS } from './scenario-cluster.js';
import { placementOf } from '../bench/placement-reference.mjs';

/** How often the checkpointing counters count (and checkpoint), and how many times. */
const CHECKPOINT_EVERY_MS = 20;
const CHECKPOINTS = 10;
/** The payload of the large states handed over on a graceful leave (the handoff bench's size). */
const LARGE_STATE_BYTES = 1 << 20;
/** How long the receivers stay frozen after the leaver's BYE: past SHUTDOWN_DRAIN_MS, within BYE_READ_WAIT_MS. */
const PAUSED_WINDOW_MS = 1500;
/** failureTimeoutMs of that scenario: the frozen members are not taken for dead meanwhile. */
const PAUSED_FAILURE_MS = 5000;

interface Up { n0: number; source?: 'handoff' | 'checkpoint'; from?: string; version?: number }

/** The data of child `id`'s events called `name` on a member, in order. */
function reports<T>(m: Member, id: string, name: string): T[] {
  return m.events.filter(({ event: e }) => e.type === 'child_event' && e.id === id && e.name === name).map(({ event: e }) => e.data as T);
}

export function stateScenarios(driver: ClusterDriver): void {
  const make = clusterPerTest(driver);
  // A tab has no processes: with one among the first three members, no process counters.
  const KINDS = ['counter', 'counter-worker', ...(allSupport(driver, 3, 'process') ? ['counter-process'] : [])];

  /** Eight counters of each kind, started from `m`, running. */
  const counters = async (m: Member, args: Record<string, unknown> = {}) => {
    const all = KINDS.flatMap((kind) => Array.from({ length: 8 }, (_, i) => ({ id: `${kind}-${i}`, kind })));
    await Promise.all(all.map((s) => m.startChild({ ...s, args }, { wait: 'running' })));
    return all;
  };
  const runners = async (c: Cluster, ids: string[]) => { const p = await c.placements(); return new Map(ids.map((id) => [id, p.get(id)![0]])); };

  /**
   * Every child that moved from `from` to `to` started from exactly the state its old instance gave,
   * each time it gave one (a loaded machine may move it there and back before it settles).
   */
  const handedOver = (from: Member, to: Member, moved: string[]) => {
    for (const id of moved) {
      const gave = reports<{ n: number }>(from, id, 'gave');
      const ups = reports<Up>(to, id, 'up');
      const failed = [from, to].flatMap((m) => m.events).find(({ event: e }) => e.type === 'handoff_failed' && e.id === id)?.event;
      expect(gave.length, `${id} gave its state`).toBeGreaterThan(0);
      for (const g of gave) expect({ ...ups.find((u) => u.n0 === g.n) ?? ups.at(-1)!, failed }, `${id} started on ${to.name} from ${g.n}`).toMatchObject({ source: 'handoff', from: from.name, version: 1, n0: g.n, failed: undefined });
    }
  };

  describe(`conformance[${driver.name}]: state handoff and checkpoints`, () => {
    it('a counter moved by a join starts from the state its old instance gave (inline, worker, process)', async () => {
      const c = make();
      const a = await c.add({ name: 'a' });
      const all = (await counters(a)).map((s) => s.id);
      const b = await c.add({ name: 'b' });
      await formed(c, 2);
      await waitUntil(async () => (await c.settled(all)) && (await b.whichChildren('local')).length > 0, 20000, 'rebalance to b');
      const moved = [...(await runners(c, all))].filter(([, node]) => node === 'b').map(([id]) => id);
      for (const kind of KINDS) expect(moved.some((id) => id.startsWith(`${kind}-`)), `some ${kind} moved`).toBe(true);
      await waitUntil(() => moved.every((id) => reports(b, id, 'up').length > 0), 10000, 'moved counters reported up');
      // a is still running, and its reports of what the counters gave travel apart from b's (a tab batches them).
      await waitUntil(() => moved.every((id) => reports(a, id, 'gave').length > 0), 10000, 'the old instances reported what they gave');
      handedOver(a, b, moved);
      expect(moved.every((id) => reports<{ n: number }>(a, id, 'gave')[0].n > 0), 'the counters had counted').toBe(true);
      expect(c.overlaps()).toEqual([]);
    });

    it('a graceful leave hands each counter\'s state to the member that takes it over', async () => {
      const c = make();
      const [a, b] = await c.addMany(['a', 'b']);
      await formed(c, 2);
      const all = (await counters(a)).map((s) => s.id);
      await waitUntil(() => c.settled(all), 20000, 'settled');
      const onB = [...(await runners(c, all))].filter(([, node]) => node === 'b').map(([id]) => id);
      expect(onB.length).toBeGreaterThan(0);
      await b.stop();
      await waitUntil(() => c.settled(all, ['a']), 20000, 'handed over to a');
      await waitUntil(() => onB.every((id) => reports<Up>(a, id, 'up').length > 0), 10000, 'counters up on a');
      handedOver(b, a, onB);
      expect(c.overlaps()).toEqual([]);
    });

    it('a member that joined and leaves gracefully hands over 1 MiB states before it exits (no handoff_failed)', async () => {
      // Silence long enough for the pause below, not taken for a failure.
      const c = make({ failureTimeoutMs: PAUSED_FAILURE_MS });
      const [a] = await c.addMany(['a', 'b']);
      await formed(c, 2);
      // Ids the documented placement gives to j once it joins (they move there, then back).
      const owner = placementOf(['a', 'b', 'j'].map((name) => ({ name, weight: 1, kinds: ['counter'] })));
      const ids = Array.from({ length: 64 }, (_, i) => `big-${i}`).filter((id) => owner(id, 'counter') === 'j').slice(0, 3);
      await Promise.all(ids.map((id) => a.startChild({ id, kind: 'counter', args: { bytes: LARGE_STATE_BYTES, everyMs: 50 } }, { wait: 'running' })));
      const j = await c.add({ name: 'j' });
      await formed(c, 3);
      await waitUntil(() => c.settled(ids, ['j']), 20000, 'moved to j');
      await waitUntil(() => ids.every((id) => reports(j, id, 'up').length > 0), 10000, 'counters up on j');
      // The members that take the states over are frozen while j leaves: its last frames wait in
      // the kernel's buffers. j must not end (and its sockets close) before they have read them.
      const others = c.alive().filter((m) => m !== j);
      for (const m of others) m.pause();
      let ended = false;
      const stopped = j.stop().then(() => { ended = true; });
      try {
        await waitUntil(() => j.events.some(({ event: e }) => e.type === 'left'), 10000, 'j said BYE');
        // An observation window (nothing may happen in it): longer than a transport's own drain.
        await Promise.race([stopped, new Promise((r) => setTimeout(r, PAUSED_WINDOW_MS))]);
        expect(ended, 'j ended while the members it handed its states to had not read them').toBe(false);
      } finally {
        for (const m of others) m.resume();
      }
      await stopped;
      await waitUntil(() => c.settled(ids, ['a', 'b']), 20000, 'handed back to a and b');
      const after = await runners(c, ids);
      for (const m of others) {
        const moved = ids.filter((id) => after.get(id) === m.name);
        await waitUntil(() => moved.every((id) => reports(m, id, 'up').length > 0), 10000, `counters up on ${m.name}`);
        handedOver(j, m, moved);
        for (const id of moved) expect(reports<{ bytes: number }>(m, id, 'up').at(-1)!.bytes, `${id} carried its payload`).toBeGreaterThan(LARGE_STATE_BYTES);
      }
      expect(c.overlaps()).toEqual([]);
    });

    it('after kill -9 of its node, a counter starts from its last checkpoint on the member next in line', async () => {
      const c = make();
      const [a] = await c.addMany(['a', 'b', 'c']);
      await formed(c, 3);
      const all = (await counters(a, { checkpoint: true, everyMs: CHECKPOINT_EVERY_MS, counts: CHECKPOINTS })).map((s) => s.id);
      const probes = Array.from({ length: 16 }, (_, i) => `probe-${i}`);
      await Promise.all(probes.map((id) => a.startChild({ id, kind: 'mailbox', args: {} }, { wait: 'running' })));
      await waitUntil(() => c.settled([...all, ...probes]), 20000, 'settled');
      const before = await runners(c, [...all, ...probes]);
      // No overlap before the kill, unless a stalled member was taken for dead (reason timeout):
      // available mode runs both sides of such a partition until it heals (DESIGN.md).
      const falseDowns = c.members.flatMap((m) => m.events.filter(({ event: e }) => e.type === 'member_down' && e.reason === 'timeout').map(({ event: e }) => `${m.name}: ${e.name}`));
      if (falseDowns.length === 0) expect(c.overlaps(), 'no overlap before the kill').toEqual([]);
      const victim = c.get('b');
      const orphans = all.filter((id) => before.get(id) === 'b');
      expect(orphans.length).toBeGreaterThan(0);
      await waitUntil(() => orphans.every((id) => reports(victim, id, 'checkpointed').length === CHECKPOINTS), 10000, 'checkpoints taken');
      // A call from the victim answered by a child on each other member: that member has handled
      // every frame the victim sent it before (a link delivers in order), the checkpoints among them.
      // Without it a kill -9 may cut off what a busy receiver had not read yet.
      for (const m of c.alive().filter((x) => x !== victim)) {
        const probe = probes.find((id) => before.get(id) === m.name);
        expect(probe, `a probe runs on ${m.name}`).toBeDefined();
        await victim.call('call', probe, { op: 'echo', v: 'after the checkpoints' });
      }
      const killedAt = Date.now(); // the children's clock (fixtures/shared-clock.mjs)
      await victim.kill();
      await waitUntil(() => c.settled(all), FAILURE_MS + 10000, 'failover');
      // The first instance after the kill (on a loaded machine it may move again, with a handoff).
      const firstUp = (id: string) => c.alive().flatMap((m) => reports<Up & { t: number }>(m, id, 'up')).filter((u) => u.t > killedAt).sort((x, y) => x.t - y.t)[0];
      for (const id of orphans) {
        await waitUntil(() => firstUp(id) !== undefined, 5000, `${id} up again`);
        const history = c.members.flatMap((m) => reports<Up & { t: number }>(m, id, 'up').map((u) => `${m.name} +${Math.round(u.t - killedAt)} ms: ${u.source ?? 'fresh'} ${u.from ?? ''} ${u.n0}`));
        expect(firstUp(id), `${id} (instances: ${history.join('; ')})`).toMatchObject({ source: 'checkpoint', from: 'b', version: 1, n0: CHECKPOINTS });
      }
    });

    it('a dehydrate that throws or outlives handoffTimeoutMs: the counter starts fresh and handoff_failed says why', async () => {
      const c = make({ extra: { handoffTimeoutMs: 300 } });
      const a = await c.add({ name: 'a' });
      const specs = ['throw', 'hang'].flatMap((mode) => Array.from({ length: 8 }, (_, i) => ({ id: `${mode}-${i}`, kind: i % 2 ? 'counter-worker' : 'counter', args: { dehydrate: mode } })));
      await Promise.all(specs.map((s) => a.startChild(s, { wait: 'running' })));
      const all = specs.map((s) => s.id);
      const b = await c.add({ name: 'b' });
      await formed(c, 2);
      // The counters that move are asked for their state in one step, and each reports it.
      const asked = () => all.filter((id) => reports(a, id, 'asked').length > 0);
      await waitUntil(() => asked().length > 0, 20000, 'counters asked for their state');
      await waitUntil(async () => (await c.settled(all)) && [...(await runners(c, asked())).values()].every((node) => node === 'b'), 20000, 'moved to b');
      const moved = asked();
      for (const mode of ['throw', 'hang']) expect(moved.some((id) => id.startsWith(mode)), `some ${mode} counter moved`).toBe(true);
      for (const id of moved) {
        // asked() is read again after the wait: a worker counter's report of the ask may have come
        // after the look that ended it, while its handoff still waits out handoffTimeoutMs.
        await waitUntil(() => a.events.some(({ event: e }) => e.type === 'handoff_failed' && e.id === id), 5000, `${id}'s handoff_failed on a`);
        const failed = a.events.find(({ event: e }) => e.type === 'handoff_failed' && e.id === id)?.event;
        expect(failed, id).toMatchObject({ reason: id.startsWith('throw') ? 'dehydrate_failed' : 'timeout', to: 'b' });
        if (id.startsWith('throw')) expect(failed!.message).toBe('cannot dehydrate');
        await waitUntil(() => reports(b, id, 'up').length > 0, 5000, `${id} up on b`);
        expect(reports<Up>(b, id, 'up').at(-1), id).toMatchObject({ n0: 0 });
        expect(reports<Up>(b, id, 'up').at(-1)!.source, id).toBeUndefined();
      }
      expect(c.overlaps()).toEqual([]);
    });
  });
}
