// Groups in the simulator's workload (--groups): the groups a start's spec names, and the check
// at quiescence that every node finds in each group exactly the children whose effective spec
// names it and has not failed (core-as/assembly/groups.ts), the same on every node.
import type { World } from './world.js';
import type { Prng } from './prng.js';

export const SIM_GROUPS = ['red', 'blue', 'green'] as const;

/** Each of SIM_GROUPS with probability 1/2, in a random order (the core sorts them), sometimes twice. */
export function workloadGroups(rng: Prng): string[] {
  const out: string[] = [];
  for (const g of SIM_GROUPS) if (rng.chance(0.5)) out.push(g);
  if (out.length && rng.chance(0.2)) out.push(out[0]);
  return out.reverse();
}

/** null, or what a node found wrong in a group. */
export function groupsAgree(w: World, ids: readonly string[]): string | null {
  let first: string | null = null;
  for (const n of w.aliveNodes()) {
    if (n.left) continue;
    const found: string[] = [];
    for (const g of SIM_GROUPS) {
      const got = n.core.groupMembers(g).sort();
      const want = ids.filter((id) => { const s = n.core.specOf(id); return !!s && !s.failed && s.groups.includes(g); }).sort();
      if (got.join() !== want.join()) return `${n.name} finds [${got.join(' ')}] in ${g}, its specs name [${want.join(' ')}]`;
      found.push(`${g}: ${got.join(' ')}`);
    }
    const all = found.join('; ');
    if (first === null) first = all;
    else if (all !== first) return `${n.name} finds ${all}, another node ${first}`;
  }
  return null;
}
