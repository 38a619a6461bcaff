// The roster of `partition: 'majority'`: whom the quorum lease counts (lease.ts, DESIGN.md
// "Handover, overlap and partitions"). N = floor(roster / 2) + 1, this node included.
//
// - An entry per name: the highest incarnation known, and whether that incarnation left
//   gracefully (a BYE). Entries merge by the larger (incarnation, left) pair, so gossip only ever
//   moves an entry forward: a member lost by a crash or by silence stays (it still counts), one
//   that said BYE is out, and a later incarnation of the same name replaces it (it is not added
//   twice). ROSTER frames carry the whole roster: on every link as it comes up (before anything
//   that makes the peer count) and to every member when it changes.
// - A node started without seeds founds the cluster: its roster is itself. A node started with
//   seeds has an empty roster, holds no quorum, and is admitted when a member that holds the
//   quorum adds it; the roster that member gossips then names it.
// - Admission: a node that holds its quorum adds at most one new name per step, and only while
//   every member it counts has told it the very same roster. So any two rosters in use differ by
//   at most one admission (or by members that left, which only makes the larger roster harder to
//   satisfy), and a majority of one meets a majority of the other. A side without a majority
//   admits nobody, so a minority cannot grow itself a majority during a netsplit.
// - A member counts only once it is in our roster and this incarnation of it has sent us its
//   roster: until then we cannot know it has heard of an admission we made.
// Outside the bounds (docs/ARCHITECTURE.md "partition: 'majority'"): a founder restarted without
// seeds founds a second cluster; a ROSTER frame lost on a link that stays up (links are ordered
// and reliable, so only a one-way path does that); more than ROSTER_NAMES_MAX names.

import { Reader, Writer } from './io';
import { MSG_ROSTER } from './codec';
import { NAME_BYTES_MAX, ROSTER_NAMES_MAX } from './limits';
import { xxh64String, mix64 } from './hash';
import { Node } from './node';
import { Member } from './model';
import { leaseWaitOwed, leaseWaitHeard } from './lease-wait';

/** partition: 'majority' in the init config's u32 quorum field (read as i32: -1): N follows the roster. */
export const QUORUM_MAJORITY: u32 = 4294967295;

export class RosterEntry {
  constructor(public name: string, public inc: u64, public left: bool) {}
  /** This entry moves `inc`/`left` forward (a later incarnation, or the same one having left). */
  beatenBy(inc: u64, left: bool): bool { return inc > this.inc || (inc == this.inc && left && !this.left); }
}

export class Roster {
  entries: Map<string, RosterEntry> = new Map();
  /** Names not left: the N of the lease is present / 2 + 1. */
  present: i32 = 0;
  /** Changed in this step: gossiped to every member at its end. */
  changed: bool = false;
  /** Order-free digest of the entries (a sum of per-entry hashes), kept up to date. */
  digest: u64 = 0;

  has(name: string): bool { return this.entries.has(name) && !this.entries.get(name).left; }

  /** Sets an entry (new or moved forward); false when the roster is full of names still present. */
  put(name: string, inc: u64, left: bool): bool {
    if (this.entries.has(name)) {
      const e = this.entries.get(name);
      this.digest -= entryHash(e.name, e.inc, e.left);
      if (!e.left) this.present--;
      e.inc = inc; e.left = left;
    } else {
      if (this.entries.size >= ROSTER_NAMES_MAX && !this.evictLeft()) return false;
      this.entries.set(name, new RosterEntry(name, inc, left));
    }
    this.digest += entryHash(name, inc, left);
    if (!left) this.present++;
    this.changed = true;
    return true;
  }

  /** Room for a new name: a name that left is forgotten (were it gossiped back, it would count as crashed: safe). */
  private evictLeft(): bool {
    const es = this.entries.values();
    for (let i = 0; i < es.length; i++) {
      if (!es[i].left) continue;
      this.digest -= entryHash(es[i].name, es[i].inc, true);
      this.entries.delete(es[i].name);
      return true;
    }
    return false;
  }
}

function entryHash(name: string, inc: u64, left: bool): u64 {
  return mix64(xxh64String(name) ^ mix64(inc * 2 + (left ? 1 : 0)));
}

export function majorityMode(n: Node): bool { return n.cfg.quorum == <i32>QUORUM_MAJORITY; }

/** init: a node without seeds founds the cluster (its roster is itself); one with seeds waits to be admitted. */
export function rosterInit(n: Node, seeds: i32): void {
  if (majorityMode(n) && seeds == 0) n.roster.put(n.name, n.inc, false);
}

/** N for this node now (0 in the other modes): a majority of its roster. */
export function rosterQuorum(n: Node): i32 { return n.roster.present / 2 + 1; }

/** This node is in its own roster (admitted, and not left). */
export function rosterHasSelf(n: Node): bool { return n.roster.has(n.name); }

/** Majority mode, the roster is this node alone: it is the whole cluster (it acknowledges alone, requests.ts). */
export function aloneInRoster(n: Node): bool { return majorityMode(n) && n.roster.present == 1 && rosterHasSelf(n); }

/** A member the lease counts when it is fresh: in our roster, and this incarnation has sent its roster. */
export function rosterCounts(n: Node, m: Member): bool {
  return n.roster.has(m.name) && m.rosterSeen;
}

/**
 * A member is up on a (new) link. It counts once this incarnation has sent its roster at all
 * (a Member is one incarnation): a link that replaces another, kept as a duplicate or after a
 * flap, must not make it stop counting (a roster of two would lose its quorum and stop every
 * child). A roster it missed while away does not make our count unsafe; the admission rule
 * waits for its next ROSTER (rosterDigest), which it sends on this link.
 */
