// Prometheus metrics of a real cluster: /metrics scraped over real HTTP and parsed, compared with
// what the member's own API says (whichChildren('global'), members(), rejectedFrames()).
import { describe, it, expect, afterEach } from 'vitest';
import { start, type Supervisor } from '../src/index.js';
import { InvalidOptionError } from '@trellis/core';
import { waitUntil } from '../../conformance/src/drivers/process-member.js';
import { threeMembers } from './three-members.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bun = fileURLToPath(new URL('../../node_modules/.bin/bun', import.meta.url));
const bunHost = fileURLToPath(new URL('../../host-bun/dist/index.js', import.meta.url));

const SECRET = 'metrics-secret';
const kinds = { work: { run: (_a: unknown, ctx: { signal: AbortSignal }) => new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r())) } };
const base = { scope: 'metrics', secret: SECRET, kinds, heartbeatMs: 100, failureTimeoutMs: 600, syncIntervalMs: 200 };
const running: Supervisor[] = [];
afterEach(async () => { await Promise.all(running.splice(0).map((s) => s.kill())); });
const node = async (o: Record<string, unknown>) => { const s = await start({ ...base, listen: { host: '127.0.0.1', port: 0 }, ...o }); running.push(s); return s; };

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses the Prometheus text format (what a scraper reads); throws on a line it cannot read. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP')) continue;
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) { types.set(t[1], t[2]); continue; }
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unreadable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return { samples, types };
}

async function scrape(url: string): Promise<ReturnType<typeof parseExposition> & { contentType: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return { ...parseExposition(await res.text()), contentType: res.headers.get('content-type') ?? '' };
}

const countBy = <T>(xs: T[], key: (x: T) => string) => {
  const m: Record<string, number> = {};
  for (const x of xs) m[key(x)] = (m[key(x)] ?? 0) + 1;
  return m;
};
const series = (s: Sample[], name: string, key: (l: Record<string, string>) => string) =>
  Object.fromEntries(s.filter((x) => x.name === name && x.value !== 0).map((x) => [key(x.labels), x.value]));

