// Inside a Bun child process: the shared child body over Bun's IPC (process.send / 'message').
// SIGTERM aborts the child's signal; the process exits after its final message, and at once
// when Bun reports the IPC channel closed ('disconnect') because the node is gone.
import { runChildEntry, type FromChild, type ToChild } from '@trellis/core';

let onStop: (() => void) | undefined;
process.on('SIGTERM', () => onStop?.());
runChildEntry({
  post: (m: FromChild) => { if (process.connected) process.send?.(m); },
  onMessage: (fn: (m: ToChild) => void) => {
    onStop = () => fn({ t: 'stop' });
    process.on('message', (m) => fn(m as ToChild));
  },
  // Bun's process.send has no completion callback: give the channel a turn, then exit.
  done: () => { setTimeout(() => process.exit(0), 20); },
  onParentGone: (fn) => { process.once('disconnect', fn); },
  exitNow: () => process.exit(0),
});
