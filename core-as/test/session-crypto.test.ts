// The link cryptography of protocol version 2 in the Wasm core (session.ts, credential.ts),
// checked against an independent implementation on node:crypto (conformance/src/protocol-session.ts).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
// The link cryptography probes are test-only exports of the testing build.
import { instantiateCore, testingWasmUrl, type CoreInstance } from '../dist/wasm.js';
import { Prng } from '../../conformance/src/sim/prng.js';
import {
  transcriptHash, deriveLinkKeys, frameTag, clusterKey, credentialKey, canonicalKinds, LinkCrypto,
  encodeCredentialToken, mintCredential, tabLinkKey, pairKey, TAB_LINK_EPOCH_MS,
} from '../../conformance/src/protocol-session.js';

const x: CoreInstance = instantiateCore(readFileSync(testingWasmUrl));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const te = new TextEncoder();

/** Writes `input` to the core's input buffer, calls `fn(...args)`, returns the output bytes. */
function call(fn: string, input: Uint8Array, ...args: number[]): Uint8Array {
  const ptr = (x.inputBuffer as (n: number) => number)(input.length + 64);
  new Uint8Array(x.memory.buffer, ptr, input.length).set(input);
  const n = (x[fn] as (...a: number[]) => number)(...args);
  const out = (x.outputPtr as () => number)();
  return new Uint8Array(x.memory.buffer, out, n).slice();
}
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(n); return b; };
const str = (s: string) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)]);
const strList = (l: string[]) => Buffer.concat([u32(l.length), ...l.map(str)]);

describe('transcript hash', () => {
  it('agrees with node:crypto for HELLOs of many lengths', () => {
    const rng = new Prng(31);
    for (let i = 0; i < 60; i++) {
      const d = rng.bytes(rng.int(0, 300)), l = rng.bytes(rng.int(0, 300));
      expect(hex(call('testTranscriptHash', Buffer.concat([d, l]), d.length, l.length))).toBe(hex(transcriptHash(d, l)));
    }
  });
});

describe('key schedule (HKDF-SHA256 over the transcript)', () => {
  it.each([0, 1, 32, 64, 65, 200])('proofs of both roles agree with node:crypto for a %i-byte root key', (rootLen) => {
    const rng = new Prng(rootLen + 1);
    const root = rng.bytes(rootLen), th = rng.bytes(32);
    for (const role of ['dialer', 'listener'] as const) {
      const outp = call('testSessionDerive', Buffer.concat([root, th]), rootLen, role === 'dialer' ? 1 : 0);
      const k = deriveLinkKeys(root, th, role);
      expect(hex(outp.subarray(0, 32))).toBe(hex(k.ownProof));
      expect(hex(outp.subarray(32, 64))).toBe(hex(k.peerProof));
    }
    // the two roles' proofs differ: a reflected proof never verifies
    const k = deriveLinkKeys(root, th, 'dialer');
    expect(hex(k.ownProof)).not.toBe(hex(k.peerProof));
    expect(hex(k.sendKey)).not.toBe(hex(k.recvKey));
  });
  it('an empty root key (insecure mode) is HKDF with an empty IKM', () => {
    const th = new Uint8Array(32).fill(7);
    const prk = createHmac('sha256', th).update(new Uint8Array(0)).digest();
    const expect1 = createHmac('sha256', prk).update('trellis/v2 proof dialer').update(Buffer.from([1])).digest();
    expect(hex(call('testSessionDerive', th, 0, 1).subarray(0, 32))).toBe(hex(expect1));
  });
});

