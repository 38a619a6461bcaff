// Inside a Web Worker that runs one `worker` kind: the shared child body over postMessage. An
// unhandled rejection is the child crashing (a Web Worker would otherwise keep running).
import { errorInfo, runChildEntry, type FromChild, type ToChild } from '@trellis/core';

interface WorkerScope {
  postMessage(m: unknown): void;
  close(): void;
  addEventListener(type: 'message', fn: (e: MessageEvent<ToChild>) => void): void;
  addEventListener(type: 'unhandledrejection', fn: (e: PromiseRejectionEvent) => void): void;
}
const scope = self as unknown as WorkerScope;

scope.addEventListener('unhandledrejection', (e) => {
  scope.postMessage({ t: 'exit', reason: 'crash', error: errorInfo(e.reason) } satisfies FromChild);
  scope.close();
});

runChildEntry({
  post: (m: FromChild) => scope.postMessage(m),
  onMessage: (fn: (m: ToChild) => void) => scope.addEventListener('message', (e) => fn(e.data)),
  done: () => scope.close(),
});
