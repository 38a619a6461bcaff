// Dials: which addresses this node wants a link to, and when it tries them.
//
// An address comes from the seeds, from MEMBERS gossip, or from a member we lost the link to.
// A dial in flight waits for its link to come up (its handshake done) or for the host's
// dial_failed; a failure (or a link that dies in its handshake) backs off exponentially with
// jitter. A dial is not repeated while its link is in its handshake: the second link would only
// be a duplicate to retire (link-retire.ts). An address is
// `resolved` once reached or failed once, so it stops holding back readiness; our own address
// (found when the peer turns out to be us) is never dialed again.

import { Node } from './node';
import { Link, L_UP } from './model';
import { fxDial } from './effects';
import { Xorshift64 } from './prng';
import { DIAL_BACKOFF_BASE_MS, DIAL_BACKOFF_MAX_MS } from './limits';

/** An address we want a link to: a seed, a gossiped member, or a member we lost. */
export class DialState {
  name: string = '';     // the member known to listen there ('' for a seed not yet reached)
  inFlight: bool = false;
  attempts: i32 = 0;
  nextAt: i64 = 0;
  resolved: bool = false; // reached once, or failed once: no longer blocks readiness
  self: bool = false;     // it is our own address
  /** When a member last named `name` as one of its members while it was none of ours (-1: never). */
  namedAt: i64 = -1;
  /** The member that named it last: its MEMBERS without this address withdraws the naming. */
  namedBy: string = '';
  /** The MEMBERS frame (Node.membersFrames) that last listed this address. */
  listedIn: u32 = 0;
  constructor(public address: string) {}
}

export class DialTable {
  private byAddress: Map<string, DialState> = new Map();

  has(address: string): bool { return this.byAddress.has(address); }
  get(address: string): DialState { return this.byAddress.get(address); }
  delete(address: string): void { this.byAddress.delete(address); }
  /** In insertion order (the order dials go out in). */
  values(): Array<DialState> { return this.byAddress.values(); }

  /** The dial state of an address, created due now if new. */
  ensure(address: string, now: i64): DialState {
    if (this.byAddress.has(address)) return this.byAddress.get(address);
    const d = new DialState(address);
    d.nextAt = now;
    this.byAddress.set(address, d);
    return d;
  }

  /** A dial that failed, or a link from it that closed before it was up: back off. */
  failed(n: Node, d: DialState): void {
    d.inFlight = false;
    d.resolved = true;
    d.attempts++;
    d.nextAt = n.now + dialBackoffMs(d.attempts, n.rng);
  }
}

/**
 * The wait before dial attempt `attempts + 1`: the base doubled per attempt up to the cap,
 * then 50%..150% jitter (one draw from the node's generator).
 */
export function dialBackoffMs(attempts: i32, rng: Xorshift64): i64 {
  let base: i64 = DIAL_BACKOFF_BASE_MS;
  for (let i = 1; i < attempts && base < DIAL_BACKOFF_MAX_MS; i++) base <<= 1;
  if (base > DIAL_BACKOFF_MAX_MS) base = DIAL_BACKOFF_MAX_MS;
  return base / 2 + <i64>(rng.below(<u64>(base + 1)));
}

export function dialSeed(n: Node, address: string): void {
  n.dials.ensure(address, n.now);
}

/**
 * A seed found after init (a DNS answer or a seed function, re-read every sync interval): dialed
 * like any seed, but it does not hold back readiness, since a running node that learns one more
 * address has no reason to stop starting children. Known addresses and our own are left alone.
 */
export function dialAddedSeed(n: Node, address: string): void {
  if (address.length == 0 || address == n.listen || n.dials.has(address)) return;
  n.dials.ensure(address, n.now).resolved = true;
}

/** An address reached: it belongs to `name` and its backoff starts over. */
export function dialReached(n: Node, address: string, name: string): void {
  const d = n.dials.ensure(address, n.now);
  d.name = name;
  d.resolved = true;
  d.attempts = 0;
}

