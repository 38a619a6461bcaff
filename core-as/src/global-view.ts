// The global view on the JS side: the rows the core last answered with, kept between calls, so a
// call decodes only the rows that changed since the previous one (core-as/assembly/global-view.ts
// writes them, with the layout described there). Rows are frozen: every call returns a new array
// over the same row objects, and a row that did not change is the same object as last time.

import type { OutReader } from './effect-reader.js';
import { STATUS_NAMES, VR_FAILED, VR_NO_MEMBER, VR_WAITING, VR_UNDESIRED } from './generated/boundary.js';
import type { ChildStatus, GlobalChildView } from './queries.js';

/** Answers with more ids than this decode them as one string and slice it; fewer, one by one. */
const IDS_AS_ONE_STRING_MIN = 256;
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

  /** Applies an answer (the reader is at its start, over the core's memory) and returns the rows. */
  apply(r: OutReader): GlobalChildView[] {
    const version = r.u32(), full = r.u32() === 1, count = r.u32();
    const kindsFrom = r.u32(), kindsTotal = r.u32();
    if (full) { this.kinds.length = 0; this.noMemberReasons.length = 0; }
    for (let i = kindsFrom; i < kindsTotal; i++) this.kinds[i] = r.str();
    const nn = r.u32();
    const nodes: string[] = new Array(nn);
    for (let i = 0; i < nn; i++) nodes[i] = r.str();
    if (full || nodes.some((x, i) => x !== this.nodes[i])) this.waitingReasons.length = 0;
    this.nodes = nodes;
    const m = r.u32();
    const buf = r.memory.buffer;
    let p = (r.pos + 3) & ~3;
    const rowIdx = full ? null : new Uint32Array(buf, p, m);
    if (!full) p += 4 * m;
    const ends = new Uint32Array(buf, p, m); p += 4 * m;
    const restarts = new Uint32Array(buf, p, m); p += 4 * m;
    const kindIdx = new Uint16Array(buf, p, m); p += 2 * m;
    const nodeIdx = new Int16Array(buf, p, m); p += 2 * m;
    const status = new Uint8Array(buf, p, m); p += m;
    const reason = new Uint8Array(buf, p, m); p += m;
    p = (p + 1) & ~1;
    const units = m > 0 ? ends[m - 1] : 0;
    const chars = new Uint16Array(buf, p, units);
    const all = m >= IDS_AS_ONE_STRING_MIN ? utf16.decode(chars) : '';
    const rows = this.rows;
    if (full) rows.length = 0;
    let start = 0;
    for (let k = 0; k < m; k++) {
      const end = ends[k];
      const id = m >= IDS_AS_ONE_STRING_MIN ? all.substring(start, end) : String.fromCharCode.apply(null, chars.subarray(start, end) as unknown as number[]);
      start = end;
      const kind = this.kinds[kindIdx[k]];
      const ni = nodeIdx[k];
      const row = new GlobalChild(id, kind, ni === NODE_NONE ? null : nodes[ni], STATUS_NAMES[status[k]], restarts[k], this.reasonOf(reason[k], kindIdx[k], ni));
      rows[rowIdx === null ? k : rowIdx[k]] = Object.freeze(row);
    }
    rows.length = count;
    r.pos = p + 2 * units;
    this.version = version;
    return rows.slice();
  }

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
