// Read-only views of a node for the host: local and global children, members, digests, counters.
// Written into the output buffer in a simple binary layout decoded by core-as/src/binding.ts.

import { Writer } from './io';
import { Node } from './node';
import { S_STARTING, S_RUNNING, S_STOPPING, S_BACKOFF, Claim, Member } from './model';
import { FERR_COUNT } from './codec';
import { mix64, xxh64String } from './hash';

export const Q_LOCAL: i32 = 1;
export const Q_GLOBAL: i32 = 2;
export const Q_MEMBERS: i32 = 3;
export const Q_DIGEST: i32 = 4;
export const Q_COUNTERS: i32 = 5;
export const Q_INFO: i32 = 6;

// Child status codes shared by the local and global views.
export const ST_PENDING: u8 = 0;
export const ST_STARTING: u8 = 1;
export const ST_RUNNING: u8 = 2;
export const ST_STOPPING: u8 = 3;
export const ST_RESTARTING: u8 = 4;
export const ST_FAILED: u8 = 5;

function localStatus(s: u8): u8 {
  if (s == S_STARTING) return ST_STARTING;
  if (s == S_RUNNING) return ST_RUNNING;
  if (s == S_STOPPING) return ST_STOPPING;
  if (s == S_BACKOFF) return ST_RESTARTING;
  return ST_PENDING;
}

export function writeQuery(n: Node, kind: i32, w: Writer): void {
  if (kind == Q_LOCAL) writeLocal(n, w);
  else if (kind == Q_GLOBAL) writeGlobal(n, w);
  else if (kind == Q_MEMBERS) writeMembers(n, w);
  else if (kind == Q_DIGEST) { w.u64(stateDigest(n)); w.u64(n.desired.digest()); }
  else if (kind == Q_COUNTERS) { w.u32(<u32>FERR_COUNT); for (let i = 0; i < FERR_COUNT; i++) w.u32(n.rejected[i]); }
  else if (kind == Q_INFO) {
    w.str(n.name); w.u64(n.inc); w.bool(n.ready()); w.bool(n.leaving); w.bool(n.left);
    w.u32(<u32>n.desired.size); w.u32(<u32>n.locals.size); w.str(n.notReadyReason());
    // local children by state: running, and in transition (starting, stopping, restarting)
    let running: u32 = 0, moving: u32 = 0;
    const cs = n.locals.values();
    for (let i = 0; i < cs.length; i++) { if (cs[i].state == S_RUNNING) running++; else moving++; }
    w.u32(running); w.u32(moving); w.u32(<u32>n.memberList.length);
  }
}

function writeLocal(n: Node, w: Writer): void {
  const cs = n.locals.values();
  w.u32(<u32>cs.length);
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    w.str(c.id); w.str(c.spec.kind); w.u8(localStatus(c.state)); w.u32(c.epoch); w.u32(c.restarts);
  }
}

/** Who claims an id: self first, then members in list order. */
function findClaim(n: Node, id: string): Claim | null {
  if (n.myClaims.has(id)) return n.myClaims.get(id);
  for (let i = 0; i < n.memberList.length; i++) {
    const cs = n.memberList[i].claims;
    if (cs.has(id)) return cs.get(id);
  }
  return null;
}

function claimNode(n: Node, id: string): string {
  if (n.myClaims.has(id)) return n.name;
  for (let i = 0; i < n.memberList.length; i++) if (n.memberList[i].claims.has(id)) return n.memberList[i].name;
  return '';
}

function writeGlobal(n: Node, w: Writer): void {
  const at = w.len;
  w.u32(0);
  let count: u32 = 0;
  const ids = n.desired.store.keys();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const e = n.desired.get(id);
    if (e == null) continue;
    const c = findClaim(n, id);
    w.str(id);
    w.str(e.spec.kind);
    if (e.spec.failed) { w.str(''); w.u8(ST_FAILED); w.u32(0); w.str('restart intensity exceeded'); }
    else if (c != null) { w.str(claimNode(n, id)); w.u8(c.status); w.u32(c.restarts); w.str(''); }
    else {
      const owner = n.owner(id, e.spec.kind);
      w.str(owner);
      w.u8(ST_PENDING);
      w.u32(0);
      w.str(owner.length == 0 ? 'no live member advertises kind ' + e.spec.kind : 'waiting for owner ' + owner);
    }
    count++;
  }
  // Children still stopping after they stopped being desired.
  count += writeUndesired(n, n.name, n.myClaims, w);
  for (let i = 0; i < n.memberList.length; i++) count += writeUndesired(n, n.memberList[i].name, n.memberList[i].claims, w);
  w.patchU32(at, count);
}

function writeUndesired(n: Node, node: string, claims: Map<string, Claim>, w: Writer): u32 {
  let count: u32 = 0;
  const cs = claims.values();
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (n.desired.store.has(c.id)) continue;
    w.str(c.id); w.str(''); w.str(node); w.u8(ST_STOPPING); w.u32(c.restarts); w.str('no longer desired');
    count++;
  }
  return count;
}

function writeMembers(n: Node, w: Writer): void {
  w.u32(<u32>(n.memberList.length + 1));
  // self first
  w.str(n.name); w.u64(n.inc); w.str(n.listen); w.f64(n.cfg.weight);
  w.u32(<u32>n.kinds.length); for (let i = 0; i < n.kinds.length; i++) w.str(n.kinds[i]);
  w.u32(<u32>n.myClaims.size); w.u8(n.leaving ? 1 : 0); w.bool(true);
  for (let i = 0; i < n.memberList.length; i++) {
    const m = n.memberList[i];
    w.str(m.name); w.u64(m.inc); w.str(m.address); w.f64(m.weight);
    w.u32(<u32>m.kinds.length); for (let j = 0; j < m.kinds.length; j++) w.str(m.kinds[j]);
    w.u32(<u32>m.claims.size); w.u8(m.leaving ? 1 : m.link == 0 ? 2 : 0); w.bool(false);
  }
}

function claimsHash(name: string, inc: u64, claims: Map<string, Claim>): u64 {
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
  let x = claimsHash(n.name, n.inc, n.myClaims);
  for (let i = 0; i < n.memberList.length; i++) {
    const m: Member = n.memberList[i];
    x ^= claimsHash(m.name, m.inc, m.claims);
  }
  return mix64(h ^ x);
}
