// Claims: which member runs which child. Each node claims the children it runs (starting,
// running, stopping, restarting) and releases a claim when the child is gone; no node starts
// a child another live member claims. Claims travel as versioned deltas (one per step, one
// version per frame) with full snapshots on connect and whenever a receiver sees a gap in the
// versions. Every CLAIMS frame is at most SYNC_FRAME_BYTES_MAX: a snapshot larger than that goes
// in parts (first, next, last), each applied as it arrives; the claims of the member's previous
// snapshot stay until the last part, which drops those that no part named. So between parts a
// member's claims are a superset of what it runs: a child may wait to start, never start twice.
// A delta no newer than the snapshot whose parts are arriving is already in it and is dropped
// (one may arrive late on a retired duplicate link, link-retire.ts).
//
//   CLAIMS = u8 kind (CLAIMS_*), u64 base (deltas) or 0, u64 version, u32 n, claim × n

import { Reader, Writer } from './io';
import { MSG_CLAIMS, MSG_CLAIMS_REQ } from './codec';
import { OE_CHILD_MOVED } from './boundary';
import { ID_BYTES_MAX, WIRE_ITEMS_MAX, SYNC_FRAME_BYTES_MAX, FRAME_HEADER_BYTES } from './limits';
import { Node } from './node';
import { Claim, C_RELEASED, C_RUNNING, C_MAX, Member, S_RUNNING } from './model';
import { fxEvent } from './effects';
import { StrMap } from './strmap';
import { messagesRetarget } from './messages';
import { claimSeen } from './handoff';

/** What a CLAIMS frame carries. */
export const CLAIMS_DELTA: u8 = 0;
/** A whole snapshot in one frame. */
export const CLAIMS_FULL: u8 = 1;
export const CLAIMS_FULL_FIRST: u8 = 2;
export const CLAIMS_FULL_NEXT: u8 = 3;
export const CLAIMS_FULL_LAST: u8 = 4;
/** kind, base, version, count. */
const CLAIMS_FIXED_BYTES: i32 = FRAME_HEADER_BYTES + 1 + 8 + 8 + 4;
const CLAIMS_COUNT_AT: i32 = CLAIMS_FIXED_BYTES - 4;

export class ClaimTable {
  /** Our claims by child id. */
  mine: StrMap<Claim> = new StrMap<Claim>();
  /** The version of `mine` last sent; every step with changes sends one delta and bumps it. */
  version: u64 = 0;
  /** This step's changes, in order (a release is a claim with C_RELEASED). */
  changes: Array<Claim> = [];
  /** The member last seen running each child, to report moves. */
  lastRunner: StrMap<string> = new StrMap<string>();
}

export function setClaim(n: Node, id: string, epoch: u32, status: u8, restarts: u32): void {
  const c = new Claim(id, epoch, status, restarts);
  n.claims.mine.set(id, c);
  n.claims.changes.push(c);
  n.view.feed.touch(id);
  noteRunner(n, id, n.name);
}

export function releaseClaim(n: Node, id: string): void {
  if (!n.claims.mine.has(id)) return;
  n.claims.mine.delete(id);
  n.claims.changes.push(new Claim(id, 0, C_RELEASED, 0));
  n.view.feed.touch(id);
  n.dirty.add(id);
}

function noteRunner(n: Node, id: string, node: string): void {
  const last = n.claims.lastRunner;
  const at = last.find(id);
  if (at >= 0) {
    const prev = last.valueAt(at);
    if (prev == node) return;
    fxEvent(OE_CHILD_MOVED, id, prev, node, '', 0, 0);
  }
  last.set(id, node);
}

function encodeClaim(w: Writer, c: Claim): void {
  w.str(c.id);
  w.u8(c.status);
  w.u32(c.epoch);
  w.u32(c.restarts);
}

function claimBytes(c: Claim): i32 { return 4 + String.UTF8.byteLength(c.id, false) + 1 + 4 + 4; }

