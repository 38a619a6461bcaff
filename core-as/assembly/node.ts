// One Trellis node: every decision of the cluster, driven by events, answering with effects.
// This file holds the node's state, `init`, the switch from message type to handler, and the
// timer table; each decision lives in a file named for it (see docs/ARCHITECTURE.md).
//
// Events in (exports.ts calls these, in batch order, then `endStep` once per batch):
//   init, linkOpened, frame, linkClosed, dialFailed, tick, startChild, terminateChild, leave,
//   cordon (cordon, uncordon, drain), setWeight, childStarted, childUnresponsive, childEnded
//   (an exit or a failed start).
// Effects out (effects.ts, appended to the step's batch, in the order they are decided):
//   send, dial, close, run, stop, reply, event; `endStep` decides exits, reconciles, flushes
//   the delta and the claims, checks whether leaving is done, and asks for a wake last.
// Queries (queries.ts, read-only): ready, notReadyReason, owner and the accessors at the end.
//
//   handshake.ts    HELLO/AUTH on a new link, rejecting links and frames
//   dials.ts        which addresses to dial and when (backoff)
//   membership.ts   members up and down, gossip, leaving members, readiness, quorum
//   link-retire.ts  a duplicate link retired without losing what is in flight on it
//   sync.ts         digests, sync requests, deltas and their acknowledgements, re-asks
//   claims.ts       what runs where: our claims out, the others' claims in
//   ownership.ts    who should run a child, and reconcile: start, stop or wait
//   supervision.ts  local children: start, stop, exits, restart intensity and backoff
//   requests.ts     startChild, terminateChild, leave; acknowledgements and waiters
//   terminates.ts   a terminate's acknowledgement: every member covers its removal
//   cordon.ts       cordon, drain, weights: who takes new placements, a drained member's releases
//   outbox.ts       the one way a frame is sent (fragments.ts splits and reassembles)
//   handoff.ts      a moving child's state to its new owner; checkpoints to the next in line
//   lease.ts        the quorum lease (lease-wait.ts: its wait, told to members that link);
//                   roster.ts whom it counts in majority mode

import { Reader, Writer } from './io';
import {
  checkFrame, MSG_HEARTBEAT, MSG_MEMBERS, MSG_DIGEST, MSG_SYNC_REQ, MSG_DELTA, MSG_ACK, MSG_CLAIMS,
  MSG_CLAIMS_REQ, MSG_LEAVING, MSG_BYE, MSG_FRAGMENT, MSG_RENEW, MSG_MESSAGE, MSG_MESSAGE_ACK, MSG_REPLY, MSG_MEMBER_STATE, MSG_CORDONS, MSG_HANDOFF, MSG_CHECKPOINT, MSG_ROSTER, MSG_LEASE_WAIT, MSG_SYNC_LIVE,
  MSG_TERM_CHECK, MSG_TERM_COVER,
  MSG_PAIR_KEY_REQ, MSG_PAIR_KEY, MSG_LINK_RETIRE, MSG_MEMBERS_SAME, MSG_CALL_STOPPED,
} from './codec';
import {
  FERR_MALFORMED, FERR_UNEXPECTED, FERR_STALE_INCARNATION, FERR_OVERSIZED, FERR_BAD_MAC, FERR_COUNT, BUG_IGNORE_INCARNATION,
  AUTH_INSECURE, AUTH_SECRET, AUTH_CREDENTIAL,
} from './boundary';
import {
  NAME_BYTES_MAX, SCOPE_BYTES_MAX, ADDRESS_BYTES_MAX, SECRET_BYTES_MAX, KINDS_MAX, KIND_BYTES_MAX,
  MEMBERS_MAX, FRAME_FLOOR_BYTES, FRAME_DEFAULT_BYTES, HEARTBEAT_DEFAULT_MS, FAILURE_TIMEOUT_DEFAULT_MS,
  SYNC_INTERVAL_DEFAULT_MS, FRAME_HEADER_BYTES, HANDSHAKE_BYTES_MAX, PENDING_LINKS_DEFAULT, NONCE_BYTES, PAUSE_CATCH_UP_MS, PAUSE_CATCH_UPS_MAX,
  PAUSE_SUSPECT_DIVISOR,
} from './limits';
import { planted } from './flags';
import { Desired, Delta } from './crdt';
import { CandidateSet, Candidate } from './placement';
import { WorkQueue } from './workqueue';
import { Xorshift64 } from './prng';
import { Link, L_UP, Member, LocalChild, Waiter, Claim } from './model';
import { Session } from './session';
import { fxWake } from './effects';
import { StrMap, StrSet } from './strmap';
import { Outbox } from './outbox';
import { DialTable, dialSeed, linkClosedDial, dialsDue, dialsFire } from './dials';
import {
  reject, onHandshakeFrame, onLinkOpened, writeHello, stalledHandshakesDue, closeStalledHandshakes, credentialsDue,
  closeExpiredCredentials,
} from './handshake';
import { TAG_BYTES } from './session';
import { clusterKey, kindsCanonical, kindsWithin, TAB_LINK_KEYS_MAX, CREDENTIAL_KEY_BYTES } from './credential';
import {
  MemberTable, onMembers, onLeaving, onBye, silentMembersDue, downSilentMembers, notReadyReason, linkLost,
  redialRefused, flushMembers,
} from './membership';
import { evaluateQuorum, takeoverDue, takeoverFire } from './lease';
import { Roster, rosterInit, onRoster, flushRoster } from './roster';
import { onLeaseWait, flushLeaseWait } from './lease-wait';
import { onDigest, onSyncReq, onDelta, flushDelta, syncFire } from './sync';
import { onSyncLive } from './sync-live';
import { ClaimTable, onClaims, onClaimsReq, flushClaims } from './claims';
import { reconcileAll, reconcilePending, ownerOf } from './ownership';
import { Sweep } from './sweep';
import { childStarted, childEnded, childUnresponsive, decideExits, restartsDue, restartsFire } from './supervision';
import { startChild, terminateChild, leave, onAck, checkLeft, settleAcks } from './requests';
import { AckedLately, handoverDue } from './leave-handover';
import { TermWait, onTermCheck, onTermCover, flushTermChecks } from './terminates';
import { onFragment } from './fragments';
import { onRenew } from './renewal';
import { StateTable, onHandoff, onCheckpoint, handoffsDue, handoffsFire } from './handoff';
import { onLinkRetire, answerLink, retiredDue, closeOverdueRetired } from './link-retire';
import { GlobalView } from './global-view';
import { Messages, onMessage, onMessageAck, onReply, flushMessages, messagesDue, messagesFire } from './messages';
import { CallStops, onCallStopped, callsChildEnded } from './call-stops';
import { PairKeyRelay, onPairKeyReq, onPairKeyAnswer } from './pair-key-relay';
import { heartbeatsDue, heartbeatsFire } from './heartbeats';
import { onMembersSame } from './members-gossip';
import { Cordons, cordonStep, flushCordons, cordonWaitsDue, cordonWaitsFire, onMemberState, onCordons } from './cordon';

