// Member credentials: a server member mints a credential for a name, kinds and an expiry; a
// member holding only the credential joins under that name with those kinds, runs children, and
// is closed out at the expiry (its children fail over). A credential cannot be used under another
// name, with other kinds, or after its expiry.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { ProcessMember } from '../src/drivers/process-member.js';
import { decodeCredentialToken, encodeCredentialToken } from '../src/protocol-session.js';
import { RawLink, hello, dialerHandshake, AUTH_MODE } from '../src/security/raw-link.js';
import { SCOPE, member, formed, rejections, waitUntil } from './security-support.js';

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
});
