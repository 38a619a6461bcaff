// Runs only the chaos test (conformance/test/chaos.slow.ts), which the default suite leaves out.
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: { include: ['conformance/test/chaos.slow.ts'], testTimeout: 5 * 60_000, hookTimeout: 60_000, maxWorkers: 1 },
});
