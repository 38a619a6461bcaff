// The core with its test-only entry points: planted bugs for the simulator, the frame decoder
// on its own, self-tests of the core's tables, and hashing, crypto and placement for vectors and
// benchmarks. They call Wasm exports that only the testing and debug builds are meant to carry.

import { Core } from '../core.js';
import { EventWriter } from '../event-writer.js';
import { REJECT_REASONS, type RejectReason } from '../queries.js';
import { instantiateCore } from '../wasm.js';
import { GlobalViewCache } from '../global-view.js';
import type { GlobalChildView } from '../queries.js';
import {
  EV_PLANT_BUGS, BUG_START_WITHOUT_RELEASE, BUG_SKIP_ANTI_ENTROPY, BUG_IGNORE_INCARNATION, BUG_TERMINATE_LOSES,
  BUG_BREAK_INVARIANT, Q_GLOBAL_SCRATCH,
} from '../generated/boundary.js';

/** Known bugs the core can be told to have, to prove the simulator's checker finds them. */
export const PlantedBug = {
  startWithoutRelease: BUG_START_WITHOUT_RELEASE,
  skipAntiEntropy: BUG_SKIP_ANTI_ENTROPY,
  ignoreIncarnation: BUG_IGNORE_INCARNATION,
  terminateLoses: BUG_TERMINATE_LOSES,
  breakInvariant: BUG_BREAK_INVARIANT,
} as const;

/** A member as placement sees it: its name hashes its position; weight defaults to 1. */
export interface PlacementMember { name: string; weight?: number; kinds: string[] }

/** XXH64 digests are 8 bytes; SHA-256 and HMAC-SHA-256 digests 32. */
const SHA256_BYTES = 32;

export class TestCore extends Core {
  static override create(source: BufferSource | WebAssembly.Module): TestCore {
    return new TestCore(instantiateCore(source));
  }

  private probe<T extends (...a: never[]) => unknown>(name: string): T {
    const f = this.x[name];
    if (typeof f !== 'function') throw new TypeError(`this core build has no '${name}' export (use the testing build)`);
    return f as T;
  }

  /** Switches on planted bugs (PlantedBug flags) from the next step on. */
  plantBugs(flags: number): void { this.w.begin(EV_PLANT_BUGS); this.w.u32(flags); this.w.end(); }

  // ---- hashing and crypto (test vectors, benchmarks) -------------------------------------------

  /** XXH64 of `bytes` as the core computes it (placement hashes ids and names with seed 0). */
  xxh64(bytes: Uint8Array, seed = 0n): bigint {
    this.toInput(bytes);
    return this.output(this.probe<(len: number, seed: bigint) => number>('hashInput')(bytes.length, seed)).u64big();
  }

