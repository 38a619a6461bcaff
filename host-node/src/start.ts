// start() for Node.js: the ws transport, the Node runners and Node's randomness and Wasm loading,
// handed to the shared startWith. Everything else (what to run where, when) is the core's.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer, ServerOptions as TlsServerOptions } from 'node:https';
import { startWith, releaseWasmUrl, type CommonOptions, type Supervisor } from '@trellis/core';
import { WsTransport } from './transport-ws.js';
import { NodeRunner } from './runner.js';

export interface NodeStartOptions extends CommonOptions {
  /** Where to accept links: a host and port (port 0 = any), or an existing http/https server. */
  listen?: { host: string; port: number } | { server: HttpServer | HttpsServer };
  /** Serve wss:// with these TLS options (with listen: { host, port }). */
  tls?: TlsServerOptions;
  /** TLS options for dialing wss:// peers (e.g. a private CA). */
  clientTls?: { rejectUnauthorized?: boolean; ca?: string | Buffer | Array<string | Buffer> };
}

let wasm: WebAssembly.Module | undefined;
/** The core, compiled once per process. */
export function coreModule(): WebAssembly.Module {
  wasm ??= new WebAssembly.Module(readFileSync(releaseWasmUrl));
  return wasm;
}

/** Starts a Trellis node in this process. */
export function start(options: NodeStartOptions): Promise<Supervisor> {
  return startWith(options, {
    listenOnServer: true,
    transport: (o, maxFrameBytes) => new WsTransport({ listen: o?.listen, tls: o?.tls, clientTls: o?.clientTls, maxFrameBytes }),
    runner: (name, kinds, emitChildEvent) => new NodeRunner(name, kinds, emitChildEvent),
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    wasm: coreModule,
    defaultName: () => `${hostname()}-${process.pid}`,
  });
}