describe('frame MACs', () => {
  it('tags of consecutive frames (0 B .. 1 MiB) agree with HMAC(key, u64 seq ‖ frame)[0..16)', () => {
    const rng = new Prng(77);
    const root = rng.bytes(32), th = rng.bytes(32);
    call('testSessionDerive', Buffer.concat([root, th]), 32, 1);
    const k = deriveLinkKeys(root, th, 'dialer');
    const lens = [0, 1, 8, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 65_544, 1 << 20];
    lens.forEach((n, seq) => {
      const f = rng.bytes(n);
      expect([n, hex(call('testSessionSeal', f, f.length))]).toEqual([n, hex(frameTag(k.sendKey, BigInt(seq), f))]);
    });
  });
  it('opens the peer\'s frames in order, and refuses a replay, a reorder, a flipped bit and a cut tag', () => {
    const rng = new Prng(78);
    const root = rng.bytes(32), th = rng.bytes(32);
    call('testSessionDerive', Buffer.concat([root, th]), 32, 1); // the core is the dialer
    const peer = new LinkCrypto(deriveLinkKeys(root, th, 'listener'));
    const opens = (w: Uint8Array) => call('testSessionOpen', w, w.length)[0] === 1;
    const f = Array.from({ length: 6 }, (_, i) => peer.seal(rng.bytes(20 + i * 40)));
    expect(opens(f[0])).toBe(true);
    expect(opens(f[0])).toBe(false); // replay
    expect(opens(f[2])).toBe(false); // f[1] skipped: reorder or drop
    const flipped = Buffer.from(f[1]); flipped[9] ^= 1;
    expect(opens(flipped)).toBe(false);
    expect(opens(f[1].subarray(0, f[1].length - 1))).toBe(false);
    expect(opens(f[1])).toBe(true); // refused frames did not advance the sequence
    expect(opens(f[2])).toBe(true);
    // a frame sealed for the other direction does not open
    const own = new LinkCrypto(deriveLinkKeys(root, th, 'dialer'));
    own.sendSeq = 3n;
    expect(opens(own.seal(rng.bytes(30)))).toBe(false);
  });
});

