// Loading the Wasm core. No Node-only API here: the caller supplies the bytes (or a compiled
// module), so the same code runs on Node, Bun and in a browser.
import { instantiateSync, type ASUtil } from '@assemblyscript/loader';

/** Where the built core lives, relative to this file (works with fs.readFile on Node/Bun, fetch in a browser). */
export const releaseWasmUrl = new URL('../build/release.wasm', import.meta.url);
/** The testing build: planted bugs, probes and invariants after every step (tests, simulator, benchmarks of probes). */
export const testingWasmUrl = new URL('../build/testing.wasm', import.meta.url);
export const debugWasmUrl = new URL('../build/debug.wasm', import.meta.url);

/** Raw exports of the Wasm core. Only code in core-as/src touches these. */
export interface CoreExports extends Record<string, unknown> {
  memory: WebAssembly.Memory;
}

export type CoreInstance = ASUtil & CoreExports;

let cachedModule: WebAssembly.Module | undefined;
let cachedFrom: unknown;

/** Compile once per process and per source; every core instance shares the module. */
export function compileCore(source: BufferSource | WebAssembly.Module): WebAssembly.Module {
  if (source instanceof WebAssembly.Module) return source;
  if (cachedModule && cachedFrom === source) return cachedModule;
  cachedModule = new WebAssembly.Module(source);
  cachedFrom = source;
  return cachedModule;
}

/** A fresh, independent core instance (own memory, own state). */
export function instantiateCore(source: BufferSource | WebAssembly.Module): CoreInstance {
  const mod = compileCore(source);
  const { exports } = instantiateSync<CoreExports>(mod, {
    env: {
      abort(_msg: number, _file: number, line: number, col: number) {
        // The core is written never to trap on input; reaching this is a core bug.
        throw new WebAssembly.RuntimeError(`trellis core aborted at ${line}:${col}`);
      },
      seed() {
        return 0; // determinism: the core never uses Math.random
      },
    },
  });
  return exports as unknown as CoreInstance;
}
