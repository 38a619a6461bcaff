// Inline children: an async function in the host's own thread, on every host. Stopped through
// ctx.signal. A function cannot be forced, so one that has not settled shutdownMs after its
// abort is reported unresponsive, never exited: it still runs, and reporting it gone would let
// the cluster start a second copy. Its exit is reported when it does settle.
import type { ChildContext, ErrorInfo, InlineRun, RunnerHandlers } from './adapters.js';
import { Mailbox } from './child-messages.js';
import { dehydrateWith, stateContext, type StateBytes } from './child-state.js';

export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: typeof e === 'string' ? e : JSON.stringify(e) ?? String(e) };
}

interface Running { epoch: number; abort: AbortController; stopping: boolean; unresponsive: boolean; done: boolean; timer?: ReturnType<typeof setTimeout>; h: RunnerHandlers; mailbox: Mailbox; dehydrate?: () => unknown }

export class InlineRunner {
  private children = new Map<string, Running>();
  constructor(private readonly node: string, private readonly emitChildEvent: (id: string, name: string, data: unknown) => void) {}

  get size(): number { return this.children.size; }

  run(id: string, epoch: number, fn: InlineRun, args: unknown, h: RunnerHandlers, state?: StateBytes): void {
    const abort = new AbortController();
    const mailbox = new Mailbox();
    const r: Running = { epoch, abort, stopping: false, unresponsive: false, done: false, h, mailbox };
    let result: unknown;
    try {
      const ctx: ChildContext = {
        id, node: this.node, signal: abort.signal,
        emit: (name, data) => { if (!r.done) this.emitChildEvent(id, name, data); },
        onMessage: (fn) => mailbox.onMessage(fn),
        ...this.stateOf(id, r, state),
      };
      result = fn(args, ctx);
    } catch (e) {
      h.startFailed(id, epoch, errorInfo(e));
      return;
    }
    this.children.set(id, r);
    h.started(id, epoch);
    Promise.resolve(result).then(
      () => this.end(id, r, r.stopping ? 'shutdown' : 'normal'),
      (e) => this.end(id, r, r.stopping ? 'shutdown' : 'crash', errorInfo(e)),
    );
  }

  // ---- state handoff and checkpoints ----

  private stateOf(id: string, r: Running, state: StateBytes | undefined) {
    return stateContext(state, (hook) => { r.dehydrate = hook; }, (s) => { if (!r.done && !r.stopping) r.h.checkpoint?.(id, r.epoch, s); });
  }

  /** Calls the child's dehydrate hook and reports the answer; false when no such child runs here. */
  dehydrate(id: string, epoch: number): boolean {
    const r = this.children.get(id);
    if (!r || r.epoch !== epoch) return false;
    void dehydrateWith(r.dehydrate).then((answer) => r.h.state?.(id, epoch, answer));
    return true;
  }

  private end(id: string, r: Running, reason: 'normal' | 'crash' | 'shutdown', error?: ErrorInfo): void {
    if (r.done) return;
    r.done = true;
    r.mailbox.closed = true;
    if (r.timer) clearTimeout(r.timer);
    if (this.children.get(id) === r) this.children.delete(id);
    r.h.exited(id, r.epoch, reason, error);
  }

  deliver(id: string, epoch: number, data: string, answer: ((encoded: string) => void) | null): boolean {
    const r = this.children.get(id);
    if (!r || r.epoch !== epoch || r.done) return false;
    r.mailbox.deliver(data, answer);
    return true;
  }

  stop(id: string, epoch: number, shutdownMs: number): boolean {
    const r = this.children.get(id);
    if (!r || r.epoch !== epoch) return false;
    if (r.stopping) return true;
    r.stopping = true;
    r.abort.abort();
    // shutdownMs 0 still gives the function one turn to settle after its abort listeners ran.
    r.timer = setTimeout(() => this.markUnresponsive(id, r), Math.max(0, shutdownMs));
    return true;
  }

  private markUnresponsive(id: string, r: Running): void {
    r.timer = undefined;
    if (r.done) return;
    r.unresponsive = true;
    r.h.unresponsive(id, r.epoch);
  }

  /** Resolves once every child has exited or is unresponsive: an unresponsive one ends only with the process. */
  stopAll(shutdownMs: number): Promise<void> {
    const waits = [...this.children.entries()].map(([id, r]) => new Promise<void>((resolve) => {
      if (r.unresponsive) { resolve(); return; }
      const orig = r.h;
      r.h = {
        ...orig,
        exited: (...a) => { orig.exited(...a); resolve(); },
        unresponsive: (...a) => { orig.unresponsive(...a); resolve(); },
      };
      this.stop(id, r.epoch, shutdownMs);
    }));
    return Promise.all(waits).then(() => undefined);
  }
}
