#!/usr/bin/env node
// The Trellis demo: a local cluster of three node processes (the `trellis` CLI), a live view of
// who runs what, then a kill -9 of one node (its children fail over), then a fourth node (the
// cluster rebalances). `--once` runs the same script and exits 0 when every step was observed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { start } from '@trellis/node';

const once = process.argv.includes('--once');
const cli = fileURLToPath(new URL('../bin/trellis.mjs', import.meta.url));
const kindsFile = fileURLToPath(new URL('./kinds.mjs', import.meta.url));
const SCOPE = 'demo';
// One random secret for the demo's cluster, handed to the node processes in their environment.
const SECRET = randomBytes(32).toString('base64url');
const procs = new Map();
const t0 = Date.now();
const say = (s) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${s}\n`);

function launch(name, seeds) {
  return new Promise((resolve, reject) => {
    const args = [cli, 'node', '--scope', SCOPE, '--name', name, '--listen', '127.0.0.1:0', '--kinds', kindsFile,
      '--heartbeat-ms', '100', '--failure-timeout-ms', '500', '--secret-env', 'TRELLIS_SECRET'];
    if (seeds.length) args.push('--seeds', seeds.join(','));
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TRELLIS_SECRET: SECRET } });
    procs.set(name, p);
    let buf = '';
    p.stderr.on('data', (d) => {
      buf += d;
      const m = /listening on (\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    p.on('exit', (code, sig) => { procs.delete(name); if (!buf.includes('listening')) reject(new Error(`${name} exited (${code ?? sig}): ${buf}`)); });
  });
}

async function until(what, cond, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`demo step not observed in time: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let lastView = '';
function render(viewer) {
  const rows = viewer.whichChildren('global').sort((a, b) => a.id.localeCompare(b.id));
  const members = viewer.members().filter((m) => m.kinds.length > 0).map((m) => `${m.name}(${m.children})`).sort();
  const byNode = new Map();
  for (const r of rows) {
    const k = r.node ?? '-';
    byNode.set(k, [...(byNode.get(k) ?? []), `${r.id}${r.status === 'running' ? '' : `:${r.status}`}${r.restarts ? `↻${r.restarts}` : ''}`]);
  }
  const view = [`members: ${members.join(' ')}`, ...[...byNode.entries()].sort().map(([n, ids]) => `  ${n.padEnd(8)} ${ids.join(' ')}`)].join('\n');
  if (view !== lastView) { lastView = view; process.stdout.write(view + '\n'); }
  return rows;
}

const allRunningOn = (viewer, ids, nodes) => {
  const rows = viewer.whichChildren('global');
  return ids.every((id) => { const r = rows.find((x) => x.id === id); return r && r.status === 'running' && nodes.includes(r.node); });
};

async function main() {
  say('starting node-1, node-2, node-3 (each a separate process: trellis node ...)');
  const a1 = await launch('node-1', []);
  const a2 = await launch('node-2', [a1]);
  const a3 = await launch('node-3', [a1]);
  // This process joins as a viewer: a member that runs no kinds, so it only watches; it serves
  // the dashboard page, which stays live through the kill, the join and the rebalance.
  const viewer = await start({
    scope: SCOPE, name: 'viewer', seeds: [a1, a2, a3], secret: SECRET, kinds: {}, heartbeatMs: 100, failureTimeoutMs: 500,
    listen: { host: '127.0.0.1', port: 0 }, dashboard: { path: '/dashboard' },
  });
  say(`dashboard: ${viewer.address.replace('ws://', 'http://')}/dashboard/`);
  const timer = setInterval(() => render(viewer), 100);
  viewer.on('event', (e) => {
    if (e.type === 'member_down') say(`member ${e.name} is down (${e.reason})`);
    if (e.type === 'member_up') say(`member ${e.name} is up`);
  });
  await until('cluster formed', () => viewer.members().filter((m) => m.status === 'up').length === 4);
  const ids = [];
  for (const host of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']) {
    ids.push(`monitor:${host}`);
    await viewer.startChild({ id: `monitor:${host}`, kind: 'service-monitor', args: { host } });
  }
  for (const site of ['example.org', 'example.com', 'example.net', 'iana.org', 'w3.org', 'ietf.org']) {
    ids.push(`crawl:${site}`);
    await viewer.startChild({ id: `crawl:${site}`, kind: 'crawler', args: { site } });
  }
  say(`asked for ${ids.length} children`);
  await until('every child running once', () => allRunningOn(viewer, ids, ['node-1', 'node-2', 'node-3']));
  say('step 1 observed: every child runs exactly once');

  const victim = 'node-2';
  const onVictim = viewer.whichChildren('global').filter((c) => c.node === victim).map((c) => c.id);
  say(`kill -9 ${victim} (it runs ${onVictim.join(', ') || 'nothing'})`);
  const tKill = Date.now();
  procs.get(victim).kill('SIGKILL');
  await until('failover', () => allRunningOn(viewer, ids, ['node-1', 'node-3']));
  say(`step 2 observed: ${victim}'s children failed over in ${Date.now() - tKill} ms`);

  say('starting node-4');
  await launch('node-4', [a1]);
  await until('rebalance', () => allRunningOn(viewer, ids, ['node-1', 'node-3', 'node-4']) && viewer.whichChildren('global').some((c) => c.node === 'node-4'));
  say(`step 3 observed: rebalanced, node-4 runs ${viewer.whichChildren('global').filter((c) => c.node === 'node-4').length} children`);

  if (once) {
    clearInterval(timer);
    await viewer.stop();
    await shutdown();
    say('demo complete: every step observed');
    return;
  }
  say('running; press Ctrl-C to stop (nodes leave gracefully)');
  process.once('SIGINT', async () => { clearInterval(timer); await viewer.stop(); await shutdown(); process.exit(0); });
}

async function shutdown() {
  const exits = [...procs.values()].map((p) => new Promise((r) => { p.once('exit', r); p.kill('SIGTERM'); }));
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 10000))]);
  for (const p of procs.values()) p.kill('SIGKILL');
}

main().catch(async (e) => {
  process.stderr.write(`demo failed: ${e.message}\n`);
  for (const p of procs.values()) p.kill('SIGKILL');
  process.exit(1);
});
