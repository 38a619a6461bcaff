// A graceful leave keeps the desired state durable: what the leaver holds is held by every
// member that stays before the leaver says BYE.
//
// An ACK makes the leaver one of the two holders a start's acknowledgement rests on (requests.ts).
// Its origin may acknowledge it in a step after the leaver already left (the ACK and the BYE are
// on the wire together), and the third member may not have the start yet (its DELTA was lost,
// anti-entropy would bring it only a digest round later): one crash of the origin would lose it.
// So, from the moment a node begins to leave:
//
//   leaver   sends no ACK (onDelta): an op that reaches it then waits for a member that stays.
//            LEAVING goes to every member (requests.ts leave; afterConnect on a new link).
//   member   answers LEAVING with a SYNC_REQ: its context (askLeaverToHandOver).
//   leaver   answers each SYNC_REQ (onSyncReq) with the entries the member lacks, as anti-entropy
//            does, and asks an ACK of each one's dot (noteHandover): the member is handed over
//            once it has ACKed all of them (at once when it lacked none).
//   leaver   says BYE only when every member that is up and not leaving itself is handed over
//            (checkLeft), besides its children being gone. Every sync interval, a member not yet
//            handed over is sent LEAVING again (a frame of the exchange may be lost).
//
// Everything the leaver ACKed is in its state when it answers the first SYNC_REQ after its leave
// began, so every member that stays holds it. Bounded: a member that stops answering is declared
// down after failureTimeoutMs of silence and no longer waited for; the host's stop() deadline
// bounds the whole leave. Removals need nothing here: a terminate is acknowledged only once
// every member covers it (terminates.ts).

import { Reader } from './io';
import { MSG_LEAVING } from './codec';
import { NAME_BYTES_MAX, WIRE_ITEMS_MAX } from './limits';
import { Node } from './node';
import { Member } from './model';
import { Delta, dotKey, dotCounterFits } from './crdt';
import { sendSyncReq } from './sync';

/** A member: LEAVING from `m` asks for our context, unless we leave too (then we hold nothing for it). */
export function askLeaverToHandOver(n: Node, link: u32): void {
  if (n.leaving || n.left) return;
  sendSyncReq(n, link);
}

/**
 * The leaver, answering `m`'s SYNC_REQ with `d` (the entries it lacks): `m` is handed over once it
 * ACKs each of their dots. A later SYNC_REQ (a re-ask) replaces what the last one asked for.
 */
export function noteHandover(n: Node, m: Member, d: Delta): void {
  if (!n.leaving || n.left) return;
  m.handoverAnswered = true;
  const dots = new Set<u64>();
  for (let i = 0; i < d.entries.length; i++) {
    const e = d.entries[i];
    const k = dotKey(e.rep, e.ctr);
    dots.add(k);
    d.acks.push(k);
  }
  m.handoverDots = dots;
}

/** The leaver, on an ACK from `m` (validated; `r` at its count): the handed-over dots it names. */
export function takeHandoverAcks(n: Node, m: Member, r: Reader): void {
  const dots = m.handoverDots;
  if (!n.leaving || dots == null || dots.size == 0) return;
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
    dots.delete(dotKey(lastRep, ctr));
  }
}

/** End of step: every member that stays (up, not leaving) holds what this leaving node holds. */
export function handedOver(n: Node): bool {
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) if (!memberHandedOver(ms[i])) return false;
  return true;
}

function memberHandedOver(m: Member): bool {
  if (m.leaving) return true;
  const dots = m.handoverDots;
  return m.handoverAnswered && dots != null && dots.size == 0;
}

/** Every sync interval while leaving: LEAVING again to each member not handed over yet. */
export function reaskHandover(n: Node): void {
  if (!n.leaving || n.left) return;
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (!memberHandedOver(m) && m.link != 0) n.outbox.empty(m.link, MSG_LEAVING);
  }
}
