// Sync: keeping the desired-children CRDT (crdt.ts) the same on every member.
//
// - Local ops (startChild, terminateChild, a failed mark) go out as one delta per step to every
//   member, asking for an ACK of their dots; an ACK (or being alone) answers the request.
// - A member that connects gets a SYNC_REQ (our context and live dots) and answers with a
//   full-state DELTA, or if that is larger than a sync frame, DELTA frames of the entries we
//   lack, then SYNC_LIVE frames of its context and live dots (anti-entropy, sync-live.ts); so
//   does a member whose DIGEST stays different.
// - Every sync interval, a DIGEST (desired state and claims version) goes to every member, and
//   ops still waiting for an ACK after a whole interval are asked again in an empty DELTA.
// Every frame is at most SYNC_FRAME_BYTES_MAX and merged on arrival (delta-frames.ts), so a sync
// of 100,000 children is many short steps with heartbeats between them. Deltas may be lost,
// duplicated or reordered: merging is idempotent and commutative, and anything lost is repaired
// by the next anti-entropy round.

import { Reader, Writer } from './io';
import { MSG_DIGEST, MSG_SYNC_REQ, MSG_DELTA, MSG_ACK } from './codec';
import { BUG_SKIP_ANTI_ENTROPY } from './boundary';
import { DIGEST_PATIENCE, REASK_ACKS_MAX, SYNC_FRAME_BYTES_MAX, FRAME_HEADER_BYTES } from './limits';
import { planted } from './flags';
import { Node } from './node';
import { Member } from './model';
import { Delta, Entry, dotKey, dotRep, dotCtr } from './crdt';
import { encodeDelta, encodeSyncReq, decodeSyncReq, decodeDelta, commitReplicas } from './crdt-wire';
import { sendDeltaFrames } from './delta-frames';
import { sendSyncLive } from './sync-live';
import { gossipMembers } from './members-gossip';
import { watchedSyncRound } from './watched-links';
import { checkClaimsVersion } from './claims';
import { reaskTermChecks } from './terminates';
import { noteAcked, resendHandover } from './leave-handover';

/** Where an ACK frame's count sits: right after the header. */
const ACK_COUNT_AT: i32 = FRAME_HEADER_BYTES;

export function sendSyncReq(n: Node, link: u32): void {
  encodeSyncReq(n.outbox.frame(MSG_SYNC_REQ), n.desired, SYNC_FRAME_BYTES_MAX);
  n.outbox.to(link);
}

/** The sync timer: our digest, who we know, and the re-asks of unacknowledged ops. */
export function syncFire(n: Node): void {
  if (n.members.count == 0 || planted(n.bugs, BUG_SKIP_ANTI_ENTROPY)) return;
  watchedSyncRound(n);
  const w = n.outbox.frame(MSG_DIGEST);
  w.u64(n.desired.digest());
  w.u64(n.claims.version);
  n.outbox.toSyncing(n.members);
  // Gossip who we know with every sync, so a MEMBERS lost on a flapping link is repaired.
  gossipMembers(n);
  reaskAcks(n);
  reaskTermChecks(n);
  resendHandover(n);
}

export function onDigest(n: Node, m: Member, link: u32, r: Reader): bool {
  const theirs = r.u64();
  const claimsVersion = r.u64();
  if (!r.ok || r.remaining != 0) return false;
  if (!planted(n.bugs, BUG_SKIP_ANTI_ENTROPY)) compareDigest(n, m, link, theirs);
  checkClaimsVersion(n, m, link, claimsVersion);
  return true;
}

/**
 * Anti-entropy when a peer's digest differs from ours. Not at the first difference: during a
 * burst (100,000 starts) deltas from a third node are still on their way and digests differ
 * at every sync, and each SYNC_REQ answer carries every live dot. A difference that stays
 * while neither digest moves is real; one that lasts DIGEST_PATIENCE syncs is treated as real.
 */
function compareDigest(n: Node, m: Member, link: u32, theirs: u64): void {
  const mine = n.desired.digest();
  if (theirs == mine) m.digestMisses = 0;
  else {
    m.digestMisses++;
    const still = theirs == m.peerDigest && mine == m.myDigestThen;
    if (still || m.digestMisses >= DIGEST_PATIENCE) { m.digestMisses = 0; sendSyncReq(n, link); }
  }
  m.peerDigest = theirs;
  m.myDigestThen = mine;
}

