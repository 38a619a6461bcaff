// The runtime's limits agree with the core's: a frame-size option the options accept is one the
// core keeps, and the floor the core enforces is the one limits.ts states.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  Core, releaseWasmUrl, resolveOptions, InvalidOptionError, MAX_FRAME_BYTES_DEFAULT, MAX_FRAME_BYTES_MIN, transportPayloadMax,
} from '@trellis/core';
// Internal limits, not exported to hosts.
import { CORE_FRAME_BYTES_MIN, FRAGMENT_BYTES, FRAME_HEADER_BYTES, TRANSPORT_SLACK_BYTES } from '../dist/limits.js';
import { MSG, PROTOCOL_VERSION, TAG_BYTES, encodeFrame, helloFrame } from '../../conformance/src/protocol.js';
import { LinkCrypto, deriveLinkKeys, transcriptHash } from '../../conformance/src/protocol-session.js';

const wasm = new WebAssembly.Module(readFileSync(releaseWasmUrl));

/**
 * A core with one authenticated link from a raw peer (an insecure handshake done by hand, as
 * docs/PROTOCOL.md describes it), and the peer's side of the link's MACs.
 */
function authenticatedLink(maxFrameBytes: number): { core: Core; peer: LinkCrypto } {
  const core = Core.create(wasm);
  core.init({ name: 'a', incarnation: 1, scope: 's', seed: 1, heartbeatMs: 250, failureTimeoutMs: 1000, syncIntervalMs: 1000,
    quorum: 0, weight: 1, maxFrameBytes, kinds: ['w'], seeds: [] });
  core.linkOpened(1, false, 'peer', new Uint8Array(16));
  const sent = (fx: ReturnType<Core['step']>) => fx.flatMap((e) => (e.type === 'send' ? [e.bytes] : []));
  const [listenerHello] = sent(core.step({ now: 1 }));
  const dialerHello = helloFrame({ scope: 's', name: 'peer', incarnation: 1n, nonce: new Uint8Array(16).fill(7), listen: '', weight: 1,
    kinds: [], auth: 0, credentialKinds: [], expiresAtMs: 0n, heartbeatWantMs: 250 });
  const keys = deriveLinkKeys(new Uint8Array(0), transcriptHash(dialerHello, listenerHello), 'dialer');
  core.frame(1, dialerHello);
  core.frame(1, encodeFrame({ type: MSG.AUTH, fields: [keys.ownProof] }));
  expect(sent(core.step({ now: 2 })).length).toBeGreaterThan(1); // its AUTH, then member frames
  return { core, peer: new LinkCrypto(keys) };
}

/** Counts of oversized frames after one frame of `total` bytes (header included, tag not) on an authenticated link. */
function oversizedAfter(maxFrameBytes: number, total: number): number {
  const { core, peer } = authenticatedLink(maxFrameBytes);
  const frame = new Uint8Array(total);
  frame.set([0x54, PROTOCOL_VERSION, MSG.HEARTBEAT, 0]);
  new DataView(frame.buffer).setUint32(4, total - FRAME_HEADER_BYTES, true);
  core.frame(1, peer.seal(frame));
  core.step({ now: 3 });
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
    const opts = { scope: 's', kinds: {}, insecure: true };
    expect(resolveOptions({ ...opts, maxFrameBytes: MAX_FRAME_BYTES_MIN }, () => 'n').maxFrameBytes).toBe(MAX_FRAME_BYTES_MIN);
    expect(() => resolveOptions({ ...opts, maxFrameBytes: MAX_FRAME_BYTES_MIN - 1 }, () => 'n')).toThrow(InvalidOptionError);
    expect(resolveOptions(opts, () => 'n').maxFrameBytes).toBe(MAX_FRAME_BYTES_DEFAULT);
  });

  it('a transport passes every frame the core would accept, header and tag included, so the core counts the oversized ones', () => {
    expect(TRANSPORT_SLACK_BYTES).toBeGreaterThanOrEqual(FRAME_HEADER_BYTES + TAG_BYTES);
    expect(transportPayloadMax(MAX_FRAME_BYTES_DEFAULT)).toBe(MAX_FRAME_BYTES_DEFAULT + TRANSPORT_SLACK_BYTES);
    expect(oversizedAfter(MAX_FRAME_BYTES_DEFAULT, transportPayloadMax(MAX_FRAME_BYTES_DEFAULT))).toBe(1);
  });
});
