// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the cluster handshake. Checked against
// the FIPS 180-4 examples and the RFC 4231 test cases.

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

const W = new StaticArray<u32>(64);
const H = new StaticArray<u32>(8);

@inline function bswap32(x: u32): u32 { return bswap<u32>(x); }

function compress(block: usize): void {
  for (let i = 0; i < 16; i++) W[i] = bswap32(load<u32>(block + <usize>(i << 2)));
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15], w2 = W[i - 2];
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    W[i] = W[i - 16] + s0 + W[i - 7] + s1;
  }
  let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  for (let i = 0; i < 64; i++) {
    const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = h + S1 + ch + K[i] + W[i];
    const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
    const mj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = S0 + mj;
    h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
}

const block = new Uint8Array(64);

/** SHA-256 of the concatenation of up to two byte arrays (HMAC needs key-pad ‖ message). */
function digest2(a: Uint8Array, b: Uint8Array): Uint8Array {
  H[0] = 0x6a09e667; H[1] = 0xbb67ae85; H[2] = 0x3c6ef372; H[3] = 0xa54ff53a;
  H[4] = 0x510e527f; H[5] = 0x9b05688c; H[6] = 0x1f83d9ab; H[7] = 0x5be0cd19;
  const total = <u64>a.length + <u64>b.length;
  let fill = 0;
  for (let part = 0; part < 2; part++) {
    const src = part == 0 ? a : b;
    let i = 0;
    const n = src.length;
    // whole blocks straight from the source when aligned with the buffer
    while (i < n) {
      if (fill == 0 && n - i >= 64) { compress(src.dataStart + <usize>i); i += 64; continue; }
      const take = min(64 - fill, n - i);
      memory.copy(block.dataStart + <usize>fill, src.dataStart + <usize>i, <usize>take);
      fill += take; i += take;
      if (fill == 64) { compress(block.dataStart); fill = 0; }
    }
  }
  // padding: 0x80, zeros, 64-bit big-endian bit length
  block[fill++] = 0x80;
  if (fill > 56) {
    while (fill < 64) block[fill++] = 0;
    compress(block.dataStart);
    fill = 0;
  }
  while (fill < 56) block[fill++] = 0;
  store<u64>(block.dataStart + 56, bswap<u64>(total << 3));
  compress(block.dataStart);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) store<u32>(out.dataStart + <usize>(i << 2), bswap32(H[i]));
  return out;
}

export function sha256(data: Uint8Array): Uint8Array {
  return digest2(data, new Uint8Array(0));
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  let k = key;
  if (k.length > 64) k = sha256(k);
  const ipad = new Uint8Array(64);
  const opad = new Uint8Array(64);
  for (let i = 0; i < 64; i++) {
    const b: u8 = i < k.length ? k[i] : 0;
    ipad[i] = b ^ 0x36;
    opad[i] = b ^ 0x5c;
  }
  const inner = digest2(ipad, data);
  return digest2(opad, inner);
}

/** Compares two byte arrays in time independent of where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  let d: u32 = 0;
  for (let i = 0; i < a.length; i++) d |= <u32>(a[i] ^ b[i]);
  return d == 0;
}
