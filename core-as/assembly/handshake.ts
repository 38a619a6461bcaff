// The handshake on a new link (docs/PROTOCOL.md "Handshake"), and rejecting links and frames.
//
//   L_HELLO  both sides send HELLO as the link opens; on the peer's HELLO we check it, hash
//            both HELLOs as sent into the transcript and derive the link's keys (session.ts)
//   L_PROVE  the dialer sends AUTH(proof_D) at once and seals every later frame; the listener
//            waits for it, checks it and only then sends AUTH(proof_L) and seals
//   L_UP     the peer's proof verified: every frame we receive must carry its tag; the peer
//            becomes a member (membership.ts memberUp)
//
// Between two credential members the keys wait for the pair key, which the host fetches
// (pair-key.ts), or the core asks a secret member (pair-key-relay.ts): the link stays in L_HELLO
// with the peer's HELLO kept until the key comes.
//
// A listener never sends anything derived from a key to a dialer that has not proved itself,
// and every proof is bound to the transcript (both nonces, identities, roles, auth modes), so
// nothing an unauthenticated party can obtain verifies on another link. Anything out of order,
// a frame larger than HANDSHAKE_BYTES_MAX, or a link not up within failureTimeoutMs is rejected:
// counted, reported (link_rejected) and closed. Links in their handshake never count for
// readiness, membership or placement, and at most maxPendingLinks inbound ones exist at once.

import { Reader } from './io';
import { MSG_HELLO, MSG_AUTH } from './codec';
import {
  OE_LINK_REJECTED, FERR_MALFORMED, FERR_UNAUTHENTICATED, FERR_BAD_AUTH, FERR_WRONG_SCOPE,
  FERR_SECRET_MISMATCH, FERR_STALE_INCARNATION, FERR_SELF, FERR_UNEXPECTED, FERR_HANDSHAKE_TIMEOUT,
  FERR_NO_SHARED_KEY, FERR_CREDENTIAL_EXPIRED, FERR_KINDS_NOT_ALLOWED, FERR_PENDING_LIMIT,
  AUTH_INSECURE, AUTH_SECRET, AUTH_CREDENTIAL, BUG_IGNORE_INCARNATION, frameErrorName,
} from './boundary';
import {
  SCOPE_BYTES_MAX, NAME_BYTES_MAX, PEER_NONCE_BYTES_MAX, ADDRESS_BYTES_MAX, KINDS_MAX, KIND_BYTES_MAX, NONCE_BYTES,
} from './limits';
import { planted } from './flags';
import { Node } from './node';
import { Link, L_HELLO, L_PROVE, L_UP } from './model';
import { fxEvent, fxClose, fxPairKey } from './effects';
import { memberUp, memberDown, linkLost } from './membership';
import { Session, transcriptHash, PROOF_BYTES } from './session';
import { sendRenew } from './renewal';
import { credentialKey, kindsCanonical, kindsWithin, tabLinkEpoch, TAB_LINK_EPOCH_MS } from './credential';
import { PairKeyWait, PAIR_KEY_BYTES } from './pair-key';
import { requestPairKey, pairKeyLinkUp } from './pair-key-relay';
import { heartbeatWantMs } from './heartbeats';

const th = new StaticArray<u8>(32);

/** Counts and reports a refused link, and closes it; a member on it is redialed, an outbound dial backs off. */
export function reject(n: Node, l: Link, code: i32): void {
  n.rejected[code]++;
  fxEvent(OE_LINK_REJECTED, frameErrorName(code), l.peerName, l.address, '', <f64>l.id, 0);
  fxClose(l.id, frameErrorName(code));
  n.links.delete(l.id);
  if (l.outbound && n.dials.has(l.address)) {
    const d = n.dials.get(l.address);
    n.dials.failed(n, d);
    if (code == FERR_SELF) d.self = true;
  }
  // A member whose link this was must not keep pointing at a closed link: it is redialed now.
  if (l.state == L_UP) linkLost(n, l);
}

/** Refuses a connection before it becomes a link (nothing was sent on it). */
function refuseLink(n: Node, id: u32, address: string, code: i32): void {
  n.rejected[code]++;
  fxEvent(OE_LINK_REJECTED, frameErrorName(code), '', address, '', <f64>id, 0);
  fxClose(id, frameErrorName(code));
}

/** A new link: refused past the pending limit or once our credential expired, else our HELLO goes out. */
export function onLinkOpened(n: Node, l: Link): bool {
  if (n.left) { fxClose(l.id, 'left'); return false; } // see closeHandshakesLeft
  if (n.auth == AUTH_CREDENTIAL && n.ownCredentialExpired) { refuseLink(n, l.id, l.address, FERR_CREDENTIAL_EXPIRED); return false; }
  if (!l.outbound && pendingInbound(n) >= n.maxPendingLinks) { refuseLink(n, l.id, l.address, FERR_PENDING_LIMIT); return false; }
  n.links.set(l.id, l);
  sendHello(n, l);
  return true;
}

