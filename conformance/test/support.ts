// Shared helpers for conformance tests: the built Wasm core and small cluster builders.
import { readFileSync } from 'node:fs';
import { testingWasmUrl } from '@trellis/core/testing';
import { World, type NodeOptions } from '../src/sim/world.js';
import { runSeed, formatViolation, type SimOptions } from '../src/sim/run.js';

export const wasmBytes: Uint8Array = readFileSync(process.env.TRELLIS_WASM ?? testingWasmUrl);
export const wasmModule = new WebAssembly.Module(wasmBytes);

export const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

/** n nodes, each seeded with the first; runs until every node sees all others. */
export function cluster(n: number, opts: NodeOptions = {}, seed = 1, config = {}): World {
  const w = new World(wasmModule, seed, config);
  for (let i = 0; i < n; i++) w.addNode(NAMES[i], { seeds: i === 0 ? [] : ['sim://a'], ...opts });
  const ok = w.runUntil(() => w.aliveNodes().every((x) => x.core.members().filter((m) => m.status === 'up').length === n && x.core.info().ready), 5000);
  if (!ok) throw new Error('cluster did not form');
  return w;
}

/** Every alive node's state digest is the same. */
export function converged(w: World): boolean {
  const ds = w.aliveNodes().map((n) => n.core.digest().state);
  return ds.every((d) => d === ds[0]);
}

/** Each desired id runs on exactly one node, and the digests agree. */
export function settled(w: World, ids: string[]): boolean {
  const r = w.runningIds();
  return ids.every((id) => (r.get(id)?.length ?? 0) === 1) && converged(w);
}

/** Fails the test the moment any id runs on two nodes (for fault-free planned moves). */
export function watchOverlap(w: World): { overlaps: string[] } {
  const seen = { overlaps: [] as string[] };
  w.observers.push((world) => {
    for (const [id, ns] of world.runningIds()) if (ns.length > 1) seen.overlaps.push(`${id}@${ns.join('/')}@${world.now}`);
  });
  return seen;
}

export function runnerOf(w: World, id: string): string | undefined {
  return w.runningIds().get(id)?.[0];
}

/** Seeds 1..count with `options`: their violations, readable, and how many trace lines matched `marker` (the mode each seed ran in). */
export function sweepSeeds(count: number, options: SimOptions, marker: RegExp): { failures: string; marked: number } {
  const failures: string[] = [];
  let marked = 0;
  for (let s = 1; s <= count; s++) {
    const r = runSeed(wasmModule, s, { ...options, onTrace: (l) => { if (marker.test(l)) marked++; } });
    if (r.violations.length) failures.push(formatViolation(r));
  }
  return { failures: failures.join('\n\n'), marked };
}
