// No silent open cluster, and options that agree with the core (issue 11): start() needs a
// secret, a credential or `insecure: true`; limits count UTF-8 bytes as the core does; a
// credential token is checked against the other options before anything starts.
import { describe, it, expect, afterEach } from 'vitest';
import { resolveOptions, InvalidOptionError } from '@trellis/core';
import { parseArgs } from '../../host-node/src/cli-args.js';
import { ProcessMember, RemoteError } from '../src/drivers/process-member.js';
import { encodeCredentialToken, mintCredential } from '../src/protocol-session.js';

const kinds = { worker: { run: async () => undefined }, other: { run: async () => undefined } };
const name = () => 'default-name';
const optionOf = (fn: () => unknown): string | undefined => {
  try { fn(); } catch (e) { if (e instanceof InvalidOptionError) return e.option; throw e; }
  return undefined;
};

describe('security options: a secret is required', () => {
  it('start() without secret, credential or insecure: true names `secret`', () => {
    expect(optionOf(() => resolveOptions({ scope: 's', kinds }, name))).toBe('secret');
    expect(optionOf(() => resolveOptions({ scope: 's', kinds, secret: undefined }, name))).toBe('secret');
    expect(optionOf(() => resolveOptions({ scope: 's', kinds, insecure: false }, name))).toBe('secret');
  });
  it('accepts exactly one of secret, credential and insecure: true', () => {
    expect(resolveOptions({ scope: 's', kinds, secret: 'x' }, name).secret).toEqual(new TextEncoder().encode('x'));
    expect(resolveOptions({ scope: 's', kinds, insecure: true }, name)).toMatchObject({ insecure: true, secret: undefined });
    expect(optionOf(() => resolveOptions({ scope: 's', kinds, secret: 'x', insecure: true }, name))).toBe('insecure');
    expect(optionOf(() => resolveOptions({ scope: 's', kinds, insecure: 'yes' }, name))).toBe('insecure');
    expect(optionOf(() => resolveOptions({ scope: 's', kinds, secret: '' }, name))).toBe('secret');
  });
  it('CLI: --insecure and --credential-env', () => {
    const base = ['node', '--scope', 's', '--listen', '127.0.0.1:0', '--kinds', 'k.js'];
    expect(parseArgs(base)).toMatchObject({ insecure: false });
    expect(parseArgs([...base, '--insecure'])).toMatchObject({ insecure: true });
    expect(parseArgs([...base, '--credential-env', 'TAB_CRED'])).toMatchObject({ credentialEnv: 'TAB_CRED' });
  });
});

describe('security options: limits in UTF-8 bytes, as the core counts them', () => {
  it('a name or scope of 300 UTF-8 bytes (150 UTF-16 units) is refused; 256 bytes is accepted', () => {
    const e300 = 'é'.repeat(150), e256 = 'é'.repeat(128);
    expect(optionOf(() => resolveOptions({ scope: 's', kinds, insecure: true, name: e300 }, name))).toBe('name');
    expect(optionOf(() => resolveOptions({ scope: e300, kinds, insecure: true }, name))).toBe('scope');
    expect(resolveOptions({ scope: e256, kinds, insecure: true, name: e256 }, name).name).toBe(e256);
  });
  it('kind names and seed addresses are bounded in bytes too', () => {
    expect(optionOf(() => resolveOptions({ scope: 's', insecure: true, kinds: { ['ü'.repeat(129)]: { run: async () => undefined } } }, name))).toBe(`kinds.${'ü'.repeat(129)}`);
    expect(optionOf(() => resolveOptions({ scope: 's', kinds, insecure: true, seeds: ['ws://' + 'ä'.repeat(1100)] }, name))).toBe('seeds[0]');
  });
});

describe('security options: credentials', () => {
  const secret = new TextEncoder().encode('server secret');
  const token = (o: { scope?: string; name?: string; kinds?: string[]; expiresAtMs?: bigint } = {}) =>
    encodeCredentialToken(mintCredential(secret, o.scope ?? 's', o.name ?? 'tab', o.kinds ?? ['worker'], o.expiresAtMs ?? BigInt(Date.now() + 60_000)));
  it('a valid credential gives the name it is for', () => {
    const r = resolveOptions({ scope: 's', kinds: { worker: kinds.worker }, credential: token() }, name);
    expect(r.name).toBe('tab');
    expect(r.credential).toMatchObject({ name: 'tab', kinds: ['worker'], scope: 's' });
  });
  it('refuses another name, another scope, a kind it does not allow, an expired or garbled token', () => {
    expect(optionOf(() => resolveOptions({ scope: 's', kinds: { worker: kinds.worker }, credential: token(), name: 'tab2' }, name))).toBe('name');
    expect(optionOf(() => resolveOptions({ scope: 's', kinds: { worker: kinds.worker }, credential: token({ scope: 'other' }) }, name))).toBe('credential');
    expect(optionOf(() => resolveOptions({ scope: 's', kinds, credential: token() }, name))).toBe('kinds.other');
    expect(optionOf(() => resolveOptions({ scope: 's', kinds: { worker: kinds.worker }, credential: token({ expiresAtMs: BigInt(Date.now() - 1) }) }, name))).toBe('credential');
    expect(optionOf(() => resolveOptions({ scope: 's', kinds: { worker: kinds.worker }, credential: 'not a token' }, name))).toBe('credential');
    expect(optionOf(() => resolveOptions({ scope: 's', kinds: { worker: kinds.worker }, credential: token().slice(0, -4) }, name))).toBe('credential');
    expect(optionOf(() => resolveOptions({ scope: 's', kinds: { worker: kinds.worker }, credential: token(), secret: 'x' }, name))).toBe('credential');
  });
});

describe('security options: real members', () => {
  const members: ProcessMember[] = [];
  afterEach(async () => { await Promise.all(members.splice(0).map((m) => m.kill())); });

  it('a member started without a secret fails to start, naming `secret`', async () => {
    const err = await ProcessMember.spawn('node', { name: 'open', extra: { insecure: false } }).then((m) => { members.push(m); return null; }, (e: RemoteError) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err!.info).toMatchObject({ name: 'InvalidOptionError', option: 'secret' });
  });
  it('an insecure member emits a warning event at start', async () => {
    const m = await ProcessMember.spawn('node', { name: 'open' });
    members.push(m);
    const w = await m.waitEvent((e) => e.type === 'warning', 5000, 'warning');
    expect(w.event).toMatchObject({ type: 'warning', code: 'insecure' });
  });
  it('a member with a secret emits no warning', async () => {
    const m = await ProcessMember.spawn('node', { name: 'closed', secret: 'a secret of the test' });
    members.push(m);
    // the warning, if any, is emitted on the turn after start(), before the member reads its first command
    await m.call('ready');
    expect(m.events.filter((e) => e.event.type === 'warning')).toEqual([]);
  });
  it('a 300-byte non-ASCII name: start() fails naming `name` (it used to give a dead node)', async () => {
    const err = await ProcessMember.spawn('node', { name: 'é'.repeat(150) }).then((m) => { members.push(m); return null; }, (e: RemoteError) => e);
    expect(err!.info).toMatchObject({ name: 'InvalidOptionError', option: 'name' });
  });
});
