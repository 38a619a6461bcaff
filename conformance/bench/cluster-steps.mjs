// Where a cluster bench step ends, judged outside the members (cluster.mjs, dashboard.mjs):
// which ids each member runs (its local view) against the owners that the documented placement,
// computed here in plain JS over the membership every member reports, gives them. When it ended:
// the latest time at which a member saw its own part hold (member op awaitView), or, failing
// that, the poll that found it.
import { waitUntil } from '../dist/drivers/process-member.js';
import { placementOf } from './placement-reference.mjs';

/** The kind every bench child is (conformance/fixtures/kinds.mjs). */
export const KIND = 'worker';
const STEP_DEADLINE_MS = 120000;
const POLL_MS = 20;
// How long the members wait for their own condition before the step falls back to the poll (the
// rest of STEP_DEADLINE_MS): a step whose membership ends other than expected can still end there.
const MEMBER_WAIT_MS = 60000;
/** TRELLIS_BENCH_POLL_ONLY=1: every step is polled as before awaitView (to compare the two on the same machine). */
const POLL_ONLY = process.env.TRELLIS_BENCH_POLL_ONLY === '1';

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
  const ms = c.alive();
  return runnersOf(ms, await Promise.all(ms.map((m) => m.call('localIds'))));
}

/** The up members every alive member reports, if they all report the same set of alive members. */
export async function agreedMembers(c) {
  return agreedOf(c.alive(), await Promise.all(c.alive().map((m) => m.members())));
}

