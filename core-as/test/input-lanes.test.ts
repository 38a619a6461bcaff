// The runtime's input lanes (core-as/src/input-lanes.ts): a whole queue goes in its order of
// arrival; a cut queue shares the budget between links by bytes, and no lane's records reorder.
import { describe, it, expect } from 'vitest';
import { InputLanes } from '../src/input-lanes.js';
import { writeFrame, writeLinkOpened, writeLinkClosed, writeDialFailed } from '../src/event-writer.js';
import { EV_FRAME, EV_LINK_OPENED, EV_LINK_CLOSED, EV_DIAL_FAILED } from '../src/generated/boundary.js';
import { RECORD_HEADER_BYTES } from '../src/limits.js';

const NONCE = new Uint8Array(16);

/** Frame `n` of `link`: `size` payload bytes, its first two carrying n. */
function frame(lanes: InputLanes, link: number, n: number, size = 8): void {
  const b = new Uint8Array(size);
  b[0] = n & 0xff; b[1] = n >> 8;
  writeFrame(lanes.link(link), link, b);
}

/** Takes one step's records with `budget` and decodes them as [kind, link, n]. */
function step(lanes: InputLanes, budget: number): string[] {
  const len = lanes.take(budget, true);
  const mem = new Uint8Array(len);
  lanes.copy(mem, 0);
  const view = new DataView(mem.buffer);
  const out: string[] = [];
  for (let p = 0; p < len;) {
    const type = mem[p];
    const n = view.getUint32(p + 1, true);
    const body = p + RECORD_HEADER_BYTES;
    if (type === EV_FRAME) out.push(`f${view.getUint32(body, true)}.${mem[body + 4] | (mem[body + 5] << 8)}`);
    else if (type === EV_LINK_OPENED) out.push(`open${view.getUint32(body, true)}`);
    else if (type === EV_LINK_CLOSED) out.push(`close${view.getUint32(body, true)}`);
    else if (type === EV_DIAL_FAILED) out.push('dial_failed');
    else out.push(`type${type}`);
    p = body + n;
  }
  return out;
}

describe('input lanes', () => {
  it('hands over a queue that fits the budget whole, in the order it arrived', () => {
    const lanes = new InputLanes();
    writeLinkOpened(lanes.link(1), 1, true, 'a', NONCE);
    frame(lanes, 1, 0);
    writeDialFailed(lanes.local, 'b', 'other');
    writeLinkOpened(lanes.link(2), 2, false, 'c', NONCE);
    frame(lanes, 2, 0);
    frame(lanes, 1, 1);
    writeLinkClosed(lanes.link(1), 1);
    frame(lanes, 2, 1);
    expect(step(lanes, Infinity)).toEqual(['open1', 'f1.0', 'dial_failed', 'open2', 'f2.0', 'f1.1', 'close1', 'f2.1']);
    expect(lanes.queued).toBe(0);
  });

  it('serves a new link behind another link\'s backlog within a few cut steps, each link in its own order', () => {
    const lanes = new InputLanes();
    // Link 1: 200 frames of 1 KiB queued (a backlog); then link 2 opens and sends 3 small frames.
    writeLinkOpened(lanes.link(1), 1, true, 'a', NONCE);
    for (let i = 0; i < 200; i++) frame(lanes, 1, i, 1024);
    writeLinkOpened(lanes.link(2), 2, false, 'c', NONCE);
    for (let i = 0; i < 3; i++) frame(lanes, 2, i);
    const seen: string[][] = [];
    while (lanes.queued > 0) seen.push(step(lanes, 8 * 1024));
    // Link 2 was handled whole in the first step, not after the 200 KiB before it.
    expect(seen[0].filter((r) => r === 'open2' || r.startsWith('f2.'))).toEqual(['open2', 'f2.0', 'f2.1', 'f2.2']);
    // Every link's records came in order, none lost or repeated.
    const all = seen.flat();
    expect(all.filter((r) => r.startsWith('f1.'))).toEqual(Array.from({ length: 200 }, (_, i) => `f1.${i}`));
    expect(all.filter((r) => r === 'open1' || r === 'open2')).toEqual(['open1', 'open2']);
    expect(all.indexOf('open1')).toBeLessThan(all.indexOf('f1.0'));
  });

  it('shares a cut step by bytes between two busy links, and still takes one record larger than the budget', () => {
    const lanes = new InputLanes();
    for (let i = 0; i < 40; i++) frame(lanes, 1, i, 4096);
    for (let i = 0; i < 400; i++) frame(lanes, 2, i, 100);
    const taken = { 1: 0, 2: 0 };
    for (let s = 0; s < 4; s++) for (const r of step(lanes, 16 * 1024)) taken[r.startsWith('f1.') ? 1 : 2]++;
    // About 32 KiB each over 4 steps of 16 KiB: some 8 frames of 4 KiB and 300 of 100 B (in one
    // order of arrival, link 1's 160 KiB would have gone first).
    expect(taken[1]).toBeGreaterThanOrEqual(6);
    expect(taken[1]).toBeLessThanOrEqual(10);
    expect(taken[2]).toBeGreaterThanOrEqual(250);
    expect(taken[2]).toBeLessThanOrEqual(350);
    // A budget below one record still moves the queue one record a step.
    expect(step(lanes, 16).length).toBe(1);
  });

  it('a lane that falls idle starts level with the busy ones, not ahead by what it did not use', () => {
    const lanes = new InputLanes();
    for (let i = 0; i < 100; i++) frame(lanes, 1, i, 1024);
    frame(lanes, 2, 0, 1024);
    step(lanes, 4 * 1024);
    step(lanes, 4 * 1024);
    // Link 3 comes late: it shares from now on, it does not take every step until it has caught up.
    for (let i = 0; i < 20; i++) frame(lanes, 3, i, 1024);
    const next = step(lanes, 4 * 1024);
    expect(next.filter((r) => r.startsWith('f3.')).length).toBeGreaterThan(0);
    expect(next.filter((r) => r.startsWith('f1.')).length).toBeGreaterThan(0);
  });
});
