// Read-only views of a node for the host: local and global children, members, digests, counters.
// Written into the output buffer in a simple binary layout decoded by core-as/src/binding.ts.

// Every read goes through the node's query accessors (node.ts), never its fields.

import { Writer } from './io';
import { Node } from './node';
import { S_RUNNING, Claim, Member } from './model';
import {
  Q_LOCAL, Q_GLOBAL, Q_MEMBERS, Q_DIGEST, Q_COUNTERS, Q_INFO, FERR_COUNT, ST_PENDING, ST_STOPPING, ST_FAILED, ST_UNRESPONSIVE,
  MS_UP, MS_LEAVING, MS_DISCONNECTED,
} from './boundary';
import { IO_BUFFER_BYTES } from './limits';
import { mix64, xxh64String } from './hash';
import { StrMap } from './strmap';

export function writeQuery(n: Node, kind: i32, w: Writer): void {
  if (kind == Q_LOCAL) writeLocal(n, w);
  else if (kind == Q_GLOBAL) writeGlobal(n, w);
  else if (kind == Q_MEMBERS) writeMembers(n, w);
  else if (kind == Q_DIGEST) { w.u64(stateDigest(n)); w.u64(n.desired.digest()); }
  else if (kind == Q_COUNTERS) { w.u32(<u32>FERR_COUNT); for (let i = 0; i < FERR_COUNT; i++) w.u32(n.rejectedCount(i)); }
  else if (kind == Q_INFO) {
    w.str(n.name); w.u64(n.inc); w.bool(n.ready()); w.bool(n.leaving); w.bool(n.left);
    w.u32(<u32>n.desired.size); w.u32(<u32>n.localCount()); w.str(n.notReadyReason());
    // local children by state: running, and in transition (starting, stopping, restarting)
    let running: u32 = 0, moving: u32 = 0;
    const cs = n.localChildren();
    for (let i = 0; i < cs.length; i++) { if (cs[i].state == S_RUNNING) running++; else moving++; }
    w.u32(running); w.u32(moving); w.u32(<u32>n.memberCount());
  }
}

function writeLocal(n: Node, w: Writer): void {
  const cs = n.localChildren();
  w.u32(<u32>cs.length);
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    // Local states and view statuses share their numbers (model.ts).
    w.str(c.id); w.str(c.spec.kind); w.u8(c.state); w.u32(c.epoch); w.u32(c.restarts);
  }
}

/**
 * The global view, compact: string tables for kinds, nodes and reasons first, then per child
 * its id and small indices (the binding decodes one string per child instead of four).
 *   u32 kinds, str...; u32 nodes, str...; u32 reasons, str...
 *   u32 count; per child: str id, u16 kind, i16 node (-1 none), u8 status, u32 restarts, i16 reason (-1 none)
 */
class Tables {
  kinds: Map<string, i32> = new Map();
  kindList: Array<string> = [];
  reasons: Map<string, i32> = new Map();
  reasonList: Array<string> = [];
  kind(k: string): i32 {
    if (this.kinds.has(k)) return this.kinds.get(k);
    const i = this.kindList.length; this.kindList.push(k); this.kinds.set(k, i); return i;
  }
  reason(r: string): i32 {
    if (this.reasons.has(r)) return this.reasons.get(r);
    const i = this.reasonList.length; this.reasonList.push(r); this.reasons.set(r, i); return i;
  }
}