export class Config {
  heartbeatMs: i64 = HEARTBEAT_DEFAULT_MS;
  failureTimeoutMs: i64 = FAILURE_TIMEOUT_DEFAULT_MS;
  syncIntervalMs: i64 = SYNC_INTERVAL_DEFAULT_MS;
  quorum: i32 = 0;           // 0 = 'available', -1 = 'majority' (roster.ts QUORUM_MAJORITY)
  weight: f64 = 1;
  maxFrameBytes: i32 = FRAME_DEFAULT_BYTES;
}

export class Node {
  // Who we are (set once by init).
  initialised: bool = false;
  name: string = '';
  /** `name` in UTF-8, to recognise it in frames without decoding. */
  nameUtf8: Uint8Array = new Uint8Array(0);
  inc: u64 = 0;
  scope: string = '';
  listen: string = '';
  /** The key this node holds (AUTH_*): the secret (and the cluster key from it), a credential, or none. */
  auth: u8 = AUTH_INSECURE;
  secret: Uint8Array = new Uint8Array(0);
  clusterKey: Uint8Array = new Uint8Array(0);
  credKey: Uint8Array = new Uint8Array(0);
  credKinds: Array<string> = [];
  credExpiresAt: i64 = i64.MAX_VALUE;
  /** Our credential before its last renewal: the root key of links whose HELLO went out before it. */
  prevCredKey: Uint8Array = new Uint8Array(0);
  /** The tab link keys our credential carries, of epochs tabLinkFirstEpoch, +1, ... (credential.ts). */
  tabLinkFirstEpoch: u64 = 0;
  tabLinkKeys: Array<Uint8Array> = [];
  ownCredentialExpired: bool = false;
  /** Inbound links in their handshake at once at most (handshake.ts). */
  maxPendingLinks: i32 = PENDING_LINKS_DEFAULT;
  /** Why init refused to start this node ('' once it runs): 'field: rule' (query Q_INIT). */
  initError: string = '';
  kinds: Array<string> = [];
  kindSet: Set<string> = new Set();
  cfg: Config = new Config();
  /** Planted bugs (testing builds only, see flags.ts). */
  bugs: u32 = 0;
  rng: Xorshift64 = new Xorshift64(0x9E3779B97F4A7C15);

