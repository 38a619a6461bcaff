// The wire half of the desired-children CRDT (crdt.ts): DELTA and SYNC_REQ payloads.
//
// Replica indices are local to each core, so every payload opens with the sender's replica
// table (name, incarnation per index) and every dot on the wire is (table index, counter). A
// decoder maps the table to its own indices first and refuses dots that do not fit a dot key.
// Replicas it does not know get provisional indices (after the known ones, in table order) and
// are added only by commitReplicas, once the whole payload decoded: a frame that fails anywhere
// leaves the replica table as it was.
//
//   DELTA    = replicas, entries (rep, ctr, spec, origin rep, origin ctr), removed dots,
//              context (full, or this delta's dots as a context), acks wanted,
//              bool full, [live dots if full]
//   SYNC_REQ = replicas, full context, live dots (as many as fit one sync frame)

import { Reader, Writer, ERR_BAD_VALUE } from './io';
import { Spec } from './spec';
import { NAME_BYTES_MAX, WIRE_ITEMS_MAX, WIRE_REPLICAS_MAX, DOT_REPLICAS_MAX } from './limits';
import { Desired, Delta, Entry, Context, IncomingDelta, dotKey, dotRep, dotCtr, dotCounterFits } from './crdt';

/** Encodes a DELTA payload. If `fullContext`, the whole context goes instead of `d.dots`. */
export function encodeDelta(w: Writer, s: Desired, d: Delta, fullContext: bool): void {
  encodeReplicaTable(w, s);
  w.u32(<u32>d.entries.length);
  for (let i = 0; i < d.entries.length; i++) {
    const e = d.entries[i];
    w.u32(<u32>e.rep);
    w.u64(e.ctr);
    e.spec.encode(w);
    // The marked dot, or (0, 0) for a plain add: a fixed layout keeps every entry self-describing.
    w.u32(e.origin != 0 ? <u32>dotRep(e.origin) : 0);
    w.u64(e.origin != 0 ? dotCtr(e.origin) : 0);
  }
  encodeDots(w, d.removed);
  if (fullContext) encodeContext(w, s.ctx);
  else encodeDotsAsContext(w, d.dots);
  encodeDots(w, d.acks);
  // A full-state answer also carries every dot the sender holds live: the receiver drops
  // its own live entries the sender has seen (in its context) but no longer holds. Without
  // it, an entry the receiver got from a third node after asking would survive a removal.
  w.bool(fullContext);
  if (fullContext) encodeDots(w, s.byDot.keys());
}

/**
 * Decodes a DELTA payload in full, so a malformed tail changes nothing; null (with the
 * reader's err set) when it does not decode. Nothing touches `s`: commitReplicas before merging.
 */
export function decodeDelta(r: Reader, s: Desired): IncomingDelta | null {
  const map = readReplicaTable(r, s);
  if (!r.ok) return null;
  const dd = new IncomingDelta();
  const n = r.count(WIRE_ITEMS_MAX, 20);
  for (let i = 0; i < n; i++) {
    const ref = r.u32();
    const ctr = r.u64();
    const spec = Spec.decode(r);
    const oref = r.u32();
    const octr = r.u64();
    const marks = octr != 0;
    if (!r.ok || spec == null || ref >= <u32>map.length || (marks && oref >= <u32>map.length) ||
      !dotCounterFits(ctr) || !dotCounterFits(octr)) { r.fail(ERR_BAD_VALUE); return null; }
    const e = new Entry(spec.id, map[ref], ctr, spec);
    if (marks) e.origin = dotKey(map[oref], octr);
    dd.entries.push(e);
  }
  dd.removed = decodeDots(r, map);
  decodeContext(r, map, dd.context);
  dd.acks = decodeDots(r, map);
  dd.full = r.bool();
  if (dd.full) dd.live = decodeDots(r, map);
  return r.ok ? dd : null;
}

/**
 * SYNC_REQ payload: replica table, my full context, and my live dots as far as they fit in
 * `frameBytesMax` (the frame began `w.len` bytes ago). The live dots only let the answer name my
 * entries it has removed in its DELTA frames; its SYNC_LIVE frames drop the others.
 */
export function encodeSyncReq(w: Writer, s: Desired, frameBytesMax: i32): void {
  encodeReplicaTable(w, s);
  encodeContext(w, s.ctx);
  const keys = s.byDot.keys();
  const fit = max(0, (frameBytesMax - w.len - 4) / 12);
  if (keys.length > fit) keys.length = fit;
  encodeDots(w, keys);
}

/** The bytes encodeReplicaTable writes. */
export function replicaTableBytes(s: Desired): i32 {
  const reps = s.replicas.list;
  let b = 4;
  for (let i = 0; i < reps.length; i++) b += 4 + String.UTF8.byteLength(reps[i].name, false) + 8;
  return b;
}

export class SyncReq {
  context: Context = new Context();
  live: Array<u64> = [];
}

/** Decodes a SYNC_REQ; check the reader's `ok`, then commitReplicas, before using the result. */
export function decodeSyncReq(r: Reader, s: Desired): SyncReq {
  const q = new SyncReq();
  const map = readReplicaTable(r, s);
  if (!r.ok) return q;
  decodeContext(r, map, q.context);
  q.live = decodeDots(r, map);
  return q;
}

