// The global view on the JS side: the rows the core last answered with, kept between calls, so a
// call decodes only the rows that changed since the previous one (core-as/assembly/global-view.ts
// answers with where its columns are, as described there). Rows are frozen: every call returns a new array
// over the same row objects, and a row that did not change is the same object as last time.

import type { OutReader } from './effect-reader.js';
import { STATUS_NAMES, VR_NONE, VR_FAILED, VR_NO_MEMBER, VR_WAITING, VR_UNDESIRED } from './generated/boundary.js';
import type { ChildStatus, GlobalChildView } from './queries.js';

/** Answers with at least this many rows decode the id arena as one string and slice it; fewer, id by id. */
const IDS_AS_ONE_STRING_MIN = 256;
/** ... and only when the arena (holes and unchanged ids included) has at most this many units per row of the answer. */
const ARENA_UNITS_PER_ROW_MAX = 32;
const NODE_NONE = -1;

const utf16 = new TextDecoder('utf-16le');

/** One row, of one shape for every child (reason is undefined when there is none). */
class GlobalChild implements GlobalChildView {
  constructor(
    readonly id: string, readonly kind: string, readonly node: string | null, readonly status: ChildStatus,
    readonly restarts: number, readonly reason: string | undefined,
  ) {}
}

export class GlobalViewCache {
  /** The version of the answer the rows come from (0: none; the core then answers in full). */
  version = 0;
  private rows: GlobalChildView[] = [];
  private kinds: string[] = [];
  private nodes: string[] = [];
  /** Reason texts by kind index (no member advertises it) and by node index (waiting for it). */
  private noMemberReasons: string[] = [];
  private waitingReasons: string[] = [];

  /**
   * Applies an answer (the reader is at its start, over the core's memory) to the rows.
   * The answer points at the core's own columns, read here before anything else runs in the core.
   */
  apply(r: OutReader): void {
    const version = r.u32(), full = r.u32() === 1, count = r.u32();
    const kindsFrom = r.u32(), kindsTotal = r.u32();
    if (full) { this.kinds.length = 0; this.noMemberReasons.length = 0; }
    const kinds = this.kinds;
    for (let i = kindsFrom; i < kindsTotal; i++) kinds[i] = r.str();
    const nn = r.u32();
    const nodes: string[] = new Array(nn);
    for (let i = 0; i < nn; i++) nodes[i] = r.str();
    if (full || nodes.some((x, i) => x !== this.nodes[i])) this.waitingReasons.length = 0;
    this.nodes = nodes;
    const m = r.u32();
    r.pos = (r.pos + 3) & ~3;
    const buf = r.memory.buffer;
    const idStart = new Uint32Array(buf, r.u32(), count), idLen = new Uint32Array(buf, r.u32(), count);
    const restarts = new Uint32Array(buf, r.u32(), count);
    const kindIdx = new Uint16Array(buf, r.u32(), count), nodeIdx = new Int16Array(buf, r.u32(), count);
    const status = new Uint8Array(buf, r.u32(), count), reason = new Uint8Array(buf, r.u32(), count);
    const arena = new Uint16Array(buf, r.u32(), r.u32());
    const rowIdx = full ? null : new Uint32Array(buf, r.pos, m);
    if (!full) r.pos += 4 * m;
    const asOne = m >= IDS_AS_ONE_STRING_MIN && arena.length <= m * ARENA_UNITS_PER_ROW_MAX;
    const all = asOne ? utf16.decode(arena) : '';
    const rows = this.rows;
    if (full) rows.length = 0;
    for (let k = 0; k < m; k++) {
      const i = rowIdx === null ? k : rowIdx[k];
      const s = idStart[i], e = s + idLen[i];
      const id = asOne ? all.substring(s, e) : String.fromCharCode.apply(null, arena.subarray(s, e) as unknown as number[]);
      const ki = kindIdx[i], ni = nodeIdx[i], rc = reason[i];
      const why = rc === VR_NONE ? undefined : this.reasonOf(rc, ki, ni);
      rows[i] = Object.freeze(new GlobalChild(id, kinds[ki], ni === NODE_NONE ? null : nodes[ni], STATUS_NAMES[status[i]], restarts[i], why));
    }
    rows.length = count;
    this.version = version;
  }

  /** The rows as last applied, in a new array. */
  snapshot(): GlobalChildView[] { return this.rows.slice(); }

  private reasonOf(code: number, kind: number, node: number): string | undefined {
    switch (code) {
      case VR_FAILED: return 'restart intensity exceeded';
      case VR_UNDESIRED: return 'no longer desired';
      case VR_NO_MEMBER: return (this.noMemberReasons[kind] ??= `no live member advertises kind ${this.kinds[kind]} (or every one is cordoned)`);
      case VR_WAITING: return (this.waitingReasons[node] ??= `waiting for owner ${this.nodes[node]}`);
      default: return undefined;
    }
  }
}
