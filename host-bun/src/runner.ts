// The Bun runner: inline children in this thread, 'worker' in Bun Workers, 'process' via Bun.spawn.
import { KindRunner, type KindDefinition } from '@trellis/core';
import { workerSpawner } from './spawn-worker.js';
import { processSpawner } from './spawn-process.js';

export class BunRunner extends KindRunner {
  constructor(nodeName: string, kinds: Record<string, KindDefinition>, onChildEvent: (id: string, name: string, data: unknown) => void = () => undefined) {
    super(nodeName, kinds, onChildEvent, { worker: workerSpawner, process: processSpawner });
  }
}
