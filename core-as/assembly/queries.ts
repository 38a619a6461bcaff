// Read-only views of a node for the host: local and global children, members, digests, counters.
// Written into the output buffer in a simple binary layout decoded by core-as/src/queries.ts
// (the global view: global-view.ts here, core-as/src/global-view.ts there).

// Every read goes through the node's query accessors (node.ts), never its fields.

import { Writer } from './io';
import { Node } from './node';
import { S_RUNNING, Claim, Member } from './model';
import {
  Q_LOCAL, Q_GLOBAL_SCRATCH, Q_MEMBERS, Q_DIGEST, Q_COUNTERS, Q_INFO, Q_INIT, Q_ROSTER, FERR_COUNT, MS_UP, MS_LEAVING, MS_DISCONNECTED,
} from './boundary';
import { TESTING } from './flags';
import { writeGlobalScratch } from './global-view';
import { mix64, xxh64String } from './hash';
import { StrMap } from './strmap';
import { tableMode } from './cordon';
import { quorumOk } from './lease';
import { majorityMode, writeRosterNames } from './roster';

export function writeQuery(n: Node, kind: i32, w: Writer): void {
  if (kind == Q_LOCAL) writeLocal(n, w);
  else if (TESTING && kind == Q_GLOBAL_SCRATCH) writeGlobalScratch(n, w);
  else if (kind == Q_MEMBERS) writeMembers(n, w);
  else if (kind == Q_DIGEST) { w.u64(stateDigest(n)); w.u64(n.desired.digest()); }
  else if (kind == Q_COUNTERS) { w.u32(<u32>FERR_COUNT); for (let i = 0; i < FERR_COUNT; i++) w.u32(n.rejectedCount(i)); }
  else if (kind == Q_INIT) w.str(n.initError);
  else if (kind == Q_ROSTER) writeRosterNames(n, w);
  else if (kind == Q_INFO) {
    w.str(n.name); w.u64(n.inc); w.bool(n.ready()); w.bool(n.leaving); w.bool(n.left);
    w.u32(<u32>n.desired.size); w.u32(<u32>n.localCount()); w.str(n.notReadyReason());
    // local children by state: running, and in transition (starting, stopping, restarting)
    let running: u32 = 0, moving: u32 = 0;
    const cs = n.localChildren();
    for (let i = 0; i < cs.length; i++) { if (cs[i].state == S_RUNNING) running++; else moving++; }
    w.u32(running); w.u32(moving); w.u32(<u32>n.memberCount());
    // The lease: held (always in 'available' mode), and the roster's names present (majority mode, else 0).
    w.bool(quorumOk(n)); w.u32(majorityMode(n) ? <u32>n.roster.present : 0);
    // Members whose link is open: after BYE each closes it once it has read everything before (a stop waits for that).
    let linked: u32 = 0;
    for (let i = 0, end = n.memberCount(); i < end; i++) if (n.memberAt(i).link != 0) linked++;
    w.u32(linked);
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

function writeMembers(n: Node, w: Writer): void {
  const count = n.memberCount();
  w.u32(<u32>(count + 1));
  // self first
  w.str(n.name); w.u64(n.inc); w.str(n.listen); w.f64(n.cfg.weight);
  w.u32(<u32>n.kinds.length); for (let i = 0; i < n.kinds.length; i++) w.str(n.kinds[i]);
  w.u32(<u32>n.myClaims().size); w.u8(n.leaving ? MS_LEAVING : MS_UP); w.bool(true); w.u8(tableMode(n, n.name));
  for (let i = 0; i < count; i++) {
    const m = n.memberAt(i);
    w.str(m.name); w.u64(m.inc); w.str(m.address); w.f64(m.weight);
    w.u32(<u32>m.kinds.length); for (let j = 0; j < m.kinds.length; j++) w.str(m.kinds[j]);
    w.u32(<u32>m.claims.size); w.u8(m.leaving ? MS_LEAVING : m.link == 0 ? MS_DISCONNECTED : MS_UP); w.bool(false); w.u8(tableMode(n, m.name));
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
