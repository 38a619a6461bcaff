// A tab's graceful stop must not end its worker before the gateway socket has sent what the
// leave queued last (the claims' release and BYE): the browser host's shutdown waits for the
// socket's closing handshake (GATEWAY_CLOSE_WAIT_MS, host-browser/src/transport-gateway.ts).
// To make the window certain, the tab queues megabytes of messages on its socket just before it
// stops, so its BYE sits behind them in the socket's buffer when the worker would end. Real
// Chromium; the server's view decides: the tab `left` (its BYE arrived) and every message came.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrellisEvent } from '@trellis/core';
import { gatewayFixture, openTab, until, type GatewayFixture } from './browser-harness.js';

const SCOPE = 'browser-stop-flush';
/** Long: a tab found down by silence instead of its BYE cannot pass by luck. */
const FAILURE_TIMEOUT_MS = 10_000;
const MESSAGES = 24;
const MESSAGE_BYTES = 256 * 1024;
const ROUNDS = 3;

describe('a tab that stops right after queueing megabytes on its gateway socket', () => {
  let fx: GatewayFixture;
  const received = new Map<string, number>();
  beforeAll(async () => {
    fx = await gatewayFixture({
      scope: SCOPE, insecure: true, heartbeatMs: 200, failureTimeoutMs: FAILURE_TIMEOUT_MS,
      kinds: { sink: { run: (_a, ctx) => new Promise<void>((resolve) => {
        ctx.onMessage((m) => { if (typeof m === 'string') received.set(ctx.id, (received.get(ctx.id) ?? 0) + 1); });
        ctx.signal.addEventListener('abort', () => resolve());
      }) } },
    }, { bytesPerSecondMax: 1 << 30 });
  });
  afterAll(async () => { await fx?.close(); });

  const downOf = (name: string) => fx.events.find((e): e is Extract<TrellisEvent, { type: 'member_down' }> => e.type === 'member_down' && e.name === name);

  it(`${ROUNDS} times: its BYE arrives (member_down 'left') and all ${MESSAGES} messages of ${MESSAGE_BYTES / 1024} KiB with it`, async () => {
    for (let r = 0; r < ROUNDS; r++) {
      const id = `sink-${r}`, name = `flush-${r}`;
      await fx.node.startChild({ id, kind: 'sink' }, { wait: 'running' });
      const page = await openTab(fx.browser, fx.site);
      try {
        await page.evaluate(async (o) => {
          const w = window as unknown as { trellis: any; sup: any };
          w.sup = await w.trellis.start({ insecure: true, ...o, kinds: '/kinds.js', lifecycle: false, mesh: false });
        }, { scope: SCOPE, gateway: fx.gatewayUrl, name, heartbeatMs: 200, failureTimeoutMs: FAILURE_TIMEOUT_MS });
        expect(await until(() => fx.node.members().some((m) => m.name === name && m.status === 'up'), 5000)).toBe(true);
        // The tab knows where the sink runs before it sends (a send to an unknown id would wait for it).
        expect(await until(() => page.evaluate(async (id) => (await (window as any).sup.whichChildren('global')).some((c: any) => c.id === id && c.status === 'running'), id), 5000)).toBe(true);
        await page.evaluate(async ({ id, n, bytes }) => {
          const sup = (window as unknown as { sup: any }).sup;
          const blob = 'x'.repeat(bytes - 16);
          // Not awaited: the sends and the stop reach the worker back to back, so the leave's
          // frames are queued behind the messages.
          for (let i = 0; i < n; i++) void sup.send(id, blob).catch(() => undefined);
          await sup.stop();
        }, { id, n: MESSAGES, bytes: MESSAGE_BYTES });
        expect(await until(() => downOf(name) !== undefined, FAILURE_TIMEOUT_MS / 2)).toBe(true);
        expect(downOf(name)!.reason, `round ${r}`).toBe('left');
        expect(await until(() => received.get(id) === MESSAGES, 5000), `round ${r}: ${received.get(id) ?? 0} of ${MESSAGES} messages`).toBe(true);
      } finally {
        await page.close();
        await fx.node.terminateChild(id).catch(() => undefined);
      }
    }
  });
});