/** How many of `cs`, from `from`, fit one CLAIMS frame (at least one). */
function claimsThatFit(cs: Array<Claim>, from: i32): i32 {
  let b = CLAIMS_FIXED_BYTES, k = from;
  while (k < cs.length && (k == from || b + claimBytes(cs[k]) <= SYNC_FRAME_BYTES_MAX)) { b += claimBytes(cs[k]); k++; }
  return k - from;
}

function writeClaims(n: Node, kind: u8, base: u64, version: u64, cs: Array<Claim>, from: i32, count: i32): Writer {
  const w = n.outbox.frame(MSG_CLAIMS);
  w.u8(kind);
  w.u64(base);
  w.u64(version);
  w.u32(<u32>count);
  for (let i = from; i < from + count; i++) encodeClaim(w, cs[i]);
  return w;
}

/** CLAIMS (full): every claim of ours, at the current version, in one frame or in parts. */
export function sendClaimsFull(n: Node, link: u32): void {
  const cs = n.claims.mine.values();
  const v = n.claims.version;
  let at = 0;
  do {
    const k = claimsThatFit(cs, at);
    const first = at == 0, last = at + k == cs.length;
    const kind = first && last ? CLAIMS_FULL : first ? CLAIMS_FULL_FIRST : last ? CLAIMS_FULL_LAST : CLAIMS_FULL_NEXT;
    writeClaims(n, kind, 0, v, cs, at, k);
    n.outbox.to(link);
    at += k;
  } while (at < cs.length);
}

/** End of step: this step's changes as CLAIMS deltas to every member, one version per frame. */
export function flushClaims(n: Node): void {
  const t = n.claims;
  const cs = t.changes;
  if (cs.length == 0) return;
  if (n.members.count == 0) { t.version++; t.changes = []; return; }
  let at = 0;
  while (at < cs.length) {
    const k = claimsThatFit(cs, at);
    writeClaims(n, CLAIMS_DELTA, t.version, t.version + 1, cs, at, k);
    n.outbox.toAll(n.members);
    t.version++;
    at += k;
  }
  t.changes = [];
}

export function onClaimsReq(n: Node, link: u32, r: Reader): bool {
  if (r.remaining != 0) return false;
  sendClaimsFull(n, link);
  return true;
}

/** A member's DIGEST names its claims version: a different one means a lost delta, so ask again. */
export function checkClaimsVersion(n: Node, m: Member, link: u32, version: u64): void {
  if (version != m.claimsVersion || !m.claimsSynced) {
    m.awaitingFull = true;
    n.outbox.empty(link, MSG_CLAIMS_REQ);
  }
}

export function onClaims(n: Node, m: Member, link: u32, r: Reader): bool {
  const kind = r.u8();
  const base = r.u64();
  const version = r.u64();
  const count = r.count(WIRE_ITEMS_MAX, 13);
  const list = new Array<Claim>();
  for (let i = 0; i < count; i++) {
    const id = r.str(ID_BYTES_MAX);
    const status = r.u8();
    const epoch = r.u32();
    const restarts = r.u32();
    if (!r.ok) return false;
    if (status > C_MAX || id.length == 0) return false;
    list.push(new Claim(id, epoch, status, restarts));
  }
  // A count larger than what remains fails in count(), before the loop: check the reader too.
  if (!r.ok || r.remaining != 0 || kind > CLAIMS_FULL_LAST) return false;
  if (kind == CLAIMS_FULL) {
    const old = m.claims.keys();
    for (let i = 0; i < old.length; i++) { n.dirty.add(old[i]); n.view.feed.touch(old[i]); }
    m.claims.clear();
    m.snapshotOpen = false;
    for (let i = 0; i < list.length; i++) applyClaim(n, m, list[i]);
    fullApplied(n, m, version);
    return true;
  }
  if (kind != CLAIMS_DELTA) { onClaimsPart(n, m, link, kind, version, list); return true; }
  // A delta no newer than the snapshot whose parts are arriving is already in it: one late on a
  // retired duplicate link, behind the snapshot sent on the new link. Applied between the parts,
  // its claims would carry no part's mark and the last part would drop them. Any other delta then
  // waits for a full set.
  if (m.snapshotOpen && version <= m.snapshotVersion) return true;
  if (base != m.claimsVersion || m.awaitingFull || m.snapshotOpen) {
    // A gap (lost or reordered delta): ask for the full set once.
    askFull(n, m, link);
    return true;
  }
  for (let i = 0; i < list.length; i++) applyClaim(n, m, list[i]);
  m.claimsVersion = version;
  return true;
}

