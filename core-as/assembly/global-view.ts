// The global view (whichChildren('global')): one row per child id this node knows of, kept as a
// table of columns that is brought up to date when it is read, not on every step.
//
// A row is a function of this node's replica: the id's effective desired entry (its kind, and
// whether it failed), the first claim of it (ours, then each member's in member-list order) and,
// for a desired child nobody claims, its owner under placement. So a row can only change when
//   - the id's desired entries change (crdt.ts touches the feed on every insert and drop),
//   - a claim of the id changes (claims.ts touches it: ours set or released, a member's applied,
//     a member's full claim set replacing the old one),
//   - membership changes (members up, down, reordered, leaving; this node leaving): the read
//     compares the member list with the one the rows were computed under, and rebuilds all rows.
// A read recomputes the touched rows only, then answers with the rows changed since the version
// the caller holds (all rows when it holds another one), so a caller that keeps the previous
// answer (core-as/src/global-view.ts) decodes only what changed.
//
// The answer does not copy the rows: it gives the addresses of the columns themselves, which hold
// every row, and the ids' characters are kept for it in one arena (UTF-16 as the core holds them,
// with holes where removed ids were, compacted when the holes outgrow the ids). So a full answer
// costs the core its header, whatever the number of rows. The addresses are valid until the next
// call into the core. Answer (little-endian):
//   u32 version, u32 full, u32 rows (count)
//   u32 kindsFrom, u32 kinds, str × (kinds - kindsFrom)     kind table, only the new entries
//   u32 nodes, str × nodes                                  0 = this node, j + 1 = member j
//   u32 m (rows in this answer), padding to 4
//   u32 addresses of the columns, each over rows 0 … count-1: idStart (u32, in the arena),
//     idLen (u32), restarts (u32), kind (u16), node (i16, -1 none), status (u8, ST_*),
//     reason (u8, VR_*); u32 address of the arena (u16 units), u32 arena units in use
//   u32 row[m]: the rows of this answer (absent when full: rows 0 … count-1)

import { Node } from './node';
import { Writer } from './io';
import { out } from './effects';
import { Claim, Member } from './model';
import { StrMap } from './strmap';
import { ownerOf } from './ownership';
import { ViewFeed, VIEW_TOUCHED_FLOOR } from './view-feed';
import { ST_PENDING, ST_STOPPING, ST_FAILED, ST_UNRESPONSIVE, VR_NONE, VR_FAILED, VR_NO_MEMBER, VR_WAITING, VR_UNDESIRED } from './boundary';

/** Distinct kinds interned before the kind table starts afresh (with a full answer). */
const VIEW_KINDS_MAX: i32 = 4096;
/** Bytes per row of an answer that lists its rows (the row index). */
const ROW_INDEX_BYTES: i32 = 4;
/** Room for an answer's header, kind and node tables, in the output buffer grown ahead of a read. */
const ANSWER_HEADER_BYTES: i32 = 4096;
const NODE_NONE: i16 = -1;
/** Rows up to which a rebuild (membership changed) is done at the end of the step, not at the next read. */
const VIEW_EAGER_REBUILD_ROWS: i32 = 4096;
/** Holes (UTF-16 units of removed ids) tolerated in the id arena beyond as many as its live ids. */
const ARENA_HOLES_FLOOR_UNITS: i32 = 4096;

function grown<T>(a: StaticArray<T>, cap: i32): StaticArray<T> {
  const b = new StaticArray<T>(cap);
  for (let i = 0, n = a.length; i < n; i++) unchecked(b[i] = unchecked(a[i]));
  return b;
}

export class GlobalView {
  feed: ViewFeed = new ViewFeed();

  // The rows, dense: rows 0 … count-1. Removing a row moves the last one into its place.
  count: i32 = 0;
  ids: StaticArray<string | null> = new StaticArray<string | null>(16);
  kind: StaticArray<u16> = new StaticArray<u16>(16);
  node: StaticArray<i16> = new StaticArray<i16>(16);
  status: StaticArray<u8> = new StaticArray<u8>(16);
  reason: StaticArray<u8> = new StaticArray<u8>(16);
  restarts: StaticArray<u32> = new StaticArray<u32>(16);
  /** Rebuild generation that last reached a row (rows not reached are gone). */
  seen: StaticArray<u32> = new StaticArray<u32>(16);
  gen: u32 = 0;
  rowOf: StrMap<i32> = new StrMap<i32>();

