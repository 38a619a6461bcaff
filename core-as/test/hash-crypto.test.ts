// Hashing and handshake crypto in the Wasm core, checked against published vectors and
// independent implementations (xxhash-wasm, node:crypto).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash, createHmac } from 'node:crypto';
import xxhash from 'xxhash-wasm';
import { TestCore as Core, testingWasmUrl } from '@trellis/core/testing';
import { Prng } from '../../conformance/src/sim/prng.js';

const core = Core.create(readFileSync(testingWasmUrl));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (s: string) => new TextEncoder().encode(s);
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

describe('XXH64', () => {
  it('matches the reference values for the empty string and "abc"', () => {
    expect(core.xxh64(new Uint8Array(0)).toString(16)).toBe('ef46db3751d8e999');
    expect(core.xxh64(bytes('abc')).toString(16)).toBe('44bc2cf5ad770999');
  });
  it('matches xxhash-wasm on random inputs of every length 0..300 and several seeds', async () => {
    const { h64Raw } = await xxhash();
    const rng = new Prng(99);
    for (let n = 0; n <= 300; n++) {
      const b = rng.bytes(n);
      for (const seed of [0n, 1n, 0xdeadbeefcafebaben]) expect(core.xxh64(b, seed)).toBe(h64Raw(b, seed));
    }
    const big = rng.bytes(1 << 20);
    expect(core.xxh64(big)).toBe(h64Raw(big, 0n));
  });
});

describe('SHA-256 (FIPS 180-4 examples)', () => {
  it('"abc"', () => expect(hex(core.sha256(bytes('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'));
  it('the 448-bit message', () => expect(hex(core.sha256(bytes('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))))
    .toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'));
  it('one million "a"', () => expect(hex(core.sha256(new Uint8Array(1_000_000).fill(0x61))))
    .toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0'));
  it('the empty message', () => expect(hex(core.sha256(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'));
  it('agrees with node:crypto on lengths around block boundaries', () => {
    const rng = new Prng(5);
    for (let n = 0; n < 200; n++) { const b = rng.bytes(n); expect(hex(core.sha256(b))).toBe(createHash('sha256').update(b).digest('hex')); }
  });
});

describe('HMAC-SHA256 (RFC 4231)', () => {
  const cases: [string, Uint8Array, Uint8Array, string][] = [
    ['1', new Uint8Array(20).fill(0x0b), bytes('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    ['2', bytes('Jefe'), bytes('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['3', new Uint8Array(20).fill(0xaa), new Uint8Array(50).fill(0xdd), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    ['4', fromHex('0102030405060708090a0b0c0d0e0f10111213141516171819'), new Uint8Array(50).fill(0xcd), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
    ['5 (truncated to 128 bits)', new Uint8Array(20).fill(0x0c), bytes('Test With Truncation'), 'a3b6167473100ee06e0c796c2955552b'],
    ['6', new Uint8Array(131).fill(0xaa), bytes('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
    ['7', new Uint8Array(131).fill(0xaa), bytes('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'), '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2'],
  ];
  it.each(cases)('test case %s', (_n, key, data, expected) => {
    expect(hex(core.hmacSha256(key, data)).slice(0, expected.length)).toBe(expected);
  });
  it('agrees with node:crypto for keys of every length 0..140', () => {
    const rng = new Prng(8);
    for (let k = 0; k <= 140; k++) {
      const key = rng.bytes(k), data = rng.bytes(k * 3);
      expect(hex(core.hmacSha256(key, data))).toBe(createHmac('sha256', key).update(data).digest('hex'));
    }
  });
});
