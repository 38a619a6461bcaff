// Hash map and set keyed by string, for the per-child tables (100,000 entries and more).
// The standard Map compares the key string of every entry in a bucket chain, without looking
// at a hash first; with ids of equal length and a common prefix ("child-00042"), those string
// comparisons were the single largest cost of a 100k start. Here each slot keeps the key's
// 32-bit hash, so a probe compares strings only when the hashes are equal.
// Open addressing with linear probing; deletes leave tombstones, swept when the table is rebuilt.
// Iteration order is slot order: deterministic for a given history, which is all the core needs.

import { HASH } from '~lib/util/hash';

// @ts-ignore: decorator
@inline const EMPTY: u32 = 0;
// @ts-ignore: decorator
@inline const TOMB: u32 = 1;

// @ts-ignore: decorator
@inline function keyHash(key: string): u32 {
  const h = HASH<string>(key);
  return h < 2 ? h + 2 : h; // 0 and 1 mark empty and deleted slots
}

/** The hash every StrMap stores with a key (see hashAt / findHashed): compute it once, probe many tables. */
export function strHash(key: string): u32 { return keyHash(key); }

export class StrMap<V> {
  private hashes: StaticArray<u32> = new StaticArray<u32>(8);
  private ks: StaticArray<string | null> = new StaticArray<string | null>(8);
  private vs: StaticArray<V> = new StaticArray<V>(8);
  private live: i32 = 0;
  private used: i32 = 0; // live + tombstones
  /** Counts rebuilds and clears: a walk by slot (slots/hashAt/keyAt) is valid while it is unchanged. */
  generation: u32 = 0;

  get size(): i32 { return this.live; }

  /** Slot of `key`, or -1. */
  private slot(key: string, h: u32): i32 {
    const mask = this.hashes.length - 1;
    let i = <i32>(h & <u32>mask);
    while (true) {
      const s = unchecked(this.hashes[i]);
      if (s == EMPTY) return -1;
      if (s == h && unchecked(this.ks[i]) == key) return i;
      i = (i + 1) & mask;
    }
  }

  has(key: string): bool { return this.slot(key, keyHash(key)) >= 0; }

  /** The slot holding `key`, or -1: one probe for a has-then-get (read it with valueAt). */
  find(key: string): i32 { return this.slot(key, keyHash(key)); }

  /** find() with the key's hash known already (strHash, or hashAt of any StrMap). */
  findHashed(key: string, h: u32): i32 { return this.slot(key, h); }

  /** Slots, for a walk in slot order without building an array: slot i holds a key when hashAt(i) >= 2. */
  get slots(): i32 { return this.hashes.length; }
  /** The key hash stored in a slot; 0 or 1 for an empty or deleted slot. */
  hashAt(slot: i32): u32 { return unchecked(this.hashes[slot]); }
  /** The key in a slot that holds one (hashAt(slot) >= 2). */
  keyAt(slot: i32): string { return changetype<string>(unchecked(this.ks[slot])); }

  /** The value in a slot find() returned (valid until the next set or delete). */
  valueAt(slot: i32): V { return unchecked(this.vs[slot]); }

  /** Sets `key` only if absent, in one probe; true when it was added. */
  addIfAbsent(key: string, value: V): bool {
    const h = keyHash(key);
    const at = this.probe(key, h);
    if (at >= 0) return false;
    this.put(-at - 1, h, key, value);
    return true;
  }

  get(key: string): V {
    const i = this.slot(key, keyHash(key));
    if (i < 0) throw new Error('key not found');
    return unchecked(this.vs[i]);
  }

  set(key: string, value: V): this {
    const h = keyHash(key);
    const at = this.probe(key, h);
    if (at >= 0) unchecked(this.vs[at] = value);
    else this.put(-at - 1, h, key, value);
    return this;
  }

