// The options for running across machines, as pure functions: the advertised address (and the
// rule for a wildcard bind), seed sources, TLS option checks, and the configuration from the
// environment with every variable and an error naming a bad one.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { advertisedAddress, checkAdvertise, checkTls, fromEnv, parseSeeds, resolveSeeds, tlsReason, EnvVariableError } from '../src/index.js';

describe('advertised address', () => {
  it('is advertise when given, else the bound address', () => {
    expect(advertisedAddress('ws://0.0.0.0:4000', 'ws://10.0.0.5:4000', () => [])).toBe('ws://10.0.0.5:4000');
    expect(advertisedAddress('ws://127.0.0.1:4000', undefined, () => { throw new Error('not asked'); })).toBe('ws://127.0.0.1:4000');
    expect(advertisedAddress(undefined, undefined, () => [])).toBeUndefined();
    expect(() => advertisedAddress(undefined, 'ws://10.0.0.5:4000', () => [])).toThrow(expect.objectContaining({ option: 'advertise' }));
  });
  it('a wildcard bind takes the one non-loopback IPv4 address, and refuses naming advertise when there are none or several', () => {
    expect(advertisedAddress('wss://0.0.0.0:4000', undefined, () => ['10.1.2.3'])).toBe('wss://10.1.2.3:4000');
    expect(advertisedAddress('ws://[::]:4000', undefined, () => ['10.1.2.3'])).toBe('ws://10.1.2.3:4000');
    expect(() => advertisedAddress('ws://0.0.0.0:4000', undefined, () => [])).toThrow(expect.objectContaining({ option: 'advertise' }));
    expect(() => advertisedAddress('ws://0.0.0.0:4000', undefined, () => ['10.0.0.1', '172.17.0.1'])).toThrow(/10\.0\.0\.1, 172\.17\.0\.1/);
  });
  it('advertise must be a dialable ws:// or wss:// URL', () => {
    expect(checkAdvertise('wss://member-0.members.svc:4000/')).toBe('wss://member-0.members.svc:4000');
    for (const bad of ['http://a:1', 'ws://0.0.0.0:4000', 'ws://a:1/path', 'a:1', 42]) {
      expect(() => checkAdvertise(bad)).toThrow(expect.objectContaining({ option: 'advertise' }));
    }
  });
});

