// Worker isolation on Node: a worker_threads Worker running entry-worker.js.
import { Worker } from 'node:worker_threads';
import type { Spawner, FromChild } from '@trellis/core';

const entry = new URL('./entry-worker.js', import.meta.url);

export const workerSpawner: Spawner = {
  spawn(onMessage, onExit) {
    const w = new Worker(entry);
    let error: { name: string; message: string } | undefined;
    w.on('message', (m: FromChild) => onMessage(m));
    w.on('error', (e) => { error = { name: e.name, message: e.message }; });
    w.on('exit', () => onExit(error));
    return {
      post: (m) => w.postMessage(m),
      requestStop: () => w.postMessage({ t: 'stop' }),
      kill: () => { void w.terminate(); },
    };
  },
};
