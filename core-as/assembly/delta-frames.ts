// A DELTA as frames of at most SYNC_FRAME_BYTES_MAX, each a delta of its own: some entries, some
// removed dots, and as its context exactly the dots it carries, so the receiver merges each frame
// as it arrives and none waits for another. Frames on a link arrive in order, and the phases keep
// every state between two frames one that ordinary deltas could also produce:
//   1. entries: a new entry arrives before the removal of the one it supersedes, so an id never
//      looks terminated between two frames;
//   2. removed dots, each in one frame with the failed marks of it (the merge tells a mark's own
//      removal of its origin from a terminate only within one frame, crdt.ts);
//   3. the dots of removes (terminates) that 1 and 2 did not carry, as context only;
//   4. the dots whose acknowledgement is asked.

import { MSG_DELTA } from './codec';
import { FRAME_HEADER_BYTES, SYNC_FRAME_BYTES_MAX } from './limits';
import { Node } from './node';
import { Delta, Entry, dotKey } from './crdt';
import { encodeDelta, replicaTableBytes } from './crdt-wire';

/** One entry: rep, counter, spec, origin rep and counter, and its dot again in the context. */
function entryBytes(e: Entry): i32 { return 4 + 8 + e.spec.encodedBytes() + 4 + 8 + 8; }
/** A removed dot, and again in the context. */
const REMOVED_BYTES: i32 = 12 + 8;
const CONTEXT_DOT_BYTES: i32 = 8;
const ACK_BYTES: i32 = 12;
/** A context row (rep, max, cloud count) per replica, at most one per replica of the table. */
const CONTEXT_ROW_BYTES: i32 = 16;

/** Fills one frame's delta and sends it when the next item would not fit. */
class Cutter {
  chunk: Delta = new Delta();
  private bytes: i32;
  private base: i32;
  constructor(private n: Node, private link: u32) {
    const s = n.desired;
    // header, replica table, the four list counts, the context rows, the `full` flag
    this.base = FRAME_HEADER_BYTES + replicaTableBytes(s) + 16 + CONTEXT_ROW_BYTES * s.replicas.list.length + 1;
    this.bytes = this.base;
  }

  /** Makes room for an item of `b` bytes: sends the frame so far if it would not fit (an item larger than a frame goes alone). */
  room(b: i32): void {
    if (this.bytes + b > SYNC_FRAME_BYTES_MAX && this.bytes > this.base) this.flush();
    this.bytes += b;
  }

  entry(e: Entry): void {
    this.chunk.entries.push(e);
    this.chunk.dots.push(dotKey(e.rep, e.ctr));
  }

  flush(): void {
    if (this.bytes == this.base) return;
    const n = this.n;
    encodeDelta(n.outbox.frame(MSG_DELTA), n.desired, this.chunk, false);
    if (this.link == 0) n.outbox.toAll(n.members);
    else n.outbox.to(this.link);
    this.chunk.clear();
    this.bytes = this.base;
  }
}

/** Sends `d` as DELTA frames to one link, or to every member with `link` 0. */
export function sendDeltaFrames(n: Node, d: Delta, link: u32): void {
  const c = new Cutter(n, link);
  // Failed marks whose marked entry this delta removes travel with that removal.
  const gone = new Set<u64>();
  for (let i = 0; i < d.removed.length; i++) gone.add(d.removed[i]);
  const marksOf = new Map<u64, Array<Entry>>();
  for (let i = 0; i < d.entries.length; i++) {
    const e = d.entries[i];
    if (e.origin == 0 || !gone.has(e.origin)) { c.room(entryBytes(e)); c.entry(e); continue; }
    if (!marksOf.has(e.origin)) marksOf.set(e.origin, []);
    marksOf.get(e.origin).push(e);
  }
  for (let i = 0; i < d.removed.length; i++) {
    const k = d.removed[i];
    const marks = marksOf.has(k) ? marksOf.get(k) : new Array<Entry>();
    let b = REMOVED_BYTES;
    for (let j = 0; j < marks.length; j++) b += entryBytes(marks[j]);
    c.room(b);
    c.chunk.removed.push(k);
    c.chunk.dots.push(k);
    for (let j = 0; j < marks.length; j++) c.entry(marks[j]);
    if (marks.length > 0) marksOf.delete(k);
  }
  if (d.dots.length > 0) {
    const carried = new Set<u64>();
    for (let i = 0; i < d.entries.length; i++) carried.add(dotKey(d.entries[i].rep, d.entries[i].ctr));
    for (let i = 0; i < d.removed.length; i++) carried.add(d.removed[i]);
    for (let i = 0; i < d.dots.length; i++) {
      if (carried.has(d.dots[i])) continue;
      c.room(CONTEXT_DOT_BYTES);
      c.chunk.dots.push(d.dots[i]);
    }
  }
  for (let i = 0; i < d.acks.length; i++) { c.room(ACK_BYTES); c.chunk.acks.push(d.acks[i]); }
  c.flush();
}