describe('seed sources', () => {
  it('splits static URLs from DNS seeds (object or dns+ws:// string) and functions, naming a bad entry', () => {
    const fn = () => ['ws://x:1'];
    const p = parseSeeds(['ws://a:1', { dns: 'members.svc', port: 4000 }, 'dns+wss://m.example:443', fn]);
    expect(p.fixed).toEqual(['ws://a:1']);
    expect(p.dynamic).toEqual([{ dns: 'members.svc', port: 4000, scheme: 'ws', family: 0 }, { dns: 'm.example', port: 443, scheme: 'wss', family: 0 }, fn]);
    expect(() => parseSeeds(['ws://a:1', { dns: 'x', port: 0 }])).toThrow(expect.objectContaining({ option: 'seeds[1].port' }));
    expect(() => parseSeeds(['dns+ws://nope'])).toThrow(expect.objectContaining({ option: 'seeds[0]' }));
    expect(() => parseSeeds('ws://a:1')).toThrow(expect.objectContaining({ option: 'seeds' }));
  });
  it('resolves every address a name has with its port and scheme, and reports a failing source by its code', async () => {
    const lookup = async (name: string) => { if (name === 'gone.svc') throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' }); return ['10.0.0.1', 'fd00::2']; };
    const r = await resolveSeeds(parseSeeds([{ dns: 'members.svc', port: 4000, scheme: 'wss' }, { dns: 'gone.svc', port: 1 }, () => ['ws://f:1'], () => [7 as unknown as string]]).dynamic, lookup);
    expect(r.addresses.sort()).toEqual(['ws://f:1', 'wss://10.0.0.1:4000', 'wss://[fd00::2]:4000']);
    expect(r.failures.map((f) => [f.source, f.code]).sort()).toEqual([['dns+ws://gone.svc:1', 'ENOTFOUND'], ['function', 'not_an_address']]);
  });
});

describe('TLS options', () => {
  it('names the bad field, and maps TLS codes to reasons', () => {
    expect(() => checkTls({ cert: 'x' })).toThrow(expect.objectContaining({ option: 'tls.key' }));
    expect(() => checkTls({ cert: 'x', key: 'y', ca: [] })).toThrow(expect.objectContaining({ option: 'tls.ca' }));
    expect(checkTls({ cert: 'x', key: 'y' })).toEqual({ cert: 'x', key: 'y' });
    expect(tlsReason('CERT_HAS_EXPIRED')).toBe('cert_expired');
    expect(tlsReason('ERR_TLS_CERT_ALTNAME_INVALID')).toBe('cert_name_mismatch');
    expect(tlsReason('SELF_SIGNED_CERT_IN_CHAIN')).toBe('cert_untrusted');
    expect(tlsReason('ERR_SSL_WRONG_VERSION_NUMBER')).toBe('tls_error');
    expect(tlsReason('ECONNREFUSED')).toBeUndefined();
  });
});

describe('fromEnv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-env-'));
  const file = (name: string, text: string) => { writeFileSync(join(dir, name), text); return join(dir, name); };

  it('reads every variable', () => {
    const o = fromEnv({
      TRELLIS_SCOPE: 'shop', TRELLIS_NAME: 'm1', TRELLIS_LISTEN: '[::]:4000', TRELLIS_ADVERTISE: 'wss://10.0.0.5:4000',
      TRELLIS_SEEDS: 'wss://10.0.0.6:4000, dns+wss://members.svc:4000', TRELLIS_SECRET_FILE: file('secret', 's3cret\n'),
      TRELLIS_TLS_CERT_FILE: file('c.pem', 'CERT'), TRELLIS_TLS_KEY_FILE: file('k.pem', 'KEY'), TRELLIS_TLS_CA_FILE: file('ca.pem', 'CA'),
    }, (p) => readFileSync(p, 'utf8'));
    expect(o).toEqual({
      scope: 'shop', name: 'm1', listen: { host: '::', port: 4000 }, advertise: 'wss://10.0.0.5:4000',
      seeds: ['wss://10.0.0.6:4000', 'dns+wss://members.svc:4000'], secret: 's3cret', tls: { cert: 'CERT', key: 'KEY', ca: 'CA' },
    });
    expect(fromEnv({ TRELLIS_SECRET: 'inline' })).toEqual({ secret: 'inline' });
    expect(fromEnv({ TRELLIS_SCOPE: '', PATH: '/bin' })).toEqual({});
  });

  it('names the variable at fault', () => {
    const bad: [Record<string, string>, string, string][] = [
      [{ TRELLIS_LISTEN: '4000' }, 'TRELLIS_LISTEN', 'listen'],
      [{ TRELLIS_ADVERTISE: 'ws://0.0.0.0:4000' }, 'TRELLIS_ADVERTISE', 'advertise'],
      [{ TRELLIS_SEEDS: 'ws://a:1,10.0.0.2:4000' }, 'TRELLIS_SEEDS', 'seeds'],
      [{ TRELLIS_SEEDS: 'dns+ws://members.svc' }, 'TRELLIS_SEEDS', 'seeds'],
      [{ TRELLIS_SECRET: 'a', TRELLIS_SECRET_FILE: '/x' }, 'TRELLIS_SECRET_FILE', 'secret'],
      [{ TRELLIS_SECRET_FILE: join(dir, 'missing') }, 'TRELLIS_SECRET_FILE', 'secret'],
      [{ TRELLIS_SECRET_FILE: file('empty', '\n') }, 'TRELLIS_SECRET_FILE', 'secret'],
      [{ TRELLIS_TLS_CERT_FILE: file('c2.pem', 'C') }, 'TRELLIS_TLS_KEY_FILE', 'tls.key'],
    ];
    for (const [env, variable, option] of bad) {
      let err: unknown;
      try { fromEnv(env, (p) => readFileSync(p, 'utf8')); } catch (e) { err = e; }
      expect(err, variable).toBeInstanceOf(EnvVariableError);
      expect(err).toMatchObject({ variable, option, code: 'invalid_option' });
      expect((err as Error).message.startsWith(`${variable}: `)).toBe(true);
    }
  });
});
