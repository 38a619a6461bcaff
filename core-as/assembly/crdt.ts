// The replicated set of desired children: an add-wins observed-remove map keyed by child id, in
// the style of delta-state CRDTs (Almeida et al.). Every operation gets a dot (replica, counter);
// a causal context records every dot a replica has seen. An entry arriving with a dot already in
// the context was removed here and stays removed (terminate is never undone by an older start).
// Concurrent adds of one id leave several entries; the effective one is the greatest dot, the
// same on every node.

// This file is the algebra (local ops, merge, digest); crdt-wire.ts encodes and decodes it.

import { Writer } from './io';
import { Spec } from './spec';
import { xxh64, xxh64String, mix64 } from './hash';
import { StrMap } from './strmap';
import { TESTING } from './flags';
import { ViewFeed } from './view-feed';
import { GroupIndex } from './groups';
import { DOT_COUNTER_BITS, DOT_COUNTER_MAX, DOT_REPLICAS_MAX, ENTRY_HASH_SCRATCH_BYTES, RANGE_PROBES_PER_ITEM } from './limits';

/** A replica is one incarnation of one node. Indices are local to this core. */
export class Replica {
  constructor(public name: string, public inc: u64, public key: string) {}
}

export class Replicas {
  list: Array<Replica> = [];
  byKey: Map<string, i32> = new Map();

  knows(name: string, inc: u64): bool { return this.byKey.has(name + '#' + inc.toString()); }

  index(name: string, inc: u64): i32 {
    const key = name + '#' + inc.toString();
    if (this.byKey.has(key)) return this.byKey.get(key);
    const i = this.list.length;
    this.list.push(new Replica(name, inc, key));
    this.byKey.set(key, i);
    return i;
  }
}

// Dots pack into one u64: replica index in the top DOT_REPLICA_BITS, counter in the low
// DOT_COUNTER_BITS. Nothing is masked: the wire decoders refuse dots that do not fit, and our
// own counter would need 2^40 ops, so a dot that does not fit here is a core bug.
export function dotKey(rep: i32, ctr: u64): u64 {
  assert(rep >= 0 && rep < DOT_REPLICAS_MAX && ctr <= DOT_COUNTER_MAX, 'dot out of range');
  return (<u64>rep << DOT_COUNTER_BITS) | ctr;
}
export function dotRep(k: u64): i32 { return <i32>(k >> DOT_COUNTER_BITS); }
export function dotCtr(k: u64): u64 { return k & DOT_COUNTER_MAX; }
/** A counter from the wire that a dot can hold. */
export function dotCounterFits(ctr: u64): bool { return ctr <= DOT_COUNTER_MAX; }

/** Version vector plus a cloud of non-contiguous dots, per replica. Always kept compact. */
export class Context {
  maxes: Array<u64> = [];
  clouds: Array<Set<u64> | null> = [];

  private grow(rep: i32): void {
    while (this.maxes.length <= rep) { this.maxes.push(0); this.clouds.push(null); }
  }

  has(rep: i32, ctr: u64): bool {
    if (rep >= this.maxes.length) return false;
    if (ctr <= this.maxes[rep]) return true;
    const c = this.clouds[rep];
    return c != null && c.has(ctr);
  }

  add(rep: i32, ctr: u64): void {
    this.grow(rep);
    let m = this.maxes[rep];
    if (ctr <= m) return;
    if (ctr == m + 1) {
      m = ctr;
      const c = this.clouds[rep];
      if (c != null) {
        while (c.has(m + 1)) { c.delete(m + 1); m++; }
        if (c.size == 0) this.clouds[rep] = null;
      }
      this.maxes[rep] = m;
    } else {
      let c = this.clouds[rep];
      if (c == null) { c = new Set<u64>(); this.clouds[rep] = c; }
      c.add(ctr);
    }
  }

  addRange(rep: i32, max: u64): void {
    this.grow(rep);
    if (max <= this.maxes[rep]) return;
    this.maxes[rep] = max;
    const c = this.clouds[rep];
    if (c != null) {
      const vals = c.values();
      for (let i = 0; i < vals.length; i++) if (vals[i] <= max) c.delete(vals[i]);
      // absorb what became contiguous
      let m = max;
      while (c.has(m + 1)) { c.delete(m + 1); m++; }
      this.maxes[rep] = m;
      if (c.size == 0) this.clouds[rep] = null;
    }
  }

