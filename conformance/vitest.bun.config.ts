import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// The vectors suites, run inside the Bun runtime (bun --bun x vitest): placement and codec
// vectors and the crypto vectors must hold in every runtime, not only in Node.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['conformance/test/placement.test.ts', 'conformance/test/codec.test.ts', 'core-as/test/hash-crypto.test.ts', 'core-as/test/placement.test.ts', 'core-as/test/tables.test.ts', 'conformance/test/bursts.test.ts', 'conformance/test/runtime.test.ts'],
    testTimeout: 120_000,
    maxWorkers: 2,
  },
});
