// Member credentials: a server member mints a credential for a name, kinds and an expiry; a
// member holding only the credential joins under that name with those kinds, runs children, and
// is closed out at the expiry (its children fail over). A credential cannot be used under another
// name, with other kinds, or after its expiry. Two credential members of a host with no gateway
// (Node processes here) link each other under their pair key, which their cores get from a
// secret member over their links to it (docs/PROTOCOL.md "Pair key relay"); tabs get theirs from
// their gateway (security-pair-keys, browser-credential).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { ProcessMember } from '../src/drivers/process-member.js';
import { decodeCredentialToken, encodeCredentialToken, mintCredential, pairKey, TAB_LINK_EPOCH_MS } from '../src/protocol-session.js';
import { createHmac, randomBytes } from 'node:crypto';
import { MSG_RENEW, encodeFrame } from '../src/protocol.js';
import { RawLink, hello, dialerHandshake, AUTH_MODE } from '../src/security/raw-link.js';
import { SCOPE, SECRET, member, formed, rejections, waitUntil } from './security-support.js';

describe('security: member credentials', () => {
  let s1: ProcessMember, s2: ProcessMember;
  const extra: ProcessMember[] = [];
  beforeAll(async () => {
    s1 = await member({ name: 's1' });
    s2 = await member({ name: 's2', seeds: [s1.address] });
    await formed([s1, s2]);
  });
  afterAll(async () => { await Promise.all([s1, s2, ...extra].map((m) => m?.kill())); });

  /** The raw client presents `token`'s credential, with HELLO fields overridden. */
  async function present(token: string, o: { name?: string; kinds?: string[]; credentialKinds?: string[] } = {}): Promise<string> {
    const c = decodeCredentialToken(token);
    const l = await RawLink.connect(s1.address);
    const h = hello({ scope: SCOPE, name: o.name ?? c.name, auth: AUTH_MODE.credential, kinds: o.kinds ?? c.kinds, credentialKinds: o.credentialKinds ?? c.kinds, expiresAtMs: c.expiresAtMs });
    await dialerHandshake(l, h, c.key, 2000).catch(() => undefined);
    return (await l.closed).reason;
  }

  it('a credential member joins under its name, runs children, and is closed at the expiry; its children fail over', async () => {
    const lifetimeMs = 6000;
    const token = await s1.mintCredential({ name: 'tab', kinds: ['worker'], expiresInMs: lifetimeMs });
    const mintedAt = Date.now();
    expect(decodeCredentialToken(token)).toMatchObject({ scope: SCOPE, name: 'tab', kinds: ['worker'] });
    const tab = await member({ name: 'tab', secret: undefined, credential: token, kindNames: ['worker'], seeds: [s1.address] });
    extra.push(tab);
    await formed([s1, s2, tab]);
    expect((await s2.members()).find((m) => m.name === 'tab')?.kinds).toEqual(['worker']);
    for (let i = 0; i < 12; i++) await s1.startChild({ id: `cred-${i}`, kind: 'worker' });
    await waitUntil(async () => (await tab.whichChildren('local')).some((c) => c.status === 'running'), 5000, 'tab runs a child');
    // at the expiry both servers drop tab; everything runs on s1 and s2
    await s1.waitEvent((e) => e.type === 'member_down' && e.name === 'tab', lifetimeMs + 5000, 'tab closed out on s1');
    expect(Date.now() - mintedAt).toBeGreaterThanOrEqual(lifetimeMs - 50);
    await s2.waitEvent((e) => e.type === 'member_down' && e.name === 'tab', 3000, 'tab closed out on s2');
    await waitUntil(async () => {
      const g = await s1.whichChildren('global');
      return g.filter((c) => c.id.startsWith('cred-')).every((c) => c.status === 'running' && (c.node === 's1' || c.node === 's2'));
    }, 5000, 'children failed over');
    expect(rejections(s1, 'credential_expired') + rejections(s2, 'credential_expired')).toBeGreaterThan(0);
    // and it cannot come back with the expired credential
    expect(await present(token)).toBe('credential_expired');
  });

  it('refused under another name (bad_auth)', async () => {
    const token = await s1.mintCredential({ name: 'tab-a', kinds: ['worker'], expiresInMs: 60_000 });
    expect(await present(token, { name: 'tab-b' })).toBe('bad_auth');
  });

  it('refused when advertising a kind it does not allow (kinds_not_allowed), or claiming more kinds than it holds (bad_auth)', async () => {
    const token = await s1.mintCredential({ name: 'tab-k', kinds: ['worker'], expiresInMs: 60_000 });
    expect(await present(token, { kinds: ['crasher'] })).toBe('kinds_not_allowed');
    expect(await present(token, { kinds: ['crasher'], credentialKinds: ['crasher', 'worker'] })).toBe('bad_auth');
    expect(rejections(s1, 'kinds_not_allowed')).toBeGreaterThan(0);
  });

  it('refused after its expiry (credential_expired), by the member and by start()', async () => {
    const token = await s1.mintCredential({ name: 'tab-e', kinds: ['worker'], expiresInMs: 300 });
    await waitUntil(() => Date.now() > Number(decodeCredentialToken(token).expiresAtMs), 2000, 'expiry passed');
    expect(await present(token)).toBe('credential_expired');
    const err = await member({ name: 'tab-e', secret: undefined, credential: token, kindNames: ['worker'], seeds: [s1.address] }).then((m) => { extra.push(m); return null; }, (e: { info: unknown }) => e);
    expect(err?.info).toMatchObject({ name: 'InvalidOptionError', option: 'credential' });
  });

  it('a forged credential (a key not derived from the secret) is refused (bad_auth)', async () => {
    const c = decodeCredentialToken(await s1.mintCredential({ name: 'tab-f', kinds: ['worker'], expiresInMs: 60_000 }));
    const forged = encodeCredentialToken({ ...c, expiresAtMs: c.expiresAtMs + 3_600_000n });
    expect(await present(forged)).toBe('bad_auth');
  });

  /** RENEW's proof (docs/PROTOCOL.md "Renewal"). */
  function renewProof(key: Uint8Array, senderNonce: Uint8Array, receiverNonce: Uint8Array, expiresAtMs: bigint, epoch: bigint): Uint8Array {
    const str = (x: Uint8Array) => { const n = Buffer.alloc(4); n.writeUInt32LE(x.length); return Buffer.concat([n, x]); };
    const u64 = (x: bigint) => { const n = Buffer.alloc(8); n.writeBigUInt64LE(x); return n; };
    return createHmac('sha256', key).update(Buffer.concat([str(Buffer.from('trellis/v3 renew')), str(senderNonce), str(receiverNonce), u64(expiresAtMs), u64(epoch)])).digest();
  }

  it('a renewal moves a credential member\'s expiry only with the new credential\'s key: a forged one is bad_auth', async () => {
    const token = await s1.mintCredential({ name: 'tab-n', kinds: ['worker'], expiresInMs: 60_000 });
    const c = decodeCredentialToken(token);
    /** Authenticates as tab-n on a fresh link; resolves to the link, its crypto and both nonces. */
    const join = async () => {
      const nonce = new Uint8Array(randomBytes(16));
      const l = await RawLink.connect(s1.address);
      const a = await dialerHandshake(l, hello({ scope: SCOPE, name: 'tab-n', auth: AUTH_MODE.credential, kinds: c.kinds, credentialKinds: c.kinds, expiresAtMs: c.expiresAtMs, nonce }), c.key, 2000);
      return { l, a, nonce };
    };
    const renew = (j: Awaited<ReturnType<typeof join>>, key: Uint8Array, exp: bigint) =>
      j.l.send(j.a.crypto.seal(encodeFrame({ type: MSG_RENEW, fields: [exp, 0n, renewProof(key, j.nonce, j.a.peer.nonce, exp, 0n)] })));
    // forged: a later expiry proved with the old key
    const forged = await join();
    renew(forged, c.key, c.expiresAtMs + 3_600_000n);
    expect((await forged.l.closed).reason).toBe('bad_auth');
    // a real renewal: the same name and kinds, minted again
    const again = decodeCredentialToken(await s1.mintCredential({ name: 'tab-n', kinds: ['worker'], expiresInMs: 120_000 }));
    const honest = await join();
    renew(honest, again.key, again.expiresAtMs);
    await s1.waitEvent((e) => e.type === 'credential_renewed' && e.name === 'tab-n' && e.expiresAtMs === Number(again.expiresAtMs), 3000, 'renewal believed');
    honest.l.close();
  });

  /**
   * Dials credential member `listener` (whose credential expires at `listenerExpiresAtMs`) as a raw
   * client presenting `token`'s credential, with the pair key a member holding `pairKeySecret`
   * would give it (the cluster secret unless given; null: it got none and makes one up).
   */
  async function presentToTab(listener: ProcessMember, listenerExpiresAtMs: bigint, token: string, o: { name?: string; expiresAtMs?: bigint; pairKeySecret?: Uint8Array | null } = {}): Promise<string> {
    const c = decodeCredentialToken(token);
    const expiresAtMs = o.expiresAtMs ?? c.expiresAtMs;
    const e = (expiresAtMs < listenerExpiresAtMs ? expiresAtMs : listenerExpiresAtMs) / TAB_LINK_EPOCH_MS;
    const from = o.pairKeySecret === undefined ? new TextEncoder().encode(SECRET) : o.pairKeySecret;
    const root = from ? pairKey(from, SCOPE, e, c.name, listener.name) : new Uint8Array(randomBytes(32));
    const l = await RawLink.connect(listener.address);
    const h = hello({ scope: SCOPE, name: o.name ?? c.name, auth: AUTH_MODE.credential, kinds: c.kinds, credentialKinds: c.kinds, expiresAtMs });
    const proved = await dialerHandshake(l, h, root, 2000).then(() => true, () => false);
    if (proved) { l.close(); return 'authenticated'; }
    return (await l.closed).reason;
  }

  it('two credential members link each other (pair key from a secret member): each lists the other up, and every child runs exactly once', async () => {
    const tokens = await Promise.all(['tab-p', 'tab-q'].map((name) => s1.mintCredential({ name, kinds: ['worker'], expiresInMs: 120_000 })));
    const [p, q] = await Promise.all(['tab-p', 'tab-q'].map((name, i) => member({ name, secret: undefined, credential: tokens[i], kindNames: ['worker'], seeds: [s1.address] })));
    extra.push(p, q);
    await formed([s1, s2, p, q]);
    for (let i = 0; i < 16; i++) await s1.startChild({ id: `pq-${i}`, kind: 'worker' });
    const all = [s1, s2, p, q];
    await waitUntil(async () => {
      const locals = await Promise.all(all.map((m) => m.whichChildren('local')));
      const ids = locals.flatMap((l) => l.filter((c) => c.id.startsWith('pq-') && c.status === 'running').map((c) => c.id));
      return ids.length === 16 && new Set(ids).size === 16;
    }, 10_000, 'every child runs on exactly one member');
    // settled: still exactly once a little later, and every member places the same way
    await new Promise((r) => setTimeout(r, 500));
    const locals = await Promise.all(all.map((m) => m.whichChildren('local')));
    const ids = locals.flatMap((l) => l.filter((c) => c.id.startsWith('pq-') && c.status === 'running').map((c) => c.id));
    expect(ids.sort()).toEqual(Array.from({ length: 16 }, (_, i) => `pq-${i}`).sort());
    expect((await p.whichChildren('local')).length + (await q.whichChildren('local')).length).toBeGreaterThan(0);
    expect(rejections(p, 'no_shared_key') + rejections(q, 'no_shared_key')).toBe(0);
    await Promise.all([p.kill(), q.kill()]);
  });

  it('a credential member refuses a dialing peer whose credential is expired or from another secret, or that made up its pair key; a valid one links', async () => {
    const listenerToken = await s1.mintCredential({ name: 'tab-l', kinds: ['worker'], expiresInMs: 120_000 });
    const listenerExp = decodeCredentialToken(listenerToken).expiresAtMs;
    const listener = await member({ name: 'tab-l', secret: undefined, credential: listenerToken, kindNames: ['worker'], seeds: [s1.address] });
    extra.push(listener);
    await formed([s1, listener]);
    const expired = await s1.mintCredential({ name: 'tab-x', kinds: ['worker'], expiresInMs: 200 });
    await waitUntil(() => Date.now() > Number(decodeCredentialToken(expired).expiresAtMs), 2000, 'expiry passed');
    expect(await presentToTab(listener, listenerExp, expired)).toBe('credential_expired');
    const now = BigInt(Date.now());
    const otherSecret = mintCredential(new TextEncoder().encode('not the cluster secret'), SCOPE, 'tab-x', ['worker'], now + 60_000n, now);
    expect(await presentToTab(listener, listenerExp, encodeCredentialToken(otherSecret), { pairKeySecret: new TextEncoder().encode('not the cluster secret') })).toBe('bad_auth');
    const valid = await s1.mintCredential({ name: 'tab-x', kinds: ['worker'], expiresInMs: 60_000 });
    expect(await presentToTab(listener, listenerExp, valid, { pairKeySecret: null })).toBe('bad_auth');
    expect(rejections(listener, 'credential_expired')).toBeGreaterThan(0);
    expect(rejections(listener, 'bad_auth')).toBeGreaterThanOrEqual(2);
    // the same raw client with a valid credential passes the handshake: the listener proves itself
    expect(await presentToTab(listener, listenerExp, await s1.mintCredential({ name: 'tab-x', kinds: ['worker'], expiresInMs: 60_000 }))).toBe('authenticated');
    await listener.kill();
  });
});
