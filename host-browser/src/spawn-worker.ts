// Worker isolation in a browser: each child in its own module Web Worker running
// child-worker.js. terminate() is the kill; `error` and `messageerror` are a crash. A terminated
// Web Worker fires no event, so the exit is reported when we terminate it or it says it ended.
import type { ErrorInfo, FromChild, Spawner } from '@trellis/core';

export function webWorkerSpawner(entry: URL): Spawner {
  return {
    spawn(onMessage, onExit) {
      const w = new Worker(entry, { type: 'module' });
      let ended = false;
      const end = (error?: ErrorInfo) => {
        if (ended) return;
        ended = true;
        w.terminate();
        onExit(error);
      };
      w.onmessage = (e: MessageEvent<FromChild>) => {
        onMessage(e.data);
        // The child's last message: it closes itself right after, and nothing else would tell us.
        if (e.data.t === 'exit' || e.data.t === 'startFailed') end(e.data.t === 'exit' ? e.data.error : e.data.error);
      };
      w.onerror = (e: ErrorEvent) => { e.preventDefault(); end({ name: 'WorkerError', message: e.message || 'worker error' }); };
      w.onmessageerror = () => end({ name: 'MessageError', message: 'a message from the worker could not be read' });
      return {
        post: (m) => w.postMessage(m),
        requestStop: () => w.postMessage({ t: 'stop' }),
        kill: () => end(undefined),
      };
    },
  };
}