  // Time.
  now: i64 = 0;
  lastTick: i64 = -1;
  nextSync: i64 = 0;
  lastWake: i64 = -1;
  /**
   * A pause shows in two ways. `turnGap`: the time since the host's loop last turned (a step with
   * I/O or a timer's: exports.ts noteRecord), at the end of this step; steps with only API calls
   * or runner reports can run inside a pause and do not count. `quietAtTick`: the time since a
   * member's frame last arrived (`lastFrameAt`) when this step's tick came, before its own frames,
   * which after a pause may be the first of those that queued, from one member.
   */
  turnGap: i64 = 0;
  lastTurnAt: i64 = -1;
  stepHadIo: bool = false;
  stepHadOther: bool = false;
  lastFrameAt: i64 = -1;
  quietAtTick: i64 = 0;
  /** Judging silence is put off until `silenceJudgedFrom` (see judgeSilence). */
  silenceDeferred: bool = false;
  silenceJudgedFrom: i64 = -1;
  /** When the current catch-up began, and how many ran in a row (PAUSE_CATCH_UPS_MAX). */
  silenceCatchUpFrom: i64 = -1;
  silenceCatchUps: i64 = 0;

  // The quorum lease (lease.ts): held at the last evaluation; no new start before takeoverAt.
  quorumHeld: bool = false;
  takeoverAt: i64 = -1;
  takeoverPending: bool = false;
  /** { quorum: N }: the wait grew in this step; LEASE_WAIT goes to every member (lease-wait.ts). */
  leaseWaitChanged: bool = false;
  /** A start was held back for a node a member named; at this time that stops counting (0: none). */
  meshHeldUntil: i64 = 0;
  /** Majority mode: whom the lease counts (roster.ts). */
  roster: Roster = new Roster();

  // The cluster: links (authenticated or in their handshake), members, addresses to dial.
  links: Map<u32, Link> = new Map();
  members: MemberTable = new MemberTable();
  dials: DialTable = new DialTable();
  /** Frames rejected and links closed in their handshake, per FERR_* code. */
  rejected: StaticArray<u32> = new StaticArray<u32>(FERR_COUNT);

  // Desired children (replicated) and the delta of this step's local ops.
  desired: Desired = new Desired();
  pendingDelta: Delta = new Delta();

  // What runs where: our claims, and the children we run here.
  claims: ClaimTable = new ClaimTable();
  locals: StrMap<LocalChild> = new StrMap<LocalChild>();
  /** States of moving children, checkpoints, and the copies other members gave us. */
  handoff: StateTable = new StateTable();
  /** Local children in S_RESTARTING (waiting out their backoff). */
  restartingIds: StrSet = new StrSet();
  epochCounter: u32 = 0;
  /** Local children whose exit was reported in this step (decided in endStep). */
  endedIds: Array<string> = [];

  // Reconcile: the ids to look at again, and what this step has done.
  dirty: WorkQueue = new WorkQueue();
  allDirty: bool = false;
  /** The walk over every desired id that allDirty starts (sweep.ts). */
  sweep: Sweep = new Sweep();
  /** Local starts and stops decided in this step (see RECONCILE_BUDGET). */
  actions: i32 = 0;
  wasReady: bool = false;
  /** Ready at least once since init: until then a member another one vouches for holds us back. */
  everReady: bool = false;
  /** MEMBERS frames received (each names its dials: dials.ts withdrawUnlisted). */
  membersFrames: u32 = 0;
  /** A hash of the MEMBERS payload written last (members-gossip.ts). */
  membersHash: u64 = 0;
  /** A member went down in this step: MEMBERS goes to every member at its end (flushMembers). */
  membersGossipDue: bool = false;
  /** Steps whose reconcile loop stopped at its guard with work left (an invariant: never). */
  guardStops: u32 = 0;
  /** Eligible owners per kind; cleared whenever membership changes. */
  candCache: StrMap<CandidateSet> = new StrMap<CandidateSet>();
  /** The last entry candidates() answered, valid while candCache's generation is unchanged. */
  candLast: CandidateSet | null = null;
  candLastKind: string = '';
  candLastGeneration: u32 = 0;
  selfCand: Candidate | null = null;

  // API requests waiting: for an acknowledgement by a peer, for running/stopped, for leaving.
  ackWaits: Map<u64, Waiter> = new Map();
  /** Ops a peer holds that wait for this node to hold its quorum before they are acknowledged. */
  ackedAwaitingQuorum: Array<Waiter> = [];
  /** Terminates waiting for every member to cover their removal (terminates.ts). */
  termWaits: Map<u64, TermWait> = new Map();
  /** A terminate round this step: TERM_CHECK goes out after the DELTA. */
  termUnsent: bool = false;
  doneWaits: StrMap<Array<Waiter>> = new StrMap<Array<Waiter>>();
  leaving: bool = false;
  left: bool = false;
  leaveReqs: Array<u32> = [];
  /** What this node ACKed lately, and a leave's wait for members that stay to hold it (leave-handover.ts). */
  ackedLately: AckedLately = new AckedLately();

