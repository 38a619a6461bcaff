// Groups in the core, in-process: the spec field `groups` (validated at the API, replicated with
// the spec) and which children a member finds in a group (queryGroup, core-as/assembly/groups.ts),
// on real Wasm cores over the simulator's virtual network. The real-process publish scenarios are
// in scenarios-groups.ts (cluster-node, cluster-bun, cluster-browser).
import { describe, it, expect } from 'vitest';
import { cluster, converged, wasmModule } from './support.js';
import type { World } from '../src/sim/world.js';
import { runSeed, formatViolation } from '../src/sim/run.js';
import { SIM_GROUPS } from '../src/sim/groups.js';

const NAMES = ['a', 'b', 'c'];
const inGroup = (w: World, at: string, g: string) => w.node(at).core.groupMembers(g).sort();
/** Every alive node finds exactly `ids` in group `g`. */
const everywhere = (w: World, g: string, ids: string[]) => w.aliveNodes().every((n) => JSON.stringify(n.core.groupMembers(g).sort()) === JSON.stringify([...ids].sort()));
const replied = (w: World, at: string, req: number) => { expect(w.runUntil(() => w.reply(at, req) !== undefined, 10_000)).toBe(true); return w.reply(at, req)!; };

describe('groups: the spec field', () => {
  it.each([
    ['not an array', 'blue', 'groups: must be an array of strings'],
    ['an array with a number', ['ok', 7], 'groups: must be an array of strings'],
    ['an array with a hole', [undefined], 'groups: must be an array of strings'],
    ['an empty name', [''], 'groups: a group name must not be empty'],
    ['a name over 128 bytes of UTF-8', ['é'.repeat(65)], 'groups: a group name must be at most 128 bytes (UTF-8)'],
    ['17 names', Array.from({ length: 17 }, (_, i) => `g${i}`), 'groups: must name at most 16 groups'],
  ])('refuses %s with an invalid_spec reply naming the field', (_what, groups, message) => {
    const w = cluster(1);
    const r = replied(w, 'a', w.startChild('a', { id: 'x', kind: 'worker', groups }));
    expect(r).toMatchObject({ code: 'invalid_spec', field: 'groups', message });
    expect(w.node('a').core.specOf('x')).toBeUndefined();
  });

  it('takes 16 names of 128 bytes; stores them sorted and distinct; a restart with other groups is another spec', () => {
    const w = cluster(1);
    const most = Array.from({ length: 16 }, (_, i) => `${String.fromCharCode(122 - i)}`.repeat(128));
    expect(replied(w, 'a', w.startChild('a', { id: 'wide', kind: 'worker', groups: most })).code).toBe('ok');
    expect(w.node('a').core.specOf('wide')?.groups).toEqual([...most].sort());
    expect(replied(w, 'a', w.startChild('a', { id: 'dup', kind: 'worker', groups: ['b', 'a', 'b'] })).code).toBe('ok');
    expect(w.node('a').core.specOf('dup')?.groups).toEqual(['a', 'b']);
    // The same groups in another order are the same spec; others are not.
    expect(replied(w, 'a', w.startChild('a', { id: 'dup', kind: 'worker', groups: ['a', 'b', 'a'] })).code).toBe('ok');
    expect(replied(w, 'a', w.startChild('a', { id: 'dup', kind: 'worker', groups: ['a'] }))).toMatchObject({ code: 'already_started' });
    expect(w.node('a').core.specOf('plain')).toBeUndefined();
    expect(replied(w, 'a', w.startChild('a', { id: 'plain', kind: 'worker' })).code).toBe('ok');
    expect(w.node('a').core.specOf('plain')?.groups).toEqual([]);
  });
});

