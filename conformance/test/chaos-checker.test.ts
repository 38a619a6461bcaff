// The chaos checker on hand-made journals: each broken promise is found and named, and a clean
// history passes, so a chaos run's verdict can be trusted.
import { describe, it, expect } from 'vitest';
// @ts-expect-error plain ES module without types
import { check, intervals, excuseWindows, countByKind, expectedState } from '../chaos/checker.mjs';

type Rec = { t: number; ev: string; id: string; node: string; iso: string; pid: number; ppid: number };
const rec = (t: number, ev: string, id: string, node: string, pid: number, iso = 'inline', ppid = 1): Rec => ({ t, ev, id, node, iso, pid, ppid });
const start = (id: string, member: string, sent: number, answered: number, outcome = 'ok') => ({ op: 'start', id, member, sent, answered, outcome });
const term = (id: string, member: string, sent: number, answered: number, outcome = 'ok') => ({ op: 'terminate', id, member, sent, answered, outcome });
const kinds = (r: { violations: { kind: string }[] }) => countByKind(r.violations);

// Members a (pid 100), b (pid 200), c (pid 300); all alive at the end unless a test kills one.
const aliveAll = (dead: number[] = []) => (pid: number) => [100, 200, 300].includes(pid) && !dead.includes(pid);

describe('chaos checker', () => {
  it('passes a clean history: a start, a planned move without overlap, a terminate', () => {
    const records = [
      rec(10, 'start', 'x', 'a', 100), rec(50, 'stop', 'x', 'a', 100), rec(51, 'start', 'x', 'b', 200),
      rec(20, 'start', 'y', 'a', 100), rec(80, 'stop', 'y', 'a', 100),
    ];
    const requests = [start('x', 'a', 5, 8), start('y', 'b', 15, 18), term('y', 'c', 70, 75)];
    const r = check({ records, requests, deaths: new Map(), alive: aliveAll(), readAt: 1000 });
    expect(r.violations).toEqual([]);
  });

  it('finds an overlap on a planned move, and excuses the same overlap inside a partition window', () => {
    const records = [rec(10, 'start', 'x', 'a', 100), rec(60, 'stop', 'x', 'a', 100), rec(50, 'start', 'x', 'b', 200)];
    const requests = [start('x', 'a', 5, 8)];
    const base = { records, requests, deaths: new Map(), alive: aliveAll(), readAt: 1000 };
    const planned = check(base);
    expect(kinds(planned)).toEqual({ overlap_planned: 1 });
    expect(check({ ...base, faults: [{ kind: 'cut', from: 40, to: 45 }], settleMs: 20 }).violations).toEqual([]);
    // a window that ends before the overlap does does not excuse it
    expect(kinds(check({ ...base, faults: [{ kind: 'cut', from: 40, to: 45 }], settleMs: 5 }))).toEqual({ overlap_planned: 1 });
    // quorum mode excuses nothing
    expect(kinds(check({ ...base, quorum: true, faults: [{ kind: 'cut', from: 0, to: 100 }] }))).toEqual({ overlap_quorum: 1 });
    const paused = check({ ...base, quorum: true, faults: [{ kind: 'pause', pid: 100, from: 20, to: 55 }] });
    expect(paused.violations[0].detail).toContain('pid 100 was SIGSTOPped for 35 ms');
  });

  it('finds a lost child: acknowledged, never terminated, running nowhere after its member was killed', () => {
    const records = [rec(10, 'start', 'x', 'a', 100)];
    const r = check({ records, requests: [start('x', 'b', 5, 8)], deaths: new Map([[100, 500]]), alive: aliveAll([100]), readAt: 1000 });
    expect(kinds(r)).toEqual({ lost: 1 });
    // its interval ended when its member died
    expect(r.intervals[0].end).toBe(500);
  });

  it('an undecided start may or may not run, but never twice', () => {
    const undecided = [start('x', 'a', 5, 3000, 'ambiguous')];
    expect(check({ records: [], requests: undecided, deaths: new Map(), alive: aliveAll(), readAt: 1000 }).violations).toEqual([]);
    const twice = [rec(10, 'start', 'x', 'a', 100), rec(20, 'start', 'x', 'b', 200)];
    expect(kinds(check({ records: twice, requests: undecided, deaths: new Map(), alive: aliveAll(), readAt: 1000, faults: [{ kind: 'cut', from: 0, to: 2000 }] }))).toEqual({ duplicate: 1 });
  });

  it('finds an undone terminate: a start journaled after the terminate was acknowledged', () => {
    const records = [rec(10, 'start', 'x', 'a', 100), rec(60, 'stop', 'x', 'a', 100), rec(200, 'start', 'x', 'c', 300), rec(230, 'stop', 'x', 'c', 300)];
    const requests = [start('x', 'a', 5, 8), term('x', 'b', 50, 70)];
    expect(kinds(check({ records, requests, deaths: new Map(), alive: aliveAll(), readAt: 1000 }))).toEqual({ terminate_undone: 1 });
    // a later acknowledged start makes the second instance legitimate
    const restarted = [...requests, start('x', 'c', 150, 160)];
    expect(check({ records, requests: restarted, deaths: new Map(), alive: aliveAll(), readAt: 1000 }).violations.map((v: { kind: string }) => v.kind)).toEqual(['lost']);
  });

  it('an instance journaled soon after the acknowledgement is a race on a member that had not heard of the terminate, not on the one that acknowledged it', () => {
    const requests = [start('x', 'a', 5, 8), { ...term('x', 'b', 50, 70), pid: 200 }];
    const onC = [rec(10, 'start', 'x', 'a', 100), rec(60, 'stop', 'x', 'a', 100), rec(200, 'start', 'x', 'c', 300), rec(230, 'stop', 'x', 'c', 300)];
    expect(check({ records: onC, requests, deaths: new Map(), alive: aliveAll(), readAt: 1000, learnMs: 500 }).violations).toEqual([]);
    // later than learnMs after the acknowledgement, every member had heard of it
    expect(kinds(check({ records: onC, requests, deaths: new Map(), alive: aliveAll(), readAt: 1000, learnMs: 100 }))).toEqual({ terminate_undone: 1 });
    // ... unless a fault window (available mode) kept it from hearing
    expect(check({ records: onC, requests, deaths: new Map(), alive: aliveAll(), readAt: 1000, learnMs: 100, faults: [{ kind: 'cut', from: 60, to: 150 }], settleMs: 100 }).violations).toEqual([]);
    // the member that acknowledged the terminate knew of it at once
    const onB = [rec(10, 'start', 'x', 'a', 100), rec(60, 'stop', 'x', 'a', 100), rec(200, 'start', 'x', 'b', 200), rec(230, 'stop', 'x', 'b', 200)];
    expect(kinds(check({ records: onB, requests, deaths: new Map(), alive: aliveAll(), readAt: 1000, learnMs: 500 }))).toEqual({ terminate_undone: 1 });
  });

  it('requests that overlap in real time may take effect in either order; one that strictly follows decides', () => {
    // a start answered before the terminate was sent: the terminate decides
    expect(expectedState([start('x', 'a', 5, 8), term('x', 'b', 50, 70)])).toBe('stopped');
    // a start sent while the terminate waited (and answered after it): either may win
    expect(expectedState([term('x', 'b', 50, 70), start('x', 'a', 60, 80)])).toBe('either');
    expect(expectedState([start('x', 'a', 40, 60), term('x', 'b', 50, 70)])).toBe('either');
    // a later request that strictly follows both decides again
    expect(expectedState([term('x', 'b', 50, 70), start('x', 'a', 60, 80), term('x', 'c', 90, 95)])).toBe('stopped');
    // one overlapping pair earlier does not matter when the last one is strictly after it
    expect(expectedState([start('x', 'a', 5, 30), term('x', 'b', 10, 20), start('x', 'c', 40, 45)])).toBe('running');
    // undecided when a request that timed out came after every acknowledged one; rejections change nothing
    expect(expectedState([start('x', 'a', 5, 8), term('x', 'b', 50, 3000, 'ambiguous')])).toBe('unknown');
    expect(expectedState([start('x', 'a', 5, 8), term('x', 'b', 50, 52, 'rejected')])).toBe('running');
    expect(expectedState([])).toBe('stopped');
    // either end state passes the check when the two overlap, and neither is a terminate undone
    const requests = [term('x', 'b', 50, 70), start('x', 'a', 60, 80)];
    const runs = [rec(10, 'start', 'x', 'a', 100), rec(65, 'stop', 'x', 'a', 100), rec(200, 'start', 'x', 'c', 300)];
    expect(check({ records: runs, requests, deaths: new Map(), alive: aliveAll(), readAt: 1000 }).violations).toEqual([]);
    const stopped = [rec(10, 'start', 'x', 'a', 100), rec(65, 'stop', 'x', 'a', 100)];
    expect(check({ records: stopped, requests, deaths: new Map(), alive: aliveAll(), readAt: 1000 }).violations).toEqual([]);
  });

  it('an undone terminate is strict for a start acknowledged before the terminate was sent, even if the start came from another member', () => {
    // start acknowledged on a at 8, terminate asked on b at 50: a start of x journaled after the
    // terminate's acknowledgement (by b, which knew) is undone, whichever member started it first
    const requests = [start('x', 'a', 5, 8), { ...term('x', 'b', 50, 70), pid: 200 }];
    const records = [rec(10, 'start', 'x', 'a', 100), rec(60, 'stop', 'x', 'a', 100), rec(75, 'start', 'x', 'b', 200), rec(900, 'stop', 'x', 'b', 200)];
    expect(kinds(check({ records, requests, deaths: new Map(), alive: aliveAll(), readAt: 1000, learnMs: 500 }))).toEqual({ terminate_undone: 1 });
    // the same start still waiting when the terminate was sent overlaps it: no violation
    const overlapping = [start('x', 'a', 5, 55), { ...term('x', 'b', 50, 70), pid: 200 }];
    expect(check({ records, requests: overlapping, deaths: new Map(), alive: aliveAll(), readAt: 1000, learnMs: 500 }).violations).toEqual([]);
  });

  it('tells apart two member processes that had one pid: their instances neither merge nor overlap', () => {
    // member a (pid 100, origin 1) runs x from 10 and is killed at 50; x runs on b from 60 to 90;
    // a new member c gets pid 100 again (origin 2) and runs x from 100, alive at the end.
    const records = [
      { ...rec(10, 'start', 'x', 'a', 100), origin: 1 },
      { ...rec(60, 'start', 'x', 'b', 200), origin: 3 }, { ...rec(90, 'stop', 'x', 'b', 200), origin: 3 },
      { ...rec(100, 'start', 'x', 'c', 100), origin: 2 },
    ];
    const lives = [{ pid: 100, from: 0, to: 50 }, { pid: 200, from: 0, to: undefined }, { pid: 100, from: 95, to: undefined }];
    const r = check({ records, requests: [start('x', 'a', 5, 8)], deaths: lives, alive: (pid: number, since: number) => pid === 200 || (pid === 100 && since >= 95), readAt: 1000 });
    expect(r.violations).toEqual([]);
    expect(r.intervals.map((iv: { node: string; end: number }) => [iv.node, iv.end])).toEqual([['a', 50], ['b', 90], ['c', Infinity]]);
  });

  it('finds a terminated child that never stopped', () => {
    const records = [rec(10, 'start', 'x', 'a', 100)];
    expect(kinds(check({ records, requests: [start('x', 'a', 5, 8), term('x', 'a', 50, 60)], deaths: new Map(), alive: aliveAll(), readAt: 1000 }))).toEqual({ not_stopped: 1 });
  });

  it('finds an orphan process child and a duplicate it causes at the end, but no overlap on top of it', () => {
    // process child pid 1001 of member a (pid 100); a is killed at 300, the child keeps running
    const records = [
      rec(10, 'start', 'x', 'a', 1001, 'process', 100), rec(210, 'beat', 'x', 'a', 1001, 'process', 100),
      rec(450, 'orphan', 'x', 'a', 1001, 'process', 1), rec(900, 'start', 'x', 'b', 2001, 'process', 200),
    ];
    const alive = (pid: number) => pid === 1001 || pid === 2001 || pid === 200;
    const r = check({ records, requests: [start('x', 'a', 5, 8)], deaths: new Map([[100, 300]]), alive, readAt: 1000 });
    expect(kinds(r)).toEqual({ orphan: 1, duplicate: 1 });
  });

  it('a process child that saw its member gone and exited within the grace is no orphan; one that kept beating is', () => {
    const base = [rec(10, 'start', 'x', 'a', 1001, 'process', 100), rec(210, 'beat', 'x', 'a', 1001, 'process', 100), rec(320, 'orphan', 'x', 'a', 1001, 'process', 1)];
    const alive = (pid: number) => pid === 200;
    const o = { requests: [], deaths: new Map([[100, 300]]), alive, readAt: 5000, orphanGraceMs: 1000 };
    expect(check({ ...o, records: [...base, rec(330, 'exit', 'x', 'a', 1001, 'process', 1)] }).violations).toEqual([]);
    const kept = [...base, rec(900, 'beat', 'x', 'a', 1001, 'process', 1), rec(1500, 'beat', 'x', 'a', 1001, 'process', 1)];
    expect(kinds(check({ ...o, records: kept }))).toEqual({ orphan: 1 });
  });

  it('a process child killed with its member ends at the member death, not at its last beat', () => {
    const records = [rec(10, 'start', 'x', 'a', 1001, 'process', 100), rec(210, 'beat', 'x', 'a', 1001, 'process', 100)];
    const [iv] = intervals(records, { deaths: new Map([[100, 300]]), alive: () => false });
    expect(iv.end).toBe(300);
    const [killed] = intervals(records, { deaths: new Map(), alive: () => false });
    expect(killed.end).toBe(210);
    // killed on its own long before its member died
    const [alone] = intervals(records, { deaths: new Map([[100, 5000]]), alive: () => false });
    expect(alone.end).toBe(210);
  });

  it('a worker terminated inside a live member stops running at its last beat', () => {
    const records = [rec(10, 'start', 'x', 'a', 100, 'worker'), rec(210, 'beat', 'x', 'a', 100, 'worker')];
    const [gone] = intervals(records, { deaths: new Map(), alive: aliveAll(), readAt: 5000 });
    expect(gone.end).toBe(210);
    const [beating] = intervals(records, { deaths: new Map(), alive: aliveAll(), readAt: 500 });
    expect(beating.end).toBe(Infinity);
    // an inline child has no beat: it runs while its member lives
    const [inline] = intervals([rec(10, 'start', 'x', 'a', 100)], { deaths: new Map(), alive: aliveAll(), readAt: 5000 });
    expect(inline.end).toBe(Infinity);
  });

  it('merges overlapping excuse windows', () => {
    expect(excuseWindows([{ from: 50, to: 60 }, { from: 0, to: 10 }, { from: 15, to: 20 }], 10)).toEqual([[0, 30], [50, 70]]);
  });
});
