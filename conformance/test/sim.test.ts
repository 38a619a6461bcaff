// The deterministic simulator (docs/SIMULATOR.md): 500 seeds of random workload and faults
// must hold every invariant; one seed gives one trace; each planted bug is found within a
// bounded number of seeds (the checker is not vacuous); a violation report replays.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PlantedBug } from '@trellis/core/testing';
import { runSeed, formatViolation, type SimResult, type SimOptions } from '../src/sim/run.js';
import { wasmModule } from './support.js';

const SEEDS = 500;
const CHUNK = 100;

describe('simulator: invariants hold', () => {
  for (let base = 1; base <= SEEDS; base += CHUNK) {
    it(`seeds ${base}..${base + CHUNK - 1}`, () => {
      const failures: string[] = [];
      let faulty = 0, converged = 0;
      for (let s = base; s < base + CHUNK; s++) {
        const r = runSeed(wasmModule, s);
        if (r.violations.length) failures.push(formatViolation(r));
        if (r.faults) faulty++;
        if (r.convergedMs !== undefined) converged++;
      }
      expect(failures.join('\n\n')).toBe('');
      // The seeds exercise both modes, and every one reached the convergence check.
      expect(faulty).toBeGreaterThan(CHUNK / 3);
      expect(faulty).toBeLessThan(CHUNK);
      expect(converged).toBe(CHUNK);
    }, 300_000);
  }
});

describe('simulator: seeds that once found a core bug', () => {
  // Each found a real bug (see the fixes named after them in core-as/assembly); they stay here so
  // the bug cannot come back unnoticed.
  const seeds: [number, SimOptions][] = [
    [5459, {}], // an ACK lost while digests agreed: the terminate was never acknowledged
    [10075, { faults: true, nodes: 7, chaosMs: 15000 }], // a failed mark undid a concurrent terminate
  ];
  it.each(seeds)('seed %i', (seed, o) => {
    const r = runSeed(wasmModule, seed, o);
    expect(r.violations.length ? formatViolation(r) : '').toBe('');
    expect(r.convergedMs).toBeDefined();
  }, 120_000);
});

describe('simulator: determinism (invariant 6)', () => {
  it('one seed, one trace', () => {
    for (const s of [3, 17, 99]) {
      const a = runSeed(wasmModule, s), b = runSeed(wasmModule, s);
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.steps).toBe(a.steps);
      expect(b.virtualMs).toBe(a.virtualMs);
      expect(b.trace).toEqual(a.trace);
    }
    expect(runSeed(wasmModule, 3).traceHash).not.toBe(runSeed(wasmModule, 4).traceHash);
  });
});

describe('simulator: planted bugs are found', () => {
  const MAX_SEEDS = 200;
  const found = new Map<number, SimResult>();
  const cases: [string, number, string[]][] = [
    ['start without waiting for the release of a claim', PlantedBug.startWithoutRelease, ['no-overlap']],
    ['skip anti-entropy on link open', PlantedBug.skipAntiEntropy, ['convergence', 'no-loss']],
    ['ignore incarnations', PlantedBug.ignoreIncarnation, ['convergence', 'no-loss', 'terminated-stays-terminated', 'liveness']],
    ['let terminate lose to an older start', PlantedBug.terminateLoses, ['terminated-stays-terminated']],
  ];
  it.each(cases)('%s', (_name, bug, invariants) => {
    let r: SimResult | undefined;
    for (let s = 1; s <= MAX_SEEDS && !r; s++) {
      const x = runSeed(wasmModule, s, { bugs: bug });
      if (x.violations.length) r = x;
    }
    expect(r, `planted bug ${bug} not found within ${MAX_SEEDS} seeds`).toBeDefined();
    expect(invariants).toContain(r!.violations[0].invariant);
    found.set(bug, r!);
  }, 300_000);

  it('a violation prints the seed, the invariant, the trace and the command that replays it', () => {
    const bug = PlantedBug.terminateLoses;
    let r = found.get(bug);
    for (let s = 1; !r && s <= MAX_SEEDS; s++) { const x = runSeed(wasmModule, s, { bugs: bug }); if (x.violations.length) r = x; }
    const text = formatViolation(r!);
    expect(text).toContain(`seed ${r!.seed}: invariant ${r!.violations[0].invariant} violated`);
    expect(text).toContain(`replay: npm run sim -- --seed ${r!.seed} --bugs ${bug}`);
    expect(text).toMatch(/!! terminated-stays-terminated/); // the trace ends at the violation
    expect(r!.trace.length).toBeGreaterThan(10);
    // The replay finds the same violation, at the same time.
    const again = runSeed(wasmModule, r!.seed, { bugs: bug });
    expect(again.violations[0]).toEqual(r!.violations[0]);
    // Without the bug, the same seed holds.
    expect(runSeed(wasmModule, r!.seed).violations).toEqual([]);
  }, 300_000);
});

describe('simulator: CLI', () => {
  const cli = fileURLToPath(new URL('../bin/sim.mjs', import.meta.url));
  it('ends with the summary line and exits 0 when the invariants hold', () => {
    const p = spawnSync(process.execPath, [cli, '--seeds', '3', '--base-seed', '40'], { encoding: 'utf8' });
    expect(p.stdout.trim().split('\n').at(-1)).toMatch(/^sim: 3 seeds, \d+ steps, 0 violations$/);
    expect(p.status).toBe(0);
  }, 60_000);
  it('exits non-zero on a violation, with the replay command', () => {
    const bug = PlantedBug.terminateLoses;
    let seed = 1;
    while (runSeed(wasmModule, seed, { bugs: bug }).violations.length === 0) seed++;
    const p = spawnSync(process.execPath, [cli, '--seed', String(seed), '--bugs', String(bug)], { encoding: 'utf8' });
    expect(p.stdout).toContain(`replay: npm run sim -- --seed ${seed} --bugs ${bug}`);
    expect(p.stdout.trim().split('\n').at(-1)).toMatch(/^sim: 1 seeds, \d+ steps, [1-9]\d* violations$/);
    expect(p.status).toBe(1);
  }, 60_000);
});