describe('groups: membership', () => {
  it('every member finds the same children in each group, whichever member started them; a terminate removes a child from its groups everywhere', () => {
    const w = cluster(3);
    const starts: Array<[string, string, string[]]> = [];
    for (let i = 0; i < 30; i++) starts.push([NAMES[i % 3], `c-${i}`, i % 3 === 0 ? ['red', 'blue'] : i % 3 === 1 ? ['red'] : []]);
    for (const [at, id, groups] of starts) w.startChild(at, { id, kind: 'worker', groups });
    const red = starts.filter(([, , g]) => g.includes('red')).map(([, id]) => id);
    const blue = starts.filter(([, , g]) => g.includes('blue')).map(([, id]) => id);
    expect(w.runUntil(() => converged(w) && everywhere(w, 'red', red) && everywhere(w, 'blue', blue), 10_000)).toBe(true);
    expect(red).toHaveLength(20);
    expect(blue).toHaveLength(10);
    for (const n of NAMES) expect(inGroup(w, n, 'green')).toEqual([]);
    // A group name is compared exactly.
    expect(inGroup(w, 'a', 'Red')).toEqual([]);

    w.terminateChild('b', 'c-0');
    w.terminateChild('c', 'c-1');
    expect(w.runUntil(() => converged(w) && everywhere(w, 'red', red.slice(2)) && everywhere(w, 'blue', blue.slice(1)), 10_000)).toBe(true);
  });

  it('a child started again with other groups (after its terminate) is in the new groups only, on every member', () => {
    const w = cluster(3);
    w.startChild('a', { id: 'm', kind: 'worker', groups: ['old'] });
    expect(w.runUntil(() => everywhere(w, 'old', ['m']), 10_000)).toBe(true);
    const t = w.terminateChild('b', 'm');
    expect(replied(w, 'b', t).code).toBe('ok');
    w.startChild('c', { id: 'm', kind: 'worker', groups: ['new'] });
    expect(w.runUntil(() => converged(w) && everywhere(w, 'new', ['m']) && everywhere(w, 'old', []), 10_000)).toBe(true);
  });

  it('a member that joins later knows the groups from the desired map it receives', () => {
    const w = cluster(2);
    for (let i = 0; i < 12; i++) w.startChild('a', { id: `j-${i}`, kind: 'worker', groups: [i % 2 ? 'odd' : 'even'] });
    w.runFor(500);
    w.addNode('c', { seeds: ['sim://b'] });
    const odd = Array.from({ length: 6 }, (_, i) => `j-${2 * i + 1}`);
    expect(w.runUntil(() => converged(w) && everywhere(w, 'odd', odd), 10_000)).toBe(true);
    expect(inGroup(w, 'c', 'even')).toHaveLength(6);
  });
});

describe('groups: the simulator workload (--groups)', () => {
  it('seeds 1..40 with groups in every start, under faults: the index agrees with the map after every step, and at quiescence every node finds the same children in each group', () => {
    const failures: string[] = [];
    let nonEmpty = 0;
    for (let seed = 1; seed <= 40; seed++) {
      let world: World | undefined;
      const r = runSeed(wasmModule, seed, { groups: true, onWorld: (w) => { world = w; } });
      if (r.violations.length) failures.push(formatViolation(r));
      const n = world!.aliveNodes()[0];
      if (n && SIM_GROUPS.some((g) => n.core.groupMembers(g).length > 0)) nonEmpty++;
    }
    expect(failures.join('\n\n')).toBe('');
    // The check had children in groups to look at.
    expect(nonEmpty).toBeGreaterThan(20);
  }, 300_000);
});

describe('groups: one step of sends to many children', () => {
  it('a step that sends to 200 children on one member carries them in one MESSAGE frame; each is delivered once and settles delivered', () => {
    const w = cluster(2);
    const all = Array.from({ length: 400 }, (_, i) => `many-${i}`);
    for (const id of all) w.startChild('a', { id, kind: 'worker', groups: ['many'] });
    expect(w.runUntil(() => converged(w) && all.every((id) => w.runningIds().get(id)?.length === 1), 10_000)).toBe(true);
    const onB = all.filter((id) => w.runningIds().get(id)![0] === 'b').slice(0, 200);
    expect(onB).toHaveLength(200);
    let frames = 0;
    const delivered: string[] = [];
    const settled = new Set<number>();
    w.observers.push((_w, n, fx) => {
      for (const e of fx) {
        if (n.name === 'a' && e.type === 'send' && e.bytes[2] === 14 /* MESSAGE */) frames++;
        if (n.name === 'b' && e.type === 'deliver') delivered.push(e.id);
        if (n.name === 'a' && e.type === 'messages_delivered') for (const r of e.reqs) settled.add(r);
      }
    });
    const a = w.node('a');
    a.core.tick(w.now);
    onB.forEach((id, i) => a.core.messageSend(90_000 + i, false, id, JSON.stringify({ i })));
    w.stepNode(a);
    expect(frames).toBe(1);
    expect(w.runUntil(() => settled.size === 200, 5_000)).toBe(true);
    expect(delivered.sort()).toEqual([...onB].sort());
  });
});
