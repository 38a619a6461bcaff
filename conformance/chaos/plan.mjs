// The chaos schedule, decided by the seed alone before the run starts: which fault happens when,
// to whom, for how long, and which request goes out when. The run executes it against real
// processes, so the same seed replays the same schedule (not the same timing of the outcomes).
import { Prng } from '../dist/sim/prng.js';

/** Members impaired at once (killed, paused or left), so a majority of five always remains. */
export const IMPAIRED_MAX = 2;
/** Gap between two faults, ms. */
export const FAULT_GAP_MS = [1500, 4000];
/** Gap between two requests, ms. */
export const REQUEST_GAP_MS = [100, 400];
/** How long a member stays down before its restart or rejoin, ms. */
export const DOWN_MS = [1000, 4000];
/** SIGSTOP to SIGCONT, ms: below and above the failure timeout. */
export const PAUSE_MS = [200, 2000];
/** A link fault lasts this long, ms. */
export const LINK_FAULT_MS = [500, 3000];
/** Added latency of a delayed link, ms. */
export const DELAY_MS = [20, 250];
/** A restarted member takes about this long to be back (spawn and join), ms. */
const RESTART_ALLOWANCE_MS = 1500;

const WEIGHTS = [['kill', 2], ['pause', 2], ['leave', 1], ['cut', 2], ['blackhole', 1], ['delay', 1]];

function weighted(rng) {
  const total = WEIGHTS.reduce((s, [, w]) => s + w, 0);
  let x = rng.int(1, total);
  for (const [k, w] of WEIGHTS) { x -= w; if (x <= 0) return k; }
  return WEIGHTS[0][0];
}

/**
 * Actions sorted by `at` (ms from the start): { at, kind, member?, a?, b?, delayMs? } with kinds
 * kill/restart, pause/resume, leave/rejoin, cut/blackhole/delay/heal, and { at, kind: 'request',
 * op, id, pick } where `pick` chooses among the members live at that moment.
 */
export function plan({ seed, durationMs, members, ids }) {
  const rng = new Prng(seed);
  const faults = new Prng(rng.u32());
  const work = new Prng(rng.u32());
  const out = [];
  const impairedUntil = new Map(members.map((m) => [m, 0]));
  for (let at = faults.int(...FAULT_GAP_MS); at < durationMs; at += faults.int(...FAULT_GAP_MS)) {
    const kind = weighted(faults);
    if (kind === 'cut' || kind === 'blackhole' || kind === 'delay') {
      const a = faults.pick(members);
      const b = faults.pick(members.filter((m) => m !== a));
      const delayMs = kind === 'delay' ? faults.int(...DELAY_MS) : 0;
      // The heal names its fault: faults on one pair may overlap, and each heals only itself.
      const token = `f${out.length}`;
      out.push({ at, kind, a, b, delayMs, token }, { at: at + faults.int(...LINK_FAULT_MS), kind: 'heal', a, b, token });
      continue;
    }
    const free = members.filter((m) => impairedUntil.get(m) <= at);
    if (members.length - free.length >= IMPAIRED_MAX || free.length === 0) continue;
    const member = faults.pick(free);
    if (kind === 'pause') {
      const until = at + faults.int(...PAUSE_MS);
      out.push({ at, kind, member }, { at: until, kind: 'resume', member });
      impairedUntil.set(member, until);
    } else {
      const until = at + faults.int(...DOWN_MS);
      out.push({ at, kind, member }, { at: until, kind: kind === 'kill' ? 'restart' : 'rejoin', member });
      impairedUntil.set(member, until + RESTART_ALLOWANCE_MS);
    }
  }
  for (let at = work.int(...REQUEST_GAP_MS); at < durationMs; at += work.int(...REQUEST_GAP_MS)) {
    out.push({ at, kind: 'request', op: work.chance(0.6) ? 'start' : 'terminate', id: work.pick(ids), pick: work.u32() });
  }
  // Stable: equal times keep the order in which they were planned.
  return out.map((x, i) => [x, i]).sort((p, q) => p[0].at - q[0].at || p[1] - q[1]).map(([x]) => x);
}
