// Process isolation on Node: child_process.fork of entry-process.js with an IPC channel.
// Stop = SIGTERM (the child aborts its signal), force = SIGKILL.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Spawner, FromChild } from '@trellis/core';

const entry = fileURLToPath(new URL('./entry-process.js', import.meta.url));

export const processSpawner: Spawner = {
  spawn(onMessage, onExit) {
    const p = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    p.on('message', (m: FromChild) => onMessage(m));
    p.on('error', () => { /* 'exit' follows */ });
    p.on('exit', (code, signal) => onExit(code === 0 ? undefined : { name: 'ChildExit', message: `process exited with ${signal ?? `code ${code}`}` }));
    return {
      post: (m) => { if (p.connected) p.send(m); },
      requestStop: () => { p.kill('SIGTERM'); },
      kill: () => { if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); },
    };
  },
};
