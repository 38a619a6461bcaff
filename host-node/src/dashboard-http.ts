// The dashboard over node:http: what each request is and what it gets is the core's
// DashboardService (core-as/src/dashboard-serve.ts: the page's files from the package, the
// credential-checked actions); this file carries requests and the Server-Sent Events stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DASHBOARD_ACTION_BODY_BYTES_MAX, sseData, type ActionAnswer, type CheckedDashboard, type DashboardService } from '@trellis/core/dashboard';

function answerJson(res: ServerResponse, a: ActionAnswer): void {
  res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
}

/** The request's body as text; undefined when it is over DASHBOARD_ACTION_BODY_BYTES_MAX (the rest is not read). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > DASHBOARD_ACTION_BODY_BYTES_MAX) { req.removeAllListeners('data'); req.resume(); resolve(undefined); }
    });
    req.on('end', () => resolve(body));
  });
}

/** A request handler for the dashboard; answers false for requests that are not its own. `holder.service` is set once the member runs. */
export function dashboardHandler(o: CheckedDashboard, holder: { service?: DashboardService }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const pathname = (req.url ?? '').split('?')[0];
    const s = holder.service;
    if (!s) {
      if (pathname !== o.path && !pathname.startsWith(o.path + '/')) return false;
      res.writeHead(503).end();
      return true;
    }
    const r = s.route(req.method ?? 'GET', pathname);
    if (!r) return false;
    if (r.to === 'redirect') res.writeHead(301, { location: r.location }).end();
    else if (r.to === 'not_found') res.writeHead(404).end();
    else if (r.to === 'file') res.writeHead(200, { 'content-type': r.type, 'cache-control': 'no-cache' }).end(r.body);
    else if (r.to === 'action') void s.act(r.name, req.headers.authorization, () => readBody(req)).then((a) => answerJson(res, a));
    else {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(sseData(s.configMessage()));
      const disconnect = s.feed.connect((m) => { res.write(sseData(m)); });
      req.socket.setNoDelay(true);
      res.on('close', disconnect);
    }
    return true;
  };
}
