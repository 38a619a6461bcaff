// Transport on Bun's own WebSocket server (Bun.serve) and its built-in WebSocket client.
// It only carries bytes: when to dial, what to send and when to close is the core's decision.
import {
  DIAL_TIMEOUT_MS, GatewayLocalLinks, SHUTDOWN_DRAIN_MS, WS_CLOSE_CODE, WS_CLOSE_TOO_BIG, checkDialAddress, closeReason, closeText, dialFailureOf, listenAddress,
  transportPayloadMax, type DialFailure, type GatewayOptions, type PemInput, type TlsReason, type Transport, type TransportHandlers,
} from '@trellis/core';
import { tlsReasonOfBunError } from './tls-text.js';
import type { Server, ServerWebSocket } from 'bun';
import { BunGateway, type GatewaySocketData } from './gateway-bun.js';
import type { HttpRoute } from '@trellis/core/metrics';

export interface BunTransportOptions {
  listen?: { host: string; port: number };
  /** Serve wss:// (Bun.serve TLS options; with `requestCert`, Bun refuses a bad client certificate at the TLS layer). */
  tls?: { cert: PemInput; key: PemInput; ca?: PemInput | PemInput[]; requestCert?: boolean; rejectUnauthorized?: boolean };
  /** Dialing wss://: trust (`ca`), verification, and the certificate to present (mutual TLS). */
  clientTls?: { ca?: PemInput | PemInput[]; cert?: PemInput; key?: PemInput; rejectUnauthorized?: boolean };
  maxFrameBytes?: number;
  /** Accept browser tabs on this path (core-as/src/gateway.ts); needs the member's secret, if any. */
  gateway?: GatewayOptions;
  secret?: string | Uint8Array;
  /** One plain HTTP GET route (the metrics endpoint): at a path of this server, or on a server of its own. */
  route?: HttpRoute;
  /** The member's scope: a tab's credential must be for it. */
  scope?: string;
  /** Other HTTP requests on the listen server (the dashboard): a Response, or undefined when not its own. */
  onRequest?: (req: Request, server: Server<never>) => Response | Promise<Response> | undefined;
}

/** The route's answer to `req`, or undefined when `req` is not a GET of its path. */
function answerRoute(route: HttpRoute, req: Request): Promise<Response> | undefined {
  if (req.method !== 'GET' || new URL(req.url).pathname !== route.path) return undefined;
  return route.answer().then(
    (a) => new Response(a.body, { headers: { 'content-type': a.contentType } }),
    (e: Error) => new Response(`trellis: ${e.message}\n`, { status: 500 }),
  );
}

/** A member link's socket, or (with `gw`) one of the gateway's. */
interface LinkData { link: number; remote: string; gw?: GatewaySocketData }

type Link =
  | { kind: 'server'; ws: ServerWebSocket<LinkData>; closed: boolean }
  | { kind: 'client'; ws: WebSocket; closed: boolean; opened: boolean; address: string; tls?: TlsReason; failure?: DialFailure };

/** How often shutdown looks again whether the links' queues are empty. */
const DRAIN_POLL_MS = 5;
/** The reason Bun gives when it closes a link for a message over maxPayloadLength. */
const BUN_TOO_BIG = 'Received too big message';

export class BunTransport implements Transport {
  /** Largest message accepted: Bun enforces it on server links, deliver() on dialed ones. */
  private readonly maxPayload: number;
  private server: Server<LinkData> | undefined;
  private handlers!: TransportHandlers;
  /** Link ids count up from 1 for server and dialed links alike. */
  private nextLink = 1;
  /** The gateway's links to this member, in process (core-as/src/gateway-local.ts). */
  private readonly local = new GatewayLocalLinks(() => this.handlers, () => this.nextLink++);
  private links = new Map<number, Link>();
  private gateway: BunGateway | undefined;

