// Plain data the node keeps about links, members, claims and local children.

import { Writer } from './io';
import { Spec } from './spec';
import { Candidate } from './placement';
import { StrMap } from './strmap';
import { ST_STARTING, ST_RUNNING, ST_STOPPING, ST_RESTARTING, ST_UNRESPONSIVE, AUTH_INSECURE } from './boundary';
import { Session } from './session';
import { PairKeyWait } from './pair-key';

// Link states (handshake.ts): a link carries nothing but the handshake until it is UP.
export const L_HELLO: u8 = 0;      // our HELLO sent, waiting for the peer's
export const L_PROVE: u8 = 1;      // both HELLOs known; waiting for the peer's AUTH
export const L_UP: u8 = 2;         // the peer proved itself: an authenticated member link

export class Link {
  state: u8 = L_HELLO;
  /** Our HELLO exactly as sent (header and payload), for the transcript; dropped once up. */
  ownHello: Uint8Array = new Uint8Array(0);
  /** The link's keys, from the moment both HELLOs are known. */
  session: Session | null = null;
  /** Frames we send carry a tag (we have sent our AUTH). */
  sealing: bool = false;
  /** Frames we receive must carry a tag (we have verified the peer's AUTH). */
  opening: bool = false;
  // What the peer said in HELLO.
  peerName: string = '';
  peerInc: u64 = 0;
  peerNonce: Uint8Array = new Uint8Array(0);
  peerListen: string = '';
  peerWeight: f64 = 1;
  peerKinds: Array<string> = [];
  /** How often the peer needs a frame from us (heartbeats.ts). */
  peerHeartbeatWantMs: i64 = 0;
  /** The host vouches for this link and names its silence bound (EV_LINK_OPENED_WATCHED, watched-links.ts); 0 for any other link. */
  watchedSilenceMs: i64 = 0;
  peerAuth: u8 = AUTH_INSECURE;
  /** A credential peer's allowed kinds and expiry (wall-clock ms); empty and i64.MAX otherwise. */
  peerCredentialKinds: Array<string> = [];
  peerExpiresAt: i64 = i64.MAX_VALUE;
  /** The expiry the peer last claimed (HELLO or RENEW); peerExpiresAt is what we believe of it. */
  peerClaimedExpiresAt: i64 = i64.MAX_VALUE;
  /** Between two credential members: the epoch whose tab link key is this link's root key. */
  tabLinkEpoch: u64 = 0;
  /** Our credential's expiry as our HELLO on this link said it (renewal.ts). */
  helloExpiresAt: i64 = 0;
  /** Between two credential members: the epoch of the tab link key our last proof used (HELLO or RENEW). */
  sentEpoch: u64 = 0;
  /** Between two credential members: waiting for the host to fetch the link's pair key (pair-key.ts). */
  pairWait: PairKeyWait | null = null;
  /** A duplicate of the member's link: we send nothing more on it (link-retire.ts). */
  retiring: bool = false;
  retiredAt: i64 = 0;
  /** The peer retired it first (its LINK_RETIRE came before we chose). */
  peerRetired: bool = false;
  /** Reassembly of a fragmented logical message (authenticated links only). */
  reasm: Writer | null = null;
  /** A secret member's budget of pair key answers on this link (pair-key-relay.ts), and when it was last refilled. */
  pairKeyTokens: f64 = -1;
  pairKeyRefilledAt: i64 = 0;
  constructor(public id: u32, public outbound: bool, public address: string, public nonce: Uint8Array, public openedAt: i64) {}
  /** Still in its handshake (not counted for readiness, membership or placement). */
  get pending(): bool { return this.state != L_UP; }
}

// Claim statuses (what a node says about a child it runs). A release removes the claim.
// The global view shows a claim's status as the child's status, so they share the numbers.
export const C_RELEASED: u8 = 0;
export const C_STARTING: u8 = 1;
export const C_RUNNING: u8 = 2;
export const C_STOPPING: u8 = 3;
export const C_RESTARTING: u8 = 4;
/** Stopping, and it did not settle within shutdownMs (an inline function that ignores its signal). */
export const C_UNRESPONSIVE: u8 = 6;
export const C_MAX: u8 = C_UNRESPONSIVE;
if (C_STARTING != ST_STARTING || C_RUNNING != ST_RUNNING || C_STOPPING != ST_STOPPING || C_RESTARTING != ST_RESTARTING
  || C_UNRESPONSIVE != ST_UNRESPONSIVE) {
  ERROR('claim statuses must equal the child status codes of the views');
}

export class Claim {
  /** The member's snapshot in parts that last named this claim (claims.ts). */
  snapshot: u32 = 0;
  constructor(public id: string, public epoch: u32, public status: u8, public restarts: u32) {}
}

