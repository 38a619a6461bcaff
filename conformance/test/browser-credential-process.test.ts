// A Node member and a Bun process started with a credential (no secret, no gateway) and a
// credential tab in real Chromium link each other under their pair keys: the tab's from its
// gateway, the processes' from the secret member over their member links (PAIR_KEY_REQ, docs/PROTOCOL.md "Pair key relay"). So
// the three members agree on membership and every child of a kind both credential members run
// runs exactly once (docs/SECURITY.md "Credential tabs linking each other").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalChildView, Supervisor, TrellisEvent } from '@trellis/core';
import { start as startNode } from '@trellis/node';
import { ProcessMember } from '../src/drivers/process-member.js';
import { gatewayFixture, openTab, tabCall, tabEvents, until, type GatewayFixture } from './browser-harness.js';

const SCOPE = 'browser-credential-process';
const SECRET = 'browser-credential-process-secret-0123456789abcdef';
const TAB_KINDS = ['tab-block', 'tab-inline', 'tab-rejects', 'tab-throws', 'tab-worker'];
const CREDENTIAL_MS = 120_000;
const N = 18;

const blockUntilAborted = (_args: unknown, ctx: { signal: AbortSignal }) => new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()));

describe('credential Node and Bun members and a credential tab', () => {
  let fx: GatewayFixture;
  let proc: Supervisor;
  let bun: ProcessMember;
  const procEvents: TrellisEvent[] = [];

  beforeAll(async () => {
    fx = await gatewayFixture({ scope: SCOPE, secret: SECRET, heartbeatMs: 100, failureTimeoutMs: 1000 });
    proc = await startNode({
      name: 'proc-c', scope: SCOPE, listen: { host: '127.0.0.1', port: 0 }, seeds: [fx.node.address!],
      credential: fx.node.mintCredential({ name: 'proc-c', kinds: ['tab-inline'], expiresInMs: CREDENTIAL_MS }),
      kinds: { 'tab-inline': { run: blockUntilAborted } }, heartbeatMs: 100, failureTimeoutMs: 1000,
    });
    proc.on('event', (e) => procEvents.push(e));
    bun = await ProcessMember.spawn('bun', {
      name: 'bun-c', scope: SCOPE, seeds: [fx.node.address!], heartbeatMs: 100, failureTimeoutMs: 1000,
      credential: fx.node.mintCredential({ name: 'bun-c', kinds: ['tab-inline'], expiresInMs: CREDENTIAL_MS }),
      kindsModule: new URL('../fixtures/tab-inline-kind.mjs', import.meta.url).href,
    });
  });

  afterAll(async () => { await bun?.kill(); await proc?.kill(); await fx?.close(); });

  it('link each other (the processes get their pair keys from the secret member); all four see each other up; children run exactly once', async () => {
    const page = await openTab(fx.browser, fx.site);
    const credential = fx.node.mintCredential({ name: 'tab-p', kinds: TAB_KINDS, expiresInMs: CREDENTIAL_MS });
    await page.evaluate(async ({ gateway, credential, scope }) => {
      const w = window as unknown as { trellis: any; sup: any; events: unknown[] };
      const sup = await w.trellis.start({ scope, gateway, credential, kinds: '/kinds.js', heartbeatMs: 100, failureTimeoutMs: 1000 });
      w.sup = sup;
      sup.on('event', (e: unknown) => w.events.push(e));
    }, { gateway: fx.gatewayUrl, credential, scope: SCOPE });
    const upIn = (ms: Array<{ name: string; status: string }>, names: string[]) => names.every((n) => ms.some((m) => m.name === n && m.status === 'up'));
    const allUp = async () => upIn(fx.node.members(), ['proc-c', 'bun-c', 'tab-p']) && upIn(proc.members(), ['node-1', 'bun-c', 'tab-p'])
      && upIn(await bun.members(), ['node-1', 'proc-c', 'tab-p']) && upIn(await tabCall(page, 'members'), ['node-1', 'proc-c', 'bun-c']);
    expect(await until(allUp, 10_000)).toBe(true);

    for (let i = 0; i < N; i++) await fx.node.startChild({ id: `p${i}`, kind: 'tab-inline' });
    const running = async () => {
      const inTab = (await tabCall<LocalChildView[]>(page, 'whichChildren', 'local')).filter((c) => c.status === 'running').map((c) => c.id);
      const inProc = proc.whichChildren('local').filter((c) => c.status === 'running').map((c) => c.id);
      const inBun = (await bun.whichChildren('local')).filter((c) => c.status === 'running').map((c) => c.id);
      return { inTab, inProc, inBun };
    };
    const once = async () => { const { inTab, inProc, inBun } = await running(); const ids = [...inTab, ...inProc, ...inBun]; return ids.length === N && new Set(ids).size === N; };
    expect(await until(once, 10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    const { inTab, inProc, inBun } = await running();
    expect([...inTab, ...inProc, ...inBun].sort()).toEqual(Array.from({ length: N }, (_, i) => `p${i}`).sort());
    // every credential member runs some: each places by a view holding the others
    expect([inTab.length, inProc.length, inBun.length].every((n) => n > 0)).toBe(true);
    const refusals = (es: Array<{ type: string; reason?: string }>) => es.filter((e) => e.type === 'link_rejected' && (e.reason === 'bad_auth' || e.reason === 'no_shared_key')).length;
    expect(refusals(procEvents as Array<{ type: string; reason?: string }>)).toBe(0);
    expect(refusals(bun.events.map((e) => e.event as { type: string; reason?: string }))).toBe(0);
    expect(refusals(await tabEvents<{ type: string; reason?: string }>(page))).toBe(0);
    await page.close();
  });
});
