// A cluster member running in its own OS process (Node or Bun), driven over stdio JSON lines.
// This is what the conformance scenarios and the cluster benchmark talk to: real processes,
// real sockets, real signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { MemberBase, RemoteError, isolationsOf, type Isolation, type Member, type MemberOptions, type TimedEvent } from './member-api.js';

export { RemoteError, waitUntil, type Host, type MemberOptions, type TimedEvent } from './member-api.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
// Always the compiled script (tests import this file from src/ through Vitest).
export const memberScript = join(root, 'conformance', 'dist', 'drivers', 'member.js');
export function hostCommand(host: 'node' | 'bun'): string {
  return host === 'node' ? process.execPath : join(root, 'node_modules', '.bin', 'bun');
}

export class ProcessMember extends MemberBase implements Member {
  get isolations(): readonly Isolation[] { return isolationsOf(this.host); }
  address = '';
  /** Where the member really listens (differs from `address` only with `advertise`). */
  boundAddress = '';
  pid = 0;
  exited: Promise<number | null>;
  private nextId = 1;
  private waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private ready!: Promise<void>;
  alive = true;
  stderr = '';

  private constructor(readonly host: 'node' | 'bun', readonly name: string, readonly proc: ChildProcess) {
    super();
    this.exited = new Promise((resolve) => proc.on('exit', (code) => {
      this.alive = false;
      for (const [, w] of this.waiting) w.reject(new Error(`member ${name} exited`));
      this.waiting.clear();
      resolve(code);
    }));
    proc.stderr!.on('data', (d) => { if (this.stderr.length < 20000) this.stderr += d; });
  }

  static async spawn(host: 'node' | 'bun', o: MemberOptions): Promise<ProcessMember> {
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
        else if (msg.type === 'event') m.log.push({ event: msg.event as TimedEvent['event'], t: msg.t as number });
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
}
