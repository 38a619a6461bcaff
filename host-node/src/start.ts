// start() for Node.js: wires the ws transport, the Node runners and a timer clock into the
// shared Supervisor runtime. Everything else (what to run where, when) is the core's.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer, ServerOptions as TlsServerOptions } from 'node:https';
import { Supervisor, releaseWasmUrl, InvalidOptionError, type CommonOptions } from '@trellis/core';
import { WsTransport } from './transport-ws.js';
import { NodeRunner } from './runner.js';
import { TimerClock } from '@trellis/core';

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

function checkListen(l: unknown): void {
  if (l === undefined) return;
  const o = l as Record<string, unknown>;
  if (o === null || typeof o !== 'object') throw new InvalidOptionError('listen', 'must be { host, port } or { server }');
  if ('server' in o) return;
  if (typeof o.host !== 'string' || !Number.isInteger(o.port) || (o.port as number) < 0 || (o.port as number) > 65535) {
    throw new InvalidOptionError('listen', 'must be { host: string, port: 0..65535 } or { server }');
  }
}

/** Starts a Trellis node in this process. */
export async function start(options: NodeStartOptions): Promise<Supervisor> {
  checkListen((options as unknown as Record<string, unknown> | null)?.listen);
  const transport = new WsTransport({
    listen: options?.listen,
    tls: options?.tls,
    clientTls: options?.clientTls,
    maxFrameBytes: options?.maxFrameBytes ?? 1 << 20,
  });
  return Supervisor.start(options, {
    transport,
    runner: (name, emitChildEvent) => new NodeRunner(name, options.kinds, emitChildEvent),
    clock: new TimerClock(),
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    wasm: coreModule(),
    defaultName: () => `${hostname()}-${process.pid}`,
  });
}
