// Transport on the `ws` library: a WebSocket server for inbound links and a client per dial.
// Binary frames only; the frame size limit is enforced by ws (maxPayload) on both sides.
// It only carries bytes: when to dial, what to send and when to close is the core's decision.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions as TlsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { NodeGateway } from './gateway-ws.js';
import type { HttpRoute } from '@trellis/core/metrics';
import {
  DIAL_TIMEOUT_MS, GatewayLocalLinks, SHUTDOWN_DRAIN_MS, TLS_REFUSED_STATUS, WS_CLOSE_CODE, checkDialAddress, closeReason, closeText, dialFailureOf, listenAddress, tlsReason, transportPayloadMax,
  type DialFailure, type GatewayOptions, type Transport, type TransportHandlers,
} from '@trellis/core';

export interface WsTransportOptions {
  listen?: { host: string; port: number } | { server: HttpServer | HttpsServer };
  /**
   * Serve wss://. With `requestCert`, a dialer whose certificate does not verify (`authorized`
   * false) is answered TLS_REFUSED_STATUS and reported through `tlsFailed`; the server itself
   * does not reject at the TLS layer, where neither side would learn why.
   */
  tls?: TlsServerOptions;
  /** Dialing wss://: trust (`ca`), verification, and the certificate to present (mutual TLS). */
  clientTls?: { rejectUnauthorized?: boolean; ca?: PemList; cert?: PemList; key?: PemList };
  maxFrameBytes?: number;
  dialTimeoutMs?: number;
  /** Accept browser tabs on this path (core-as/src/gateway.ts); needs the member's secret, if any. */
  gateway?: GatewayOptions;
  secret?: string | Uint8Array;
  /**
   * One plain HTTP GET route (the metrics endpoint): on this transport's own server at `path`,
   * or, with `listen`, on a server of its own that this transport also closes at shutdown.
   */
  route?: HttpRoute;
  /** Plain HTTP requests on this transport's own server (the dashboard): true when handled. */
  onRequest?: (req: IncomingMessage, res: import('node:http').ServerResponse) => boolean;
  /** The member's scope: a tab's credential must be for it. */
  scope?: string;
}


type PemList = string | Buffer | Uint8Array | Array<string | Buffer | Uint8Array>;

/**
 * The masking key of the frames this node sends on links it dialed: zero, which `ws` sends without
 * copying and XOR-ing the payload, and which the receiving `ws` does not unmask. Masking protects
 * intermediaries from script in a browser; between members every frame is already authenticated,
 * and a 1 MiB state moved cost a copy and two passes over it.
 */
const zeroMask = (mask: Uint8Array): void => { mask.fill(0); };

interface Link { ws: WebSocket; opened: boolean; done: boolean; outbound: boolean; address: string; why?: string; failure?: DialFailure }

export class WsTransport implements Transport {
  private handlers!: TransportHandlers;
  private wss: WebSocketServer | undefined;
  private ownServer: HttpServer | HttpsServer | undefined;
  private gateway: NodeGateway | undefined;
  private unlisten: (() => void) | undefined;
  private links = new Map<number, Link>();
  private nextLink = 1;
  /** The gateway's links to this member, in process (core-as/src/gateway-local.ts). */
  private readonly local = new GatewayLocalLinks(() => this.handlers, () => this.nextLink++);
  private readonly maxPayload: number;

  constructor(private readonly opts: WsTransportOptions = {}) {
    this.maxPayload = transportPayloadMax(opts.maxFrameBytes);
  }

