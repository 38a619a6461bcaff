// The runtime's queue of host → core events, in lanes: one per link (its opening, its frames, its
// close) and one for everything else (init, dial failures, runner reports, answers). A step that
// takes the whole queue takes it in the order it arrived. A step cut to a byte budget takes whole
// records from the lanes by fair share of bytes (the lane handed the fewest bytes so far goes
// next), and hands them to the core in their order of arrival.
//
// Why: a member with megabytes queued on one link (a newcomer's anti-entropy answers) would
// otherwise handle a new link's HELLO and AUTH only after all of it, while the member at the other
// end, its side of the link up, hears nothing and times it out. With lanes, a link's frames wait
// only behind its own backlog and a share of the others'.
//
// What does not change: the records of one lane keep their order (a link's opening, its frames in
// the order they came, its close last), so nothing the core sees on a link is reordered; records
// of different lanes are concurrent anyway (separate sockets, separate sources). Nothing is
// dropped, and when a member is heard is still when its bytes arrive (heard.ts), so a silent
// member is down after failureTimeoutMs as before.

import { EventWriter, type RecordStamp } from './event-writer.js';
import { EVENT_BUFFER_BYTES } from './limits.js';

/** A drained lane whose buffer grew past this is let go rather than kept for reuse. */
const POOLED_LANE_BYTES_MAX = 16 * EVENT_BUFFER_BYTES;

/** The arrival numbers of one lane's queued records, oldest first. */
class Arrivals implements RecordStamp {
  private seqs: number[] = [];
  private head = 0;
  constructor(private readonly clock: { next: number }) {}
  stamp(): void { this.seqs.push(this.clock.next++); }
  get count(): number { return this.seqs.length - this.head; }
  /** The arrival number of the `i`-th queued record. */
  at(i: number): number { return this.seqs[this.head + i]; }
  drop(k: number): void {
    this.head += k;
    if (this.head === this.seqs.length) { this.seqs.length = 0; this.head = 0; }
    else if (this.head >= 1024 && this.head * 2 >= this.seqs.length) { this.seqs.splice(0, this.head); this.head = 0; }
  }
}

class Lane {
  readonly w = new EventWriter();
  readonly arrivals: Arrivals;
  /** Bytes handed to the core from this lane (fair share); a lane that becomes busy starts level with the others. */
  served = 0;
  idle = true;
  // The step being built: the records taken are [w.head, takenEnd), `taken` of them.
  takenEnd = 0;
  taken = 0;
  // Merge cursor.
  pos = 0;
  idx = 0;
  constructor(clock: { next: number }) {
    this.arrivals = new Arrivals(clock);
    this.w.stamps = this.arrivals;
  }
}

export class InputLanes {
  private readonly clock = { next: 0 };
  private readonly localLane = new Lane(this.clock);
  /** Everything that is not a link's: init, dial failures, runner reports, pair keys, ticks. */
  readonly local: EventWriter = this.localLane.w;
  private readonly links = new Map<number, Lane>();
  private readonly pool: Lane[] = [];
  /** The least `served` among busy lanes at the last cut: where a lane that becomes busy starts. */
  private level = 0;
  /** Scratch: the busy lanes of the step being built. */
  private readonly busy: Lane[] = [];

  /** The writer of `link`'s lane (its opening, frames and close). */
  link(link: number): EventWriter {
    let l = this.links.get(link);
    if (l === undefined) {
      l = this.pool.pop() ?? new Lane(this.clock);
      l.served = 0;
      this.links.set(link, l);
    }
    return l.w;
  }

  get queued(): number {
    let n = this.localLane.w.queued;
    for (const l of this.links.values()) n += l.w.queued;
    return n;
  }

  /**
   * Chooses the records the next step takes: all of them if they fit in `budget` bytes, else
   * whole records by fair share, at least one when `atLeastOne`. Returns their bytes; `copy` then
   * writes them out and drops them from the queue.
   */
  take(budget: number, atLeastOne: boolean): number {
    const busy = this.busy;
    busy.length = 0;
    let total = 0;
    if (this.localLane.w.queued > 0) busy.push(this.localLane);
    for (const l of this.links.values()) if (l.w.queued > 0) busy.push(l);
    for (const l of busy) {
      if (l.idle) { l.idle = false; if (l.served < this.level) l.served = this.level; }
      l.takenEnd = l.w.head;
      l.taken = 0;
      total += l.w.queued;
    }
    if (total <= budget) {
      for (const l of busy) { l.takenEnd = l.w.len; l.taken = l.arrivals.count; l.served += l.w.queued; }
      return total;
    }
    let bytes = 0;
    for (;;) {
      // The busy lane served least, and of those the one whose next record came first.
      let next: Lane | null = null;
      for (const l of busy) {
        if (l.takenEnd === l.w.len) continue;
        if (next === null || l.served < next.served || (l.served === next.served && l.arrivals.at(l.taken) < next.arrivals.at(next.taken))) next = l;
      }
      if (next === null) break;
      const end = next.w.recordEnd(next.takenEnd);
      const size = end - next.takenEnd;
      if (bytes + size > budget && (bytes > 0 || !atLeastOne)) break;
      next.takenEnd = end;
      next.taken++;
      next.served += size;
      bytes += size;
    }
    let level = Infinity;
    for (const l of busy) if (l.takenEnd < l.w.len && l.served < level) level = l.served;
    if (level !== Infinity) this.level = level;
    return bytes;
  }

  /** Writes the records `take` chose into `mem` at `at`, in their order of arrival, and drops them from the lanes. */
  copy(mem: Uint8Array, at: number): void {
    const busy = this.busy;
    let open = 0;
    for (const l of busy) { l.pos = l.w.head; l.idx = 0; if (l.taken > 0) open++; }
    let p = at;
    while (open > 0) {
      // The lane whose next taken record came first, and the arrival number it runs up to.
      let first: Lane | null = null;
      let second = Infinity;
      for (const l of busy) {
        if (l.idx === l.taken) continue;
        const s = l.arrivals.at(l.idx);
        if (first === null || s < first.arrivals.at(first.idx)) {
          if (first !== null) second = first.arrivals.at(first.idx);
          first = l;
        } else if (s < second) second = s;
      }
      const l = first!;
      const from = l.pos;
      if (second === Infinity) { l.pos = l.takenEnd; l.idx = l.taken; }
      else while (l.idx < l.taken && l.arrivals.at(l.idx) < second) { l.pos = l.w.recordEnd(l.pos); l.idx++; }
      mem.set(l.w.buf.subarray(from, l.pos), p);
      p += l.pos - from;
      if (l.idx === l.taken) open--;
    }
    for (const l of busy) {
      l.w.consume(l.takenEnd);
      l.arrivals.drop(l.taken);
      l.taken = 0;
      if (l.w.queued === 0) l.idle = true;
    }
    busy.length = 0;
    for (const [id, l] of this.links) {
      if (l.w.queued > 0) continue;
      this.links.delete(id);
      if (l.w.buf.length <= POOLED_LANE_BYTES_MAX) this.pool.push(l);
    }
  }
}