function pendingInbound(n: Node): i32 {
  let c = 0;
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) if (ls[i].pending && !ls[i].outbound) c++;
  return c;
}

/** HELLO: who I am, my nonce, and the key I hold. Kept as sent for the transcript. */
export function sendHello(n: Node, l: Link): void {
  writeHello(n, l.nonce, l);
  l.helloExpiresAt = n.credExpiresAt;
  n.outbox.to(l.id);
  l.ownHello = n.outbox.lastFrame();
}

/** Starts a HELLO frame with `nonce` in the outbox (init also sizes one against HANDSHAKE_BYTES_MAX). */
export function writeHello(n: Node, nonce: Uint8Array, l: Link | null = null): void {
  const w = n.outbox.frame(MSG_HELLO);
  w.str(n.scope);
  w.str(n.name);
  w.u64(n.inc);
  w.bytes(nonce);
  w.str(n.listen);
  w.f64(n.cfg.weight);
  w.u32(<u32>n.kinds.length);
  for (let i = 0; i < n.kinds.length; i++) w.str(n.kinds[i]);
  w.u8(n.auth);
  const ck = n.auth == AUTH_CREDENTIAL ? n.credKinds : [];
  w.u32(<u32>ck.length);
  for (let i = 0; i < ck.length; i++) w.str(ck[i]);
  w.u64(n.auth == AUTH_CREDENTIAL ? <u64>n.credExpiresAt : 0);
  w.u32(heartbeatWantMs(n, l));
}

/** A frame on a link in its handshake: `frame` and `len` are the whole frame as received (the transcript needs it). */
export function onHandshakeFrame(n: Node, l: Link, type: u8, r: Reader, frame: usize, len: i32): void {
  if (l.pairWait != null) { whileWaiting(n, l, <PairKeyWait>l.pairWait, type, r); return; }
  if (type == MSG_HELLO) onHello(n, l, r, frame, len);
  else if (type == MSG_AUTH) onAuth(n, l, r);
  else reject(n, l, FERR_UNAUTHENTICATED);
}

function onHello(n: Node, l: Link, r: Reader, frame: usize, len: i32): void {
  if (l.state != L_HELLO) { reject(n, l, FERR_UNEXPECTED); return; }
  const scope = r.str(SCOPE_BYTES_MAX);
  l.peerName = r.str(NAME_BYTES_MAX);
  l.peerInc = r.u64();
  l.peerNonce = r.bytes(PEER_NONCE_BYTES_MAX);
  l.peerListen = r.str(ADDRESS_BYTES_MAX);
  l.peerWeight = r.f64();
  const nk = r.count(KINDS_MAX, 4);
  for (let i = 0; i < nk; i++) l.peerKinds.push(r.str(KIND_BYTES_MAX));
  l.peerAuth = r.u8();
  const nc = r.count(KINDS_MAX, 4);
  for (let i = 0; i < nc; i++) l.peerCredentialKinds.push(r.str(KIND_BYTES_MAX));
  const expires = r.u64();
  l.peerHeartbeatWantMs = <i64>r.u32();
  const credential = l.peerAuth == AUTH_CREDENTIAL;
  if (!r.ok || r.remaining != 0 || l.peerName.length == 0 || l.peerHeartbeatWantMs == 0 || l.peerNonce.length != NONCE_BYTES ||
    !(l.peerWeight > 0) || !isFinite(l.peerWeight) || l.peerAuth > AUTH_CREDENTIAL ||
    (!credential && (nc != 0 || expires != 0)) || (credential && (expires > <u64>i64.MAX_VALUE || !kindsCanonical(l.peerCredentialKinds)))) {
    reject(n, l, FERR_MALFORMED);
    return;
  }
  if (scope != n.scope) { reject(n, l, FERR_WRONG_SCOPE); return; }
  if (l.peerName == n.name) { reject(n, l, FERR_SELF); return; }
  if ((l.peerAuth == AUTH_INSECURE) != (n.auth == AUTH_INSECURE)) { reject(n, l, FERR_SECRET_MISMATCH); return; }
  if (n.members.isStale(l.peerName, l.peerInc) && !planted(n.bugs, BUG_IGNORE_INCARNATION)) {
    reject(n, l, FERR_STALE_INCARNATION);
    return;
  }
  if (credential) {
    l.peerExpiresAt = <i64>expires;
    l.peerClaimedExpiresAt = <i64>expires;
    if (n.now >= l.peerExpiresAt) { reject(n, l, FERR_CREDENTIAL_EXPIRED); return; }
    if (!kindsWithin(l.peerKinds, l.peerCredentialKinds)) { reject(n, l, FERR_KINDS_NOT_ALLOWED); return; }
    if (n.auth == AUTH_CREDENTIAL) { awaitPairKey(n, l, frame, len); return; }
  }
  deriveSession(n, l, frame, len, rootKey(n, l));
  proving(n, l);
}

