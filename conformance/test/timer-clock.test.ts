// The timer contract on the host side: a wake the core asks for is delivered at or after its
// time, even when the host's timer fires early, and a time asked twice is armed twice.
// The time source is the clock's injected dependency; here it fires timers early on purpose.
import { describe, it, expect } from 'vitest';
import { SteadyTime, TimerClock, type TimerSource } from '../../core-as/src/clock.js';

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

  it("with the real timers, the tick never comes before the node's time reaches the asked time", async () => {
    const clock = new TimerClock();
    const early: number[] = [];
    for (let i = 0; i < 300; i++) {
      const at = clock.now() + 1 + (i % 3);
      const firedAt = await new Promise<number>((resolve) => clock.setTimer(at, () => resolve(clock.now())));
      if (firedAt < at) early.push(at - firedAt);
    }
    expect(early).toEqual([]);
  });
});

describe('SteadyTime: the wall clock, never backwards, never slower than the monotonic clock', () => {
  /** A wall and a monotonic clock the test moves by hand. */
  const clocks = () => {
    const c = { wall: 1_000_000, mono: 50.25 };
    return { c, time: new SteadyTime(() => c.wall, () => c.mono) };
  };

  it('follows the wall clock while the two agree', () => {
    const { c, time } = clocks();
    expect(time.now()).toBe(1_000_000);
    c.wall += 250; c.mono += 250;
    expect(time.now()).toBe(1_000_250);
  });

  it('a wall clock stepped back: time goes on at the monotonic rate, it does not stand still', () => {
    const { c, time } = clocks();
    time.now();
    c.wall -= 10_000; // stepped back 10 s
    c.mono += 100; c.wall += 100;
    expect(time.now()).toBe(1_000_100);
    c.mono += 700; c.wall += 700;
    // A node on the wall clock alone would still be at 1,000,000 here, judging no silence for 10 s.
    expect(time.now()).toBe(1_000_800);
  });

  it('a suspend the monotonic clock did not count, or a wall step forward, shows as the gap it is', () => {
    const { c, time } = clocks();
    time.now();
    c.wall += 60_000; c.mono += 5; // slept a minute
    expect(time.now()).toBe(1_060_000);
    c.wall += 10; c.mono += 10;
    expect(time.now()).toBe(1_060_010);
  });

  it("a wake asked 600 ms ahead comes 600 ms later though the wall clock steps back 10 s meanwhile (on the wall clock alone it would come 10 s late)", () => {
    for (const steady of [true, false]) {
      const timers = new EarlyTimers(); // its time is the monotonic clock
      let step = 0;
      const wall = () => 5_000_000 + timers.t + step;
      const time = new SteadyTime(wall, () => timers.t);
      const source: TimerSource = {
        now: () => (steady ? time.now() : wall()),
        setTimeout: (fn, ms) => timers.setTimeout(fn, ms),
        clearTimeout: (h) => timers.clearTimeout(h),
      };
      const clock = new TimerClock(source);
      let firedAt: number | undefined;
      const at = source.now() + 600;
      clock.setTimer(at, () => { firedAt = source.now(); });
      timers.runUntil(timers.t + 100);
      step = -10_000;
      timers.runUntil(timers.t + 600);
      if (steady) expect(firedAt).toBe(at);
      else expect(firedAt).toBeUndefined();
    }
  });

  it('a thread preempted between its two reads (5 ms) does not put time ahead of the wall clock', () => {
    for (const first of ['wall', 'mono'] as const) {
      const c = { wall: 1_000_000, mono: 50 };
      let preempt = false;
      const read = (which: 'wall' | 'mono') => () => {
        const v = c[which];
        if (preempt && which === first) { preempt = false; c.wall += 5; c.mono += 5; }
        return v;
      };
      const time = new SteadyTime(read('wall'), read('mono'));
      time.now();
      preempt = true;
      time.now();
      c.wall += 1; c.mono += 1;
      expect(time.now(), `preempted after reading ${first}`).toBe(c.wall);
    }
  });

  it('a wall clock that gains on the monotonic one is followed; one that loses is outrun', () => {
    const { c, time } = clocks();
    let last = time.now();
    for (let i = 0; i < 100; i++) {
      c.mono += 10; c.wall += 10.05; // +0.5 %, as a test VM's clock did for minutes
      const t = time.now();
      expect(t).toBeGreaterThanOrEqual(Math.floor(c.wall));
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    }
    const { c: d, time: slow } = clocks();
    const t0 = slow.now();
    for (let i = 0; i < 100; i++) { d.mono += 10; d.wall += 9.95; }
    expect(slow.now() - t0).toBe(1000);
  });
});
