// The runtime's limits agree with the core's: a frame-size option the options accept is one the
// core keeps, and the floor the core enforces is the one limits.ts states.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  Core, releaseWasmUrl, resolveOptions, InvalidOptionError, MAX_FRAME_BYTES_DEFAULT, MAX_FRAME_BYTES_MIN, transportPayloadMax,
} from '@trellis/core';
// Internal limits, not exported to hosts.
import { CORE_FRAME_BYTES_MIN, FRAGMENT_BYTES, FRAME_HEADER_BYTES, TRANSPORT_SLACK_BYTES } from '../dist/limits.js';

const wasm = new WebAssembly.Module(readFileSync(releaseWasmUrl));

/** Counts of oversized frames after one frame of `total` bytes on a fresh inbound link. */
function oversizedAfter(maxFrameBytes: number, total: number): number {
  const core = Core.create(wasm);
  core.init({ name: 'a', incarnation: 1, scope: 's', seed: 1, heartbeatMs: 250, failureTimeoutMs: 1000, syncIntervalMs: 1000,
    quorum: 0, weight: 1, maxFrameBytes, kinds: ['w'], seeds: [] });
  core.linkOpened(1, false, 'peer', new Uint8Array(16));
  const frame = new Uint8Array(total);
  frame.set([0x54, 1, 1, 0]);
  new DataView(frame.buffer).setUint32(4, total - FRAME_HEADER_BYTES, true);
  core.frame(1, frame);
  core.step({ now: 1 });
  return core.counters().oversized;
}

describe('frame limits', () => {
  it('the core raises a smaller maxFrameBytes to CORE_FRAME_BYTES_MIN (one fragment and its headers)', () => {
    expect(CORE_FRAME_BYTES_MIN).toBeGreaterThan(FRAGMENT_BYTES);
    expect(oversizedAfter(1000, CORE_FRAME_BYTES_MIN + FRAME_HEADER_BYTES)).toBe(0);
    expect(oversizedAfter(1000, CORE_FRAME_BYTES_MIN + FRAME_HEADER_BYTES + 1)).toBe(1);
  });

  it('the smallest accepted option is one the core keeps, and the core enforces it', () => {
    expect(MAX_FRAME_BYTES_MIN).toBeGreaterThanOrEqual(CORE_FRAME_BYTES_MIN);
    expect(oversizedAfter(MAX_FRAME_BYTES_MIN, MAX_FRAME_BYTES_MIN + FRAME_HEADER_BYTES)).toBe(0);
    expect(oversizedAfter(MAX_FRAME_BYTES_MIN, MAX_FRAME_BYTES_MIN + FRAME_HEADER_BYTES + 1)).toBe(1);
    const opts = { scope: 's', kinds: {} };
    expect(resolveOptions({ ...opts, maxFrameBytes: MAX_FRAME_BYTES_MIN }, () => 'n').maxFrameBytes).toBe(MAX_FRAME_BYTES_MIN);
    expect(() => resolveOptions({ ...opts, maxFrameBytes: MAX_FRAME_BYTES_MIN - 1 }, () => 'n')).toThrow(InvalidOptionError);
    expect(resolveOptions(opts, () => 'n').maxFrameBytes).toBe(MAX_FRAME_BYTES_DEFAULT);
  });

  it('a transport passes every frame the core would accept, header included, so the core counts the oversized ones', () => {
    expect(TRANSPORT_SLACK_BYTES).toBeGreaterThanOrEqual(FRAME_HEADER_BYTES);
    expect(transportPayloadMax(MAX_FRAME_BYTES_DEFAULT)).toBe(MAX_FRAME_BYTES_DEFAULT + TRANSPORT_SLACK_BYTES);
    expect(oversizedAfter(MAX_FRAME_BYTES_DEFAULT, transportPayloadMax(MAX_FRAME_BYTES_DEFAULT))).toBe(1);
  });
});
