// Pair keys over member links (docs/PROTOCOL.md "Pair key relay"): how a credential member whose
// host has no gateway (a Node or Bun process started with a credential) gets the pair key of a
// link to another credential member (pair-key.ts) from a member that holds the secret.
//
//   PAIR_KEY_REQ  credential member → secret member: str own name, str peer, u64 epoch
//   PAIR_KEY      secret member → credential member: str peer, u64 epoch, u8 PKR_*, bytes key
//                 (32 bytes with PKR_GIVEN, empty with a refusal)
//
// Both travel on a link that is already authenticated: the requester's root key there is its own
// credential's key, which only a secret member can derive, so an up link whose peer HELLO said
// AUTH_SECRET is a secret link. The server derives the key for the name that link was
// authenticated under (the own name in the request is only checked against it, never used), and
// only for epochs the requester's credential reaches (as a gateway does, core-as/src/gateway.ts),
// so only A and B can obtain pairKey(A, B, e). A credential member never answers a request (it
// holds no secret), and takes an answer only from a secret link, only for a key it asked for.
//
// The requester keeps what it was given per (peer, epoch), at most PAIR_KEYS_CACHED_MAX, so a
// redial in the same epoch asks nobody. A request waits for a secret link when none is up; one
// whose link was lost is sent again on another when a handshake next waits for a key or a secret
// link comes up (the handshake timeout bounds every wait, and the redial's handshake asks again).

import { Reader } from './io';
import { MSG_PAIR_KEY_REQ, MSG_PAIR_KEY } from './codec';
import { AUTH_SECRET, AUTH_CREDENTIAL } from './boundary';
import { NAME_BYTES_MAX } from './limits';
import { Node } from './node';
import { Link, Member, L_UP } from './model';
import { pairKey, PAIR_KEY_BYTES } from './pair-key';
import { tabLinkEpoch } from './credential';
import { pairKeyArrived } from './handshake';

/** Pair keys a credential member keeps, the oldest given up first. */
export const PAIR_KEYS_CACHED_MAX: i32 = 256;

// Answer codes of PAIR_KEY (the wire's, not the boundary's).
export const PKR_GIVEN: u8 = 0;
export const PKR_NOT_CREDENTIAL: u8 = 1;     // the requester's link is no credential member's
export const PKR_NAME: u8 = 2;               // the request names another requester than the link's
export const PKR_SELF: u8 = 3;               // the peer is the requester itself
export const PKR_EPOCH: u8 = 4;              // an epoch the requester's credential does not reach, or long over
export const PKR_CREDENTIAL_EXPIRED: u8 = 5; // the requester's credential has expired
export const PKR_RATE: u8 = 6;               // too many requests on this link (PAIR_KEY_ANSWERS_PER_S_MAX): ask again later
export const PKR_MAX: u8 = 6;

/**
 * Pair key answers a secret member gives on one link: a burst of PAIR_KEY_ANSWERS_BURST_MAX (a
 * joiner asks for one key per credential peer, and keeps at most PAIR_KEYS_CACHED_MAX), then
 * PAIR_KEY_ANSWERS_PER_S_MAX per second. Each answer costs an HMAC; past the budget a request is
 * refused PKR_RATE (its handshake fails no_shared_key and the redial asks again), so one
 * credential cannot keep a secret member deriving keys as fast as its link carries requests.
 */
export const PAIR_KEY_ANSWERS_BURST_MAX: f64 = 256;
export const PAIR_KEY_ANSWERS_PER_S_MAX: f64 = 64;

const EMPTY = new Uint8Array(0);

class Wanted {
  peer: string;
  epoch: u64;
  /** The link the request went out on (0: not sent yet). */
  sentOn: u32 = 0;
  constructor(peer: string, epoch: u64) { this.peer = peer; this.epoch = epoch; }
}

/** A credential member's pair keys: those it holds and those it asked for. */
export class PairKeyRelay {
  /** Set by EV_PAIR_KEY_RELAY: the host has no pair-key source, the core asks secret members. */
  on: bool = false;
  keys: Map<string, Uint8Array> = new Map();
  order: string[] = [];
  wanted: Wanted[] = [];
}

function cacheKey(peer: string, epoch: u64): string { return peer + '\n' + epoch.toString(); }

/** A credential member's link waits for the pair key of `peer` in `epoch`: from the cache, or asked of a secret member. */
export function requestPairKey(n: Node, peer: string, epoch: u64): void {
  const p = n.pairKeys;
  const k = cacheKey(peer, epoch);
  if (p.keys.has(k)) { pairKeyArrived(n, peer, epoch, p.keys.get(k)); return; }
  if (findWanted(p, peer, epoch) < 0) p.wanted.push(new Wanted(peer, epoch));
  sendWanted(n);
}

/** A link came up: a secret one carries the requests that wait for one. */
export function pairKeyLinkUp(n: Node, l: Link): void {
  if (n.pairKeys.on && l.peerAuth == AUTH_SECRET && n.pairKeys.wanted.length > 0) sendWanted(n);
}

function findWanted(p: PairKeyRelay, peer: string, epoch: u64): i32 {
  for (let i = 0; i < p.wanted.length; i++) if (p.wanted[i].peer == peer && p.wanted[i].epoch == epoch) return i;
  return -1;
}

