// Seeds found at run time, a wildcard bind without advertise, and the CLI configured from the
// environment alone: real start() calls and a real CLI process on real sockets.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { start, type Supervisor } from '../src/index.js';
import { externalIpv4Addresses, InvalidOptionError, type TrellisEvent } from '@trellis/core';
import { waitUntil } from '../../conformance/src/drivers/process-member.js';

const cli = fileURLToPath(new URL('../bin/trellis.mjs', import.meta.url));
const kindsFile = fileURLToPath(new URL('../demo/kinds.mjs', import.meta.url));
const base = { scope: 'deploy', secret: 'deploy-secret', kinds: { noop: { run: async () => undefined } }, heartbeatMs: 100, failureTimeoutMs: 600, syncIntervalMs: 200 };
const running: Supervisor[] = [];
afterEach(async () => { await Promise.all(running.splice(0).map((s) => s.kill())); });
const node = async (o: Record<string, unknown>) => { const s = await start({ ...base, listen: { host: '127.0.0.1', port: 0 }, ...o }); running.push(s); return s; };

describe('seeds found at run time', () => {
  it('a member whose seed function finds nobody at first joins once it returns an address', async () => {
    const a = await node({ name: 'a' });
    let found: string[] = [];
    let readings = 0;
    const b = await node({ name: 'b', seeds: [() => { readings++; return found; }] });
    const events: TrellisEvent[] = [];
    b.on('event', (e) => events.push(e));
    expect(b.ready).toBe(true);
    await waitUntil(() => readings >= 3, 5000, 'the function read at boot and at two sync intervals');
    expect(b.members().filter((m) => !m.self)).toEqual([]);
    found = [a.address!];
    await waitUntil(() => b.members().length === 2 && a.members().length === 2, 5000, 'b joins a');
    // Only the address the function returned is dialed (again if a handshake timed out on a busy machine).
    const dialed = events.filter((e) => e.type === 'dialing').map((e) => (e as { address: string }).address);
    expect(dialed.length).toBeGreaterThan(0);
    expect(new Set(dialed)).toEqual(new Set([a.address]));
  });

  it('a DNS name that does not resolve is reported as a typed seed failure, again every interval', async () => {
    const b = await node({ name: 'b', seeds: [{ dns: 'no-such-member.invalid', port: 4000 }] });
    const failures: TrellisEvent[] = [];
    b.on('event', (e) => { if (e.type === 'seed_failed') failures.push(e); });
    await waitUntil(() => failures.length >= 2, 8000, 'two failed readings');
    expect(failures[0]).toMatchObject({ type: 'seed_failed', source: 'dns+ws://no-such-member.invalid:4000', code: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|timeout)$/) });
  });
});

describe('a wildcard bind without advertise', () => {
  it('advertises the one non-loopback IPv4 address, or refuses naming advertise', async () => {
    const ips = externalIpv4Addresses();
    const p = node({ name: 'w', listen: { host: '0.0.0.0', port: 0 } });
    if (ips.length === 1) expect((await p).address).toMatch(new RegExp(`^ws://${ips[0].replace(/\./g, '\\.')}:\\d+$`));
    else await expect(p).rejects.toThrow(expect.objectContaining({ option: 'advertise' }));
    // Either way nothing is left listening on a refused start, and an explicit advertise always works.
    const s = await node({ name: 'w2', listen: { host: '0.0.0.0', port: 0 }, advertise: 'ws://127.0.0.2:4999' });
    expect(s.address).toBe('ws://127.0.0.2:4999');
    await expect(node({ name: 'w3', advertise: 'ws://0.0.0.0:1' })).rejects.toBeInstanceOf(InvalidOptionError);
  });
});

describe('the CLI from the environment', () => {
  it('runs a member configured only by TRELLIS_* variables, and names a bad variable', async () => {
    const a = await node({ name: 'seed' });
    const env = {
      ...process.env, TRELLIS_SCOPE: 'deploy', TRELLIS_NAME: 'from-env', TRELLIS_LISTEN: '0.0.0.0:0',
      TRELLIS_ADVERTISE: 'ws://127.0.0.3:4000', TRELLIS_SEEDS: a.address!, TRELLIS_SECRET: 'deploy-secret',
    };
    const proc = spawn(process.execPath, [cli, 'node', '--kinds', kindsFile, '--heartbeat-ms', '100', '--failure-timeout-ms', '600'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    try {
      await waitUntil(() => a.members().some((m) => m.name === 'from-env'), 10_000, 'the CLI member joins');
      expect(stderr).toContain('node from-env listening on ws://127.0.0.3:4000');
      expect(a.members().find((m) => m.name === 'from-env')?.address).toBe('ws://127.0.0.3:4000');
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await new Promise((r) => proc.once('exit', r))).toBe(0);
    const bad = spawn(process.execPath, [cli, 'node', '--kinds', kindsFile], { env: { ...env, TRELLIS_LISTEN: 'nowhere' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let badErr = '';
    bad.stderr.on('data', (d) => { badErr += d; });
    expect(await new Promise((r) => bad.once('exit', r))).toBe(2);
    expect(badErr).toContain('TRELLIS_LISTEN: must be HOST:PORT');
  });
});
