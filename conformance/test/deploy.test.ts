// Running across machines, on real processes and sockets (docs/DEPLOY.md): members that bind a
// wildcard and advertise another address, wss:// with a private CA and typed refusals, and seeds
// from DNS. Every scenario runs on Node and on Bun members.
import { describe, it, expect, afterEach, beforeAll } from 'vitest';
import { createServer } from 'node:net';
import { ProcessMember, waitUntil, type Host, type MemberOptions } from '../src/drivers/process-member.js';
import { makePki, type Pki } from './pki.js';

const SECRET = 'deploy-test-secret';
const running: ProcessMember[] = [];
afterEach(async () => { await Promise.all(running.splice(0).map((m) => m.kill())); });

async function member(host: Host, o: MemberOptions): Promise<ProcessMember> {
  const m = await ProcessMember.spawn(host, { secret: SECRET, ...o });
  running.push(m);
  return m;
}

/** A port free on every loopback address right now (the OS picks it; the socket is closed again). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(0, '0.0.0.0', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
  });
}

const upNames = async (m: ProcessMember) => (await m.members()).filter((x) => x.status === 'up').map((x) => x.name).sort();
const dialed = (m: ProcessMember) => m.events.filter((e) => e.event.type === 'dialing').map((e) => e.event.address as string);
const tlsFailures = (m: ProcessMember) => m.events.filter((e) => e.event.type === 'tls_failed').map((e) => e.event);

let pki: Pki;
beforeAll(() => { pki = makePki(); });

describe.each<Host>(['node', 'bun'])('%s members across machines', (host) => {
  it('three members bind 0.0.0.0 and advertise 127.0.0.2-4: one cluster, every link dialed to an advertised address', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const advertised = ports.map((p, i) => `ws://127.0.0.${i + 2}:${p}`);
    const names = ['m2', 'm3', 'm4'];
    const ms: ProcessMember[] = [];
    for (let i = 0; i < 3; i++) {
      ms.push(await member(host, {
        name: names[i], seeds: i === 0 ? [] : [advertised[0]],
        extra: { listen: { host: '0.0.0.0', port: ports[i] }, advertise: advertised[i] },
      }));
      expect(ms[i].address).toBe(advertised[i]);
    }
    for (const m of ms) await waitUntil(async () => (await upNames(m)).length === 3, 15_000, `${m.name} sees three members`);
    for (const m of ms) {
      const listed = (await m.members()).map((x) => x.address).sort();
      expect(listed).toEqual([...advertised].sort());
    }
    // The joiners dialed the seed, then each other at the addresses learned by gossip: never a wildcard.
    const all = ms.flatMap(dialed);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const a of all) expect(advertised).toContain(a);
    expect(dialed(ms[2])).toContain(advertised[0]);
  });

  it('a wss:// cluster with a private CA forms; a member whose certificate is from another CA is refused with a typed reason', async () => {
    const tls = { cert: pki.good.cert, key: pki.good.key, ca: pki.ca };
    const a = await member(host, { name: 'tls-a', extra: { tls } });
    expect(a.address).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const b = await member(host, { name: 'tls-b', seeds: [a.address], extra: { tls } });
    const c = await member(host, { name: 'tls-c', seeds: [b.address], extra: { tls } });
    for (const m of [a, b, c]) await waitUntil(async () => (await upNames(m)).length === 3, 15_000, `${m.name} sees three members`);
    for (const m of [a, b, c]) expect(tlsFailures(m)).toEqual([]);
    // A member of another PKI: its CA does not vouch for the cluster's certificates.
    const stranger = await member(host, { name: 'stranger', seeds: [a.address], extra: { tls: { cert: pki.foreign.cert, key: pki.foreign.key, ca: pki.otherCa } } });
    await waitUntil(() => tlsFailures(stranger).length > 0, 10_000, 'stranger reports a TLS failure');
    expect(tlsFailures(stranger)[0]).toMatchObject({ address: a.address, outbound: true, reason: 'cert_untrusted' });
    expect(await upNames(stranger)).toEqual(['stranger']);
    expect(await upNames(a)).toEqual(['tls-a', 'tls-b', 'tls-c']);
  });

  it('a dialer names an expired certificate and one issued for another name', async () => {
    const expired = await member(host, { name: 'expired', extra: { tls: { ...pki.expired, ca: pki.ca } } });
    const wrong = await member(host, { name: 'wrong-name', extra: { tls: { ...pki.wrongName, ca: pki.ca } } });
    const dialer = await member(host, { name: 'dialer', seeds: [expired.address, wrong.address], extra: { tls: { ...pki.good, ca: pki.ca } } });
    await waitUntil(() => new Set(tlsFailures(dialer).map((e) => e.address)).size === 2, 10_000, 'both refusals reported');
    const reasonOf = (addr: string) => tlsFailures(dialer).find((e) => e.address === addr)?.reason;
    expect(reasonOf(expired.address)).toBe('cert_expired');
    expect(reasonOf(wrong.address)).toBe('cert_name_mismatch');
    expect(await upNames(dialer)).toEqual(['dialer']);
  });

  it('a member started with only a DNS seed (localhost) joins', async () => {
    const a = await member(host, { name: 'dns-a' });
    const port = Number(new URL(a.address).port);
    const seed = host === 'node' ? { dns: 'localhost', port, scheme: 'ws', family: 4 } : `dns+ws://localhost:${port}`;
    const b = await member(host, { name: 'dns-b', seeds: [seed as unknown as string] });
    for (const m of [a, b]) await waitUntil(async () => (await upNames(m)).length === 2, 10_000, `${m.name} sees two members`);
    expect(dialed(b)).toContain(`ws://127.0.0.1:${port}`);
  });
});

describe('node members across machines: the listener side of mutual TLS', () => {
  it('a listener refuses a dialer whose certificate is from another CA, and both sides say why', async () => {
    const a = await member('node', { name: 'mtls-a', extra: { tls: { ...pki.good, ca: pki.ca } } });
    // Trusts the cluster CA, so it accepts a's certificate; a does not accept its own.
    const d = await member('node', { name: 'mtls-d', seeds: [a.address], extra: { tls: { ...pki.foreign, ca: pki.ca } } });
    await waitUntil(() => tlsFailures(a).length > 0 && tlsFailures(d).length > 0, 10_000, 'refusal reported on both sides');
    expect(tlsFailures(a)[0]).toMatchObject({ outbound: false, reason: 'cert_untrusted' });
    expect(tlsFailures(d)[0]).toMatchObject({ address: a.address, outbound: true, reason: 'cert_rejected_by_peer' });
    expect(await a.call<Record<string, number>>('tlsFailures')).toMatchObject({ cert_untrusted: expect.any(Number) });
    expect(await upNames(a)).toEqual(['mtls-a']);
  });
});