  /** Every dot here is also in `o`. */
  subsetOf(o: Context): bool {
    for (let r = 0; r < this.maxes.length; r++) {
      const m = this.maxes[r];
      const om: u64 = r < o.maxes.length ? o.maxes[r] : 0;
      if (m > om) {
        // dots om+1..m must all be in o's cloud
        const oc: Set<u64> | null = r < o.clouds.length ? o.clouds[r] : null;
        if (oc == null) return false;
        for (let x = om + 1; x <= m; x++) if (!oc.has(x)) return false;
      }
      const c = this.clouds[r];
      if (c != null) {
        const vals = c.values();
        for (let i = 0; i < vals.length; i++) if (!o.has(r, vals[i])) return false;
      }
    }
    return true;
  }
}

export class Entry {
  hash: u64 = 0;
  /**
   * For a failed mark (the owner marking a child failed): the dot of the entry it marks, else 0.
   * A mark is a new add, so without this it would resurrect a child that a concurrent
   * terminate removed (see Desired.mergeDelta).
   */
  origin: u64 = 0;
  constructor(public id: string, public rep: i32, public ctr: u64, public spec: Spec) {}
}

/** What one local operation or one merge changed, to be sent on as a delta. */
export class Delta {
  entries: Array<Entry> = [];
  removed: Array<u64> = [];   // dots removed (superseded or terminated)
  dots: Array<u64> = [];      // context dots (includes the above and op dots)
  acks: Array<u64> = [];      // dots the receivers should acknowledge
  get empty(): bool { return this.entries.length == 0 && this.dots.length == 0; }
  clear(): void { this.entries = []; this.removed = []; this.dots = []; this.acks = []; }
}

/** A DELTA from a peer, decoded in full before any of it is applied (crdt-wire.ts). */
export class IncomingDelta {
  entries: Array<Entry> = [];
  removed: Array<u64> = [];
  context: Context = new Context();
  acks: Array<u64> = [];
  /** An anti-entropy answer: `live` holds every dot the sender holds live. */
  full: bool = false;
  live: Array<u64> = [];
}

/**
 * A peer's view of one replica's counters in (lo, hi] (a SYNC_LIVE range): what it has seen there,
 * (lo, min(max, hi)] and `cloud`, and which of those it holds live.
 */
export class LiveRange {
  cloud: Set<u64> = new Set();
  live: Set<u64> = new Set();
  constructor(public rep: i32, public lo: u64, public hi: u64, public max: u64) {}
  covers(ctr: u64): bool { return ctr > this.lo && ctr <= this.hi; }
  seen(ctr: u64): bool { return (ctr <= this.max || this.cloud.has(ctr)) && this.covers(ctr); }
}

/** Result of merging a DELTA from a peer. */
export class MergeResult {
  changed: Array<string> = [];
  acks: Array<u64> = [];
}

const scratch = new Writer(ENTRY_HASH_SCRATCH_BYTES);

export class Desired {
  replicas: Replicas = new Replicas();
  ctx: Context = new Context();
  store: StrMap<Array<Entry>> = new StrMap<Array<Entry>>();
  byDot: Map<u64, Entry> = new Map();
  liveXor: u64 = 0;
  myRep: i32 = -1;
  myCtr: u64 = 0;
  /** Planted bug: a late add is not checked against the causal context (testing builds only). */
  bugTerminateLoses: bool = false;
  /** Ids whose entries changed, for the global view (set by Node.init; idle until then). */
  feed: ViewFeed = new ViewFeed();
  /** Live failed marks (entries with an origin): the merge looks for them only when there are some. */
  liveMarks: i32 = 0;
  /** Which ids' entries name each group (groups.ts). */
  groups: GroupIndex = new GroupIndex();

  init(name: string, inc: u64): void {
    this.myRep = this.replicas.index(name, inc);
  }

  get size(): i32 { return this.store.size; }

  /** The effective entry of an id: its greatest dot (by counter, then replica name, then incarnation). */
  get(id: string): Entry | null {
    const at = this.store.find(id);
    return at < 0 ? null : this.effectiveAt(at);
  }

