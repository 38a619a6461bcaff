// Pair keys: the root key of a link between two credential members (tabs), bound to both names
// (docs/PROTOCOL.md "Keys and credentials", docs/SECURITY.md "Credential tabs linking each other").
//
//   pairKey(A, B, e) = HMAC(secret, str "trellis/v4 tab pair" ‖ str scope ‖ u64 e ‖ str lo ‖ str hi)
//                      where lo, hi are A and B ordered by their UTF-8 bytes, and
//                      e = floor(min(expiresAtMs of both HELLOs) / TAB_LINK_EPOCH_MS)
//
// A credential member cannot compute it (that takes the secret): its host fetches it from a
// server member (a tab's gateway answers only for pairs that include the name its credential was
// checked for). So the handshake pauses between the peer's HELLO and the keys: the core asks with
// FX_PAIR_KEY (peer, epoch), keeps the peer's HELLO as received (the transcript needs it) and a
// dialer's AUTH that arrives meanwhile, and continues when the host answers EV_PAIR_KEY with the
// key, or refuses the link (no_shared_key) when the host answers with none. A host that never
// answers is covered by the handshake timeout. A member that presents another member's name
// derives its keys from another pair's key, so its proof fails (bad_auth).

import { Writer } from './io';
import { hmacSha256 } from './sha256';
import { compareUtf8 } from './credential';

export const PAIR_KEY_LABEL = 'trellis/v4 tab pair';
export const PAIR_KEY_BYTES: i32 = 32;

const w = new Writer(512);

/** The key the credential members `a` and `b` of `scope` share in epoch `e` (symmetric in a, b). */
export function pairKey(secret: Uint8Array, scope: string, e: u64, a: string, b: string): Uint8Array {
  const lo = compareUtf8(a, b) <= 0 ? a : b;
  const hi = lo == a ? b : a;
  w.reset();
  w.str(PAIR_KEY_LABEL);
  w.str(scope);
  w.u64(e);
  w.str(lo);
  w.str(hi);
  return hmacSha256(secret, w.toBytes());
}

/** What a link in its handshake keeps while the host fetches its pair key. */
export class PairKeyWait {
  epoch: u64 = 0;
  /** The peer's HELLO frame as received (header and payload). */
  peerHello: Uint8Array = new Uint8Array(0);
  /** The dialer's proof, when its AUTH arrived before the key (a listener's wait). */
  peerProof: Uint8Array | null = null;
  constructor(epoch: u64, hello: usize, len: i32) {
    this.epoch = epoch;
    this.peerHello = new Uint8Array(len);
    memory.copy(this.peerHello.dataStart, hello, <usize>len);
  }
}