describe('keys and credentials', () => {
  const secret = te.encode('cluster secret of the test');
  const input = (scope: string, name: string, kinds: string[], exp: bigint, issued = 0n) =>
    Buffer.concat([u32(secret.length), secret, str(scope), str(name), strList(kinds), u64(exp), u64(issued)]);
  const credential = (i: Uint8Array) => call('testCredential', i, i.length);
  it('cluster key, credential key and token agree with node:crypto', () => {
    const kinds = canonicalKinds(['worker', 'ä-kind', 'api', 'worker']);
    const exp = 1_900_000_000_000n;
    const outp = credential(input('prod', 'tab-7', kinds, exp));
    expect(outp[0]).toBe(1);
    expect(hex(outp.subarray(1, 33))).toBe(hex(clusterKey(secret, 'prod')));
    expect(hex(outp.subarray(33, 65))).toBe(hex(credentialKey(secret, 'prod', 'tab-7', kinds, exp)));
    const token = Buffer.from(outp.subarray(65)).toString('base64url');
    expect(token).toBe(encodeCredentialToken(mintCredential(secret, 'prod', 'tab-7', kinds, exp)));
  });
  it('a credential carries the tab link keys of the epochs from its minting to its expiry, as node:crypto derives them', () => {
    const issued = 1_900_000_000_000n, exp = issued + 150_000n;
    const outp = credential(input('prod', 'tab-7', ['w'], exp, issued));
    const c = mintCredential(secret, 'prod', 'tab-7', ['w'], exp, issued);
    expect(c.firstEpoch).toBe(issued / TAB_LINK_EPOCH_MS);
    expect(c.tabLinkKeys.map(hex)).toEqual([0n, 1n, 2n, 3n].map((d) => hex(tabLinkKey(secret, 'prod', c.firstEpoch + d))).slice(0, Number(exp / TAB_LINK_EPOCH_MS - c.firstEpoch) + 1));
    expect(Buffer.from(outp.subarray(65)).toString('base64url')).toBe(encodeCredentialToken(c));
    // the key of one epoch is the same for every credential of the scope, and differs by scope and epoch
    expect(hex(mintCredential(secret, 'prod', 'tab-8', [], exp + 1n, issued).tabLinkKeys[0])).toBe(hex(c.tabLinkKeys[0]));
    expect(new Set([hex(tabLinkKey(secret, 'prod', 5n)), hex(tabLinkKey(secret, 'test', 5n)), hex(tabLinkKey(secret, 'prod', 6n))]).size).toBe(3);
  });
  it('a pair key agrees with node:crypto, is the same for both orders of the names, and differs per pair, epoch and scope', () => {
    const pk = (scope: string, e: bigint, a: string, b: string) => {
      const i = Buffer.concat([u32(secret.length), secret, str(scope), u64(e), str(a), str(b)]);
      return hex(call('testPairKey', i, i.length));
    };
    expect(pk('prod', 5n, 'tab-a', 'tab-b')).toBe(hex(pairKey(secret, 'prod', 5n, 'tab-a', 'tab-b')));
    expect(pk('prod', 5n, 'tab-b', 'tab-a')).toBe(pk('prod', 5n, 'tab-a', 'tab-b'));
    // ordered by UTF-8 bytes, not UTF-16 units: 'ä' (0xc3 0xa4) sorts after 'z'
    expect(pk('prod', 5n, 'ä', 'z')).toBe(hex(pairKey(secret, 'prod', 5n, 'z', 'ä')));
    const all = [pk('prod', 5n, 'tab-a', 'tab-b'), pk('prod', 5n, 'tab-a', 'tab-c'), pk('prod', 5n, 'tab-b', 'tab-c'), pk('prod', 6n, 'tab-a', 'tab-b'), pk('test', 5n, 'tab-a', 'tab-b')];
    expect(new Set(all).size).toBe(all.length);
    // not a tab link key of the epoch, nor a split of the same bytes into other names
    expect(all).not.toContain(hex(tabLinkKey(secret, 'prod', 5n)));
    expect(pk('prod', 5n, 'tab-a', 'tab-b')).not.toBe(pk('prod', 5n, 'tab-', 'atab-b'));
  });
  it('a credential key changes with each of scope, name, kinds and expiry', () => {
    const key = (s: string, n: string, k: string[], e: bigint) => hex(credential(input(s, n, k, e)).subarray(33, 65));
    const base = key('s', 'n', ['a', 'b'], 5n);
    expect(new Set([base, key('t', 'n', ['a', 'b'], 5n), key('s', 'm', ['a', 'b'], 5n), key('s', 'n', ['a'], 5n), key('s', 'n', ['a', 'b'], 6n)]).size).toBe(5);
  });
  it('kinds are canonical only when strictly ascending by UTF-8 bytes', () => {
    const canon = (k: string[]) => credential(input('s', 'n', k, 1n))[0] === 1;
    expect(canon([])).toBe(true);
    expect(canon(['a', 'b', 'ä'])).toBe(true);
    expect(canon(['b', 'a'])).toBe(false);
    expect(canon(['a', 'a'])).toBe(false);
    // U+FF5E sorts before U+1F600 by UTF-8 bytes, after it by UTF-16 code units
    expect(canon(canonicalKinds(['\u{1F600}', '\uFF5E']))).toBe(true);
  });
  it('a token round-trips; every truncation and a non-canonical token are refused', () => {
    const c = mintCredential(secret, 'prod', 'tab', ['x', 'y'], 42n);
    const tok = Buffer.from(encodeCredentialToken(c), 'base64url');
    expect(hex(call('testCredentialToken', tok, tok.length))).toBe('01' + hex(tok));
    for (let n = 0; n < tok.length; n++) expect(call('testCredentialToken', tok.subarray(0, n), n)[0]).toBe(0);
    const bad = Buffer.from(encodeCredentialToken({ ...c, kinds: ['y', 'x'] }), 'base64url');
    expect(call('testCredentialToken', bad, bad.length)[0]).toBe(0);
  });
  it('advertised kinds must be within the credential\'s', () => {
    const within = (a: string[], b: string[]) => { const i = Buffer.concat([strList(a), strList(b)]); return call('testKindsWithin', i, i.length)[0] === 1; };
    expect(within(['a'], ['a', 'b'])).toBe(true);
    expect(within([], ['a'])).toBe(true);
    expect(within(['c'], ['a', 'b'])).toBe(false);
    expect(within(['a', 'c'], ['a', 'b'])).toBe(false);
  });
});
