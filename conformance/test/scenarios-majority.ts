// partition: 'majority' on real clusters, written once and run per driver (cluster-node,
// cluster-bun, cluster-mixed): members that stop gracefully leave the roster, so scaling down one
// by one never halts; a member cut off from the other two (the chaos fault proxy) stops its
// children and the two run them, never both at once. Waits are conditions with deadlines.
import { describe, it, expect, afterEach } from 'vitest';
import { clusterPerTest, formed } from './scenario-cluster.js';
import type { Cluster, ClusterDriver } from '../src/drivers/cluster.js';
import { waitUntil } from '../src/drivers/process-member.js';
import type { Member } from '../src/drivers/member-api.js';
// @ts-expect-error plain ES module without types
import { FaultProxy } from '../chaos/proxy.mjs';

/**
 * A failure timeout that two busy cores still meet (the lease stops children on silence, so a
 * starved heartbeat is a real quorum loss, not a slow test); short shutdowns, since the
 * majority's takeover waits for the longest one (lease.ts takeoverWaitMs).
 */
export const FAILURE_MS = 1500;
export const spec = (id: string) => ({ id, kind: 'worker', args: { id }, shutdownMs: 200 });
export const ids = (n: number) => Array.from({ length: n }, (_, i) => `maj-${i}`);
export type Lease = { quorum: boolean; roster: number };
export const lease = (m: Member) => m.call<Lease>('lease');
/**
 * Waits until `m`'s lease is `want`: a roster drops a member that left when its BYE reaches it,
 * on its own link, which the children settling elsewhere does not imply for every member.
 */
export const leaseBecomes = (m: Member, want: Lease, what: string) =>
  waitUntil(async () => { const l = await lease(m); return l.quorum === want.quorum && l.roster === want.roster; }, 10000, what);
/** Children some member stopped because it lost its quorum, as `member:id`. */
export const quorumStops = (c: Cluster) => c.members.flatMap((m) => m.events.filter(({ event }) => event.type === 'child_stopping' && event.why === 'quorum_lost').map(({ event }) => `${m.name}:${event.id as string}`));

export function majorityScenarios(driver: ClusterDriver): void {
  const make = clusterPerTest(driver, FAILURE_MS);
  let proxy: InstanceType<typeof FaultProxy> | undefined;
  afterEach(async () => { await proxy?.close(); proxy = undefined; });

  describe(`conformance[${driver.name}]: partition 'majority'`, () => {
    it('3 members stop gracefully one by one: the children keep running on the rest, down to the last one, never for a lost quorum', async () => {
      const c = make({ partition: 'majority' });
      await c.addMany(['a', 'b', 'c']);
      await formed(c, 3);
      await waitUntil(async () => (await Promise.all(c.alive().map(lease))).every((l) => l.quorum && l.roster === 3), 10000, 'every roster names 3');
      const all = ids(15);
      for (const id of all) await c.get('a').startChild(spec(id));
      await waitUntil(() => c.settled(all), 15000, 'settled on 3');
      await c.get('c').stop();
      await waitUntil(() => c.settled(all, ['a', 'b']), 15000, 'handed over to a, b');
      await leaseBecomes(c.get('a'), { quorum: true, roster: 2 }, "c's leave reaches a's roster");
      expect(await lease(c.get('a'))).toEqual({ quorum: true, roster: 2 });
      await c.get('b').stop();
      await waitUntil(() => c.settled(all, ['a']), 15000, 'handed over to a');
      // Alone in its roster, a is the whole cluster: it holds its quorum and still acknowledges.
      await leaseBecomes(c.get('a'), { quorum: true, roster: 1 }, "b's leave reaches a's roster");
      expect(await lease(c.get('a'))).toEqual({ quorum: true, roster: 1 });
      await c.get('a').startChild(spec('late'));
      await waitUntil(() => c.settled([...all, 'late'], ['a']), 15000, 'a new child on a');
      expect(quorumStops(c)).toEqual([]);
      expect(c.overlaps()).toEqual([]);
    });

    it('a member cut off from the other two (fault proxy) stops its children; the two run them; no id on two members at once', async () => {
      proxy = new FaultProxy();
      const port = new Map<string, number>();
      for (const name of ['a', 'b', 'c']) port.set(name, await proxy.listen(name));
      const addr = (name: string) => `ws://127.0.0.1:${port.get(name)}`;
      const c = make({ partition: 'majority' });
      for (const name of ['a', 'b', 'c']) {
        // Every link crosses the proxy: each member advertises its proxy listener.
        const m = await c.add({ name, advertise: addr(name), seeds: name === 'a' ? [] : [addr('a')] });
        proxy.setTarget(name, Number(new URL(m.boundAddress).port), m.pid);
      }
      await formed(c, 3);
      await waitUntil(async () => (await Promise.all(c.alive().map(lease))).every((l) => l.quorum && l.roster === 3), 10000, 'every roster names 3');
      const all = ids(15);
      for (const id of all) await c.get('a').startChild(spec(id));
      await waitUntil(() => c.settled(all), 15000, 'settled on 3');
      const onC = (await c.get('c').whichChildren('local')).map((x) => x.id);
      expect(onC.length).toBeGreaterThan(0);
      proxy.setLink('a', 'c', { mode: 'cut' });
      proxy.setLink('b', 'c', { mode: 'cut' });
      // c holds no quorum (1 of 3) and runs nothing; a and b (2 of 3) run every child.
      let state = '';
      await waitUntil(async () => {
        const [la, lb, lc] = await Promise.all(['a', 'b', 'c'].map((x) => lease(c.get(x))));
        const p = await c.placements();
        state = JSON.stringify({ la, lb, lc, p: [...p] });
        if (!la.quorum || !lb.quorum || lc.quorum) return false;
        if ((await c.get('c').whichChildren('local')).length > 0) return false;
        return all.every((id) => p.get(id)?.length === 1 && ['a', 'b'].includes(p.get(id)![0]));
      }, 20000, "c stopped, its children on a, b").catch((e: Error) => { throw new Error(`${e.message}; last seen ${state}`); });
      expect(quorumStops(c).filter((s) => s.startsWith('c:')).sort()).toEqual(onC.map((id) => `c:${id}`).sort());
      expect(quorumStops(c).filter((s) => !s.startsWith('c:'))).toEqual([]);
      proxy.healAll();
      await waitUntil(async () => (await c.settled(all)) && (await Promise.all(c.alive().map(lease))).every((l) => l.quorum), 20000, 'healed');
      expect(c.overlaps()).toEqual([]);
    });
  });
}
