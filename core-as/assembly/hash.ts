// XXH64 (Yann Collet's xxHash, 64-bit variant; the reference algorithm, any seed) and a
// 64-bit finalizer. XXH64 over UTF-8 bytes, seed 0, is the documented hash of child ids and
// member names for placement (docs/PLACEMENT.md); tests check it against the xxhash-wasm package.

const P1: u64 = 0x9E3779B185EBCA87;
const P2: u64 = 0xC2B2AE3D27D4EB4F;
const P3: u64 = 0x165667B19E3779F9;
const P4: u64 = 0x85EBCA77C2B2AE63;
const P5: u64 = 0x27D4EB2F165667C5;

@inline function round(acc: u64, input: u64): u64 {
  acc += input * P2;
  acc = rotl<u64>(acc, 31);
  return acc * P1;
}

@inline function mergeRound(acc: u64, val: u64): u64 {
  acc ^= round(0, val);
  return acc * P1 + P4;
}

export function xxh64(ptr: usize, len: i32, seed: u64): u64 {
  let p = ptr;
  const end = ptr + <usize>len;
  let h: u64;
  if (len >= 32) {
    let v1 = seed + P1 + P2;
    let v2 = seed + P2;
    let v3 = seed;
    let v4 = seed - P1;
    const limit = end - 32;
    do {
      v1 = round(v1, load<u64>(p)); p += 8;
      v2 = round(v2, load<u64>(p)); p += 8;
      v3 = round(v3, load<u64>(p)); p += 8;
      v4 = round(v4, load<u64>(p)); p += 8;
    } while (p <= limit);
    h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18);
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = seed + P5;
  }
  h += <u64>len;
  while (p + 8 <= end) {
    h ^= round(0, load<u64>(p));
    h = rotl<u64>(h, 27) * P1 + P4;
    p += 8;
  }
  if (p + 4 <= end) {
    h ^= <u64>load<u32>(p) * P1;
    h = rotl<u64>(h, 23) * P2 + P3;
    p += 4;
  }
  while (p < end) {
    h ^= <u64>load<u8>(p) * P5;
    h = rotl<u64>(h, 11) * P1;
    p++;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

// Reused scratch for UTF-8 encoding of strings (ids are at most a few hundred bytes).
let scratch = new Uint8Array(1024);

/** XXH64 of the UTF-8 bytes of `s` (no allocation for strings under 1 KiB of UTF-8). */
export function xxh64String(s: string, seed: u64 = 0): u64 {
  const max = s.length * 3;
  if (max > scratch.length) scratch = new Uint8Array(max);
  const n = String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, scratch.dataStart, false);
  return xxh64(scratch.dataStart, <i32>n, seed);
}

/** The murmur3 fmix64 finalizer: a bijection on u64 with full avalanche. */
// @ts-ignore: decorator
@inline export function mix64(x: u64): u64 {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCD;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53;
  x ^= x >> 33;
  return x;
}