  /**
   * The slot holding `key`; or, when it is absent, -(slot + 1) for the slot a new key goes to:
   * the first tombstone met on the way, else the empty slot that ended the probe.
   */
  private probe(key: string, h: u32): i32 {
    const mask = this.hashes.length - 1;
    let i = <i32>(h & <u32>mask);
    let tomb = -1;
    while (true) {
      const s = unchecked(this.hashes[i]);
      if (s == EMPTY) return -(tomb >= 0 ? tomb : i) - 1;
      if (s == TOMB) { if (tomb < 0) tomb = i; }
      else if (s == h && unchecked(this.ks[i]) == key) return i;
      i = (i + 1) & mask;
    }
  }

  /** Stores a new key in slot `i` (empty, or a tombstone it reuses). */
  private put(i: i32, h: u32, key: string, value: V): void {
    if (unchecked(this.hashes[i]) == EMPTY) this.used++;
    unchecked(this.hashes[i] = h);
    unchecked(this.ks[i] = key);
    unchecked(this.vs[i] = value);
    this.live++;
    // At most half the slots hold keys or tombstones, so probes stay short (a work queue adds
    // and deletes all the time, and tombstones lengthen probes like keys do).
    if (this.used * 2 >= this.hashes.length) this.rebuild();
  }

  delete(key: string): bool {
    const i = this.slot(key, keyHash(key));
    if (i < 0) return false;
    unchecked(this.hashes[i] = TOMB);
    unchecked(this.ks[i] = null);
    // Drop the value's reference so the collector can free it.
    if (isReference<V>()) store<usize>(changetype<usize>(this.vs) + (<usize>i << alignof<V>()), 0);
    this.live--;
    return true;
  }

  clear(): void {
    this.generation++;
    this.hashes = new StaticArray<u32>(8);
    this.ks = new StaticArray<string | null>(8);
    this.vs = new StaticArray<V>(8);
    this.live = 0;
    this.used = 0;
  }

  keys(): Array<string> {
    const out = new Array<string>(this.live);
    let j = 0;
    for (let i = 0, n = this.hashes.length; i < n; i++) {
      if (unchecked(this.hashes[i]) >= 2) unchecked(out[j++] = changetype<string>(unchecked(this.ks[i])));
    }
    return out;
  }

  values(): Array<V> {
    const out = new Array<V>(this.live);
    let j = 0;
    for (let i = 0, n = this.hashes.length; i < n; i++) {
      if (unchecked(this.hashes[i]) >= 2) unchecked(out[j++] = unchecked(this.vs[i]));
    }
    return out;
  }

  /** Re-inserts the live entries into a table sized for them (growing, or sweeping tombstones). */
  private rebuild(): void {
    this.generation++;
    let cap = this.hashes.length;
    while (this.live * 4 >= cap) cap <<= 1;
    const oh = this.hashes, ok = this.ks, ov = this.vs;
    this.hashes = new StaticArray<u32>(cap);
    this.ks = new StaticArray<string | null>(cap);
    this.vs = new StaticArray<V>(cap);
    const mask = cap - 1;
    for (let i = 0, n = oh.length; i < n; i++) {
      const h = unchecked(oh[i]);
      if (h < 2) continue;
      let j = <i32>(h & <u32>mask);
      while (unchecked(this.hashes[j]) != EMPTY) j = (j + 1) & mask;
      unchecked(this.hashes[j] = h);
      unchecked(this.ks[j] = unchecked(ok[i]));
      unchecked(this.vs[j] = unchecked(ov[i]));
    }
    this.used = this.live;
  }
}

/** A set of strings over StrMap. */
export class StrSet {
  private m: StrMap<bool> = new StrMap<bool>();
  get size(): i32 { return this.m.size; }
  has(key: string): bool { return this.m.has(key); }
  /** has() with the key's hash known already (strHash). */
  hasHashed(key: string, h: u32): bool { return this.m.findHashed(key, h) >= 0; }
  add(key: string): this { this.m.set(key, true); return this; }
  /** Adds `key` if absent, in one probe; true when it was added. */
  addIfAbsent(key: string): bool { return this.m.addIfAbsent(key, true); }
  delete(key: string): bool { return this.m.delete(key); }
  clear(): void { this.m.clear(); }
  values(): Array<string> { return this.m.keys(); }
}
