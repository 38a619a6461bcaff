// Inside a child process: the shared child body, over the IPC channel. SIGTERM aborts the
// child's signal (a graceful stop); the process exits once its final message is flushed, and
// at once when the channel closes because the node is gone.
import { runChildEntry, type FromChild, type ToChild } from '@trellis/core';

let onStop: (() => void) | undefined;
let lastSend: Promise<void> = Promise.resolve();
process.on('SIGTERM', () => onStop?.());
runChildEntry({
  post: (m: FromChild) => {
    if (!process.connected) return;
    lastSend = new Promise((resolve) => { process.send?.(m, () => resolve()); });
  },
  onMessage: (fn: (m: ToChild) => void) => {
    onStop = () => fn({ t: 'stop' });
    process.on('message', (m) => fn(m as ToChild));
  },
  done: () => { void lastSend.then(() => process.exit(0)); },
  onParentGone: (fn) => { process.once('disconnect', fn); },
  exitNow: () => process.exit(0),
});
