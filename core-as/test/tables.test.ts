// The core's own tables, checked inside Wasm against reference implementations with random
// operations: the string-keyed hash map (hashes compared before keys, tombstones, rebuilds) and
// the reconcile work queue (FIFO, no duplicates, amortised compaction).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { TestCore as Core, testingWasmUrl } from '@trellis/core/testing';

const core = Core.create(readFileSync(testingWasmUrl));

describe('core tables', () => {
  it.each([
    [8, 'tiny key space: constant churn on few slots'],
    [300, 'mixed'],
    [20_000, 'mostly inserts: growth and rebuilds'],
  ])('StrMap agrees with Map over 50,000 random operations (key space %i: %s)', (space) => {
    for (let seed = 1; seed <= 8; seed++) expect(core.selfTest('strmap', seed, 50_000, space)).toBe(0);
  });

  it.each([[10], [500], [5_000]])('WorkQueue is a FIFO without duplicates (key space %i)', (space) => {
    for (let seed = 1; seed <= 8; seed++) expect(core.selfTest('workqueue', seed, 30_000, space)).toBe(0);
  });
});