/** A link closed: an outbound one frees its dial, and one that died in its handshake backs off. */
export function linkClosedDial(n: Node, l: Link): void {
  if (!l.outbound || !n.dials.has(l.address)) return;
  const d = n.dials.get(l.address);
  d.inFlight = false;
  if (l.state != L_UP) n.dials.failed(n, d);
}

/**
 * A member's link closed: dial its address in this step, not at the next tick (a wake and a turn
 * of a loaded host's loop later): a killed member is down when this redial is refused.
 */
export function redialNow(n: Node, address: string): void {
  if (!address.length || !n.dials.has(address)) return;
  const d = n.dials.get(address);
  d.nextAt = n.now;
  if (!waiting(n, d)) return;
  d.inFlight = true;
  d.nextAt = n.now + dialBackoffMs(d.attempts + 1, n.rng);
  fxDial(d.address);
}

/** Forget other addresses of `name` (an old incarnation may have listened elsewhere). */
export function forgetOtherAddresses(n: Node, name: string, address: string): void {
  const ds = n.dials.values();
  for (let i = 0; i < ds.length; i++) if (ds[i].name == name && ds[i].address != address) n.dials.delete(ds[i].address);
}

/** An address worth dialing now or later: not in flight, not us, not a connected member. */
function waiting(n: Node, d: DialState): bool {
  // A node that said BYE dials nobody: a peer that closed its link on the BYE would take it back as a member.
  if (d.inFlight || d.self || n.left) return false;
  return !(d.name.length && n.members.has(d.name) && n.members.get(d.name).link != 0);
}

/** A node named by a member stays a reason to wait this long: members gossip every sync interval. */
export function namedWindowMs(n: Node): i64 { return n.cfg.failureTimeoutMs + n.cfg.syncIntervalMs; }

/** A dial whose node a member named lately (a live member vouches for it) but which is no connected member of ours. */
export function namedButUnlinked(n: Node, d: DialState): bool {
  if (d.self || d.namedAt < 0 || n.now - d.namedAt > namedWindowMs(n) || d.name == n.name) return false;
  return !n.members.has(d.name) || n.members.get(d.name).link == 0;
}

/**
 * A connected member named `name` at `address` to us (MEMBERS) since it last was one of ours: it
 * told every member of its own about it when it linked, so we need not tell ours again.
 */
export function namedByLinkedMember(n: Node, address: string, name: string): bool {
  if (!n.dials.has(address)) return false;
  const d = n.dials.get(address);
  if (d.namedAt < 0 || d.name != name || !n.members.has(d.namedBy)) return false;
  return n.members.get(d.namedBy).link != 0;
}

/**
 * A MEMBERS frame from `from` (frame number `frame`) is a whole list: a node it named before and
 * lists no more is one it took down (it left, or was found dead), so it no longer holds back a
 * joiner's readiness or a takeover. Without this a joiner waited out namedWindowMs for a tab that
 * had already left (docs/SIMULATOR.md, "named after it left").
 */
export function withdrawUnlisted(n: Node, from: string, frame: u32): void {
  const ds = n.dials.values();
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i];
    if (d.namedAt < 0 || d.namedBy != from || d.listedIn == frame) continue;
    d.namedAt = -1;
    d.namedBy = '';
    n.allDirty = true;
  }
}

export function dialsDue(n: Node): i64 {
  let at = i64.MAX_VALUE;
  const ds = n.dials.values();
  for (let i = 0; i < ds.length; i++) if (waiting(n, ds[i]) && ds[i].nextAt < at) at = ds[i].nextAt;
  return at;
}

/** Dials every waiting address whose time has come; the next attempt is already backed off. */
export function dialsFire(n: Node): void {
  const ds = n.dials.values();
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i];
    if (!waiting(n, d) || n.now < d.nextAt) continue;
    d.inFlight = true;
    d.nextAt = n.now + dialBackoffMs(d.attempts + 1, n.rng);
    fxDial(d.address);
  }
}
