// One cluster member in its own OS process, controlled over stdio with JSON lines.
// Runs under Node or Bun: `node member.js <host> '<options json>'` (host = node | bun).
//   stdin : {"id":1,"op":"startChild","args":[spec, opts]}
//   stdout: {"type":"ready",...} | {"type":"event","event":...,"t":ms} | {"type":"reply","id":1,"ok":true,"result":...}
import { createInterface } from 'node:readline';
import { ViewWait, upMembersKey, viewHolds, type ViewMemberRow } from './view-wait.js';

interface Command { id: number; op: string; args: unknown[] }

const [host, optsJson] = process.argv.slice(2);
/** Events of a local child that begins or ends a transition, besides child_started (awaitView). */
const CHILD_CHANGES = new Set(['child_exited', 'child_stopping', 'child_restarting', 'child_failed', 'child_unresponsive']);
// Lines are batched into one write per turn of the event loop: stdout to a pipe is synchronous
// on Linux, and a write per child event would make the member wait on its controller.
let outBuf: string[] = [];
const flushOut = () => { const s = outBuf.join(''); outBuf = []; if (s) process.stdout.write(s); };
const bigintAsString = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
/** JSON without a replacer where it can (a replacer is called for every key: thousands of child events in a takeover), with it for bigints. */
const toJson = (m: unknown): string => { try { return JSON.stringify(m); } catch { return JSON.stringify(m, bigintAsString); } };
const send = (m: unknown) => {
  if (outBuf.length === 0) setImmediate(flushOut);
  outBuf.push(toJson(m) + '\n');
};

