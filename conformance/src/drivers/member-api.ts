// What a conformance scenario talks to: one cluster member, wherever it runs (an OS process of
// Node or Bun, a Chromium tab). ProcessMember and TabMember implement it; the scenarios and the
// Cluster see only this.

export type Host = 'node' | 'bun' | 'browser';
export type Isolation = 'inline' | 'worker' | 'process';

/** Which isolations a host's members run children in: tabs have no processes to spawn. */
export function isolationsOf(host: Host): readonly Isolation[] {
  return host === 'browser' ? ['inline', 'worker'] : ['inline', 'worker', 'process'];
}

export interface MemberOptions {
  name: string;
  scope?: string;
  seeds?: string[];
  secret?: string;
  /** A credential token (instead of a secret). */
  credential?: string;
  /** Run only these of the fixture kinds (default: all). */
  kindNames?: string[];
  heartbeatMs?: number;
  failureTimeoutMs?: number;
  syncIntervalMs?: number;
  partition?: 'available' | 'majority' | { quorum: number };
  weight?: number;
  children?: unknown[];
  /** Listen port (default 0 = OS chooses). */
  port?: number;
  /** Extra, possibly invalid, options passed through verbatim (option validation tests). */
  extra?: Record<string, unknown>;
  /**
   * Address the member gossips instead of the one it binds (the chaos harness puts a fault
   * proxy there). The hosts have no such option yet, so the member script wraps the host
   * transport's listen(); `boundAddress` is where it really listens.
   */
  advertise?: string;
  /** Module (file URL) whose `kinds` export replaces fixtures/kinds.mjs. */
  kindsModule?: string;
}

export interface TimedEvent { event: Record<string, unknown> & { type: string }; t: number }

export class RemoteError extends Error {
  constructor(readonly info: { name?: string; code?: string; field?: string; option?: string; message?: string; reason?: string; delivered?: boolean }) {
    super(info.message ?? 'remote error');
    this.name = info.name ?? 'RemoteError';
  }
  get code(): string | undefined { return this.info.code; }
  get field(): string | undefined { return this.info.field; }
}

export type ChildRow = { id: string; node: string | null; status: string; restarts: number; kind: string };
export type MemberRow = { name: string; status: string; incarnation: number; children: number; weight: number; state: string };

export interface Member {
  readonly host: Host;
  readonly name: string;
  /** Every event the member's Supervisor emitted, with the time (wall clock, ms) it was seen. */
  readonly events: TimedEvent[];
  /** Its cluster address (a tab's names its gateway). */
  readonly address: string;
  readonly alive: boolean;
  /** The isolations it runs children in. */
  readonly isolations: readonly Isolation[];
  /**
   * Names of infrastructure members (a tab driver's gateway) that members() leaves out, so a
   * scenario counts the members it started. The Cluster fills it.
   */
  hidden: ReadonlySet<string>;

  /** Any op of the member protocol (member.ts): 'ready', 'runtime', 'startMany', 'call', 'send', 'stream', ... */
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  startChild(spec: unknown, opts?: unknown): Promise<void>;
  terminateChild(id: string, opts?: unknown): Promise<void>;
  whichChildren(scope: 'local' | 'global'): Promise<ChildRow[]>;
  members(): Promise<MemberRow[]>;
  cordon(member: string, opts?: unknown): Promise<void>;
  uncordon(member: string, opts?: unknown): Promise<void>;
  drain(member: string, opts?: { deadlineMs?: number; maxParallel?: number }): Promise<void>;
  setWeight(weight: number): Promise<void>;
  digest(): Promise<string>;
  rejectedFrames(): Promise<Record<string, number>>;

  /** Graceful stop: hands children over, then the member ends. */
  stop(): Promise<void>;
  /** Death without a word: kill -9 of the process, the crash of a tab's renderer. */
  kill(): Promise<unknown>;
  /** Frozen (SIGSTOP of its OS process) until resume(): alive but silent. */
  pause(): void;
  resume(): void;
  /** Resolves when an event matching `pred` has arrived (also one already received). */
  waitEvent(pred: (e: TimedEvent['event']) => boolean, timeoutMs: number, what?: string): Promise<TimedEvent>;
}

/** The event log of a member: what waitEvent waits on. */
export class EventLog {
  readonly events: TimedEvent[] = [];
  private readonly listeners = new Set<() => void>();

  push(e: TimedEvent): void {
    this.events.push(e);
    for (const l of this.listeners) l();
  }

  wait(owner: string, pred: (e: TimedEvent['event']) => boolean, timeoutMs: number, what: string): Promise<TimedEvent> {
    const found = this.events.find((e) => pred(e.event));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = this.events.find((e) => pred(e.event));
        if (f) { clearTimeout(t); this.listeners.delete(check); resolve(f); }
      };
      const t = setTimeout(() => { this.listeners.delete(check); reject(new Error(`${owner}: no ${what} within ${timeoutMs} ms`)); }, timeoutMs);
      this.listeners.add(check);
    });
  }
}

/** The Member API over the op protocol: a host's member supplies call() and its faults. */
export abstract class MemberBase {
  protected readonly log = new EventLog();
  readonly events: TimedEvent[] = this.log.events;
  hidden: ReadonlySet<string> = new Set();
  abstract readonly name: string;
  abstract call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;

  startChild(spec: unknown, opts: unknown = {}): Promise<void> { return this.call('startChild', spec, opts); }
  terminateChild(id: string, opts: unknown = {}): Promise<void> { return this.call('terminateChild', id, opts); }
  whichChildren(scope: 'local' | 'global'): Promise<ChildRow[]> { return this.call('whichChildren', scope); }
  /** Without the hidden (infrastructure) members. */
  async members(): Promise<MemberRow[]> {
    const rows = await this.call<MemberRow[]>('members');
    return this.hidden.size ? rows.filter((r) => !this.hidden.has(r.name)) : rows;
  }
  cordon(member: string, opts: unknown = {}): Promise<void> { return this.call('cordon', member, opts); }
  uncordon(member: string, opts: unknown = {}): Promise<void> { return this.call('uncordon', member, opts); }
  drain(member: string, opts: { deadlineMs?: number; maxParallel?: number } = {}): Promise<void> { return this.call('drain', member, opts); }
  setWeight(weight: number): Promise<void> { return this.call('setWeight', weight); }
  digest(): Promise<string> { return this.call('digest'); }
  rejectedFrames(): Promise<Record<string, number>> { return this.call('rejectedFrames'); }

  waitEvent(pred: (e: TimedEvent['event']) => boolean, timeoutMs: number, what = 'event'): Promise<TimedEvent> {
    return this.log.wait(this.name, pred, timeoutMs, what);
  }
}

/** Polls an async condition until it holds or the deadline passes (robust on a loaded machine). */
export async function waitUntil(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try { if (await cond()) return; } catch (e) { lastErr = e; }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
