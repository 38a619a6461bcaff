// start() for Bun: Bun.serve websockets, the Bun runners and Web Crypto randomness, handed to
// the shared startWith.
import { hostname } from 'node:os';
import { startWith, webRandomBytes, releaseWasmUrl, type CommonOptions, type Supervisor } from '@trellis/core';
import { BunTransport } from './transport-bun.js';
import { BunRunner } from './runner.js';

export interface BunStartOptions extends CommonOptions {
  listen?: { host: string; port: number };
  tls?: { cert: string; key: string };
}

let wasm: WebAssembly.Module | undefined;
async function coreModule(): Promise<WebAssembly.Module> {
  wasm ??= new WebAssembly.Module(await Bun.file(releaseWasmUrl).arrayBuffer());
  return wasm;
}

/** Starts a Trellis node in this process. */
export function start(options: BunStartOptions): Promise<Supervisor> {
  return startWith(options, {
    transport: (o, maxFrameBytes) => new BunTransport({ listen: o?.listen, tls: o?.tls, maxFrameBytes }),
    runner: (name, kinds, emitChildEvent) => new BunRunner(name, kinds, emitChildEvent),
    randomBytes: webRandomBytes,
    wasm: coreModule,
    defaultName: () => `${hostname()}-${process.pid}`,
  });
}
