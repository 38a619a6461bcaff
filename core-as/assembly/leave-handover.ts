// A graceful leave keeps what this node acknowledged lately durable.
//
// An ACK makes this node one of the two holders its origin's acknowledgement rests on
// (requests.ts). If it leaves right after, the origin may answer its client on that ACK while the
// third member still lacks the start (its DELTA lost, anti-entropy a digest round or two away):
// after the BYE only the origin holds it, and one crash loses it. So:
//
//   origin   an ACK counts for no request once its sender is known to leave (requests.ts onAck,
//            settleAcks): the op waits for a member that stays, asked again by the re-ask.
//   leaver   sends no ACK while it leaves (sync.ts onDelta): LEAVING went out before any of
//            them, so no origin could count one anyway.
//   leaver   notes the dots of every ACK it sends (AckedLately). When its leave begins, the
//            entries among them that are still live go in a DELTA to every member that stays
//            (not leaving itself), asking an ACK of each; the BYE waits until each member that
//            is up has ACKed them all, re-sent every sync interval, for at most the leave's wait.
//
// A leave that ACKed nothing lately waits for nothing. The wait is bounded (a frozen member must
// not hold a leave for ever): LEAVE_HANDOVER_WAIT_DEFAULT_MS, or what the host names; 0 for a page
// being torn down, which has no time for a round trip: the DELTA goes out and the BYE follows it
// in the same step, on the same links, so a member that reads the BYE has merged the entries. A
// start whose origin used this node's ACK and whose third holder neither answers within the wait
// nor reads that DELTA is held by its origin alone after the BYE (docs/ARCHITECTURE.md says so);
// a BYE that goes before the ACKs reports leave_unconfirmed (reportUnconfirmed).

import { Reader } from './io';
import { NAME_BYTES_MAX, WIRE_ITEMS_MAX, ACKED_LATELY_SYNC_INTERVALS, LEAVE_HANDOVER_WAIT_DEFAULT_MS, LEAVE_HANDOVER_WAIT_MAX_MS } from './limits';
import { EV_LEAVE_WAIT_DEFAULT, OE_LEAVE_UNCONFIRMED } from './boundary';
import { fxEvent } from './effects';
import { Node } from './node';
import { Member } from './model';
import { Delta, dotKey, dotCounterFits } from './crdt';
import { sendDeltaFrames } from './delta-frames';

/** The dots this node ACKed in the current window and in the one before (two buckets, swapped). */
export class AckedLately {
  now: Array<u64> = [];
  before: Array<u64> = [];
  windowFrom: i64 = 0;
  /** While leaving with a handover: the dots handed over, and until when the BYE waits for them. */
  handedOver: Array<u64> = [];
  waitUntil: i64 = i64.MIN_VALUE;
}

/** Moves the windows on to `n.now`: dots ACKed at least one window ago are in `before`, older ones gone. */
function rotate(n: Node): void {
  const a = n.ackedLately;
  const w = ACKED_LATELY_SYNC_INTERVALS * n.cfg.syncIntervalMs;
  const age = n.now - a.windowFrom;
  if (age < w) return;
  const old = a.before;
  a.before = age >= 2 * w ? old : a.now;
  a.now = age >= 2 * w ? a.now : old;
  a.now.length = 0;
  if (age >= 2 * w) a.before.length = 0;
  a.windowFrom = n.now;
}

/** sync.ts, after an ACK of `dots` went out (asked dots not held are noted too: beginHandover skips them). */
export function noteAcked(n: Node, dots: Array<u64>): void {
  if (dots.length == 0) return;
  rotate(n);
  const a = n.ackedLately.now;
  for (let i = 0; i < dots.length; i++) a.push(dots[i]);
}

/**
 * The leave begins (`waitMs` as the host asked, EV_LEAVE_WAIT_DEFAULT for the default): the live entries
 * ACKed lately go to every member that stays, and each of those owes an ACK of them all.
 */
