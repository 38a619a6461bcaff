// The ids whose row in the global view (global-view.ts) may be stale: every change of the desired
// map (crdt.ts) and of a claim (claims.ts) touches its id here, and the view recomputes those rows
// at the end of the step (or when it is next read). Whenever every row must be rebuilt anyway (at
// first, after a membership change), `all` is set and touching costs one branch.

import { StrMap } from './strmap';

/** Touched ids kept at least up to this many in one step; beyond max(this, rows) a rebuild is as cheap. */
export const VIEW_TOUCHED_FLOOR: i32 = 65536;

export class ViewFeed {
  /** Every row is to be computed again at the next read (and nothing is recorded until then). */
  all: bool = true;
  ids: StrMap<bool> = new StrMap<bool>();
  /** Touched ids beyond which `all` is set instead (the view sets it from its row count). */
  limit: i32 = VIEW_TOUCHED_FLOOR;

  touch(id: string): void {
    if (this.all) return;
    this.ids.set(id, true);
    if (this.ids.size > this.limit) { this.all = true; this.ids.clear(); }
  }
}
