// Groups (sup.publish), written once against the ClusterDriver and run per driver (cluster-node,
// cluster-bun, cluster-browser, cluster-mixed, cluster-mixed3). Real processes or tabs, real
// sockets on 127.0.0.1.
import { describe, it, expect } from 'vitest';
import { Cluster, allSupport, type ClusterDriver } from '../src/drivers/cluster.js';
import { RemoteError, waitUntil } from '../src/drivers/member-api.js';
import { received } from './scenarios-messages.js';
import { clusterPerTest, formed } from './scenario-cluster.js';

interface Published { sent: number; failed: { id: string; name: string; code: string }[] }
interface PublishStream { rounds: number; sent: number[]; failed: { id?: string; q: number; name: string }[] }

const qsOf = (c: Cluster, id: string, s: string) => (received(c).get(id) ?? []).filter((x) => x.s === s).map((x) => x.q);

export function groupScenarios(driver: ClusterDriver): void {
  const make = clusterPerTest(driver);

  describe(`conformance[${driver.name}]: groups`, () => {
    it('a publish from a member that runs none of the children reaches every child of the group once, in every isolation, and no other child', async () => {
      const c = make({ extra: { maxMessageBytes: 4096 } });
      const [a, b] = await c.addMany(['a', 'b', 'd']);
      // p runs no kind at all: every child is elsewhere.
      const p = await c.add({ name: 'p', kindNames: [] });
      await formed(c, 4);
      const kinds = allSupport(driver, 4, 'process') ? ['mailbox', 'isolated', 'forked'] : ['mailbox', 'isolated'];
      const plan: { id: string; groups: string[] }[] = [];
      for (let i = 0; i < 24; i++) {
        const groups = [['red'], ['blue'], ['red', 'blue'], []][i % 4];
        plan.push({ id: `g-${kinds[i % kinds.length]}-${i}`, groups });
      }
      for (const [i, x] of plan.entries()) await a.startChild({ id: x.id, kind: kinds[i % kinds.length], groups: x.groups });
      const all = plan.map((x) => x.id);
      await waitUntil(() => c.settled(all, ['a', 'b', 'd']), 20000, 'children running on a, b, d');
      const runners = new Set([...(await c.placements()).values()].flat());
      expect(runners.size).toBeGreaterThan(1);
      expect(runners.has('p')).toBe(false);
      const red = plan.filter((x) => x.groups.includes('red')).map((x) => x.id);
      const blue = plan.filter((x) => x.groups.includes('blue')).map((x) => x.id);

      expect(await p.call<Published>('publish', 'red', { s: 'p', q: 1 })).toEqual({ sent: red.length, failed: [] });
      expect(await p.call<Published>('publish', 'blue', { s: 'p', q: 2 })).toEqual({ sent: blue.length, failed: [] });
      expect(await p.call<Published>('publish', 'green', { s: 'p', q: 3 })).toEqual({ sent: 0, failed: [] });
      // Over maxMessageBytes: refused before anything is sent.
      const big = await p.call('publish', 'red', { s: 'p', q: 4, pad: 'x'.repeat(5000) }).then(() => null, (e: RemoteError) => e.info);
      expect(big).toMatchObject({ name: 'MessageTooLargeError', code: 'message_too_large' });
      const badName = await p.call('publish', '', { s: 'p', q: 5 }).then(() => null, (e: RemoteError) => e.info);
      expect(badName).toMatchObject({ name: 'InvalidOptionError', option: 'group' });
      // A last message from p to every child: per-sender order puts it after the publishes, so
      // once each child reports it, each has reported everything p's publishes gave it.
      await Promise.all(all.map((id) => p.call('send', id, { s: 'p', q: 9 })));
      await waitUntil(() => all.every((id) => qsOf(c, id, 'p').includes(9)), 15000, 'the last message reported by every child');
      for (const x of plan) {
        const want = [...(x.groups.includes('red') ? [1] : []), ...(x.groups.includes('blue') ? [2] : []), 9];
        expect(qsOf(c, x.id, 'p'), x.id).toEqual(want);
      }
      // Every member finds the same group: a publish from a runner reaches the same children.
      expect(await b.call<Published>('publish', 'blue', { s: 'b', q: 7 })).toEqual({ sent: blue.length, failed: [] });
    });

    it('a steady publisher loses nothing and duplicates nothing while children of the group move to a joining member, in order', async () => {
      const c = make();
      const [a, b] = await c.addMany(['a', 'b']);
      await formed(c, 2);
      const all = Array.from({ length: 16 }, (_, i) => `mv-${i}`);
      for (const [i, id] of all.entries()) await a.startChild({ id, kind: i % 2 ? 'isolated' : 'mailbox', groups: ['movers'] });
      await b.startChild({ id: 'outsider', kind: 'mailbox', groups: ['others'] });
      await waitUntil(() => c.settled([...all, 'outsider']), 15000, 'children running on a, b');
      const count = 100;
      const stream = a.call<PublishStream>('publishStream', 'movers', count, 10, true);
      await new Promise((r) => setTimeout(r, 300));
      const d = await c.add({ name: 'd' });
      await waitUntil(() => [...received(c).values()].some((list) => list.some((x) => x.node === 'd')), 15000, 'messages taken on d');
      await a.call('streamStop');
      const r = await stream;
      expect(r.failed).toEqual([]);
      expect(r.rounds).toBeGreaterThanOrEqual(count);
      expect(r.sent).toEqual(Array.from({ length: r.rounds }, () => all.length));
      await waitUntil(() => all.every((id) => qsOf(c, id, 'a').length >= r.rounds), 15000, 'every message reported');
      let moved = 0;
      for (const id of all) {
        expect(qsOf(c, id, 'a'), id).toEqual(Array.from({ length: r.rounds }, (_, i) => i));
        if (new Set((received(c).get(id) ?? []).map((x) => x.node)).size > 1) moved++;
      }
      expect(moved).toBeGreaterThan(0);
      expect(received(c).get('outsider')).toBeUndefined();
      expect((await d.whichChildren('local')).length).toBeGreaterThan(0);
      expect(c.overlaps()).toEqual([]);
    });
  });
}
