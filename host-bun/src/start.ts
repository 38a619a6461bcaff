// start() for Bun: Bun.serve websockets, the Bun runners and Web Crypto randomness, handed to
// the shared startWith.
import { hostname } from 'node:os';
import { startWith, checkTls, webRandomBytes, releaseWasmUrl, type CommonOptions, type GatewayOptions, type Supervisor, type TlsOptions } from '@trellis/core';
import { readFileSync } from 'node:fs';
import { attachMetrics, metricsRoute, type MetricsEndpoint, type MetricsOptions } from '@trellis/core/metrics';
import { DashboardService, checkDashboardOptions, type DashboardOptions } from '@trellis/core/dashboard';
import { dashboardFetch } from './dashboard-bun.js';
import { BunTransport, type BunTransportOptions } from './transport-bun.js';
import { BunRunner } from './runner.js';

export interface BunStartOptions extends CommonOptions {
  listen?: { host: string; port: number };
  /** Serve wss:// and dial wss:// peers with this certificate, verified against `ca` (docs/DEPLOY.md). */
  tls?: TlsOptions;
  /** Accept browser tabs as members (docs/PROTOCOL.md, "Gateway"); needs `listen`. */
  gateway?: GatewayOptions;
  /** Serve Prometheus metrics: at a path of the `listen` server, or on a port of their own. */
  metrics?: MetricsOptions;
  /** Serve a live dashboard page at this path of the `listen` server (actions off unless `actions` is given). */
  dashboard?: DashboardOptions;
}

/** Bun.serve's and the client's TLS settings for the `tls` option (mutual TLS with a `ca`). */
function bunTls(o: BunStartOptions): Pick<BunTransportOptions, 'tls' | 'clientTls'> {
  const t = checkTls(o?.tls);
  if (!t) return {};
  const verify = t.verifyPeers ?? true;
  const mutual = verify && t.ca !== undefined;
  return {
    tls: { cert: t.cert, key: t.key, ca: t.ca, requestCert: mutual, rejectUnauthorized: mutual },
    clientTls: { ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: verify },
  };
}

let wasm: WebAssembly.Module | undefined;
async function coreModule(): Promise<WebAssembly.Module> {
  wasm ??= new WebAssembly.Module(await Bun.file(releaseWasmUrl).arrayBuffer());
  return wasm;
}

/** Starts a Trellis node in this process. */
export async function start(options: BunStartOptions): Promise<Supervisor> {
  const holder: { endpoint?: MetricsEndpoint; service?: DashboardService } = {};
  const dashboard = checkDashboardOptions(options?.dashboard, options?.listen, options?.secret);
  let transport: BunTransport | undefined;
  const sup = await startWith(options, {
    transport: (o, maxFrameBytes) => {
      transport = new BunTransport({ listen: o?.listen, ...bunTls(o), maxFrameBytes, gateway: o?.gateway, secret: o?.secret, scope: o?.scope, route: metricsRoute(o?.metrics, o?.listen, holder),
        onRequest: dashboard ? dashboardFetch(dashboard, holder) : undefined });
      return transport;
    },
    runner: (name, kinds, emitChildEvent) => new BunRunner(name, kinds, emitChildEvent),
    randomBytes: webRandomBytes,
    wasm: coreModule,
    defaultName: () => `${hostname()}-${process.pid}`,
  });
  holder.endpoint = attachMetrics(sup, { processMetrics: options.metrics !== undefined });
  sup.metricsUrl = transport?.routeUrl;
  if (dashboard) holder.service = new DashboardService(dashboard, sup, { scope: options.scope, secret: options.secret }, (url) => readFileSync(url));
  return sup;
}
