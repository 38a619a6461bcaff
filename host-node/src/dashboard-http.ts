// The dashboard over node:http: `PATH/` is the page, its files come from the package
// (core-as/dashboard, nothing from a CDN), `PATH/events` is a Server-Sent Events stream fed by
// the core's DashboardFeed. Actions (terminate a child; cordon, uncordon, drain a member:
// dashboard-actions.ts) are off unless `actions.token` is given, and then need that token as
// `Authorization: Bearer TOKEN`.
import { readFileSync } from 'node:fs';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionError, type Supervisor } from '@trellis/core';
import { DashboardFeed, dashboardAssetsUrl } from '@trellis/core/dashboard';
import { ACTIONS, runAction, type ActionName } from './dashboard-actions.js';

export interface DashboardOptions {
  path: string;
  /** Allow the page to terminate children and cordon, uncordon or drain members, for requests bearing this token (off without it). */
  actions?: { token: string };
}

/** The largest action request body read, in bytes. */
const ACTION_BODY_BYTES_MAX = 4096;

const ASSETS: Record<string, string> = { '': 'index.html', 'dashboard.js': 'dashboard.js', 'dashboard.css': 'dashboard.css' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export function checkDashboardOptions(o: unknown, listen: unknown): DashboardOptions | undefined {
  if (o === undefined) return undefined;
  const p = (o as { path?: unknown } | null)?.path;
  if (typeof p !== 'string' || !p.startsWith('/') || p.endsWith('/')) throw new InvalidOptionError('dashboard.path', 'must be a path like /dashboard');
  if (listen === null || typeof listen !== 'object' || 'server' in listen) throw new InvalidOptionError('dashboard', 'needs listen: { host, port } (served by this node\'s server)');
  const actions = (o as { actions?: unknown }).actions;
  if (actions === undefined) return { path: p };
  const token = (actions as { token?: unknown } | null)?.token;
  if (typeof token !== 'string' || token.length < 16) throw new InvalidOptionError('dashboard.actions.token', 'must be a string of at least 16 characters');
  return { path: p, actions: { token } };
}

/** A request handler for the dashboard at `o.path`; answers false for requests that are not its own. */
const digestOf = (s: string) => createHash('sha256').update(s).digest();

/** Whether `req` bears the actions token (compared in constant time). */
function authorized(o: DashboardOptions, req: IncomingMessage): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  return o.actions !== undefined && m !== null && timingSafeEqual(digestOf(m[1]), digestOf(o.actions.token));
}

function answerJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** POST PATH/actions/NAME with a JSON body: refused without the token, else run and answered once done (dashboard-actions.ts). */
function action(o: DashboardOptions, sup: Supervisor, name: ActionName, req: IncomingMessage, res: ServerResponse): void {
  if (!o.actions) return answerJson(res, 403, { error: 'actions_off', message: 'dashboard actions are not enabled on this member' });
  if (!authorized(o, req)) return answerJson(res, 401, { error: 'unauthorized', message: 'needs Authorization: Bearer <dashboard actions token>' });
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => { body += d; if (body.length > ACTION_BODY_BYTES_MAX) req.destroy(); });
  req.on('end', () => {
    let parsed: unknown;
    try { parsed = JSON.parse(body); } catch { /* runAction answers 400 */ }
    void runAction(sup, name, parsed).then((a) => answerJson(res, a.status, a.body));
  });
}

export function dashboardHandler(o: DashboardOptions, holder: { feed?: DashboardFeed; sup?: Supervisor }): (req: IncomingMessage, res: ServerResponse) => boolean {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const [name, file] of Object.entries(ASSETS)) {
    files.set(name, { type: TYPES[file.split('.').pop()!], body: readFileSync(new URL(file, dashboardAssetsUrl)) });
  }
  return (req, res) => {
    const url = (req.url ?? '').split('?')[0];
    const act = url.startsWith(o.path + '/actions/') ? url.slice(o.path.length + 9) as ActionName : undefined;
    if (act && ACTIONS.includes(act) && req.method === 'POST' && holder.sup) { action(o, holder.sup, act, req, res); return true; }
    if (req.method !== 'GET' || (url !== o.path && !url.startsWith(o.path + '/'))) return false;
    if (url === o.path) { res.writeHead(301, { location: o.path + '/' }).end(); return true; }
    const rest = url.slice(o.path.length + 1);
    const feed = holder.feed;
    if (rest === 'events' && feed) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`data: ${JSON.stringify({ t: 'config', actions: o.actions !== undefined })}\n\n`);
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