  async listen(handlers: TransportHandlers): Promise<string | undefined> {
    this.handlers = handlers;
    const l = this.opts.listen;
    if (!l) {
      await this.listenRoute('');
      return undefined;
    }
    let server: HttpServer | HttpsServer;
    let tls: boolean;
    if ('server' in l) {
      server = l.server;
      tls = 'setSecureContext' in server;
    } else {
      server = this.opts.tls ? createHttpsServer(this.opts.tls) : createHttpServer();
      tls = Boolean(this.opts.tls);
      this.ownServer = server;
      server.on('request', (req, res) => {
        if (this.opts.route && !this.opts.route.listen && this.serveRoute(req, res)) return;
        if (this.opts.onRequest?.(req, res)) return;
        res.writeHead(426).end('trellis: websocket only');
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(l.port, l.host, () => { server.off('error', reject); resolve(); });
      });
    }
    // Upgrades are routed here, so the gateway's path can take its own before the links' server.
    if (this.opts.gateway) {
      this.gateway = new NodeGateway(this.opts.gateway, {
        secret: this.opts.secret, scope: this.opts.scope ?? '', knownAddress: (a) => handlers.knownAddress?.(a) ?? false, dialOwn: (ev) => this.local.open(ev),
      }, (e) => handlers.gateway?.(e), this.maxPayload);
    }
    const wss = new WebSocketServer({
      noServer: true, maxPayload: this.maxPayload, perMessageDeflate: false, verifyClient: (info, done) => this.verifyPeer(info.req, done),
    });
    this.wss = wss;
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.gateway?.upgrade(req, socket, head)) return;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    };
    server.on('upgrade', onUpgrade);
    this.unlisten = () => server.off('upgrade', onUpgrade);
    this.wss.on('connection', (ws, req) => {
      const remote = `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`;
      const link = this.track(ws, false, remote);
      this.markOpen(link);
    });
    this.wss.on('error', (e) => handlers.error?.(e));
    const addr = server.address() as AddressInfo;
    const address = listenAddress(tls, 'server' in l ? addr.address : l.host, addr.port);
    this.gateway?.gateway.setAddress(address);
    await this.listenRoute(address);
    return address;
  }

  /** Refuses an upgrade from a dialer whose client certificate did not verify, with the reason. */
  private verifyPeer(req: IncomingMessage, done: (ok: boolean, status?: number) => void): void {
    const sock = req.socket as TLSSocket;
    if (!this.opts.tls?.requestCert || !('authorized' in sock) || sock.authorized) { done(true); return; }
    const code = sock.authorizationError === undefined ? 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' : String(sock.authorizationError);
    this.handlers.tlsFailed?.(`${sock.remoteAddress ?? ''}:${sock.remotePort ?? ''}`, false, tlsReason(code) ?? 'tls_error', code);
    done(false, TLS_REFUSED_STATUS);
  }

  private track(ws: WebSocket, outbound: boolean, address: string): number {
    const id = this.nextLink++;
    const link: Link = { ws, opened: false, done: false, outbound, address };
    this.links.set(id, link);
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (link.done) return;
      if (!isBinary) { this.close(id, 'text_frame'); return; }
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.handlers.frame(id, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    });
    ws.on('close', (code: number, reason: Buffer) => this.finish(id, link.why ?? closeReason(code, reason.toString())));
    // 'error' is always followed by 'close'; remember why, since the close code may only say 1006.
    ws.on('error', (err: Error & { code?: string }) => {
      const tls = outbound && !link.opened ? tlsReason(err.code) : undefined;
      if (tls) this.handlers.tlsFailed?.(address, true, tls, err.code!);
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') link.why = 'frame_too_large';
      else if (err.code?.startsWith('WS_ERR_')) link.why = 'protocol_error';
      if (!link.opened && outbound) { link.failure = dialFailureOf(err.code); this.finish(id, tls ?? err.message); }
    });
    return id;
  }

  private markOpen(id: number): void {
    const l = this.links.get(id);
    if (!l || l.done) return;
    l.opened = true;
    this.handlers.opened(id, l.outbound, l.address);
  }

  private finish(id: number, reason: string): void {
    const l = this.links.get(id);
    if (!l || l.done) return;
    l.done = true;
    this.links.delete(id);
    if (l.opened) this.handlers.closed(id, reason);
    else if (l.outbound) this.handlers.dialFailed(l.address, reason, l.failure ?? 'other');
  }

  dial(address: string): void {
    let ws: WebSocket;
    try {
      checkDialAddress(address);
      ws = new WebSocket(address, {
        maxPayload: this.maxPayload,
        perMessageDeflate: false,
        generateMask: zeroMask,
        handshakeTimeout: this.opts.dialTimeoutMs ?? DIAL_TIMEOUT_MS,
        rejectUnauthorized: this.opts.clientTls?.rejectUnauthorized,
        ca: this.opts.clientTls?.ca as Buffer[] | undefined,
        cert: this.opts.clientTls?.cert as Buffer[] | undefined,
        key: this.opts.clientTls?.key as Buffer[] | undefined,
      });
    } catch (e) {
      queueMicrotask(() => this.handlers.dialFailed(address, e instanceof Error ? e.message : String(e), 'other'));
      return;
    }
    const id = this.track(ws, true, address);
    ws.once('open', () => this.markOpen(id));
    // A listener that refused our certificate answers TLS_REFUSED_STATUS instead of upgrading.
    ws.once('unexpected-response', (_req, res) => {
      const refused = res.statusCode === TLS_REFUSED_STATUS && address.startsWith('wss:');
      if (refused) this.handlers.tlsFailed?.(address, true, 'cert_rejected_by_peer', `http_${res.statusCode}`);
      ws.terminate();
      this.finish(id, refused ? 'cert_rejected_by_peer' : `http_${res.statusCode}`);
    });
  }

  send(link: number, bytes: Uint8Array): void {
    if (this.local.send(link, bytes)) return;
    const l = this.links.get(link);
    if (!l || l.done || l.ws.readyState !== WebSocket.OPEN) return;
    l.ws.send(bytes, { binary: true });
  }

  close(link: number, reason: string): void {
    if (this.local.close(link, reason)) return;
    const l = this.links.get(link);
    if (!l || l.done) return;
    try { l.ws.close(WS_CLOSE_CODE, closeText(reason)); } catch { l.ws.terminate(); }
    // The core already forgot this link; report it now so `closed` comes exactly once.
    this.finish(link, reason);
    // A peer that does not answer the close handshake is cut off.
    setTimeout(() => l.ws.terminate(), 2000).unref();
  }

  private routeServer: HttpServer | undefined;
  /** Where the route's own server listens (`http://host:port/path`), once listening. */
  routeUrl: string | undefined;
  /** The gateway's tabs and open channels (undefined without option `gateway`). */
  gatewayStats(): { tabs: number; channels: number } | undefined { return this.gateway?.gateway.stats(); }

  /** Answers a GET of the route's path; false for any other request. */
  private serveRoute(req: IncomingMessage, res: import('node:http').ServerResponse): boolean {
    const route = this.opts.route!;
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== route.path) return false;
    route.answer().then(
      (a) => res.writeHead(200, { 'content-type': a.contentType }).end(a.body),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`trellis: ${e.message}\n`),
    );
    return true;
  }

  /** Starts the route's own server when it has a `listen` of its own. */
  private async listenRoute(linkAddress: string): Promise<void> {
    const route = this.opts.route;
    if (!route) return;
    if (!route.listen) {
      this.routeUrl = linkAddress.replace(/^ws/, 'http') + route.path;
      return;
    }
    const server = createHttpServer((req, res) => { if (!this.serveRoute(req, res)) res.writeHead(404).end(); });
    this.routeServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(route.listen!.port, route.listen!.host, () => { server.off('error', reject); resolve(); });
    });
    const a = server.address() as AddressInfo;
    this.routeUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}${route.path}`;
  }

  async shutdown(): Promise<void> {
    if (this.routeServer) {
      this.routeServer.closeAllConnections?.();
      await new Promise<void>((r) => this.routeServer!.close(() => r()));
    }
    const all = [...this.links.values()].map((l) => l.ws);
    for (const id of [...this.links.keys()]) this.close(id, 'shutdown');
    this.local.closeAll('shutdown');
    await Promise.all(all.map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const t = setTimeout(() => { ws.terminate(); resolve(); }, SHUTDOWN_DRAIN_MS);
      ws.once('close', () => { clearTimeout(t); resolve(); });
    })));
    this.unlisten?.();
    await this.gateway?.shutdown();
    if (this.wss) await new Promise<void>((r) => this.wss!.close(() => r()));
    if (this.ownServer) {
      this.ownServer.closeAllConnections?.();
      await new Promise<void>((r) => this.ownServer!.close(() => r()));
    }
  }
}
