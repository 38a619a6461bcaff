// Process isolation on Bun: Bun.spawn of entry-process.js with Bun's IPC channel.
// Stop = SIGTERM (the child aborts its signal), force = SIGKILL.
import { fileURLToPath } from 'node:url';
import type { Spawner, FromChild } from '@trellis/core';

const entry = fileURLToPath(new URL('./entry-process.js', import.meta.url));

export const processSpawner: Spawner = {
  spawn(onMessage, onExit) {
    const p = Bun.spawn([process.execPath, entry], {
      stdio: ['ignore', 'inherit', 'inherit'],
      ipc: (m: FromChild) => onMessage(m),
      onExit: (_p, code, signal) => onExit(code === 0 ? undefined : { name: 'ChildExit', message: `process exited with ${signal ?? `code ${code}`}` }),
    });
    return {
      post: (m) => { try { p.send(m); } catch { /* exited */ } },
      requestStop: () => p.kill('SIGTERM'),
      kill: () => { if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); },
    };
  },
};
