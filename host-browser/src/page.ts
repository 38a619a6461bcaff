// start() in the page: the Supervisor runs in a dedicated module Worker (supervisor-worker.js);
// the handle returned here forwards calls to it and its events back. Calls are asynchronous,
// since the Supervisor lives in another thread.
import { decodeCredentialToken } from '@trellis/core';
import type { ChildSpec, CordonOptions, DrainOptions, ErrorInfo, GlobalChildView, LocalChildView, MemberView, NodeInfo, StartOptions, TabAuth, TerminateOptions, TrellisEvent } from '@trellis/core';
import { tuningOf, type CallErrorInfo, type CallMethod, type PublishResultInfo, type FromWorker, type TabTuning, type WorkerStartOptions } from './worker-protocol.js';

export interface BrowserStartOptions extends TabTuning {
  scope: string;
  name?: string;
  /** The gateway's WebSocket URL, e.g. ws://127.0.0.1:4000/trellis/browser. */
  gateway: string;
  /** The cluster's secret, if it has one (phase 1: tabs of a cluster with a secret hold it). */
  secret?: string;
  /**
   * A credential minted for this tab by the application's server (`mintCredential`): the tab
   * joins under its name and kinds until it expires, and the page never holds the secret.
   */
  credential?: string;
  /**
   * With `credential`: fetches a fresh credential for the same name and kinds (the application's
   * route again). Called when half of the current credential's life is left; the tab renews
   * without closing a link or moving a child (docs/SECURITY.md "Renewal"). Without it, the
   * credential's expiry ends the tab's membership.
   */
  renewCredential?: () => Promise<string>;
  /** A cluster without a secret: anyone who can connect can join (start() needs this said). */
  insecure?: boolean;
  /** Members to join through; default: the gateway's own member (the address it advertises, from the gateway's WELCOME). */
  seeds?: string[];
  /** URL of a module exporting `kinds` (inline kinds run in the Supervisor's worker, so they are imported there). */
  kinds: string | URL;
  /** Where the core's release.wasm is served (default: next to the bundle). */
  wasmUrl?: string | URL;
  /**
   * Follow the page's lifecycle (default true): `pagehide` and `freeze` leave gracefully (the
   * children move at once); `resume` and a `pageshow` from the back/forward cache rejoin as a new
   * incarnation, after the old Supervisor and its children are stopped.
   */
  lifecycle?: boolean;
  /**
   * Link this tab with other tabs of this origin and scope over a BroadcastChannel rather than
   * through the gateway, and take such a tab as down the moment its Web Lock is released
   * (default true).
   */
  mesh?: boolean;
  /**
   * How long another tab of this origin may be silent on the mesh before this tab takes it for
   * dead: the bound for a tab that is alive but hung, since a closed, crashed or navigated tab is
   * seen at once by its lock. Default: `failureTimeoutMs` if set, else 60,000 (src/defaults.ts).
   */
  meshSilenceMs?: number;
}

/** What the page's lifecycle did to the tab's membership (`onLifecycle`). */
export type TabLifecycleEvent =
  | { type: 'tab_left'; cause: 'pagehide' | 'freeze' }
  | { type: 'tab_rejoined'; cause: RejoinCause; name: string; address: string; awayMs: number }
  | { type: 'tab_rejoin_failed'; cause: RejoinCause; error: ErrorInfo }
  /** The credential was renewed (`expiresAtMs`: the new expiry), or a renewal failed (it is retried until the expiry). */
  | { type: 'credential_renewed'; expiresAtMs: number }
  | { type: 'credential_renew_failed'; error: ErrorInfo };

/** `stall`: the Supervisor's worker stalled past the failure timeout with no resume event (supervisor-worker.ts). */
type RejoinCause = 'resume' | 'pageshow' | 'stall';

