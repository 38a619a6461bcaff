// The timer clock every host uses: steady wall time (SteadyTime) and one timer. Where the runtime
// supports it the timer is unref'd: an idle node stays alive because of its sockets, not because
// of a wake-up.
//
// Timer contract (DESIGN.md, "Time"): the callback runs only once now() has reached the time
// asked for. Host timers run on a monotonic clock of their own (Node's loop time, in whole ms),
// and Node fires a timer up to a millisecond before now() gets there; the core would then tick
// before its deadline, compute the same next wake and ask for none. So an early timer re-arms
// for the rest instead of firing. The core asks for its wake after every step, often for the
// time it asked before: an armed timer for that time is kept (no clearTimeout/setTimeout per
// step), and a time whose timer has already fired arms a new one.
import type { Clock } from './adapters.js';

/** The timer primitives a TimerClock reads (injected so tests can fire timers early). */
export interface TimerSource {
  now(): number;
  setTimeout(fn: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The time a node runs on: wall-clock milliseconds that never run backwards and never run slower
 * than the monotonic clock. It is the monotonic clock plus the largest lead the wall clock has
 * shown over it, so:
 *  - a wall clock stepped back (NTP, a VM's clock sync) does not stop time: with the wall clock
 *    alone, a node's time would stand still until the wall clock caught up, and meanwhile it would
 *    judge no silence and, cut off in quorum mode, keep running children its lease no longer
 *    covers;
 *  - a machine that slept (the monotonic clock may not count a suspend, the wall clock does) or a
 *    wall clock stepped forward shows as the gap it is, which the core treats as a pause;
 *  - it keeps to the wall clock that credentials and tab-link epochs are stated in (at most 1 ms
 *    behind it: Date.now() is whole milliseconds), but is ahead of it by what the wall clock lost
 *    since the node started (a step back, a slower rate).
 */
export class SteadyTime {
  private lead = -Infinity;
  constructor(private readonly wall: () => number = Date.now, private readonly mono: () => number = () => performance.now()) {}
  now(): number {
    // The wall clock first: a thread preempted between the two reads then sees a smaller lead,
    // which the maximum ignores; the other order would keep the preemption as a lead for ever.
    const w = this.wall();
    const m = this.mono();
    if (w - m > this.lead) this.lead = w - m;
    return Math.floor(m + this.lead);
  }
}

const steady = new SteadyTime();

const globalTimers: TimerSource = {
  now: () => steady.now(),
  setTimeout: (fn, delayMs) => {
    const t = setTimeout(fn, delayMs);
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
};

export class TimerClock implements Clock {
  private handle: unknown;
  private armed = false;
  private atMs = 0;
  private fire: (() => void) | undefined;

  constructor(private readonly timers: TimerSource = globalTimers) {}

  now(): number { return this.timers.now(); }

  setTimer(atMs: number, fire: () => void): void {
    if (this.armed && atMs === this.atMs) { this.fire = fire; return; }
    this.clearTimer();
    this.atMs = atMs;
    this.fire = fire;
    this.arm();
  }

  clearTimer(): void {
    if (this.armed) this.timers.clearTimeout(this.handle);
    this.armed = false;
    this.handle = undefined;
    this.fire = undefined;
  }

  private arm(): void {
    this.armed = true;
    this.handle = this.timers.setTimeout(this.onTimer, Math.max(0, this.atMs - this.timers.now()));
  }

  private readonly onTimer = (): void => {
    this.armed = false;
    this.handle = undefined;
    if (this.timers.now() < this.atMs) { this.arm(); return; }
    const fire = this.fire;
    this.fire = undefined;
    fire?.();
  };
}

/** Cryptographic random bytes through Web Crypto (Node 20, Bun and browsers all have it). */
export function webRandomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return b;
}
