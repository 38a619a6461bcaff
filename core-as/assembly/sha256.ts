// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the cluster handshake and the per-frame
// MACs. Checked against the FIPS 180-4 examples, the RFC 4231 test cases and node:crypto.
//
// `Sha256` is incremental and allocates nothing after construction; `HmacKey` holds the two
// pad states of one key, so a MAC over a frame costs the frame's blocks plus two, with no
// per-frame allocation (see session.ts).

const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const IV: StaticArray<u32> = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

export const SHA256_BYTES: i32 = 32;
export const SHA256_BLOCK_BYTES: i32 = 64;

const W = new StaticArray<u32>(64);

@inline function bigSigma0(x: u32): u32 { return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22); }
@inline function bigSigma1(x: u32): u32 { return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25); }
@inline function choose(e: u32, f: u32, g: u32): u32 { return g ^ (e & (f ^ g)); }
@inline function majority(a: u32, b: u32, c: u32): u32 { return (a & b) | (c & (a | b)); }

function compress(H: StaticArray<u32>, block: usize): void {
  // unchecked: every index is a loop bound below 64 (W and K hold 64 words, H holds 8); a frame's
  // MAC runs this once per 64 bytes, so bounds checks here were most of the cost of a large frame.
  for (let i = 0; i < 16; i++) unchecked(W[i] = bswap<u32>(load<u32>(block + <usize>(i << 2))));
  for (let i = 16; i < 64; i++) {
    const w15 = unchecked(W[i - 15]), w2 = unchecked(W[i - 2]);
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    unchecked(W[i] = unchecked(W[i - 16]) + s0 + unchecked(W[i - 7]) + s1);
  }
  let a = unchecked(H[0]), b = unchecked(H[1]), c = unchecked(H[2]), d = unchecked(H[3]);
  let e = unchecked(H[4]), f = unchecked(H[5]), g = unchecked(H[6]), h = unchecked(H[7]);
  let t: u32 = 0;
  // Eight rounds per pass, each naming the working variables one place on, instead of shifting
  // all eight after every round: a 1 MiB state's MAC is 16,384 blocks on each side of a move.
  for (let i = 0; i < 64; i += 8) {
    t = h + bigSigma1(e) + choose(e, f, g) + unchecked(K[i + 0]) + unchecked(W[i + 0]); d += t; h = t + bigSigma0(a) + majority(a, b, c);
    t = g + bigSigma1(d) + choose(d, e, f) + unchecked(K[i + 1]) + unchecked(W[i + 1]); c += t; g = t + bigSigma0(h) + majority(h, a, b);
    t = f + bigSigma1(c) + choose(c, d, e) + unchecked(K[i + 2]) + unchecked(W[i + 2]); b += t; f = t + bigSigma0(g) + majority(g, h, a);
    t = e + bigSigma1(b) + choose(b, c, d) + unchecked(K[i + 3]) + unchecked(W[i + 3]); a += t; e = t + bigSigma0(f) + majority(f, g, h);
    t = d + bigSigma1(a) + choose(a, b, c) + unchecked(K[i + 4]) + unchecked(W[i + 4]); h += t; d = t + bigSigma0(e) + majority(e, f, g);
    t = c + bigSigma1(h) + choose(h, a, b) + unchecked(K[i + 5]) + unchecked(W[i + 5]); g += t; c = t + bigSigma0(d) + majority(d, e, f);
    t = b + bigSigma1(g) + choose(g, h, a) + unchecked(K[i + 6]) + unchecked(W[i + 6]); f += t; b = t + bigSigma0(c) + majority(c, d, e);
    t = a + bigSigma1(f) + choose(f, g, h) + unchecked(K[i + 7]) + unchecked(W[i + 7]); e += t; a = t + bigSigma0(b) + majority(b, c, d);
  }
  unchecked(H[0] += a); unchecked(H[1] += b); unchecked(H[2] += c); unchecked(H[3] += d);
  unchecked(H[4] += e); unchecked(H[5] += f); unchecked(H[6] += g); unchecked(H[7] += h);
}

/** Incremental SHA-256. `reset` or `resume`, then `update` any number of times, then `finish`. */
export class Sha256 {
  h: StaticArray<u32> = new StaticArray<u32>(8);
  block: StaticArray<u8> = new StaticArray<u8>(SHA256_BLOCK_BYTES);
  fill: i32 = 0;
  total: u64 = 0;

  reset(): void {
    for (let i = 0; i < 8; i++) this.h[i] = IV[i];
    this.fill = 0;
    this.total = 0;
  }

  /** Continues from a state saved after `bytes` bytes (a whole number of blocks). */
  resume(state: StaticArray<u32>, bytes: u64): void {
    for (let i = 0; i < 8; i++) this.h[i] = state[i];
    this.fill = 0;
    this.total = bytes;
  }

  update(ptr: usize, len: i32): void {
    if (len <= 0) return;
    this.total += <u64>len;
    const buf = changetype<usize>(this.block);
    let i = 0;
    while (i < len) {
      // whole blocks straight from the source when nothing is buffered
      if (this.fill == 0 && len - i >= SHA256_BLOCK_BYTES) { compress(this.h, ptr + <usize>i); i += SHA256_BLOCK_BYTES; continue; }
      const take = min(SHA256_BLOCK_BYTES - this.fill, len - i);
      memory.copy(buf + <usize>this.fill, ptr + <usize>i, <usize>take);
      this.fill += take; i += take;
      if (this.fill == SHA256_BLOCK_BYTES) { compress(this.h, buf); this.fill = 0; }
    }
  }

