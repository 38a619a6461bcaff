// Credential tabs (issue 13, phase 2), in real Chromium: a Node member that holds the secret
// mints a credential for a tab's name and kinds; the gateway checks it at the tab's HELLO and
// refuses an expired, forged or other-name one (close 4401 with the reason, `gateway_refused` on
// the server); a tab started with `credential` joins (its page never holds the secret) and runs
// the children of its kinds. Two credential tabs link each other under their pair key, which each
// gets from its gateway (docs/SECURITY.md, "Credential tabs linking each other"), so every member
// agrees on membership and every child runs exactly once, over the same-origin mesh and through
// the gateway alike; and a tab refuses, past the gateway, a peer with an expired, other-scope or
// keyless credential (a script of the origin dialing it over the mesh channel). Tab links are
// keyed by pair keys that only the two tabs can get from their gateway: a page that presents
// another tab's name to a tab is refused (bad_auth), and the honest tabs are undisturbed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { decodeCredentialToken, type LocalChildView, type Supervisor, type TrellisEvent } from '@trellis/core';
import { randomBytes } from 'node:crypto';
import { AUTH_MODE, MSG, encodeFrame, helloFrame } from '../src/protocol.js';
import { deriveLinkKeys, transcriptHash } from '../src/protocol-session.js';
import { gatewayFixture, openTab, tabCall, until, type Browser, type GatewayFixture, type Site } from './browser-harness.js';

const SCOPE = 'browser-credential';
const SECRET = 'browser-credential-test-secret-0123456789abcdef';
/** Every kind the harness's kinds module defines: a credential tab may only define kinds its credential allows. */
const TAB_KINDS = ['tab-block', 'tab-inline', 'tab-rejects', 'tab-throws', 'tab-worker'];
const CREDENTIAL_MS = 60_000;

/** Joins the gateway with only the framing (GatewayTransport) and this auth; resolves to the refusal, or 'welcomed'. */
function helloOutcome(page: Page, gatewayUrl: string, token: string, name: string): Promise<{ code: number; reason: string } | 'welcomed'> {
  return page.evaluate(async ({ gatewayUrl, token, name }) => {
    const { GatewayTransport } = (window as unknown as { trellis: any }).trellis;
    const t = new GatewayTransport(gatewayUrl, { mode: 'credential', token }, name);
    const noop = () => undefined;
    try {
      await t.listen({ opened: noop, frame: noop, closed: noop, dialFailed: noop });
      await t.shutdown();
      return 'welcomed' as const;
    } catch (e) {
      const err = e as { name: string; code: number; reason: string };
      if (err.name !== 'GatewayRefusedError') throw e;
      return { code: err.code, reason: err.reason };
    }
  }, { gatewayUrl, token, name });
}

/** The same credential with a later expiry and its original key: what a tab forging a renewal would send. */
function extended(token: string, byMs: number): string {
  const c = decodeCredentialToken(token)!;
  const enc = new TextEncoder();
  const parts: number[] = [3];
  const u32 = (x: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, x, true); parts.push(...b); };
  const str = (s: string) => { const b = enc.encode(s); u32(b.length); parts.push(...b); };
  str(c.scope); str(c.name); u32(c.kinds.length); for (const k of c.kinds) str(k);
  const e = new Uint8Array(8); new DataView(e.buffer).setBigUint64(0, BigInt(c.expiresAtMs + byMs), true); parts.push(...e);
  u32(c.key.length); parts.push(...c.key);
  const f = new Uint8Array(8); new DataView(f.buffer).setBigUint64(0, BigInt(c.firstEpoch), true); parts.push(...f);
  u32(c.tabLinkKeys.length); for (const k of c.tabLinkKeys) { u32(k.length); parts.push(...k); }
  return Buffer.from(parts).toString('base64url');
}

/** Starts a credential tab: the page fetches nothing secret, only this token. */
function startCredentialTab(page: Page, gatewayUrl: string, credential: string, mesh = true): Promise<string> {
  return page.evaluate(async ({ gatewayUrl, credential, scope, mesh }) => {
    const w = window as unknown as { trellis: any; sup: any; events: unknown[] };
    const sup = await w.trellis.start({ scope, gateway: gatewayUrl, credential, mesh, kinds: '/kinds.js', heartbeatMs: 100, failureTimeoutMs: 1000 });
    w.sup = sup;
    sup.on('event', (e: unknown) => w.events.push(e));
    return sup.name as string;
  }, { gatewayUrl, credential, scope: SCOPE, mesh });
}

