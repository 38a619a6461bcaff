// A call that reached a child whose instance then ended before answering fails at once with
// ChildStoppedError (delivered, unanswered, and why), not after the caller's timeout: the member
// that delivered it answers CALL_STOPPED at the exit (core-as/assembly/call-stops.ts), and calls the
// host handed straight to a local instance fail the same way (core-as/src/messaging.ts).
// Real members over real sockets on 127.0.0.1.
import { describe, it, expect, afterEach } from 'vitest';
import { ChildStoppedError, type ChildContext, type Supervisor } from '@trellis/core';
import { start } from '../src/index.js';
import { waitUntil } from '../../conformance/src/drivers/process-member.js';

/** Far beyond what any stopped call may take to fail: the error must come well before it. */
const CALL_TIMEOUT_MS = 20_000;
/** What "promptly" means here, with a wide margin for a loaded machine: a stop and one hop back. */
const PROMPT_MS = 4_000;

/** Messages the 'hold' children took, by child id: they never answer a call. */
const took = new Map<string, unknown[]>();
const hold = {
  run: (_args: unknown, ctx: ChildContext) => new Promise<void>((resolve, reject) => {
    ctx.onMessage((msg) => {
      took.set(ctx.id, [...(took.get(ctx.id) ?? []), msg]);
      if ((msg as { crash?: boolean }).crash) setTimeout(() => reject(new Error('crashed on purpose')), 50);
      return undefined; // no answer, ever
    });
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  }),
};

const running: Supervisor[] = [];
afterEach(async () => { await Promise.all(running.splice(0).map((s) => s.kill())); took.clear(); });

async function node(name: string, seeds: string[], kinds: Record<string, unknown>): Promise<Supervisor> {
  const sup = await start({
    scope: `call-stopped-${process.pid}`, name, secret: 'call-stopped-secret', seeds, kinds,
    listen: { host: '127.0.0.1', port: 0 }, heartbeatMs: 100, failureTimeoutMs: 1_000, syncIntervalMs: 300,
  } as Parameters<typeof start>[0]);
  running.push(sup);
  return sup;
}

/** a (runs no kind: it only calls) and b (runs `kinds`), linked. */
async function twoMembers(kinds: Record<string, unknown>): Promise<[Supervisor, Supervisor]> {
  const a = await node('a', [], {});
  const b = await node('b', [a.address!], kinds);
  await waitUntil(() => a.members().length === 2 && b.members().length === 2, 5_000, 'two members');
  return [a, b];
}

/** `call` (not awaited yet), and how long it took to settle, from once the child took it. */
async function stoppedCall(call: Promise<unknown>, id: string, stop: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const settled = call.then(() => ({ error: undefined as unknown }), (error: unknown) => ({ error }));
  await waitUntil(() => (took.get(id)?.length ?? 0) > 0, 10_000, `${id} took the call`);
  const t0 = performance.now();
  await stop();
  const { error } = await settled;
  return { error, ms: performance.now() - t0 };
}

function expectStopped(r: { error: unknown; ms: number }, id: string, reason: string): void {
  expect(r.error).toBeInstanceOf(ChildStoppedError);
  const e = r.error as ChildStoppedError;
  expect({ code: e.code, id: e.id, reason: e.reason, delivered: e.delivered }).toEqual({ code: 'child_stopped', id, reason, delivered: true });
  expect(r.ms).toBeLessThan(PROMPT_MS);
}

describe('a call whose child stops before answering fails promptly with ChildStoppedError', () => {
  it('from another member: the child is terminated', async () => {
    const [a] = await twoMembers({ hold });
    await a.startChild({ id: 'h1', kind: 'hold' });
    const r = await stoppedCall(a.call('h1', { q: 1 }, { timeoutMs: CALL_TIMEOUT_MS }), 'h1', () => a.terminateChild('h1'));
    expectStopped(r, 'h1', 'terminated');
  });

  it('from another member: the child crashes (and is restarted)', async () => {
    const [a] = await twoMembers({ hold });
    await a.startChild({ id: 'h2', kind: 'hold' });
    // The child crashes by itself 50 ms after it took the call: nothing to do but wait.
    const r = await stoppedCall(a.call('h2', { q: 1, crash: true }, { timeoutMs: CALL_TIMEOUT_MS }), 'h2', async () => undefined);
    expectStopped(r, 'h2', 'crashed');
  });

  it('from another member: the member running the child leaves gracefully, and the child moves', async () => {
    const [a, b] = await twoMembers({ hold });
    await a.startChild({ id: 'h3', kind: 'hold' });
    await waitUntil(() => b.whichChildren('local').some((c) => c.id === 'h3'), 5_000, 'h3 on b');
    const c = await node('c', [a.address!], { hold });
    await waitUntil(() => [a, b, c].every((s) => s.members().length === 3), 5_000, 'three members');
    // h3 stays on b unless b goes (placement moves nothing that runs where it may), so it is on b now.
    const on = b.whichChildren('local').some((x) => x.id === 'h3') ? b : c;
    const r = await stoppedCall(a.call('h3', { q: 1 }, { timeoutMs: CALL_TIMEOUT_MS }), 'h3', () => on.stop());
    expectStopped(r, 'h3', 'leaving');
    running.splice(running.indexOf(on), 1);
    const other = on === b ? c : b;
    await waitUntil(() => other.whichChildren('local').some((x) => x.id === 'h3'), 10_000, 'h3 moved');
    // The new instance takes calls as before (and, never answering, this one times out).
    await expect(a.call('h3', { q: 2 }, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'timeout' });
  });

  it('on the member that runs the child (the call handed straight to it): the child is terminated', async () => {
    const b = await node('b', [], { hold });
    await b.startChild({ id: 'h4', kind: 'hold', restart: 'permanent' });
    await waitUntil(() => b.whichChildren('local').some((c) => c.id === 'h4' && c.status === 'running'), 5_000, 'h4 running');
    const r = await stoppedCall(b.call('h4', { q: 1 }, { timeoutMs: CALL_TIMEOUT_MS }), 'h4', () => b.terminateChild('h4'));
    expectStopped(r, 'h4', 'terminated');
  });

  it('a call answered before its child stops resolves with the answer, and nothing more comes', async () => {
    const [a] = await twoMembers({
      echo: { run: (_args: unknown, ctx: ChildContext) => new Promise<void>((resolve) => { ctx.onMessage((m) => m); ctx.signal.addEventListener('abort', () => resolve(), { once: true }); }) },
    });
    await a.startChild({ id: 'e1', kind: 'echo' });
    expect(await a.call('e1', { q: 7 }, { timeoutMs: CALL_TIMEOUT_MS })).toEqual({ q: 7 });
    await a.terminateChild('e1');
  });
});
