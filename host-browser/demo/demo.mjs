#!/usr/bin/env node
// The browser demo: two Node members in this process (the first with a gateway) and a web page;
// every tab that opens the page becomes a member next to them and shows the children it runs.
// Ten `ticker` children are spread over every member; open and close tabs to watch them move.
// `--once` checks the wiring without a browser (members up, children placed) and exits 0.
// `--credentials`: the cluster has a secret and each tab fetches a short-lived credential from the
// demo server's /credential route (the page never holds the secret).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { start } from '@trellis/node';
import { bundleDir, serveStatic } from '../scripts/static-server.mjs';
import { kinds } from './site/kinds.js';

const once = process.argv.includes('--once');
const credentials = process.argv.includes('--credentials');
/** How long a tab's credential lasts; the tab renews it when half is left (host-browser/README.md, "Credentials"). */
const CREDENTIAL_MS = 5 * 60_000;
const port = Number(process.env.PORT ?? 8080);
const SCOPE = 'browser-demo';
const site = new URL('./site/', import.meta.url);
const say = (s) => process.stdout.write(`${s}\n`);

const origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
// Without --credentials the demo cluster is open (loopback only), so any number of tabs can join.
const auth = credentials ? { secret: randomBytes(32).toString('hex') } : { insecure: true };
const tuning = { heartbeatMs: 250, failureTimeoutMs: 1500, ...auth };
const gw = await start({ scope: SCOPE, name: 'node-1', listen: { host: '127.0.0.1', port: 0 }, kinds, gateway: { origins }, ...tuning });
const other = await start({ scope: SCOPE, name: 'node-2', listen: { host: '127.0.0.1', port: 0 }, seeds: [gw.address], kinds, ...tuning });
for (const s of [gw, other]) {
  s.on('event', (e) => {
    if (e.type === 'member_up' || e.type === 'member_down') say(`${s.name}: ${e.type} ${e.name}`);
  });
}
const ids = Array.from({ length: 10 }, (_, i) => `ticker-${i}`);
await Promise.all(ids.map((id) => gw.startChild({ id, kind: 'ticker' })));

const index = readFileSync(new URL('index.html', site), 'utf8').replace('%GATEWAY%', `${gw.address}/trellis/browser`).replace('%SCOPE%', SCOPE)
  .replace('%CREDENTIALS%', String(credentials));
/** The last token minted for each tab name: a renewal must present it (a real application checks its own session instead). */
const issued = new Map();
/**
 * The application's own route: an empty body mints a credential for a new tab name and the
 * page's kinds, short-lived; a body holding the tab's last token renews it (same name, later expiry).
 */
function mintRoute(req, res) {
  if (!credentials || req.method !== 'POST') { res.writeHead(404).end(); return; }
  let body = '';
  req.on('data', (d) => { body += d; if (body.length > 16_384) req.destroy(); });
  req.on('end', () => {
    const renewing = body.length > 0;
    const name = renewing ? [...issued].find(([, t]) => t === body)?.[0] : `tab-${randomBytes(4).toString('hex')}`;
    if (!name) { res.writeHead(403).end(); return; }
    const token = gw.mintCredential({ name, kinds: Object.keys(kinds), expiresInMs: CREDENTIAL_MS });
    issued.set(name, token);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ name, token }));
  });
}
const server = await serveStatic({
  routes: { '/credential': mintRoute },
  port: once ? 0 : port,
  mounts: { '/trellis/': bundleDir, '/site/': new URL('.', site).pathname },
  pages: { '/': { body: index } },
});

async function stopAll() {
  await Promise.all([gw.stop({ timeoutMs: 3000 }), other.stop({ timeoutMs: 3000 })]);
  await server.close();
}

if (once) {
  const end = Date.now() + 10_000;
  const placed = () => gw.whichChildren('global').filter((c) => c.status === 'running').length === ids.length;
  while (!placed() || gw.members().filter((m) => m.status === 'up').length < 2) {
    if (Date.now() > end) { say('demo: children were not placed in time'); process.exit(1); }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (credentials) {
    const r = await fetch(`${server.url}/credential`, { method: 'POST' });
    const first = r.ok ? (await r.json()).token : undefined;
    if (typeof first !== 'string') { say('demo: /credential did not mint'); process.exit(1); }
    const again = await fetch(`${server.url}/credential`, { method: 'POST', body: first });
    if (!again.ok || typeof (await again.json()).token !== 'string') { say('demo: /credential did not renew'); process.exit(1); }
  }
  say(`demo: ${ids.length} children running on ${[...new Set(gw.whichChildren('global').map((c) => c.node))].join(', ')}; page at ${server.url}`);
  await stopAll();
  process.exit(0);
}

say(`Trellis browser demo: open ${server.url}/ in a few tabs (gateway ${gw.address}/trellis/browser). Ctrl-C to stop.`);
process.on('SIGINT', () => { void stopAll().then(() => process.exit(0)); });
