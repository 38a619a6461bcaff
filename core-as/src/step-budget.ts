// How many queued event bytes the runtime hands the core in one step. A fixed byte budget is a
// different length of time on every machine and under every load: on two cores shared by twenty
// processes a 64 KiB slice of a start burst held the event loop for over a second, heartbeats
// included, and the members took each other for dead. The budget follows the time steps take
// (the core's step and the effects carried out after it, which is what holds the loop), aiming at
// STEP_TARGET_MS, between STEP_BYTES_MIN and STEP_BYTES: it shrinks at once to what a slow step
// says fits, and grows back by a quarter a step, since the bytes of a burst differ in cost (a
// heartbeat is cheap, a delta of specs is not) and a run of cheap steps says little about the next.

import { STEP_BYTES, STEP_BYTES_MIN, STEP_TARGET_MS } from './limits.js';

/** A step that took fewer bytes than this says nothing about the rate (its fixed cost dominates). */
const RATE_SAMPLE_BYTES_MIN = 1024;
/** How much the budget may grow after one step. */
const GROWTH = 1.25;

/**
 * The next step's budget after a step that took `usedBytes` of the queue with budget `budget`
 * and held the loop for `ms`.
 */
export function nextStepBudget(budget: number, usedBytes: number, ms: number): number {
  if (usedBytes < RATE_SAMPLE_BYTES_MIN) return budget;
  const fit = ms > 0 ? (usedBytes * STEP_TARGET_MS) / ms : STEP_BYTES;
  const next = fit < budget ? fit : Math.min(fit, budget * GROWTH);
  return Math.max(STEP_BYTES_MIN, Math.min(STEP_BYTES, Math.round(next)));
}