  /** Who is cordoned or draining, and our own drain (cordon.ts). */
  cordons: Cordons = new Cordons();
  /** A credential member's pair keys when its host has no source of them (pair-key-relay.ts). */
  pairKeys: PairKeyRelay = new PairKeyRelay();

  /** The global view's rows, refreshed when read (global-view.ts). */
  view: GlobalView = new GlobalView();
  outbox: Outbox = new Outbox();
  /** Messages to children: routes this node sends on, answers to send (messages.ts). */
  msgs: Messages = new Messages();
  callStops: CallStops = new CallStops();
  /** The reader of every incoming frame (reset per frame, never allocated per frame). */
  frameReader: Reader = new Reader(0, 0);

  constructor() { this.outbox.links = this.links; }

  // ---- events in ---------------------------------------------------------------------------

  init(r: Reader): void {
    this.name = r.str(NAME_BYTES_MAX);
    this.nameUtf8 = Uint8Array.wrap(String.UTF8.encode(this.name));
    this.inc = r.u64();
    this.scope = r.str(SCOPE_BYTES_MAX);
    this.listen = r.str(ADDRESS_BYTES_MAX);
    this.auth = r.u8();
    const key = r.bytes(SECRET_BYTES_MAX);
    const nck = r.count(KINDS_MAX, 4);
    for (let i = 0; i < nck; i++) this.credKinds.push(r.str(KIND_BYTES_MAX));
    const expires = r.u64();
    this.tabLinkFirstEpoch = r.u64();
    const ntk = r.count(TAB_LINK_KEYS_MAX, 4 + CREDENTIAL_KEY_BYTES);
    for (let i = 0; i < ntk; i++) this.tabLinkKeys.push(r.bytes(CREDENTIAL_KEY_BYTES));
    this.rng = new Xorshift64(r.u64());
    this.cfg.heartbeatMs = <i64>r.u32();
    this.cfg.failureTimeoutMs = <i64>r.u32();
    this.cfg.syncIntervalMs = <i64>r.u32();
    this.cfg.quorum = <i32>r.u32();
    this.cfg.weight = r.f64();
    this.cfg.maxFrameBytes = <i32>r.u32();
    const pending = <i32>r.u32();
    const nk = r.count(KINDS_MAX, 4);
    for (let i = 0; i < nk; i++) { const k = r.str(KIND_BYTES_MAX); this.kinds.push(k); this.kindSet.add(k); }
    const ns = r.count(MEMBERS_MAX, 4);
    const seeds = new Array<string>();
    for (let i = 0; i < ns; i++) seeds.push(r.str(ADDRESS_BYTES_MAX));
    this.initError = initRefusal(this, r, key, expires);
    if (this.initError.length) return;
    if (this.auth == AUTH_SECRET) { this.secret = key; this.clusterKey = clusterKey(key, this.scope); }
    if (this.auth == AUTH_CREDENTIAL) { this.credKey = key; this.credExpiresAt = <i64>expires; }
    if (pending > 0) this.maxPendingLinks = pending;
    if (this.cfg.heartbeatMs < 1) this.cfg.heartbeatMs = 1;
    if (this.cfg.failureTimeoutMs < this.cfg.heartbeatMs) this.cfg.failureTimeoutMs = this.cfg.heartbeatMs * 2;
    if (this.cfg.syncIntervalMs < 1) this.cfg.syncIntervalMs = SYNC_INTERVAL_DEFAULT_MS;
    if (this.cfg.maxFrameBytes < FRAME_FLOOR_BYTES) this.cfg.maxFrameBytes = FRAME_FLOOR_BYTES;
    if (!(this.cfg.weight > 0)) this.cfg.weight = 1;
    // Planted bug: replicas named without the incarnation, so a restarted node reuses the dots
    // of its previous life.
    this.desired.init(this.name, planted(this.bugs, BUG_IGNORE_INCARNATION) ? 0 : this.inc);
    this.desired.feed = this.view.feed;
    this.members.maxInc.set(this.name, this.inc);
    let dialed = 0;
    for (let i = 0; i < seeds.length; i++) if (seeds[i] != this.listen) { dialSeed(this, seeds[i]); dialed++; }
    rosterInit(this, dialed);
    this.initialised = true;
    this.allDirty = true;
  }

