// Messages between a runner and an isolated child (worker or process), on every host, and the
// code that runs inside the child. The host supplies only how to post and receive messages.
import type { ErrorInfo } from './adapters.js';
import { errorInfo } from './runner-inline.js';
import { Mailbox } from './child-messages.js';

import { dehydrateWith, stateContext, type StateBytes } from './child-state.js';
import type { StateAnswer } from './event-writer.js';

export type ToChild =
  | { t: 'start'; module: string; export: string; id: string; node: string; args: unknown; state?: StateBytes }
  | { t: 'stop' }
  /** A message (JSON text); `req` > 0 when it is a call, answered by a 'reply' with the same `req`. */
  | { t: 'msg'; req: number; data: string }
  | StateToChild;

export type FromChild =
  | { t: 'started' }
  | { t: 'startFailed'; error: ErrorInfo }
  | { t: 'exit'; reason: 'normal' | 'crash'; error?: ErrorInfo }
  | { t: 'event'; name: string; data: unknown }
  | { t: 'reply'; req: number; data: string }
  | StateFromChild;

/** State handoff: the runner asks for the state; the child answers, or sends a checkpoint. */
export type StateToChild = { t: 'dehydrate' };
export type StateFromChild = { t: 'state'; answer: StateAnswer } | { t: 'checkpoint'; state: StateBytes };

export interface ChildPort {
  post(m: FromChild): void;
  onMessage(fn: (m: ToChild) => void): void;
  /** Called after the final message: end this worker/process. */
  done(): void;
  /**
   * Process children: calls `fn` once the parent's end of the channel has closed, which the
   * operating system does however the parent died (kill -9 included).
   */
  onParentGone?(fn: () => void): void;
  /** Ends the process at once: nobody reads its messages any more. */
  exitNow?(): void;
}

/** The body of an isolated child: wait for 'start', import the module, run it, report. */
export function runChildEntry(port: ChildPort): void {
  const abort = new AbortController();
  let started = false;
  const mailbox = new Mailbox();
  let dehydrate: (() => unknown) | undefined;
  // A child must not outlive its node: the cluster starts it elsewhere as soon as the node is
  // lost, so waiting for the child's own stop would run two copies. Its abort listeners run
  // (synchronously), then the process ends without waiting for the function to settle.
  port.onParentGone?.(() => {
    abort.abort();
    port.exitNow?.();
  });
  port.onMessage(async (m) => {
    if (m.t === 'stop') { abort.abort(); return; }
    if (m.t === 'msg') {
      const req = m.req;
      mailbox.deliver(m.data, req > 0 ? (data) => port.post({ t: 'reply', req, data }) : null);
      return;
    }
    if (m.t === 'dehydrate') { void dehydrateWith(dehydrate).then((answer) => port.post({ t: 'state', answer })); return; }
    if (m.t !== 'start' || started) return;
    started = true;
    let fn: unknown;
    try {
      const mod = await import(m.module);
      fn = mod[m.export] ?? mod.run ?? mod.default;
      if (typeof fn !== 'function') throw new TypeError(`module ${m.module} exports no function '${m.export}'`);
    } catch (e) {
      port.post({ t: 'startFailed', error: errorInfo(e) });
      port.done();
      return;
    }
    // Stopped while it was still starting (the stop came before 'start', or during the import):
    // its function must not run at all. The node has already told the cluster it stopped it, and
    // a function handed an aborted signal would wait for an 'abort' event that never comes.
    if (abort.signal.aborted) {
      port.post({ t: 'exit', reason: 'normal' });
      port.done();
      return;
    }
    let result: unknown;
    try {
      const ctx = {
        id: m.id, node: m.node, signal: abort.signal, emit: (name: string, data?: unknown) => port.post({ t: 'event', name, data }),
        onMessage: (fn: Parameters<Mailbox['onMessage']>[0]) => mailbox.onMessage(fn),
        ...stateContext(m.state, (hook) => { dehydrate = hook; }, (state) => port.post({ t: 'checkpoint', state })),
      };
      result = (fn as (a: unknown, c: unknown) => unknown)(m.args, ctx);
    } catch (e) {
      port.post({ t: 'startFailed', error: errorInfo(e) });
      port.done();
      return;
    }
    port.post({ t: 'started' });
    try {
      await result;
      port.post({ t: 'exit', reason: 'normal' });
    } catch (e) {
      port.post({ t: 'exit', reason: 'crash', error: errorInfo(e) });
    }
    port.done();
  });
}