  /** UTF-16 units of all row ids. */
  idUnits: i32 = 0;
  /** The ids' characters, row r's at idStart[r] … + idLen[r]; units in use, holes included. */
  arena: StaticArray<u16> = new StaticArray<u16>(64);
  arenaUsed: i32 = 0;
  idStart: StaticArray<u32> = new StaticArray<u32>(16);
  idLen: StaticArray<u32> = new StaticArray<u32>(16);

  // Rows changed since the last answer, each once (mark = the version of the next answer).
  mark: StaticArray<u32> = new StaticArray<u32>(16);
  changed: StaticArray<i32> = new StaticArray<i32>(16);
  changedCount: i32 = 0;
  /** Version of the last answer (0: none yet). */
  served: u32 = 0;
  mustServeFull: bool = true;

  kinds: Array<string> = [];
  kindIndex: StrMap<i32> = new StrMap<i32>();
  lastKind: string = '';
  lastKindIndex: i32 = -1;
  kindsServed: i32 = 0;

  /** Node names by index (this node, then the members), as the rows use them; and as last served. */
  nodes: Array<string> = [];
  servedNodes: Array<string> = [];
  /** The membership the rows were computed under. */
  sigMembers: Array<Member> = [];
  sigLeaving: Array<bool> = [];
  sigSelfOut: bool = false;

  // The row being computed (computeRow), and the claim claimant() found.
  vKind: u16 = 0;
  vNode: i16 = NODE_NONE;
  vStatus: u8 = 0;
  vReason: u8 = 0;
  vRestarts: u32 = 0;
  claim: Claim | null = null;

  /** Brings the touched rows (all rows after a membership change) up to date, then writes the answer. */
  serve(n: Node, w: Writer, since: u32): void {
    this.refresh(n);
    this.write(w, since);
  }

  /**
   * Whether the binding should read the view between steps (global-view-keeper.ts): rows changed
   * since the last answer, or rows to refresh. Not when every row of a large view is to be rebuilt
   * (membership changed): that is left to a read, as endStep leaves it, so that a member up or
   * down does not cost every node a rebuild and a full decode right after it.
   */
  pending(n: Node): bool {
    const f = this.feed;
    if ((f.all || !this.membershipSame(n)) && max(this.count, n.desired.size) > VIEW_EAGER_REBUILD_ROWS) return false;
    return this.changedCount > 0 || this.mustServeFull || f.all || f.ids.size > 0;
  }

  // ---- keeping the rows ----------------------------------------------------------------------

  /**
   * End of every step: the rows touched in it, so that a read finds them current (a first read
   * after a burst of 10,000 starts would otherwise recompute them all, with the collector's debt
   * of the burst). A membership change leaves every row to the next read instead: rebuilding
   * 100,000 rows on every member up or down would delay the steps that react to it.
   */
  endStep(n: Node): void {
    const f = this.feed;
    if (!f.all && f.ids.size == 0) return;
    if (!f.all && !this.membershipSame(n)) { f.all = true; f.ids.clear(); }
    // A small table is rebuilt at once, so a view is kept from the node's first steps on.
    if (f.all && max(this.count, n.desired.size) > VIEW_EAGER_REBUILD_ROWS) return;
    this.refresh(n);
    // The output buffer grows to hold an answer of every row now, in a step, rather than in the read.
    const need = this.count * ROW_INDEX_BYTES + ANSWER_HEADER_BYTES;
    if (out.buf.length < need) out.reserve(need - out.len);
  }

  refresh(n: Node): void {
    const f = this.feed;
    if (!this.membershipSame(n) || this.kinds.length > VIEW_KINDS_MAX) f.all = true;
    if (f.all) this.rebuildAll(n);
    else {
      const t = f.ids;
      for (let s = 0, k = t.slots; s < k; s++) {
        const h = t.hashAt(s);
        if (h >= 2) this.update(n, t.keyAt(s), h);
      }
    }
    if (f.ids.size > 0) f.ids.clear();
    f.all = false;
    f.limit = max(VIEW_TOUCHED_FLOOR, this.count);
  }

