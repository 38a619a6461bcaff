// Placement probes (testing builds only): batch placement over the input buffer, for test vectors, property tests and benchmarks.
// It runs exactly the placement the node uses (placeOwner over kind-filtered candidates).
//
// Input layout:
//   u32 memberCount; per member: str name, f64 weight, u32 kindCount, str kind...
//   u8 mode; mode 0: str kind, then u32 idCount, per id: str id
//            mode 1: u32 idCount, per id: str id, str kind
// Output: i32 per id, the owner's index in the member list, or -1.

import { Reader } from './io';
import { out } from './effects';
import { inputBuffer } from './exports';
import { xxh64, xxh64String } from './hash';
import { Candidate, CandidateSet, placeIn, slotOf } from './placement';
import { PLACE_BATCH_IDS_MAX, API_ID_BYTES_MAX, KIND_BYTES_MAX, NAME_BYTES_MAX, KINDS_MAX, MEMBERS_MAX } from './limits';

class Table {
  set: CandidateSet;
  index: StaticArray<i32>; // candidate → member index
  constructor(set: CandidateSet, index: StaticArray<i32>) { this.set = set; this.index = index; }
}

function tableFor(kind: string, cands: Array<Candidate>, kinds: Array<Set<string>>): Table {
  const list = new Array<Candidate>();
  const idx = new Array<i32>();
  for (let m = 0; m < cands.length; m++) if (kinds[m].has(kind)) { list.push(cands[m]); idx.push(m); }
  const index = new StaticArray<i32>(idx.length);
  for (let i = 0; i < idx.length; i++) index[i] = idx[i];
  return new Table(new CandidateSet(list), index);
}

export function placeBatch(len: i32): i32 {
  out.reset();
  const r = new Reader(inputBuffer(len), len);
  const n = r.count(MEMBERS_MAX, 16);
  const cands = new Array<Candidate>(n);
  const kinds = new Array<Set<string>>(n);
  for (let i = 0; i < n; i++) {
    const name = r.str(NAME_BYTES_MAX);
    const w = r.f64();
    cands[i] = new Candidate(name, w > 0 && isFinite(w) ? w : 1);
    const k = r.count(KINDS_MAX, 4);
    const s = new Set<string>();
    for (let j = 0; j < k; j++) s.add(r.str(KIND_BYTES_MAX));
    kinds[i] = s;
  }
  const tables = new Map<string, Table>();
  const mode = r.u8();
  let fixedKind = '';
  if (mode == 0) fixedKind = r.str(KIND_BYTES_MAX);
  const ids = r.count(PLACE_BATCH_IDS_MAX, 4);
  if (!r.ok) return -1;
  out.reserve(ids * 4);
  const fixed = mode == 0 ? tableFor(fixedKind, cands, kinds) : null;
  // Many ids of one kind: build the slot table up front and look each id up inline.
  if (fixed != null && ids > 4096 && fixed.set.cands.length > 0 && fixed.set.cands.length <= 65535) fixed.set.buildTable();
  const slots = fixed != null ? fixed.set.table : null;
  const index = fixed != null ? fixed.index : new StaticArray<i32>(0);
  let dst = out.buf.dataStart;
  // Hot loop on raw loads (the Reader's per-call checks cost 4x here); bounds checked by hand.
  let p: usize = r.ptr + <usize>r.pos;
  const end: usize = r.ptr + <usize>r.end;
  for (let i = 0; i < ids; i++) {
    if (p + 4 > end) return -1;
    const idLen = <usize>load<u32>(p);
    p += 4;
    if (idLen > end - p) return -1;
    const h = xxh64(p, <i32>idLen, 0);
    p += idLen;
    if (slots != null) {
      store<i32>(dst, unchecked(index[<i32>unchecked(slots[slotOf(h)])]));
      dst += 4;
      continue;
    }
    let t: Table;
    if (fixed != null) t = fixed;
    else {
      r.pos = <i32>(p - r.ptr);
      const kind = r.str(KIND_BYTES_MAX);
      if (!r.ok) return -1;
      p = r.ptr + <usize>r.pos;
      if (tables.has(kind)) t = tables.get(kind);
      else { t = tableFor(kind, cands, kinds); tables.set(kind, t); }
    }
    const o = placeIn(h, t.set);
    store<i32>(dst, o < 0 ? -1 : unchecked(t.index[o]));
    dst += 4;
  }
  out.len = ids * 4;
  return out.len;
}

/** The documented id hash, exposed for vectors: XXH64(UTF-8 id, seed 0). */
export function idHashOf(len: i32): u64 {
  const r = new Reader(inputBuffer(len), len);
  return xxh64String(r.str(API_ID_BYTES_MAX), 0);
}
