// An inline child that ignores its abort signal cannot be forced: it is reported unresponsive
// after shutdownMs, never exited while its function still runs, so its claim holds and no
// other member starts a second copy; its exit is reported once the function settles.
import { describe, it, expect, afterEach } from 'vitest';
import { InlineRunner, type ChildContext, type RunnerHandlers, type Supervisor, type TrellisEvent } from '@trellis/core';
import { start } from '../src/index.js';
import { waitUntil } from '../../conformance/src/drivers/process-member.js';

const SHUTDOWN_MS = 80;

/** Inline functions that ignore their signal until the test releases them by id. */
class Stubborn {
  private release = new Map<string, () => void>();
  readonly aborted = new Set<string>();
  readonly run = (_args: unknown, ctx: ChildContext) => new Promise<void>((resolve) => {
    ctx.signal.addEventListener('abort', () => this.aborted.add(ctx.id), { once: true });
    this.release.set(ctx.id, resolve);
  });
  settle(id: string): void { this.release.get(id)?.(); this.release.delete(id); }
  settleAll(): void { for (const id of [...this.release.keys()]) this.settle(id); }
}

type Report = [kind: 'started' | 'exited' | 'startFailed' | 'unresponsive', id: string, detail?: string];
function recorder(): { h: RunnerHandlers; log: Report[] } {
  const log: Report[] = [];
  return {
    log,
    h: {
      started: (id) => log.push(['started', id]),
      exited: (id, _e, reason) => log.push(['exited', id, reason]),
      startFailed: (id) => log.push(['startFailed', id]),
      unresponsive: (id) => log.push(['unresponsive', id]),
    },
  };
}

describe('InlineRunner: a child that ignores its signal', () => {
  it('is reported unresponsive after shutdownMs, and exited only once its function settles', async () => {
    const stubborn = new Stubborn();
    const runner = new InlineRunner('n', () => undefined);
    const { h, log } = recorder();
    runner.run('x', 1, stubborn.run, null, h);
    const t0 = Date.now();
    expect(runner.stop('x', 1, SHUTDOWN_MS)).toBe(true);
    expect(stubborn.aborted.has('x')).toBe(true);
    await waitUntil(() => log.some((r) => r[0] === 'unresponsive'), 5_000, 'unresponsive report');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(SHUTDOWN_MS - 1);
    expect(log).toEqual([['started', 'x'], ['unresponsive', 'x']]);
    expect(runner.size).toBe(1);
    stubborn.settle('x');
    await waitUntil(() => log.some((r) => r[0] === 'exited'), 5_000, 'exit report');
    expect(log).toEqual([['started', 'x'], ['unresponsive', 'x'], ['exited', 'x', 'shutdown']]);
    expect(runner.size).toBe(0);
  });

  it('a child that settles within shutdownMs is reported exited and never unresponsive', async () => {
    const runner = new InlineRunner('n', () => undefined);
    const { h, log } = recorder();
    runner.run('y', 1, (_a, ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())), null, h);
    runner.stop('y', 1, SHUTDOWN_MS);
    await waitUntil(() => log.some((r) => r[0] === 'exited'), 5_000, 'exit report');
    await new Promise((r) => setTimeout(r, SHUTDOWN_MS * 2));
    expect(log).toEqual([['started', 'y'], ['exited', 'y', 'shutdown']]);
  });

  it('stopAll resolves once every child has exited or is unresponsive', async () => {
    const stubborn = new Stubborn();
    const runner = new InlineRunner('n', () => undefined);
    const { h, log } = recorder();
    runner.run('s', 1, stubborn.run, null, h);
    runner.run('c', 1, (_a, ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())), null, h);
    await runner.stopAll(0);
    expect(log).toContainEqual(['unresponsive', 's']);
    expect(log).toContainEqual(['exited', 'c', 'shutdown']);
    expect(log.filter((r) => r[0] === 'exited').map((r) => r[1])).toEqual(['c']);
    stubborn.settleAll();
  });
});

describe('Supervisor on Node: an unresponsive inline child keeps its claim', () => {
  const sups: Supervisor[] = [];
  let stubborn: Stubborn | undefined;
  afterEach(async () => {
    stubborn?.settleAll();
    await Promise.all(sups.splice(0).map((s) => s.kill()));
  });

  const node = async (name: string, seeds: string[], events: TrellisEvent[]) => {
    const s = await start({
      scope: `unresponsive-${process.pid}`, name, secret: 'test-secret', seeds,
      listen: { host: '127.0.0.1', port: 0 }, heartbeatMs: 100, failureTimeoutMs: 1_000, syncIntervalMs: 300,
      kinds: { stubborn: { run: stubborn!.run } },
    });
    s.on('event', (e) => events.push(e));
    sups.push(s);
    return s;
  };
  const running = (s: Supervisor, id: string) => s.whichChildren('local').some((c) => c.id === id && c.status === 'running');

  it('terminate: the child is reported unresponsive, stays listed until it settles, then the terminate completes', async () => {
    stubborn = new Stubborn();
    const events: TrellisEvent[] = [];
    const a = await node('a', [], events);
    await a.startChild({ id: 'held', kind: 'stubborn', shutdownMs: SHUTDOWN_MS }, { wait: 'running' });
    let stopped = false;
    const terminated = a.terminateChild('held', { wait: 'stopped' }).then(() => { stopped = true; });
    await waitUntil(() => events.some((e) => e.type === 'child_unresponsive' && e.id === 'held'), 5_000, 'child_unresponsive');
    expect(stubborn.aborted.has('held')).toBe(true);
    expect(a.whichChildren('local').map((c) => [c.id, c.status])).toEqual([['held', 'unresponsive']]);
    expect(events.some((e) => e.type === 'child_exited' && e.id === 'held')).toBe(false);
    expect(stopped).toBe(false);
    stubborn.settle('held');
    await terminated;
    expect(a.whichChildren('local')).toEqual([]);
    expect(events).toContainEqual(expect.objectContaining({ type: 'child_exited', id: 'held', reason: 'shutdown' }));
  });

  it('a planned move waits for the unresponsive child to settle before the new owner starts it', async () => {
    stubborn = new Stubborn();
    const aEvents: TrellisEvent[] = [];
    const bEvents: TrellisEvent[] = [];
    const a = await node('a', [], aEvents);
    const ids = Array.from({ length: 16 }, (_, i) => `m-${i}`);
    for (const id of ids) await a.startChild({ id, kind: 'stubborn', shutdownMs: SHUTDOWN_MS }, { wait: 'running' });
    const b = await node('b', [a.address!], bEvents);
    // Ids b now owns are asked to stop on a; they ignore it and become unresponsive there.
    await waitUntil(() => aEvents.some((e) => e.type === 'child_unresponsive'), 10_000, 'a child to move and hang on a');
    await new Promise((r) => setTimeout(r, 2 * SHUTDOWN_MS));
    const held = aEvents.filter((e): e is Extract<TrellisEvent, { type: 'child_unresponsive' }> => e.type === 'child_unresponsive').map((e) => e.id);
    for (const id of held) {
      expect(running(b, id)).toBe(false);
      expect(a.whichChildren('local').find((c) => c.id === id)?.status).toBe('unresponsive');
    }
    expect(bEvents.some((e) => e.type === 'child_started' && held.includes(e.id))).toBe(false);
    for (const id of held) stubborn.settle(id);
    await waitUntil(() => held.every((id) => running(b, id)), 10_000, 'b to run the moved children once a let them go');
    for (const id of held) expect(a.whichChildren('local').some((c) => c.id === id)).toBe(false);
  });
});