  private membershipSame(n: Node): bool {
    const ms = n.members.list;
    if ((n.leaving || n.left) != this.sigSelfOut || ms.length != this.sigMembers.length || this.nodes.length == 0) return false;
    for (let i = 0; i < ms.length; i++) {
      const m = unchecked(ms[i]);
      if (m != unchecked(this.sigMembers[i]) || m.leaving != unchecked(this.sigLeaving[i])) return false;
    }
    return true;
  }

  private noteMembership(n: Node): void {
    const ms = n.members.list;
    this.sigSelfOut = n.leaving || n.left;
    this.sigMembers = ms.slice(0);
    const lv = new Array<bool>(ms.length);
    const names = new Array<string>(ms.length + 1);
    names[0] = n.name;
    for (let i = 0; i < ms.length; i++) { lv[i] = ms[i].leaving; names[i + 1] = ms[i].name; }
    this.sigLeaving = lv;
    this.nodes = names;
  }

  /** One id: its row computed again, added or removed. `h` is its strHash. */
  private update(n: Node, id: string, h: u32): void {
    const has = this.computeRow(n, id, h, n.desired.store.findHashed(id, h));
    const at = this.rowOf.findHashed(id, h);
    if (has) {
      if (at >= 0) this.setRow(this.rowOf.valueAt(at)); else this.addRow(id);
    } else if (at >= 0) this.removeRow(this.rowOf.valueAt(at));
  }

  /** Every row again: the desired ids, then ids only claimed; rows no longer reached go. */
  private rebuildAll(n: Node): void {
    if (this.kinds.length > VIEW_KINDS_MAX) {
      this.kinds = [];
      this.kindIndex.clear();
      this.lastKindIndex = -1;
      this.mustServeFull = true;
    }
    this.noteMembership(n);
    const g = ++this.gen;
    const d = n.desired.store;
    for (let s = 0, k = d.slots; s < k; s++) {
      const h = d.hashAt(s);
      if (h < 2) continue;
      const id = d.keyAt(s);
      this.computeRow(n, id, h, s);
      const at = this.rowOf.findHashed(id, h);
      const r = at >= 0 ? this.rowOf.valueAt(at) : -1;
      const row = r >= 0 ? r : this.addRow(id); // (addRow may grow the columns: index first)
      if (r >= 0) this.setRow(r);
      unchecked(this.seen[row] = g);
    }
    this.reachClaimed(n, n.claims.mine, g);
    const ms = n.members.list;
    for (let j = 0; j < ms.length; j++) this.reachClaimed(n, ms[j].claims, g);
    for (let r = this.count - 1; r >= 0; r--) if (unchecked(this.seen[r]) != g) this.removeRow(r);
  }

  /** Rows of ids claimed in `claims` that are not desired (children still stopping). */
  private reachClaimed(n: Node, claims: StrMap<Claim>, g: u32): void {
    const d = n.desired.store;
    for (let s = 0, k = claims.slots; s < k; s++) {
      const h = claims.hashAt(s);
      if (h < 2) continue;
      const id = claims.keyAt(s);
      if (d.findHashed(id, h) >= 0) continue;
      const at = this.rowOf.findHashed(id, h);
      const r = at >= 0 ? this.rowOf.valueAt(at) : -1;
      if (r >= 0 && unchecked(this.seen[r]) == g) continue; // an earlier claimant's row
      this.computeRow(n, id, h, -1);
      const row = r >= 0 ? r : this.addRow(id);
      if (r >= 0) this.setRow(r);
      unchecked(this.seen[row] = g);
    }
  }

