// Placement: the committed vectors, and the properties rendezvous hashing promises
// (fast-check with a fixed seed, so a failure replays).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { TestCore as Core, type PlacementMember } from '@trellis/core/testing';
import { wasmBytes } from './support.js';

const core = Core.create(wasmBytes);
const vectors = JSON.parse(readFileSync(new URL('../vectors/placement.json', import.meta.url), 'utf8')) as {
  cases: { title: string; members: PlacementMember[]; ids: { id: string; kind: string; owner: string | null }[] }[];
};
const FC = { seed: 20261124, numRuns: 60 };

function owners(ids: string[], kinds: string | string[], members: PlacementMember[]): (string | null)[] {
  const { owners: o } = core.place(ids, kinds, members);
  return [...o].map((i) => (i < 0 ? null : members[i].name));
}

describe('placement vectors (conformance/vectors/placement.json)', () => {
  it.each(vectors.cases.map((c) => [c.title, c] as const))('%s', (_t, c) => {
    expect(owners(c.ids.map((x) => x.id), c.ids.map((x) => x.kind), c.members)).toEqual(c.ids.map((x) => x.owner));
  });
});

const memberSet = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 12 })
  .map((names) => names.map((name) => ({ name, kinds: ['w'] })));
const idList = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 200 });

describe('placement properties', () => {
  it('every id gets an eligible owner', () => {
    fc.assert(fc.property(memberSet, idList, fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), (ms, ids, gpu) => {
      const members = ms.map((m, i) => ({ name: m.name, kinds: gpu[i] ? ['w', 'gpu'] : ['w'] }));
      const kinds = ids.map((_, i) => (i % 2 ? 'gpu' : 'w'));
      const o = owners(ids, kinds, members);
      o.forEach((name, i) => {
        const eligible = members.filter((m) => m.kinds.includes(kinds[i]));
        if (eligible.length === 0) expect(name).toBeNull();
        else expect(eligible.map((m) => m.name)).toContain(name);
      });
    }), FC);
  });

  it('adding a member moves ids only to the new member', () => {
    fc.assert(fc.property(memberSet, idList, fc.string({ minLength: 13, maxLength: 16 }), (members, ids, extra) => {
      const before = owners(ids, 'w', members);
      const after = owners(ids, 'w', [...members, { name: extra, kinds: ['w'] }]);
      after.forEach((o, i) => { if (o !== before[i]) expect(o).toBe(extra); });
    }), FC);
  });

  it('removing a member moves only its ids', () => {
    fc.assert(fc.property(memberSet.filter((m) => m.length > 1), idList, fc.nat(), (members, ids, k) => {
      const gone = members[k % members.length].name;
      const before = owners(ids, 'w', members);
      const after = owners(ids, 'w', members.filter((m) => m.name !== gone));
      after.forEach((o, i) => { if (o !== before[i]) expect(before[i]).toBe(gone); });
    }), FC);
  });

  it('order of the member list does not matter', () => {
    fc.assert(fc.property(memberSet, idList, (members, ids) => {
      expect(owners(ids, 'w', [...members].reverse())).toEqual(owners(ids, 'w', members));
    }), FC);
  });

  it('an id whose kind no member advertises has no owner', () => {
    fc.assert(fc.property(memberSet, idList, (members, ids) => {
      expect(owners(ids, 'nobody-runs-this', members).every((o) => o === null)).toBe(true);
    }), FC);
  });

  const ids100k = Array.from({ length: 100_000 }, (_, i) => `child-${i}`);
  it('uniform load is close to even (100k ids over 8 members)', () => {
    const members = Array.from({ length: 8 }, (_, i) => ({ name: `node-${i}`, kinds: ['w'] }));
    const { owners: o } = core.place(ids100k, 'w', members);
    const load = new Array(8).fill(0);
    for (const x of o) load[x]++;
    expect(Math.max(...load) / (100_000 / 8)).toBeLessThan(1.03);
  });

  it('weights shift load proportionally', () => {
    const members = [{ name: 'one', weight: 1, kinds: ['w'] }, { name: 'two', weight: 2, kinds: ['w'] }, { name: 'four', weight: 4, kinds: ['w'] }];
    const { owners: o } = core.place(ids100k, 'w', members);
    const load = [0, 0, 0];
    for (const x of o) load[x]++;
    const share = load.map((l) => l / 100_000);
    expect(share[0]).toBeCloseTo(1 / 7, 2);
    expect(share[1]).toBeCloseTo(2 / 7, 2);
    expect(share[2]).toBeCloseTo(4 / 7, 2);
  });

  it('a join moves about 1/n of the ids', () => {
    const members = Array.from({ length: 9 }, (_, i) => ({ name: `node-${i}`, kinds: ['w'] }));
    const before = core.place(ids100k, 'w', members.slice(0, 8)).owners;
    const after = core.place(ids100k, 'w', members).owners;
    let moved = 0;
    for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moved++;
    expect(moved / 100_000).toBeGreaterThan(1 / 9 - 0.01);
    expect(moved / 100_000).toBeLessThan(1 / 9 + 0.01);
  });

  const weighted = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 })
    .chain((names) => fc.tuple(fc.constant(names), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: names.length, maxLength: names.length })))
    .map(([names, ws]) => names.map((name, i) => ({ name, weight: ws[i], kinds: ['w'] })));

  it('a weighted join moves only ids to the newcomer, at most 1.05 x its weighted share (100k ids)', () => {
    fc.assert(fc.property(weighted, fc.integer({ min: 1, max: 4 }), (members, wj) => {
      const joiner = { name: 'joiner-with-a-long-name', weight: wj, kinds: ['w'] };
      const before = core.place(ids100k, 'w', members).owners;
      const after = core.place(ids100k, 'w', [...members, joiner]).owners;
      let moved = 0;
      for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) { moved++; expect(after[i]).toBe(members.length); }
      const total = members.reduce((t, m) => t + m.weight, 0) + wj;
      expect(moved).toBeLessThanOrEqual(1.05 * ids100k.length * (wj / total));
    }), { ...FC, numRuns: 20 });
  });

  it('a weight change moves ids only to or from the member whose weight changed', () => {
    fc.assert(fc.property(weighted.filter((m) => m.length > 1), fc.nat(), fc.integer({ min: 1, max: 6 }), (members, k, w) => {
      const i = k % members.length;
      const ids = ids100k.slice(0, 20_000);
      const before = core.place(ids, 'w', members).owners;
      const after = core.place(ids, 'w', members.map((m, j) => (j === i ? { ...m, weight: w } : m))).owners;
      for (let x = 0; x < ids.length; x++) if (before[x] !== after[x]) expect(before[x] === i || after[x] === i).toBe(true);
    }), { ...FC, numRuns: 20 });
  });
});