/** The up members in `views` (one per member of `alive`), if they all agree and name exactly `alive`. */
function agreedOf(alive, views) {
  let agreed = null;
  for (const view of views) {
    const up = view.filter((x) => x.status === 'up').map((x) => ({ name: x.name, weight: x.weight, kinds: [...x.kinds].sort() }));
    up.sort((a, b) => (a.name < b.name ? -1 : 1));
    const key = JSON.stringify(up);
    if (agreed !== null && key !== agreed) return null;
    agreed = key;
  }
  const members = JSON.parse(agreed);
  return JSON.stringify(members.map((m) => m.name)) === JSON.stringify(alive.map((m) => m.name).sort()) ? members : null;
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
 * With `expected` (the membership the step should end with, known before timing), each poll is
 * one answer per member (counts, members, and its running ids once it runs as many as its share
 * under `expected`): the same check, without a second round trip to busy members.
 */
export async function onOwners(c, ids, expected) {
  if (!expected) {
    const [p, members] = await Promise.all([counts(c), agreedMembers(c)]);
    return judge(ids, p, members, () => runners(c));
  }
  const share = sharesOf(ids, expected);
  const ms = c.alive();
  const got = await Promise.all(ms.map((m) => m.call('pollView', share.get(m.name) ?? 0)));
  return judgeViews(c, ms, got, ids, expected);
}

/** The judge over one pollView-shaped answer per member of `ms` (`got`); `expected`: see onOwners. */
async function judgeViews(c, ms, got, ids, expected) {
  const p = {};
  ms.forEach((m, i) => { p[m.name] = got[i].counts; });
  const members = agreedOf(ms, got.map((g, i) => (ms[i].hidden.size ? g.members.filter((r) => !ms[i].hidden.has(r.name)) : g.members)));
  return judge(ids, p, members, async () => {
    // A member short of its share under `expected`: when that is the agreed membership, some id
    // is not on its owner yet; under another membership, ask for the ids as without `expected`.
    if (got.every((g) => g.ids !== null)) return runnersOf(ms, got.map((g) => g.ids));
    if (sameMembers(members, expected)) return new Map();
    return runners(c);
  });
}

async function judge(ids, p, members, fetchRunners) {
  if (total(p) !== ids.length || busy(p)) return { why: `counts ${JSON.stringify(p)}` };
  if (!members) return { why: 'members disagree on the membership' };
  const owners = ownersOf(members, ids);
  const at = await fetchRunners();
  let missing = 0, twice = 0, elsewhere = 0, example = '';
  for (let i = 0; i < ids.length; i++) {
    const a = at.get(ids[i]);
    if (!a) missing++;
    else if (a.length !== 1) twice++;
    else if (a[0] !== owners[i]) { elsewhere++; example ||= `${ids[i]} on ${a[0]}, owner ${owners[i]}`; }
  }
  if (missing || twice || elsewhere || at.size !== ids.length) {
    const want = {};
    for (const o of owners) want[o] = (want[o] ?? 0) + 1;
    return { why: `${missing} not running, ${twice} on two members, ${elsewhere} not on their owner (${example}), ${at.size - ids.length + missing} unknown; running ${JSON.stringify(p)}, owners ${JSON.stringify(want)} under ${JSON.stringify(members)}` };
  }
  return { at, members };
}

/** id → names of the members (of `ms`) whose id lists (`lists`, one per member) have it. */
function runnersOf(ms, lists) {
  const at = new Map();
  ms.forEach((m, i) => { for (const id of lists[i]) { const a = at.get(id); if (a) a.push(m.name); else at.set(id, [m.name]); } });
  return at;
}

const sameMembers = (a, b) => a !== null && JSON.stringify(a) === JSON.stringify(canonical(b));
const canonical = (members) => members.map((m) => ({ name: m.name, weight: m.weight, kinds: [...m.kinds].sort() })).sort((x, y) => (x.name < y.name ? -1 : 1));

/** Member name → how many of `ids` it owns under `members` (cached with the owners). */
const shares = new WeakMap();
function sharesOf(ids, members) {
  const key = JSON.stringify(canonical(members));
  if (!shares.has(ids)) shares.set(ids, new Map());
  const per = shares.get(ids);
  if (!per.has(key)) {
    const n = new Map();
    for (const o of ownersOf(canonical(members), ids)) n.set(o, (n.get(o) ?? 0) + 1);
    per.set(key, n);
  }
  return per.get(key);
}

/**
 * With `expected`, the members watch for their own part of the end condition (member op
 * awaitView: pollView's answer, given when it first holds, with `at`, that member's Date.now()
 * then), and the same judge runs over those answers. It passes only if every member's view then
 * held until after the judge read it (viewHeld), so at the latest `at` every view was the one
 * judged: the step ended then. Undefined when the judge does not pass on them.
 */
async function onOwnersByMembers(c, ids, expected, act) {
  const share = sharesOf(ids, expected);
  const ms = c.alive().filter((m) => !act || !act.leaves?.includes(m));
  let got, actAt = -Infinity;
  try {
    const waits = ms.map((m) => m.call('awaitView', share.get(m.name) ?? 0, MEMBER_WAIT_MS));
    if (act) {
      // Armed before the act: a member reads its commands in order, so once it answers `counts`
      // it watches, and what arming costs it (a walk of its children) is spent before the step.
      await Promise.all(ms.map((m) => m.call('counts')));
      actAt = await act.run();
      act.done = true;
    }
    got = await Promise.all(waits);
  } catch (e) {
    await Promise.all(ms.map((m) => m.call('viewHeld').catch(() => false)));
    return { why: `awaitView failed: ${e.message}` };
  }
  const early = ms.filter((_, i) => got[i].at !== null && got[i].at < actAt).map((m) => m.name);
  if (early.length) {
    await Promise.all(ms.map((m) => m.call('viewHeld').catch(() => false)));
    return { why: `${early.join(', ')} held its share before the step began` };
  }
  const late = ms.filter((_, i) => got[i].at === null).map((m) => m.name);
  const r = late.length ? { why: `${late.join(', ')} did not see its share within ${MEMBER_WAIT_MS} ms` } : await judgeViews(c, ms, got, ids, expected);
  const observedAt = Date.now();
  const held = await Promise.all(ms.map((m) => m.call('viewHeld').catch(() => false)));
  if (r.at === undefined) return r;
  const broke = ms.filter((_, i) => !held[i]).map((m) => m.name);
  if (broke.length) return { why: `the view of ${broke.join(', ')} changed after it was judged` };
  const atOf = Object.fromEntries(ms.map((m, i) => [m.name, got[i].at]));
  const beforeOf = Object.fromEntries(ms.map((m, i) => [m.name, got[i].before]));
  return { ...r, endAt: Math.max(...got.map((g) => g.at)), observedAt, endedBy: 'members', atOf, beforeOf };
}

/**
 * Waits until onOwners holds. Returns { at, members, endAt, observedAt, endedBy }: `endAt` is
 * when the condition held (the latest member `at`, with `expected`; `atOf` has each member's),
 * `observedAt` when the harness had read and judged it (both Date.now() ms); `endedBy` 'members',
 * or 'poll' when the members' answers did not pass (`membersWhy` says why) or there is no
 * `expected`, and the step was polled every POLL_MS until it held (then endAt = observedAt, the
 * time of the poll that passed). `act` ({ run, leaves }): the step's cause, run once the members
 * (but `leaves`, the members it takes away) watch; `run` resolves to the Date.now() it began at,
 * and a member whose view held before that fails the members' answer (then the poll decides).
 */
export async function untilOnOwners(c, ids, what, expected, act) {
  const t0 = Date.now();
  let membersWhy;
  if (expected && !POLL_ONLY) {
    const byMembers = await onOwnersByMembers(c, ids, expected, act);
    if (byMembers.at !== undefined) return byMembers;
    membersWhy = byMembers.why;
  }
  if (act && !act.done) await act.run();
  let r = null;
  try {
    await waitUntil(async () => (r = await onOwners(c, ids, expected)).at !== undefined, Math.max(0, STEP_DEADLINE_MS - (Date.now() - t0)), what, POLL_MS);
  } catch (e) {
    throw new Error(`${e.message}; last check: ${r?.why}`);
  }
  const observedAt = Date.now();
  return { ...r, endAt: observedAt, observedAt, endedBy: 'poll', membersWhy };
}