async function main(): Promise<void> {
  const mod = await import(`@trellis/${host}`);
  // Driver-only options: the module the member's kinds come from, and `kindNames` to run a
  // subset of them (a credential allows only some).
  const { kindsModule, kindNames, ...opts } = JSON.parse(optsJson);
  const { kinds } = await import(kindsModule ?? new URL('../../fixtures/kinds.mjs', import.meta.url).href);
  const own = kindNames ? Object.fromEntries(Object.entries(kinds).filter(([k]) => kindNames.includes(k))) : kinds;
  // Imported before start(): the member's first events come on the turn after it.
  const { streamOps } = await import(new URL('../../fixtures/stream-ops.mjs', import.meta.url).href);
  const sup = await mod.start({ ...opts, kinds: own });
  // `quiet` drops per-child events (benchmarks with 100k children) but keeps lifecycle reports
  // (members up and down, and the dials that find a killed member gone).
  let quiet: boolean | 'all' = false;
  // awaitView's wait (view-wait.ts), told of the member's child and member events. They come out
  // of a core step's effects; the look is the microtask after that step's effects were carried
  // out (the child starts and stops it asked for). `before`: the last look at which it did not
  // hold yet (its time, running, in transition), for the diagnosis of a late end.
  let viewWait: { wait: ViewWait; answer: (r: unknown) => void; timer: ReturnType<typeof setTimeout>; before: number[] | null } | undefined;
  let viewLookQueued = false;
  let sender: { stop: boolean; sent: number; ok: number; errors: Record<string, number>; all: Promise<void>[]; done: Promise<void> } | undefined;
  sup.on('event', (event: { type: string }) => {
    if (viewWait) viewEvent(event as { type: string; id?: string });
    if (quiet && event.type !== 'member_up' && event.type !== 'member_down' && event.type !== 'dialing' && (quiet === 'all' || event.type !== 'child_event')) return;
    // The shared clock (fixtures/shared-clock.mjs): compared with the children's and other members' times.
    send({ type: 'event', event, t: Date.now() });
  });
  // Loop and step statistics for the benchmarks' diagnosis: the longest core step and the longest
  // gap between two 20 ms loop probes (how long I/O, heartbeats included, waited at worst).
  const diag = { stepMaxMs: 0, stepsOver50: 0, lagMaxMs: 0, lagsOver250: 0 };
  sup.onStepSeconds = (s: number) => { const ms = s * 1000; if (ms > diag.stepMaxMs) diag.stepMaxMs = ms; if (ms > 50) diag.stepsOver50++; };
  function viewEvent(e: { type: string; id?: string }): void {
    const w = viewWait!.wait;
    if (e.type === 'child_started') w.started(e.id!);
    else if (CHILD_CHANGES.has(e.type)) w.left(e.id!);
    else if (!e.type.startsWith('member_')) return;
    if (!viewLookQueued) { viewLookQueued = true; queueMicrotask(lookAtView); }
  }
  let probe = performance.now();
  setInterval(() => { const now = performance.now(); const lag = now - probe - 20; probe = now; if (lag > diag.lagMaxMs) diag.lagMaxMs = lag; if (lag > 250) diag.lagsOver250++; }, 20).unref();
  send({ type: 'ready', name: sup.name, address: sup.address, bound: sup.boundAddress, pid: process.pid });
  const runningIds = () => sup.whichChildren('local').filter((x: { status: string }) => x.status === 'running').map((x: { id: string }) => x.id);
  const pollAnswer = (expect: number) => {
    const i = sup.stats();
    const counts = { running: i.running, busy: i.transitioning, desired: i.desired };
    return { counts, members: sup.members(), ids: viewHolds(i.running, i.transitioning, expect) ? runningIds() : null };
  };
  const upKey = () => upMembersKey(sup.members() as ViewMemberRow[]);
  function lookAtView(): void {
    viewLookQueued = false;
    const w = viewWait;
    if (!w) return;
    if (w.wait.since !== undefined) { w.wait.membersLook(upKey); return; }
    if (!w.wait.mayHold) return;
    const i = sup.stats();
    const now = Date.now();
    if (w.wait.observe(i.running, i.transitioning, upKey, now)) {
      clearTimeout(w.timer);
      w.answer({ ...pollAnswer(w.wait.share), at: w.wait.since, before: w.before });
    } else if (w.wait.since === undefined) w.before = [now, i.running, i.transitioning];
  }
  const ops: Record<string, (...a: never[]) => unknown> = {
    startChild: (spec: unknown, o: unknown) => sup.startChild(spec, o),
    terminateChild: (id: string, o: unknown) => sup.terminateChild(id, o),
    whichChildren: (scope: 'local' | 'global') => sup.whichChildren(scope),
    members: () => sup.members(),
    cordon: (member: string, o: unknown) => sup.cordon(member, o),
    uncordon: (member: string, o: unknown) => sup.uncordon(member, o),
    drain: (member: string, o: unknown) => sup.drain(member, o),
    setWeight: (w: number) => sup.setWeight(w),
    digest: () => sup.digest(),
    rejectedFrames: () => sup.rejectedFrames(),
    tlsFailures: () => sup.tlsFailures(),
    mintCredential: (o: unknown) => sup.mintCredential(o),
    ready: () => sup.ready,
    runtime: () => (typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined' ? 'bun' : 'node'),
    memory: () => process.memoryUsage().rss,
    // Benchmark helpers: bulk start, cheap counts, a timed global view.
    startMany: async (specs: unknown[]) => { await Promise.all(specs.map((x) => sup.startChild(x))); return specs.length; },
    counts: () => { const i = sup.stats(); return { running: i.running, busy: i.transitioning, desired: i.desired }; },
    // The quorum lease: held, and (partition 'majority') the names the roster counts.
    lease: () => { const i = sup.stats(); return { quorum: i.quorum, roster: i.roster }; },
    localIds: () => runningIds(),
    // A bench poll in one answer (cluster-steps.mjs): counts, members, and the running ids when
    // this member runs `expect` children and none is starting or stopping (else null: not there yet).
    pollView: (expect: number) => pollAnswer(expect),
    // The same answer, given by the member as soon as its view meets pollView's condition for
    // `expect` (`at`: its Date.now() then), or at `deadlineMs` with `at: null`. It keeps watching
    // until viewHeld, which says whether the condition and the up members held ever since.
    awaitView: (expect: number, deadlineMs: number) => new Promise((resolve) => {
      if (viewWait) { clearTimeout(viewWait.timer); viewWait.answer({ ...pollAnswer(viewWait.wait.share), at: null }); }
      const w = { wait: new ViewWait(expect, runningIds()), answer: resolve, timer: setTimeout(() => resolve({ ...pollAnswer(expect), at: null }), deadlineMs), before: null };
      viewWait = w;
      lookAtView();
    }),
    viewHeld: () => {
      const w = viewWait;
      viewWait = undefined;
      if (!w || w.wait.since === undefined) return false;
      clearTimeout(w.timer);
      // One last look now, as the steps since the last one may not have been looked at yet.
      const i = sup.stats();
      w.wait.observe(i.running, i.transitioning, upKey, Date.now());
      return w.wait.held;
    },
    timeGlobal: () => { const t = performance.now(); const n = sup.whichChildren('global').length; return { ms: performance.now() - t, n }; },
    quiet: (on: boolean | 'all') => { quiet = on; },
    exitNow: () => { setTimeout(() => { flushOut(); process.exit(0); }, 10); },
    diag: (reset: boolean) => { const d = { ...diag }; if (reset) Object.assign(diag, { stepMaxMs: 0, stepsOver50: 0, lagMaxMs: 0, lagsOver250: 0 }); return d; },
    // Messages to children: one send or call; publish and the steady senders `stream` and
    // `publishStream` are fixtures/stream-ops.mjs, shared with the tab member.
    ...streamOps(sup),
    send: (id: string, msg: unknown) => sup.send(id, msg),
    call: (id: string, msg: unknown, o: unknown) => sup.call(id, msg, o),
    // A steady sender until senderStop: every `everyMs`, one message { s, q } to each id (q counts
    // rounds from 1); senderStop waits for every outcome and says how many were sent, confirmed, failed.
    senderStart: (ids: string[], everyMs: number) => {
      if (sender) throw new Error('a sender runs already');
      const st = { stop: false, sent: 0, ok: 0, errors: {} as Record<string, number>, all: [] as Promise<void>[], done: Promise.resolve() };
      sender = st;
      st.done = (async () => {
        for (let q = 1; !st.stop; q++) {
          for (const id of ids) {
            st.sent++;
            st.all.push(sup.send(id, { s: sup.name, q }).then(() => { st.ok++; }, (e: Error) => { st.errors[e.name] = (st.errors[e.name] ?? 0) + 1; }));
          }
          await new Promise((r) => setTimeout(r, everyMs));
        }
        await Promise.all(st.all);
      })();
      return ids.length;
    },
    senderStop: async () => {
      const st = sender;
      if (!st) throw new Error('no sender runs');
      st.stop = true;
      await st.done;
      sender = undefined;
      return { sent: st.sent, ok: st.ok, errors: st.errors };
    },
    // Asks each id (a 'tally' child) for its counts, and sums them.
    tallies: async (ids: string[]) => {
      const sum = { taken: 0, dups: 0, gaps: 0, restored: 0, missing: 0 };
      await Promise.all(ids.map(async (id) => {
        const t = await sup.call(id, { op: 'tally' }).catch(() => undefined) as { taken: number; dups: number; gaps: number; restored: string | null } | undefined;
        if (!t) { sum.missing++; return; }
        sum.taken += t.taken; sum.dups += t.dups; sum.gaps += t.gaps; if (t.restored === 'handoff') sum.restored++;
      }));
      return sum;
    },
    // Benchmarks: `n` calls one after the other (latencies in µs, sorted), and `n` sends with at
    // most `window` unconfirmed at a time, timed until every one was confirmed delivered.
    benchCalls: async (id: string, n: number) => {
      const us: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await sup.call(id, { op: 'echo', v: i });
        us.push((performance.now() - t) * 1000);
      }
      return us.sort((x, y) => x - y);
    },
    benchCasts: (id: string, n: number, window: number) => new Promise((resolve, reject) => {
      const t = performance.now();
      let sent = 0;
      let done = 0;
      const one = (): void => {
        sent++;
        sup.send(id, sent).then(() => {
          if (++done === n) resolve({ ms: performance.now() - t });
          else if (sent < n) one();
        }, reject);
      };
      for (let i = 0; i < window && i < n; i++) one();
    }),
    // `n` publishes one after the other, each timed from the call until every copy was settled (ms, sorted).
    benchPublish: async (group: string, n: number) => {
      const ms: number[] = [];
      let sent = 0;
      let failed = 0;
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const r = await sup.publish(group, { op: 'bench', i });
        ms.push(performance.now() - t);
        sent = r.sent;
        failed += r.failed.length;
      }
      return { ms: ms.sort((x, y) => x - y), sent, failed };
    },
    cpu: () => process.cpuUsage(),
    // Frames this member's links carried so far (a benchmark reports frames per message).
    frames: () => ({ ...(sup as unknown as { frameCounts: { in: number; out: number } }).frameCounts }),
    stop: async () => { await sup.stop(); setTimeout(() => { flushOut(); process.exit(0); }, 10); },
  };
  const rl = createInterface({ input: process.stdin });
  // The controlling process went away: do not linger as an orphan.
  rl.on('close', () => process.exit(0));
  rl.on('line', async (line) => {
    let cmd: Command;
    try { cmd = JSON.parse(line); } catch { return; }
    try {
      const fn = ops[cmd.op];
      if (!fn) throw new Error(`unknown op ${cmd.op}`);
      const result = await (fn as (...a: unknown[]) => unknown)(...cmd.args);
      send({ type: 'reply', id: cmd.id, ok: true, result });
    } catch (e) {
      const err = e as Record<string, unknown>;
      send({ type: 'reply', id: cmd.id, ok: false, error: { name: err.name, code: err.code, field: err.field, option: err.option, message: err.message, reason: err.reason, delivered: err.delivered } });
    }
  });
  const bye = async () => { await sup.stop(); flushOut(); process.exit(0); };
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
}

main().catch((e) => {
  send({ type: 'fatal', error: { name: e?.name, code: e?.code, option: e?.option, field: e?.field, message: e?.message } });
  flushOut();
  process.exit(2);
});
