// The tab's Supervisor, in a dedicated module Worker: main-thread jank and the page's timer
// throttling do not stall its heartbeats. It imports the kinds module, joins through the
// gateway and answers the page handle's calls (worker-protocol.ts).
import {
  KindRunner, SteadyTime, startWith, webRandomBytes, type CommonOptions, type KindDefinition, type Supervisor,
} from '@trellis/core';
import { GatewayTransport } from './transport-gateway.js';
import { MeshTransport } from './transport-mesh.js';
import { messageChannelYield } from './yield.js';
import { meshSilenceMs, tabTiming } from './defaults.js';
import { webWorkerSpawner } from './spawn-worker.js';
import { callErrorInfo, tuningOf, type PublishResultInfo, type FromWorker, type ToWorker, type WorkerStartOptions } from './worker-protocol.js';

interface WorkerScope { postMessage(m: FromWorker): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null }
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker) => scope.postMessage(m);

const childEntry = new URL('./child-worker.js', import.meta.url);
let sup: Supervisor | undefined;
let meshLinks = () => 0;
let gatewayTransport: () => GatewayTransport | undefined = () => undefined;

/** How often the stall watch notes that the worker is running, as a fraction of the heartbeat. */
const STALL_WATCH_PER_HEARTBEAT = 2;

/**
 * A stall longer than the failure timeout (the machine slept; the thread was blocked) may have
 * got this tab declared dead and its children restarted elsewhere. The first thing that runs
 * after it, the watch's interval or the transport about to send, notices the gap: nothing is
 * sent, the Supervisor is killed with its children, and the page rejoins as a new incarnation.
 */
class StallWatch {
  /** The node's own time (a wall clock stepped back is no stall; a suspend is). */
  private readonly time = new SteadyTime();
  private aliveAt = this.time.now();
  private stalled = false;
  constructor(private readonly failureTimeoutMs: number, everyMs: number, private readonly onStall: (awayMs: number) => void) {
    setInterval(() => { if (this.awake()) this.aliveAt = this.time.now(); }, everyMs);
  }
  awake(): boolean {
    if (this.stalled) return false;
    const awayMs = this.time.now() - this.aliveAt;
    if (awayMs <= this.failureTimeoutMs) return true;
    this.stalled = true;
    this.onStall(awayMs);
    return false;
  }
}

/** Worker kinds name their module relative to the kinds module; workers need absolute URLs. */
function absoluteKinds(kinds: Record<string, KindDefinition>, base: string): Record<string, KindDefinition> {
  const out: Record<string, KindDefinition> = {};
  for (const [k, d] of Object.entries(kinds)) out[k] = 'module' in d ? { ...d, module: new URL(String(d.module), base).href } : d;
  return out;
}

async function boot(o: WorkerStartOptions): Promise<void> {
  const mod = (await import(o.kindsModule)) as { kinds?: Record<string, KindDefinition> };
  if (!mod.kinds || typeof mod.kinds !== 'object') throw new TypeError(`${o.kindsModule} exports no 'kinds' object`);
  const kinds = absoluteKinds(mod.kinds, o.kindsModule);
  const wasmUrl = o.wasmUrl ?? new URL('./release.wasm', import.meta.url).href;
  // Named here, not by start(): the mesh's lock and channel messages carry the name from the first one.
  const name = o.name ?? `tab-${Array.from(webRandomBytes(6), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  const timing = tabTiming(o);
  const options: CommonOptions = {
    // By default the tab joins through the gateway's own member, at the address it advertises
    // (read after the WELCOME: a seed function runs once the transport listens).
    scope: o.scope, name, seeds: o.seeds ?? [() => (transport?.memberAddress ? [transport.memberAddress] : [])], secret: o.secret, credential: o.credential, insecure: o.insecure, kinds,
    ...tuningOf(o),
    ...timing,
  };
  let transport: GatewayTransport | undefined;
  let mesh: MeshTransport | undefined;
  const watch = new StallWatch(timing.failureTimeoutMs, Math.max(1, Math.floor(timing.heartbeatMs / STALL_WATCH_PER_HEARTBEAT)), (awayMs) => {
    void sup?.kill();
    post({ t: 'gap', awayMs });
  });
  const s = await startWith(options, {
    transport: () => {
      transport = new GatewayTransport(o.gateway, o.auth, o.name, (code, reason) => post({ t: 'gateway_closed', code, reason }), () => watch.awake());
      return o.mesh === false ? transport : (mesh = new MeshTransport(transport, o.scope, name, undefined, () => watch.awake(), meshSilenceMs(o, timing)));
    },
    runner: (name, k, emitChildEvent) => new KindRunner(name, k, emitChildEvent, { worker: webWorkerSpawner(childEntry) }),
    randomBytes: webRandomBytes,
    wasm: async () => WebAssembly.compile(await (await fetch(wasmUrl)).arrayBuffer()),
    defaultName: () => name,
    yieldTask: messageChannelYield(),
  });
  sup = s;
  meshLinks = () => mesh?.meshLinks() ?? 0;
  gatewayTransport = () => transport;
  s.on('event', (event) => post({ t: 'event', event }));
  post({ t: 'ready', name: s.name, address: s.address ?? '' });
}

async function call(method: string, args: unknown[]): Promise<unknown> {
  if (!sup) throw new Error('not started');
  switch (method) {
    case 'startChild': return sup.startChild(args[0] as never, args[1] as never);
    case 'terminateChild': return sup.terminateChild(args[0] as string, args[1] as never);
    case 'whichChildren': return sup.whichChildren(args[0] as 'local');
    case 'members': return sup.members();
    case 'stats': return sup.stats();
    case 'stop': return sup.stop(args[0] as never);
    case 'kill': return sup.kill();
    case 'renewCredential':
      sup.renewCredential(args[0] as string);
      gatewayTransport()?.credentialRenewed(args[0] as string);
      return undefined;
    case 'meshLinks': return meshLinks();
    case 'send': return sup.send(args[0] as string, args[1]);
    case 'call': return sup.call(args[0] as string, args[1], args[2] as never);
    case 'publish': return sup.publish(args[0] as string, args[1]).then((r): PublishResultInfo => ({ sent: r.sent, failed: r.failed.map((f) => ({ id: f.id, error: callErrorInfo(f.error) })) }));
    case 'cordon': return sup.cordon(args[0] as string, args[1] as never);
    case 'uncordon': return sup.uncordon(args[0] as string, args[1] as never);
    case 'drain': return sup.drain(args[0] as string, args[1] as never);
    case 'setWeight': return sup.setWeight(args[0] as number);
    case 'digest': return sup.digest();
    case 'rejectedFrames': return sup.rejectedFrames();
    case 'ready': return sup.ready;
    default: throw new TypeError(`unknown method ${method}`);
  }
}

scope.onmessage = (e) => {
  const m = e.data;
  if (m.t === 'start') {
    boot(m.options).catch((err) => post({ t: 'failed', error: callErrorInfo(err) }));
    return;
  }
  call(m.method, m.args).then(
    (value) => post({ t: 'result', id: m.id, ok: true, value: value ?? null }),
    (err) => post({ t: 'result', id: m.id, ok: false, error: callErrorInfo(err) }),
  );
};