export class Member {
  link: u32 = 0;            // active authenticated link, 0 while disconnected
  lastHeard: i64 = 0;
  /** Our heartbeats to it (heartbeats.ts): the interval its link's HELLO asked for, and the next one due. */
  heartbeatEveryMs: i64 = 0;
  nextHeartbeatAt: i64 = 0;
  /** Its link is watched (watched-links.ts): that link's silence bound (0: none), a sync once per bound (rounds skipped so far; this round's). */
  watchedSilenceMs: i64 = 0;
  watchedSyncSkips: i32 = 0;
  /** When its watched link closed (watched-links.ts watchedLinkLost). */
  watchedLostAt: i64 = 0;
  syncThisRound: bool = true;
  /** MEMBERS (members-gossip.ts): the list we last sent it in full and on which link; the payload of the last full one it sent us. */
  membersSentHash: u64 = 0;
  membersSentLink: u32 = 0;
  membersGot: Uint8Array = new Uint8Array(0);
  /** The link `membersGot` came on (members-gossip.ts: a MEMBERS_SAME means the last full list on its own link). */
  membersGotLink: u32 = 0;
  leaving: bool = false;
  /** While we leave (leave-handover.ts): the handed-over dots it has not ACKed yet. */
  handoverOwed: Set<u64> | null = null;
  claims: StrMap<Claim> = new StrMap<Claim>();
  claimsVersion: u64 = 0;
  claimsSynced: bool = false;
  awaitingFull: bool = false;
  /** A full claims snapshot in parts being received: its number and version (claims.ts). */
  snapshot: u32 = 0;
  snapshotOpen: bool = false;
  snapshotVersion: u64 = 0;
  /** The last DIGEST from this member, our digest when it came, and how many in a row differed. */
  peerDigest: u64 = 0;
  myDigestThen: u64 = 0;
  digestMisses: i32 = 0;
  cand: Candidate;
  kindSet: Set<string> = new Set();
  /** A credential member: the kinds its credential allows, and when it expires (i64.MAX otherwise). */
  credential: bool = false;
  allowedKinds: Set<string> = new Set();
  expiresAt: i64 = i64.MAX_VALUE;
  /** What it says it applies (MEMBER_STATE, cordon.ts): until it has said anything, the cordon table decides. */
  announced: bool = false;
  stateMode: u8 = 0;
  stateStamp: u64 = 0;
  /** Majority mode (roster.ts): this incarnation has sent its ROSTER, and the last one's digest. */
  rosterSeen: bool = false;
  rosterDigest: u64 = 0;
  constructor(public name: string, public inc: u64, public address: string, public kinds: Array<string>, public weight: f64) {
    this.cand = new Candidate(name, weight);
    for (let i = 0; i < kinds.length; i++) this.kindSet.add(kinds[i]);
  }
}

// Local child states. A local child's claim has the status of the same number (an invariant).
export const S_STARTING: u8 = 1;
export const S_RUNNING: u8 = 2;
export const S_STOPPING: u8 = 3;
export const S_RESTARTING: u8 = 4; // waiting out its restart backoff
/** Stopping past its shutdownMs and still running: it keeps its claim until its exit is reported. */
export const S_UNRESPONSIVE: u8 = 6;
if (S_STARTING != C_STARTING || S_RUNNING != C_RUNNING || S_STOPPING != C_STOPPING || S_RESTARTING != C_RESTARTING
  || S_UNRESPONSIVE != C_UNRESPONSIVE) {
  ERROR('local child states must equal the claim statuses');
}

// Why a local child is being stopped (reported in events).
export const WHY_MOVED: u8 = 1;
export const WHY_TERMINATED: u8 = 2;
export const WHY_QUORUM: u8 = 3;
export const WHY_LEAVING: u8 = 4;

export function whyName(w: u8): string {
  if (w == WHY_MOVED) return 'moved';
  if (w == WHY_TERMINATED) return 'terminated';
  if (w == WHY_QUORUM) return 'quorum_lost';
  if (w == WHY_LEAVING) return 'leaving';
  return 'unknown';
}

export class LocalChild {
  epoch: u32 = 0;
  state: u8 = S_STARTING;
  restarts: u32 = 0;
  /** Times of recent restarts, for the intensity check (none until the first exit: a takeover starts thousands). */
  recent: Array<i64> | null = null;
  nextStartAt: i64 = 0;
  why: u8 = 0;
  /** An exit reported in this batch, decided at the end of the step (supervision.decideExits). */
  exitPending: bool = false;
  exitReason: u8 = 0;
  /** The instance (member, epoch) whose state this one started from ('' for none: handoff.ts). */
  stateFrom: string = '';
  stateEpoch: u32 = 0;
  constructor(public id: string, public spec: Spec) {}
}

/** A request waiting for acknowledgement by a peer or for a child to run / stop. */
export class Waiter {
  /** When the op was sent for acknowledgement (ms): a wait older than a sync interval is asked again. */
  since: i64 = 0;
  /** A start's dot, and (quorum mode, acknowledged while waiting for the quorum) the member that holds it. */
  dot: u64 = 0;
  ackedBy: Member | null = null;
  constructor(public req: u32, public id: string, public start: bool, public wait: u8) {}
}