/** Sends every request no live link carries on a secret link; drops those no handshake waits for any more. */
function sendWanted(n: Node): void {
  const p = n.pairKeys;
  const ws = p.wanted;
  let via: Link | null = null;
  const ls = n.links.values();
  // A secret member's own link (not a second link to it that is about to be closed as a duplicate).
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    if (l.state == L_UP && l.peerAuth == AUTH_SECRET && n.members.has(l.peerName) && n.members.get(l.peerName).link == l.id) { via = l; break; }
  }
  for (let i = ws.length - 1; i >= 0; i--) {
    const q = ws[i];
    if (!linkWaits(n, q.peer, q.epoch)) { ws.splice(i, 1); continue; }
    if (q.sentOn != 0 && n.links.has(q.sentOn) && n.links.get(q.sentOn).state == L_UP) continue;
    if (via == null) continue;
    const l = <Link>via;
    const w = n.outbox.frame(MSG_PAIR_KEY_REQ);
    w.str(n.name);
    w.str(q.peer);
    w.u64(q.epoch);
    n.outbox.to(l.id);
    q.sentOn = l.id;
  }
}

function linkWaits(n: Node, peer: string, epoch: u64): bool {
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    const w = ls[i].pairWait;
    if (w != null && ls[i].peerName == peer && w.epoch == epoch) return true;
  }
  return false;
}

/**
 * PAIR_KEY_REQ on a member link. A secret member answers for the name the link was authenticated
 * under; anyone else ignores it. Returns false when it does not decode.
 */
export function onPairKeyReq(n: Node, l: Link, m: Member, r: Reader): bool {
  const own = r.str(NAME_BYTES_MAX);
  const peer = r.str(NAME_BYTES_MAX);
  const epoch = r.u64();
  if (!r.ok || r.remaining != 0) return false;
  if (n.auth != AUTH_SECRET) return true;
  let code = PKR_GIVEN;
  if (!spendAnswer(n, l)) code = PKR_RATE;
  else if (l.peerAuth != AUTH_CREDENTIAL) code = PKR_NOT_CREDENTIAL;
  else if (own != l.peerName) code = PKR_NAME;
  else if (peer == l.peerName) code = PKR_SELF;
  else if (n.now >= m.expiresAt) code = PKR_CREDENTIAL_EXPIRED;
  // An epoch already over opens no new link; one past the credential's expiry is what a credential
  // that has run out must not get (m.expiresAt follows its renewals).
  else if (epoch > tabLinkEpoch(<u64>m.expiresAt) || epoch + 1 < tabLinkEpoch(<u64>n.now)) code = PKR_EPOCH;
  const w = n.outbox.frame(MSG_PAIR_KEY);
  w.str(peer);
  w.u64(epoch);
  w.u8(code);
  w.bytes(code == PKR_GIVEN ? pairKey(n.secret, n.scope, epoch, l.peerName, peer) : EMPTY);
  n.outbox.to(l.id);
  return true;
}

/** Takes one answer from the link's budget (a token bucket, full when the link is new); false when it is spent. */
function spendAnswer(n: Node, l: Link): bool {
  if (l.pairKeyTokens < 0) { l.pairKeyTokens = PAIR_KEY_ANSWERS_BURST_MAX; l.pairKeyRefilledAt = n.now; }
  const refill = (<f64>(n.now - l.pairKeyRefilledAt) * PAIR_KEY_ANSWERS_PER_S_MAX) / 1000;
  l.pairKeyTokens = Math.min(PAIR_KEY_ANSWERS_BURST_MAX, l.pairKeyTokens + refill);
  l.pairKeyRefilledAt = n.now;
  if (l.pairKeyTokens < 1) return false;
  l.pairKeyTokens -= 1;
  return true;
}

/**
 * PAIR_KEY on a member link: taken only by a credential member that asked for it, from a secret
 * link; a key goes to the waiting handshakes (and the cache), a refusal refuses them
 * (no_shared_key). Returns false when it does not decode.
 */
export function onPairKeyAnswer(n: Node, l: Link, r: Reader): bool {
  const peer = r.str(NAME_BYTES_MAX);
  const epoch = r.u64();
  const code = r.u8();
  const key = r.bytes(PAIR_KEY_BYTES);
  if (!r.ok || r.remaining != 0 || code > PKR_MAX || (code == PKR_GIVEN) != (key.length == PAIR_KEY_BYTES) || (code != PKR_GIVEN && key.length != 0)) return false;
  const p = n.pairKeys;
  if (n.auth != AUTH_CREDENTIAL || l.peerAuth != AUTH_SECRET) return true;
  const at = findWanted(p, peer, epoch);
  if (at < 0) return true;
  p.wanted.splice(at, 1);
  if (code == PKR_GIVEN) {
    const k = cacheKey(peer, epoch);
    if (!p.keys.has(k)) {
      if (p.order.length >= PAIR_KEYS_CACHED_MAX) p.keys.delete(p.order.shift());
      p.order.push(k);
      p.keys.set(k, key);
    }
  }
  pairKeyArrived(n, peer, epoch, key);
  return true;
}
