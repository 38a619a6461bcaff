// Hash and crypto probes (testing builds only) over the input buffer, for test vectors and benchmarks.
import { inputBuffer } from './exports';
import { out } from './effects';
import { xxh64 } from './hash';
import { sha256, hmacSha256 } from './sha256';

/** XXH64 of the first `len` input bytes; the u64 result is the first 8 output bytes. */
export function hashInput(len: i32, seed: u64): i32 {
  out.reset();
  if (len < 0) len = 0;
  out.u64(xxh64(inputBuffer(len), len, seed));
  return out.len;
}

function inputBytes(from: i32, len: i32): Uint8Array {
  // A negative length from the host is an empty input, not a trap in new Uint8Array.
  if (from < 0) from = 0;
  if (len < 0) len = 0;
  const b = new Uint8Array(len);
  memory.copy(b.dataStart, inputBuffer(from + len) + <usize>from, <usize>len);
  return b;
}

/** SHA-256 of the first `len` input bytes into the output buffer. */
export function sha256Input(len: i32): i32 {
  out.reset();
  const d = sha256(inputBytes(0, len));
  out.raw(d.dataStart, 32);
  return out.len;
}

/** HMAC-SHA256 with key = input[0..keyLen), message = input[keyLen..keyLen+dataLen). */
export function hmacInput(keyLen: i32, dataLen: i32): i32 {
  out.reset();
  const d = hmacSha256(inputBytes(0, keyLen), inputBytes(keyLen, dataLen));
  out.raw(d.dataStart, 32);
  return out.len;
}
