// Self-test probes (testing builds only) of the core's own data structures, run inside Wasm against a reference: the string
// tables (StrMap/StrSet) against the standard Map, and the work queue against an array model.
// Each returns the number of disagreements (0 = correct); tests call them with many seeds.

import { StrMap } from './strmap';
import { WorkQueue } from './workqueue';
import { Xorshift64 } from './prng';

/** Keys from a small space with a shared prefix, so probes collide and tombstones pile up. */
function key(r: Xorshift64, space: u32): string {
  return 'child-' + r.below(space).toString();
}

/** `ops` random operations on a StrMap and a Map side by side; disagreements counted. */
export function selfTestStrMap(seed: u32, ops: i32, space: u32): i32 {
  const r = new Xorshift64(seed);
  const m = new StrMap<i32>();
  const ref = new Map<string, i32>();
  let bad = 0;
  for (let i = 0; i < ops; i++) {
    const k = key(r, space);
    const op = r.below(7);
    if (op == 0 || op == 1) { m.set(k, i); ref.set(k, i); }
    else if (op == 2) { if (m.delete(k) != ref.has(k)) bad++; ref.delete(k); }
    else if (op == 3) { if (m.has(k) != ref.has(k)) bad++; }
    else if (op == 4) {
      const at = m.find(k);
      if ((at >= 0) != ref.has(k)) bad++;
      else if (at >= 0 && m.valueAt(at) != ref.get(k)) bad++;
    } else if (op == 5) {
      const added = m.addIfAbsent(k, -i);
      if (added == ref.has(k)) bad++;
      if (added) ref.set(k, -i);
    } else if (ref.has(k) && m.get(k) != ref.get(k)) bad++;
    if (m.size != ref.size) bad++;
    // Now and then, clear everything (a node leaving a cluster drops its tables).
    if (r.below(5000) == 0) { m.clear(); ref.clear(); }
  }
  // Same keys and values, each once.
  const ks = m.keys();
  const vs = m.values();
  if (ks.length != ref.size || vs.length != ref.size) bad++;
  const seen = new Set<string>();
  for (let i = 0; i < ks.length; i++) {
    if (seen.has(ks[i]) || !ref.has(ks[i]) || ref.get(ks[i]) != vs[i]) bad++;
    seen.add(ks[i]);
  }
  return bad;
}

/** Random adds and takes on a WorkQueue against an array model: FIFO order, no duplicates. */
export function selfTestWorkQueue(seed: u32, ops: i32, space: u32): i32 {
  const r = new Xorshift64(seed);
  const q = new WorkQueue();
  const model = new Array<string>();
  let bad = 0;
  for (let i = 0; i < ops; i++) {
    if (r.below(3) != 0) {
      const k = key(r, space);
      q.add(k);
      if (!model.includes(k)) model.push(k);
    } else if (model.length > 0) {
      if (q.size == 0) { bad++; model.length = 0; continue; }
      if (q.take() != model.shift()) bad++;
    }
    if (q.size != model.length) bad++;
    if (r.below(5000) == 0) { q.clear(); model.length = 0; }
  }
  while (model.length > 0) { if (q.size == 0 || q.take() != model.shift()) bad++; }
  if (q.size != 0) bad++;
  return bad;
}
