import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['core-as/test/**/*.test.ts', 'host-node/test/**/*.test.ts', 'conformance/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real processes and sockets: keep parallelism modest on a 2-core machine.
    maxWorkers: 2,
  },
});