describe('credential tabs through a Node gateway', () => {
  let browser: Browser;
  let site: Site;
  let node: Supervisor;
  let gatewayUrl: string;
  let nodeEvents: TrellisEvent[];
  let fx: GatewayFixture;

  beforeAll(async () => {
    fx = await gatewayFixture({ scope: SCOPE, secret: SECRET, heartbeatMs: 100, failureTimeoutMs: 1000 });
    ({ browser, site, node, gatewayUrl, events: nodeEvents } = fx);
  });

  afterAll(async () => { await fx?.close(); });

  const refusals = () => nodeEvents.filter((e) => e.type === 'gateway_refused');

  it('refuses an expired, a forged and an other-name credential at the HELLO, each with its reason', async () => {
    const page = await openTab(browser, site);
    const expired = node.mintCredential({ name: 'tab-x', kinds: TAB_KINDS, expiresInMs: 1 });
    const valid = node.mintCredential({ name: 'tab-x', kinds: TAB_KINDS, expiresInMs: CREDENTIAL_MS });
    expect(await until(() => Date.now() > decodeCredentialToken(expired)!.expiresAtMs, 1000)).toBe(true);
    const before = refusals().length;
    expect(await helloOutcome(page, gatewayUrl, expired, 'tab-x')).toEqual({ code: 4401, reason: 'credential_expired' });
    expect(await helloOutcome(page, gatewayUrl, extended(valid, 3_600_000), 'tab-x')).toEqual({ code: 4401, reason: 'credential_forged' });
    expect(await helloOutcome(page, gatewayUrl, valid, 'tab-y')).toEqual({ code: 4401, reason: 'credential_name' });
    expect(refusals().slice(before)).toEqual(['credential_expired', 'credential_forged', 'credential_name']
      .map((reason) => ({ type: 'gateway_refused', reason, origin: site.url })));
    // The same socket path welcomes the valid one: the refusals were about the credentials.
    expect(await helloOutcome(page, gatewayUrl, valid, 'tab-x')).toBe('welcomed');
    expect(node.members().some((m) => m.name.startsWith('tab-'))).toBe(false);
    await page.close();
  });

  it('a tab started with a credential joins under its name and runs the children of its kinds', async () => {
    const page = await openTab(browser, site);
    const credential = node.mintCredential({ name: 'tab-c1', kinds: TAB_KINDS, expiresInMs: CREDENTIAL_MS });
    expect(await startCredentialTab(page, gatewayUrl, credential)).toBe('tab-c1');
    expect(await until(() => node.members().some((m) => m.name === 'tab-c1' && m.status === 'up'), 5000)).toBe(true);
    expect(nodeEvents.some((e) => e.type === 'gateway_tab_joined' && e.member === 'tab-c1')).toBe(true);
    for (let i = 0; i < 4; i++) await node.startChild({ id: `i${i}`, kind: i % 2 ? 'tab-worker' : 'tab-inline' });
    const runsAll = async () => (await tabCall<LocalChildView[]>(page, 'whichChildren', 'local')).filter((c) => c.status === 'running').length === 4;
    expect(await until(runsAll, 5000)).toBe(true);
    // The tab knows a child runs before its started report reaches the Node member.
    expect(await until(() => node.whichChildren('global').filter((c) => c.node === 'tab-c1' && c.status === 'running').length === 4, 5000)).toBe(true);
  });

  // Over the same-origin mesh, and (mesh off) through the gateway: the key is the same on both paths.
  it.each([['the mesh', true, 'd'], ['the gateway', false, 'g']] as const)('two credential tabs link each other over %s: each lists the other up, and children started from the Node member run exactly once', async (_path, mesh, prefix) => {
    const pages = await Promise.all([openTab(browser, site), openTab(browser, site)]);
    const names = [`tab-${prefix}1`, `tab-${prefix}2`];
    for (let i = 0; i < 2; i++) {
      const credential = node.mintCredential({ name: names[i], kinds: TAB_KINDS, expiresInMs: CREDENTIAL_MS });
      expect(await startCredentialTab(pages[i], gatewayUrl, credential, mesh)).toBe(names[i]);
    }
    const seesUp = async (page: Page, other: string) => (await tabCall<Array<{ name: string; status: string }>>(page, 'members')).some((m) => m.name === other && m.status === 'up');
    expect(await until(async () => (await seesUp(pages[0], names[1])) && (await seesUp(pages[1], names[0])), 5000)).toBe(true);
    expect(await until(() => names.every((n) => node.members().some((m) => m.name === n && m.status === 'up')), 5000)).toBe(true);
    const N = 12;
    // Over the mesh each links the other and the second test's tab (tab-c1); through the gateway, none.
    expect(await until(async () => (await Promise.all(pages.map((p) => tabCall<number>(p, 'meshLinks')))).every((n) => n === (mesh ? 2 : 0)), 5000)).toBe(true);
    for (let i = 0; i < N; i++) await node.startChild({ id: `${prefix}${i}`, kind: 'tab-inline' });
    // Every id runs in exactly one tab (the Node member runs no tab kind), and stays so; the tab
    // of the second test runs some of them too.
    const tabs = browser.context.pages().filter((p) => p.url().startsWith(site.url));
    expect(tabs.length).toBe(3);
    const runningIds = async () => (await Promise.all(tabs.map((p) => tabCall<LocalChildView[]>(p, 'whichChildren', 'local'))))
      .flatMap((l) => l.filter((c) => c.id.startsWith(prefix) && c.status === 'running').map((c) => c.id));
    const once = async () => { const ids = await runningIds(); return ids.length === N && new Set(ids).size === N; };
    expect(await until(once, 5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await runningIds()).sort()).toEqual(Array.from({ length: N }, (_, i) => `${prefix}${i}`).sort());
    const perTab = await Promise.all(pages.map(async (p) => (await tabCall<LocalChildView[]>(p, 'whichChildren', 'local')).filter((c) => c.id.startsWith(prefix)).length));
    expect(perTab.every((n) => n > 0)).toBe(true);
    const tabRejections = await Promise.all(pages.map((p) => p.evaluate(() => (window as unknown as { events: Array<{ type: string; reason?: string }> }).events
      .filter((e) => e.type === 'link_rejected' && e.reason === 'no_shared_key').length)));
    expect(tabRejections).toEqual([0, 0]);
    await Promise.all(pages.map((p) => p.close()));
  });

  /**
   * A script of the origin that is no member dials tab-c1 over the mesh, past the gateway,
   * sending `frames` (a HELLO, an AUTH) as soon as the link is accepted; resolves to the reason
   * tab-c1 closes it with.
   */
  function meshAttempt(page: Page, frames: Uint8Array[]): Promise<string> {
    return page.evaluate(async ({ scope, frames }) => {
      // The dial goes to tab-c1's inbox; the link (accept, data, close) has a channel of its own.
      const ch = new BroadcastChannel(`trellis/${scope}/to/tab-c1`);
      const key = `tab-evil/${Math.random()}`;
      const link = new BroadcastChannel(`trellis/${scope}/link/${key}`);
      try {
        return await new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('no answer'), 5000);
          link.onmessage = (e: MessageEvent<{ t: string; from: string; reason?: string }>) => {
            const m = e.data;
            if (m.from !== 'tab-c1') return;
            if (m.t === 'accept') for (const f of frames) link.postMessage({ t: 'data', from: 'tab-evil', frames: [new Uint8Array(f)] });
            if (m.t === 'close') { clearTimeout(timer); resolve(m.reason ?? ''); }
          };
          ch.postMessage({ t: 'open', to: 'tab-c1', from: 'tab-evil', key });
        });
      } finally { ch.close(); link.close(); }
    }, { scope: SCOPE, frames: frames.map((f) => Array.from(f)) });
  }

  it('a credential tab refuses, over the mesh, a peer whose credential is expired, is for another scope, or lacks the keys', async () => {
    const page = await openTab(browser, site);
    const tabPage = browser.context.pages().find((p) => p.url().startsWith(site.url) && p !== page)!;
    expect(await tabCall<Array<{ name: string; self: boolean }>>(tabPage, 'members').then((ms) => ms.find((m) => m.self)?.name)).toBe('tab-c1');
    const hello = (o: { scope?: string; expiresAtMs: bigint }) => helloFrame({
      scope: o.scope ?? SCOPE, name: 'tab-evil', incarnation: BigInt(Date.now()) * 1000n, nonce: randomBytes(16), listen: '', weight: 1,
      kinds: ['tab-inline'], auth: AUTH_MODE.credential, credentialKinds: ['tab-inline'], expiresAtMs: o.expiresAtMs, heartbeatWantMs: 250,
    });
    const later = BigInt(Date.now() + 60_000);
    expect(await meshAttempt(page, [hello({ expiresAtMs: BigInt(Date.now() - 1000) })])).toBe('credential_expired');
    expect(await meshAttempt(page, [hello({ scope: 'another-scope', expiresAtMs: later })])).toBe('wrong_scope');
    // Without the tab link keys a dialer can only send a proof it made up.
    expect(await meshAttempt(page, [hello({ expiresAtMs: later }), encodeFrame({ type: MSG.AUTH, fields: [randomBytes(32)] })])).toBe('bad_auth');
    const rejected = (await tabPage.evaluate(() => (window as unknown as { events: Array<{ type: string; reason?: string }> }).events))
      .filter((e) => e.type === 'link_rejected').map((e) => e.reason);
    expect(rejected).toEqual(expect.arrayContaining(['credential_expired', 'wrong_scope', 'bad_auth']));
    expect(node.members().some((m) => m.name === 'tab-evil')).toBe(false);
    await page.close();
  });

  /**
   * A compromised page: it holds its own credential (for `tab-m`), joins the gateway with it and
   * asks for every pair key the gateway will give it; then it dials a tab through the gateway
   * and runs the handshake by hand, under any name and root key it likes.
   */
  async function compromisedPage(token: string) {
    const page = await openTab(browser, site);
    await page.evaluate(async ({ gatewayUrl, token }) => {
      const w = window as unknown as { trellis: any; atk: any };
      const t = new w.trellis.GatewayTransport(gatewayUrl, { mode: 'credential', token }, undefined);
      const atk = { t, link: 0, frames: [] as number[][], closed: '' };
      w.atk = atk;
      await t.listen({
        opened: (id: number) => { atk.link = id; },
        frame: (_id: number, b: Uint8Array) => { atk.frames.push(Array.from(b)); },
        closed: (_id: number, reason: string) => { atk.closed = reason || 'closed'; },
        dialFailed: (_a: string, reason: string) => { atk.closed = `dial_failed ${reason}`; },
      });
    }, { gatewayUrl, token });
    const pairKey = (peer: string, epoch: number) => page.evaluate(async ({ peer, epoch }) => {
      const k = await (window as unknown as { atk: any }).atk.t.pairKey(peer, epoch);
      return k ? Array.from(k as Uint8Array) : null;
    }, { peer, epoch }).then((k) => (k ? new Uint8Array(k) : undefined));
    /** Waits in the page until `n` frames arrived on the link or it closed. */
    const waitFrames = (n: number) => page.evaluate(async (n) => {
      const atk = (window as unknown as { atk: any }).atk;
      const end = Date.now() + 5000;
      while (atk.frames.length < n && !atk.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      return { frames: atk.frames.map((f: number[]) => f), closed: atk.closed as string };
    }, n);
    /** Dials `address` with `hello`, proves with `root` as the dialer; resolves to 'authenticated' or the close reason. */
    const attempt = async (address: string, hello: Uint8Array, root: Uint8Array): Promise<string> => {
      await page.evaluate(async ({ address, hello }) => {
        const atk = (window as unknown as { atk: any }).atk;
        Object.assign(atk, { link: 0, frames: [], closed: '' });
        atk.t.dial(address);
        const end = Date.now() + 5000;
        while (!atk.link && !atk.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
        if (atk.link) atk.t.send(atk.link, new Uint8Array(hello));
      }, { address, hello: Array.from(hello) });
      const first = await waitFrames(1);
      if (first.frames.length < 1) return first.closed || 'no answer';
      const keys = deriveLinkKeys(root, transcriptHash(hello, new Uint8Array(first.frames[0])), 'dialer');
      await page.evaluate((auth) => { const atk = (window as unknown as { atk: any }).atk; atk.t.send(atk.link, new Uint8Array(auth)); },
        Array.from(encodeFrame({ type: MSG.AUTH, fields: [keys.ownProof] })));
      // The listener answers a valid proof with its own AUTH; an invalid one closes the link.
      const after = await waitFrames(2);
      if (after.frames.length >= 2) {
        await page.evaluate(() => { const atk = (window as unknown as { atk: any }).atk; atk.t.close(atk.link, 'done'); });
        return 'authenticated';
      }
      return after.closed || 'no answer';
    };
    return { page, pairKey, attempt };
  }

  it('a page that presents another tab\'s name to a tab is refused (bad_auth) under every key it can get; the honest tabs stay linked', async () => {
    const pages = await Promise.all([openTab(browser, site), openTab(browser, site)]);
    const names = ['tab-f1', 'tab-f2'];
    const tokens = names.map((name) => node.mintCredential({ name, kinds: TAB_KINDS, expiresInMs: CREDENTIAL_MS }));
    for (let i = 0; i < 2; i++) expect(await startCredentialTab(pages[i], gatewayUrl, tokens[i])).toBe(names[i]);
    type Member = { name: string; status: string; incarnation: number; address: string };
    const membersOf = (p: Page) => tabCall<Member[]>(p, 'members');
    const seesUp = async (p: Page, other: string) => (await membersOf(p)).some((m) => m.name === other && m.status === 'up');
    expect(await until(async () => (await seesUp(pages[0], 'tab-f2')) && (await seesUp(pages[1], 'tab-f1')), 5000)).toBe(true);
    const f1Before = (await membersOf(pages[1])).find((m) => m.name === 'tab-f1')!;
    const f2Address = (await membersOf(pages[1])).find((m) => m.name === 'tab-f2')!.address;

    const mToken = node.mintCredential({ name: 'tab-m', kinds: TAB_KINDS, expiresInMs: CREDENTIAL_MS });
    const m = decodeCredentialToken(mToken)!;
    const f2 = decodeCredentialToken(tokens[1])!;
    const epoch = Math.floor(Math.min(m.expiresAtMs, f2.expiresAtMs) / 60_000);
    const atk = await compromisedPage(mToken);
    const hello = (name: string) => helloFrame({
      scope: SCOPE, name, incarnation: BigInt(Date.now()) * 1000n + 999n, nonce: randomBytes(16), listen: '', weight: 1,
      kinds: ['tab-inline'], auth: AUTH_MODE.credential, credentialKinds: m.kinds, expiresAtMs: BigInt(m.expiresAtMs), heartbeatWantMs: 250,
    });
    // The gateway gives the page the pair keys of its own name only: tab-m with tab-f2.
    const mf2 = await atk.pairKey('tab-f2', epoch);
    expect(mf2?.length).toBe(32);
    expect(await atk.pairKey('tab-m', epoch)).toBeUndefined();
    // Control: under its own name the page links tab-f2 (the handshake by hand is right).
    expect(await atk.attempt(f2Address, hello('tab-m'), mf2!)).toBe('authenticated');
    // Under tab-f1's name: its pair key with tab-f2 is not the one tab-f2 fetches, nor is the
    // tab link key of the epoch every credential of the scope carries (the key before pair keys).
    expect(await atk.attempt(f2Address, hello('tab-f1'), mf2!)).toBe('bad_auth');
    expect(await atk.attempt(f2Address, hello('tab-f1'), m.tabLinkKeys[epoch - m.firstEpoch])).toBe('bad_auth');
    const f2Events = await pages[1].evaluate(() => (window as unknown as { events: Array<{ type: string; reason?: string; peer?: string; name?: string }> }).events);
    expect(f2Events.filter((e) => e.type === 'link_rejected' && e.reason === 'bad_auth' && e.peer === 'tab-f1').length).toBe(2);
    // The honest tabs are undisturbed: tab-f1 is still up on tab-f2 as the same incarnation, and never went down.
    await new Promise((r) => setTimeout(r, 500));
    const f1After = (await membersOf(pages[1])).find((x) => x.name === 'tab-f1')!;
    expect({ status: f1After.status, incarnation: f1After.incarnation }).toEqual({ status: 'up', incarnation: f1Before.incarnation });
    expect(f2Events.some((e) => e.type === 'member_down' && e.name === 'tab-f1')).toBe(false);
    expect(await seesUp(pages[0], 'tab-f2')).toBe(true);
    await Promise.all([...pages, atk.page].map((p) => p.close()));
  });
});
