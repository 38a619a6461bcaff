// Cordon, drain and weights on real clusters, written once and run per driver (cluster-node,
// cluster-bun, cluster-mixed). Real processes and sockets; waits are conditions with deadlines.
import { describe, it, expect } from 'vitest';
import { clusterPerTest, formed } from './scenario-cluster.js';
import { Cluster, type ClusterDriver } from '../src/drivers/cluster.js';
import { RemoteError, waitUntil, type Member } from '../src/drivers/member-api.js';

const FAILURE_MS = 600;
const spec = (id: string, kind = 'worker') => ({ id, kind, args: { id } });
const ids = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => `${p}-${i}`);

/** Starts of each id on any member since `marks` (the members' event counts when taken). */
function startsSince(c: Cluster, marks: Map<Member, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of c.members) {
    for (const { event } of m.events.slice(marks.get(m) ?? 0)) {
      if (event.type === 'child_started') out.set(event.id as string, (out.get(event.id as string) ?? 0) + 1);
    }
  }
  return out;
}
const mark = (c: Cluster) => new Map(c.members.map((m) => [m, m.events.length]));
const on = (p: Map<string, string[]>, list: string[], name: string) => list.filter((id) => p.get(id)?.[0] === name);

export function cordonScenarios(driver: ClusterDriver): void {
  const make = clusterPerTest(driver, FAILURE_MS);
  const startAll = async (c: Cluster, list: string[]) => {
    await c.get('a').call('startMany', list.map((id) => spec(id)));
    await waitUntil(() => c.settled(list), 20000, `${list.length} children settled`);
  };

  describe(`conformance[${driver.name}]: cordon, drain, weights`, () => {
    it('weights: a weight-3 member runs about 3x the children of a weight-1 member (within 25 %); setWeight at run time moves children to it', async () => {
      const c = make();
      await c.add({ name: 'a', weight: 1 });
      await c.add({ name: 'b', weight: 3 });
      await c.add({ name: 'c', weight: 1 });
      await formed(c, 3);
      const all = ids(300);
      await startAll(c, all);
      const p = await c.placements();
      const ratio = on(p, all, 'b').length / ((on(p, all, 'a').length + on(p, all, 'c').length) / 2);
      expect(ratio).toBeGreaterThan(3 * 0.75);
      expect(ratio).toBeLessThan(3 * 1.25);
      const onA = on(p, all, 'a').length;
      await c.get('a').setWeight(3);
      await waitUntil(async () => (await c.get('c').members()).find((m) => m.name === 'a')?.weight === 3, 10000, 'c learns a weighs 3');
      await waitUntil(async () => (await c.settled(all)) && on(await c.placements(), all, 'a').length > onA * 1.5, 20000, 'children move to a');
      const after = await c.placements();
      for (const id of all) if (after.get(id)![0] !== p.get(id)![0]) expect(after.get(id)![0]).toBe('a');
      expect(c.overlaps()).toEqual([]);
    });

    it('cordon: new children avoid the member, its children stay, every member shows it; uncordon', async () => {
      const c = make();
      await c.addMany(['a', 'b', 'c']);
      await formed(c, 3);
      const old = ids(30, 'old');
      await startAll(c, old);
      const before = await c.placements();
      await c.get('c').cordon('b');
      // cordon resolves once b applies it; the others learn the table from c on their own link.
      for (const m of c.alive()) {
        await waitUntil(async () => (await m.members()).find((x) => x.name === 'b')?.state === 'cordoned', 10000, `${m.name} shows b cordoned`);
      }
      const fresh = ids(30, 'new');
      await startAll(c, fresh);
      const p = await c.placements();
      expect(on(p, fresh, 'b')).toEqual([]);
      for (const id of old) expect(p.get(id)).toEqual(before.get(id));
      await c.get('a').uncordon('b');
      await waitUntil(async () => on(await c.placements(), fresh, 'b').length > 0 && (await c.settled([...old, ...fresh])), 20000, 'children back on b');
      expect(c.overlaps()).toEqual([]);
    });

    it('drain: every child leaves the member, at most maxParallel at once, none twice, no overlap; the state is shown', async () => {
      const c = make();
      await c.addMany(['a', 'b', 'c']);
      await formed(c, 3);
      const all = ids(40);
      await startAll(c, all);
      const before = await c.placements();
      const onB = on(before, all, 'b');
      expect(onB.length).toBeGreaterThan(3);
      const m0 = mark(c);
      const done = c.get('a').drain('b', { maxParallel: 3, deadlineMs: 20000 });
      await waitUntil(async () => (await c.get('c').members()).find((x) => x.name === 'b')?.state === 'draining', 10000, 'c shows b draining');
      await done;
      expect((await c.get('b').whichChildren('local')).length).toBe(0);
      await waitUntil(() => c.settled(all), 10000, 'drained children running');
      const after = await c.placements();
      for (const id of all) expect(after.get(id)).toHaveLength(1);
      const starts = startsSince(c, m0);
      for (const id of all) expect([id, starts.get(id) ?? 0]).toEqual([id, onB.includes(id) ? 1 : 0]);
      // At most 3 moving at any moment, as b saw it: stopped there, and not yet claimed by another member.
      let moving = 0, most = 0, stops = 0;
      for (const { event } of c.get('b').events.slice(m0.get(c.get('b')))) {
        if (event.type === 'child_stopping') { moving++; stops++; most = Math.max(most, moving); }
        if (event.type === 'child_moved' && event.from === 'b') moving--;
      }
      expect(stops).toBe(onB.length);
      expect(most).toBeLessThanOrEqual(3);
      expect(c.overlaps()).toEqual([]);
    });

    it('drain: a child no other member can run stays, and the drain rejects at its deadline with DrainTimeoutError', async () => {
      const c = make();
      await c.add({ name: 'a' });
      await c.add({ name: 'b', kindNames: ['finisher'] });
      await formed(c, 2);
      await c.get('a').startChild(spec('solo'), { wait: 'running' });
      const err = await c.get('b').drain('a', { deadlineMs: 1500 }).then(() => null, (e: RemoteError) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect(err!.info).toMatchObject({ name: 'DrainTimeoutError', code: 'drain_timeout' });
      expect((await c.get('a').whichChildren('local')).map((x) => x.id)).toContain('solo');
    });

    it('a rolling drain of every member (drain, uncordon, next) moves each child at most once per drain and once per uncordon', async () => {
      const c = make();
      await c.addMany(['a', 'b', 'c']);
      await formed(c, 3);
      const all = ids(30);
      await startAll(c, all);
      for (const name of ['a', 'b', 'c']) {
        const home = await c.placements();
        const mine = on(home, all, name);
        let m0 = mark(c);
        await c.get(name === 'a' ? 'b' : 'a').drain(name, { maxParallel: 4, deadlineMs: 20000 });
        await waitUntil(() => c.settled(all), 10000, 'drained children running');
        let starts = startsSince(c, m0);
        for (const id of all) expect([id, starts.get(id) ?? 0]).toEqual([id, mine.includes(id) ? 1 : 0]);
        m0 = mark(c);
        await c.get(name).uncordon(name);
        await waitUntil(async () => on(await c.placements(), all, name).length === mine.length && (await c.settled(all)), 20000, `children back on ${name}`);
        starts = startsSince(c, m0);
        for (const id of all) expect([id, starts.get(id) ?? 0]).toEqual([id, mine.includes(id) ? 1 : 0]);
      }
      expect(c.overlaps()).toEqual([]);
    });
  });
}
