// Placement as documented (docs/PLACEMENT.md), written out again in plain JS with BigInt
// arithmetic and xxhash-wasm's XXH64. It does not use the core. It checks that the committed
// vectors and the core's batch placement follow the documented algorithm, so the docs,
// conformance/vectors/placement.json and the Wasm cannot drift apart without a test failing.
// (conformance/test/placement.test.ts compares the core with the vectors and checks HRW's
// properties. This file checks the vectors against the spec.)
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import xxhash from 'xxhash-wasm';
import { TestCore as Core, testingWasmUrl, type PlacementMember } from '@trellis/core/testing';

const core = Core.create(readFileSync(testingWasmUrl));
const M64 = (1n << 64n) - 1n;
const enc = new TextEncoder();
let h64: (b: Uint8Array, seed: bigint) => bigint;
beforeAll(async () => { h64 = (await xxhash()).h64Raw; });

/** murmur3 fmix64 */
function fmix64(x: bigint): bigint {
  x ^= x >> 33n; x = (x * 0xff51afd7ed558ccdn) & M64;
  x ^= x >> 33n; x = (x * 0xc4ceb9fe1a85ec53n) & M64;
  return x ^ (x >> 33n);
}

/** The documented owner: name of the winning member, or null when no member advertises `kind`. */
function referenceOwner(id: string, kind: string, members: PlacementMember[]): string | null {
  const eligible = members.filter((m) => m.kinds.includes(kind));
  if (eligible.length === 0) return null;
  const h = h64(enc.encode(id), 0n);
  const slot = h >> 47n; // top 17 bits
  const key = fmix64((slot * 0x9e3779b97f4a7c15n + 0x632be59bd9b4e019n) & M64);
  const weight = (m: PlacementMember) => m.weight ?? 1;
  const uniform = eligible.every((m) => weight(m) === weight(eligible[0]));
  let best: PlacementMember | null = null;
  let bestScore: bigint | number = -1;
  for (const m of eligible) {
    const mix = fmix64(key ^ h64(enc.encode(m.name), 0n));
    const score = uniform ? mix : weight(m) / -Math.log((Number(mix >> 11n) + 0.5) / 2 ** 53);
    // equal scores: the larger name wins
    if (best === null || score > bestScore || (score === bestScore && m.name > best.name)) { best = m; bestScore = score; }
  }
  return best!.name;
}

const vectors = JSON.parse(readFileSync(new URL('../../conformance/vectors/placement.json', import.meta.url), 'utf8')) as {
  hash: string; cases: { title: string; members: PlacementMember[]; ids: { id: string; kind: string; owner: string | null }[] }[];
};

describe('documented placement (independent JS reference)', () => {
  it('the vectors file names its hash', () => expect(vectors.hash).toBe('xxh64'));

  it.each(vectors.cases.map((c) => [c.title, c] as const))('vectors follow the documented algorithm: %s', (_t, c) => {
    expect(c.ids.map((x) => referenceOwner(x.id, x.kind, c.members))).toEqual(c.ids.map((x) => x.owner));
  });

  it('the core agrees with the reference on random members, weights, kinds and unicode ids', () => {
    const member = fc.record({
      name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }),
      weight: fc.oneof(fc.constant(1), fc.constantFrom(0.5, 2, 3, 10), fc.double({ min: 0.01, max: 100, noNaN: true })),
      kinds: fc.subarray(['a', 'b', 'c'], { minLength: 0 }),
    });
    const members = fc.uniqueArray(member, { minLength: 0, maxLength: 12, selector: (m) => m.name });
    const ids = fc.array(fc.record({ id: fc.string({ unit: 'grapheme', maxLength: 40 }), kind: fc.constantFrom('a', 'b', 'c', 'd') }), { minLength: 1, maxLength: 150 });
    const uniformWeights = fc.boolean();
    fc.assert(fc.property(members, ids, uniformWeights, (ms, xs, uni) => {
      const set = uni ? ms.map((m) => ({ ...m, weight: 1 })) : ms;
      const { owners } = core.place(xs.map((x) => x.id), xs.map((x) => x.kind), set);
      const got = [...owners].map((o) => (o < 0 ? null : set[o].name));
      expect(got).toEqual(xs.map((x) => referenceOwner(x.id, x.kind, set)));
    }), { seed: 4231, numRuns: 150 });
  });

  it('the core agrees with the reference over 20,000 ids once its slot table is built', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `child-${i}`);
    for (const set of [
      Array.from({ length: 16 }, (_, i) => ({ name: `node-${i}`, kinds: ['w'] })),
      [{ name: 'one', weight: 1, kinds: ['w'] }, { name: 'two', weight: 2, kinds: ['w'] }, { name: 'four', weight: 4, kinds: ['w'] }],
    ]) {
      const { owners } = core.place(ids, 'w', set);
      let diff = 0;
      for (let i = 0; i < ids.length; i++) if (set[owners[i]].name !== referenceOwner(ids[i], 'w', set)) diff++;
      expect(diff).toBe(0);
    }
  });
});
