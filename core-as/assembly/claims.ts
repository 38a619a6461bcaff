// Claims: which member runs which child. Each node claims the children it runs (starting,
// running, stopping, restarting) and releases a claim when the child is gone; no node starts
// a child another live member claims. Claims travel as versioned deltas (one per step) with
// full snapshots on connect and whenever a receiver sees a gap in the versions.

import { Reader, Writer } from './io';
import { MSG_CLAIMS, MSG_CLAIMS_REQ } from './codec';
import { OE_CHILD_MOVED } from './boundary';
import { ID_BYTES_MAX, WIRE_ITEMS_MAX } from './limits';
import { Node } from './node';
import { Claim, C_RELEASED, C_RUNNING, C_MAX, Member, S_RUNNING } from './model';
import { fxEvent } from './effects';
import { StrMap } from './strmap';
import { messagesRetarget } from './messages';
import { claimSeen } from './handoff';

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

/** CLAIMS (full): every claim of ours, at the current version. */
export function sendClaimsFull(n: Node, link: u32): void {
  const w = n.outbox.frame(MSG_CLAIMS);
  w.u8(1);
  w.u64(0);
  w.u64(n.claims.version);
  const cs = n.claims.mine.values();
  w.u32(<u32>cs.length);
  for (let i = 0; i < cs.length; i++) encodeClaim(w, cs[i]);
  n.outbox.to(link);
}

/** End of step: this step's changes as one CLAIMS delta (base version → next) to every member. */
export function flushClaims(n: Node): void {
  const t = n.claims;
  if (t.changes.length == 0) return;
  const base = t.version;
  t.version++;
  if (n.members.count > 0) {
    const w = n.outbox.frame(MSG_CLAIMS);
    w.u8(0);
    w.u64(base);
    w.u64(t.version);
    w.u32(<u32>t.changes.length);
    for (let i = 0; i < t.changes.length; i++) encodeClaim(w, t.changes[i]);
    n.outbox.toAll(n.members);
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
  const full = r.bool();
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
  if (!r.ok || r.remaining != 0) return false;
  if (full) {
    const old = m.claims.keys();
    for (let i = 0; i < old.length; i++) { n.dirty.add(old[i]); n.view.feed.touch(old[i]); }
    m.claims.clear();
    for (let i = 0; i < list.length; i++) applyClaim(n, m, list[i]);
    m.claimsVersion = version;
    m.awaitingFull = false;
    if (!m.claimsSynced) { m.claimsSynced = true; n.allDirty = true; }
    return true;
  }
  if (base != m.claimsVersion || m.awaitingFull) {
    // A gap (lost or reordered delta): ask for the full set once.
    if (!m.awaitingFull) { m.awaitingFull = true; n.outbox.empty(link, MSG_CLAIMS_REQ); }
    return true;
  }
  for (let i = 0; i < list.length; i++) applyClaim(n, m, list[i]);
  m.claimsVersion = version;
  return true;
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
