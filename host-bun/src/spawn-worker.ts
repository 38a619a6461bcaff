// Worker isolation on Bun: a Bun Worker (the Web Worker API) running entry-worker.js.
import type { Spawner, FromChild } from '@trellis/core';

const entry = new URL('./entry-worker.js', import.meta.url);
/** How long a terminated worker may take to report 'close' before it is taken as ended. */
const WORKER_CLOSE_WAIT_MS = 250;

export const workerSpawner: Spawner = {
  spawn(onMessage, onExit) {
    const w = new Worker(entry.href, { type: 'module' });
    let error: { name: string; message: string } | undefined;
    let ended = false;
    const end = () => { if (!ended) { ended = true; onExit(error); } };
    w.onmessage = (ev: MessageEvent<FromChild>) => onMessage(ev.data);
    w.onerror = (ev: ErrorEvent) => { error = { name: 'Error', message: ev.message }; ev.preventDefault?.(); };
    w.addEventListener('close', end);
    return {
      post: (m) => w.postMessage(m),
      requestStop: () => w.postMessage({ t: 'stop' }),
      // terminate() interrupts even a busy worker and 'close' follows within milliseconds;
      // 'close' may not fire after it on every Bun version, hence the bounded fallback.
      kill: () => { w.terminate(); setTimeout(end, WORKER_CLOSE_WAIT_MS); },
    };
  },
};
