// A cluster member running in its own OS process (Node or Bun), driven over stdio JSON lines.
// This is what the conformance scenarios and the cluster benchmark talk to: real processes,
// real sockets, real signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export type Host = 'node' | 'bun';

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
  constructor(readonly info: { name?: string; code?: string; field?: string; option?: string; message?: string }) {
    super(info.message ?? 'remote error');
    this.name = info.name ?? 'RemoteError';
  }
  get code(): string | undefined { return this.info.code; }
  get field(): string | undefined { return this.info.field; }
}

const root = fileURLToPath(new URL('../../..', import.meta.url));
// Always the compiled script (tests import this file from src/ through Vitest).
export const memberScript = join(root, 'conformance', 'dist', 'drivers', 'member.js');
export function hostCommand(host: Host): string {
  return host === 'node' ? process.execPath : join(root, 'node_modules', '.bin', 'bun');
}

export class ProcessMember {
  readonly events: TimedEvent[] = [];
  address = '';
  /** Where the member really listens (differs from `address` only with `advertise`). */
  boundAddress = '';
  pid = 0;
  exited: Promise<number | null>;
  private nextId = 1;
  private waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private ready!: Promise<void>;
  private listeners = new Set<() => void>();
  alive = true;
  stderr = '';

  private constructor(readonly host: Host, readonly name: string, readonly proc: ChildProcess) {
    this.exited = new Promise((resolve) => proc.on('exit', (code) => {
      this.alive = false;
      for (const [, w] of this.waiting) w.reject(new Error(`member ${name} exited`));
      this.waiting.clear();
      resolve(code);
    }));
    proc.stderr!.on('data', (d) => { if (this.stderr.length < 20000) this.stderr += d; });
  }

  static async spawn(host: Host, o: MemberOptions): Promise<ProcessMember> {
    const opts = {
      scope: o.scope ?? 'conformance', name: o.name, seeds: o.seeds ?? [], secret: o.secret, credential: o.credential,
      // Scenarios that do not test authentication run an open cluster, which start() requires be said.
      insecure: o.secret === undefined && o.credential === undefined ? true : undefined,
      listen: { host: '127.0.0.1', port: o.port ?? 0 },
      heartbeatMs: o.heartbeatMs ?? 100, failureTimeoutMs: o.failureTimeoutMs ?? 600, syncIntervalMs: o.syncIntervalMs ?? 500,
      partition: o.partition, weight: o.weight, children: o.children, kindNames: o.kindNames, ...o.extra,
      ...(o.advertise ? { advertise: o.advertise } : {}), ...(o.kindsModule ? { kindsModule: o.kindsModule } : {}),
    };
    // TRELLIS_MEMBER_ARGS: extra runtime flags for every member, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"
    // to profile a benchmark's members (NODE_OPTIONS refuses --cpu-prof).
    const extra = process.env.TRELLIS_MEMBER_ARGS ? process.env.TRELLIS_MEMBER_ARGS.split(' ').filter(Boolean) : [];
    const proc = spawn(hostCommand(host), [...extra, memberScript, host, JSON.stringify(opts)], { stdio: ['pipe', 'pipe', 'pipe'], cwd: root });
    const m = new ProcessMember(host, o.name, proc);
    m.ready = new Promise((resolve, reject) => {
      const rl = createInterface({ input: proc.stdout! });
      rl.on('line', (line) => {
        let msg: Record<string, unknown>;
        try { msg = JSON.parse(line); } catch { return; }
        if (msg.type === 'ready') { m.address = msg.address as string; m.boundAddress = (msg.bound as string | undefined) ?? m.address; m.pid = msg.pid as number; resolve(); }
        else if (msg.type === 'fatal') reject(new RemoteError(msg.error as RemoteError['info']));
        else if (msg.type === 'event') { m.events.push({ event: msg.event as TimedEvent['event'], t: msg.t as number }); for (const l of m.listeners) l(); }
        else if (msg.type === 'reply') {
          const w = m.waiting.get(msg.id as number);
          if (!w) return;
          m.waiting.delete(msg.id as number);
          if (msg.ok) w.resolve(msg.result); else w.reject(new RemoteError(msg.error as RemoteError['info']));
        }
      });
      m.exited.then((code) => reject(new Error(`member ${o.name} exited with ${code} before ready: ${m.stderr}`)));
    });
    await m.ready;
    return m;
  }

  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`member ${this.name} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.stdin!.write(JSON.stringify({ id, op, args }) + '\n');
    });
  }

  startChild(spec: unknown, opts: unknown = {}): Promise<void> { return this.call('startChild', spec, opts); }
  terminateChild(id: string, opts: unknown = {}): Promise<void> { return this.call('terminateChild', id, opts); }
  whichChildren(scope: 'local' | 'global'): Promise<Array<{ id: string; node: string | null; status: string; restarts: number; kind: string }>> { return this.call('whichChildren', scope); }
  members(): Promise<Array<{ name: string; status: string; incarnation: number; children: number; weight: number; state: string }>> { return this.call('members'); }
  cordon(member: string, opts: unknown = {}): Promise<void> { return this.call('cordon', member, opts); }
  uncordon(member: string, opts: unknown = {}): Promise<void> { return this.call('uncordon', member, opts); }
  drain(member: string, opts: { deadlineMs?: number; maxParallel?: number } = {}): Promise<void> { return this.call('drain', member, opts); }
  setWeight(weight: number): Promise<void> { return this.call('setWeight', weight); }
  digest(): Promise<string> { return this.call('digest'); }
  rejectedFrames(): Promise<Record<string, number>> { return this.call('rejectedFrames'); }
  mintCredential(o: { name: string; kinds: string[]; expiresInMs: number }): Promise<string> { return this.call('mintCredential', o); }
  rss(): Promise<number> { return this.call('memory'); }
  cpu(): Promise<{ user: number; system: number }> { return this.call('cpu'); }

  /** Graceful stop: hands children over, then the process exits. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    await this.call('stop').catch(() => undefined);
    await this.exited;
  }
  kill(): Promise<number | null> { if (this.alive) this.proc.kill('SIGKILL'); return this.exited; }
  pause(): void { this.proc.kill('SIGSTOP'); }
  resume(): void { this.proc.kill('SIGCONT'); }

  /** Resolves when an event matching `pred` has arrived (also one already received). */
  waitEvent(pred: (e: TimedEvent['event']) => boolean, timeoutMs: number, what = 'event'): Promise<TimedEvent> {
    const found = this.events.find((e) => pred(e.event));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = this.events.find((e) => pred(e.event));
        if (f) { clearTimeout(t); this.listeners.delete(check); resolve(f); }
      };
      const t = setTimeout(() => { this.listeners.delete(check); reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms`)); }, timeoutMs);
      this.listeners.add(check);
    });
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
