// The trellis command as a user runs it: from a fresh clone, from a config file, with logs, and
// `trellis status` against a real running cluster (real processes, real sockets).
import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCredentialToken } from '@trellis/core';
import { start, type Supervisor } from '../src/index.js';
import { formatEvent } from '../src/cli-log.js';
import { parseArgs } from '../src/cli-args.js';
import { waitUntil } from '../../conformance/src/drivers/process-member.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cli = fileURLToPath(new URL('../bin/trellis.mjs', import.meta.url));
const kindsFile = fileURLToPath(new URL('../demo/kinds.mjs', import.meta.url));
const SECRET = 'cli-status-secret';
const running: Supervisor[] = [];
const temps: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.kill()));
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = () => { const d = mkdtempSync(join(tmpdir(), 'trellis-cli-')); temps.push(d); return d; };

describe('trellis from a fresh clone', () => {
  it('npx trellis --help works after git clone and npm ci', () => {
    const dir = join(temp(), 'clone');
    execFileSync('git', ['clone', '--quiet', repo, dir]);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, stdio: 'ignore', timeout: 240_000 });
    const out = execFileSync('npx', ['trellis', '--help'], { cwd: dir, encoding: 'utf8' });
    expect(out).toContain('trellis node --scope S --listen HOST:PORT');
    expect(out).toContain('trellis status ws://HOST:PORT');
  }, 300_000);
});

