// xorshift64*: a small deterministic generator for jitter and self-tests. Never for secrets:
// handshake nonces come from the host's cryptographic random bytes.

export class Xorshift64 {
  private s: u64;
  constructor(seed: u64) { this.s = seed | 1; } // any nonzero state works

  next(): u64 {
    let x = this.s;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    this.s = x;
    return x * 0x2545F4914F6CDD1D;
  }

  /** Uniform enough in [0, n) for n far below 2^64. */
  below(n: u64): u64 { return this.next() % n; }
}