export function beginHandover(n: Node, waitMs: u32): void {
  rotate(n);
  const a = n.ackedLately;
  const d = new Delta();
  const seen = new Set<u64>();
  collect(n, a.before, seen, d);
  collect(n, a.now, seen, d);
  a.before.length = 0;
  a.now.length = 0;
  if (d.entries.length == 0) return;
  const wait = waitMs == EV_LEAVE_WAIT_DEFAULT ? LEAVE_HANDOVER_WAIT_DEFAULT_MS : min(<i64>waitMs, LEAVE_HANDOVER_WAIT_MAX_MS);
  a.handedOver = d.acks;
  a.waitUntil = n.now + wait;
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.leaving) continue;
    const owed = new Set<u64>();
    for (let j = 0; j < d.acks.length; j++) owed.add(d.acks[j]);
    m.handoverOwed = owed;
    if (m.link != 0) sendDeltaFrames(n, d, m.link);
  }
}

function collect(n: Node, dots: Array<u64>, seen: Set<u64>, d: Delta): void {
  const byDot = n.desired.byDot;
  for (let i = 0; i < dots.length; i++) {
    const k = dots[i];
    if (seen.has(k) || !byDot.has(k)) continue;
    seen.add(k);
    d.entries.push(byDot.get(k));
    d.acks.push(k);
  }
}

/** On an ACK from `m` (validated; `r` at its count): the handed-over dots it now holds. */
export function takeHandoverAcks(n: Node, m: Member, r: Reader): void {
  const owed = m.handoverOwed;
  if (!n.leaving || owed == null || owed.size == 0) return;
  const reps = n.desired.replicas;
  const count = r.count(WIRE_ITEMS_MAX, 20);
  // An ACK names one replica after another: look each name up once per run of it.
  let lastName = '';
  let lastInc: u64 = 0;
  let lastRep: i32 = -1;
  for (let i = 0; i < count; i++) {
    const name = r.str(NAME_BYTES_MAX);
    const inc = r.u64();
    const ctr = r.u64();
    if (name != lastName || inc != lastInc) {
      lastName = name;
      lastInc = inc;
      lastRep = reps.knows(name, inc) ? reps.index(name, inc) : -1;
    }
    if (lastRep < 0 || !dotCounterFits(ctr)) continue;
    owed.delete(dotKey(lastRep, ctr));
  }
}

/** requests.ts checkLeft: the BYE may go: the wait is over, or every member that is up and stays holds the entries. */
export function handoverDone(n: Node): bool {
  if (n.now >= n.ackedLately.waitUntil) return true;
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) if (owes(ms[i])) return false;
  return true;
}

/**
 * requests.ts checkLeft, right before the BYE: the members that stay and had not ACKed every
 * handed-over entry when the wait ended (or with no wait at all) are reported, so a host can tell
 * a leave that kept its acknowledgements from one that could not wait for them.
 */
export function reportUnconfirmed(n: Node): void {
  if (n.ackedLately.waitUntil == i64.MIN_VALUE) return;
  const ms = n.members.list;
  let names = '';
  let entries: i32 = 0;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (!owes(m)) continue;
    names = names.length == 0 ? m.name : names + ',' + m.name;
    entries = max(entries, (<Set<u64>>m.handoverOwed).size);
  }
  if (names.length > 0) fxEvent(OE_LEAVE_UNCONFIRMED, names, '', '', '', <f64>entries, 0);
}

function owes(m: Member): bool {
  const owed = m.handoverOwed;
  return !m.leaving && m.link != 0 && owed != null && owed.size > 0;
}

/** The sync timer while the BYE waits: the entries again to each member that has not ACKed them all (a DELTA may be lost). */
export function resendHandover(n: Node): void {
  if (!n.leaving || n.left || n.now >= n.ackedLately.waitUntil) return;
  const ms = n.members.list;
  let d: Delta | null = null;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (!owes(m)) continue;
    if (d == null) {
      d = new Delta();
      collect(n, n.ackedLately.handedOver, new Set<u64>(), d);
    }
    sendDeltaFrames(n, d, m.link);
  }
}

/** The deadline table: the end of the wait, while a BYE waits for it. */
export function handoverDue(n: Node): i64 {
  if (!n.leaving || n.left || n.ackedLately.waitUntil == i64.MIN_VALUE) return i64.MAX_VALUE;
  return n.now < n.ackedLately.waitUntil ? n.ackedLately.waitUntil : i64.MAX_VALUE;
}
