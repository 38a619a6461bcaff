// The runtime's step budget (core-as/src/step-budget.ts): it follows how long steps hold the loop.
import { describe, it, expect } from 'vitest';
import { nextStepBudget } from '../src/step-budget.js';
import { STEP_BYTES, STEP_BYTES_MIN, STEP_TARGET_MS } from '../src/limits.js';

describe('step budget', () => {
  it('shrinks at once to what a slow step says fits in STEP_TARGET_MS, never below STEP_BYTES_MIN', () => {
    // 64 KiB took 200 ms: 3.2 KiB fit in 10 ms, below the floor.
    expect(nextStepBudget(STEP_BYTES, STEP_BYTES, 200)).toBe(STEP_BYTES_MIN);
    // 64 KiB took 40 ms: a quarter of it fits.
    expect(nextStepBudget(STEP_BYTES, STEP_BYTES, 4 * STEP_TARGET_MS)).toBe(STEP_BYTES / 4);
  });

  it('grows back by at most a quarter a step, up to STEP_BYTES', () => {
    expect(nextStepBudget(8192, 8192, 0.1)).toBe(10240);
    let b = STEP_BYTES_MIN;
    for (let i = 0; i < 40; i++) b = nextStepBudget(b, b, 0.1);
    expect(b).toBe(STEP_BYTES);
  });

  it('a step of a few bytes (a heartbeat, a timer) leaves the budget as it was', () => {
    expect(nextStepBudget(STEP_BYTES_MIN, 40, 0.01)).toBe(STEP_BYTES_MIN);
    expect(nextStepBudget(STEP_BYTES_MIN, 40, 500)).toBe(STEP_BYTES_MIN);
  });
});
