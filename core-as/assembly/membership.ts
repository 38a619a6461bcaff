// Membership: who is in the cluster, as this node sees it.
//
// - A link whose handshake completes makes its peer a member (memberUp). A newcomer is told
//   who we know, our desired state and our claims, and everyone else is told of the newcomer
//   (MEMBERS), so one seed is enough to join.
// - MEMBERS gossip (on every new member and every sync interval) adds addresses to dial, and
//   makes a named address due at once (its backoff is for addresses nobody vouches for); it
//   never adds a member by itself: only an authenticated link does.
// - A member is down when it is silent for failureTimeoutMs (its link may come and go in the
//   meantime), when its link closed and the redial was refused, when it says BYE, or when a
//   newer incarnation of it connects. Its claims are
//   void at once, so its children may start elsewhere.
// - In majority mode a BYE also takes the member off the roster (roster.ts), and every link that
//   comes up carries ROSTER first after MEMBERS.
// The one design choice people ask about: a lost link alone does not make a member down. Links
// flap far more often than nodes fail; the member keeps its claims until it is silent long
// enough, or until the redial that follows the lost link is refused (its process is gone: the
// operating system says so at once, and Erlang takes a closed connection as nodedown too).

import { Reader } from './io';
import { MSG_MEMBERS, MSG_LEAVING } from './codec';
import { OE_MEMBER_UP, OE_MEMBER_DOWN, AUTH_CREDENTIAL, BUG_IGNORE_INCARNATION, BUG_BREAK_INVARIANT, BUG_SKIP_ANTI_ENTROPY } from './boundary';
import { MEMBERS_MAX, NAME_BYTES_MAX, ADDRESS_BYTES_MAX } from './limits';
import { planted } from './flags';
import { Node } from './node';
import { Link, Member } from './model';
import { fxClose, fxEvent } from './effects';
import { dialReached, forgetOtherAddresses, redialNow, namedButUnlinked, withdrawUnlisted, namedByLinkedMember } from './dials';
import { sendSyncReq } from './sync';
import { sendClaimsFull } from './claims';
import { handoffsOnConnect, handoffsMemberDown } from './handoff';
import { leaseLost } from './lease';
import { sendCordonsTo, sendMemberStateTo } from './cordon';
import { sendRosterTo, rosterLinkUp, rosterLeft } from './roster';
import { retireLink, closeRetiredOf } from './link-retire';
import { sendLeaseWaitTo } from './lease-wait';
import { termMemberDown } from './terminates';
import { heartbeatsLinkUp } from './heartbeats';
import { watchedLinkUp, watchedLinkLost, silentUntil } from './watched-links';
import { membersToAll, membersTo, keepMembersList } from './members-gossip';
import { xxh64 } from './hash';

export class MemberTable {
  private byName: Map<string, Member> = new Map();
  /** Members in the order they came up: the order every broadcast and view uses. */
  list: Array<Member> = [];
  /** The highest incarnation seen per name (members or not): anything older is stale. */
  maxInc: Map<string, u64> = new Map();

  get count(): i32 { return this.list.length; }
  has(name: string): bool { return this.byName.has(name); }
  get(name: string): Member { return this.byName.get(name); }
  /** The member of this name is exactly `m` (not an older or newer one). */
  is(m: Member): bool { return this.byName.has(m.name) && this.byName.get(m.name) == m; }
  names(): Array<string> { return this.byName.keys(); }

  add(m: Member): void {
    this.byName.set(m.name, m);
    this.list.push(m);
  }

  remove(m: Member, bugs: u32): void {
    this.byName.delete(m.name);
    // Planted bug: the member stays in the list (the invariants must catch it).
    if (planted(bugs, BUG_BREAK_INVARIANT)) return;
    const idx = this.list.indexOf(m);
    if (idx >= 0) this.list.splice(idx, 1);
  }

  /** An incarnation older than one already seen of that name. */
  isStale(name: string, inc: u64): bool {
    if (!this.maxInc.has(name)) return false;
    return inc < this.maxInc.get(name);
  }

  noteIncarnation(name: string, inc: u64): void {
    if (!this.maxInc.has(name) || this.maxInc.get(name) < inc) this.maxInc.set(name, inc);
  }
}

