// The Node runner: inline children in this thread, 'worker' in worker_threads, 'process' in
// child_process.fork — the lifecycle itself is the shared one in @trellis/core.
import { KindRunner, type KindDefinition } from '@trellis/core';
import { workerSpawner } from './spawn-worker.js';
import { processSpawner } from './spawn-process.js';

export class NodeRunner extends KindRunner {
  constructor(nodeName: string, kinds: Record<string, KindDefinition>, onChildEvent: (id: string, name: string, data: unknown) => void = () => undefined) {
    super(nodeName, kinds, onChildEvent, { worker: workerSpawner, process: processSpawner });
  }
}