  updateBytes(b: Uint8Array): void { this.update(b.dataStart, b.length); }

  /** A little-endian u32, as the protocol encodes lengths. */
  updateU32(v: u32): void {
    const buf = changetype<usize>(scratch8);
    store<u32>(buf, v);
    this.update(buf, 4);
  }

  updateU64(v: u64): void {
    const buf = changetype<usize>(scratch8);
    store<u64>(buf, v);
    this.update(buf, 8);
  }

  /** Pads, and writes the 32-byte digest at `out`. The state is spent: reset or resume next. */
  finish(out: usize): void {
    const buf = changetype<usize>(this.block);
    let fill = this.fill;
    store<u8>(buf + <usize>fill, 0x80);
    fill++;
    if (fill > 56) {
      memory.fill(buf + <usize>fill, 0, <usize>(SHA256_BLOCK_BYTES - fill));
      compress(this.h, buf);
      fill = 0;
    }
    memory.fill(buf + <usize>fill, 0, <usize>(56 - fill));
    store<u64>(buf + 56, bswap<u64>(this.total << 3));
    compress(this.h, buf);
    for (let i = 0; i < 8; i++) store<u32>(out + <usize>(i << 2), bswap<u32>(this.h[i]));
    this.fill = 0;
  }
}

const scratch8 = new StaticArray<u8>(8);

/** The inner and outer pad states of one HMAC-SHA256 key, computed once per key. */
export class HmacKey {
  inner: StaticArray<u32> = new StaticArray<u32>(8);
  outer: StaticArray<u32> = new StaticArray<u32>(8);

  set(key: usize, keyLen: i32): void {
    const pad = changetype<usize>(padScratch);
    memory.fill(pad, 0, SHA256_BLOCK_BYTES);
    if (keyLen > SHA256_BLOCK_BYTES) {
      padSha.reset();
      padSha.update(key, keyLen);
      padSha.finish(pad);
    } else if (keyLen > 0) memory.copy(pad, key, <usize>keyLen);
    for (let i = 0; i < SHA256_BLOCK_BYTES; i++) store<u8>(pad + <usize>i, load<u8>(pad + <usize>i) ^ 0x36);
    for (let i = 0; i < 8; i++) this.inner[i] = IV[i];
    compress(this.inner, pad);
    // ipad ^ opad = 0x36 ^ 0x5c = 0x6a
    for (let i = 0; i < SHA256_BLOCK_BYTES; i++) store<u8>(pad + <usize>i, load<u8>(pad + <usize>i) ^ 0x6a);
    for (let i = 0; i < 8; i++) this.outer[i] = IV[i];
    compress(this.outer, pad);
    memory.fill(pad, 0, SHA256_BLOCK_BYTES);
  }

  setBytes(key: Uint8Array): void { this.set(key.dataStart, key.length); }
}

const padScratch = new StaticArray<u8>(SHA256_BLOCK_BYTES);
const padSha = new Sha256();

/** A streaming HMAC-SHA256: `begin(key)`, `update`s (through `sha`), `finish(out)`. */
export class Hmac {
  sha: Sha256 = new Sha256();
  private key: HmacKey | null = null;
  private innerDigest: StaticArray<u8> = new StaticArray<u8>(SHA256_BYTES);

  begin(key: HmacKey): void {
    this.key = key;
    this.sha.resume(key.inner, <u64>SHA256_BLOCK_BYTES);
  }

  update(ptr: usize, len: i32): void { this.sha.update(ptr, len); }

  /** Writes the 32-byte MAC at `out`. */
  finish(out: usize): void {
    const key = this.key;
    if (key == null) return;
    const d = changetype<usize>(this.innerDigest);
    this.sha.finish(d);
    this.sha.resume(key.outer, <u64>SHA256_BLOCK_BYTES);
    this.sha.update(d, SHA256_BYTES);
    this.sha.finish(out);
    this.key = null;
  }
}

const oneShot = new Sha256();
const oneShotKey = new HmacKey();
const oneShotMac = new Hmac();

export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(SHA256_BYTES);
  oneShot.reset();
  oneShot.updateBytes(data);
  oneShot.finish(out.dataStart);
  return out;
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(SHA256_BYTES);
  oneShotKey.setBytes(key);
  oneShotMac.begin(oneShotKey);
  oneShotMac.update(data.dataStart, data.length);
  oneShotMac.finish(out.dataStart);
  return out;
}

/** Compares two byte arrays in time independent of where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  return constantTimeEqualAt(a.dataStart, b.dataStart, a.length);
}

/** Compares `len` bytes at two addresses in time independent of where they differ. */
export function constantTimeEqualAt(a: usize, b: usize, len: i32): bool {
  let d: u32 = 0;
  for (let i = 0; i < len; i++) d |= <u32>(load<u8>(a + <usize>i) ^ load<u8>(b + <usize>i));
  return d == 0;
}
