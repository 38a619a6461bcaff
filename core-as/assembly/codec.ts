// The link frame format (docs/PROTOCOL.md). Everything that crosses a link between two cores is
// one frame: an 8-byte header and a payload, all little-endian.
//
//   u8  magic = 0x54 ('T')
//   u8  version = PROTOCOL_VERSION
//   u8  type (MSG_*)
//   u8  flags (must be 0 in version 1)
//   u32 payload length
//   ... payload
//
// `checkFrame` validates the header against the actual byte count and the size limit before any
// payload is read; message decoders then read the payload through a bounds-checked Reader and
// must consume it exactly.

import { Reader, Writer } from './io';

export const MAGIC: u8 = 0x54;
export const PROTOCOL_VERSION: u8 = 1;
export const HEADER_BYTES: i32 = 8;

// Message types.
export const MSG_HELLO: u8 = 1;       // handshake: who I am, my nonce
export const MSG_AUTH: u8 = 2;        // handshake: HMAC over both nonces
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
export const MSG_MAX: u8 = 13;

// Frame / decode error codes (also the keys of the rejected-frames counters).
export const FERR_OK: i32 = 0;
export const FERR_TRUNCATED: i32 = 1;      // shorter than the header or the declared length
export const FERR_OVERSIZED: i32 = 2;      // declared or actual length over the limit
export const FERR_BAD_MAGIC: i32 = 3;
export const FERR_BAD_VERSION: i32 = 4;
export const FERR_UNKNOWN_TYPE: i32 = 5;
export const FERR_MALFORMED: i32 = 6;      // payload does not decode, or has trailing bytes, or flags set
export const FERR_UNAUTHENTICATED: i32 = 7; // anything but HELLO/AUTH before the handshake completed
export const FERR_BAD_AUTH: i32 = 8;        // HMAC did not verify
export const FERR_WRONG_SCOPE: i32 = 9;
export const FERR_SECRET_MISMATCH: i32 = 10; // one side has a secret, the other none
export const FERR_STALE_INCARNATION: i32 = 11;
export const FERR_SELF: i32 = 12;            // a link to ourselves
export const FERR_UNEXPECTED: i32 = 13;      // a valid message that is not allowed in this state
export const FERR_COUNT: i32 = 14;

export function frameErrorName(code: i32): string {
  switch (code) {
    case FERR_TRUNCATED: return 'truncated';
    case FERR_OVERSIZED: return 'oversized';
    case FERR_BAD_MAGIC: return 'bad_magic';
    case FERR_BAD_VERSION: return 'bad_version';
    case FERR_UNKNOWN_TYPE: return 'unknown_type';
    case FERR_MALFORMED: return 'malformed';
    case FERR_UNAUTHENTICATED: return 'unauthenticated';
    case FERR_BAD_AUTH: return 'bad_auth';
    case FERR_WRONG_SCOPE: return 'wrong_scope';
    case FERR_SECRET_MISMATCH: return 'secret_mismatch';
    case FERR_STALE_INCARNATION: return 'stale_incarnation';
    case FERR_SELF: return 'self_link';
    case FERR_UNEXPECTED: return 'unexpected';
  }
  return 'ok';
}

/**
 * Validates a frame's header against its real length and the limit. Returns the message type
 * (> 0) or a negated FERR_* code. On success the reader is positioned at the payload and its end
 * is the payload's end.
 */
export function checkFrame(r: Reader, maxFrameBytes: i32): i32 {
  const total = r.remaining;
  if (total > maxFrameBytes + HEADER_BYTES) return -FERR_OVERSIZED;
  if (total < HEADER_BYTES) return -FERR_TRUNCATED;
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
  w.patchU32(at + 4, <u32>(w.len - at - HEADER_BYTES));
}

// Limits on fields (bytes, UTF-8).
export const MAX_NAME: i32 = 256;
export const MAX_SCOPE: i32 = 256;
export const MAX_ADDRESS: i32 = 2048;
export const MAX_KIND: i32 = 256;
export const MAX_ID: i32 = 256;
export const MAX_ARGS: i32 = 65536;
export const MAX_KINDS: i32 = 1024;
export const MAX_MEMBERS: i32 = 4096;
export const MAX_ERROR_TEXT: i32 = 4096;
export const NONCE_BYTES: i32 = 16;
export const MAC_BYTES: i32 = 32;
/** A logical message reassembled from fragments may be at most this large. */
export const MAX_MESSAGE_BYTES: i32 = 256 << 20;
