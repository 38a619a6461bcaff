// The handshake on a new link, and rejecting links and frames.
//
// Both sides send HELLO at once (scope, name, incarnation, a fresh nonce, whether they hold a
// secret, listen address, weight, kinds). On the peer's HELLO we check scope, self-links,
// secret presence and staleness, then send AUTH: an HMAC over both nonces and our identity
// (empty without a secret). On the peer's AUTH the link is up and the peer becomes a member.
// Anything else before that, or a link that stays in its handshake for failureTimeoutMs, is
// rejected: the link is closed and the reason counted.

import { Reader, Writer } from './io';
import { MSG_HELLO, MSG_AUTH } from './codec';
import {
  OE_LINK_REJECTED, FERR_MALFORMED, FERR_UNAUTHENTICATED, FERR_BAD_AUTH, FERR_WRONG_SCOPE,
  FERR_SECRET_MISMATCH, FERR_STALE_INCARNATION, FERR_SELF, FERR_UNEXPECTED, FERR_HANDSHAKE_TIMEOUT,
  BUG_IGNORE_INCARNATION, frameErrorName,
} from './boundary';
import {
  SCOPE_BYTES_MAX, NAME_BYTES_MAX, PEER_NONCE_BYTES_MAX, ADDRESS_BYTES_MAX, KINDS_MAX, KIND_BYTES_MAX,
  NONCE_BYTES, MAC_BYTES,
} from './limits';
import { planted } from './flags';
import { Node } from './node';
import { Link, L_UP } from './model';
import { fxEvent, fxClose } from './effects';
import { hmacSha256, constantTimeEqual } from './sha256';
import { memberUp } from './membership';

const AUTH_LABEL = 'trellis-auth-v1';

/** Closes a link for a rejected frame or handshake; an outbound link's dial backs off. */
export function reject(n: Node, l: Link, code: i32): void {
  n.rejected[code]++;
  fxEvent(OE_LINK_REJECTED, frameErrorName(code), l.peerName, l.address, '', <f64>l.id, 0);
  fxClose(l.id, frameErrorName(code));
  n.links.delete(l.id);
  // Tolerated: a member whose link this was keeps the link's id, so it is not redialed and
  // goes down once silent for failureTimeoutMs (then comes back through a fresh dial). Safe:
  // membership is judged by silence anyway, and frames sent to the closed id are dropped by
  // the host. (A duplicated HELLO or AUTH arriving after the link is up does this.)
  if (l.outbound && n.dials.has(l.address)) {
    const d = n.dials.get(l.address);
    n.dials.failed(n, d);
    if (code == FERR_SELF) d.self = true;
  }
}

/** HELLO: who I am and my nonce. */
export function sendHello(n: Node, l: Link): void {
  const w = n.outbox.frame(MSG_HELLO);
  w.str(n.scope);
  w.str(n.name);
  w.u64(n.inc);
  w.bytes(l.nonce);
  w.bool(n.hasSecret);
  w.str(n.listen);
  w.f64(n.cfg.weight);
  w.u32(<u32>n.kinds.length);
  for (let i = 0; i < n.kinds.length; i++) w.str(n.kinds[i]);
  n.outbox.to(l.id);
}

export function onHandshakeFrame(n: Node, l: Link, type: u8, r: Reader): void {
  if (type == MSG_HELLO) onHello(n, l, r);
  else if (type == MSG_AUTH) onAuth(n, l, r);
  else reject(n, l, FERR_UNAUTHENTICATED);
}

function onHello(n: Node, l: Link, r: Reader): void {
  if (l.gotHello) { reject(n, l, FERR_UNEXPECTED); return; }
  const scope = r.str(SCOPE_BYTES_MAX);
  l.peerName = r.str(NAME_BYTES_MAX);
  l.peerInc = r.u64();
  l.peerNonce = r.bytes(PEER_NONCE_BYTES_MAX);
  const peerHasSecret = r.bool();
  l.peerListen = r.str(ADDRESS_BYTES_MAX);
  l.peerWeight = r.f64();
  const nk = r.count(KINDS_MAX, 4);
  for (let i = 0; i < nk; i++) l.peerKinds.push(r.str(KIND_BYTES_MAX));
  if (!r.ok || r.remaining != 0 || l.peerName.length == 0 || l.peerNonce.length != NONCE_BYTES ||
    !(l.peerWeight > 0) || !isFinite(l.peerWeight)) { reject(n, l, FERR_MALFORMED); return; }
  if (scope != n.scope) { reject(n, l, FERR_WRONG_SCOPE); return; }
  if (l.peerName == n.name) { reject(n, l, FERR_SELF); return; }
  if (peerHasSecret != n.hasSecret) { reject(n, l, FERR_SECRET_MISMATCH); return; }
  if (n.members.isStale(l.peerName, l.peerInc) && !planted(n.bugs, BUG_IGNORE_INCARNATION)) {
    reject(n, l, FERR_STALE_INCARNATION);
    return;
  }
  l.gotHello = true;
  // AUTH: proves we know the secret, bound to both nonces and to our identity.
  const w = n.outbox.frame(MSG_AUTH);
  if (n.hasSecret) w.bytes(hmacSha256(n.secret, authInput(n, l.peerNonce, l.nonce, n.name, n.inc)));
  else w.u32(0);
  n.outbox.to(l.id);
}

function onAuth(n: Node, l: Link, r: Reader): void {
  if (!l.gotHello) { reject(n, l, FERR_UNAUTHENTICATED); return; }
  const mac = r.bytes(MAC_BYTES);
  if (!r.ok || r.remaining != 0) { reject(n, l, FERR_MALFORMED); return; }
  if (n.hasSecret) {
    const expect = hmacSha256(n.secret, authInput(n, l.nonce, l.peerNonce, l.peerName, l.peerInc));
    if (mac.length != MAC_BYTES || !constantTimeEqual(mac, expect)) { reject(n, l, FERR_BAD_AUTH); return; }
  } else if (mac.length != 0) { reject(n, l, FERR_BAD_AUTH); return; }
  l.state = L_UP;
  memberUp(n, l);
}

function authInput(n: Node, nonceA: Uint8Array, nonceB: Uint8Array, name: string, inc: u64): Uint8Array {
  const w: Writer = n.hw;
  w.reset();
  w.str(AUTH_LABEL);
  w.bytes(nonceA);
  w.bytes(nonceB);
  w.str(name);
  w.u64(inc);
  w.str(n.scope);
  return w.toBytes();
}

export function stalledHandshakesDue(n: Node): i64 {
  let at = i64.MAX_VALUE;
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    if (ls[i].state != L_UP) { const t = ls[i].openedAt + n.cfg.failureTimeoutMs + 1; if (t < at) at = t; }
  }
  return at;
}

export function closeStalledHandshakes(n: Node): void {
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    if (l.state != L_UP && n.now - l.openedAt > n.cfg.failureTimeoutMs) {
      n.rejected[FERR_HANDSHAKE_TIMEOUT]++;
      fxClose(l.id, 'handshake_timeout');
      n.linkClosed(l.id);
    }
  }
}
