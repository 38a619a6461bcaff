// Bounds-checked byte reader and growable byte writer, little-endian throughout.
//
// Every decoder in the core reads through `Reader`. A read past the end never traps: it sets
// `err` (sticky), returns a zero value and leaves the position at the end, so a decoder can
// read a whole record and check `err` once. Strings are UTF-8 with a u32 length prefix and a
// caller-supplied maximum, so a hostile length cannot make us allocate gigabytes.

export const ERR_NONE: i32 = 0;
export const ERR_TRUNCATED: i32 = 1;
export const ERR_TOO_LONG: i32 = 2;
export const ERR_BAD_VALUE: i32 = 3;

export class Reader {
  ptr: usize;
  pos: i32 = 0;
  end: i32;
  err: i32 = ERR_NONE;

  constructor(ptr: usize, len: i32) {
    this.ptr = ptr;
    this.end = len;
  }

  /** Reads `len` bytes at `ptr` from the start (a scratch reader reused for every frame). */
  reset(ptr: usize, len: i32): Reader {
    this.ptr = ptr;
    this.pos = 0;
    this.end = len;
    this.err = ERR_NONE;
    return this;
  }

  static of(buf: Uint8Array): Reader {
    return new Reader(buf.dataStart, buf.length);
  }

  get remaining(): i32 { return this.end - this.pos; }
  get ok(): bool { return this.err == ERR_NONE; }

  fail(code: i32): void {
    if (this.err == ERR_NONE) this.err = code;
    this.pos = this.end;
  }

  private need(n: i32): bool {
    if (this.err != ERR_NONE) return false;
    if (n < 0 || this.end - this.pos < n) { this.fail(ERR_TRUNCATED); return false; }
    return true;
  }

  u8(): u8 {
    if (!this.need(1)) return 0;
    const v = load<u8>(this.ptr + <usize>this.pos);
    this.pos += 1;
    return v;
  }
  bool(): bool { return this.u8() != 0; }
  u16(): u16 {
    if (!this.need(2)) return 0;
    const v = load<u16>(this.ptr + <usize>this.pos);
    this.pos += 2;
    return v;
  }
  u32(): u32 {
    if (!this.need(4)) return 0;
    const v = load<u32>(this.ptr + <usize>this.pos);
    this.pos += 4;
    return v;
  }
  u64(): u64 {
    if (!this.need(8)) return 0;
    const v = load<u64>(this.ptr + <usize>this.pos);
    this.pos += 8;
    return v;
  }
  f64(): f64 {
    if (!this.need(8)) return 0;
    const v = load<f64>(this.ptr + <usize>this.pos);
    this.pos += 8;
    return v;
  }
  /** A u32 count that must not exceed `max` (and cannot exceed what is left if each item takes >= minItemBytes). */
  count(max: i32, minItemBytes: i32 = 1): i32 {
    const n = this.u32();
    if (this.err != ERR_NONE) return 0;
    if (n > <u32>max) { this.fail(ERR_TOO_LONG); return 0; }
    if (<i64>n * <i64>minItemBytes > <i64>this.remaining) { this.fail(ERR_TRUNCATED); return 0; }
    return <i32>n;
  }
  /**
   * A u32 length of at most `max` whose bytes all follow: returns it, with pos at the first byte.
   * Otherwise the reader fails (too long, or truncated) and -1 is returned.
   */
  private span(max: i32): i32 {
    const n = this.u32();
    if (this.err != ERR_NONE) return -1;
    if (n > <u32>max) { this.fail(ERR_TOO_LONG); return -1; }
    if (!this.need(<i32>n)) return -1;
    return <i32>n;
  }
  str(max: i32): string {
    const n = this.span(max);
    if (n < 0) return '';
    const s = String.UTF8.decodeUnsafe(this.ptr + <usize>this.pos, <usize>n, false);
    this.pos += n;
    return s;
  }
  /** Reads a string like str(), but only says whether it equals `utf8`: no allocation. */
  strIs(max: i32, utf8: Uint8Array): bool {
    const n = this.span(max);
    if (n < 0) return false;
    const same = n == utf8.length && memory.compare(this.ptr + <usize>this.pos, utf8.dataStart, <usize>n) == 0;
    this.pos += n;
    return same;
  }
  /** Reads past a string like str(), without decoding it (validation passes). */
  skipStr(max: i32): void {
    const n = this.span(max);
    if (n >= 0) this.pos += n;
  }
  bytes(max: i32): Uint8Array {
    const n = this.span(max);
    return n < 0 ? new Uint8Array(0) : this.fixed(n);
  }
  fixed(n: i32): Uint8Array {
    if (!this.need(n)) return new Uint8Array(0);
    const out = new Uint8Array(n);
    memory.copy(out.dataStart, this.ptr + <usize>this.pos, <usize>n);
    this.pos += n;
    return out;
  }
  skip(n: i32): void {
    if (this.need(n)) this.pos += n;
  }
}

export class Writer {
  buf: Uint8Array;
  len: i32 = 0;

  constructor(cap: i32 = 256) {
    this.buf = new Uint8Array(cap);
  }

  reset(): void { this.len = 0; }

  reserve(n: i32): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length << 1;
    while (cap < need) cap <<= 1;
    const nb = new Uint8Array(cap);
    memory.copy(nb.dataStart, this.buf.dataStart, <usize>this.len);
    this.buf = nb;
  }

  @inline private at(): usize { return this.buf.dataStart + <usize>this.len; }

  u8(v: u8): void { this.reserve(1); store<u8>(this.at(), v); this.len += 1; }
  bool(v: bool): void { this.u8(v ? 1 : 0); }
  u16(v: u16): void { this.reserve(2); store<u16>(this.at(), v); this.len += 2; }
  u32(v: u32): void { this.reserve(4); store<u32>(this.at(), v); this.len += 4; }
  u64(v: u64): void { this.reserve(8); store<u64>(this.at(), v); this.len += 8; }
  f64(v: f64): void { this.reserve(8); store<f64>(this.at(), v); this.len += 8; }
  /** Overwrite a u32 written earlier (used for length prefixes). */
  patchU32(at: i32, v: u32): void { store<u32>(this.buf.dataStart + <usize>at, v); }
  str(s: string): void {
    const n = String.UTF8.byteLength(s, false);
    this.u32(<u32>n);
    this.reserve(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.at(), false);
    this.len += n;
  }
  bytes(b: Uint8Array): void {
    this.u32(<u32>b.length);
    this.raw(b.dataStart, b.length);
  }
  raw(ptr: usize, n: i32): void {
    this.reserve(n);
    memory.copy(this.at(), ptr, <usize>n);
    this.len += n;
  }
  /** A copy of what was written. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.len);
    memory.copy(out.dataStart, this.buf.dataStart, <usize>this.len);
    return out;
  }
}

/** UTF-8 byte length of a string (what limits in the protocol count). */
export function utf8Len(s: string): i32 {
  return String.UTF8.byteLength(s, false);
}
