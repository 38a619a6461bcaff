// Placement: weighted rendezvous (highest-random-weight) hashing. Every eligible member scores
// the child id; the highest score owns it. Deterministic on every host (one Wasm, software
// math), moves only ~1/n of the children when a member joins or leaves, and spreads load evenly
// (see docs/PLACEMENT.md and the benchmarks).

import { xxh64String, mix64 } from './hash';

export class Candidate {
  name: string;
  nameHash: u64;
  weight: f64;
  /** Cordoned or draining (cordon.ts): wins only the children it already claims. */
  restricted: bool = false;
  constructor(name: string, weight: f64) {
    this.name = name;
    this.weight = weight;
    this.nameHash = xxh64String(name, 0);
  }
}

/**
 * Ids are placed through 2^17 slots: slot = the top 17 bits of the id's hash, and each slot is
 * owned by rendezvous hashing of the slot over the candidates. This is HRW at slot
 * granularity: the same minimal movement, balance within about 1% of even, and once a set has
 * served a few thousand lookups a slot table answers each id in one load instead of n scores.
 * The table is only a cache: both paths give the same owner. Building it scores every slot, as
 * many scores as SLOTS lookups; a set is rebuilt on every membership change, so it builds its
 * table only after SLOTS lookups (at most twice the scores that the better of the two paths
 * would have cost: a failover of 10,000 children never pays for 131,072 slots).
 */
export const SLOT_BITS: i32 = 17;
const SLOTS: i32 = 1 << SLOT_BITS;
const TABLE_AFTER: i32 = SLOTS;

// @ts-ignore: decorator
@inline export function slotOf(idHash: u64): i32 { return <i32>(idHash >> (64 - SLOT_BITS)); }
// @ts-ignore: decorator
@inline function slotKey(slot: i32): u64 { return mix64(<u64>slot * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019); }

/** The eligible members for one kind, prepared for fast placement. */
export class CandidateSet {
  cands: Array<Candidate>;
  hashes: StaticArray<u64>;
  uniform: bool = true;
  table: StaticArray<u16> | null = null;
  lookups: i32 = 0;
  /** The unrestricted candidates of this set, built on first need (cordon.ts openSet). */
  open: CandidateSet | null = null;
  constructor(cands: Array<Candidate>) {
    this.cands = cands;
    const n = cands.length;
    this.hashes = new StaticArray<u64>(n);
    for (let i = 0; i < n; i++) {
      this.hashes[i] = cands[i].nameHash;
      if (cands[i].weight != cands[0].weight) this.uniform = false;
    }
  }
  get length(): i32 { return this.cands.length; }

  buildTable(): void {
    const t = new StaticArray<u16>(SLOTS);
    for (let s = 0; s < SLOTS; s++) unchecked(t[s] = <u16>scoreSlot(s, this));
    this.table = t;
  }
}

/**
 * Index in the set of the owner of an id whose hash is `idHash`, or -1 when the set is empty.
 * Uniform weights: score = mix64(slotKey ^ nameHash), the largest wins (equal scores, which
 * need equal name hashes, are broken by name). Weighted: score = weight / -ln(u), u in (0,1)
 * from the top 53 bits of the same mix.
 */
export function placeIn(idHash: u64, set: CandidateSet): i32 {
  if (set.cands.length == 0) return -1;
  const slot = slotOf(idHash);
  const t = set.table;
  if (t != null) return <i32>unchecked(t[slot]);
  if (++set.lookups > TABLE_AFTER && set.cands.length <= 65535) set.buildTable();
  return scoreSlot(slot, set);
}

/**
 * Index in `cands` of the owner of an id whose hash is `idHash`, or -1 when `cands` is empty.
 * `uniform` = treat every weight as equal. Otherwise the weights decide. A list whose weights
 * are all equal takes the uniform path either way, with the same owners.
 * A convenience for one id: it builds a CandidateSet per call. For many ids, keep a CandidateSet
 * and call placeIn, which caches the slot table.
 */
export function placeOwner(idHash: u64, cands: Array<Candidate>, uniform: bool): i32 {
  const set = new CandidateSet(cands);
  if (uniform) set.uniform = true;
  return placeIn(idHash, set);
}

function scoreSlot(slot: i32, set: CandidateSet): i32 {
  const key = slotKey(slot);
  const n = set.cands.length;
  if (!set.uniform) return placeWeighted(key, set.cands);
  const hs = set.hashes;
  let best = 0;
  let bs = mix64(key ^ unchecked(hs[0]));
  let tie = false;
  for (let i = 1; i < n; i++) {
    const s = mix64(key ^ unchecked(hs[i]));
    if (s > bs) { bs = s; best = i; tie = false; } else if (s == bs) tie = true;
  }
  if (tie) {
    // Only members whose name hashes collide can tie: decide by name, as every node does.
    for (let i = 0; i < n; i++) {
      if (i != best && mix64(key ^ unchecked(hs[i])) == bs && set.cands[i].name > set.cands[best].name) best = i;
    }
  }
  return best;
}

function placeWeighted(key: u64, cands: Array<Candidate>): i32 {
  let best = 0;
  let bw = weightedScore(key, unchecked(cands[0]));
  for (let i = 1; i < cands.length; i++) {
    const c = unchecked(cands[i]);
    const s = weightedScore(key, c);
    if (s > bw || (s == bw && c.name > unchecked(cands[best]).name)) { bw = s; best = i; }
  }
  return best;
}

// @ts-ignore: decorator
@inline function weightedScore(key: u64, c: Candidate): f64 {
  // u in (0, 1): 53 random bits, shifted off zero
  const u = (<f64>(mix64(key ^ c.nameHash) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return c.weight / -Math.log(u);
}
