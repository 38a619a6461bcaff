// Handoff benchmark (npm run bench -- handoff [--host node|bun]): a 1 MiB child state handed
// over on planned moves between real member processes on loopback, with a cluster secret (every
// frame authenticated). Members a and b run a counter whose state carries 1 MiB; each round a
// member joins that the documented placement makes the counter's owner (it moves there), then
// leaves gracefully (it moves back): one move at a time, so a move's time is its own.
// A move's time is from the old instance giving its state (ctx.onDehydrate) to the new instance
// starting with it, both read from the children's own reports (wall clock, one machine).
// Prints one JSON object per line.
import { Cluster, nodeDriver, bunDriver } from '../dist/drivers/cluster.js';
import { waitUntil } from '../dist/drivers/process-member.js';
import { placementOf } from './placement-reference.mjs';
import { host, emitter, wallMs } from './args.mjs';

const driver = host === 'bun' ? bunDriver : nodeDriver;
const STATE_BYTES = 1 << 20;
const MOVES = 24;
const STEP_DEADLINE_MS = 30000;
const KIND = 'counter';
const emit = emitter('handoff', { fields: { host } });

const ownerAmong = (names, id) => placementOf(names.map((name) => ({ name, weight: 1, kinds: [KIND] })))(id, KIND);

/**
 * Every alive member sees exactly `names` up (a member that has not met another yet would hand
 * the state to the owner in its own view), and the counter runs once, on its owner among them.
 */
async function onOwner(c, id, names) {
  const want = [...names].sort().join();
  for (const m of c.alive()) if ((await m.members()).filter((x) => x.status === 'up').map((x) => x.name).sort().join() !== want) return false;
  const p = await c.placements();
  return p.get(id)?.length === 1 && p.get(id)[0] === ownerAmong(names, id);
}

/** Names of joiners that would own `id` beside a and b, in order. */
function* joiners(id) {
  for (let i = 0; ; i++) if (ownerAmong(['a', 'b', `j${i}`], id) === `j${i}`) yield `j${i}`;
}

/** Moves since `since`: each 'up' from a handoff, paired with the 'gave' of the state it started from. */
function moves(c, since) {
  const gave = new Map();
  for (const m of c.members) for (const { event: e } of m.events) {
    if (e.type === 'child_event' && e.name === 'gave' && e.data.t >= since) gave.set(`${e.id}/${e.data.n}`, e.data.t);
  }
  const out = [];
  for (const m of c.members) for (const { event: e } of m.events) {
    if (e.type !== 'child_event' || e.name !== 'up' || e.data.source !== 'handoff' || e.data.t < since) continue;
    const t = gave.get(`${e.id}/${e.data.n0}`);
    out.push({ id: e.id, ms: t === undefined ? NaN : e.data.t - t, bytes: e.data.bytes });
  }
  return out;
}

const failures = (c) => c.members.flatMap((m) => m.events.filter(({ event: e }) => e.type === 'handoff_failed').map(({ event: e }) => e));

async function main() {
  const c = new Cluster(driver, { secret: 'handoff-bench-secret', heartbeatMs: 100, failureTimeoutMs: 1000 });
  const id = 'state';
  const times = [];
  try {
    const [a] = await c.addMany(['a', 'b']);
    await a.startChild({ id, kind: KIND, args: { bytes: STATE_BYTES, everyMs: 50 } }, { wait: 'running' });
    await waitUntil(() => onOwner(c, id, ['a', 'b']), STEP_DEADLINE_MS, 'counter on a or b');
    for (const name of joiners(id)) {
      if (times.length >= MOVES) break;
      for (const step of ['join', 'leave']) {
        const since = wallMs();
        if (step === 'join') await c.add({ name });
        else await c.get(name).stop();
        const names = step === 'join' ? ['a', 'b', name] : ['a', 'b'];
        await waitUntil(() => onOwner(c, id, names), STEP_DEADLINE_MS, `${step} of ${name} settled`);
        // The last new instance reports 'up' right after it starts: wait for each move's pair.
        await waitUntil(() => moves(c, since).length === 1 && Number.isFinite(moves(c, since)[0].ms), 5000, 'the move reported')
          .catch((e) => { throw new Error(`${e.message}: moves ${JSON.stringify(moves(c, since))}, failures ${JSON.stringify(failures(c))}, ${JSON.stringify(c.members.map((m) => [m.name, m.events.filter((x) => x.t >= since && x.event.id === id).map((x) => [x.event.type, x.event.name, x.event.data ?? x.event.from])]))}`); });
        times.push(...moves(c, since).map((x) => ({ step, ms: x.ms })));
      }
    }
    const failed = failures(c);
    if (failed.length) throw new Error(`handoffs failed: ${JSON.stringify(failed.slice(0, 3))}`);
    const quantile = (list, p) => {
      const sorted = list.map((x) => x.ms).sort((x, y) => x - y);
      return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
    };
    const extra = { moves: times.length, stateBytes: STATE_BYTES };
    emit('handoff_1mib_p50_ms', quantile(times, 0.5), 'ms', extra);
    emit('handoff_1mib_p99_ms', quantile(times, 0.99), 'ms', { ...extra, target: 50 });
    // To a member that has just joined (its process still warming up), and back on its leave.
    for (const step of ['join', 'leave']) emit(`handoff_1mib_${step}_p50_ms`, quantile(times.filter((x) => x.step === step), 0.5), 'ms', extra);
  } finally {
    await c.close();
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