export function encodeReplicaTable(w: Writer, s: Desired): void {
  // Every replica this core knows (small: one per node incarnation).
  const reps = s.replicas.list;
  w.u32(<u32>reps.length);
  for (let i = 0; i < reps.length; i++) { w.str(reps[i].name); w.u64(reps[i].inc); }
}

// Replicas named by the payload being decoded that this core does not know yet, in table order.
const newNames = new Array<string>();
const newIncs = new Array<u64>();
const newIndex = new Map<string, i32>();

/** Reads a replica table and maps it to local indices; unknown replicas get provisional ones. */
export function readReplicaTable(r: Reader, s: Desired): Array<i32> {
  newNames.length = 0;
  newIncs.length = 0;
  newIndex.clear();
  const n = r.count(WIRE_REPLICAS_MAX, 12);
  const map = new Array<i32>(n);
  const known = s.replicas.list.length;
  for (let i = 0; i < n; i++) {
    const name = r.str(NAME_BYTES_MAX);
    const inc = r.u64();
    if (!r.ok) return [];
    const key = name + '#' + inc.toString();
    if (s.replicas.byKey.has(key)) { map[i] = s.replicas.byKey.get(key); continue; }
    if (newIndex.has(key)) { map[i] = newIndex.get(key); continue; }
    // Replica indices must fit a dot key; a peer cannot make us mint more.
    if (known + newNames.length >= DOT_REPLICAS_MAX) { r.fail(ERR_BAD_VALUE); return []; }
    map[i] = known + newNames.length;
    newIndex.set(key, map[i]);
    newNames.push(name);
    newIncs.push(inc);
  }
  return map;
}

/** Adds the replicas the last decoded payload named for the first time, at their provisional indices. */
export function commitReplicas(s: Desired): void {
  for (let i = 0; i < newNames.length; i++) {
    const at = s.replicas.index(newNames[i], newIncs[i]);
    assert(at == s.replicas.list.length - 1, 'a provisional replica index must be the one it is given');
  }
  newNames.length = 0;
  newIncs.length = 0;
  newIndex.clear();
}

function encodeContext(w: Writer, ctx: Context): void {
  let n = 0;
  for (let r = 0; r < ctx.maxes.length; r++) if (ctx.maxes[r] > 0 || ctx.clouds[r] != null) n++;
  w.u32(<u32>n);
  for (let r = 0; r < ctx.maxes.length; r++) {
    const c = ctx.clouds[r];
    if (ctx.maxes[r] == 0 && c == null) continue;
    w.u32(<u32>r);
    w.u64(ctx.maxes[r]);
    if (c == null) w.u32(0);
    else {
      const vals = c.values();
      w.u32(<u32>vals.length);
      for (let i = 0; i < vals.length; i++) w.u64(vals[i]);
    }
  }
}

function decodeContext(r: Reader, map: Array<i32>, into: Context): void {
  const n = r.count(WIRE_REPLICAS_MAX, 16);
  for (let i = 0; i < n; i++) {
    const ref = r.u32();
    const max = r.u64();
    const m = r.count(WIRE_ITEMS_MAX, 8);
    if (!r.ok) return;
    if (ref >= <u32>map.length || !dotCounterFits(max)) { r.fail(ERR_BAD_VALUE); return; }
    const rep = map[ref];
    if (max > 0) into.addRange(rep, max);
    for (let j = 0; j < m; j++) {
      const c = r.u64();
      if (!r.ok) return;
      if (c == 0 || !dotCounterFits(c)) { r.fail(ERR_BAD_VALUE); return; }
      into.add(rep, c);
    }
  }
}

function encodeDots(w: Writer, dots: Array<u64>): void {
  w.u32(<u32>dots.length);
  for (let i = 0; i < dots.length; i++) { w.u32(<u32>dotRep(dots[i])); w.u64(dotCtr(dots[i])); }
}

function decodeDots(r: Reader, map: Array<i32>): Array<u64> {
  const n = r.count(WIRE_ITEMS_MAX, 12);
  const out = new Array<u64>();
  for (let i = 0; i < n; i++) {
    const ref = r.u32();
    const ctr = r.u64();
    if (!r.ok) return out;
    if (ref >= <u32>map.length || ctr == 0 || !dotCounterFits(ctr)) { r.fail(ERR_BAD_VALUE); return out; }
    out.push(dotKey(map[ref], ctr));
  }
  return out;
}

/** This delta's own dots, sent as a context: per replica, max 0 and the dots as its cloud. */
function encodeDotsAsContext(w: Writer, dots: Array<u64>): void {
  const byRep = new Map<i32, Array<u64>>();
  for (let i = 0; i < dots.length; i++) {
    const rep = dotRep(dots[i]);
    if (!byRep.has(rep)) byRep.set(rep, []);
    byRep.get(rep).push(dotCtr(dots[i]));
  }
  const reps = byRep.keys();
  w.u32(<u32>reps.length);
  for (let i = 0; i < reps.length; i++) {
    const list = byRep.get(reps[i]);
    w.u32(<u32>reps[i]);
    w.u64(0);
    w.u32(<u32>list.length);
    for (let j = 0; j < list.length; j++) w.u64(list[j]);
  }
}