export function onSyncReq(n: Node, link: u32, r: Reader): bool {
  const d = new Delta();
  const req = decodeSyncReq(r, n.desired);
  if (!r.ok || r.remaining != 0) return false;
  commitReplicas(n.desired);
  const send = n.desired.missingFor(req.context, req.live, d);
  // Ask again for acks of anything still waiting: the original delta may have been lost.
  const ks = n.ackWaits.keys();
  for (let i = 0; i < ks.length; i++) d.acks.push(ks[i]);
  if (!send && d.acks.length == 0) return true;
  // An answer that fits one sync frame goes whole, as a full-state DELTA; a larger one as DELTA
  // frames of its entries, then SYNC_LIVE frames of our context and live dots.
  const w = n.outbox.frame(MSG_DELTA);
  encodeDelta(w, n.desired, d, true);
  if (w.len <= SYNC_FRAME_BYTES_MAX) { n.outbox.to(link); return true; }
  sendDeltaFrames(n, d, link);
  if (send) sendSyncLive(n, link);
  return true;
}

export function onDelta(n: Node, link: u32, r: Reader): bool {
  const dd = decodeDelta(r, n.desired);
  if (dd == null || r.remaining != 0) return false;
  commitReplicas(n.desired);
  const res = n.desired.merge(dd);
  for (let i = 0; i < res.changed.length; i++) n.dirty.add(res.changed[i]);
  // A leaving node is no holder an acknowledgement may rest on (leave-handover.ts).
  if (n.leaving) return true;
  sendAcks(n, link, res.acks);
  noteAcked(n, res.acks);
  return true;
}

/** ACK: the dots asked for that we now hold, in frames of at most SYNC_FRAME_BYTES_MAX. */
function sendAcks(n: Node, link: u32, asked: Array<u64>): void {
  const ctx = n.desired.ctx;
  const reps = n.desired.replicas.list;
  let w: Writer | null = null;
  let count: u32 = 0;
  for (let i = 0; i < asked.length; i++) {
    const k = asked[i];
    if (!ctx.has(dotRep(k), dotCtr(k))) continue;
    const rep = reps[dotRep(k)];
    const b = 4 + String.UTF8.byteLength(rep.name, false) + 16;
    if (w != null && w.len + b > SYNC_FRAME_BYTES_MAX) { w.patchU32(ACK_COUNT_AT, count); n.outbox.to(link); w = null; }
    if (w == null) { w = n.outbox.frame(MSG_ACK); w.u32(0); count = 0; }
    w.str(rep.name);
    w.u64(rep.inc);
    w.u64(dotCtr(k));
    count++;
  }
  if (w != null) { w.patchU32(ACK_COUNT_AT, count); n.outbox.to(link); }
}

/**
 * An ACK lost on the way (or a DELTA lost while both sides still reach the same state by other
 * ops) would leave a request waiting for ever, since equal digests start no anti-entropy. So
 * every sync interval, ops waiting longer than that are asked again with an empty DELTA whose
 * ack list names them.
 */
function reaskAcks(n: Node): void {
  if (n.ackWaits.size == 0) return;
  const ks = n.ackWaits.keys();
  const p = n.pendingDelta;
  // Oldest first (insertion order), a bounded number per interval.
  for (let i = 0, count = 0; i < ks.length && count < REASK_ACKS_MAX; i++) {
    if (n.now - n.ackWaits.get(ks[i]).since >= <i64>n.cfg.syncIntervalMs) { p.acks.push(ks[i]); count++; }
  }
}

/** End of step: this step's local ops (and re-asks) as DELTA frames to every member. */
export function flushDelta(n: Node): void {
  const p = n.pendingDelta;
  if (p.empty && p.acks.length == 0) return;
  // An entry superseded within the same batch is not sent.
  if (p.removed.length > 0 && p.entries.length > 0) {
    const live = new Array<Entry>();
    for (let i = 0; i < p.entries.length; i++) {
      const e = p.entries[i];
      if (n.desired.byDot.has(dotKey(e.rep, e.ctr))) live.push(e);
    }
    p.entries = live;
  }
  if (n.members.count > 0) sendDeltaFrames(n, p, 0);
  p.clear();
}
