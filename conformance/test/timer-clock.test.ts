// The timer contract on the host side: a wake the core asks for is delivered at or after its
// time, even when the host's timer fires early, and a time asked twice is armed twice.
// The time source is the clock's injected dependency; here it fires timers early on purpose.
import { describe, it, expect } from 'vitest';
import { TimerClock, type TimerSource } from '../../core-as/src/clock.js';

/** Virtual time whose timers fire up to `earlyMs` before their delay has passed, as Node's do
 *  against Date.now(); a timer of at least 1 ms still lets time advance by 1 ms. */
class EarlyTimers implements TimerSource {
  t = 1_000;
  earlyMs = 0;
  armed = 0;
  private queue: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number { return this.t; }
  setTimeout(fn: () => void, delayMs: number): unknown {
    this.armed++;
    const id = this.nextId++;
    this.queue.push({ at: this.t + Math.max(Math.min(delayMs, 1), delayMs - this.earlyMs), fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void { this.queue = this.queue.filter((q) => q.id !== handle); }
  get pending(): number { return this.queue.length; }
  /** Advances time to each due timer in order and runs it, up to `untilMs`. */
  runUntil(untilMs: number): void {
    for (let guard = 0; ; guard++) {
      if (guard > 100_000) throw new Error('timers keep firing without time advancing');
      this.queue.sort((a, b) => a.at - b.at);
      const next = this.queue[0];
      if (!next || next.at > untilMs) break;
      this.queue.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = Math.max(this.t, untilMs);
  }
}

describe('TimerClock: every wake is delivered at or after its time', () => {
  it('a timer that fires 1 ms early re-arms and delivers the tick at the asked time', () => {
    const timers = new EarlyTimers();
    timers.earlyMs = 1;
    const clock = new TimerClock(timers);
    const ticks: number[] = [];
    clock.setTimer(1_050, () => ticks.push(clock.now()));
    timers.runUntil(1_100);
    expect(ticks).toEqual([1_050]);
    expect(timers.armed).toBe(2);
  });

  it('a timer that fires far too early keeps re-arming until the time is reached, then fires once', () => {
    const timers = new EarlyTimers();
    timers.earlyMs = 7;
    const clock = new TimerClock(timers);
    const ticks: number[] = [];
    clock.setTimer(1_020, () => ticks.push(clock.now()));
    timers.runUntil(2_000);
    expect(ticks).toEqual([1_020]);
    expect(timers.pending).toBe(0);
  });

  it('a core that asks only when its wake time changes still ticks for ever under early timers', () => {
    // The core's side of the contract as it stood: it asks for a wake only when the computed
    // time differs from the last one asked for. An early tick computes the same time again.
    const timers = new EarlyTimers();
    timers.earlyMs = 1;
    const clock = new TimerClock(timers);
    const periodMs = 10;
    let lastWake = -1;
    const ticks: number[] = [];
    const step = (now: number) => {
      ticks.push(now);
      const at = Math.floor(now / periodMs) * periodMs + periodMs;
      if (at !== lastWake) { lastWake = at; clock.setTimer(at, () => step(clock.now())); }
    };
    step(clock.now());
    timers.runUntil(1_500);
    expect(ticks.length).toBe(51);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBe(1_000 + i * periodMs);
  });

  it('the same time asked again after its timer fired is armed and delivered again', () => {
    const timers = new EarlyTimers();
    const clock = new TimerClock(timers);
    const ticks: number[] = [];
    clock.setTimer(1_010, () => ticks.push(clock.now()));
    timers.runUntil(1_010);
    clock.setTimer(1_010, () => ticks.push(clock.now()));
    timers.runUntil(1_020);
    expect(ticks).toEqual([1_010, 1_010]);
  });

  it('the same time asked twice while armed fires once, for the latest callback', () => {
    const timers = new EarlyTimers();
    const clock = new TimerClock(timers);
    const ticks: string[] = [];
    clock.setTimer(1_010, () => ticks.push('first'));
    clock.setTimer(1_010, () => ticks.push('second'));
    timers.runUntil(1_100);
    expect(ticks).toEqual(['second']);
    expect(timers.pending).toBe(0);
  });

  it('clearTimer cancels a timer that is re-arming after an early fire', () => {
    const timers = new EarlyTimers();
    timers.earlyMs = 3;
    const clock = new TimerClock(timers);
    const ticks: number[] = [];
    clock.setTimer(1_010, () => ticks.push(clock.now()));
    timers.runUntil(1_008); // fired early at 1_007, re-armed for 1_010
    expect(timers.pending).toBe(1);
    clock.clearTimer();
    timers.runUntil(1_100);
    expect(ticks).toEqual([]);
    expect(timers.pending).toBe(0);
  });

  it('a time already passed fires at once (delay 0)', () => {
    const timers = new EarlyTimers();
    const clock = new TimerClock(timers);
    const ticks: number[] = [];
    clock.setTimer(900, () => ticks.push(clock.now()));
    timers.runUntil(1_000);
    expect(ticks).toEqual([1_000]);
  });

  it('with the real timers, the tick never comes before Date.now() reaches the asked time', async () => {
    const clock = new TimerClock();
    const early: number[] = [];
    for (let i = 0; i < 300; i++) {
      const at = Date.now() + 1 + (i % 3);
      const firedAt = await new Promise<number>((resolve) => clock.setTimer(at, () => resolve(Date.now())));
      if (firedAt < at) early.push(at - firedAt);
    }
    expect(early).toEqual([]);
  });
});