  linkOpened(id: u32, outbound: bool, address: string, nonce: Uint8Array, watchedSilenceMs: i64 = 0): void {
    if (this.links.has(id)) return;
    // The dial stays in flight through the handshake (dials.ts): it ends when the link is up or closes.
    const l = new Link(id, outbound, address, nonce, this.now);
    l.watchedSilenceMs = watchedSilenceMs;
    if (!onLinkOpened(this, l) && outbound && this.dials.has(address)) this.dials.failed(this, this.dials.get(address));
  }

  linkClosed(id: u32): void {
    if (!this.links.has(id)) return;
    const l = this.links.get(id);
    this.links.delete(id);
    linkClosedDial(this, l);
    if (l.state == L_UP) linkLost(this, l);
  }

  /**
   * A frame from a link. Before the link is up: at most HANDSHAKE_BYTES_MAX of payload, checked
   * before anything is read. Once we verified the peer's proof: the tag first (session.ts), so
   * nothing of an injected, replayed or reordered frame is read.
   */
  frame(id: u32, ptr: usize, len: i32): void {
    if (!this.links.has(id)) return;
    const l = this.links.get(id);
    let frameLen = len;
    if (l.opening) {
      if (len > this.cfg.maxFrameBytes + FRAME_HEADER_BYTES + TAG_BYTES) { reject(this, l, FERR_OVERSIZED); return; }
      if (!(<Session>l.session).open(ptr, len)) { reject(this, l, FERR_BAD_MAC); return; }
      frameLen = len - TAG_BYTES;
    }
    const r = this.frameReader.reset(ptr, frameLen);
    const type = checkFrame(r, l.pending ? HANDSHAKE_BYTES_MAX : this.cfg.maxFrameBytes);
    if (type < 0) { reject(this, l, -type); return; }
    if (l.pending) { onHandshakeFrame(this, l, <u8>type, r, ptr, frameLen); return; }
    onMemberFrame(this, l, <u8>type, r, false);
  }

  /** `refused`: connection refused or reset (nothing listens there), else a timeout or other failure. */
  dialFailed(address: string, refused: bool): void { dialFailedAt(this, address, refused); }
  startChild(req: u32, wait: u8, r: Reader): void { startChild(this, req, wait, r); }
  terminateChild(req: u32, wait: u8, id: string): void { terminateChild(this, req, wait, id); }
  leave(req: u32, waitMs: u32): void { leave(this, req, waitMs); }
  childStarted(id: string, epoch: u32): void { childStarted(this, id, epoch); }
  childUnresponsive(id: string, epoch: u32): void { childUnresponsive(this, id, epoch); }
  /** An exit or a failed start of a local child: `reason` is an EXIT_* code. */
  childEnded(id: string, epoch: u32, reason: u8, errName: string, errMsg: string): void {
    callsChildEnded(this, id, epoch, reason);
    childEnded(this, id, epoch, reason, errName, errMsg);
  }

  tick(nowMs: i64): void {
    if (nowMs < this.now) return; // time never runs backwards here
    // A second tick at the same time (an API call's, queued behind the step's frames) keeps what
    // the first saw.
    if (nowMs > this.lastTick) this.quietAtTick = nowMs - this.lastFrameAt;
    this.now = nowMs;
    this.lastTick = nowMs;
    if (!this.initialised) return;
    for (let t = 0; t < TIMERS; t++) if (!judgedAtEnd(t) && timerDue(this, t) <= this.now) timerFire(this, t);
  }

  /** End of every step: judge silence and the quorum, decide, then flush what was decided. */
  endStep(): void {
    if (!this.initialised) return;
    const turned = this.stepHadIo || !this.stepHadOther;
    this.stepHadIo = false;
    this.stepHadOther = false;
    this.turnGap = this.lastTurnAt < 0 ? 0 : this.now - this.lastTurnAt;
    if (judgeSilence(this) && evaluateQuorum(this)) this.allDirty = true;
    if (turned) this.lastTurnAt = this.now;
    settleAcks(this);
    decideExits(this);
    cordonStep(this);
    reconcileAll(this);
    flushDelta(this);
    flushTermChecks(this);
    flushClaims(this);
    flushMessages(this);
    flushCordons(this);
    flushRoster(this);
    // The lease a member still owes goes before the MEMBERS that drops it: a joiner that stops
    // waiting for the lost member (dials.ts withdrawUnlisted) knows its lease by then.
    flushLeaseWait(this);
    flushMembers(this);
    this.view.endStep(this);
    checkLeft(this);
    this.scheduleWake();
  }

