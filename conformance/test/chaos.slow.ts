// Real-process chaos for about 90 seconds with a fixed seed (conformance/chaos): five mixed
// Node/Bun members behind the fault proxy, kill -9, SIGSTOP, restarts, leaves, link faults;
// after healing, every acknowledged start runs exactly once and no promise is broken.
// `npm test` runs it as a suite of its own, after the others (conformance/bin/test-all.mjs); alone:
//   npx vitest run --config conformance/chaos/vitest.config.ts
import { describe, it, expect } from 'vitest';
// @ts-expect-error plain ES module without types
import { runChaos, summary } from '../chaos/harness.mjs';

const SEED = 7;
const MINUTES = 1.5;

describe('chaos (real processes)', () => {
  it(`seed ${SEED}, ${MINUTES} minutes, available mode: no violation after convergence`, async () => {
    const r = await runChaos({ minutes: MINUTES, seed: SEED });
    const shown = r.violations.slice(0, 20).map((v: { kind: string; id: string; detail: string }) => `${v.kind} ${v.id}: ${v.detail}`);
    expect(Object.values(r.faults).reduce((s: number, n) => s + (n as number), 0), summary(r)).toBeGreaterThan(20);
    expect(shown, `${summary(r)}\nreplay: npm run chaos -- --minutes ${MINUTES} --seed ${SEED}`).toEqual([]);
  }, 5 * 60_000);
});
