// partition: 'majority' on clusters with Chromium tabs behind a Node gateway, for the drivers whose
// third member is a tab (browser: all tabs; mixed3: Node, Bun, a tab): the browser form of
// scenarios-majority.ts, whose cut-off case needs members that listen behind the fault proxy,
// which tabs cannot.
// The gateway is a member like any other: it counts in every roster and its vote is needed, though
// it runs no children. Tabs that leave gracefully leave the roster, so scaling down never halts;
// a tab that hangs (its renderer SIGSTOPped: sockets open, lock held, silent) is outvoted; the
// others take its children over only after its lease has run out, and when it wakes its stall
// watch ends the old incarnation with its children before it sends anything, and it rejoins.
// Waits are conditions with deadlines.
import { describe, expect, it } from 'vitest';
import { clusterPerTest, formed } from './scenario-cluster.js';
import type { Cluster, ClusterDriver } from '../src/drivers/cluster.js';
import { waitUntil, type MemberOptions } from '../src/drivers/member-api.js';
import { FAILURE_MS, ids, lease, leaseBecomes, quorumStops, spec } from './scenarios-majority.js';

/**
 * Members a, b and c (c a tab) in majority mode, every lease held, 15 children settled on them.
 * `gateways` is the number of gateway members: hidden from the scenario, in every roster.
 */
async function threeRunning(make: (o: Partial<MemberOptions>) => Cluster): Promise<{ c: Cluster; all: string[]; gateways: number }> {
  const c = make({ partition: 'majority' });
  await c.addMany(['a', 'b', 'c']);
  expect(c.get('c').host).toBe('browser');
  const gateways = c.get('a').hidden.size;
  expect(gateways).toBe(1);
  await formed(c, 3);
  await waitUntil(async () => (await Promise.all(c.alive().map(lease))).every((l) => l.quorum && l.roster === 3 + gateways), 10000, 'every roster names the 3 members and the gateway');
  const all = ids(15);
  for (const id of all) await c.get('a').startChild(spec(id));
  await waitUntil(() => c.settled(all), 15000, 'settled on 3');
  return { c, all, gateways };
}

/** The scenarios on `driver`, whose third member is a tab. */
export function tabMajorityScenarios(driver: ClusterDriver): void {
  const make = clusterPerTest(driver, FAILURE_MS);

  describe(`conformance[${driver.name}]: partition 'majority'`, () => {
    it('3 members with a tab stop gracefully one by one: the children keep running on the rest, down to the last one, never for a lost quorum', async () => {
      const { c, all, gateways } = await threeRunning(make);
      await c.get('c').stop();
      await waitUntil(() => c.settled(all, ['a', 'b']), 15000, 'handed over to a, b');
      await leaseBecomes(c.get('a'), { quorum: true, roster: 2 + gateways }, "c's leave reaches a's roster");
      expect(await lease(c.get('a'))).toEqual({ quorum: true, roster: 2 + gateways });
      await c.get('b').stop();
      await waitUntil(() => c.settled(all, ['a']), 15000, 'handed over to a');
      // a and the gateway are the whole roster: a holds its quorum and still acknowledges.
      await leaseBecomes(c.get('a'), { quorum: true, roster: 1 + gateways }, "b's leave reaches a's roster");
      expect(await lease(c.get('a'))).toEqual({ quorum: true, roster: 1 + gateways });
      await c.get('a').startChild(spec('late'));
      await waitUntil(() => c.settled([...all, 'late'], ['a']), 15000, 'a new child on a');
      expect(quorumStops(c)).toEqual([]);
      expect(c.overlaps()).toEqual([]);
    });

    it('a hung tab (SIGSTOP) is outvoted: the others run its children; woken, it ends its old incarnation with its children before it sends anything and rejoins; each id runs once', async () => {
      const { c, all, gateways } = await threeRunning(make);
      const onC = (await c.get('c').whichChildren('local')).map((x) => x.id);
      expect(onC.length).toBeGreaterThan(0);
      const hung = c.get('c');
      const pausedAt = Date.now();
      hung.pause();
      const others = [c.get('a'), c.get('b')];
      let state = '';
      try {
        // a, b and the gateway are 3 of 4: they hold their quorum and take c's children over.
        await waitUntil(async () => {
          const ls = await Promise.all(others.map(lease));
          const local = await Promise.all(others.map((m) => m.whichChildren('local')));
          const running = new Map<string, number>();
          for (const l of local) for (const x of l) if (x.status === 'running') running.set(x.id, (running.get(x.id) ?? 0) + 1);
          state = JSON.stringify({ ls, running: [...running] });
          return ls.every((l) => l.quorum) && all.every((id) => running.get(id) === 1);
        }, 20000, 'a and b run every child');
      } catch (e) {
        throw new Error(`${(e as Error).message}; last seen ${state}`);
      } finally {
        hung.resume();
      }
      // Woken after more than its failure timeout, c may have been declared dead: before it sends
      // anything, its stall watch kills its Supervisor with the children it held and the tab rejoins
      // as a new incarnation (supervisor-worker.ts), which a and b see up again.
      const readies = () => hung.events.filter(({ event }) => event.type === 'ready').length;
      const incarnationOfC = async () => (await c.get('a').members()).find((m) => m.name === 'c' && m.status === 'up')?.incarnation;
      expect(readies()).toBe(1);
      await waitUntil(async () => readies() === 2 && (await incarnationOfC()) !== undefined && (await c.settled(all))
        && (await Promise.all(c.alive().map(lease))).every((l) => l.quorum && l.roster === 3 + gateways), 20000, 'c rejoined and the cluster converged, every lease held');
      // The wait above watched a's view of c; b learns c's new incarnation on its own link.
      await waitUntil(async () => (await c.get('b').members()).filter((m) => m.name === 'c' && m.status === 'up').length === 1, 10000, 'b shows c up once');
      const members = await c.get('b').members();
      expect(members.filter((m) => m.name === 'c' && m.status === 'up').length).toBe(1);
      // a and b never lost their quorum. By the children's own reports, the only overlaps are the
      // hung tab's: its children were frozen with it (one renderer) while a and b ran them, and they
      // ended when it woke, before its new incarnation was ready. A pause past the failure timeout is
      // outside the bound within which quorum mode promises no overlap (README, "Partitions").
      expect(quorumStops(c)).toEqual([]);
      const rejoinedAt = hung.events.filter(({ event }) => event.type === 'ready')[1].t;
      const overlaps = c.overlapSpans();
      // The lease: a and b took c's children over only once c must have stopped them had it been
      // running (its failure timeout at least, lease.ts takeoverWaitMs).
      expect(overlaps.map((o) => o.id).sort()).toEqual([...onC].sort());
      expect(overlaps.filter((o) => o.second.up < pausedAt + FAILURE_MS)).toEqual([]);
      expect(overlaps.filter((o) => o.first.node !== 'c' || !onC.includes(o.id) || !(o.first.down < rejoinedAt))).toEqual([]);
    });
  });
}