describe('trellis node --config', () => {
  it('names the bad key of a config file, and a flag on the command line wins over the file', () => {
    const dir = temp();
    const file = join(dir, 'trellis.json');
    writeFileSync(file, JSON.stringify({ scope: 's', listen: '127.0.0.1:0', kinds: kindsFile, insecure: true, heartbeatMsx: 5 }));
    const bad = spawnSync(process.execPath, [cli, 'node', '--config', file], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`trellis: InvalidOptionError: ${file}: heartbeatMsx: unknown option\n`);
    writeFileSync(file, JSON.stringify({ scope: 's', listen: 'nope', kinds: kindsFile, insecure: true }));
    const badListen = spawnSync(process.execPath, [cli, 'node', '--config', file], { encoding: 'utf8' });
    expect(badListen.stderr).toBe("trellis: InvalidOptionError: --listen: must be HOST:PORT, got 'nope'\n");
    writeFileSync(file, JSON.stringify({ scope: 's', listen: '127.0.0.1:0', kinds: kindsFile, insecure: 'yes' }));
    const badSwitch = spawnSync(process.execPath, [cli, 'node', '--config', file], { encoding: 'utf8' });
    expect(badSwitch.stderr).toBe(`trellis: InvalidOptionError: ${file}: insecure: must be true or false, got "yes"\n`);
    writeFileSync(file, JSON.stringify({ scope: 'from-file', listen: '127.0.0.1:0', kinds: './k.mjs', seeds: ['ws://a:1', 'ws://b:2'] }));
    expect(parseArgs(['node', '--config', file, '--scope', 'from-flag'])).toMatchObject({ scope: 'from-flag', kindsFile: join(dir, 'k.mjs'), seeds: ['ws://a:1', 'ws://b:2'] });
  });

  it('runs a member from the file that joins a cluster and logs its events as JSON lines', async () => {
    const a = await start({ scope: 'cfg', name: 'a', insecure: true, listen: { host: '127.0.0.1', port: 0 }, kinds: {} });
    running.push(a);
    const dir = temp();
    writeFileSync(join(dir, 'kinds.mjs'), "export const kinds = { noop: { run: (_a, ctx) => new Promise((r) => ctx.signal.addEventListener('abort', r)) } };\n");
    writeFileSync(join(dir, 'trellis.json'), JSON.stringify({ scope: 'cfg', name: 'from-file', listen: '127.0.0.1:0', seeds: [a.address], kinds: './kinds.mjs', insecure: true, heartbeatMs: 100, metrics: '/metrics' }));
    const child = spawn(process.execPath, [cli, 'node', '--config', join(dir, 'trellis.json'), '--log', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    try {
      await waitUntil(() => a.members().some((m) => m.name === 'from-file' && m.status === 'up'), 10_000, 'the member from the file joins');
      await waitUntil(() => out.includes('"member_up"'), 5000, 'its member_up event logged');
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; node: string; time: string; name?: string });
      expect(lines.find((l) => l.type === 'member_up')).toMatchObject({ node: 'from-file', name: 'a', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      const address = a.members().find((m) => m.name === 'from-file')!.address;
      const metrics = await (await fetch(address.replace('ws://', 'http://') + '/metrics')).text();
      expect(metrics).toMatch(/\ntrellis_members\{status="up"\} 2\n/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await waitUntil(() => !a.members().some((m) => m.name === 'from-file'), 5000, 'it left on SIGTERM');
  }, 30_000);

  it('--log pretty writes one readable line per event; a bad format is named', () => {
    expect(formatEvent('pretty', 'n1', { type: 'member_down', name: 'n2', incarnation: 3, reason: 'silent' }, Date.UTC(2026, 0, 2, 3, 4, 5, 6)))
      .toBe('03:04:05.006 n1 member_down      name=n2 incarnation=3 reason=silent\n');
    const r = spawnSync(process.execPath, [cli, 'node', '--scope', 's', '--listen', '127.0.0.1:0', '--kinds', kindsFile, '--log', 'xml'], { encoding: 'utf8' });
    expect(r.stderr).toBe("trellis: InvalidOptionError: --log: must be json or pretty, got 'xml'\n");
  });
});

describe('trellis status', () => {
  it('prints the members and children of a running cluster, as its members see them', async () => {
    const kinds = { work: { run: (_a: unknown, ctx: { signal: AbortSignal }) => new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r())) } };
    const a = await start({ scope: 'st', name: 'a', secret: SECRET, listen: { host: '127.0.0.1', port: 0 }, kinds, heartbeatMs: 100, syncIntervalMs: 200 });
    running.push(a);
    const b = await start({ scope: 'st', name: 'b', secret: SECRET, listen: { host: '127.0.0.1', port: 0 }, seeds: [a.address!], kinds, weight: 2, heartbeatMs: 100, syncIntervalMs: 200 });
    running.push(b);
    await waitUntil(() => a.members().length === 2, 5000, 'a and b joined');
    for (let i = 0; i < 12; i++) await a.startChild({ id: `w${i}`, kind: 'work', args: {} }, { wait: 'running' });
    const env = { ...process.env, ST_SECRET: SECRET };
    const run = (args: string[]) => new Promise<{ code: number | null; out: string; err: string }>((done) => {
      const p = spawn(process.execPath, [cli, 'status', a.address!, '--scope', 'st', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = ''; let err = '';
      p.stdout.on('data', (d: Buffer) => { out += d; }); p.stderr.on('data', (d: Buffer) => { err += d; });
      p.on('exit', (code) => done({ code, out, err }));
    });
    const json = await run(['--secret-env', 'ST_SECRET', '--json']);
    expect(json.err).toBe('');
    expect(json.code).toBe(0);
    const s = JSON.parse(json.out) as { observer: string; members: Array<{ name: string; weight: number; kinds: string[]; children: number; status: string }>; children: Array<{ id: string; node: string; status: string }> };
    const byId = (xs: Array<{ id: string }>) => [...xs].sort((x, y) => x.id.localeCompare(y.id));
    expect(byId(s.children)).toEqual(byId(a.whichChildren('global').map((c) => ({ ...c }))));
    // a lists the status member until its leave has gone through: compare once it has.
    await waitUntil(() => a.members().length === 2, 5000, 'the status member left again');
    expect(s.members.map((m) => [m.name, m.status, m.weight, m.kinds, m.children]).sort())
      .toEqual(a.members().map((m) => [m.name, m.status, m.weight, m.kinds, m.children]).sort());

    const table = await run(['--secret-env', 'ST_SECRET']);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^2 members \(read by status-\d+, not listed\)\nMEMBER +STATUS/);
    expect(table.out).toMatch(/\nb +up +ws:\/\/127\.0\.0\.1:\d+ +2 /);
    expect(table.out).toContain('\n12 children\n');

    // trellis dashboard: a kindless member serving the page until SIGTERM.
    const dash = spawn(process.execPath, [cli, 'dashboard', a.address!, '--scope', 'st', '--secret-env', 'ST_SECRET', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let dashOut = '';
    dash.stdout.on('data', (d: Buffer) => { dashOut += d; });
    try {
      await waitUntil(() => /dashboard at (\S+)\n/.test(dashOut), 10_000, 'the dashboard URL');
      const url = /dashboard at (\S+)\n/.exec(dashOut)![1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dashboard\/$/);
      expect(await (await fetch(url)).text()).toContain('<title>Trellis dashboard</title>');
      type Msg = { t: string; actions?: boolean; members: Array<{ name: string; kinds: string[] }>; rows: unknown[] };
      // The first picture a page gets: the dashboard member may still be learning the cluster,
      // so a page opened again (as a user would reload) is read until it shows both members.
      const firstPicture = async (): Promise<Msg[]> => {
        const events = await fetch(url + 'events');
        const reader = events.body!.getReader();
        let first = '';
        while (!first.includes('"t":"full"') || !first.endsWith('\n\n')) first += new TextDecoder().decode((await reader.read()).value);
        await reader.cancel();
        return first.split('\n\n').filter(Boolean).map((m) => JSON.parse(m.slice('data: '.length)) as Msg);
      };
      const named = (full: Msg) => full.members.filter((m) => m.kinds.length > 0).map((m) => m.name).sort();
      let messages = await firstPicture();
      const end = Date.now() + 10_000;
      while ((named(messages[1]).length < 2 || messages[1].rows.length < 12) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50)); // poll interval, not a wait for the outcome
        messages = await firstPicture();
      }
      expect(messages[0]).toEqual({ t: 'config', actions: false });
      const full = messages[1];
      expect(full.t).toBe('full');
      expect(named(full)).toEqual(['a', 'b']);
      expect(full.rows).toHaveLength(12);
    } finally {
      dash.kill('SIGTERM');
      await new Promise((r) => dash.once('exit', r));
    }

    const wrong = await run(['--insecure', '--timeout-ms', '1500']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/^trellis: TimeoutError: trellis status: no answer from ws:\/\/127\.0\.0\.1:\d+ within 1500 ms/);
  }, 60_000);
});

describe('trellis credential', () => {
  it('mints a credential with the secret that a dashboard with actions accepts from an operator; bad flags are named', async () => {
    const kinds = { work: { run: (_a: unknown, ctx: { signal: AbortSignal }) => new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r())) } };
    const a = await start({ scope: 'cred', name: 'a', secret: SECRET, listen: { host: '127.0.0.1', port: 0 }, kinds, dashboard: { path: '/dashboard', actions: true } });
    running.push(a);
    await a.startChild({ id: 'doomed', kind: 'work', args: {} }, { wait: 'running' });
    const env = { ...process.env, C_SECRET: SECRET };
    const minted = spawnSync(process.execPath, [cli, 'credential', '--scope', 'cred', '--name', 'ops', '--expires', '10m', '--secret-env', 'C_SECRET'], { env, encoding: 'utf8' });
    expect(minted.stderr).toBe('');
    expect(minted.status).toBe(0);
    const token = minted.stdout.trim();
    expect(decodeCredentialToken(token)).toMatchObject({ scope: 'cred', name: 'ops', kinds: [] });
    expect(decodeCredentialToken(token)!.expiresAtMs).toBeGreaterThan(Date.now() + 9 * 60_000);
    const url = a.address!.replace('ws://', 'http://') + '/dashboard/actions/terminate';
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ id: 'doomed' }) });
    expect(res.status).toBe(200);
    expect(a.whichChildren('global')).toEqual([]);

    const badExpiry = spawnSync(process.execPath, [cli, 'credential', '--scope', 'cred', '--name', 'ops', '--expires', 'soon', '--secret-env', 'C_SECRET'], { env, encoding: 'utf8' });
    expect([badExpiry.status, badExpiry.stderr]).toEqual([2, "trellis: InvalidOptionError: --expires: must be a positive duration like 90000, 30s, 15m, 1h or 7d, got 'soon'\n"]);
    const noSecret = spawnSync(process.execPath, [cli, 'credential', '--scope', 'cred', '--name', 'ops', '--expires', '1h'], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(noSecret.stderr).toMatch(/^trellis: InvalidOptionError: --secret-env: a credential is minted with the cluster secret/);
    expect(() => parseArgs(['node', '--scope', 's', '--listen', '127.0.0.1:0', '--kinds', 'k.js', '--dashboard-actions'])).toThrow(expect.objectContaining({ option: '--dashboard-actions' }));
    expect(parseArgs(['node', '--scope', 's', '--listen', '127.0.0.1:0', '--kinds', 'k.js', '--dashboard', '/d', '--dashboard-actions'])).toMatchObject({ dashboard: { path: '/d' }, dashboardActions: true });
  }, 30_000);
});
