// The deterministic simulator: 500 seeds with random workload and faults must hold every
// invariant; one seed gives one trace; and each planted bug is found within a bounded number
// of seeds (the checker is not vacuous).
import { describe, it, expect } from 'vitest';
import { PlantedBug } from '@trellis/core';
import { runSeed, formatViolation } from '../src/sim/run.js';
import { wasmModule } from './support.js';

const SEEDS = 500;
const CHUNK = 100;

describe('simulator: invariants hold', () => {
  for (let base = 1; base <= SEEDS; base += CHUNK) {
    it(`seeds ${base}..${base + CHUNK - 1}`, () => {
      const failures: string[] = [];
      for (let s = base; s < base + CHUNK; s++) {
        const r = runSeed(wasmModule, s);
        if (r.violations.length) failures.push(formatViolation(r));
      }
      expect(failures.join('\n\n')).toBe('');
    }, 300_000);
  }
});

describe('simulator: determinism', () => {
  it('one seed, one trace', () => {
    for (const s of [3, 17, 99]) {
      const a = runSeed(wasmModule, s), b = runSeed(wasmModule, s);
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.steps).toBe(a.steps);
      expect(b.trace).toEqual(a.trace);
    }
    expect(runSeed(wasmModule, 3).traceHash).not.toBe(runSeed(wasmModule, 4).traceHash);
  });
});

describe('simulator: planted bugs are found', () => {
  const MAX_SEEDS = 200;
  const cases: [string, number, string[]][] = [
    ['start without waiting for the release of a claim', PlantedBug.startWithoutRelease, ['no-overlap', 'convergence']],
    ['skip anti-entropy on link open', PlantedBug.skipAntiEntropy, ['convergence', 'no-loss']],
    ['ignore incarnations', PlantedBug.ignoreIncarnation, ['convergence', 'no-loss', 'terminated-stays-terminated']],
    ['let terminate lose to an older start', PlantedBug.terminateLoses, ['terminated-stays-terminated', 'convergence']],
  ];
  it.each(cases)('%s', (_name, bug, invariants) => {
    let found: { seed: number; invariant: string } | undefined;
    for (let s = 1; s <= MAX_SEEDS && !found; s++) {
      const r = runSeed(wasmModule, s, { bugs: bug });
      if (r.violations.length) found = { seed: s, invariant: r.violations[0].invariant };
    }
    expect(found, `bug ${bug} not found within ${MAX_SEEDS} seeds`).toBeDefined();
    expect(invariants).toContain(found!.invariant);
  }, 300_000);
});
