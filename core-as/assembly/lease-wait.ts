// The lease wait a member owes, told to the members it links to (lease.ts, DESIGN.md "Handover,
// overlap and partitions").
//
// A node that lost a member without a BYE starts nothing new until that member must have
// stopped its children (lease.ts takeoverAt). A node that joins after the loss, or that never
// linked to the lost member, cannot know that lease otherwise: nobody names the lost member any
// more, so it would start the lost member's children at once, while they still run there.
// So in both quorum modes every member tells a member it links to how long it still waits,
// before its claims (so before the receiver can be ready), and tells every member again when
// the wait grows. The receiver waits at least as long from receipt (a later end: safe; the
// sender's wait already holds the clock-rate margin). The value is relative: clocks differ.
// - partition 'majority': the wait rides in ROSTER (roster.ts), sent on connect and on change.
// - partition { quorum: N }: LEASE_WAIT (frame 29, `u32 leaseWaitMs`), sent on connect when
//   there is a wait, and to every member at the end of a step in which it grew.

import { Reader } from './io';
import { MSG_LEASE_WAIT } from './codec';
import { Node } from './node';
import { majorityMode } from './roster';

/** Ms this node still starts nothing new for a lost member's lease (0: none), capped to u32. */
export function leaseWaitOwed(n: Node): u32 {
  const wait = n.takeoverPending && n.takeoverAt > n.now ? n.takeoverAt - n.now : 0;
  return <u32>min<i64>(wait, <i64>u32.MAX_VALUE);
}

/** A member still waits `wait` ms for a lost member's lease: so do we, from now. */
export function leaseWaitHeard(n: Node, wait: i64): void {
  if (n.cfg.quorum == 0 || wait <= 0 || n.now + wait <= n.takeoverAt) return;
  n.takeoverAt = n.now + wait;
  n.takeoverPending = true;
}

/** Our wait grew (lease.ts leaseLost): every member hears it at the end of the step. */
export function leaseWaitGrew(n: Node): void {
  if (majorityMode(n)) n.roster.changed = true; // ROSTER carries it
  else n.leaseWaitChanged = true;
}

function quorumNMode(n: Node): bool { return n.cfg.quorum > 0; }

/** On connect, before our claims ({ quorum: N }; majority mode's ROSTER carries it). */
export function sendLeaseWaitTo(n: Node, link: u32): void {
  if (!quorumNMode(n)) return;
  const wait = leaseWaitOwed(n);
  if (wait == 0) return;
  n.outbox.frame(MSG_LEASE_WAIT).u32(wait);
  n.outbox.to(link);
}

/** End of step: a wait that grew goes to every member. */
export function flushLeaseWait(n: Node): void {
  if (!n.leaseWaitChanged) return;
  n.leaseWaitChanged = false;
  const wait = leaseWaitOwed(n);
  if (wait == 0 || n.members.count == 0) return;
  n.outbox.frame(MSG_LEASE_WAIT).u32(wait);
  n.outbox.toAll(n.members);
}

/** LEASE_WAIT: u32 leaseWaitMs. Applied in quorum modes, ignored (but checked) in 'available'. */
export function onLeaseWait(n: Node, r: Reader): bool {
  const wait = <i64>r.u32();
  if (!r.ok || r.remaining != 0) return false;
  leaseWaitHeard(n, wait);
  return true;
}
