// Messaging benchmark (npm run bench -- messaging [--host node|bun]): two real member processes
// on loopback, one inline child (the fixtures' 'mailbox'). Calls are timed one after the other
// inside the calling member (local: the member that runs the child; remote: the other one);
// sends keep at most CAST_WINDOW unconfirmed (within the default messageBufferMax of 10,000) and are
// timed until every one was confirmed delivered. A publish goes to PUBLISH_CHILDREN children of one
// group spread over both members, timed inside the publishing member from the call until every
// copy was confirmed delivered. Prints one JSON object per line.
import { Cluster, nodeDriver, bunDriver } from '../dist/drivers/cluster.js';
import { waitUntil } from '../dist/drivers/process-member.js';
import { host, emitter } from './args.mjs';

const driver = host === 'bun' ? bunDriver : nodeDriver;
const CALLS = Number(process.env.TRELLIS_BENCH_CALLS ?? 20000);
const CASTS = Number(process.env.TRELLIS_BENCH_CASTS ?? 500000);
const CAST_WINDOW = 8000;
const WARMUP_CALLS = 2000;
const PUBLISH_CHILDREN = 1000;
const PUBLISHES = Number(process.env.TRELLIS_BENCH_PUBLISHES ?? 50);
const emit = emitter('messaging', { fields: { host } });
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const c = new Cluster(driver, { failureTimeoutMs: 1000, heartbeatMs: 250 });
try {
  const [a, b] = await c.addMany(['a', 'b']);
  await waitUntil(async () => (await a.members()).length === 2 && (await b.members()).length === 2 && (await a.call('ready')) && (await b.call('ready')), 15000, 'two members');
  await a.call('quiet', 'all');
  await b.call('quiet', 'all');
  await a.startChild({ id: 'sink', kind: 'mailbox', args: {} }, { wait: 'running' });
  const [local, remote] = (await a.call('localIds')).includes('sink') ? [a, b] : [b, a];

  await local.call('benchCalls', 'sink', WARMUP_CALLS);
  const l = await local.call('benchCalls', 'sink', CALLS);
  emit('call_local_p50_us', pct(l, 50), 'us', { calls: CALLS });
  emit('call_local_p99_us', pct(l, 99), 'us', { calls: CALLS });

  await remote.call('benchCalls', 'sink', WARMUP_CALLS);
  const r = await remote.call('benchCalls', 'sink', CALLS);
  emit('call_remote_p50_us', pct(r, 50), 'us', { calls: CALLS });
  emit('call_remote_p99_us', pct(r, 99), 'us', { calls: CALLS });

  const cl = await local.call('benchCasts', 'sink', CASTS, CAST_WINDOW);
  emit('cast_local_per_s', CASTS / (cl.ms / 1000), '1/s', { sends: CASTS, window: CAST_WINDOW });
  const cpu0 = await Promise.all([remote.cpu(), local.cpu()]);
  const f0 = await remote.call('frames');
  const cr = await remote.call('benchCasts', 'sink', CASTS, CAST_WINDOW);
  const cpu1 = await Promise.all([remote.cpu(), local.cpu()]);
  const f1 = await remote.call('frames');
  emit('cast_remote_per_s', CASTS / (cr.ms / 1000), '1/s', { sends: CASTS, window: CAST_WINDOW, framesOut: f1.out - f0.out, framesIn: f1.in - f0.in });
  // CPU time per message on each side (user + system), which the machine's load does not change:
  // a member with a core of its own would carry about 1e6 / the larger of the two per second.
  const used = (i) => (cpu1[i].user + cpu1[i].system - cpu0[i].user - cpu0[i].system) / CASTS;
  emit('cast_remote_sender_cpu_us', used(0), 'us');
  emit('cast_remote_receiver_cpu_us', used(1), 'us');

  const members = Array.from({ length: PUBLISH_CHILDREN }, (_, i) => ({ id: `pub-${i}`, kind: 'mailbox', args: {}, groups: ['bench'] }));
  await a.call('startMany', members);
  const running = async () => (await a.call('counts')).running + (await b.call('counts')).running;
  await waitUntil(async () => (await running()) === PUBLISH_CHILDREN + 1, 30000, `${PUBLISH_CHILDREN} children in the group running`);
  await a.call('benchPublish', 'bench', 5);
  const p = await a.call('benchPublish', 'bench', PUBLISHES);
  if (p.sent !== PUBLISH_CHILDREN || p.failed !== 0) throw new Error(`publish reached ${p.sent} children, ${p.failed} failed`);
  emit('publish_1k_children_ms', pct(p.ms, 50), 'ms', { children: PUBLISH_CHILDREN, publishes: PUBLISHES, p99: Math.round(pct(p.ms, 99) * 100) / 100 });
} finally {
  await c.close();
}
