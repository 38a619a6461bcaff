// MEMBERS with every sync, without resending a list the member already has (MEMBERS_SAME,
// docs/PROTOCOL.md "Member messages").
//
// Every sync interval a node tells each member whom it knows (membership.ts onMembers: a whole
// list, which also keeps the named-lately window of dials.ts open). In a full mesh of n nodes
// that is n frames of n entries from each node per interval, and nearly always the list its
// receiver already holds. So a node remembers, per member, the list it last sent it in full on
// its current link (a hash of the frame's payload); while its list is still that one, the sync
// sends MEMBERS_SAME instead, and the receiver applies the last full list it had from that member
// again, exactly as if it had come once more. A new link always starts with a full list, and
// frames on one link arrive in order, so the receiver's last list on that link is the one the
// sender means; the receiver keeps only lists from the member's current link (keepMembersList).

import { Reader } from './io';
import { Node } from './node';
import { Member } from './model';
import { MSG_MEMBERS_SAME } from './codec';
import { writeMembers, onMembers } from './membership';

/** The full list goes to the member on `link`: remember it (the list is n.membersHash, set by writeMembers). */
function sentFull(n: Node, m: Member, link: u32): void {
  m.membersSentHash = n.membersHash;
  m.membersSentLink = link;
}

/** Our MEMBERS to every member with a link. */
export function membersToAll(n: Node): void {
  writeMembers(n);
  n.outbox.toAll(n.members);
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) if (ms[i].link != 0) sentFull(n, ms[i], ms[i].link);
}

/** Our MEMBERS to `m` on `link` (its new link). */
export function membersTo(n: Node, m: Member, link: u32): void {
  writeMembers(n);
  n.outbox.to(link);
  sentFull(n, m, link);
}

/** The sync's MEMBERS: in full to each member whose last full list from us differs (or went on another link), MEMBERS_SAME to the rest. */
export function gossipMembers(n: Node): void {
  writeMembers(n);
  const ms = n.members.list;
  let same = 0;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.link == 0 || !m.syncThisRound) continue;
    if (m.membersSentLink == m.link && m.membersSentHash == n.membersHash) { same++; continue; }
    n.outbox.to(m.link);
    sentFull(n, m, m.link);
  }
  if (same == 0) return;
  n.outbox.frame(MSG_MEMBERS_SAME);
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.link != 0 && m.syncThisRound && m.membersSentLink == m.link && m.membersSentHash == n.membersHash) n.outbox.to(m.link);
  }
}

/**
 * A full MEMBERS from `m` on `link` was valid: keep its payload (`len` bytes at `ptr`) for the
 * MEMBERS_SAME that may follow on that link. Only one on its current link: a list that arrives
 * late on a retired duplicate is older than the one on the kept link, and replayed by the
 * MEMBERS_SAME that come there it would name a node gone since for ever.
 */
export function keepMembersList(m: Member, link: u32, ptr: usize, len: i32): void {
  if (link != m.link) return;
  if (m.membersGot.length != len) m.membersGot = new Uint8Array(len);
  memory.copy(m.membersGot.dataStart, ptr, <usize>len);
  m.membersGotLink = link;
}

/** MEMBERS_SAME (empty) on `link`: the member's last full list on that link holds still; applied again. Before any full list there it says nothing. */
export function onMembersSame(n: Node, m: Member, link: u32, r: Reader): bool {
  if (r.remaining != 0) return false;
  const got = m.membersGot;
  if (got.length == 0 || m.membersGotLink != link) return true;
  return onMembers(n, m.name, new Reader(got.dataStart, got.length), 0);
}