  constructor(private readonly opts: BunTransportOptions = {}) {
    this.maxPayload = transportPayloadMax(opts.maxFrameBytes);
  }

  async listen(handlers: TransportHandlers): Promise<string | undefined> {
    this.handlers = handlers;
    const { listen: l, tls } = this.opts;
    const route = this.opts.route;
    if (route?.listen) {
      this.routeServer = Bun.serve({ hostname: route.listen.host, port: route.listen.port, fetch: (req) => answerRoute(route, req) ?? new Response(null, { status: 404 }) });
      this.routeUrl = `http://${route.listen.host.includes(':') ? `[${route.listen.host}]` : route.listen.host}:${this.routeServer.port}${route.path}`;
    }
    if (!l) return undefined;
    const self = this;
    const gateway = this.opts.gateway ? new BunGateway(this.opts.gateway, {
      secret: this.opts.secret, scope: this.opts.scope ?? '', knownAddress: (a) => handlers.knownAddress?.(a) ?? false, dialOwn: (ev) => this.local.open(ev),
    }, (e) => handlers.gateway?.(e), this.maxPayload) : undefined;
    this.gateway = gateway;
    this.server = Bun.serve<LinkData, never>({
      hostname: l.host,
      port: l.port,
      tls,
      fetch(req, server) {
        const remote = server.requestIP(req);
        const routed = gateway?.fetch(req, () => (remote ? `${remote.address}:${remote.port}` : ''), (gw) => server.upgrade(req, { data: { link: 0, remote: '', gw } }));
        if (routed) return routed === true ? undefined : routed;
        const answered = route && !route.listen ? answerRoute(route, req) : undefined;
        if (answered) return answered;
        const own = self.opts.onRequest?.(req, server as unknown as Server<never>);
        if (own) return own;
        if (server.upgrade(req, { data: { link: self.nextLink++, remote: remote ? `${remote.address}:${remote.port}` : '' } })) return undefined;
        return new Response('trellis: websocket only', { status: 426 });
      },
      websocket: {
        // Gateway messages carry a frame and their header; member links are held to maxPayload by deliver().
        maxPayloadLength: gateway ? Math.max(this.maxPayload, gateway.gateway.limits.frameBytesMax) : this.maxPayload,
        perMessageDeflate: false,
        open(ws) {
          if (ws.data.gw) { gateway!.open(ws, ws.data.gw); return; }
          self.links.set(ws.data.link, { kind: 'server', ws, closed: false });
          self.handlers.opened(ws.data.link, false, ws.data.remote);
        },
        message(ws, msg) {
          if (ws.data.gw) { gateway!.message(ws.data.gw, msg, ws); return; }
          if (typeof msg === 'string') { self.close(ws.data.link, 'text_frame'); return; }
          self.deliver(ws.data.link, msg);
        },
        // Bun reports its own payload-limit close as 1006 with this reason (1009 to the peer).
        close(ws, code, reason) {
          if (ws.data.gw) { gateway!.close(ws.data.gw, code, reason, code === WS_CLOSE_TOO_BIG || reason === BUN_TOO_BIG); return; }
          self.gone(ws.data.link, code === WS_CLOSE_TOO_BIG || reason === BUN_TOO_BIG ? 'frame_too_large' : closeReason(code, reason)); },
      },
    });
    const address = listenAddress(Boolean(tls), l.host, this.server.port!);
    if (route && !route.listen) this.routeUrl = address.replace(/^ws/, 'http') + route.path;
    gateway?.gateway.setAddress(address);
    return address;
  }

  private deliver(link: number, msg: Uint8Array | ArrayBuffer): void {
    const bytes = msg instanceof Uint8Array ? msg : new Uint8Array(msg);
    if (bytes.length > this.maxPayload) { this.close(link, 'frame_too_large'); return; }
    this.handlers.frame(link, bytes);
  }