  private scheduleWake(): void {
    let at = i64.MAX_VALUE;
    for (let t = 0; t < TIMERS; t++) { const due = timerDue(this, t); if (due < at) at = due; }
    // Reconcile work left over by the budget: come back at once (after the host's I/O).
    if (reconcilePending(this)) at = this.now;
    if (at <= this.now) at = this.now + 1;
    // Every step asks, even for the time it asked before: the host's timer may have fired early
    // and been used by this very step (its tick came before the asked time), and the core cannot
    // tell a timer's tick from any other. The host keeps an armed timer for an unchanged time.
    this.lastWake = at;
    fxWake(at);
  }

  // ---- queries -----------------------------------------------------------------------------

  /** We know the cluster well enough to start children: every address tried, every member's claims known. */
  ready(): bool { return notReadyReason(this).length == 0; }
  /** Why this node does not start children yet ('' when it is ready). */
  notReadyReason(): string { return notReadyReason(this); }
  /** The owner of a child in this node's view, or '' when no live member can run its kind. */
  owner(id: string, kind: string): string { return ownerOf(this, id, kind); }
  memberCount(): i32 { return this.members.count; }
  memberAt(i: i32): Member { return this.members.list[i]; }
  /** The members in the order they came up (read only). */
  memberList(): Array<Member> { return this.members.list; }
  /** Our claims by child id (read only). */
  myClaims(): StrMap<Claim> { return this.claims.mine; }
  localChildren(): Array<LocalChild> { return this.locals.values(); }
  localCount(): i32 { return this.locals.size; }
  rejectedCount(code: i32): u32 { return this.rejected[code]; }
  /** The scope and, when this node holds the secret, the secret (for minting credentials). */
  holdsSecret(): bool { return this.initialised && this.auth == AUTH_SECRET; }
  scopeName(): string { return this.scope; }
  secretKey(): Uint8Array { return this.secret; }
}

/** Why init must not start this node ('' when it may): 'field: rule', for start() to report. */
function initRefusal(n: Node, r: Reader, key: Uint8Array, expires: u64): string {
  if (!r.ok) return 'options: a field is over the core\'s limit or does not decode';
  if (n.name.length == 0) return 'name: must not be empty';
  if (n.auth > AUTH_CREDENTIAL) return 'secret: unknown auth mode';
  if (n.auth == AUTH_SECRET && key.length == 0) return 'secret: must not be empty';
  if (n.auth != AUTH_CREDENTIAL && (n.credKinds.length > 0 || expires != 0)) return 'credential: given without auth mode credential';
  if (n.auth == AUTH_CREDENTIAL) {
    if (key.length == 0) return 'credential: has no key';
    if (expires == 0 || expires > <u64>i64.MAX_VALUE) return 'credential: has no valid expiry';
    if (!kindsCanonical(n.credKinds)) return 'credential: its kinds must be sorted by UTF-8 bytes, without duplicates';
    if (!kindsWithin(n.kinds, n.credKinds)) return 'kinds: the credential does not allow every kind this node advertises';
  }
  if (n.auth != AUTH_CREDENTIAL && n.tabLinkKeys.length > 0) return 'credential: tab link keys given without auth mode credential';
  for (let i = 0; i < n.tabLinkKeys.length; i++) if (n.tabLinkKeys[i].length != CREDENTIAL_KEY_BYTES) return 'credential: a tab link key is not 32 bytes';
  // Peers refuse a HELLO larger than HANDSHAKE_BYTES_MAX, so a node whose HELLO is larger could never join.
  writeHello(n, new Uint8Array(NONCE_BYTES));
  const size = n.outbox.lastFrame().length - FRAME_HEADER_BYTES;
  if (size > HANDSHAKE_BYTES_MAX) {
    return 'kinds: name, scope, listen address and kind names take ' + size.toString() + ' bytes in the handshake, more than ' + HANDSHAKE_BYTES_MAX.toString();
  }
  return '';
}

function dialFailedAt(n: Node, address: string, refused: bool): void {
  if (!n.dials.has(address)) return;
  const d = n.dials.get(address);
  n.dials.failed(n, d);
  if (refused) redialRefused(n, d.name);
}

