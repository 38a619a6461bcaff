// The conformance scenarios, written once against the ClusterDriver and run per driver
// (cluster-node, cluster-bun, cluster-mixed, cluster-browser, cluster-mixed3). Real processes and
// Chromium tabs, real sockets on 127.0.0.1, real signals. Waits are conditions with deadlines, sized for a loaded 2-core machine.
import { describe, it, expect } from 'vitest';
import WebSocket from 'ws';
import { allSupport, type ClusterDriver } from '../src/drivers/cluster.js';
import { RemoteError, waitUntil } from '../src/drivers/member-api.js';
import { clusterPerTest, formed, FAILURE_MS } from './scenario-cluster.js';
const spec = (id: string, kind = 'worker', extra: Record<string, unknown> = {}) => ({ id, kind, args: { id }, ...extra });
const ids = (n: number, p = 'c') => Array.from({ length: n }, (_, i) => `${p}-${i}`);

export function scenarios(driver: ClusterDriver): void {
  const make = clusterPerTest(driver);

  describe(`conformance[${driver.name}]: Pogo's scenarios`, () => {
    it('runs each member on the runtime the driver names, all in one cluster', async () => {
      const c = make();
      const ms = await c.addMany(['a', 'b', 'c', 'd']);
      await formed(c, 4);
      for (const [i, m] of ms.entries()) expect(await m.call('runtime')).toBe(driver.hostFor(i));
    });

    it('a child started from two nodes runs once', async () => {
      const c = make();
      const [a, b] = await c.addMany(['a', 'b', 'c']);
      await formed(c, 3);
      await Promise.all([a.startChild(spec('x')), b.startChild(spec('x'))]);
      await waitUntil(() => c.settled(['x']), 10000, 'x runs once');
      expect((await c.placements()).get('x')).toHaveLength(1);
    });

    it('terminates a child from a node that does not run it', async () => {
      const c = make();
      await c.addMany(['a', 'b', 'c']);
      await formed(c, 3);
      await c.get('a').startChild(spec('x'), { wait: 'running' });
      const runner = (await c.placements()).get('x')![0];
      const other = c.alive().find((m) => m.name !== runner)!;
      await other.terminateChild('x', { wait: 'stopped' });
      expect((await c.placements()).has('x')).toBe(false);
      // 'stopped' is the terminating member's view; the others learn the release on their own links.
      for (const m of c.alive()) {
        await waitUntil(async () => !(await m.whichChildren('global')).some((g) => g.id === 'x'), 10000, `${m.name}'s global view drops x`);
      }
    });

    it('restarts a crashed child and the global view shows the new instance', async () => {
      const c = make();
      const [a] = await c.addMany(['a', 'b']);
      await formed(c, 2);
      await a.startChild({ id: 'x', kind: 'crasher', args: { ms: 100 }, maxRestarts: 100, periodMs: 1000 });
      await waitUntil(async () => (await a.whichChildren('global')).some((g) => g.id === 'x' && g.restarts >= 1), 10000, 'a restart');
      // a's view is its own when x runs on a; b learns the restart from a's report, on its own link.
      await waitUntil(async () => ((await c.get('b').whichChildren('global')).find((x) => x.id === 'x')?.restarts ?? 0) >= 1, 10000, "b's global view shows the restart");
      const g = (await c.get('b').whichChildren('global')).find((x) => x.id === 'x')!;
      expect(g.restarts).toBeGreaterThanOrEqual(1);
    });

    it('moves children to a joining node, and back when it leaves, without overlap', async () => {
      const c = make();
      const [a] = await c.addMany(['a', 'b']);
      await formed(c, 2);
      const all = ids(30);
      for (const id of all) await a.startChild(spec(id));
      await waitUntil(() => c.settled(all), 15000, 'children settled on a, b');
      const d = await c.add({ name: 'd' });
      await formed(c, 3);
      await waitUntil(async () => (await c.settled(all)) && (await d.whichChildren('local')).length > 0, 15000, 'rebalance to d');
      const onD = (await d.whichChildren('local')).map((x) => x.id);
      await d.stop();
      await waitUntil(() => c.settled(all, ['a', 'b']), 15000, 'children back on a, b');
      expect(onD.length).toBeGreaterThan(0);
      expect(c.overlaps()).toEqual([]);
    });

    // The failover latency is measured by kill_failover_ms in the cluster benchmark, not here.
    it('after kill -9 of a member, each of its children runs again on exactly one survivor', async () => {
      const c = make();
      await c.addMany(['a', 'b', 'c']);
      await formed(c, 3);
      const all = ids(12);
      for (const id of all) await c.get('a').startChild(spec(id));
      await waitUntil(() => c.settled(all), 15000, 'settled');
      const before = await c.placements();
      const runsOn = (name: string) => all.filter((id) => before.get(id)![0] === name);
      // the member other than a that runs the most children
      const victim = c.alive().filter((m) => m.name !== 'a').sort((x, y) => runsOn(y.name).length - runsOn(x.name).length)[0];
      const orphans = runsOn(victim.name);
      expect(orphans.length).toBeGreaterThan(0);
      await victim.kill();
      await waitUntil(() => c.settled(all), FAILURE_MS + 5000, 'failover');
      const after = await c.placements();
      for (const id of orphans) expect(after.get(id)).toHaveLength(1);
    });

    it('runs children given at start once, though every node lists them', async () => {
      const c = make();
      const boot = [spec('boot-1'), spec('boot-2'), spec('boot-3')];
      await c.addMany(['a', 'b', 'c'], { children: boot });
      await formed(c, 3);
      await waitUntil(() => c.settled(['boot-1', 'boot-2', 'boot-3']), 15000, 'boot children once');
    });
  });

  describe(`conformance[${driver.name}]: faults`, () => {
    it('SIGSTOP longer than the failure timeout, then SIGCONT: no child runs twice after convergence', async () => {
      const c = make();
      await c.addMany(['a', 'b', 'c']);
      await formed(c, 3);
      const all = ids(15);
      for (const id of all) await c.get('a').startChild(spec(id));
      await waitUntil(() => c.settled(all), 15000, 'settled');
      const victim = c.get('b');
      victim.pause();
      // the others declare it lost and take its children over
      await waitUntil(async () => {
        const ms = await c.get('a').members();
        return !ms.some((m) => m.name === 'b');
      }, FAILURE_MS + 10000, 'b declared lost');
      // stay paused until the others run b's children (so both sides hold them when b wakes)
      await waitUntil(async () => {
        const g = await c.get('a').whichChildren('global');
        return all.every((id) => { const x = g.find((y) => y.id === id); return x?.status === 'running' && x.node !== 'b'; });
      }, 15000, "b's children taken over");
      victim.resume();
      await waitUntil(() => c.settled(all), 20000, 'converged after resume');
      const p = await c.placements();
      for (const id of all) expect(p.get(id)).toHaveLength(1);
    });

    it('graceful stop hands children over with no overlap', async () => {
      const c = make();
      await c.addMany(['a', 'b', 'c']);
      await formed(c, 3);
      const all = ids(20);
      for (const id of all) await c.get('a').startChild(spec(id));
      await waitUntil(() => c.settled(all), 15000, 'settled');
      await c.get('c').stop();
      await waitUntil(() => c.settled(all, ['a', 'b']), 15000, 'handed over');
      expect(c.overlaps()).toEqual([]);
    });

    it('refuses a peer with the wrong secret; the cluster is undisturbed', async () => {
      const c = make({ secret: 'right' });
      await c.addMany(['a', 'b']);
      await formed(c, 2);
      await c.add({ name: 'intruder', secret: 'wrong' });
      await waitUntil(async () => ((await c.get('a').rejectedFrames()).bad_auth ?? 0) > 0, 10000, 'bad_auth counted');
      expect((await c.get('a').members()).map((m) => m.name).sort()).toEqual(['a', 'b']);
      await c.get('a').startChild(spec('x'), { wait: 'running' });
      expect((await c.get('intruder').whichChildren('global')).length).toBe(0);
    });

    it('refuses random bytes and oversized frames sent to the port, and counts them', async () => {
      const c = make();
      const a = await c.add({ name: 'a' });
      const sendRaw = (data: Buffer, binary = true) => new Promise<void>((resolve) => {
        const ws = new WebSocket(a.address, { maxPayload: 8 << 20 });
        ws.on('open', () => ws.send(data, { binary }));
        ws.on('close', () => resolve());
        ws.on('error', () => resolve());
      });
      await sendRaw(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
      await sendRaw(Buffer.alloc(2 << 20, 0x54));
      await sendRaw(Buffer.from('hello'), false);
      await waitUntil(async () => {
        const r = await a.rejectedFrames();
        return r.bad_magic === 1 && r.frame_too_large === 1 && r.text_frame === 1;
      }, 10000, 'rejections counted by reason');
      // still healthy
      await a.startChild(spec('x'), { wait: 'running' });
    });

    it('rejects invalid specs with a typed error naming the field', async () => {
      const c = make();
      const a = await c.add({ name: 'a' });
      const cases: [unknown, string][] = [[{ kind: 'worker' }, 'id'], [{ id: 'x' }, 'kind'], [{ id: 'x', kind: 'worker', restart: 'never' }, 'restart'], [{ id: 'x', kind: 'worker', shutdownMs: -5 }, 'shutdownMs']];
      for (const [s, field] of cases) {
        const err = await a.startChild(s).then(() => null, (e: RemoteError) => e);
        expect(err).toBeInstanceOf(RemoteError);
        expect(err!.info).toMatchObject({ name: 'InvalidChildSpecError', code: 'invalid_spec', field });
      }
    });

    it('rejects invalid options at start, naming the option', async () => {
      const err = await make().add({ name: 'x', extra: { heartbeatMs: -1 } }).then(() => null, (e: RemoteError) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect(err!.info).toMatchObject({ name: 'InvalidOptionError', option: 'heartbeatMs' });
    });
  });

  describe(`conformance[${driver.name}]: runners`, () => {
    it('inline: a crashing child restarts, a stubborn one is reported unresponsive after shutdownMs and keeps its claim, a broken one fails', async () => {
      const c = make();
      const a = await c.add({ name: 'a' });
      await a.startChild({ id: 'crash', kind: 'crasher', args: { ms: 50 }, maxRestarts: 100, periodMs: 1000 });
      await a.startChild({ id: 'stub', kind: 'stubborn', shutdownMs: 200 }, { wait: 'running' });
      await a.startChild({ id: 'broken', kind: 'broken', maxRestarts: 1 });
      await a.startChild(spec('fine'), { wait: 'running' });
      await waitUntil(async () => (await a.whichChildren('global')).find((g) => g.id === 'broken')?.status === 'failed', 10000, 'broken failed');
      await waitUntil(async () => ((await a.whichChildren('global')).find((g) => g.id === 'crash')?.restarts ?? 0) >= 2, 10000, 'crash restarts');
      await a.terminateChild('stub');
      await a.waitEvent((e) => e.type === 'child_unresponsive' && e.id === 'stub', 5000, 'stub unresponsive');
      expect(a.events.some(({ event: e }) => e.type === 'child_exited' && e.id === 'stub')).toBe(false);
      expect((await a.whichChildren('local')).find((l) => l.id === 'stub')?.status).toBe('unresponsive');
      // The claim is kept and visible cluster-wide: no other member starts a second copy.
      expect((await a.whichChildren('global')).find((g) => g.id === 'stub')).toMatchObject({ status: 'unresponsive', node: 'a' });
      expect((await a.whichChildren('global')).find((g) => g.id === 'fine')?.status).toBe('running');
    });

    // A tab has no processes: it runs the worker kind only.
    it('worker and process isolation: start, crash and restart, graceful stop', async () => {
      const c = make();
      const a = await c.add({ name: 'a' });
      const kinds = allSupport(driver, 1, 'process') ? ['isolated', 'forked'] : ['isolated'];
      for (const kind of kinds) {
        await a.startChild({ id: `${kind}-ok`, kind }, { wait: 'running' });
        await a.startChild({ id: `${kind}-crash`, kind, args: { crashAfterMs: 100 }, maxRestarts: 100, periodMs: 1000 });
      }
      for (const kind of kinds) {
        await waitUntil(async () => ((await a.whichChildren('global')).find((g) => g.id === `${kind}-crash`)?.restarts ?? 0) >= 1, 15000, `${kind} restart`);
        await a.terminateChild(`${kind}-ok`, { wait: 'stopped' });
        await a.waitEvent((e) => e.type === 'child_exited' && e.id === `${kind}-ok` && e.reason === 'shutdown', 10000, `${kind} graceful stop`);
      }
    });

    // A worker or a process takes tens of ms to boot: a terminate acknowledged meanwhile must
    // keep the function from running at all (it once ran after the stop, with an aborted signal
    // it never heard of, until it was killed at shutdownMs: a start after an acknowledged terminate).
    it('a terminate that reaches an isolated child while it is still starting: its function never runs', async () => {
      const c = make();
      const a = await c.add({ name: 'a' });
      const kinds = allSupport(driver, 1, 'process') ? ['isolated', 'forked'] : ['isolated'];
      for (const kind of kinds) {
        const id = `${kind}-early`;
        await a.startChild({ id, kind, args: { announce: true }, shutdownMs: 5000 });
        await a.terminateChild(id);
        const acked = Date.now(); // the children's clock (fixtures/shared-clock.mjs)
        // Gone from a's children: stopped, or never run at all when the terminate came before the
        // start was carried out (a tab's supervisor runs its effects a turn later).
        await waitUntil(async () => !(await a.whichChildren('local')).some((l) => l.id === id), 10000, `${id} gone`);
        const exit = a.events.find(({ event: e }) => e.type === 'child_exited' && e.id === id);
        if (exit) expect(exit.event.reason).toBe('shutdown');
        const ups = a.events.filter(({ event: e }) => e.type === 'child_event' && e.id === id && e.name === 'up');
        expect(ups.filter(({ event: e }) => (e.data as { t: number }).t > acked)).toEqual([]);
      }
    });
  });
}