  /**
   * The row of one id into the v* fields; false when the id has none (neither desired nor
   * claimed). `dslot` is the id's slot in the desired store, or -1.
   */
  private computeRow(n: Node, id: string, h: u32, dslot: i32): bool {
    if (dslot >= 0) {
      const es = n.desired.store.valueAt(dslot);
      const e = es.length == 1 ? unchecked(es[0]) : n.desired.get(id)!;
      const spec = e.spec;
      this.vKind = this.kindOf(spec.kind);
      if (spec.failed) { this.put(NODE_NONE, ST_FAILED, 0, VR_FAILED); return true; }
      const who = this.claimant(n, id, h);
      if (who >= 0) { const c = this.claim!; this.put(<i16>who, c.status, c.restarts, VR_NONE); return true; }
      const owner = ownerOf(n, id, spec.kind);
      this.put(<i16>this.nodeIndexOf(n, owner), ST_PENDING, 0, owner.length == 0 ? VR_NO_MEMBER : VR_WAITING);
      return true;
    }
    const who = this.claimant(n, id, h);
    if (who < 0) return false;
    this.vKind = this.kindOf('');
    // An undesired child still claimed is stopping, or unresponsive if its function has not settled.
    this.put(<i16>who, this.claim!.status == ST_UNRESPONSIVE ? ST_UNRESPONSIVE : ST_STOPPING, this.claim!.restarts, VR_UNDESIRED);
    return true;
  }

  private put(node: i16, status: u8, restarts: u32, reason: u8): void {
    this.vNode = node; this.vStatus = status; this.vRestarts = restarts; this.vReason = reason;
  }

  /** Who holds the first claim of an id: 0 for this node, j + 1 for member j, -1 for nobody. */
  private claimant(n: Node, id: string, h: u32): i32 {
    const mine = n.claims.mine;
    let at = mine.findHashed(id, h);
    if (at >= 0) { this.claim = mine.valueAt(at); return 0; }
    const ms = n.members.list;
    for (let j = 0; j < ms.length; j++) {
      const cs = unchecked(ms[j]).claims;
      at = cs.findHashed(id, h);
      if (at >= 0) { this.claim = cs.valueAt(at); return j + 1; }
    }
    this.claim = null;
    return -1;
  }

  private nodeIndexOf(n: Node, name: string): i32 {
    if (name.length == 0) return -1;
    const ns = this.nodes;
    for (let i = 0; i < ns.length; i++) if (unchecked(ns[i]) == name) return i;
    return -1;
  }

  private kindOf(k: string): u16 {
    // Children of one kind mostly come in runs: compare with the last kind before hashing.
    if (this.lastKindIndex >= 0 && k == this.lastKind) return <u16>this.lastKindIndex;
    const at = this.kindIndex.find(k);
    let i: i32;
    if (at >= 0) i = this.kindIndex.valueAt(at);
    else { i = this.kinds.length; this.kinds.push(k); this.kindIndex.set(k, i); }
    this.lastKind = k;
    this.lastKindIndex = i;
    return <u16>i;
  }

  private setRow(r: i32): void {
    if (unchecked(this.kind[r]) == this.vKind && unchecked(this.node[r]) == this.vNode && unchecked(this.status[r]) == this.vStatus &&
      unchecked(this.reason[r]) == this.vReason && unchecked(this.restarts[r]) == this.vRestarts) return;
    this.writeRow(r);
  }

  private writeRow(r: i32): void {
    unchecked(this.kind[r] = this.vKind);
    unchecked(this.node[r] = this.vNode);
    unchecked(this.status[r] = this.vStatus);
    unchecked(this.reason[r] = this.vReason);
    unchecked(this.restarts[r] = this.vRestarts);
    this.touchRow(r);
  }

  /** A new row for `id` holding the computed value; returns its index. */
  addRow(id: string): i32 {
    const r = this.count;
    if (r == this.ids.length) this.grow(r << 1);
    this.putChars(r, id);
    this.count = r + 1;
    unchecked(this.ids[r] = id);
    this.rowOf.set(id, r);
    this.writeRow(r);
    return r;
  }

