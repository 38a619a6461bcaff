// The cryptography of one link (docs/PROTOCOL.md, "Handshake" and "Frame MACs").
//
//   th   = SHA-256(str "trellis/v2 transcript" ‖ bytes dialerHello ‖ bytes listenerHello)
//   prk  = HMAC(th, rootKey)                       HKDF-Extract (RFC 5869), salt = th
//   okm  = HMAC(prk, label ‖ 0x01)                 HKDF-Expand, one 32-byte block per label
//   proof of a role      = okm("trellis/v2 proof dialer" | "trellis/v2 proof listener")
//   MAC key of a direction = okm("trellis/v2 mac dialer to listener" | "... listener to dialer")
//   tag of a frame = first 16 bytes of HMAC(macKey, u64 seq ‖ frame)
//
// Everything here is bound to th, which holds both HELLO frames exactly as sent (both nonces,
// both identities, the scope, the protocol version, the auth mode and any credential), so
// nothing computed for one link is of use on another. `Session` keeps the pad states of its two
// MAC keys and the two sequence numbers; sealing and opening a frame allocate nothing.

import { Sha256, HmacKey, Hmac, SHA256_BYTES, constantTimeEqualAt } from './sha256';

export const TRANSCRIPT_LABEL = 'trellis/v2 transcript';
export const PROOF_DIALER_LABEL = 'trellis/v2 proof dialer';
export const PROOF_LISTENER_LABEL = 'trellis/v2 proof listener';
export const MAC_DIALER_TO_LISTENER_LABEL = 'trellis/v2 mac dialer to listener';
export const MAC_LISTENER_TO_DIALER_LABEL = 'trellis/v2 mac listener to dialer';
/** Bytes of the tag after every frame of an authenticated link (HMAC-SHA256 truncated). */
export const TAG_BYTES: i32 = 16;
/** Bytes of a handshake proof (an untruncated HKDF output). */
export const PROOF_BYTES: i32 = 32;

const transcriptSha = new Sha256();
const labelUtf8 = new Map<string, Uint8Array>();

function utf8(s: string): Uint8Array {
  if (labelUtf8.has(s)) return labelUtf8.get(s);
  const b = Uint8Array.wrap(String.UTF8.encode(s));
  labelUtf8.set(s, b);
  return b;
}

/** The transcript hash of a link's two HELLO frames (header and payload, as sent) into `out` (32 bytes). */
export function transcriptHash(dialer: usize, dialerLen: i32, listener: usize, listenerLen: i32, out: usize): void {
  const label = utf8(TRANSCRIPT_LABEL);
  const h = transcriptSha;
  h.reset();
  h.updateU32(<u32>label.length);
  h.updateBytes(label);
  h.updateU32(<u32>dialerLen);
  h.update(dialer, dialerLen);
  h.updateU32(<u32>listenerLen);
  h.update(listener, listenerLen);
  h.finish(out);
}

const kdfKey = new HmacKey();
const kdfMac = new Hmac();
const prk = new StaticArray<u8>(SHA256_BYTES);
const okm = new StaticArray<u8>(SHA256_BYTES);
const one = new StaticArray<u8>(1);

/** HKDF-Expand(prk, label) for one block, into `out` (32 bytes); `kdfKey` must hold prk. */
function expand(label: string, out: usize): void {
  const l = utf8(label);
  one[0] = 1;
  kdfMac.begin(kdfKey);
  kdfMac.update(l.dataStart, l.length);
  kdfMac.update(changetype<usize>(one), 1);
  kdfMac.finish(out);
}

/** One authenticated link's keys and sequence numbers. */
export class Session {
  /** What this side proves (its role's proof) and what it expects from the peer. */
  ownProof: StaticArray<u8> = new StaticArray<u8>(PROOF_BYTES);
  peerProof: StaticArray<u8> = new StaticArray<u8>(PROOF_BYTES);
  sendKey: HmacKey = new HmacKey();
  recvKey: HmacKey = new HmacKey();
  /** Frames sealed and opened so far: the implicit sequence number of the next one. */
  sendSeq: u64 = 0;
  recvSeq: u64 = 0;

  /** Derives every key of the link from its root key and transcript hash (32 bytes at `th`). */
  derive(root: usize, rootLen: i32, th: usize, dialer: bool): void {
    const p = changetype<usize>(prk);
    kdfKey.set(th, SHA256_BYTES);
    kdfMac.begin(kdfKey);
    kdfMac.update(root, rootLen);
    kdfMac.finish(p);
    kdfKey.set(p, SHA256_BYTES);
    expand(dialer ? PROOF_DIALER_LABEL : PROOF_LISTENER_LABEL, changetype<usize>(this.ownProof));
    expand(dialer ? PROOF_LISTENER_LABEL : PROOF_DIALER_LABEL, changetype<usize>(this.peerProof));
    const k = changetype<usize>(okm);
    expand(dialer ? MAC_DIALER_TO_LISTENER_LABEL : MAC_LISTENER_TO_DIALER_LABEL, k);
    this.sendKey.set(k, SHA256_BYTES);
    expand(dialer ? MAC_LISTENER_TO_DIALER_LABEL : MAC_DIALER_TO_LISTENER_LABEL, k);
    this.recvKey.set(k, SHA256_BYTES);
    memory.fill(k, 0, SHA256_BYTES);
    memory.fill(p, 0, SHA256_BYTES);
    this.sendSeq = 0;
    this.recvSeq = 0;
  }

  /** Whether `len` bytes at `ptr` are the peer's proof (constant time). */
  peerProofIs(ptr: usize, len: i32): bool {
    return len == PROOF_BYTES && constantTimeEqualAt(ptr, changetype<usize>(this.peerProof), PROOF_BYTES);
  }

  /** Writes the tag of the next outgoing frame (`len` bytes at `frame`) at `tagOut`. */
  seal(frame: usize, len: i32, tagOut: usize): void {
    mac(this.sendKey, this.sendSeq, frame, len);
    memory.copy(tagOut, changetype<usize>(tagScratch), <usize>TAG_BYTES);
    this.sendSeq++;
  }

  /**
   * Checks the next incoming frame: `len` bytes at `ptr` are the frame followed by its tag.
   * True (and the sequence advances) when the tag is the one for this sequence number.
   */
  open(ptr: usize, len: i32): bool {
    if (len < TAG_BYTES) return false;
    const frameLen = len - TAG_BYTES;
    mac(this.recvKey, this.recvSeq, ptr, frameLen);
    if (!constantTimeEqualAt(ptr + <usize>frameLen, changetype<usize>(tagScratch), TAG_BYTES)) return false;
    this.recvSeq++;
    return true;
  }
}

const frameMac = new Hmac();
const tagScratch = new StaticArray<u8>(SHA256_BYTES);
const seqScratch = new StaticArray<u8>(8);

/** HMAC(key, u64 seq ‖ frame) into tagScratch. */
function mac(key: HmacKey, seq: u64, frame: usize, len: i32): void {
  store<u64>(changetype<usize>(seqScratch), seq);
  frameMac.begin(key);
  frameMac.update(changetype<usize>(seqScratch), 8);
  frameMac.update(frame, len);
  frameMac.finish(changetype<usize>(tagScratch));
}