function writeGlobal(n: Node, w: Writer): void {
  // nodes: 0 = self, 1.. = members in list order
  const t = new Tables();
  const body = new Writer(IO_BUFFER_BYTES);
  let count: u32 = 0;
  const all = n.desired.store.values();
  const ms = n.memberList();
  const mine = n.myClaims();
  for (let i = 0; i < all.length; i++) {
    // the effective entry, without looking the id up again
    const es = unchecked(all[i]);
    const e = es.length == 1 ? unchecked(es[0]) : n.desired.get(unchecked(es[0]).id)!;
    const id = e.id;
    let c: Claim | null = null;
    let who: i32 = -1;
    if (mine.has(id)) { c = mine.get(id); who = 0; }
    else for (let j = 0; j < ms.length; j++) if (ms[j].claims.has(id)) { c = ms[j].claims.get(id); who = j + 1; break; }
    body.str(id);
    body.u16(<u16>t.kind(e.spec.kind));
    if (e.spec.failed) { body.u16(<u16>-1); body.u8(ST_FAILED); body.u32(0); body.u16(<u16>t.reason('restart intensity exceeded')); }
    else if (c != null) { body.u16(<u16>who); body.u8(c.status); body.u32(c.restarts); body.u16(<u16>-1); }
    else {
      const owner = n.owner(id, e.spec.kind);
      let oi: i32 = -1;
      if (owner == n.name) oi = 0;
      else for (let j = 0; j < ms.length; j++) if (ms[j].name == owner) { oi = j + 1; break; }
      body.u16(<u16>oi);
      body.u8(ST_PENDING);
      body.u32(0);
      body.u16(<u16>t.reason(owner.length == 0 ? 'no live member advertises kind ' + e.spec.kind : 'waiting for owner ' + owner));
    }
    count++;
  }
  // Children still stopping after they stopped being desired.
  count += writeUndesired(n, 0, mine, body, t);
  for (let j = 0; j < ms.length; j++) count += writeUndesired(n, j + 1, ms[j].claims, body, t);
  w.u32(<u32>t.kindList.length); for (let i = 0; i < t.kindList.length; i++) w.str(t.kindList[i]);
  w.u32(<u32>(ms.length + 1)); w.str(n.name); for (let j = 0; j < ms.length; j++) w.str(ms[j].name);
  w.u32(<u32>t.reasonList.length); for (let i = 0; i < t.reasonList.length; i++) w.str(t.reasonList[i]);
  w.u32(count);
  w.raw(body.buf.dataStart, body.len);
}

function writeUndesired(n: Node, who: i32, claims: StrMap<Claim>, w: Writer, t: Tables): u32 {
  let count: u32 = 0;
  const cs = claims.values();
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (n.desired.store.has(c.id)) continue;
    w.str(c.id); w.u16(<u16>t.kind('')); w.u16(<u16>who); w.u8(c.status == ST_UNRESPONSIVE ? ST_UNRESPONSIVE : ST_STOPPING); w.u32(c.restarts); w.u16(<u16>t.reason('no longer desired'));
    count++;
  }
  return count;
}

function writeMembers(n: Node, w: Writer): void {
  const count = n.memberCount();
  w.u32(<u32>(count + 1));
  // self first
  w.str(n.name); w.u64(n.inc); w.str(n.listen); w.f64(n.cfg.weight);
  w.u32(<u32>n.kinds.length); for (let i = 0; i < n.kinds.length; i++) w.str(n.kinds[i]);
  w.u32(<u32>n.myClaims().size); w.u8(n.leaving ? MS_LEAVING : MS_UP); w.bool(true);
  for (let i = 0; i < count; i++) {
    const m = n.memberAt(i);
    w.str(m.name); w.u64(m.inc); w.str(m.address); w.f64(m.weight);
    w.u32(<u32>m.kinds.length); for (let j = 0; j < m.kinds.length; j++) w.str(m.kinds[j]);
    w.u32(<u32>m.claims.size); w.u8(m.leaving ? MS_LEAVING : m.link == 0 ? MS_DISCONNECTED : MS_UP); w.bool(false);
  }
}

function claimsHash(name: string, inc: u64, claims: StrMap<Claim>): u64 {
  let x: u64 = 0;
  const cs = claims.values();
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    x ^= mix64(xxh64String(c.id, 0) ^ (<u64>c.status << 32) ^ <u64>c.epoch);
  }
  return mix64(xxh64String(name, 0) ^ inc) ^ x;
}

/**
 * Digest of everything replicated: the desired map and every live member's claims (including
 * ours). Members converge to the same value once faults stop.
 */
export function stateDigest(n: Node): u64 {
  let h = n.desired.digest();
  let x = claimsHash(n.name, n.inc, n.myClaims());
  const count = n.memberCount();
  for (let i = 0; i < count; i++) {
    const m: Member = n.memberAt(i);
    x ^= claimsHash(m.name, m.inc, m.claims);
  }
  return mix64(h ^ x);
}