function askFull(n: Node, m: Member, link: u32): void {
  if (!m.awaitingFull) { m.awaitingFull = true; n.outbox.empty(link, MSG_CLAIMS_REQ); }
}

function fullApplied(n: Node, m: Member, version: u64): void {
  m.claimsVersion = version;
  m.awaitingFull = false;
  if (!m.claimsSynced) { m.claimsSynced = true; n.allDirty = true; }
}

/**
 * A part of a snapshot. Its claims apply at once, marked with the snapshot's number; the last part
 * drops the claims no part of this snapshot named. A part that does not continue the open
 * snapshot (its first part went on a link since lost) is set aside and the full set asked again.
 */
function onClaimsPart(n: Node, m: Member, link: u32, kind: u8, version: u64, list: Array<Claim>): void {
  if (kind == CLAIMS_FULL_FIRST) {
    m.snapshot++;
    m.snapshotOpen = true;
    m.snapshotVersion = version;
  } else if (!m.snapshotOpen || m.snapshotVersion != version) {
    askFull(n, m, link);
    return;
  }
  for (let i = 0; i < list.length; i++) { list[i].snapshot = m.snapshot; applyClaim(n, m, list[i]); }
  if (kind != CLAIMS_FULL_LAST) return;
  m.snapshotOpen = false;
  const ids = m.claims.keys();
  for (let i = 0; i < ids.length; i++) {
    if (m.claims.get(ids[i]).snapshot == m.snapshot) continue;
    n.dirty.add(ids[i]);
    n.view.feed.touch(ids[i]);
    m.claims.delete(ids[i]);
  }
  fullApplied(n, m, version);
}

function applyClaim(n: Node, m: Member, c: Claim): void {
  // Only a release can let this node start the child, and only waiters watch the others'
  // claims otherwise; reconciling on every starting/running claim of a 100k burst was
  // wasted work on every node.
  if (c.status == C_RELEASED || n.doneWaits.has(c.id)) n.dirty.add(c.id);
  n.view.feed.touch(c.id);
  messagesRetarget(n, c.id);
  if (c.status == C_RELEASED) { if (m.claims.has(c.id)) m.claims.delete(c.id); return; }
  if (!claimAllowed(n, m, c.id)) return;
  claimSeen(n, m, c);
  m.claims.set(c.id, c);
  noteRunner(n, c.id, m.name);
}

/**
 * A credential member may claim only children of kinds its credential allows: a claim of any
 * other kind is ignored (when it arrives, and when it is consulted, for a spec learned later).
 */
function claimAllowed(n: Node, m: Member, id: string): bool {
  if (!m.credential) return true;
  const e = n.desired.get(id);
  return e == null || m.allowedKinds.has(e.spec.kind);
}

/** Some other live member claims this child. */
export function claimedByOther(n: Node, id: string): bool {
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) if (ms[i].claims.has(id) && claimAllowed(n, ms[i], id)) return true;
  return false;
}

/** The child runs here or on a member that claims it as running. */
export function runningSomewhere(n: Node, id: string): bool {
  if (n.locals.has(id) && n.locals.get(id).state == S_RUNNING) return true;
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const cs = ms[i].claims;
    if (cs.has(id) && cs.get(id).status == C_RUNNING) return true;
  }
  return false;
}