describe('metrics', () => {
  it('/metrics of a 3-member cluster matches whichChildren and members, before and after a failover', async () => {
    const [a, , c] = await threeMembers(node, { metrics: { path: '/metrics' } });
    for (let i = 0; i < 30; i++) await a.startChild({ id: `w${i}`, kind: 'work', args: {} }, { wait: 'running' });
    await waitUntil(() => a.whichChildren('global').filter((x) => x.status === 'running').length === 30, 5000, 'a sees 30 running');
    // A member with the wrong secret is refused: a counts it by reason.
    const intruder = await start({ ...base, name: 'x', secret: 'wrong', seeds: [a.address!] });
    running.push(intruder);
    await waitUntil(() => Object.values(a.rejectedFrames()).some((n) => n > 0), 5000, 'a refuses the intruder');
    await intruder.kill();

    expect(a.metricsUrl).toBe(a.address!.replace('ws://', 'http://') + '/metrics');
    const first = await scrape(a.metricsUrl!);
    expect(first.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(series(first.samples, 'trellis_members', (l) => l.status)).toEqual(countBy(a.members(), (m) => m.status));
    expect(series(first.samples, 'trellis_children', (l) => `${l.kind}/${l.status}`)).toEqual(countBy(a.whichChildren('global'), (x) => `${x.kind}/${x.status}`));
    expect(Object.fromEntries(first.samples.filter((x) => x.name === 'trellis_link_rejected_total').map((x) => [x.labels.reason, x.value]))).toEqual(a.rejectedFrames());
    const frames = series(first.samples, 'trellis_frames_total', (l) => l.direction);
    expect(frames.in).toBeGreaterThan(0);
    expect(frames.out).toBeGreaterThan(0);
    expect(first.types.get('trellis_step_duration_seconds')).toBe('histogram');
    expect(first.types.get('trellis_moves_total')).toBe('counter');
    const buckets = first.samples.filter((x) => x.name === 'trellis_step_duration_seconds_bucket').map((x) => x.value);
    const stepCount = first.samples.find((x) => x.name === 'trellis_step_duration_seconds_count')!.value;
    expect(stepCount).toBeGreaterThan(30);
    expect(buckets.every((v, i) => i === 0 || v >= buckets[i - 1])).toBe(true);
    expect(buckets.at(-1)).toBe(stepCount);
    expect(first.samples.some((x) => x.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(series(first.samples, 'trellis_moves_total', (l) => l.reason)).toEqual({});

    // sup.metrics() is the same registry as data.
    const data = await a.metrics();
    const kids = data.find((f) => f.name === 'trellis_children')!;
    expect(kids.type).toBe('gauge');
    expect(Object.fromEntries(kids.values.map((v) => [`${v.labels.kind}/${v.labels.status}`, v.value]))).toEqual(countBy(a.whichChildren('global'), (x) => `${x.kind}/${x.status}`));

    // c dies without handover: its children fail over, and a counts each move as a failover.
    const onC = a.whichChildren('global').filter((x) => x.node === 'c').length;
    expect(onC).toBeGreaterThan(0);
    await c.kill();
    await waitUntil(() => {
      const g = a.whichChildren('global');
      return g.length === 30 && g.every((x) => x.status === 'running' && x.node !== 'c') && !a.members().some((m) => m.name === 'c' && m.status === 'up');
    }, 10_000, 'the children of c run on a and b');
    const after = await scrape(a.metricsUrl!);
    expect(series(after.samples, 'trellis_members', (l) => l.status)).toEqual(countBy(a.members(), (m) => m.status));
    expect(series(after.samples, 'trellis_children', (l) => `${l.kind}/${l.status}`)).toEqual({ 'work/running': 30 });
    expect(series(after.samples, 'trellis_moves_total', (l) => l.reason)).toEqual({ failover: onC });
  }, 60_000);

  it('metrics: { port } serves on a port of its own, closed when the member stops; a bad option is named', async () => {
    const a = await node({ name: 'a', metrics: { port: 0 } });
    expect(a.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(a.metricsUrl!.replace('http', 'ws').replace('/metrics', '')).not.toBe(a.address);
    const s = await scrape(a.metricsUrl!);
    expect(series(s.samples, 'trellis_members', (l) => l.status)).toEqual({ up: 1 });
    expect((await fetch(a.metricsUrl!.replace('/metrics', '/other'))).status).toBe(404);
    // Without a metrics option there is no endpoint, but sup.metrics() still answers (no process metrics).
    const plain = await node({ name: 'p' });
    expect(plain.metricsUrl).toBeUndefined();
    expect((await plain.metrics()).map((f) => f.name)).toContain('trellis_children');
    expect((await plain.metrics()).map((f) => f.name)).not.toContain('process_cpu_user_seconds_total');
    await a.stop();
    await expect(fetch(a.metricsUrl!)).rejects.toThrow();
    await expect(node({ name: 'q', metrics: { path: 'metrics' } })).rejects.toThrow(expect.objectContaining({ option: 'metrics.path' }));
    await expect(start({ ...base, name: 'r', metrics: { path: '/metrics' } })).rejects.toThrow(InvalidOptionError);
  }, 30_000);

  it('a Bun member serves the same metrics through prom-client, and they match its members()', async () => {
    const a = await node({ name: 'a' });
    const script = `
      import { start } from ${JSON.stringify(bunHost)};
      const sup = await start({ scope: 'metrics', name: 'bun', secret: ${JSON.stringify(SECRET)}, seeds: [${JSON.stringify(a.address)}], listen: { host: '127.0.0.1', port: 0 }, kinds: {}, metrics: { path: '/metrics' }, heartbeatMs: 100 });
      process.stdout.write(sup.metricsUrl + '\\n');
      process.stdin.on('data', () => {}); process.stdin.on('end', () => sup.stop().then(() => process.exit(0)));`;
    const p = spawn(bun, ['-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = ''; let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d; }); p.stderr.on('data', (d: Buffer) => { err += d; });
    try {
      await waitUntil(() => out.includes('\n') || err !== '', 15_000, 'the Bun member prints its metrics URL');
      expect(err).toBe('');
      const url = out.trim();
      await waitUntil(() => a.members().some((m) => m.name === 'bun' && m.status === 'up'), 5000, 'the Bun member joins');
      await a.startChild({ id: 'one', kind: 'work', args: {} }, { wait: 'running' });
      let s = await scrape(url);
      await waitUntil(async () => { s = await scrape(url); return series(s.samples, 'trellis_children', (l) => l.status).running === 1; }, 5000, 'the Bun member sees the child');
      expect(series(s.samples, 'trellis_members', (l) => l.status)).toEqual({ up: 2 });
      expect(s.samples.some((x) => x.name === 'process_cpu_user_seconds_total')).toBe(true);
      expect(s.samples.find((x) => x.name === 'trellis_step_duration_seconds_count')!.value).toBeGreaterThan(0);
    } finally {
      p.stdin.end();
      await new Promise((r) => p.once('exit', r));
    }
  }, 30_000);
});