/** Both HELLOs known, keys derived: the dialer proves first; the listener answers only a valid proof (onAuth). */
function proving(n: Node, l: Link): void {
  l.state = L_PROVE;
  if (l.outbound) sendAuth(n, l);
}

/** th over both HELLOs as sent (the dialer's first), then the link's keys from its root key. */
function deriveSession(n: Node, l: Link, peerHello: usize, peerLen: i32, root: Uint8Array): void {
  const own = l.ownHello;
  const t = changetype<usize>(th);
  if (l.outbound) transcriptHash(own.dataStart, own.length, peerHello, peerLen, t);
  else transcriptHash(peerHello, peerLen, own.dataStart, own.length, t);
  const s = new Session();
  s.derive(root.dataStart, root.length, t, l.outbound);
  l.session = s;
  l.ownHello = new Uint8Array(0);
}

/** The key both ends of this link hold (docs/PROTOCOL.md "Keys and credentials"); two credential members wait for theirs (awaitPairKey). */
function rootKey(n: Node, l: Link): Uint8Array {
  if (n.auth == AUTH_INSECURE) return new Uint8Array(0);
  if (n.auth == AUTH_CREDENTIAL) {
    // A HELLO sent before a renewal named the credential we held then.
    return l.helloExpiresAt == n.credExpiresAt ? n.credKey : n.prevCredKey;
  }
  if (l.peerAuth == AUTH_CREDENTIAL) return credentialKey(n.secret, n.scope, l.peerName, l.peerCredentialKinds, <u64>l.peerClaimedExpiresAt);
  return n.clusterKey;
}

/**
 * Two credential members: the root key is their pair key of the epoch of the earlier expiry,
 * which the host fetches (FX_PAIR_KEY). The peer's expiry is believed only up to the end of that
 * epoch: a server hands a pair key out only for epochs its holder's credential reaches, so that
 * is all a proof under it says of the peer's credential.
 */
function awaitPairKey(n: Node, l: Link, frame: usize, len: i32): void {
  const e = tabLinkEpoch(<u64>min(l.helloExpiresAt, l.peerExpiresAt));
  l.tabLinkEpoch = e;
  l.sentEpoch = e;
  const epochEnd = <i64>((e + 1) * TAB_LINK_EPOCH_MS);
  if (l.peerExpiresAt > epochEnd) l.peerExpiresAt = epochEnd;
  l.pairWait = new PairKeyWait(e, frame, len);
  if (n.pairKeys.on) requestPairKey(n, l.peerName, e);
  else fxPairKey(l.peerName, e);
}

/** A frame while the pair key is fetched: only the dialer's AUTH may come (we are its listener), and it waits too. */
function whileWaiting(n: Node, l: Link, wait: PairKeyWait, type: u8, r: Reader): void {
  if (type != MSG_AUTH || l.outbound || wait.peerProof != null) { reject(n, l, type == MSG_HELLO ? FERR_UNEXPECTED : FERR_UNAUTHENTICATED); return; }
  const len = r.u32();
  if (!r.ok || len != <u32>PROOF_BYTES || r.remaining != PROOF_BYTES) { reject(n, l, FERR_MALFORMED); return; }
  const proof = new Uint8Array(PROOF_BYTES);
  memory.copy(proof.dataStart, r.ptr + <usize>r.pos, <usize>PROOF_BYTES);
  wait.peerProof = proof;
}

/** EV_PAIR_KEY: str peer, u64 epoch, bytes key (the host's answer to FX_PAIR_KEY). */
export function onPairKey(n: Node, r: Reader): void {
  const peer = r.str(NAME_BYTES_MAX);
  const epoch = r.u64();
  const key = r.bytes(PAIR_KEY_BYTES);
  if (!r.ok || r.remaining != 0) return;
  pairKeyArrived(n, peer, epoch, key);
}

/**
 * The pair key of `peer` in `epoch` (from the host or a secret member): every link waiting for it
 * goes on (or, with no key, is refused: no_shared_key). A key no link waits for is ignored.
 */
