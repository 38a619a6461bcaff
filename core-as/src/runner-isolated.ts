// Children in a worker or a process, on any host: the host supplies a Spawner (how to create
// one and talk to it); the lifecycle (start, stop with shutdownMs then kill, exit reasons) is
// written once here.
import type { ErrorInfo, ExitReason, RunnerHandlers } from './adapters.js';
import type { FromChild, StateFromChild, ToChild } from './child-protocol.js';
import type { StateBytes } from './child-state.js';

export interface ChildHandle {
  post(m: ToChild): void;
  /** Ask politely (worker: a 'stop' message; process: SIGTERM). */
  requestStop(): void;
  /** Force (worker: terminate; process: SIGKILL). */
  kill(): void;
}

export interface Spawner {
  /** Starts the isolate; `onMessage` gets its messages, `onExit` when it ends (with an error if it crashed). */
  spawn(onMessage: (m: FromChild) => void, onExit: (error?: ErrorInfo) => void): ChildHandle;
}

interface Isolated {
  epoch: number; handle: ChildHandle; started: boolean; stopping: boolean; finished: boolean; killed: boolean; timer?: ReturnType<typeof setTimeout>; h: RunnerHandlers;
  /** Calls sent to the child and not answered yet, by the child-local request number. */
  answers: Map<number, (encoded: string) => void>; nextReq: number;
}

export class IsolatedRunner {
  private children = new Map<string, Isolated>();
  constructor(private readonly node: string, private readonly spawner: Spawner, private readonly emitChildEvent: (id: string, name: string, data: unknown) => void) {}

  run(id: string, epoch: number, module: string, exportName: string, args: unknown, h: RunnerHandlers, state?: StateBytes): void {
    const c = { epoch, started: false, stopping: false, finished: false, killed: false, h, answers: new Map(), nextReq: 1 } as Isolated;
    const finish = (reason: ExitReason, error?: ErrorInfo) => {
      if (c.finished) return;
      c.finished = true;
      if (c.timer) clearTimeout(c.timer);
      if (this.children.get(id) === c) this.children.delete(id);
      // Stopped before it started: the stop took effect (its function never ran), not a failed start.
      if (!c.started && c.stopping) c.h.exited(id, epoch, c.killed ? 'killed' : 'shutdown');
      else if (!c.started) c.h.startFailed(id, epoch, error ?? { name: 'StartError', message: `child ${id} ended before it started (${reason})` });
      else c.h.exited(id, epoch, reason, error);
      try { c.handle.kill(); } catch { /* already gone */ }
    };
    c.handle = this.spawner.spawn(
      (m) => {
        if (c.finished) return;
        if (m.t === 'started') { c.started = true; c.h.started(id, epoch); }
        else if (m.t === 'startFailed') finish('crash', m.error);
        else if (m.t === 'exit') finish(c.stopping ? 'shutdown' : m.reason, m.error);
        else if (m.t === 'event') this.emitChildEvent(id, m.name, m.data);
        else if (m.t === 'reply') { const a = c.answers.get(m.req); if (a) { c.answers.delete(m.req); a(m.data); } }
        else this.onState(id, c, m);
      },
      (error) => finish(c.killed ? 'killed' : c.stopping ? 'shutdown' : 'crash', error ?? (c.stopping ? undefined : { name: 'ChildExit', message: `child ${id} exited unexpectedly` })),
    );
    this.children.set(id, c);
    c.handle.post({ t: 'start', module, export: exportName, id, node: this.node, args, ...(state ? { state } : {}) });
  }

  // ---- state handoff and checkpoints ----

  private onState(id: string, c: Isolated, m: StateFromChild): void {
    if (m.t === 'state') c.h.state?.(id, c.epoch, m.answer);
    else if (m.t === 'checkpoint' && !c.stopping) c.h.checkpoint?.(id, c.epoch, m.state);
  }

  /** Asks the child for its state (answered through its handlers); false when no such child runs here. */
  dehydrate(id: string, epoch: number): boolean {
    const c = this.children.get(id);
    if (!c || c.epoch !== epoch || !c.started) return false;
    try { c.handle.post({ t: 'dehydrate' }); } catch { return false; }
    return true;
  }

  deliver(id: string, epoch: number, data: string, answer: ((encoded: string) => void) | null): boolean {
    const c = this.children.get(id);
    if (!c || c.epoch !== epoch || c.finished) return false;
    let req = 0;
    if (answer) { req = c.nextReq++; c.answers.set(req, answer); }
    try { c.handle.post({ t: 'msg', req, data }); } catch { return false; }
    return true;
  }

  stop(id: string, epoch: number, shutdownMs: number): boolean {
    const c = this.children.get(id);
    if (!c || c.epoch !== epoch) return false;
    if (c.stopping) return true;
    c.stopping = true;
    const force = () => { c.killed = true; try { c.handle.kill(); } catch { /* gone */ } };
    if (shutdownMs <= 0) { force(); return true; }
    try { c.handle.requestStop(); } catch { /* gone */ }
    c.timer = setTimeout(force, shutdownMs);
    return true;
  }

  stopAll(shutdownMs: number): Promise<void> {
    return Promise.all([...this.children.entries()].map(([id, c]) => new Promise<void>((resolve) => {
      const orig = c.h;
      const done = () => resolve();
      c.h = { ...orig, exited: (...a) => { orig.exited(...a); done(); }, startFailed: (...a) => { orig.startFailed(...a); done(); } };
      this.stop(id, c.epoch, shutdownMs);
    }))).then(() => undefined);
  }
}