/** A call the Supervisor in the worker refused, with the error's own name (e.g. NotFoundError). */
export class SupervisorCallError extends Error {
  /** The typed fields of the Supervisor's error, when it had them (e.g. 'not_found'; the spec field; the option). */
  readonly code: string | undefined;
  readonly field: string | undefined;
  readonly option: string | undefined;
  /** A ChildStoppedError's: why the instance that took the call ended, and that it was delivered. */
  readonly reason: string | undefined;
  readonly delivered: boolean | undefined;
  constructor(info: CallErrorInfo) {
    super(info.message);
    this.name = info.name;
    this.code = info.code;
    this.field = info.field;
    this.option = info.option;
    this.reason = info.reason;
    this.delivered = info.delivered;
  }
}

type Listener = (e: TrellisEvent) => void;

export class BrowserSupervisor {
  private nextCall = 1;
  private readonly calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly listeners = new Set<Listener>();
  private readonly closedListeners = new Set<(code: number, reason: string) => void>();
  private readonly lifecycleListeners = new Set<(e: TabLifecycleEvent) => void>();
  /** Internal: what the lifecycle does when the worker reports a stall (its Supervisor already ended). */
  onStall: ((awayMs: number) => void) | undefined;
  name = '';
  address = '';

  constructor(private worker: Worker) {}

  /** Internal: the Supervisor now runs in `worker` (a rejoin); calls to the old one fail. */
  replaceWorker(worker: Worker): void {
    this.worker.terminate();
    this.worker = worker;
    for (const [id, c] of this.calls) { this.calls.delete(id); c.reject(new SupervisorCallError({ name: 'NotRunningError', message: 'the tab rejoined as a new incarnation' })); }
  }

  /** Internal: tells the lifecycle listeners. */
  lifecycle(e: TabLifecycleEvent): void { for (const fn of this.lifecycleListeners) { try { fn(e); } catch { /* a listener's bug */ } } }

  /** Called when the page's lifecycle makes the tab leave or rejoin. */
  onLifecycle(fn: (e: TabLifecycleEvent) => void): () => void {
    this.lifecycleListeners.add(fn);
    return () => this.lifecycleListeners.delete(fn);
  }

  /** Internal: a message from the worker after it is ready. */
  receive(m: FromWorker): void {
    if (m.t === 'event') { for (const fn of this.listeners) { try { fn(m.event); } catch { /* a listener's bug */ } } return; }
    if (m.t === 'gateway_closed') { for (const fn of this.closedListeners) fn(m.code, m.reason); return; }
    if (m.t === 'gap') { this.onStall?.(m.awayMs); return; }
    if (m.t !== 'result') return;
    const c = this.calls.get(m.id);
    if (!c) return;
    this.calls.delete(m.id);
    if (m.ok) c.resolve(m.value);
    else c.reject(new SupervisorCallError(m.error));
  }