export function memberUp(n: Node, l: Link): void {
  const name = l.peerName;
  if (l.outbound && n.dials.has(l.address)) { dialReached(n, l.address, name); n.dials.get(l.address).inFlight = false; }
  n.members.noteIncarnation(name, l.peerInc);
  if (n.members.has(name)) {
    const m = n.members.get(name);
    const sameIncarnation = m.inc == l.peerInc || planted(n.bugs, BUG_IGNORE_INCARNATION);
    if (sameIncarnation) {
      if (m.link != 0 && m.link != l.id && n.links.has(m.link)) {
        // Two links to one member: keep the one dialed by the smaller name (both sides agree);
        // if one side dialed both, the newer wins.
        const old = n.links.get(m.link);
        const oldDialer = old.outbound ? n.name : name;
        const newDialer = l.outbound ? n.name : name;
        const keepNew = newDialer < oldDialer || newDialer == oldDialer;
        retireLink(n, m, keepNew ? old : l);
        if (!keepNew) return;
      }
      // A member back on a new link may complete the mesh the quorum lease waits for
      // (lease.ts takeoverAllowed), and nothing else would look at the waiting children again.
      if (m.link == 0 && n.cfg.quorum != 0) n.allDirty = true;
      m.link = l.id;
      m.lastHeard = n.now;
      m.inc = l.peerInc;
      noteCredential(m, l);
      afterConnect(n, m, l.id);
      return;
    }
    memberDown(n, m, 'restarted');
  }
  const m = new Member(name, l.peerInc, l.peerListen, l.peerKinds, l.peerWeight);
  noteCredential(m, l);
  m.link = l.id;
  m.lastHeard = n.now;
  n.members.add(m);
  membershipChanged(n);
  const vouched = m.address.length != 0 && namedByLinkedMember(n, m.address, name);
  if (m.address.length) {
    forgetOtherAddresses(n, name, m.address);
    dialReached(n, m.address, name);
  }
  fxEvent(OE_MEMBER_UP, name, m.address, '', '', <f64>m.inc, 0);
  afterConnect(n, m, l.id);
  // Tell everyone else about the newcomer, so one seed is enough. Not when a member of ours named
  // it to us: that member told its own members as it linked, and in a full mesh of n nodes every
  // node telling every other made each join cost n² MEMBERS frames of n entries (the periodic
  // gossip still reaches a member that member does not have).
  if (vouched) return;
  membersToAll(n);
}

/** A credential member: what its credential allows and when it expires (handshake.ts closes it out). */
function noteCredential(m: Member, l: Link): void {
  if (l.peerAuth != AUTH_CREDENTIAL) return;
  m.credential = true;
  m.expiresAt = l.peerExpiresAt;
  for (let i = 0; i < l.peerCredentialKinds.length; i++) m.allowedKinds.add(l.peerCredentialKinds[i]);
}

/** What a (re)connected member needs: who we know, our desired state, our claims. */
function afterConnect(n: Node, m: Member, link: u32): void {
  heartbeatsLinkUp(n, m, n.links.get(link));
  watchedLinkUp(n, m, n.links.get(link));
  // Routes waiting for this member's link, or in flight over the one it replaces (messages.ts).
  n.msgs.allDirty = true;
  rosterLinkUp(n, m);
  membersTo(n, m, link);
  sendRosterTo(n, link);
  sendLeaseWaitTo(n, link);
  if (!planted(n.bugs, BUG_SKIP_ANTI_ENTROPY)) sendSyncReq(n, link);
  sendCordonsTo(n, link);
  handoffsOnConnect(n, m, link);
  sendClaimsFull(n, link);
  sendMemberStateTo(n, link);
  if (n.leaving) n.outbox.empty(link, MSG_LEAVING);
}

export function memberDown(n: Node, m: Member, reason: string): void {
  if (!n.members.is(m)) return;
  handoffsMemberDown(n, m);
  termMemberDown(n, m);
  n.members.remove(m, n.bugs);
  closeRetiredOf(n, m);
  if (m.link != 0 && n.links.has(m.link)) {
    n.links.delete(m.link);
    fxClose(m.link, reason);
  }
  // Its claims are void: those children may start elsewhere.
  const ids = m.claims.keys();
  for (let i = 0; i < ids.length; i++) n.dirty.add(ids[i]);
  membershipChanged(n);
  n.membersGossipDue = true;
  fxEvent(OE_MEMBER_DOWN, m.name, reason, '', '', <f64>m.inc, 0);
  if (reason == 'left' && m.address.length && n.dials.has(m.address)) n.dials.delete(m.address);
  leaseLost(n, m, reason);
}

/**
 * The authenticated link of a member closed: it stays a member until it is silent too long,
 * unless the redial (at once) is refused.
 */
export function linkLost(n: Node, l: Link): void {
  if (!n.members.has(l.peerName)) return;
  const m = n.members.get(l.peerName);
  if (m.link != l.id) return;
  m.link = 0;
  watchedLinkLost(n, m);
  n.msgs.allDirty = true;
  redialNow(n, m.address);
}

/**
 * A dial to a member's address was refused or reset. A member that is still connected (another
 * link) is alive; one whose link has closed is gone: nothing listens where it listened, so its
 * process has exited, and waiting out its silence would only delay the failover.
 */
export function redialRefused(n: Node, name: string): void {
  if (name.length == 0 || !n.members.has(name)) return;
  const m = n.members.get(name);
  if (m.link == 0) memberDown(n, m, 'link_closed');
}