/** Frames on an authenticated link: one handler per message type. */
export function onMemberFrame(n: Node, l: Link, type: u8, r: Reader, reassembled: bool): void {
  if (!n.members.has(l.peerName)) { reject(n, l, FERR_UNEXPECTED); return; }
  const m = n.members.get(l.peerName);
  if (m.inc != l.peerInc && !planted(n.bugs, BUG_IGNORE_INCARNATION)) { reject(n, l, FERR_STALE_INCARNATION); return; }
  m.lastHeard = n.now;
  n.lastFrameAt = n.now;
  // What arrives on a retired duplicate is still the member's; answers go on its kept link.
  const a = answerLink(n, m, l);
  let ok = true;
  switch (type) {
    case MSG_HEARTBEAT: ok = r.remaining == 0; break;
    case MSG_MEMBERS: ok = onMembers(n, m.name, r, l.id); break;
    case MSG_DIGEST: ok = onDigest(n, m, a.id, r); break;
    case MSG_SYNC_REQ: ok = onSyncReq(n, a.id, r); break;
    case MSG_DELTA: ok = onDelta(n, a.id, r); break;
    case MSG_SYNC_LIVE: ok = onSyncLive(n, r); break;
    case MSG_ACK: ok = onAck(n, m, r); break;
    case MSG_CLAIMS: ok = onClaims(n, m, a.id, r); break;
    case MSG_CLAIMS_REQ: ok = onClaimsReq(n, a.id, r); break;
    case MSG_LEAVING: ok = onLeaving(n, m, r); break;
    case MSG_BYE: onBye(n, m, r); return;
    case MSG_FRAGMENT: onFragment(n, l, r, reassembled); return;
    case MSG_MEMBER_STATE: ok = onMemberState(n, m, r); break;
    case MSG_CORDONS: ok = onCordons(n, r); break;
    case MSG_RENEW: ok = onRenew(n, l, m, r); break;
    case MSG_MESSAGE: ok = onMessage(n, m, a.id, r); break;
    case MSG_MESSAGE_ACK: ok = onMessageAck(n, m, r); break;
    case MSG_REPLY: ok = onReply(n, r); break;
    case MSG_CALL_STOPPED: ok = onCallStopped(n, r); break;
    case MSG_HANDOFF: ok = onHandoff(n, m, r); break;
    case MSG_CHECKPOINT: ok = onCheckpoint(n, m, r); break;
    case MSG_ROSTER: ok = onRoster(n, m, r); break;
    case MSG_LEASE_WAIT: ok = onLeaseWait(n, r); break;
    case MSG_TERM_CHECK: ok = onTermCheck(n, m, a.id, r); break;
    case MSG_TERM_COVER: ok = onTermCover(n, m, r); break;
    case MSG_PAIR_KEY_REQ: ok = onPairKeyReq(n, a, m, r); break;
    case MSG_PAIR_KEY: ok = onPairKeyAnswer(n, l, r); break;
    case MSG_LINK_RETIRE: ok = onLinkRetire(n, l, r); break;
    case MSG_MEMBERS_SAME: ok = onMembersSame(n, m, l.id, r); break;
    default: reject(n, l, FERR_UNEXPECTED); return; // HELLO or AUTH again
  }
  if (!ok || !r.ok) reject(n, l, FERR_MALFORMED);
}

/**
 * End of step, after the batch's frames: the silence rows. A node that looks paused (its loop
 * not turned, or no frame from anyone, for longer than PAUSE_SUSPECT_DIVISOR allows: GC, SIGSTOP,
 * a loaded loop) has frames queued that it reads after this tick (Node runs timers before I/O),
 * so a due judgement waits PAUSE_CATCH_UP_MS for them, once more if the loop did not turn
 * within that catch-up and the next step follows a pause (PAUSE_CATCH_UPS_MAX), never more in a row: on a loop that is always late the
 * judgements still happen, so a pause never hides a death the node could have seen; and
 * lastHeard moves only with a frame. Returns false while put off (the quorum keeps its last
 * evaluation meanwhile).
 */
function judgeSilence(n: Node): bool {
  if (n.silenceDeferred) {
    if (n.now < n.silenceJudgedFrom) return false;
    if (n.silenceCatchUps < PAUSE_CATCH_UPS_MAX && n.lastTurnAt <= n.silenceCatchUpFrom && n.turnGap > pauseSuspectMs(n)) {
      // The loop did not turn within the catch-up (the step that began it ran inside the pause)
      // and this step follows a pause: what queued is still unread, and this step may be the
      // first of the reads. (A node with nothing to do wakes at the catch-up's end: no pause.)
      n.silenceCatchUpFrom = n.now;
      n.silenceCatchUps++;
      n.silenceJudgedFrom = n.now + PAUSE_CATCH_UP_MS;
      return false;
    }
    n.silenceDeferred = false;
    // What waited for the catch-up in quorum mode (lease.ts quorumProvisional) is looked at again.
    if (n.cfg.quorum != 0) n.allDirty = true;
  } else if (silenceDue(n) && looksPaused(n)) {
    n.silenceDeferred = true;
    n.silenceCatchUpFrom = n.now;
    n.silenceCatchUps = 1;
    n.silenceJudgedFrom = n.now + PAUSE_CATCH_UP_MS;
    return false;
  }
  for (let t = 0; t < TIMERS; t++) if (judgedAtEnd(t) && timerDue(n, t) <= n.now) timerFire(n, t);
  return true;
}