  private removeRow(r: i32): void {
    const gone = changetype<string>(unchecked(this.ids[r]));
    this.idUnits -= gone.length;
    this.rowOf.delete(gone);
    const last = this.count - 1;
    if (r != last) {
      const id = changetype<string>(unchecked(this.ids[last]));
      unchecked(this.ids[r] = id);
      unchecked(this.idStart[r] = unchecked(this.idStart[last]));
      unchecked(this.idLen[r] = unchecked(this.idLen[last]));
      this.rowOf.set(id, r);
      unchecked(this.seen[r] = unchecked(this.seen[last]));
      this.vKind = unchecked(this.kind[last]); this.vNode = unchecked(this.node[last]); this.vStatus = unchecked(this.status[last]);
      this.vReason = unchecked(this.reason[last]); this.vRestarts = unchecked(this.restarts[last]);
      this.writeRow(r);
    }
    unchecked(this.ids[last] = null);
    this.count = last;
    if (this.arenaUsed - this.idUnits > this.idUnits + ARENA_HOLES_FLOOR_UNITS) this.compact(0);
  }

  /** Row r's id (r not counted yet) into the arena, compacted and grown first if it is full. */
  private putChars(r: i32, id: string): void {
    const len = id.length;
    if (this.arenaUsed + len > this.arena.length) this.compact(len);
    const at = this.arenaUsed;
    memory.copy(changetype<usize>(this.arena) + (<usize>at << 1), changetype<usize>(id), <usize>len << 1);
    unchecked(this.idStart[r] = <u32>at);
    unchecked(this.idLen[r] = <u32>len);
    this.arenaUsed = at + len;
    this.idUnits += len;
  }

  /** A new arena holding the rows' ids without holes, with room for twice them and `extra` units. */
  private compact(extra: i32): void {
    const a = new StaticArray<u16>(max(64, (this.idUnits + extra) << 1));
    const from = changetype<usize>(this.arena), to = changetype<usize>(a);
    let at: u32 = 0;
    for (let r = 0, k = this.count; r < k; r++) {
      const len = unchecked(this.idLen[r]);
      memory.copy(to + (<usize>at << 1), from + (<usize>unchecked(this.idStart[r]) << 1), <usize>len << 1);
      unchecked(this.idStart[r] = at);
      at += len;
    }
    this.arena = a;
    this.arenaUsed = <i32>at;
  }

  private touchRow(r: i32): void {
    const tag = this.served + 1;
    if (unchecked(this.mark[r]) == tag) return;
    unchecked(this.mark[r] = tag);
    if (this.changedCount == this.changed.length) this.changed = grown(this.changed, this.changedCount << 1);
    unchecked(this.changed[this.changedCount++] = r);
  }

  private grow(cap: i32): void {
    this.ids = grown(this.ids, cap);
    this.idStart = grown(this.idStart, cap);
    this.idLen = grown(this.idLen, cap);
    this.kind = grown(this.kind, cap);
    this.node = grown(this.node, cap);
    this.status = grown(this.status, cap);
    this.reason = grown(this.reason, cap);
    this.restarts = grown(this.restarts, cap);
    this.seen = grown(this.seen, cap);
    this.mark = grown(this.mark, cap);
  }

  // ---- the answer ------------------------------------------------------------------------------

  /** The rows changed since version `since`, or all rows when the caller holds another version. */
  write(w: Writer, since: u32): void {
    let full = this.mustServeFull || since == 0 || since != this.served;
    if (!full) {
      const a = this.servedNodes, b = this.nodes;
      for (let i = 0, k = min(a.length, b.length); i < k; i++) if (unchecked(a[i]) != unchecked(b[i])) { full = true; break; }
    }
    // The rows of this answer (changed rows past the end were removed).
    let m = 0;
    if (full) m = this.count;
    else for (let i = 0; i < this.changedCount; i++) if (unchecked(this.changed[i]) < this.count) m++;
    this.served++;
    if (this.served == 0) this.served = 1;
    w.u32(this.served);
    w.u32(full ? 1 : 0);
    w.u32(<u32>this.count);
    const kindsFrom = full ? 0 : this.kindsServed;
    w.u32(<u32>kindsFrom);
    w.u32(<u32>this.kinds.length);
    for (let i = kindsFrom; i < this.kinds.length; i++) w.str(this.kinds[i]);
    w.u32(<u32>this.nodes.length);
    for (let i = 0; i < this.nodes.length; i++) w.str(this.nodes[i]);
    w.u32(<u32>m);
    while ((w.len & 3) != 0) w.u8(0);
    w.u32(<u32>changetype<usize>(this.idStart));
    w.u32(<u32>changetype<usize>(this.idLen));
    w.u32(<u32>changetype<usize>(this.restarts));
    w.u32(<u32>changetype<usize>(this.kind));
    w.u32(<u32>changetype<usize>(this.node));
    w.u32(<u32>changetype<usize>(this.status));
    w.u32(<u32>changetype<usize>(this.reason));
    w.u32(<u32>changetype<usize>(this.arena));
    w.u32(<u32>this.arenaUsed);
    if (!full) {
      w.reserve(m * ROW_INDEX_BYTES);
      let at = w.buf.dataStart + <usize>w.len;
      for (let i = 0; i < this.changedCount; i++) {
        const r = unchecked(this.changed[i]);
        if (r < this.count) { store<u32>(at, <u32>r); at += ROW_INDEX_BYTES; }
      }
      w.len += m * ROW_INDEX_BYTES;
    }
    this.changedCount = 0;
    this.servedNodes = this.nodes;
    this.kindsServed = this.kinds.length;
    this.mustServeFull = false;
  }
}