export function rosterLinkUp(n: Node, m: Member): void {
  if (!majorityMode(n)) return;
  // A later incarnation of a name in the roster replaces it (the count stays): no admission.
  if (n.roster.has(m.name) && n.roster.entries.get(m.name).inc < m.inc) n.roster.put(m.name, m.inc, false);
}

/** BYE: the member left gracefully and no longer counts. */
export function rosterLeft(n: Node, m: Member): void {
  if (!majorityMode(n)) return;
  if (n.roster.entries.has(m.name) && !n.roster.entries.get(m.name).beatenBy(m.inc, true)) return;
  n.roster.put(m.name, m.inc, true);
}

/**
 * After the quorum is evaluated: holding it, with every counted member agreeing on our roster,
 * admit one member the roster does not name (in the order members came up).
 */
export function rosterAdmit(n: Node): void {
  if (!majorityMode(n) || !n.quorumHeld || !rosterHasSelf(n)) return;
  const ms = n.members.list;
  let candidate: Member | null = null;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.link == 0 || !m.rosterSeen) continue;
    if (n.roster.has(m.name)) {
      // One admission at a time: the last one must have reached every member we count.
      if (n.now - m.lastHeard <= n.cfg.failureTimeoutMs && m.rosterDigest != n.roster.digest) return;
      continue;
    }
    // An incarnation that left stays out; a later one of its name is a newcomer.
    if (m.leaving || (n.roster.entries.has(m.name) && !n.roster.entries.get(m.name).beatenBy(m.inc, false))) continue;
    if (candidate == null) candidate = m;
  }
  if (candidate == null) return;
  const c = <Member>candidate;
  if (n.roster.put(c.name, c.inc, false)) n.allDirty = true;
}

/** End of step: a changed roster goes to every member. */
export function flushRoster(n: Node): void {
  if (!n.roster.changed) return;
  n.roster.changed = false;
  if (n.members.count == 0) return;
  writeRoster(n);
  n.outbox.toAll(n.members);
}

/** On connect, before our claims: our roster (also when empty: it tells the peer we are not admitted). */
export function sendRosterTo(n: Node, link: u32): void {
  if (!majorityMode(n)) return;
  writeRoster(n);
  n.outbox.to(link);
}

// ---- ROSTER: u32 leaseWaitMs, list<str name, u64 incarnation, u8 left> ----------------------
// leaseWaitMs: how long the sender still starts nothing new for a lost member's lease
// (lease-wait.ts: majority mode's carrier of it). Sent on connect (before the claims, so
// before the receiver is ready) and again whenever the sender's wait grows (leaseLost).

function writeRoster(n: Node): void {
  const es = n.roster.entries.values();
  const w = n.outbox.frame(MSG_ROSTER);
  w.u32(leaseWaitOwed(n));
  w.u32(<u32>es.length);
  for (let i = 0; i < es.length; i++) { w.str(es[i].name); w.u64(es[i].inc); w.u8(es[i].left ? 1 : 0); }
}

/** ROSTER: read whole first (nothing kept), then merged entry by entry. A node not in majority mode ignores it. */
export function onRoster(n: Node, m: Member, r: Reader): bool {
  const wait = <i64>r.u32();
  const start = r.pos;
  const count = r.count(ROSTER_NAMES_MAX, 13);
  let digest: u64 = 0;
  for (let i = 0; i < count; i++) {
    const name = r.str(NAME_BYTES_MAX);
    const inc = r.u64();
    const left = r.u8();
    if (!r.ok || name.length == 0 || left > 1) return false;
    digest += entryHash(name, inc, left == 1);
  }
  if (!r.ok || r.remaining != 0) return false;
  if (!majorityMode(n)) return true;
  r.pos = start;
  r.count(ROSTER_NAMES_MAX, 13);
  for (let i = 0; i < count; i++) {
    const name = r.str(NAME_BYTES_MAX);
    const inc = r.u64();
    const left = r.u8() == 1;
    mergeEntry(n, name, inc, left);
  }
  m.rosterSeen = true;
  m.rosterDigest = digest;
  // A member still waits out a lost member's lease: so do we, from now (a later end: safe).
  leaseWaitHeard(n, wait);
  return true;
}

function mergeEntry(n: Node, name: string, inc: u64, left: bool): void {
  if (n.roster.entries.has(name) && !n.roster.entries.get(name).beatenBy(inc, left)) return;
  // An earlier incarnation of ours, still present: this one takes its place (the count stays).
  const mine = name == n.name && !left && inc < n.inc;
  if (n.roster.put(name, mine ? n.inc : inc, left)) n.allDirty = true;
}

/** Invariant: the kept count and digest are those of the entries, within the bound; other modes keep it empty. */
export function rosterSane(n: Node): string {
  const t = n.roster;
  if (!majorityMode(n)) return t.entries.size == 0 ? '' : 'roster: entries outside majority mode';
  if (t.entries.size > ROSTER_NAMES_MAX) return 'roster: ' + t.entries.size.toString() + ' names, over ROSTER_NAMES_MAX';
  let present = 0;
  let digest: u64 = 0;
  const es = t.entries.values();
  for (let i = 0; i < es.length; i++) { if (!es[i].left) present++; digest += entryHash(es[i].name, es[i].inc, es[i].left); }
  if (present != t.present) return 'roster: ' + present.toString() + ' names present, ' + t.present.toString() + ' counted';
  if (digest != t.digest) return 'roster: the kept digest is not that of the entries';
  return '';
}

/** Q_ROSTER: u32 count, then the names present (not left). */
export function writeRosterNames(n: Node, w: Writer): void {
  w.u32(<u32>n.roster.present);
  const es = n.roster.entries.values();
  for (let i = 0; i < es.length; i++) if (!es[i].left) w.str(es[i].name);
}
