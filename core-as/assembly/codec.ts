// The link frame format (docs/PROTOCOL.md). Everything that crosses a link between two cores is
// one frame: an 8-byte header and a payload, all little-endian.
//
//   u8  magic = 0x54 ('T')
//   u8  version = PROTOCOL_VERSION
//   u8  type (MSG_*)
//   u8  flags (must be 0)
//   u32 payload length
//   ... payload
//   [16-byte tag, on an authenticated link: session.ts, checked before checkFrame]
//
// `checkFrame` validates the header against the actual byte count and the size limit before any
// payload is read; message decoders then read the payload through a bounds-checked Reader and
// must consume it exactly.

import { Reader, Writer } from './io';
import { FRAME_HEADER_BYTES } from './limits';
import { FERR_OVERSIZED, FERR_TRUNCATED, FERR_BAD_MAGIC, FERR_BAD_VERSION, FERR_UNKNOWN_TYPE, FERR_MALFORMED } from './boundary';

export const MAGIC: u8 = 0x54;
export const PROTOCOL_VERSION: u8 = 2;

// Message types.
export const MSG_HELLO: u8 = 1;       // handshake: who I am, my nonce
export const MSG_AUTH: u8 = 2;        // handshake: the sender's proof, bound to the transcript
export const MSG_HEARTBEAT: u8 = 3;   // liveness, empty
export const MSG_MEMBERS: u8 = 4;     // gossip of known members and their listen addresses
export const MSG_DIGEST: u8 = 5;      // periodic: digest of my desired state
export const MSG_SYNC_REQ: u8 = 6;    // anti-entropy: my causal context + my live dots
export const MSG_DELTA: u8 = 7;       // desired-state delta (entries, removed dots, context, acks wanted)
export const MSG_ACK: u8 = 8;         // I hold these dots
export const MSG_CLAIMS: u8 = 9;      // my claims: full snapshot or delta against a version
export const MSG_CLAIMS_REQ: u8 = 10; // send me your full claims
export const MSG_LEAVING: u8 = 11;    // I am leaving: do not place on me
export const MSG_BYE: u8 = 12;        // I have released everything and am gone
export const MSG_FRAGMENT: u8 = 13;   // part of a logical message larger than one frame
export const MSG_MESSAGE: u8 = 14;    // messages to children by id, per child in sequence (messages.ts)
export const MSG_MESSAGE_ACK: u8 = 15; // delivered up to / wait / ready, per child
export const MSG_REPLY: u8 = 16;      // the answer to a call
export const MSG_HANDOFF: u8 = 17;    // a moving child's state for its new owner, or "start it fresh"
export const MSG_CHECKPOINT: u8 = 18; // a running child's last checkpoint, for the member that would own it next
export const MSG_MEMBER_STATE: u8 = 20; // my weight and the placement state I apply (cordon.ts)
export const MSG_CORDONS: u8 = 21;      // the cordon table: who is cordoned or draining, last writer wins
export const MSG_RENEW: u8 = 22;      // a credential member's renewed expiry and its proof (renewal.ts)
export const MSG_ROSTER: u8 = 23;     // majority mode: whom the quorum counts, and who left (roster.ts)
export const MSG_TERM_CHECK: u8 = 24;  // do you hold my remove of this id, and which adds of it? (terminates.ts)
export const MSG_TERM_COVER: u8 = 25;  // I hold that remove, and these adds of the id
export const MSG_SYNC_LIVE: u8 = 28;  // anti-entropy: my context and live dots within dot ranges (sync-live.ts)
export const MSG_LEASE_WAIT: u8 = 29; // quorum mode { quorum: N }: how long I still start nothing for a lost member's lease (lease-wait.ts)
export const MSG_PAIR_KEY_REQ: u8 = 30; // a credential member asks a secret member for a pair key (pair-key-relay.ts)
export const MSG_PAIR_KEY: u8 = 31;     // the answer: the key, or why not
export const MSG_LINK_RETIRE: u8 = 34; // this duplicate link carries nothing more from me (link-retire.ts)
export const MSG_MEMBERS_SAME: u8 = 35; // my MEMBERS is the one I last sent you in full (members-gossip.ts)
export const MSG_CALL_STOPPED: u8 = 38; // calls a child took and never answered: its instance ended (call-stops.ts)
export const MSG_MAX: u8 = 38;

/**
 * Validates a frame's header against its real length and the limit. Returns the message type
 * (> 0) or a negated FERR_* code. On success the reader is positioned at the payload and its end
 * is the payload's end.
 */
export function checkFrame(r: Reader, maxFrameBytes: i32): i32 {
  const total = r.remaining;
  if (total > maxFrameBytes + FRAME_HEADER_BYTES) return -FERR_OVERSIZED;
  if (total < FRAME_HEADER_BYTES) return -FERR_TRUNCATED;
  const magic = r.u8();
  const version = r.u8();
  const type = r.u8();
  const flags = r.u8();
  const len = r.u32();
  if (magic != MAGIC) return -FERR_BAD_MAGIC;
  if (version != PROTOCOL_VERSION) return -FERR_BAD_VERSION;
  if (type == 0 || type > MSG_MAX) return -FERR_UNKNOWN_TYPE;
  if (flags != 0) return -FERR_MALFORMED;
  if (len > <u32>maxFrameBytes) return -FERR_OVERSIZED;
  if (<i64>len > <i64>r.remaining) return -FERR_TRUNCATED;
  if (<i64>len < <i64>r.remaining) return -FERR_MALFORMED; // trailing bytes after the payload
  return <i32>type;
}

/** Starts a frame in `w`; returns the offset to pass to `endFrame`. */
export function beginFrame(w: Writer, type: u8): i32 {
  const at = w.len;
  w.u8(MAGIC);
  w.u8(PROTOCOL_VERSION);
  w.u8(type);
  w.u8(0);
  w.u32(0);
  return at;
}

/** Patches the payload length of the frame begun at `at`. */
export function endFrame(w: Writer, at: i32): void {
  w.patchU32(at + 4, <u32>(w.len - at - FRAME_HEADER_BYTES));
}

