// start() for Bun: Bun.serve websockets, Bun runners, the shared timer clock.
import { hostname } from 'node:os';
import { Supervisor, TimerClock, webRandomBytes, releaseWasmUrl, InvalidOptionError, type CommonOptions } from '@trellis/core';
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

export async function start(options: BunStartOptions): Promise<Supervisor> {
  const l = (options as unknown as Record<string, unknown> | null)?.listen as Record<string, unknown> | undefined;
  if (l !== undefined && (l === null || typeof l.host !== 'string' || !Number.isInteger(l.port))) {
    throw new InvalidOptionError('listen', 'must be { host: string, port: 0..65535 }');
  }
  const transport = new BunTransport({ listen: options?.listen, tls: options?.tls, maxFrameBytes: options?.maxFrameBytes ?? 1 << 20 });
  return Supervisor.start(options, {
    transport,
    runner: (name, emitChildEvent) => new BunRunner(name, options.kinds, emitChildEvent),
    clock: new TimerClock(),
    randomBytes: webRandomBytes,
    wasm: await coreModule(),
    defaultName: () => `${hostname()}-${process.pid}`,
  });
}