  /** get() of the id in a slot of `store` that holds one (a walk by slot, sweep.ts). */
  effectiveAt(slot: i32): Entry {
    const es = this.store.valueAt(slot);
    let best = es[0];
    for (let i = 1; i < es.length; i++) if (this.greater(es[i], best)) best = es[i];
    return best;
  }

  private greater(a: Entry, b: Entry): bool {
    if (a.ctr != b.ctr) return a.ctr > b.ctr;
    const ra = this.replicas.list[a.rep], rb = this.replicas.list[b.rep];
    if (ra.name != rb.name) return ra.name > rb.name;
    return ra.inc > rb.inc;
  }

  private entryHash(e: Entry): u64 {
    scratch.reset();
    const r = this.replicas.list[e.rep];
    scratch.str(r.name);
    scratch.u64(r.inc);
    scratch.u64(e.ctr);
    e.spec.encode(scratch);
    if (e.origin != 0) {
      const o = this.replicas.list[dotRep(e.origin)];
      scratch.str(o.name);
      scratch.u64(o.inc);
      scratch.u64(dotCtr(e.origin));
    }
    return mix64(xxh64(scratch.buf.dataStart, scratch.len, 0));
  }

  private insert(e: Entry): void {
    e.hash = this.entryHash(e);
    if (this.store.has(e.id)) this.store.get(e.id).push(e);
    else this.store.set(e.id, [e]);
    this.byDot.set(dotKey(e.rep, e.ctr), e);
    this.feed.touch(e.id);
    this.liveXor ^= e.hash;
    if (e.origin != 0) this.liveMarks++;
    if (e.spec.groups.length > 0) this.groups.add(e.id, e.spec.groups);
  }

  private drop(k: u64): Entry | null {
    if (!this.byDot.has(k)) return null;
    const e = this.byDot.get(k);
    this.byDot.delete(k);
    this.feed.touch(e.id);
    this.liveXor ^= e.hash;
    if (e.origin != 0) this.liveMarks--;
    if (e.spec.groups.length > 0) this.groups.drop(e.id, e.spec.groups);
    const es = this.store.get(e.id);
    const idx = es.indexOf(e);
    if (idx >= 0) es.splice(idx, 1);
    if (es.length == 0) this.store.delete(e.id);
    return e;
  }

  private nextDot(): u64 {
    this.myCtr++;
    this.ctx.add(this.myRep, this.myCtr);
    return dotKey(this.myRep, this.myCtr);
  }

  private supersede(id: string, d: Delta): void {
    if (!this.store.has(id)) return;
    const es = this.store.get(id).slice(0);
    for (let i = 0; i < es.length; i++) {
      const k = dotKey(es[i].rep, es[i].ctr);
      this.drop(k);
      d.removed.push(k);
      d.dots.push(k);
    }
  }

  /**
   * Local add (startChild, or the owner marking a child failed, with `origin` the dot of the
   * entry it marks): supersedes what we have seen.
   */
  add(spec: Spec, d: Delta, origin: u64 = 0): u64 {
    this.supersede(spec.id, d);
    const k = this.nextDot();
    const e = new Entry(spec.id, this.myRep, dotCtr(k), spec);
    e.origin = origin;
    this.insert(e);
    d.entries.push(e);
    d.dots.push(k);
    return k;
  }

  /**
   * Local remove (terminateChild, or a temporary/transient child that is done). Without
   * `supersede`, removes nothing by itself: a terminate extending its removal (removeDots) takes
   * a new dot so members can show they hold the extension.
   */
  remove(id: string, d: Delta, supersede: bool = true): u64 {
    if (supersede) this.supersede(id, d);
    const k = this.nextDot();
    d.dots.push(k);
    return k;
  }

