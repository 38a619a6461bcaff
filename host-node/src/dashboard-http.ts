// The dashboard over node:http: `PATH/` is the page, its files come from the package
// (core-as/dashboard, nothing from a CDN), `PATH/events` is a Server-Sent Events stream fed by
// the core's DashboardFeed. Read-only: the page has no actions.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionError } from '@trellis/core';
import { DashboardFeed, dashboardAssetsUrl } from '@trellis/core/dashboard';

export interface DashboardOptions { path: string }

const ASSETS: Record<string, string> = { '': 'index.html', 'dashboard.js': 'dashboard.js', 'dashboard.css': 'dashboard.css' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export function checkDashboardOptions(o: unknown, listen: unknown): DashboardOptions | undefined {
  if (o === undefined) return undefined;
  const p = (o as { path?: unknown } | null)?.path;
  if (typeof p !== 'string' || !p.startsWith('/') || p.endsWith('/')) throw new InvalidOptionError('dashboard.path', 'must be a path like /dashboard');
  if (listen === null || typeof listen !== 'object' || 'server' in listen) throw new InvalidOptionError('dashboard', 'needs listen: { host, port } (served by this node\'s server)');
  return { path: p };
}

/** A request handler for the dashboard at `o.path`; answers false for requests that are not its own. */
export function dashboardHandler(o: DashboardOptions, holder: { feed?: DashboardFeed }): (req: IncomingMessage, res: ServerResponse) => boolean {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const [name, file] of Object.entries(ASSETS)) {
    files.set(name, { type: TYPES[file.split('.').pop()!], body: readFileSync(new URL(file, dashboardAssetsUrl)) });
  }
  return (req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || (url !== o.path && !url.startsWith(o.path + '/'))) return false;
    if (url === o.path) { res.writeHead(301, { location: o.path + '/' }).end(); return true; }
    const rest = url.slice(o.path.length + 1);
    const feed = holder.feed;
    if (rest === 'events' && feed) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      const disconnect = feed.connect((m) => { res.write(`data: ${m}\n\n`); });
      req.socket.setNoDelay(true);
      res.on('close', disconnect);
      return true;
    }
    const f = files.get(rest);
    if (!f) { res.writeHead(404).end(); return true; }
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-cache' }).end(f.body);
    return true;
  };
}
