// The Runner a host hands to the Supervisor: dispatches each kind to inline, worker or
// process isolation. Hosts only provide the Spawners for the isolations they support.
import type { KindDefinition, Runner, RunnerHandlers } from './adapters.js';
import { InlineRunner } from './runner-inline.js';
import { IsolatedRunner, type Spawner } from './runner-isolated.js';
import type { StateBytes } from './child-state.js';

export interface Spawners { worker?: Spawner; process?: Spawner }

export class KindRunner implements Runner {
  private readonly inline: InlineRunner;
  private readonly isolated = new Map<'worker' | 'process', IsolatedRunner>();

  constructor(node: string, private readonly kinds: Record<string, KindDefinition>, emitChildEvent: (id: string, name: string, data: unknown) => void, spawners: Spawners) {
    this.inline = new InlineRunner(node, emitChildEvent);
    if (spawners.worker) this.isolated.set('worker', new IsolatedRunner(node, spawners.worker, emitChildEvent));
    if (spawners.process) this.isolated.set('process', new IsolatedRunner(node, spawners.process, emitChildEvent));
  }

  run(id: string, epoch: number, kind: string, args: unknown, h: RunnerHandlers, state?: StateBytes): void {
    const def = Object.prototype.hasOwnProperty.call(this.kinds, kind) ? this.kinds[kind] : undefined;
    if (!def) { h.startFailed(id, epoch, { name: 'UnknownKindError', message: `kind '${kind}' is not defined on this node` }); return; }
    if ('run' in def) { this.inline.run(id, epoch, def.run, args, h, state); return; }
    const r = this.isolated.get(def.isolate);
    if (!r) { h.startFailed(id, epoch, { name: 'UnsupportedIsolationError', message: `isolate '${def.isolate}' is not available on this host` }); return; }
    const module = def.module instanceof URL ? def.module.href : def.module;
    r.run(id, epoch, module, def.export ?? 'run', args, h, state);
  }

  dehydrate(id: string, epoch: number): boolean {
    if (this.inline.dehydrate(id, epoch)) return true;
    for (const r of this.isolated.values()) if (r.dehydrate(id, epoch)) return true;
    return false;
  }

  deliver(id: string, epoch: number, data: string, answer: ((encoded: string) => void) | null): boolean {
    if (this.inline.deliver(id, epoch, data, answer)) return true;
    for (const r of this.isolated.values()) if (r.deliver(id, epoch, data, answer)) return true;
    return false;
  }

  stop(id: string, epoch: number, shutdownMs: number): void {
    if (this.inline.stop(id, epoch, shutdownMs)) return;
    for (const r of this.isolated.values()) if (r.stop(id, epoch, shutdownMs)) return;
  }

  async stopAll(shutdownMs: number): Promise<void> {
    await Promise.all([this.inline.stopAll(shutdownMs), ...[...this.isolated.values()].map((r) => r.stopAll(shutdownMs))]);
  }
}