function silenceDue(n: Node): bool {
  for (let t = 0; t < TIMERS; t++) if (judgedAtEnd(t) && timerDue(n, t) <= n.now) return true;
  return false;
}

function pauseSuspectMs(n: Node): i64 { return n.cfg.failureTimeoutMs / PAUSE_SUSPECT_DIVISOR; }

function looksPaused(n: Node): bool {
  const suspect = pauseSuspectMs(n);
  return n.turnGap > suspect || (n.members.count > 0 && n.quietAtTick > suspect);
}

// ---- what happens when -----------------------------------------------------------------------
// One row per timer: when it is next due, and what runs then. `tick` runs the rows in this
// order, each once its time has come, except the silence rows, which `endStep` runs once the
// step's frames are in (judgeSilence); the wake the host is asked for is the earliest row. A
// row's fire re-checks each of its items, so it acts exactly on the items that are due.

const T_SILENT_MEMBERS: i32 = 0;      // membership: a member silent for failureTimeoutMs is down
const T_STALLED_HANDSHAKES: i32 = 1;  // handshake: a link not up after failureTimeoutMs is closed
const T_HEARTBEAT: i32 = 2;           // heartbeats: an empty HEARTBEAT to each member at the rate it asked for
const T_SYNC: i32 = 3;                // every syncIntervalMs: DIGEST, MEMBERS gossip, ack re-asks
const T_DIALS: i32 = 4;               // dials: addresses whose backoff has passed are dialed
const T_RESTARTS: i32 = 5;            // supervision: children whose restart backoff has passed
const T_CREDENTIALS: i32 = 6;         // handshake: a credential (a member's or ours) expires: its links close
const T_TAKEOVER: i32 = 7;            // lease: a lost member's lease is over, its children may start
const T_MESSAGES: i32 = 8;            // messages: held ones past their deadline fail, waiting routes ask again
const T_CORDON_WAITS: i32 = 9;        // cordon: a drain (or cordon) request's deadline passes
const T_HANDOFFS: i32 = 10;            // handoff: a moving child that gave no state in time moves without it
const T_RETIRED_LINKS: i32 = 11;      // link-retire: a duplicate link whose peer never answered closes
const T_LEAVE_HANDOVER: i32 = 12;     // leave-handover: a BYE's wait for members that stay ends (checkLeft)
const TIMERS: i32 = 13;

/** Rows that judge silence: run at the end of the step, after its frames (judgeSilence). */
function judgedAtEnd(t: i32): bool { return t == T_SILENT_MEMBERS || t == T_STALLED_HANDSHAKES; }

function timerDue(n: Node, t: i32): i64 {
  switch (t) {
    case T_SILENT_MEMBERS: return afterCatchUp(n, silentMembersDue(n));
    case T_STALLED_HANDSHAKES: return afterCatchUp(n, stalledHandshakesDue(n));
    case T_HEARTBEAT: return heartbeatsDue(n);
    case T_SYNC: return n.nextSync;
    case T_DIALS: return dialsDue(n);
    case T_RESTARTS: return restartsDue(n);
    case T_CREDENTIALS: return credentialsDue(n);
    case T_TAKEOVER: return takeoverDue(n);
    case T_MESSAGES: return messagesDue(n);
    case T_CORDON_WAITS: return cordonWaitsDue(n);
    case T_HANDOFFS: return handoffsDue(n);
    case T_RETIRED_LINKS: return retiredDue(n);
    case T_LEAVE_HANDOVER: return handoverDue(n);
  }
  return i64.MAX_VALUE;
}

/** A silence row is not due before the catch-up after a pause ends. */
function afterCatchUp(n: Node, at: i64): i64 {
  return n.silenceDeferred && at < n.silenceJudgedFrom ? n.silenceJudgedFrom : at;
}

function timerFire(n: Node, t: i32): void {
  switch (t) {
    case T_SILENT_MEMBERS: downSilentMembers(n); break;
    case T_STALLED_HANDSHAKES: closeStalledHandshakes(n); break;
    case T_HEARTBEAT: heartbeatsFire(n); break;
    case T_SYNC:
      n.nextSync = n.now + n.cfg.syncIntervalMs;
      syncFire(n);
      break;
    case T_DIALS: dialsFire(n); break;
    case T_RESTARTS: restartsFire(n); break;
    case T_CREDENTIALS: closeExpiredCredentials(n); break;
    case T_TAKEOVER: takeoverFire(n); break;
    case T_MESSAGES: messagesFire(n); break;
    case T_CORDON_WAITS: cordonWaitsFire(n); break;
    case T_HANDOFFS: handoffsFire(n); break;
    case T_RETIRED_LINKS: closeOverdueRetired(n); break;
    case T_LEAVE_HANDOVER: break; // the step's end says BYE (checkLeft)
  }
}
