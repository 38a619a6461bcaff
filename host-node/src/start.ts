// start() for Node.js: the ws transport, the Node runners and Node's randomness and Wasm loading,
// handed to the shared startWith. Everything else (what to run where, when) is the core's.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer, ServerOptions as TlsServerOptions } from 'node:https';
import { startWith, checkTls, releaseWasmUrl, type CommonOptions, type GatewayOptions, type Supervisor, type TlsOptions } from '@trellis/core';
import { attachMetrics, metricsRoute, type MetricsEndpoint, type MetricsOptions } from '@trellis/core/metrics';
import { DashboardService, checkDashboardOptions, type DashboardOptions } from '@trellis/core/dashboard';
import { WsTransport, type WsTransportOptions } from './transport-ws.js';
import { dashboardHandler } from './dashboard-http.js';
import { NodeRunner } from './runner.js';

export interface NodeStartOptions extends CommonOptions {
  /** Where to accept links: a host and port (port 0 = any), or an existing http/https server. */
  listen?: { host: string; port: number } | { server: HttpServer | HttpsServer };
  /** Serve wss:// and dial wss:// peers with this certificate, verified against `ca` (docs/DEPLOY.md). */
  tls?: TlsOptions & Omit<TlsServerOptions, keyof TlsOptions>;
  /** TLS for dialing wss:// peers when this node does not serve TLS itself (e.g. a private CA). */
  clientTls?: { rejectUnauthorized?: boolean; ca?: string | Buffer | Array<string | Buffer> };
  /** Accept browser tabs as members (docs/PROTOCOL.md, "Gateway"); needs `listen`. */
  gateway?: GatewayOptions;
  /** Serve Prometheus metrics: at a path of the `listen` server, or on a port of their own. */
  metrics?: MetricsOptions;
  /** Serve a live dashboard page at this path of the `listen` server (actions off unless `actions` is given). */
  dashboard?: DashboardOptions;
}

const buf = (v: string | Uint8Array): string | Buffer => (typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

/** The ws transport's server and client TLS settings for the `tls` option (mutual TLS with a `ca`). */
function wsTls(o: NodeStartOptions): Pick<WsTransportOptions, 'tls' | 'clientTls'> {
  const t = checkTls(o?.tls) as NodeStartOptions['tls'];
  if (!t) return { clientTls: o?.clientTls };
  const { verifyPeers = true, ...rest } = t;
  const mutual = verifyPeers && t.ca !== undefined;
  const pem = { cert: buf(t.cert), key: buf(t.key), ca: t.ca === undefined ? undefined : Array.isArray(t.ca) ? t.ca.map(buf) : buf(t.ca) };
  return {
    // The server asks for a certificate but judges it itself (WsTransport.verifyPeer), so the reason is known.
    tls: { ...rest, ...pem, requestCert: mutual, rejectUnauthorized: false },
    clientTls: o.clientTls ?? { ...pem, rejectUnauthorized: verifyPeers },
  };
}

let wasm: WebAssembly.Module | undefined;
/** The core, compiled once per process. */
export function coreModule(): WebAssembly.Module {
  wasm ??= new WebAssembly.Module(readFileSync(releaseWasmUrl));
  return wasm;
}

/** Starts a Trellis node in this process. */
export async function start(options: NodeStartOptions): Promise<Supervisor> {
  const holder: { endpoint?: MetricsEndpoint; service?: DashboardService } = {};
  const dashboard = checkDashboardOptions(options?.dashboard, options?.listen, options?.secret);
  let transport: WsTransport | undefined;
  const sup = await startWith(options, {
    listenOnServer: true,
    transport: (o, maxFrameBytes) => {
      transport = new WsTransport({ listen: o?.listen, ...wsTls(o), maxFrameBytes, gateway: o?.gateway, secret: o?.secret, scope: o?.scope, route: metricsRoute(o?.metrics, o?.listen, holder),
        onRequest: dashboard ? dashboardHandler(dashboard, holder) : undefined });
      return transport;
    },
    runner: (name, kinds, emitChildEvent) => new NodeRunner(name, kinds, emitChildEvent),
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    wasm: coreModule,
    defaultName: () => `${hostname()}-${process.pid}`,
  });
  holder.endpoint = attachMetrics(sup, { processMetrics: options.metrics !== undefined });
  sup.metricsUrl = transport?.routeUrl;
  const t = transport;
  if (options.gateway && t) sup.gatewayStats = () => t.gatewayStats() ?? { tabs: 0, channels: 0 };
  if (dashboard) holder.service = new DashboardService(dashboard, sup, { scope: options.scope, secret: options.secret }, (url) => readFileSync(url));
  return sup;
}