export function pairKeyArrived(n: Node, peer: string, epoch: u64, key: Uint8Array): void {
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    const wait = l.pairWait;
    if (wait == null || l.peerName != peer || wait.epoch != epoch || !n.links.has(l.id)) continue;
    if (key.length != PAIR_KEY_BYTES) { reject(n, l, FERR_NO_SHARED_KEY); continue; }
    l.pairWait = null;
    deriveSession(n, l, wait.peerHello.dataStart, wait.peerHello.length, key);
    proving(n, l);
    const proof = wait.peerProof;
    if (proof != null) verifyPeerProof(n, l, proof.dataStart);
  }
}

/** Our credential's tab link key of epoch `e`, or null when it carries none for it. */
export function heldTabLinkKey(n: Node, e: u64): Uint8Array | null {
  if (e < n.tabLinkFirstEpoch || e - n.tabLinkFirstEpoch >= <u64>n.tabLinkKeys.length) return null;
  return n.tabLinkKeys[<i32>(e - n.tabLinkFirstEpoch)];
}

/** AUTH with our proof; every frame after it carries a tag. */
function sendAuth(n: Node, l: Link): void {
  const w = n.outbox.frame(MSG_AUTH);
  w.u32(<u32>PROOF_BYTES);
  w.raw(changetype<usize>((<Session>l.session).ownProof), PROOF_BYTES);
  n.outbox.to(l.id);
  l.sealing = true;
}

function onAuth(n: Node, l: Link, r: Reader): void {
  if (l.state != L_PROVE) { reject(n, l, FERR_UNAUTHENTICATED); return; }
  const len = r.u32();
  if (!r.ok || len != <u32>PROOF_BYTES || r.remaining != PROOF_BYTES) { reject(n, l, FERR_MALFORMED); return; }
  verifyPeerProof(n, l, r.ptr + <usize>r.pos);
}

/** The peer's proof (PROOF_BYTES at `proof`): verified, the link is up; else refused (bad_auth). */
function verifyPeerProof(n: Node, l: Link, proof: usize): void {
  if (!(<Session>l.session).peerProofIs(proof, PROOF_BYTES)) { reject(n, l, FERR_BAD_AUTH); return; }
  l.opening = true;
  if (!l.outbound) sendAuth(n, l);
  l.state = L_UP;
  memberUp(n, l);
  if (n.links.has(l.id)) pairKeyLinkUp(n, l);
  // Renewed during the handshake: the peer believes the expiry of our HELLO until it hears the new one.
  if (n.auth == AUTH_CREDENTIAL && l.helloExpiresAt != n.credExpiresAt && n.links.has(l.id)) sendRenew(n, l);
}

// ---- deadlines (node.ts timer table) -----------------------------------------------------------

export function stalledHandshakesDue(n: Node): i64 {
  let at = i64.MAX_VALUE;
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    if (ls[i].pending) { const t = ls[i].openedAt + n.cfg.failureTimeoutMs + 1; if (t < at) at = t; }
  }
  return at;
}

/**
 * After our BYE: links still in their handshake are closed, and new ones refused (onLinkOpened).
 * A stopping node waits for its members to close their links on the BYE; a peer that dialed it
 * meanwhile (a member's gossip still names it) would take it for a member that is not leaving.
 */
export function closeHandshakesLeft(n: Node): void {
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    if (!l.pending) continue;
    n.links.delete(l.id);
    fxClose(l.id, 'left');
  }
}

export function closeStalledHandshakes(n: Node): void {
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    if (l.pending && n.now - l.openedAt > n.cfg.failureTimeoutMs) {
      reject(n, l, FERR_HANDSHAKE_TIMEOUT);
    }
  }
}

/** When the next credential expires: a credential member's, or our own. */
export function credentialsDue(n: Node): i64 {
  let at = n.auth == AUTH_CREDENTIAL && !n.ownCredentialExpired ? n.credExpiresAt : i64.MAX_VALUE;
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) if (ms[i].expiresAt < at) at = ms[i].expiresAt;
  return at;
}

/**
 * Closes out expired credentials: a credential member's link is closed (credential_expired,
 * counted) and it goes down, so its children fail over. When our own credential expires we close
 * every link, stop running children (membership.ts quorumOk) and refuse new links.
 */
export function closeExpiredCredentials(n: Node): void {
  const ownExpired = n.auth == AUTH_CREDENTIAL && !n.ownCredentialExpired && n.now >= n.credExpiresAt;
  if (ownExpired) {
    n.ownCredentialExpired = true;
    const ls = n.links.values();
    for (let i = 0; i < ls.length; i++) reject(n, ls[i], FERR_CREDENTIAL_EXPIRED);
  }
  const ms = n.members.list.slice(0);
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (!ownExpired && n.now < m.expiresAt) continue;
    if (m.link != 0 && n.links.has(m.link)) reject(n, n.links.get(m.link), FERR_CREDENTIAL_EXPIRED);
    memberDown(n, m, 'credential_expired');
  }
}