  /**
   * Removes dots of adds this replica may never have held (a member reported them, terminates.ts):
   * they join the context, so an entry that arrives with one later is dropped here as removed,
   * and go out as removed dots, so members that hold them drop them.
   */
  removeDots(ks: Array<u64>, d: Delta): void {
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i];
      this.drop(k);
      this.ctx.add(dotRep(k), dotCtr(k));
      d.removed.push(k);
      d.dots.push(k);
    }
  }

  /** Planted bug switch; always false in release builds. */
  private get terminateLoses(): bool { return TESTING && this.bugTerminateLoses; }

  /**
   * Merges a peer's DELTA: its entries (unless we removed them), its removals, and, for an
   * anti-entropy answer, drops what the sender has seen but no longer holds. Returns the ids
   * that changed and the dots the sender wants acknowledged.
   */
  merge(dd: IncomingDelta): MergeResult {
    const res = new MergeResult();
    const es = dd.entries;
    const removed = dd.removed;
    const ctx = dd.context;
    const live = dd.live;
    const full = dd.full;
    for (let i = 0; i < es.length; i++) {
      const e = es[i];
      const k = dotKey(e.rep, e.ctr);
      if (this.byDot.has(k)) continue;
      if (this.ctx.has(e.rep, e.ctr) && !this.terminateLoses) continue;
      // A failed mark must not undo a terminate. The owner on one side of a partition may mark
      // a child failed (a new add) while the other side terminates it; add-wins would bring
      // the terminated child back, as failed. A mark whose marked entry we removed ourselves
      // (no mark of it is live here, so not by a mark) loses; the sender learns it from our
      // next anti-entropy answer.
      if (e.origin != 0 && !this.terminateLoses && this.ctx.has(dotRep(e.origin), dotCtr(e.origin)) &&
        !this.byDot.has(e.origin) && !this.hasMarkOf(e.id, e.origin)) continue;
      this.insert(e);
      res.changed.push(e.id);
    }
    for (let i = 0; i < removed.length; i++) {
      const e = this.drop(removed[i]);
      if (e != null) res.changed.push(e.id);
    }
    // The same rule, other order: a removal of a marked entry (a terminate, or a start, that had
    // observed the entry but not the mark) also removes its marks, unless the removal comes
    // from a mark in this very message.
    if (this.liveMarks > 0 && removed.length > 0 && !this.terminateLoses) {
      const gone = new Set<u64>();
      for (let i = 0; i < removed.length; i++) gone.add(removed[i]);
      for (let i = 0; i < es.length; i++) if (es[i].origin != 0 && gone.has(es[i].origin)) gone.delete(es[i].origin);
      if (gone.size > 0) {
        const vals = this.byDot.values();
        for (let i = 0; i < vals.length; i++) {
          const m = vals[i];
          if (m.origin != 0 && gone.has(m.origin) && this.drop(dotKey(m.rep, m.ctr)) != null) res.changed.push(m.id);
        }
      }
    }
    if (full && !this.terminateLoses) {
      // State join: keep my entry if the sender holds it too, or has never seen it.
      const theirs = new Set<u64>();
      for (let i = 0; i < live.length; i++) theirs.add(live[i]);
      const mine = this.byDot.keys();
      for (let i = 0; i < mine.length; i++) {
        const k = mine[i];
        if (!theirs.has(k) && ctx.has(dotRep(k), dotCtr(k))) {
          const e = this.drop(k);
          if (e != null) res.changed.push(e.id);
        }
      }
    }
    this.mergeContext(ctx);
    res.acks = dd.acks;
    return res;
  }

  /**
   * The state join with a peer's state, restricted to its ranges (at most one per replica): drops
   * each of my entries there that the peer has seen but no longer holds, and adds what it has seen
   * to my context. Each range is a complete statement of the peer's state within it, so each
   * applies on its own. Returns the ids that changed.
   */
  joinRanges(ranges: Array<LiveRange>): Array<string> {
    const changed = new Array<string>();
    // A range whose counters I could hold are few next to what it carries is looked up counter by
    // counter; the others (sparse ranges) by one pass over all my dots.
    const byRep = new Array<LiveRange | null>();
    let scan = false;
    for (let i = 0; i < ranges.length; i++) {
      const g = ranges[i];
      const top = this.topCounter(g.rep);
      const end = top < g.hi ? top : g.hi;
      if (end <= g.lo || this.terminateLoses) continue;
      if (end - g.lo <= <u64>(RANGE_PROBES_PER_ITEM * (g.live.size + g.cloud.size + 1))) {
        for (let c = g.lo + 1; c <= end; c++) {
          const k = dotKey(g.rep, c);
          if (!this.byDot.has(k) || !g.seen(c) || g.live.has(c)) continue;
          const e = this.drop(k);
          if (e != null) changed.push(e.id);
        }
        continue;
      }
      while (byRep.length <= g.rep) byRep.push(null);
      byRep[g.rep] = g;
      scan = true;
    }
    if (scan) {
      const mine = this.byDot.keys();
      for (let i = 0; i < mine.length; i++) {
        const k = mine[i];
        const rep = dotRep(k);
        if (rep >= byRep.length) continue;
        const g = byRep[rep];
        if (g == null) continue;
        const ctr = dotCtr(k);
        if (!g.seen(ctr) || g.live.has(ctr)) continue;
        const e = this.drop(k);
        if (e != null) changed.push(e.id);
      }
    }
    for (let i = 0; i < ranges.length; i++) {
      const g = ranges[i];
      const top = g.max < g.hi ? g.max : g.hi;
      // The counters (lo, top] join my contiguous run only if it reaches lo; otherwise (a range
      // seen out of its answer's order) they are left out, which knows less but never wrongly.
      const mineMax: u64 = g.rep < this.ctx.maxes.length ? this.ctx.maxes[g.rep] : 0;
      if (top > g.lo && mineMax >= g.lo) this.ctx.addRange(g.rep, top);
      const vals = g.cloud.values();
      for (let j = 0; j < vals.length; j++) this.ctx.add(g.rep, vals[j]);
    }
    return changed;
  }

  /** The greatest counter of `rep` in my context: no live dot of mine is above it. */
  private topCounter(rep: i32): u64 {
    if (rep >= this.ctx.maxes.length) return 0;
    let top = this.ctx.maxes[rep];
    const c = this.ctx.clouds[rep];
    if (c != null) {
      const vals = c.values();
      for (let i = 0; i < vals.length; i++) if (vals[i] > top) top = vals[i];
    }
    return top;
  }

  /** A live failed mark of the entry with dot `origin`. */
  private hasMarkOf(id: string, origin: u64): bool {
    const at = this.store.find(id);
    if (at < 0) return false;
    const es = this.store.valueAt(at);
    for (let i = 0; i < es.length; i++) if (es[i].origin == origin) return true;
    return false;
  }

  mergeContext(o: Context): void {
    for (let rep = 0; rep < o.maxes.length; rep++) {
      if (o.maxes[rep] > 0) this.ctx.addRange(rep, o.maxes[rep]);
      const c = o.clouds[rep];
      if (c != null) {
        const vals = c.values();
        for (let i = 0; i < vals.length; i++) this.ctx.add(rep, vals[i]);
      }
    }
  }

  /**
   * What a peer lacks, from its SYNC_REQ (its context and live dots): fills `d` with entries
   * whose dots it has not seen and its live dots that we have removed. Returns false when
   * there is nothing to send (no entries, no removals and our context is within theirs).
   */
  missingFor(theirs: Context, live: Array<u64>, d: Delta): bool {
    const vals = this.byDot.values();
    for (let i = 0; i < vals.length; i++) {
      const e = vals[i];
      // (Planted bug: a naive state exchange sends every live entry, and the merge
      // takes them even if the peer has removed them.)
      if (!theirs.has(e.rep, e.ctr) || this.terminateLoses) d.entries.push(e);
    }
    for (let i = 0; i < live.length; i++) {
      const k = live[i];
      if (this.ctx.has(dotRep(k), dotCtr(k)) && !this.byDot.has(k)) d.removed.push(k);
    }
    return d.entries.length > 0 || d.removed.length > 0 || !this.ctx.subsetOf(theirs);
  }

  /** Digest of the desired state: live entries (order-independent) and the causal context. */
  digest(): u64 {
    let h = this.liveXor;
    // context: sorted by replica key so every node hashes it the same way
    const keys = new Array<string>();
    for (let r = 0; r < this.ctx.maxes.length; r++) if (this.ctx.maxes[r] > 0 || this.ctx.clouds[r] != null) keys.push(this.replicas.list[r].key);
    keys.sort();
    for (let i = 0; i < keys.length; i++) {
      const rep = this.replicas.byKey.get(keys[i]);
      h = mix64(h ^ xxh64String(keys[i], 0));
      h = mix64(h ^ this.ctx.maxes[rep]);
      const c = this.ctx.clouds[rep];
      if (c != null) {
        const vals = c.values();
        let x: u64 = 0;
        for (let j = 0; j < vals.length; j++) x ^= mix64(vals[j]);
        h = mix64(h ^ x);
      }
    }
    return h;
  }
}
