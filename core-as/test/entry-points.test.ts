// '@trellis/core' carries what hosts use; probes and planted bugs only '@trellis/core/testing'.
import { describe, expect, it } from 'vitest';
import * as main from '@trellis/core';
import * as testing from '@trellis/core/testing';

const PROBES = ['plantBugs', 'fuzzFrame', 'fuzzDesiredCount', 'selfTest', 'xxh64', 'sha256', 'hmacSha256', 'place'];

describe('entry points', () => {
  it('the main entry has no probe, planted bug or raw Wasm loader', () => {
    for (const p of PROBES) expect(p in main.Core.prototype, p).toBe(false);
    for (const name of ['PlantedBug', 'REJECT_REASONS', 'TestCore', 'instantiateCore', 'compileCore', 'debugWasmUrl', 'EXIT_NAMES']) {
      expect(name in main, name).toBe(false);
    }
  });

  it('the testing entry has them, on a core that is still a Core', () => {
    for (const p of PROBES) expect(p in testing.TestCore.prototype, p).toBe(true);
    expect(testing.TestCore.prototype).toBeInstanceOf(main.Core);
    expect(Object.values(testing.PlantedBug)).toEqual([1, 2, 4, 8, 16, 32]);
  });
});
