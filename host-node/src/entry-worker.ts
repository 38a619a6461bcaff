// Inside a worker thread: the shared child body, over worker_threads messages.
import { parentPort } from 'node:worker_threads';
import { runChildEntry, type FromChild, type ToChild } from '@trellis/core';

const port = parentPort!;
runChildEntry({
  post: (m: FromChild) => port.postMessage(m),
  onMessage: (fn: (m: ToChild) => void) => port.on('message', fn),
  done: () => port.close(),
});
