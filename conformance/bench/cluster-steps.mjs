// Where a cluster bench step ends, checked from outside the members (cluster.mjs, dashboard.mjs):
// which ids each member runs (its local view) against the owners that the documented placement,
// computed here in plain JS over the membership every member reports, gives them.
import { waitUntil } from '../dist/drivers/process-member.js';
import { placementOf } from './placement-reference.mjs';

/** The kind every bench child is (conformance/fixtures/kinds.mjs). */
export const KIND = 'worker';
const STEP_DEADLINE_MS = 120000;
const POLL_MS = 20;

// Each poll asks every member at once (their answers come in parallel, so a poll costs the slowest
// member's answer, not the sum of them).
export async function counts(c) {
  const per = {};
  const ms = c.alive();
  const got = await Promise.all(ms.map((m) => m.call('counts')));
  ms.forEach((m, i) => { per[m.name] = got[i]; });
  return per;
}
const total = (per) => Object.values(per).reduce((s, c) => s + c.running, 0);
const busy = (per) => Object.values(per).some((c) => c.busy > 0);

/** id → names of the alive members whose local view has it running. */
export async function runners(c) {
  const at = new Map();
  const ms = c.alive();
  const got = await Promise.all(ms.map((m) => m.call('localIds')));
  ms.forEach((m, i) => { for (const id of got[i]) { const a = at.get(id); if (a) a.push(m.name); else at.set(id, [m.name]); } });
  return at;
}

/** The up members every alive member reports, if they all report the same set of alive members. */
export async function agreedMembers(c) {
  const alive = c.alive().map((m) => m.name).sort();
  let agreed = null;
  const views = await Promise.all(c.alive().map((m) => m.members()));
  for (const view of views) {
    const up = view.filter((x) => x.status === 'up').map((x) => ({ name: x.name, weight: x.weight, kinds: [...x.kinds].sort() }));
    up.sort((a, b) => (a.name < b.name ? -1 : 1));
    const key = JSON.stringify(up);
    if (agreed !== null && key !== agreed) return null;
    agreed = key;
  }
  const members = JSON.parse(agreed);
  return JSON.stringify(members.map((m) => m.name)) === JSON.stringify(alive) ? members : null;
}

/** Owners of `ids` under `members`, computed once per id list and member set (the bench computes the expected sets before timing). */
const owned = new WeakMap();
export function ownersOf(members, ids) {
  const key = JSON.stringify(members);
  if (!owned.has(ids)) owned.set(ids, new Map());
  const per = owned.get(ids);
  if (!per.has(key)) { const owner = placementOf(members); per.set(key, ids.map((id) => owner(id, KIND))); }
  return per.get(key);
}

/**
 * Every id runs exactly once, on the owner the agreed membership gives it, and no member has a
 * child starting or stopping. Returns { at: the runner map, members } when that holds, else { why }.
 */
export async function onOwners(c, ids) {
  const [p, members] = await Promise.all([counts(c), agreedMembers(c)]);
  if (total(p) !== ids.length || busy(p)) return { why: `counts ${JSON.stringify(p)}` };
  if (!members) return { why: 'members disagree on the membership' };
  const owners = ownersOf(members, ids);
  const at = await runners(c);
  let missing = 0, twice = 0, elsewhere = 0, example = '';
  for (let i = 0; i < ids.length; i++) {
    const a = at.get(ids[i]);
    if (!a) missing++;
    else if (a.length !== 1) twice++;
    else if (a[0] !== owners[i]) { elsewhere++; example ||= `${ids[i]} on ${a[0]}, owner ${owners[i]}`; }
  }
  if (missing || twice || elsewhere || at.size !== ids.length) {
    const expected = {};
    for (const o of owners) expected[o] = (expected[o] ?? 0) + 1;
    return { why: `${missing} not running, ${twice} on two members, ${elsewhere} not on their owner (${example}), ${at.size - ids.length + missing} unknown; running ${JSON.stringify(p)}, owners ${JSON.stringify(expected)} under ${JSON.stringify(members)}` };
  }
  return { at, members };
}

export async function untilOnOwners(c, ids, what) {
  let r = null;
  try {
    await waitUntil(async () => (r = await onOwners(c, ids)).at !== undefined, STEP_DEADLINE_MS, what, POLL_MS);
  } catch (e) {
    throw new Error(`${e.message}; last check: ${r?.why}`);
  }
  return r;
}

