// Drain benchmark (npm run bench -- drain [--host node|bun] [--max-parallel P]): a loopback
// cluster of 3 real processes with about 1,000 inline children each, children with state (the
// fixtures' 'tally': it counts the messages it takes, and the counts move with it); one member is
// drained while another sends to every child of the drained member, a round every STREAM_EVERY_MS
// from before the drain until after it (drain_1k_ms: from sup.drain() until it resolves, i.e.
// every child of the drained member was stopped there and is claimed by another member).
// Checked from outside afterwards: the drained member runs nothing, every child runs exactly once,
// and the children's own counts (handed over on each move) give messages_lost (sent, not taken)
// and duplicates (taken twice).
import { Cluster, nodeDriver, bunDriver } from '../dist/drivers/cluster.js';
import { waitUntil } from '../dist/drivers/process-member.js';
import { placementOf } from './placement-reference.mjs';
import { host, numArg, emitter } from './args.mjs';

const driver = host === 'bun' ? bunDriver : nodeDriver;
const MAX_PARALLEL = numArg('--max-parallel', 64);
const PER_MEMBER = 1000;
const N = 3 * PER_MEMBER;
const DEADLINE_MS = 60000;
const STREAM_EVERY_MS = 20;
/** The sender runs this long before the drain and after it resolves. */
const STREAM_MARGIN_MS = 300;
const emit = emitter('drain', { fields: { host } });

const c = new Cluster(driver, { heartbeatMs: 250, failureTimeoutMs: 1000, syncIntervalMs: 1000 });
try {
  const [a, b] = await c.addMany(['n1', 'n2', 'n3']);
  for (const m of c.alive()) await m.call('quiet', 'all');
  await waitUntil(async () => {
    for (const m of c.alive()) if ((await m.members()).filter((x) => x.status === 'up').length !== 3 || !(await m.call('ready'))) return false;
    return true;
  }, 20000, 'cluster of 3');
  const ids = Array.from({ length: N }, (_, i) => `d-${i}`);
  await a.call('startMany', ids.map((id) => ({ id, kind: 'tally' })));
  const running = async () => { let s = 0; for (const m of c.alive()) s += (await m.call('counts')).running; return s; };
  await waitUntil(async () => (await running()) === N, 60000, 'all running', 50);
  // Each child on its owner among the three (a member that joined late gets its share first).
  const owner = placementOf(['n1', 'n2', 'n3'].map((name) => ({ name, weight: 1, kinds: ['tally'] })));
  await waitUntil(async () => { const p = await c.placements(); return ids.every((id) => p.get(id)?.length === 1 && p.get(id)[0] === owner(id, 'tally')); }, 60000, 'every child on its owner', 100);
  const onB = (await b.call('counts')).running;
  const moving = await b.call('localIds');
  if (moving.length === 0) throw new Error('the member to drain runs nothing');
  await a.call('senderStart', moving, STREAM_EVERY_MS);
  await new Promise((r) => setTimeout(r, STREAM_MARGIN_MS));
  const t0 = performance.now();
  await a.drain('n2', { maxParallel: MAX_PARALLEL, deadlineMs: DEADLINE_MS });
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, STREAM_MARGIN_MS));
  const stream = await a.call('senderStop');
  await waitUntil(async () => (await running()) === N, 20000, 'all running after the drain', 50);
  if ((await b.call('counts')).running !== 0) throw new Error('the drained member still runs children');
  const p = await c.placements();
  if (ids.some((id) => p.get(id)?.length !== 1)) throw new Error('a child does not run exactly once');
  const t = await a.call('tallies', moving);
  const lost = stream.sent - t.taken;
  const extra = { drained: onB, children: N, maxParallel: MAX_PARALLEL, members: 3, state: true, sent: stream.sent, confirmed: stream.ok, errors: stream.errors, gaps: t.gaps, handedOver: t.restored, unanswered: t.missing };
  emit('drain_1k_ms', ms, 'ms', { ...extra, target: 2000 });
  emit('messages_lost', lost, 'messages', extra);
  emit('duplicates', t.dups, 'messages', extra);
} finally {
  await c.close();
}