  sha256(bytes: Uint8Array): Uint8Array {
    this.toInput(bytes);
    return this.output(this.probe<(n: number) => number>('sha256Input')(bytes.length)).bytes(SHA256_BYTES);
  }

  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    const both = new Uint8Array(key.length + data.length);
    both.set(key); both.set(data, key.length);
    this.toInput(both);
    return this.output(this.probe<(k: number, d: number) => number>('hmacInput')(key.length, data.length)).bytes(SHA256_BYTES);
  }

  // ---- placement (vectors, property tests, benchmarks) ------------------------------------------

  /**
   * Owners of `ids` among `members`, as the core places them: index into `members`, or -1 when
   * no member advertises the id's kind. `kinds` is one kind for all ids or one per id.
   * `wasmMs` is the time spent inside the core alone.
   */
  place(ids: string[], kinds: string | string[], members: PlacementMember[]): { owners: Int32Array; wasmMs: number } {
    const w = new EventWriter();
    w.u32(members.length);
    for (const m of members) {
      w.str(m.name); w.f64(m.weight ?? 1);
      w.u32(m.kinds.length); for (const k of m.kinds) w.str(k);
    }
    if (typeof kinds === 'string') { w.u8(0); w.str(kinds); w.u32(ids.length); for (const id of ids) w.str(id); }
    else { w.u8(1); w.u32(ids.length); for (let i = 0; i < ids.length; i++) { w.str(ids[i]); w.str(kinds[i]); } }
    this.toInput(w.buf.subarray(0, w.len));
    const placeBatch = this.probe<(len: number) => number>('placeBatch');
    const t0 = performance.now();
    const n = placeBatch(w.len);
    const wasmMs = performance.now() - t0;
    if (n < 0) throw new RangeError('placement input did not decode');
    const r = this.output(n);
    const owners = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) owners[i] = r.u32() | 0;
    return { owners, wasmMs };
  }

  // ---- replicated state (simulator) --------------------------------------------------------

  /**
   * The args of every live entry this node holds for an id (concurrent adds leave several; specOf
   * gives only the effective one). Empty when the id is not desired here.
   */
  specArgsOf(id: string): string[] {
    const bytes = new TextEncoder().encode(id);
    const head = new Uint8Array(4 + bytes.length);
    new DataView(head.buffer).setUint32(0, bytes.length, true);
    head.set(bytes, 4);
    this.toInput(head);
    const r = this.output(this.probe<(len: number) => number>('querySpecArgs')(head.length));
    const count = r.u32();
    const args: string[] = [];
    for (let i = 0; i < count; i++) args.push(r.str());
    return args;
  }

  // ---- codec probes (tests, benchmarks) -----------------------------------------------------

  /**
   * Runs one frame through the decoders of a separate in-core "fuzz node" that has one
   * authenticated peer (its frames' tags taken as checked, so every frame reaches the member
   * decoders). Returns null if accepted, else the reason it was rejected.
   */
  fuzzFrame(bytes: Uint8Array): RejectReason | null {
    this.toInput(bytes);
    const code = this.probe<(n: number) => number>('fuzzFrame')(bytes.length);
    return code === 0 ? null : REJECT_REASONS[code];
  }

  /**
   * Runs one frame as the first frame of a fresh inbound link to a separate in-core node that
   * holds a secret (the handshake decoders). Returns null if accepted, else the reason.
   */
  fuzzHandshake(bytes: Uint8Array): RejectReason | null {
    this.toInput(bytes);
    const code = this.probe<(n: number) => number>('fuzzHandshake')(bytes.length);
    return code === 0 ? null : REJECT_REASONS[code];
  }

  /** Children the fuzz node holds after the frames it accepted. */
  /**
   * The global view computed from scratch by the core, without touching the view it keeps
   * (the simulator and the property tests compare it with globalChildren()).
   */
  globalChildrenScratch(): GlobalChildView[] {
    const len = (this.x.query as (kind: number) => number)(Q_GLOBAL_SCRATCH);
    const v = new GlobalViewCache();
    v.apply(this.output(len));
    return v.snapshot();
  }

  fuzzDesiredCount(): number { return this.probe<() => number>('fuzzDesiredCount')(); }

  /**
   * A digest of everything a frame can change on the fuzz node ('member') or the handshake node
   * ('handshake'): equal before and after a frame that was rejected.
   */
  fuzzDigest(node: 'member' | 'handshake'): bigint { return this.probe<(w: number) => bigint>('fuzzDigest')(node === 'member' ? 0 : 1); }

  /**
   * Runs a randomized self-test of one of the core's data structures inside Wasm against a
   * reference implementation; returns the number of disagreements (0 = correct).
   */
  selfTest(structure: 'strmap' | 'workqueue', seed: number, ops: number, keySpace: number): number {
    const name = structure === 'strmap' ? 'selfTestStrMap' : 'selfTestWorkQueue';
    return this.probe<(s: number, o: number, k: number) => number>(name)(seed >>> 0, ops, keySpace >>> 0);
  }
}
