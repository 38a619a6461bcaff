// Inside a Bun Worker: the shared child body, over Web Worker messages.
import { runChildEntry, type FromChild, type ToChild } from '@trellis/core';

declare const self: { postMessage(m: unknown): void; addEventListener(t: 'message', fn: (ev: MessageEvent) => void): void };
runChildEntry({
  post: (m: FromChild) => self.postMessage(m),
  onMessage: (fn: (m: ToChild) => void) => self.addEventListener('message', (ev) => fn(ev.data as ToChild)),
  done: () => undefined, // the runner terminates the worker when it reports its exit
});
