// The dashboard over Bun.serve: what each request is and what it gets is the core's
// DashboardService (core-as/src/dashboard-serve.ts); this file answers Requests and streams the
// Server-Sent Events through a ReadableStream.
import type { Server } from 'bun';
import { DASHBOARD_ACTION_BODY_BYTES_MAX, sseData, type ActionAnswer, type CheckedDashboard, type DashboardService } from '@trellis/core/dashboard';

const utf8 = new TextEncoder();
const json = (a: ActionAnswer) => new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json' } });

/** The request's body as text; undefined when it is over DASHBOARD_ACTION_BODY_BYTES_MAX. */
async function readBody(req: Request): Promise<string | undefined> {
  if (Number(req.headers.get('content-length') ?? 0) > DASHBOARD_ACTION_BODY_BYTES_MAX) return undefined;
  const text = await req.text();
  return text.length > DASHBOARD_ACTION_BODY_BYTES_MAX ? undefined : text;
}

/** The page's event stream: the config, then every message the feed sends, until the page goes. */
function events(s: DashboardService, req: Request, server: Server<never>): Response {
  let disconnect: (() => void) | undefined;
  const stop = () => { disconnect?.(); disconnect = undefined; };
  const body = new ReadableStream<Uint8Array>({
    start(out) {
      out.enqueue(utf8.encode(sseData(s.configMessage())));
      disconnect = s.feed.connect((m) => { try { out.enqueue(utf8.encode(sseData(m))); } catch { stop(); } });
    },
    cancel: stop,
  });
  req.signal.addEventListener('abort', stop);
  // Pushes come only when something changed: the stream may be silent longer than Bun's idle timeout.
  server.timeout(req, 0);
  return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store' } });
}

/** A fetch handler for the dashboard; undefined for requests that are not its own. `holder.service` is set once the member runs. */
export function dashboardFetch(o: CheckedDashboard, holder: { service?: DashboardService }): (req: Request, server: Server<never>) => Response | Promise<Response> | undefined {
  return (req, server) => {
    const pathname = new URL(req.url).pathname;
    const s = holder.service;
    if (!s) return pathname === o.path || pathname.startsWith(o.path + '/') ? new Response(null, { status: 503 }) : undefined;
    const r = s.route(req.method, pathname);
    if (!r) return undefined;
    if (r.to === 'redirect') return new Response(null, { status: 301, headers: { location: r.location } });
    if (r.to === 'not_found') return new Response(null, { status: 404 });
    if (r.to === 'file') return new Response(r.body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': r.type, 'cache-control': 'no-cache' } });
    if (r.to === 'action') return s.act(r.name, req.headers.get('authorization'), () => readBody(req)).then(json);
    return events(s, req, server);
  };
}
