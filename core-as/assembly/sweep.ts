// Sweep: reconcile's "look at every desired id again" (a membership change, quorum, readiness) as
// a walk over the desired table's slots, resumable across steps when the reconcile budget cuts
// it. Queueing every id instead cost two string hashes and a set entry per id, and a fresh
// array of all keys, which made up most of the step in which the survivors of a killed member
// take over its children (10,000 desired ids re-read to start about 850).

import { StrMap } from './strmap';
import { Entry } from './crdt';

export class Sweep {
  /** The next slot to look at; -1 when no walk is under way. */
  private at: i32 = -1;
  private generation: u32 = 0;

  get active(): bool { return this.at >= 0; }

  /** Walks the whole table (again) from its first slot. */
  start(store: StrMap<Array<Entry>>): void {
    this.at = 0;
    this.generation = store.generation;
  }

  /**
   * The next slot that holds an id, or -1 once the walk is done. A table rebuilt since the walk
   * began (it grew, or swept its tombstones) moved its ids: the walk starts over, so none is
   * missed (looking at an id twice does nothing more). Ids added behind the walk are reconciled
   * through the queue by whoever added them.
   */
  next(store: StrMap<Array<Entry>>): i32 {
    if (this.at < 0) return -1;
    if (store.generation != this.generation) this.start(store);
    const end = store.slots;
    for (let i = this.at; i < end; i++) {
      if (store.hashAt(i) >= 2) { this.at = i + 1; return i; }
    }
    this.at = -1;
    return -1;
  }
}
