// Placement: weighted rendezvous (highest-random-weight) hashing. Every eligible member scores
// the child id; the highest score owns it. Deterministic on every host (one Wasm, software
// math), moves only ~1/n of the children when a member joins or leaves, and spreads load evenly
// (see docs/PLACEMENT.md and the benchmarks).

import { xxh64String, mix64 } from './hash';

export class Candidate {
  name: string;
  nameHash: u64;
  weight: f64;
  constructor(name: string, weight: f64) {
    this.name = name;
    this.weight = weight;
    this.nameHash = xxh64String(name, 0);
  }
}

/**
 * Index in `cands` of the owner of an id whose hash is `idHash`, or -1 when `cands` is empty.
 * Uniform weights: score = mix64(idHash ^ nameHash), the largest wins, ties by name.
 * Weighted: score = weight / -ln(u), u in (0,1) from the top 53 bits of the same mix.
 */
export function placeOwner(idHash: u64, cands: Array<Candidate>, uniform: bool): i32 {
  const n = cands.length;
  if (n == 0) return -1;
  let best = 0;
  if (uniform) {
    let bs = mix64(idHash ^ unchecked(cands[0]).nameHash);
    for (let i = 1; i < n; i++) {
      const c = unchecked(cands[i]);
      const s = mix64(idHash ^ c.nameHash);
      if (s > bs || (s == bs && c.name > unchecked(cands[best]).name)) { bs = s; best = i; }
    }
    return best;
  }
  let bw = weightedScore(idHash, unchecked(cands[0]));
  for (let i = 1; i < n; i++) {
    const c = unchecked(cands[i]);
    const s = weightedScore(idHash, c);
    if (s > bw || (s == bw && c.name > unchecked(cands[best]).name)) { bw = s; best = i; }
  }
  return best;
}

@inline function weightedScore(idHash: u64, c: Candidate): f64 {
  // u in (0, 1): 53 random bits, shifted off zero
  const u = (<f64>(mix64(idHash ^ c.nameHash) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return c.weight / -Math.log(u);
}