  private gone(link: number, reason: string): void {
    const l = this.links.get(link);
    if (!l || l.closed) return;
    l.closed = true;
    this.links.delete(link);
    if (l.kind === 'client' && !l.opened) this.handlers.dialFailed(l.address, reason, l.failure ?? 'other');
    else this.handlers.closed(link, reason);
  }

  dial(address: string): void {
    let ws: WebSocket;
    try {
      checkDialAddress(address);
      const tls = this.opts.clientTls;
      // Bun's client takes TLS settings as a second argument the DOM constructor type does not know.
      ws = tls ? new (WebSocket as unknown as new (url: string, o: unknown) => WebSocket)(address, { tls }) : new WebSocket(address);
    } catch (e) {
      queueMicrotask(() => this.handlers.dialFailed(address, e instanceof Error ? e.message : String(e), 'other'));
      return;
    }
    ws.binaryType = 'arraybuffer';
    const link = this.nextLink++;
    const entry: Link = { kind: 'client', ws, closed: false, opened: false, address };
    this.links.set(link, entry);
    const timer = setTimeout(() => { if (!entry.opened) { this.gone(link, 'dial_timeout'); try { ws.close(); } catch { /* already closing */ } } }, DIAL_TIMEOUT_MS);
    ws.onopen = () => { clearTimeout(timer); if (entry.closed) return; entry.opened = true; this.handlers.opened(link, true, address); };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') { this.close(link, 'text_frame'); return; }
      this.deliver(link, ev.data as ArrayBuffer);
    };
    // A dialed link keeps the peer's bare close code: a peer's 1009 is not a frame this node refused.
    ws.onclose = (ev) => { clearTimeout(timer); this.gone(link, entry.tls ?? (ev.reason || `code_${ev.code}`)); };
    // onclose follows. Bun's error event carries the socket error (ECONNREFUSED...) as
    // `error.code`; a TLS refusal is known only from the error's text.
    ws.onerror = (ev) => {
      if (entry.opened) return;
      entry.failure = dialFailureOf((ev as { error?: { code?: string } }).error?.code);
      const reason = tlsReasonOfBunError(String((ev as ErrorEvent).message ?? ''));
      if (reason) { entry.tls = reason; this.handlers.tlsFailed?.(address, true, reason, reason); }
    };
  }

  send(link: number, bytes: Uint8Array): void {
    if (this.local.send(link, bytes)) return;
    const l = this.links.get(link);
    if (!l || l.closed) return;
    try { l.ws.send(bytes); } catch { /* the close event will follow */ }
  }

  close(link: number, reason: string): void {
    if (this.local.close(link, reason)) return;
    const l = this.links.get(link);
    if (!l || l.closed) return;
    try { l.ws.close(WS_CLOSE_CODE, closeText(reason)); } catch { /* already closing */ }
    // Report at once: the core already forgot the link; a late close event is ignored.
    this.gone(link, reason);
  }

  /**
   * Until every open link has handed what it queues to the OS, or SHUTDOWN_DRAIN_MS: the server's
   * stop closes connections at once, and bytes still queued in Bun (a state handed over on a
   * graceful leave, under load) would be lost with them.
   */
  private async drained(): Promise<void> {
    const queued = (l: Link) => (l.closed ? 0 : l.kind === 'server' ? l.ws.getBufferedAmount() : l.ws.bufferedAmount);
    const end = Date.now() + SHUTDOWN_DRAIN_MS;
    while (Date.now() < end && [...this.links.values()].some((l) => queued(l) > 0)) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
  }

  private routeServer: Server<undefined> | undefined;
  /** Where the route is served (`http://host:port/path`), once listening. */
  routeUrl: string | undefined;

  async shutdown(): Promise<void> {
    this.routeServer?.stop(true);
    await this.drained();
    for (const id of [...this.links.keys()]) this.close(id, 'shutdown');
    this.local.closeAll('shutdown');
    this.gateway?.shutdown();
    this.server?.stop(true);
    this.server = undefined;
  }
}
