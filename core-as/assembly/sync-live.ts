// SYNC_LIVE: the second half of an anti-entropy answer (sync.ts), after the DELTA frames of the
// entries the asker lacks. Each frame covers ranges of dots, the counters (lo, hi] of one replica,
// and carries the sender's causal context and live dots within them; the receiver joins its state
// with that, range by range (Desired.joinRanges): it drops its own entries there that the sender
// has seen but no longer holds, and learns what the sender has seen. A replica's first range
// starts at 0 and its last ends at DOT_COUNTER_MAX, so one answer's frames cover every dot the
// sender has seen, in SYNC_FRAME_BYTES_MAX each.
//
//   SYNC_LIVE = replicas, u32 ranges, each: u32 rep, u64 lo, u64 hi, u64 max (the sender's
//               contiguous context of rep, of which (lo, min(max, hi)] counts), u32 n, u64 × n
//               (its other seen counters in (lo, hi]), u32 m, u64 × m (its live counters in (lo, hi])

import { Reader, Writer } from './io';
import { MSG_SYNC_LIVE } from './codec';
import { SYNC_FRAME_BYTES_MAX, WIRE_ITEMS_MAX, WIRE_REPLICAS_MAX, DOT_COUNTER_MAX } from './limits';
import { Node } from './node';
import { LiveRange, dotRep, dotCtr } from './crdt';
import { encodeReplicaTable, readReplicaTable, commitReplicas } from './crdt-wire';

/** A range's fixed fields: rep, lo, hi, max and the two counts. */
const RANGE_BYTES: i32 = 4 + 8 + 8 + 8 + 4 + 4;
const COUNTER_BYTES: i32 = 8;

const byCounter = (a: u64, b: u64): i32 => (a < b ? -1 : a > b ? 1 : 0);

/** Writes ranges into frames, sending each frame when the next range does not fit. */
class LiveFrames {
  private w: Writer | null = null;
  private countAt: i32 = 0;
  private ranges: u32 = 0;
  constructor(private n: Node, private link: u32) {}

  /** The frame being filled, with room for a range and one counter. */
  private frame(): Writer {
    let w = this.w;
    if (w != null && w.len + RANGE_BYTES + COUNTER_BYTES > SYNC_FRAME_BYTES_MAX && this.ranges > 0) { this.flush(); w = null; }
    if (w == null) {
      w = this.n.outbox.frame(MSG_SYNC_LIVE);
      encodeReplicaTable(w, this.n.desired);
      this.countAt = w.len;
      w.u32(0);
      this.ranges = 0;
      this.w = w;
    }
    return w;
  }

  flush(): void {
    const w = this.w;
    if (w == null) return;
    w.patchU32(this.countAt, this.ranges);
    this.n.outbox.to(this.link);
    this.w = null;
  }

  /** One replica's context (`ctxMax` and the sorted `cloud`) and sorted live counters, in as many ranges as it takes. */
  replica(rep: i32, ctxMax: u64, live: Array<u64>, cloud: Array<u64>): void {
    let lo: u64 = 0, li = 0, ci = 0;
    while (true) {
      const w = this.frame();
      const room = max(1, (SYNC_FRAME_BYTES_MAX - w.len - RANGE_BYTES) / COUNTER_BYTES);
      // Counters in order; one both live and in the cloud is taken as one, so no cut falls between.
      let li2 = li, ci2 = ci, taken = 0, last: u64 = 0;
      while (taken < room && (li2 < live.length || ci2 < cloud.length)) {
        const hasL = li2 < live.length, hasC = ci2 < cloud.length;
        const l = hasL ? live[li2] : 0, c = hasC ? cloud[ci2] : 0;
        const takeL = hasL && (!hasC || l <= c), takeC = hasC && (!hasL || c <= l);
        if (takeL) { last = l; li2++; taken++; }
        if (takeC) { last = c; ci2++; taken++; }
      }
      const done = li2 == live.length && ci2 == cloud.length;
      const hi = done ? DOT_COUNTER_MAX : last;
      w.u32(<u32>rep);
      w.u64(lo);
      w.u64(hi);
      w.u64(ctxMax);
      w.u32(<u32>(ci2 - ci));
      for (let i = ci; i < ci2; i++) w.u64(cloud[i]);
      w.u32(<u32>(li2 - li));
      for (let i = li; i < li2; i++) w.u64(live[i]);
      this.ranges++;
      if (done) return;
      this.flush();
      lo = hi; li = li2; ci = ci2;
    }
  }
}

/** Sends our context and live dots to `link` as SYNC_LIVE frames. */
export function sendSyncLive(n: Node, link: u32): void {
  const s = n.desired;
  const ctx = s.ctx;
  const reps = ctx.maxes.length;
  const live = new Array<Array<u64>>(reps);
  for (let r = 0; r < reps; r++) live[r] = [];
  const keys = s.byDot.keys();
  for (let i = 0; i < keys.length; i++) {
    const r = dotRep(keys[i]);
    // Every live dot is in the context; one that is not would be a core bug, and is not sent.
    if (r < reps) live[r].push(dotCtr(keys[i]));
  }
  const f = new LiveFrames(n, link);
  for (let r = 0; r < reps; r++) {
    const c = ctx.clouds[r];
    if (ctx.maxes[r] == 0 && c == null) continue;
    const cloud = c == null ? new Array<u64>() : c.values();
    cloud.sort(byCounter);
    live[r].sort(byCounter);
    f.replica(r, ctx.maxes[r], live[r], cloud);
  }
  f.flush();
}

export function onSyncLive(n: Node, r: Reader): bool {
  const s = n.desired;
  const map = readReplicaTable(r, s);
  if (!r.ok) return false;
  const count = r.count(WIRE_REPLICAS_MAX, RANGE_BYTES);
  const ranges = new Array<LiveRange>();
  const reps = new Set<i32>();
  for (let i = 0; i < count; i++) {
    const ref = r.u32();
    const lo = r.u64();
    const hi = r.u64();
    const max = r.u64();
    if (!r.ok || ref >= <u32>map.length || lo >= hi || hi > DOT_COUNTER_MAX || reps.has(map[ref])) return false;
    const g = new LiveRange(map[ref], lo, hi, max);
    reps.add(g.rep);
    if (!readCounters(r, g, g.cloud) || !readCounters(r, g, g.live)) return false;
    ranges.push(g);
  }
  if (!r.ok || r.remaining != 0) return false;
  commitReplicas(s);
  const changed = s.joinRanges(ranges);
  for (let i = 0; i < changed.length; i++) n.dirty.add(changed[i]);
  return true;
}

/** A list of counters, each within the range. */
function readCounters(r: Reader, g: LiveRange, into: Set<u64>): bool {
  const m = r.count(WIRE_ITEMS_MAX, COUNTER_BYTES);
  for (let j = 0; j < m; j++) {
    const c = r.u64();
    if (!r.ok || !g.covers(c)) return false;
    into.add(c);
  }
  return r.ok;
}
