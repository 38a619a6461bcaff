// Options of cordon, uncordon, drain and setWeight, validated before they reach the core
// (core-as/assembly/cordon.ts decides what they mean).

import { InvalidOptionError } from './errors.js';

export interface CordonOptions {
  /** Reject with TimeoutError when the member has not applied the change by then (default 10 s); the change stays recorded. */
  timeoutMs?: number;
}

export interface DrainOptions {
  /** Reject with DrainTimeoutError when children still run on the member by then (default 60 s). */
  deadlineMs?: number;
  /** Children moving off the member at once, at most (default 8). */
  maxParallel?: number;
}

export const CORDON_TIMEOUT_DEFAULT_MS = 10_000;
export const DRAIN_DEADLINE_DEFAULT_MS = 60_000;
export const DRAIN_PARALLEL_DEFAULT = 8;
/** The core clamps to DRAIN_PARALLEL_MAX too; the API refuses what it would clamp. */
export const DRAIN_PARALLEL_MAX = 65_536;
/** Deadlines travel as u32 milliseconds. */
export const DEADLINE_MS_MAX = 2 ** 32 - 1;

export function checkMember(member: unknown): string {
  if (typeof member !== 'string' || member.length === 0) throw new InvalidOptionError('member', 'must be a member name (a non-empty string)');
  return member;
}

function positiveInt(option: string, v: unknown, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new InvalidOptionError(option, `must be an integer from 1 to ${max}`);
  return v;
}

export function resolveCordonOptions(o: CordonOptions | undefined): { timeoutMs: number } {
  const opts = (o ?? {}) as Record<string, unknown>;
  if (typeof opts !== 'object') throw new InvalidOptionError('options', 'must be { timeoutMs }');
  return { timeoutMs: positiveInt('timeoutMs', opts.timeoutMs, CORDON_TIMEOUT_DEFAULT_MS, DEADLINE_MS_MAX) };
}

export function resolveDrainOptions(o: DrainOptions | undefined): { deadlineMs: number; maxParallel: number } {
  const opts = (o ?? {}) as Record<string, unknown>;
  if (typeof opts !== 'object') throw new InvalidOptionError('options', 'must be { deadlineMs, maxParallel }');
  return {
    deadlineMs: positiveInt('deadlineMs', opts.deadlineMs, DRAIN_DEADLINE_DEFAULT_MS, DEADLINE_MS_MAX),
    maxParallel: positiveInt('maxParallel', opts.maxParallel, DRAIN_PARALLEL_DEFAULT, DRAIN_PARALLEL_MAX),
  };
}

/** The same rule as start({ weight }). */
export function checkWeight(weight: unknown): number {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) throw new InvalidOptionError('weight', 'must be a positive finite number');
  return weight;
}