  private invoke<T>(method: CallMethod, ...args: unknown[]): Promise<T> {
    const id = this.nextCall++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ t: 'call', id, method, args });
    });
  }

  on(_type: 'event', fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called when the gateway socket closes (the tab is cut off from the cluster). */
  onGatewayClosed(fn: (code: number, reason: string) => void): void { this.closedListeners.add(fn); }

  startChild(spec: ChildSpec, options: StartOptions = {}): Promise<void> { return this.invoke('startChild', spec, options); }
  terminateChild(id: string, options: TerminateOptions = {}): Promise<void> { return this.invoke('terminateChild', id, options); }
  whichChildren(scope: 'local'): Promise<LocalChildView[]>;
  whichChildren(scope: 'global'): Promise<GlobalChildView[]>;
  whichChildren(scope: 'local' | 'global'): Promise<LocalChildView[] | GlobalChildView[]> { return this.invoke('whichChildren', scope); }
  members(): Promise<MemberView[]> { return this.invoke('members'); }
  stats(): Promise<NodeInfo> { return this.invoke('stats'); }
  /** sup.send in the worker: resolves once a running instance of the child took the message. */
  send(id: string, msg: unknown): Promise<void> { return this.invoke('send', id, msg); }
  /** sup.call in the worker: the child's answer (default timeout 5 s). */
  call(id: string, msg: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> { return this.invoke('call', id, msg, options); }
  /**
   * sup.publish in the worker: the message to every child in `group`, as a send to each; `sent`
   * children were in the group, `failed` did not take it (each with its typed error).
   */
  async publish(group: string, msg: unknown): Promise<{ sent: number; failed: { id: string; error: SupervisorCallError }[] }> {
    const r = await this.invoke<PublishResultInfo>('publish', group, msg);
    return { sent: r.sent, failed: r.failed.map((f) => ({ id: f.id, error: new SupervisorCallError(f.error) })) };
  }
  /** Replaces the tab's credential with a later one for the same name and kinds (renewCredential does it on a schedule). */
  renewCredential(token: string): Promise<void> { return this.invoke('renewCredential', token); }
  cordon(member: string, options: CordonOptions = {}): Promise<void> { return this.invoke('cordon', member, options); }
  uncordon(member: string, options: CordonOptions = {}): Promise<void> { return this.invoke('uncordon', member, options); }
  drain(member: string, options: DrainOptions = {}): Promise<void> { return this.invoke('drain', member, options); }
  setWeight(weight: number): Promise<void> { return this.invoke('setWeight', weight); }
  /** The digest of the replicated state (equal on members that agree). */
  digest(): Promise<string> { return this.invoke('digest'); }
  /** Frames refused by this tab's core, by reason. */
  rejectedFrames(): Promise<Record<string, number>> { return this.invoke('rejectedFrames'); }
  /** Whether the Supervisor is ready (it has the cluster's state and may start children). */
  isReady(): Promise<boolean> { return this.invoke('ready'); }
  /** Links to other tabs of this origin over the BroadcastChannel that are open now. */
  meshLinks(): Promise<number> { return this.invoke('meshLinks'); }

  /** Graceful leave (children handed over), then the worker ends. */
  async stop(options: { timeoutMs?: number; handoverWaitMs?: number } = {}): Promise<void> {
    try { await this.invoke('stop', options); } finally { this.worker.terminate(); }
  }

  /** Graceful leave (children handed over) without ending the worker: the lifecycle's leave, before a rejoin replaces it. */
  leave(options: { timeoutMs?: number; handoverWaitMs?: number } = {}): Promise<void> { return this.invoke('stop', options); }

  /** Ends at once without handover: peers detect the loss. */
  kill(): void { this.worker.terminate(); }
}

/** Where the bundles are: this module's own directory (supervisor-worker.js sits beside it). */
const workerUrl = new URL('./supervisor-worker.js', import.meta.url);

/** Starts this tab as a member: resolves once it has joined through the gateway. */
export function start(options: BrowserStartOptions): Promise<BrowserSupervisor> {
  const gw = new URL(options.gateway);
  const auth: TabAuth = options.credential !== undefined ? { mode: 'credential', token: options.credential }
    : options.secret === undefined ? { mode: 'insecure' } : { mode: 'secret', secret: options.secret };
  // A credential tab's HELLO names the member it will be, which the gateway holds to the credential's.
  const name = options.name ?? (options.credential === undefined ? undefined : decodeCredentialToken(options.credential)?.name);
  const o: WorkerStartOptions = {
    scope: options.scope, name, gateway: gw.href, auth, secret: options.secret, credential: options.credential, insecure: options.insecure,
    seeds: options.seeds,
    kindsModule: new URL(String(options.kinds), location.href).href,
    ...tuningOf(options),
    wasmUrl: options.wasmUrl === undefined ? undefined : new URL(String(options.wasmUrl), location.href).href,
    mesh: options.mesh,
    meshSilenceMs: options.meshSilenceMs,
  };
  return bootWorker(o, undefined).then((handle) => {
    if (options.lifecycle !== false) followLifecycle(handle, o);
    if (options.credential !== undefined && options.renewCredential) keepRenewing(handle, o, options.renewCredential);
    return handle;
  });
}

/** Renew when this fraction of the credential's remaining life has passed. */
const RENEW_AT_FRACTION = 0.5;
/** After a failed renewal, retry after this fraction of what is left (and at least RENEW_RETRY_MIN_MS). */
const RENEW_RETRY_FRACTION = 0.25;
const RENEW_RETRY_MIN_MS = 50;

/**
 * Renews the credential before it expires: fetches a fresh token, hands it to the Supervisor,
 * and keeps it in `o` so a rejoin presents the latest one. A failure is retried until the expiry
 * (then the cluster closes the tab out, as without renewal).
 */
function keepRenewing(handle: BrowserSupervisor, o: WorkerStartOptions, fetchToken: () => Promise<string>): void {
  const expiry = () => decodeCredentialToken(o.credential ?? '')?.expiresAtMs ?? 0;
  const later = (fraction: number, minMs: number) => Math.max(minMs, (expiry() - Date.now()) * fraction);
  const renew = async () => {
    try {
      const token = await fetchToken();
      await handle.renewCredential(token);
      o.credential = token;
      o.auth = { mode: 'credential', token };
      handle.lifecycle({ type: 'credential_renewed', expiresAtMs: expiry() });
      setTimeout(renew, later(RENEW_AT_FRACTION, 0));
    } catch (e) {
      const err = e as Error;
      handle.lifecycle({ type: 'credential_renew_failed', error: { name: err.name, message: err.message } });
      if (expiry() > Date.now()) setTimeout(renew, later(RENEW_RETRY_FRACTION, RENEW_RETRY_MIN_MS));
    }
  };
  setTimeout(renew, later(RENEW_AT_FRACTION, 0));
}

/** Starts a Supervisor worker with `o`, into `handle` (a rejoin) or a new handle. */
function bootWorker(o: WorkerStartOptions, handle: BrowserSupervisor | undefined): Promise<BrowserSupervisor> {
  const worker = new Worker(workerUrl, { type: 'module' });
  const h = handle ?? new BrowserSupervisor(worker);
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.t === 'ready') {
        if (handle) handle.replaceWorker(worker);
        h.name = m.name; h.address = m.address;
        resolve(h);
        return;
      }
      if (m.t === 'failed') { worker.terminate(); reject(new SupervisorCallError(m.error)); return; }
      h.receive(m);
    };
    worker.onerror = (e) => { e.preventDefault(); worker.terminate(); reject(new Error(`supervisor worker failed: ${e.message}`)); };
    worker.postMessage({ t: 'start', options: o });
  });
}

