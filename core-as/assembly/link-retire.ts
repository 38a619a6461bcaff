// Two links to one member (both sides dialed at once, or a redial while a link was still in its
// handshake): membership.ts keeps one, the same on both sides. Closing the other at once loses
// what the peer sent on it before it made the same choice, and a REPLY or a HANDOFF has no other
// way to come. So the loser is retired: nothing more goes out on it but LINK_RETIRE, what arrives
// on it is handled as the member's (answers go on the kept link), and it closes once the peer
// answers (it has read all we sent there and sends nothing after its answer), or after
// failureTimeoutMs if no answer comes.
//
// LINK_RETIRE carries one u8: RETIRE_FIRST (I retire this link) or RETIRE_ANSWER (I read your
// RETIRE_FIRST and everything before it; this is my last frame here). A side that gets a first
// before it has chosen keeps sending until it chooses (its other link comes up), then answers.
import { Node } from './node';
import { Link, Member } from './model';
import { Reader } from './io';
import { MSG_LINK_RETIRE } from './codec';
import { fxClose } from './effects';

export const RETIRE_FIRST: u8 = 0;
export const RETIRE_ANSWER: u8 = 1;

/** `l` (a link of member `m` that is not, or no longer, its link) is retired. */
export function retireLink(n: Node, m: Member, l: Link): void {
  if (l.retiring) return;
  writeRetire(n, l, l.peerRetired ? RETIRE_ANSWER : RETIRE_FIRST);
  l.retiring = true;
  l.retiredAt = n.now;
}

function writeRetire(n: Node, l: Link, kind: u8): void {
  n.outbox.frame(MSG_LINK_RETIRE).u8(kind);
  n.outbox.to(l.id);
}

export function onLinkRetire(n: Node, l: Link, r: Reader): bool {
  const kind = r.u8();
  if (!r.ok || kind > RETIRE_ANSWER || r.remaining != 0) return false;
  if (kind == RETIRE_ANSWER) {
    if (l.retiring) closeRetired(n, l);
    return true;
  }
  // Both sides retired it at once: each answers, and each closes on the other's answer.
  if (l.retiring) writeRetire(n, l, RETIRE_ANSWER);
  else l.peerRetired = true;
  return true;
}

function closeRetired(n: Node, l: Link): void {
  n.links.delete(l.id);
  fxClose(l.id, 'duplicate_link');
}

/** The link to answer a frame that came on `l` on: the member's own link if `l` is retired. */
export function answerLink(n: Node, m: Member, l: Link): Link {
  if (!l.retiring || m.link == 0 || !n.links.has(m.link)) return l;
  return n.links.get(m.link);
}

/** When the first retired link's answer is overdue (node.ts timer table). */
export function retiredDue(n: Node): i64 {
  let at = i64.MAX_VALUE;
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    if (!ls[i].retiring) continue;
    const t = ls[i].retiredAt + n.cfg.failureTimeoutMs + 1;
    if (t < at) at = t;
  }
  return at;
}

/** Retired links whose peer never answered close. */
export function closeOverdueRetired(n: Node): void {
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    if (ls[i].retiring && n.now - ls[i].retiredAt > n.cfg.failureTimeoutMs) closeRetired(n, ls[i]);
  }
}

/** A member going down takes its retired links with it. */
export function closeRetiredOf(n: Node, m: Member): void {
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    if (ls[i].retiring && ls[i].peerName == m.name && ls[i].peerInc == m.inc) closeRetired(n, ls[i]);
  }
}
