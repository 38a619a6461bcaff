// start() as every host writes it: check the host's listen option, build its transport, and
// start the Supervisor with the host's runner, randomness and Wasm module on the shared timer
// clock. A host supplies only what differs (HostStart).
import type { KindDefinition, Runner, Transport } from './adapters.js';
import { TimerClock } from './clock.js';
import { InvalidOptionError } from './errors.js';
import { MAX_FRAME_BYTES_DEFAULT } from './limits.js';
import type { CommonOptions } from './options.js';
import { Supervisor } from './supervisor.js';

export interface HostStart<O extends CommonOptions> {
  /** The host's transport for these options (not yet listening); `maxFrameBytes` is the option or its default. */
  transport(options: O, maxFrameBytes: number): Transport;
  runner(nodeName: string, kinds: Record<string, KindDefinition>, emitChildEvent: (id: string, name: string, data: unknown) => void): Runner;
  /** Cryptographically random bytes (handshake nonces). */
  randomBytes(n: number): Uint8Array;
  /** The compiled core (hosts compile it once per process). */
  wasm(): WebAssembly.Module | Promise<WebAssembly.Module>;
  /** Default node name when the user gives none. */
  defaultName(): string;
  /** True when `listen` may also be `{ server }` (an existing server the host attaches to). */
  listenOnServer?: boolean;
}

/** Validates `options.listen`: `{ host, port }` with a port in 0..65535, or `{ server }` where the host allows it. */
export function checkListen(listen: unknown, onServer: boolean): void {
  if (listen === undefined) return;
  const shape = onServer ? '{ host: string, port: 0..65535 } or { server }' : '{ host: string, port: 0..65535 }';
  if (listen === null || typeof listen !== 'object') throw new InvalidOptionError('listen', `must be ${shape}`);
  const o = listen as Record<string, unknown>;
  if (onServer && 'server' in o) return;
  if (typeof o.host !== 'string' || !Number.isInteger(o.port) || (o.port as number) < 0 || (o.port as number) > 65535) {
    throw new InvalidOptionError('listen', `must be ${shape}`);
  }
}

/** Starts a Trellis node with a host's adapters. */
export async function startWith<O extends CommonOptions>(options: O, host: HostStart<O>): Promise<Supervisor> {
  checkListen((options as unknown as Record<string, unknown> | null)?.listen, host.listenOnServer ?? false);
  const transport = host.transport(options, options?.maxFrameBytes ?? MAX_FRAME_BYTES_DEFAULT);
  return Supervisor.start(options, {
    transport,
    runner: (name, emitChildEvent) => host.runner(name, options.kinds, emitChildEvent),
    clock: new TimerClock(),
    randomBytes: (n) => host.randomBytes(n),
    wasm: await host.wasm(),
    defaultName: () => host.defaultName(),
  });
}