/**
 * pagehide/freeze: a graceful leave, so the children move at once rather than after the failure
 * timeout. resume/pageshow: whatever the old Supervisor did while the page was away (it may have
 * been declared dead, or left), it is ended with its children before a new incarnation links:
 * two incarnations never run the same children.
 */
function followLifecycle(handle: BrowserSupervisor, o: WorkerStartOptions): void {
  let awaySince: number | undefined;
  let rejoining = false;
  const leave = (cause: 'pagehide' | 'freeze') => {
    if (awaySince !== undefined) return;
    awaySince = Date.now();
    // A page being torn down has no time for a round trip: the BYE waits for no member's ACK.
    void handle.leave({ handoverWaitMs: 0 }).catch(() => undefined);
    handle.lifecycle({ type: 'tab_left', cause });
  };
  const rejoin = (cause: RejoinCause, stalledMs?: number) => {
    if ((awaySince === undefined && stalledMs === undefined) || rejoining) return;
    const awayMs = stalledMs ?? Date.now() - (awaySince ?? Date.now());
    rejoining = true;
    handle.kill();
    bootWorker(o, handle).then(
      (h) => { awaySince = undefined; h.lifecycle({ type: 'tab_rejoined', cause, name: h.name, address: h.address, awayMs }); },
      (err: Error) => handle.lifecycle({ type: 'tab_rejoin_failed', cause, error: { name: err.name, message: err.message } }),
    ).finally(() => { rejoining = false; });
  };
  handle.onStall = (awayMs) => rejoin('stall', awayMs);
  addEventListener('pagehide', () => leave('pagehide'));
  document.addEventListener('freeze', () => leave('freeze'));
  document.addEventListener('resume', () => rejoin('resume'));
  addEventListener('pageshow', (e) => { if (e.persisted) rejoin('pageshow'); });
}
