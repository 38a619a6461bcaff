// Placement as docs/PLACEMENT.md documents it, computed in plain JS (BigInt arithmetic,
// xxhash-wasm's XXH64) without the core, so a benchmark can check from outside the members
// that every child runs where the documented placement puts it. Not a bench of its own.
import xxhash from 'xxhash-wasm';

const M64 = (1n << 64n) - 1n;
const SLOT_SHIFT = 47n; // 64 - 17: the top 17 bits of the id hash pick one of 2^17 slots
const SLOT_MUL = 0x9e3779b97f4a7c15n;
const SLOT_ADD = 0x632be59bd9b4e019n;
const enc = new TextEncoder();
const { h64Raw } = await xxhash();
const hashOf = (s) => h64Raw(enc.encode(s), 0n);

/** murmur3's 64-bit finalizer. */
function fmix64(x) {
  x ^= x >> 33n; x = (x * 0xff51afd7ed558ccdn) & M64;
  x ^= x >> 33n; x = (x * 0xc4ceb9fe1a85ec53n) & M64;
  return x ^ (x >> 33n);
}

/**
 * An owner function over one member set ({ name, weight?, kinds }[]): `owner(id, kind)` is the
 * winning member's name, or null when no member advertises the kind. Slot winners are cached per
 * kind, so placing 10,000 ids scores each slot once.
 */
export function placementOf(members) {
  const hashed = members.map((m) => ({ name: m.name, weight: m.weight ?? 1, kinds: m.kinds, h: hashOf(m.name) }));
  const perKind = new Map();
  function slotWinner(slot, eligible, uniform) {
    const key = fmix64((slot * SLOT_MUL + SLOT_ADD) & M64);
    let best = null, bestScore = -1;
    for (const m of eligible) {
      const mix = fmix64(key ^ m.h);
      const score = uniform ? mix : m.weight / -Math.log((Number(mix >> 11n) + 0.5) / 2 ** 53);
      if (best === null || score > bestScore || (score === bestScore && m.name > best.name)) { best = m; bestScore = score; }
    }
    return best.name;
  }
  return function owner(id, kind) {
    let k = perKind.get(kind);
    if (!k) {
      const eligible = hashed.filter((m) => m.kinds.includes(kind));
      k = { eligible, uniform: eligible.every((m) => m.weight === eligible[0].weight), slots: new Map() };
      perKind.set(kind, k);
    }
    if (k.eligible.length === 0) return null;
    const slot = hashOf(id) >> SLOT_SHIFT;
    let w = k.slots.get(slot);
    if (w === undefined) { w = slotWinner(slot, k.eligible, k.uniform); k.slots.set(slot, w); }
    return w;
  };
}