export function membershipChanged(n: Node): void {
  n.candCache.clear();
  n.allDirty = true;
  n.msgs.allDirty = true;
}

/** MEMBERS: us (if we listen) and every member with an address. */
export function writeMembers(n: Node): void {
  const w = n.outbox.frame(MSG_MEMBERS);
  let count = 0;
  const countAt = w.len;
  w.u32(0);
  if (n.listen.length) { w.str(n.name); w.u64(n.inc); w.str(n.listen); count++; }
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.address.length == 0) continue;
    w.str(m.name); w.u64(m.inc); w.str(m.address); count++;
  }
  w.patchU32(countAt, <u32>count);
  n.membersHash = xxh64(w.buf.dataStart + <usize>countAt, w.len - countAt, 0);
}

/** MEMBERS on `link` (0: a MEMBERS_SAME's replay): read whole first (lengths only, nothing kept), then applied; a bad frame changes nothing. */
export function onMembers(n: Node, from: string, r: Reader, link: u32): bool {
  const start = r.pos;
  const count = r.count(MEMBERS_MAX, 16);
  for (let i = 0; i < count; i++) {
    r.skipStr(NAME_BYTES_MAX);
    r.u64();
    r.skipStr(ADDRESS_BYTES_MAX);
  }
  if (!r.ok || r.remaining != 0) return false;
  if (link != 0) keepMembersList(n.members.get(from), link, r.ptr + <usize>start, r.pos - start);
  r.pos = start;
  r.count(MEMBERS_MAX, 16);
  const frame = ++n.membersFrames;
  for (let i = 0; i < count; i++) {
    const name = r.str(NAME_BYTES_MAX);
    const inc = r.u64();
    const addr = r.str(ADDRESS_BYTES_MAX);
    if (n.dials.has(addr)) n.dials.get(addr).listedIn = frame;
    if (name == n.name || addr.length == 0 || addr == n.listen) continue;
    if (n.members.isStale(name, inc)) continue;
    if (n.members.has(name) && n.members.get(name).inc >= inc) continue;
    const d = n.dials.ensure(addr, n.now);
    if (d.name.length == 0) d.name = name;
    if (d.name == name) {
      d.namedAt = n.now;
      d.namedBy = from;
      d.listedIn = frame;
      // A live member vouches for it, so it is probably only our path to it that failed (a cut
      // that may have healed): try now, not after a backoff of seconds, so that a healed
      // partition relinks (and its duplicates stop) within about one sync interval.
      if (d.nextAt > n.now) d.nextAt = n.now;
    }
  }
  withdrawUnlisted(n, from, frame);
  return r.remaining == 0;
}

/** End of step: after a member went down, who we know goes to every member at once (withdrawUnlisted). */
export function flushMembers(n: Node): void {
  if (!n.membersGossipDue) return;
  n.membersGossipDue = false;
  if (n.members.count == 0) return;
  membersToAll(n);
}

/** LEAVING: the member stays (and keeps its claims) but no longer owns anything new. */
export function onLeaving(n: Node, m: Member, r: Reader): bool {
  if (r.remaining != 0) return false;
  if (!m.leaving) { m.leaving = true; membershipChanged(n); }
  return true;
}

/** BYE: the member released everything and is gone. A BYE with a payload is ignored (not rejected). */
export function onBye(n: Node, m: Member, r: Reader): void {
  if (r.remaining != 0) return;
  rosterLeft(n, m);
  memberDown(n, m, 'left');
}

export function silentMembersDue(n: Node): i64 {
  let at = i64.MAX_VALUE;
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const t = silentUntil(n, ms[i]) + 1;
    if (t < at) at = t;
  }
  return at;
}

export function downSilentMembers(n: Node): void {
  const ms = n.members.list.slice(0);
  for (let i = 0; i < ms.length; i++) {
    if (n.now > silentUntil(n, ms[i])) memberDown(n, ms[i], 'timeout');
  }
}

/** Why this node does not start children yet ('' when it is ready). */
export function notReadyReason(n: Node): string {
  const ds = n.dials.values();
  for (let i = 0; i < ds.length; i++) if (!ds[i].resolved && !ds[i].self) return 'dialing ' + ds[i].address;
  // Joining, a node that a member vouches for must be linked (and its claims known) before we
  // start anything, even when a dial to it failed: a dial dropped as a duplicate link (both
  // sides dialed at once) is no sign of death, and starting without that node's claims would
  // run its children twice on a planned move. Once ready, a node stops waiting for it.
  if (!n.everReady) for (let i = 0; i < ds.length; i++) if (namedButUnlinked(n, ds[i])) return 'waiting for ' + ds[i].name + ', named by a member';
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) if (!ms[i].claimsSynced) return 'waiting for the claims of ' + ms[i].name;
  // Links in their handshake do not count: anyone can open one, and one that never completes
  // must not stop failover. A member we dialed is covered by its dial until it is reached.
  return '';
}
