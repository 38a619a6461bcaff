// Baseline: a libring-style consistent-hash ring, as Pogo and Horde use (libring's HashRing):
// 128 virtual nodes per member, vnode positions from SHA-256 (first 32 bits of
// sha256("<name>:<i>")), keys hashed with a fast 32-bit hash (FNV-1a here, in the role of
// Erlang's phash2), owner = first vnode at or after the key's position (binary search, wrapping).
import { createHash } from 'node:crypto';

export class Ring {
  constructor(names, vnodes = 128) {
    const points = [];
    for (const [m, name] of names.entries()) {
      for (let i = 0; i < vnodes; i++) {
        const h = createHash('sha256').update(`${name}:${i}`).digest();
        points.push([h.readUInt32BE(0), name, m]);
      }
    }
    points.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    this.pos = Uint32Array.from(points.map((p) => p[0]));
    this.names = points.map((p) => p[1]);
    /** Index into `names` (the constructor's argument) of each vnode's member. */
    this.member = Int32Array.from(points.map((p) => p[2]));
  }

  static keyHash(key) {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) { h ^= key.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return h >>> 0;
  }

  /** The vnode at or after position `h`, wrapping. */
  vnodeOf(h) {
    const pos = this.pos;
    let lo = 0, hi = pos.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (pos[mid] < h) lo = mid + 1; else hi = mid; }
    return lo === pos.length ? 0 : lo;
  }

  /** Owner's name. */
  owner(key) { return this.names[this.vnodeOf(Ring.keyHash(key))]; }

  /** Owner's index among the constructor's names, for a key already hashed with keyHash. */
  ownerOfHash(h) { return this.member[this.vnodeOf(h)]; }
}