// The from-scratch view (testing builds): the same rules as computeRow, written plainly.

/** The first claim of an id (ours, then each member's), or null. */
function firstClaim(n: Node, id: string): Claim | null {
  if (n.myClaims().has(id)) return n.myClaims().get(id);
  const ms = n.memberList();
  for (let j = 0; j < ms.length; j++) if (ms[j].claims.has(id)) return ms[j].claims.get(id);
  return null;
}

/** Who holds it: 0 for this node, j + 1 for member j, -1 for nobody. */
function firstClaimant(n: Node, id: string): i32 {
  if (n.myClaims().has(id)) return 0;
  const ms = n.memberList();
  for (let j = 0; j < ms.length; j++) if (ms[j].claims.has(id)) return j + 1;
  return -1;
}

/**
 * The global view computed from scratch, in the same answer format (full), without touching the
 * node's kept view (testing builds: the simulator and the property test compare the two).
 */
export function writeGlobalScratch(n: Node, w: Writer): void {
  const v = new GlobalView();
  const ms = n.memberList();
  v.nodes.push(n.name);
  for (let j = 0; j < ms.length; j++) v.nodes.push(ms[j].name);
  const ids = n.desired.store.keys();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const e = n.desired.get(id)!;
    v.vKind = kindIn(v, e.spec.kind);
    const c = firstClaim(n, id);
    if (e.spec.failed) { v.vNode = -1; v.vStatus = ST_FAILED; v.vRestarts = 0; v.vReason = VR_FAILED; }
    else if (c != null) { v.vNode = <i16>firstClaimant(n, id); v.vStatus = c.status; v.vRestarts = c.restarts; v.vReason = VR_NONE; }
    else {
      const owner = n.owner(id, e.spec.kind);
      v.vNode = <i16>v.nodes.indexOf(owner);
      v.vStatus = ST_PENDING; v.vRestarts = 0; v.vReason = owner.length == 0 ? VR_NO_MEMBER : VR_WAITING;
    }
    v.addRow(id);
  }
  const tables = [n.myClaims()];
  for (let j = 0; j < ms.length; j++) tables.push(ms[j].claims);
  for (let t = 0; t < tables.length; t++) {
    const cs = tables[t].values();
    for (let i = 0; i < cs.length; i++) {
      const id = cs[i].id;
      if (n.desired.store.has(id) || v.rowOf.has(id)) continue;
      v.vKind = kindIn(v, ''); v.vNode = <i16>t; v.vStatus = cs[i].status == ST_UNRESPONSIVE ? ST_UNRESPONSIVE : ST_STOPPING; v.vRestarts = cs[i].restarts; v.vReason = VR_UNDESIRED;
      v.addRow(id);
    }
  }
  v.write(w, 0);
}

function kindIn(v: GlobalView, k: string): u16 {
  const i = v.kinds.indexOf(k);
  if (i >= 0) return <u16>i;
  v.kinds.push(k);
  return <u16>(v.kinds.length - 1);
}
