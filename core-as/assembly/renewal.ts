// Renewing a credential member's credential without closing a link (docs/PROTOCOL.md "Renewal").
//
//   EV_RENEW_CREDENTIAL  the host hands us a credential for the same name and kinds with a later
//                        expiry: we hold it from now on (new links use it) and send RENEW on
//                        every link that is up
//   MSG_RENEW            u64 expiresAtMs, u64 epoch, 32-byte proof, sealed under the link's
//                        session keys like every member frame:
//                          proof = HMAC(key, str "trellis/v3 renew" ‖ bytes senderNonce ‖
//                                        bytes receiverNonce ‖ u64 expiresAtMs ‖ u64 epoch)
//                        key = the new credential key towards a secret member (which recomputes
//                        it from the secret and the new expiry; epoch 0), or the tab link key of
//                        `epoch` towards a credential member
//
// A verified RENEW moves the peer's expiry (its member entry closes out later); nothing else of
// the link changes, so no child moves. Towards a credential member the new expiry is believed
// only up to the end of the proved epoch, as at the handshake. A credential member that hears a
// tab peer's renewal answers with its own proof for the later epoch that both now hold, so the
// two raise each other's horizon together.

import { Reader, Writer } from './io';
import { MSG_RENEW } from './codec';
import {
  AUTH_CREDENTIAL, AUTH_SECRET, OE_CREDENTIAL_RENEWED, FERR_BAD_AUTH, FERR_CREDENTIAL_EXPIRED,
  FERR_NO_SHARED_KEY, FERR_UNEXPECTED,
} from './boundary';
import { Node } from './node';
import { Link, Member } from './model';
import { fxEvent } from './effects';
import { hmacSha256 } from './sha256';
import { credentialKey, tabLinkEpoch, CREDENTIAL_KEY_BYTES, TAB_LINK_EPOCH_MS, TAB_LINK_KEYS_MAX } from './credential';
import { heldTabLinkKey, reject } from './handshake';

export const RENEW_LABEL = 'trellis/v3 renew';
const PROOF_BYTES: i32 = 32;

const w = new Writer(128);

/** EV_RENEW_CREDENTIAL: a later credential of ours. Ignored unless it extends a live credential. */
export function renewCredential(n: Node, r: Reader): void {
  const key = r.bytes(CREDENTIAL_KEY_BYTES);
  const expires = r.u64();
  const first = r.u64();
  const nk = r.count(TAB_LINK_KEYS_MAX, 4 + CREDENTIAL_KEY_BYTES);
  const keys = new Array<Uint8Array>();
  for (let i = 0; i < nk; i++) keys.push(r.bytes(CREDENTIAL_KEY_BYTES));
  if (!r.ok || r.remaining != 0 || key.length != CREDENTIAL_KEY_BYTES) return;
  if (n.auth != AUTH_CREDENTIAL || n.ownCredentialExpired) return;
  if (expires > <u64>i64.MAX_VALUE || <i64>expires <= n.credExpiresAt) return;
  for (let i = 0; i < keys.length; i++) if (keys[i].length != CREDENTIAL_KEY_BYTES) return;
  n.prevCredKey = n.credKey;
  n.credKey = key;
  n.credExpiresAt = <i64>expires;
  n.tabLinkFirstEpoch = first;
  n.tabLinkKeys = keys;
  fxEvent(OE_CREDENTIAL_RENEWED, n.name, '', '', '', <f64>expires, 0);
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) if (!ls[i].pending) sendRenew(n, ls[i]);
}

/** RENEW with our current expiry on an up link. */
export function sendRenew(n: Node, l: Link): void {
  let epoch: u64 = 0;
  let key = n.credKey;
  if (l.peerAuth == AUTH_CREDENTIAL) {
    epoch = tabLinkEpoch(<u64>min(n.credExpiresAt, l.peerClaimedExpiresAt));
    const k = heldTabLinkKey(n, epoch);
    if (k == null) return; // past our keys' hour: the peer closes us out at the expiry it believes
    key = k;
    l.sentEpoch = epoch;
  }
  const proof = renewProof(key, l.nonce, l.peerNonce, <u64>n.credExpiresAt, epoch);
  const f = n.outbox.frame(MSG_RENEW);
  f.u64(<u64>n.credExpiresAt);
  f.u64(epoch);
  f.raw(proof.dataStart, PROOF_BYTES);
  n.outbox.to(l.id);
}

/** MSG_RENEW from member `m` on `l`; false when the frame does not decode (the caller rejects it). */
export function onRenew(n: Node, l: Link, m: Member, r: Reader): bool {
  const expires = r.u64();
  const epoch = r.u64();
  if (!r.ok || r.remaining != PROOF_BYTES || expires > <u64>i64.MAX_VALUE) return false;
  const at = r.ptr + <usize>r.pos;
  r.skip(PROOF_BYTES);
  if (l.peerAuth != AUTH_CREDENTIAL) { reject(n, l, FERR_UNEXPECTED); return true; }
  if (<i64>expires <= n.now) { reject(n, l, FERR_CREDENTIAL_EXPIRED); return true; }
  let believed = <i64>expires;
  let key: Uint8Array;
  if (n.auth == AUTH_SECRET) {
    if (epoch != 0) return false;
    key = credentialKey(n.secret, n.scope, l.peerName, l.peerCredentialKinds, expires);
  } else {
    // Only a key of an epoch not yet over opens anything (what an expired credential keeps is bounded by it).
    const k = epoch >= tabLinkEpoch(<u64>n.now) && epoch <= tabLinkEpoch(expires) ? heldTabLinkKey(n, epoch) : null;
    if (k == null) { reject(n, l, FERR_NO_SHARED_KEY); return true; }
    key = k;
    const epochEnd = <i64>((epoch + 1) * TAB_LINK_EPOCH_MS);
    if (believed > epochEnd) believed = epochEnd;
  }
  if (!proofIs(renewProof(key, l.peerNonce, l.nonce, expires, epoch), at)) { reject(n, l, FERR_BAD_AUTH); return true; }
  l.peerClaimedExpiresAt = <i64>expires;
  l.peerExpiresAt = believed;
  m.expiresAt = believed;
  fxEvent(OE_CREDENTIAL_RENEWED, l.peerName, '', '', '', <f64>believed, 0);
  if (n.auth == AUTH_CREDENTIAL) answerTabRenewal(n, l);
  return true;
}

/** Our proof on `l` used an epoch earlier than both of us now hold: prove the later one, so the peer believes our expiry past it. */
function answerTabRenewal(n: Node, l: Link): void {
  const both = tabLinkEpoch(<u64>min(n.credExpiresAt, l.peerClaimedExpiresAt));
  const horizon = <i64>((l.sentEpoch + 1) * TAB_LINK_EPOCH_MS);
  if (both > l.sentEpoch && horizon < n.credExpiresAt) sendRenew(n, l);
}

function renewProof(key: Uint8Array, senderNonce: Uint8Array, receiverNonce: Uint8Array, expires: u64, epoch: u64): Uint8Array {
  w.reset();
  w.str(RENEW_LABEL);
  w.bytes(senderNonce);
  w.bytes(receiverNonce);
  w.u64(expires);
  w.u64(epoch);
  return hmacSha256(key, w.toBytes());
}

/** Equal to the 32 bytes at `at`, in time that does not depend on where they differ. */
function proofIs(want: Uint8Array, at: usize): bool {
  let d: u8 = 0;
  for (let i = 0; i < PROOF_BYTES; i++) d |= want[i] ^ load<u8>(at + <usize>i);
  return d == 0;
}
