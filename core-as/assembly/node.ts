// One Trellis node: the whole decision logic, driven by events, answering with effects.
//
// Sections: init and config; links and the handshake; members (up, down, gossip, dialing);
// frames from members; the desired-children CRDT ops and sync; claims; local supervision;
// reconcile (who should run what); API requests and waiters; time (tick, wake).

import { Reader, Writer } from './io';
import {
  checkFrame, beginFrame, endFrame, frameErrorName,
  MSG_HELLO, MSG_AUTH, MSG_HEARTBEAT, MSG_MEMBERS, MSG_DIGEST, MSG_SYNC_REQ, MSG_DELTA, MSG_ACK,
  MSG_CLAIMS, MSG_CLAIMS_REQ, MSG_LEAVING, MSG_BYE, MSG_FRAGMENT,
  FERR_MALFORMED, FERR_UNAUTHENTICATED, FERR_BAD_AUTH, FERR_WRONG_SCOPE, FERR_SECRET_MISMATCH,
  FERR_STALE_INCARNATION, FERR_SELF, FERR_UNEXPECTED, FERR_OVERSIZED, FERR_COUNT,
  MAX_NAME, MAX_SCOPE, MAX_ADDRESS, MAX_KIND, MAX_KINDS, MAX_MEMBERS, MAX_ID, NONCE_BYTES, MAC_BYTES,
  MAX_MESSAGE_BYTES, HEADER_BYTES,
} from './codec';
import {
  OE_MEMBER_UP, OE_MEMBER_DOWN, OE_CHILD_STARTED, OE_CHILD_EXITED, OE_CHILD_RESTARTING,
  OE_CHILD_FAILED, OE_CHILD_STOPPING, OE_CHILD_MOVED, OE_LINK_REJECTED, OE_LEFT,
  EXIT_NORMAL, EXIT_CRASH, EXIT_SHUTDOWN, EXIT_KILLED,
  R_OK, R_INVALID_SPEC, R_NOT_FOUND, R_ALREADY_STARTED, R_NOT_RUNNING, R_CHILD_FAILED,
  WAIT_ACK, WAIT_DONE,
  BUG_START_WITHOUT_RELEASE, BUG_SKIP_ANTI_ENTROPY, BUG_IGNORE_INCARNATION, BUG_TERMINATE_LOSES,
} from './boundary';
import { Spec, RESTART_PERMANENT, RESTART_TRANSIENT, readSpecFromApi } from './spec';
import { Desired, Delta, Entry, dotKey, dotRep, dotCtr } from './crdt';
import { Candidate, CandidateSet, placeIn } from './placement';
import { WorkQueue } from './workqueue';
import { Xorshift64 } from './prng';
import { hmacSha256, constantTimeEqual } from './sha256';
import { xxh64String, mix64 } from './hash';
import {
  Link, L_HANDSHAKE, L_UP, Member, Claim, C_RELEASED, C_STARTING, C_RUNNING, C_STOPPING, C_RESTARTING,
  LocalChild, S_STARTING, S_RUNNING, S_STOPPING, S_BACKOFF, WHY_MOVED, WHY_TERMINATED, WHY_QUORUM,
  WHY_LEAVING, whyName, DialState, Waiter,
} from './model';
import { out, fxSend, fxDial, fxClose, fxRun, fxStop, fxWake, fxReply, fxEvent } from './effects';
import { StrMap, StrSet } from './strmap';

/** Logical messages above this are sent as FRAGMENT frames of this size. */
const FRAGMENT_BYTES: i32 = 64 * 1024;
/**
 * Local children started or stopped per step at most. A burst (100,000 starts, a join that
 * moves a third of them) is spread over many short steps with the host's I/O in between, so
 * heartbeats keep flowing and no peer mistakes a busy node for a dead one.
 */
const RECONCILE_BUDGET: i32 = 1000;
/** Sync intervals a digest difference may last before anti-entropy runs regardless. */
const DIGEST_PATIENCE: i32 = 3;
/** Acknowledgements asked again per sync interval at most. */
const REASK_ACKS_MAX: i32 = 4096;
const AUTH_LABEL = 'trellis-auth-v1';

export class Config {
  heartbeatMs: i64 = 250;
  failureTimeoutMs: i64 = 1000;
  syncIntervalMs: i64 = 1000;
  quorum: i32 = 0;           // 0 = 'available'
  weight: f64 = 1;
  maxFrameBytes: i32 = 1 << 20;
  backoffBaseMs: i64 = 100;
  backoffMaxMs: i64 = 5000;
}

export class Node {
  initialised: bool = false;
  name: string = '';
  /** `name` in UTF-8, to recognise it in frames without decoding. */
  nameUtf8: Uint8Array = new Uint8Array(0);
  inc: u64 = 0;
  scope: string = '';
  listen: string = '';
  secret: Uint8Array = new Uint8Array(0);
  hasSecret: bool = false;
  kinds: Array<string> = [];
  kindSet: Set<string> = new Set();
  cfg: Config = new Config();
  bugs: u32 = 0;
  rng: Xorshift64 = new Xorshift64(0x9E3779B97F4A7C15);

  now: i64 = 0;
  lastTick: i64 = -1;
  nextHeartbeat: i64 = 0;
  nextSync: i64 = 0;
  lastWake: i64 = -1;

  links: Map<u32, Link> = new Map();
  members: Map<string, Member> = new Map();
  memberList: Array<Member> = [];
  maxIncSeen: Map<string, u64> = new Map();
  dials: Map<string, DialState> = new Map();

  desired: Desired = new Desired();
  pendingDelta: Delta = new Delta();

  myClaims: StrMap<Claim> = new StrMap<Claim>();
  myClaimsVersion: u64 = 0;
  claimChanges: Array<Claim> = [];
  lastRunner: StrMap<string> = new StrMap<string>();

  locals: StrMap<LocalChild> = new StrMap<LocalChild>();
  backoffIds: StrSet = new StrSet();
  epochCounter: u32 = 0;
  /** Local children whose exit was reported in this step (decided in endStep). */
  endedIds: Array<string> = [];

  dirty: WorkQueue = new WorkQueue();
  allDirty: bool = false;
  /** Local starts and stops decided in this step (see RECONCILE_BUDGET). */
  actions: i32 = 0;
  wasReady: bool = false;

  ackWaits: Map<u64, Waiter> = new Map();
  doneWaits: StrMap<Array<Waiter>> = new StrMap<Array<Waiter>>();
  leaving: bool = false;
  left: bool = false;
  leaveReqs: Array<u32> = [];

  candCache: StrMap<CandidateSet> = new StrMap<CandidateSet>();

  rejected: StaticArray<u32> = new StaticArray<u32>(FERR_COUNT);
  fw: Writer = new Writer(1024);   // frame scratch
  hw: Writer = new Writer(256);    // hmac input scratch

  // ---- init ------------------------------------------------------------------------------

  init(r: Reader): void {
    this.name = r.str(MAX_NAME);
    this.nameUtf8 = Uint8Array.wrap(String.UTF8.encode(this.name));
    this.inc = r.u64();
    this.scope = r.str(MAX_SCOPE);
    this.listen = r.str(MAX_ADDRESS);
    this.hasSecret = r.bool();
    this.secret = r.bytes(4096);
    this.rng = new Xorshift64(r.u64());
    this.cfg.heartbeatMs = <i64>r.u32();
    this.cfg.failureTimeoutMs = <i64>r.u32();
    this.cfg.syncIntervalMs = <i64>r.u32();
    this.cfg.quorum = <i32>r.u32();
    this.cfg.weight = r.f64();
    this.cfg.maxFrameBytes = <i32>r.u32();
    const nk = r.count(MAX_KINDS, 4);
    for (let i = 0; i < nk; i++) { const k = r.str(MAX_KIND); this.kinds.push(k); this.kindSet.add(k); }
    const ns = r.count(MAX_MEMBERS, 4);
    const seeds = new Array<string>();
    for (let i = 0; i < ns; i++) seeds.push(r.str(MAX_ADDRESS));
    if (!r.ok || this.name.length == 0) return;
    if (this.cfg.heartbeatMs < 1) this.cfg.heartbeatMs = 1;
    if (this.cfg.failureTimeoutMs < this.cfg.heartbeatMs) this.cfg.failureTimeoutMs = this.cfg.heartbeatMs * 2;
    if (this.cfg.syncIntervalMs < 1) this.cfg.syncIntervalMs = 1000;
    if (this.cfg.maxFrameBytes < FRAGMENT_BYTES + 64) this.cfg.maxFrameBytes = FRAGMENT_BYTES + 64;
    if (!(this.cfg.weight > 0)) this.cfg.weight = 1;
    // Planted bug (simulator only): replicas named without the incarnation, so a restarted
    // node reuses the dots of its previous life.
    this.desired.init(this.name, (this.bugs & BUG_IGNORE_INCARNATION) != 0 ? 0 : this.inc);
    this.maxIncSeen.set(this.name, this.inc);
    for (let i = 0; i < seeds.length; i++) if (seeds[i] != this.listen) this.dialState(seeds[i]);
    this.initialised = true;
    this.allDirty = true;
  }

  // ---- frames out ------------------------------------------------------------------------

  /** Sends the frame in `fw` on a link, fragmenting logical messages larger than one frame. */
  private flushFrame(link: u32): void {
    const w = this.fw;
    if (w.len <= FRAGMENT_BYTES + HEADER_BYTES) { fxSend(link, w); return; }
    let off = 0;
    const frag = new Writer(FRAGMENT_BYTES + 32);
    while (off < w.len) {
      const n = min(FRAGMENT_BYTES, w.len - off);
      frag.reset();
      const at = beginFrame(frag, MSG_FRAGMENT);
      frag.u8(off + n < w.len ? 1 : 0);
      frag.raw(w.buf.dataStart + <usize>off, n);
      endFrame(frag, at);
      fxSend(link, frag);
      off += n;
    }
  }

  private sendEmpty(link: u32, type: u8): void {
    this.fw.reset();
    const at = beginFrame(this.fw, type);
    endFrame(this.fw, at);
    this.flushFrame(link);
  }

  private broadcastFrame(): void {
    for (let i = 0; i < this.memberList.length; i++) {
      const m = this.memberList[i];
      if (m.link != 0) this.flushFrame(m.link);
    }
  }

  // ---- links and the handshake -------------------------------------------------------------

  linkOpened(id: u32, outbound: bool, address: string, nonce: Uint8Array): void {
    if (this.links.has(id)) return;
    const l = new Link(id, outbound, address, nonce, this.now);
    this.links.set(id, l);
    if (outbound && this.dials.has(address)) this.dials.get(address).inFlight = false;
    // HELLO: who I am and my nonce.
    const w = this.fw;
    w.reset();
    const at = beginFrame(w, MSG_HELLO);
    w.str(this.scope);
    w.str(this.name);
    w.u64(this.inc);
    w.bytes(nonce);
    w.bool(this.hasSecret);
    w.str(this.listen);
    w.f64(this.cfg.weight);
    w.u32(<u32>this.kinds.length);
    for (let i = 0; i < this.kinds.length; i++) w.str(this.kinds[i]);
    endFrame(w, at);
    this.flushFrame(id);
  }

  dialFailed(address: string): void {
    if (!this.dials.has(address)) return;
    const d = this.dials.get(address);
    d.inFlight = false;
    d.resolved = true;
    d.attempts++;
    d.nextAt = this.now + this.backoff(d.attempts);
  }

  private backoff(attempts: i32): i64 {
    let base: i64 = 100;
    for (let i = 1; i < attempts && base < 2000; i++) base <<= 1;
    if (base > 2000) base = 2000;
    // jitter: 50%..150%
    return base / 2 + <i64>(this.rng.below(<u64>(base + 1)));
  }

  linkClosed(id: u32): void {
    if (!this.links.has(id)) return;
    const l = this.links.get(id);
    this.links.delete(id);
    if (l.outbound && this.dials.has(l.address)) {
      const d = this.dials.get(l.address);
      d.inFlight = false;
      if (l.state != L_UP) { d.resolved = true; d.attempts++; d.nextAt = this.now + this.backoff(d.attempts); }
    }
    if (l.state == L_UP && this.members.has(l.peerName)) {
      const m = this.members.get(l.peerName);
      if (m.link == id) {
        m.link = 0;
        // Try to re-establish; the member stays until failureTimeoutMs without frames.
        if (m.address.length && this.dials.has(m.address)) this.dials.get(m.address).nextAt = this.now;
      }
    }
  }

  private reject(l: Link, code: i32): void {
    this.rejected[code]++;
    fxEvent(OE_LINK_REJECTED, frameErrorName(code), l.peerName, l.address, '', <f64>l.id, 0);
    fxClose(l.id, frameErrorName(code));
    this.links.delete(l.id);
    if (l.outbound && this.dials.has(l.address)) {
      const d = this.dials.get(l.address);
      d.inFlight = false;
      d.resolved = true;
      d.attempts++;
      d.nextAt = this.now + this.backoff(d.attempts);
      if (code == FERR_SELF) d.self = true;
    }
  }

  frame(id: u32, ptr: usize, len: i32): void {
    if (!this.links.has(id)) return;
    const l = this.links.get(id);
    const r = new Reader(ptr, len);
    const type = checkFrame(r, this.cfg.maxFrameBytes);
    if (type < 0) { this.reject(l, -type); return; }
    if (l.state != L_UP) { this.handshakeFrame(l, <u8>type, r); return; }
    this.memberFrame(l, <u8>type, r, false);
  }

  private authInput(nonceA: Uint8Array, nonceB: Uint8Array, name: string, inc: u64): Uint8Array {
    const w = this.hw;
    w.reset();
    w.str(AUTH_LABEL);
    w.bytes(nonceA);
    w.bytes(nonceB);
    w.str(name);
    w.u64(inc);
    w.str(this.scope);
    return w.toBytes();
  }

  private handshakeFrame(l: Link, type: u8, r: Reader): void {
    if (type == MSG_HELLO) {
      if (l.gotHello) { this.reject(l, FERR_UNEXPECTED); return; }
      const scope = r.str(MAX_SCOPE);
      l.peerName = r.str(MAX_NAME);
      l.peerInc = r.u64();
      l.peerNonce = r.bytes(64);
      const peerHasSecret = r.bool();
      l.peerListen = r.str(MAX_ADDRESS);
      l.peerWeight = r.f64();
      const nk = r.count(MAX_KINDS, 4);
      for (let i = 0; i < nk; i++) l.peerKinds.push(r.str(MAX_KIND));
      if (!r.ok || r.remaining != 0 || l.peerName.length == 0 || l.peerNonce.length != NONCE_BYTES ||
        !(l.peerWeight > 0) || !isFinite(l.peerWeight)) { this.reject(l, FERR_MALFORMED); return; }
      if (scope != this.scope) { this.reject(l, FERR_WRONG_SCOPE); return; }
      if (l.peerName == this.name) { this.reject(l, FERR_SELF); return; }
      if (peerHasSecret != this.hasSecret) { this.reject(l, FERR_SECRET_MISMATCH); return; }
      if (this.maxIncSeen.has(l.peerName) && l.peerInc < this.maxIncSeen.get(l.peerName) &&
        (this.bugs & BUG_IGNORE_INCARNATION) == 0) { this.reject(l, FERR_STALE_INCARNATION); return; }
      l.gotHello = true;
      // AUTH: proves we know the secret, bound to both nonces and to our identity.
      const w = this.fw;
      w.reset();
      const at = beginFrame(w, MSG_AUTH);
      if (this.hasSecret) w.bytes(hmacSha256(this.secret, this.authInput(l.peerNonce, l.nonce, this.name, this.inc)));
      else w.u32(0);
      endFrame(w, at);
      this.flushFrame(l.id);
      return;
    }
    if (type == MSG_AUTH) {
      if (!l.gotHello) { this.reject(l, FERR_UNAUTHENTICATED); return; }
      const mac = r.bytes(MAC_BYTES);
      if (!r.ok || r.remaining != 0) { this.reject(l, FERR_MALFORMED); return; }
      if (this.hasSecret) {
        const expect = hmacSha256(this.secret, this.authInput(l.nonce, l.peerNonce, l.peerName, l.peerInc));
        if (mac.length != MAC_BYTES || !constantTimeEqual(mac, expect)) { this.reject(l, FERR_BAD_AUTH); return; }
      } else if (mac.length != 0) { this.reject(l, FERR_BAD_AUTH); return; }
      l.state = L_UP;
      this.memberUp(l);
      return;
    }
    this.reject(l, FERR_UNAUTHENTICATED);
  }

  // ---- members -----------------------------------------------------------------------------

  private dialState(address: string): DialState {
    if (this.dials.has(address)) return this.dials.get(address);
    const d = new DialState(address);
    d.nextAt = this.now;
    this.dials.set(address, d);
    return d;
  }

  private memberUp(l: Link): void {
    const name = l.peerName;
    if (l.outbound && this.dials.has(l.address)) {
      const d = this.dials.get(l.address);
      d.name = name; d.resolved = true; d.attempts = 0;
    }
    if (!this.maxIncSeen.has(name) || this.maxIncSeen.get(name) < l.peerInc) this.maxIncSeen.set(name, l.peerInc);
    if (this.members.has(name)) {
      const m = this.members.get(name);
      const sameIncarnation = m.inc == l.peerInc || (this.bugs & BUG_IGNORE_INCARNATION) != 0;
      if (sameIncarnation) {
        if (m.link != 0 && m.link != l.id && this.links.has(m.link)) {
          // Two links to one member: keep the one dialed by the smaller name (both sides agree);
          // if one side dialed both, the newer wins.
          const old = this.links.get(m.link);
          const oldDialer = old.outbound ? this.name : name;
          const newDialer = l.outbound ? this.name : name;
          const keepNew = newDialer < oldDialer || newDialer == oldDialer;
          const loser = keepNew ? old : l;
          this.links.delete(loser.id);
          fxClose(loser.id, 'duplicate_link');
          if (!keepNew) return;
        }
        m.link = l.id;
        m.lastHeard = this.now;
        m.inc = l.peerInc;
        this.afterConnect(m, l.id);
        return;
      }
      this.memberDown(m, 'restarted');
    }
    const m = new Member(name, l.peerInc, l.peerListen, l.peerKinds, l.peerWeight);
    m.link = l.id;
    m.lastHeard = this.now;
    this.members.set(name, m);
    this.memberList.push(m);
    this.membershipChanged();
    if (m.address.length) {
      // Forget other addresses of this name (an old incarnation may have listened elsewhere).
      const ds = this.dials.values();
      for (let i = 0; i < ds.length; i++) if (ds[i].name == name && ds[i].address != m.address) this.dials.delete(ds[i].address);
      const d = this.dialState(m.address);
      d.name = name; d.resolved = true; d.attempts = 0;
    }
    fxEvent(OE_MEMBER_UP, name, m.address, '', '', <f64>m.inc, 0);
    this.afterConnect(m, l.id);
    // Tell everyone else about the newcomer, so one seed is enough.
    this.encodeMembers();
    this.broadcastFrame();
  }

  /** What a (re)connected member needs: who we know, our desired state, our claims. */
  private afterConnect(m: Member, link: u32): void {
    this.encodeMembers();
    this.flushFrame(link);
    if ((this.bugs & BUG_SKIP_ANTI_ENTROPY) == 0) this.sendSyncReq(link);
    this.sendClaimsFull(link);
    if (this.leaving) this.sendEmpty(link, MSG_LEAVING);
  }

  memberDown(m: Member, reason: string): void {
    if (!this.members.has(m.name) || this.members.get(m.name) != m) return;
    this.members.delete(m.name);
    const idx = this.memberList.indexOf(m);
    if (idx >= 0) this.memberList.splice(idx, 1);
    if (m.link != 0 && this.links.has(m.link)) {
      this.links.delete(m.link);
      fxClose(m.link, reason);
    }
    // Its claims are void: those children may start elsewhere.
    const ids = m.claims.keys();
    for (let i = 0; i < ids.length; i++) this.dirty.add(ids[i]);
    this.membershipChanged();
    fxEvent(OE_MEMBER_DOWN, m.name, reason, '', '', <f64>m.inc, 0);
    if (reason == 'left' && m.address.length && this.dials.has(m.address)) this.dials.delete(m.address);
    if (this.memberList.length == 0) this.resolveAcksAlone();
  }

  private membershipChanged(): void {
    this.candCache.clear();
    this.allDirty = true;
  }

  private encodeMembers(): void {
    const w = this.fw;
    w.reset();
    const at = beginFrame(w, MSG_MEMBERS);
    let n = 0;
    const cAt = w.len;
    w.u32(0);
    if (this.listen.length) { w.str(this.name); w.u64(this.inc); w.str(this.listen); n++; }
    for (let i = 0; i < this.memberList.length; i++) {
      const m = this.memberList[i];
      if (m.address.length == 0) continue;
      w.str(m.name); w.u64(m.inc); w.str(m.address); n++;
    }
    w.patchU32(cAt, <u32>n);
    endFrame(w, at);
  }

  private onMembers(r: Reader): bool {
    const n = r.count(MAX_MEMBERS, 16);
    for (let i = 0; i < n; i++) {
      const name = r.str(MAX_NAME);
      const inc = r.u64();
      const addr = r.str(MAX_ADDRESS);
      if (!r.ok) return false;
      if (name == this.name || addr.length == 0 || addr == this.listen) continue;
      if (this.maxIncSeen.has(name) && inc < this.maxIncSeen.get(name)) continue;
      if (this.members.has(name) && this.members.get(name).inc >= inc) continue;
      const d = this.dialState(addr);
      if (d.name.length == 0) d.name = name;
    }
    return r.remaining == 0;
  }

  /** Eligible owners for a kind: live, not leaving, advertising it. Cached until membership changes. */
  private candidates(kind: string): CandidateSet {
    const at = this.candCache.find(kind);
    if (at >= 0) return this.candCache.valueAt(at);
    const list = new Array<Candidate>();
    if (!this.leaving && !this.left && this.kindSet.has(kind)) list.push(this.selfCand());
    for (let i = 0; i < this.memberList.length; i++) {
      const m = this.memberList[i];
      if (!m.leaving && m.kindSet.has(kind)) list.push(m.cand);
    }
    const set = new CandidateSet(list);
    this.candCache.set(kind, set);
    return set;
  }

  private _selfCand: Candidate | null = null;
  private selfCand(): Candidate {
    let c = this._selfCand;
    if (c == null) { c = new Candidate(this.name, this.cfg.weight); this._selfCand = c; }
    return c;
  }

  /** The owner of a child in this node's view, or '' when no live member can run its kind. */
  owner(id: string, kind: string): string {
    const set = this.candidates(kind);
    const i = placeIn(xxh64String(id, 0), set);
    return i < 0 ? '' : set.cands[i].name;
  }

  private quorumOk(): bool {
    return this.cfg.quorum <= 0 || 1 + this.memberList.length >= this.cfg.quorum;
  }

  /** We know the cluster well enough to start children: every address tried, every member's claims known. */
  ready(): bool {
    return this.notReadyReason().length == 0;
  }

  /** Why this node does not start children yet ('' when it is ready). */
  notReadyReason(): string {
    const ds = this.dials.values();
    for (let i = 0; i < ds.length; i++) if (!ds[i].resolved && !ds[i].self) return 'dialing ' + ds[i].address;
    for (let i = 0; i < this.memberList.length; i++) if (!this.memberList[i].claimsSynced) return 'waiting for the claims of ' + this.memberList[i].name;
    // A link still in its handshake may be a member we do not know yet (its other link may
    // just have been closed as a duplicate); a stalled one times out after failureTimeoutMs.
    const ls = this.links.values();
    for (let i = 0; i < ls.length; i++) if (ls[i].state != L_UP) return 'handshake in progress on link ' + ls[i].id.toString();
    return '';
  }

  // ---- frames from members -------------------------------------------------------------------

  private memberFrame(l: Link, type: u8, r: Reader, reassembled: bool): void {
    if (!this.members.has(l.peerName)) { this.reject(l, FERR_UNEXPECTED); return; }
    const m = this.members.get(l.peerName);
    if (m.inc != l.peerInc && (this.bugs & BUG_IGNORE_INCARNATION) == 0) { this.reject(l, FERR_STALE_INCARNATION); return; }
    m.lastHeard = this.now;
    let ok = true;
    switch (type) {
      case MSG_HEARTBEAT: ok = r.remaining == 0; break;
      case MSG_MEMBERS: ok = this.onMembers(r); break;
      case MSG_DIGEST: {
        const d = r.u64();
        const claimsVersion = r.u64();
        ok = r.ok && r.remaining == 0;
        if (ok && (this.bugs & BUG_SKIP_ANTI_ENTROPY) == 0) this.compareDigest(m, l.id, d);
        // The last claims delta may have been lost (no later delta shows the gap): ask again.
        if (ok && (claimsVersion != m.claimsVersion || !m.claimsSynced)) { m.awaitingFull = true; this.sendEmpty(l.id, MSG_CLAIMS_REQ); }
        break;
      }
      case MSG_SYNC_REQ: ok = this.onSyncReq(l.id, r); break;
      case MSG_DELTA: ok = this.onDelta(l.id, r); break;
      case MSG_ACK: ok = this.onAck(r); break;
      case MSG_CLAIMS: ok = this.onClaims(m, l.id, r); break;
      case MSG_CLAIMS_REQ: ok = r.remaining == 0; if (ok) this.sendClaimsFull(l.id); break;
      case MSG_LEAVING:
        ok = r.remaining == 0;
        if (ok && !m.leaving) { m.leaving = true; this.membershipChanged(); }
        break;
      case MSG_BYE: ok = r.remaining == 0; if (ok) this.memberDown(m, 'left'); return;
      case MSG_FRAGMENT: {
        if (reassembled) { this.reject(l, FERR_UNEXPECTED); return; }
        const more = r.u8();
        if (!r.ok) { ok = false; break; }
        let buf = l.reasm;
        if (buf == null) { buf = new Writer(FRAGMENT_BYTES * 2); l.reasm = buf; }
        if (buf.len + r.remaining > MAX_MESSAGE_BYTES) { l.reasm = null; this.reject(l, FERR_OVERSIZED); return; }
        buf.raw(r.ptr + <usize>r.pos, r.remaining);
        if (more == 0) {
          l.reasm = null;
          const rr = new Reader(buf.buf.dataStart, buf.len);
          const t = checkFrame(rr, MAX_MESSAGE_BYTES);
          if (t < 0) { this.reject(l, -t); return; }
          this.memberFrame(l, <u8>t, rr, true);
        }
        return;
      }
      default: this.reject(l, FERR_UNEXPECTED); return;
    }
    if (!ok || !r.ok) this.reject(l, FERR_MALFORMED);
  }

  // ---- desired children: sync ------------------------------------------------------------------

  private sendSyncReq(link: u32): void {
    const w = this.fw;
    w.reset();
    const at = beginFrame(w, MSG_SYNC_REQ);
    this.desired.encodeSyncReq(w);
    endFrame(w, at);
    this.flushFrame(link);
  }

  /**
   * Anti-entropy when a peer's digest differs from ours. Not at the first difference: during a
   * burst (100,000 starts) deltas from a third node are still on their way and digests differ
   * at every sync, and each SYNC_REQ answer carries every live dot. A difference that stays
   * while neither digest moves is real; one that lasts DIGEST_PATIENCE syncs is treated as real.
   */
  private compareDigest(m: Member, link: u32, theirs: u64): void {
    const mine = this.desired.digest();
    if (theirs == mine) m.digestMisses = 0;
    else {
      m.digestMisses++;
      const still = theirs == m.peerDigest && mine == m.myDigestThen;
      if (still || m.digestMisses >= DIGEST_PATIENCE) { m.digestMisses = 0; this.sendSyncReq(link); }
    }
    m.peerDigest = theirs;
    m.myDigestThen = mine;
  }

  private onSyncReq(link: u32, r: Reader): bool {
    const d = new Delta();
    const send = this.desired.answerSyncReq(r, d);
    if (!r.ok || r.remaining != 0) return false;
    // Ask again for acks of anything still waiting: the original delta may have been lost.
    const ks = this.ackWaits.keys();
    for (let i = 0; i < ks.length; i++) d.acks.push(ks[i]);
    if (!send && d.acks.length == 0) return true;
    const w = this.fw;
    w.reset();
    const at = beginFrame(w, MSG_DELTA);
    this.desired.encodeDelta(w, d, true);
    endFrame(w, at);
    this.flushFrame(link);
    return true;
  }

  private onDelta(link: u32, r: Reader): bool {
    const res = this.desired.mergeDelta(r);
    if (!r.ok || r.remaining != 0) return false;
    for (let i = 0; i < res.changed.length; i++) this.dirty.add(res.changed[i]);
    // Acknowledge the dots we now hold.
    let n = 0;
    for (let i = 0; i < res.acks.length; i++) {
      const k = res.acks[i];
      if (this.desired.ctx.has(dotRep(k), dotCtr(k))) n++;
    }
    if (n > 0) {
      const w = this.fw;
      w.reset();
      const at = beginFrame(w, MSG_ACK);
      const reps = this.desired.replicas.list;
      w.u32(<u32>n);
      for (let i = 0; i < res.acks.length; i++) {
        const k = res.acks[i];
        if (!this.desired.ctx.has(dotRep(k), dotCtr(k))) continue;
        const rep = reps[dotRep(k)];
        w.str(rep.name);
        w.u64(rep.inc);
        w.u64(dotCtr(k));
      }
      endFrame(w, at);
      this.flushFrame(link);
    }
    return true;
  }

  private onAck(r: Reader): bool {
    const n = r.count(1 << 24, 20);
    for (let i = 0; i < n; i++) {
      // Acks of a 100k burst come by the hundred thousand: compare the name in place.
      const mine = r.strIs(MAX_NAME, this.nameUtf8);
      const inc = r.u64();
      const ctr = r.u64();
      if (!r.ok) return false;
      if (!mine || inc != this.inc) continue;
      const k = dotKey(this.desired.myRep, ctr);
      if (this.ackWaits.has(k)) {
        const wt = this.ackWaits.get(k);
        this.ackWaits.delete(k);
        this.acked(wt);
      }
    }
    return r.remaining == 0;
  }

  /** A change is held by a second member (or we are alone): reply, or wait for running/stopped. */
  private acked(wt: Waiter): void {
    if (wt.wait == WAIT_ACK) { fxReply(wt.req, R_OK, '', ''); return; }
    if (!this.doneWaits.has(wt.id)) this.doneWaits.set(wt.id, []);
    this.doneWaits.get(wt.id).push(wt);
    this.dirty.add(wt.id);
  }

  private resolveAcksAlone(): void {
    const vs = this.ackWaits.values();
    this.ackWaits.clear();
    for (let i = 0; i < vs.length; i++) this.acked(vs[i]);
  }

  /**
   * Fix (simulator seed 5459): an ACK lost on the way (or a DELTA lost when both sides still
   * reach the same state by other ops) left the request waiting for ever, since equal digests
   * start no anti-entropy. Every sync interval, ops waiting longer than that are asked again
   * with an empty DELTA whose ack list names them.
   */
  private reaskAcks(): void {
    if (this.ackWaits.size == 0) return;
    const ks = this.ackWaits.keys();
    const p = this.pendingDelta;
    // Oldest first (insertion order), a bounded number per interval.
    for (let i = 0, n = 0; i < ks.length && n < REASK_ACKS_MAX; i++) {
      if (this.now - this.ackWaits.get(ks[i]).since >= <i64>this.cfg.syncIntervalMs) { p.acks.push(ks[i]); n++; }
    }
  }

  /** Queues a local op for the next delta flush; the op's dot is acknowledged by peers. */
  private opDone(dot: u64, wt: Waiter | null): void {
    if (wt == null) return;
    if (this.memberList.length == 0) { this.acked(wt); return; }
    wt.since = this.now;
    this.ackWaits.set(dot, wt);
    this.pendingDelta.acks.push(dot);
  }

  private flushDelta(): void {
    const p = this.pendingDelta;
    if (p.empty && p.acks.length == 0) return;
    // An entry superseded within the same batch is not sent.
    if (p.removed.length > 0 && p.entries.length > 0) {
      const live = new Array<Entry>();
      for (let i = 0; i < p.entries.length; i++) {
        const e = p.entries[i];
        if (this.desired.byDot.has(dotKey(e.rep, e.ctr))) live.push(e);
      }
      p.entries = live;
    }
    if (this.memberList.length > 0) {
      const w = this.fw;
      w.reset();
      const at = beginFrame(w, MSG_DELTA);
      this.desired.encodeDelta(w, p, false);
      endFrame(w, at);
      this.broadcastFrame();
    }
    p.clear();
  }

  // ---- claims ----------------------------------------------------------------------------------

  private setClaim(id: string, epoch: u32, status: u8, restarts: u32): void {
    const c = new Claim(id, epoch, status, restarts);
    this.myClaims.set(id, c);
    this.claimChanges.push(c);
    this.noteRunner(id, this.name);
  }

  private releaseClaim(id: string): void {
    if (!this.myClaims.has(id)) return;
    this.myClaims.delete(id);
    this.claimChanges.push(new Claim(id, 0, C_RELEASED, 0));
    this.dirty.add(id);
  }

  private noteRunner(id: string, node: string): void {
    const at = this.lastRunner.find(id);
    if (at >= 0) {
      const prev = this.lastRunner.valueAt(at);
      if (prev == node) return;
      fxEvent(OE_CHILD_MOVED, id, prev, node, '', 0, 0);
    }
    this.lastRunner.set(id, node);
  }

  private encodeClaim(w: Writer, c: Claim): void {
    w.str(c.id);
    w.u8(c.status);
    w.u32(c.epoch);
    w.u32(c.restarts);
  }

  private sendClaimsFull(link: u32): void {
    const w = this.fw;
    w.reset();
    const at = beginFrame(w, MSG_CLAIMS);
    w.u8(1);
    w.u64(0);
    w.u64(this.myClaimsVersion);
    const cs = this.myClaims.values();
    w.u32(<u32>cs.length);
    for (let i = 0; i < cs.length; i++) this.encodeClaim(w, cs[i]);
    endFrame(w, at);
    this.flushFrame(link);
  }

  private flushClaims(): void {
    if (this.claimChanges.length == 0) return;
    const base = this.myClaimsVersion;
    this.myClaimsVersion++;
    if (this.memberList.length > 0) {
      const w = this.fw;
      w.reset();
      const at = beginFrame(w, MSG_CLAIMS);
      w.u8(0);
      w.u64(base);
      w.u64(this.myClaimsVersion);
      w.u32(<u32>this.claimChanges.length);
      for (let i = 0; i < this.claimChanges.length; i++) this.encodeClaim(w, this.claimChanges[i]);
      endFrame(w, at);
      this.broadcastFrame();
    }
    this.claimChanges = [];
  }

  private onClaims(m: Member, link: u32, r: Reader): bool {
    const full = r.bool();
    const base = r.u64();
    const version = r.u64();
    const n = r.count(1 << 24, 13);
    const list = new Array<Claim>();
    for (let i = 0; i < n; i++) {
      const id = r.str(MAX_ID);
      const status = r.u8();
      const epoch = r.u32();
      const restarts = r.u32();
      if (!r.ok) return false;
      if (status > C_RESTARTING || id.length == 0) return false;
      list.push(new Claim(id, epoch, status, restarts));
    }
    if (r.remaining != 0) return false;
    if (full) {
      const old = m.claims.keys();
      for (let i = 0; i < old.length; i++) this.dirty.add(old[i]);
      m.claims.clear();
      for (let i = 0; i < list.length; i++) this.applyClaim(m, list[i]);
      m.claimsVersion = version;
      m.awaitingFull = false;
      if (!m.claimsSynced) { m.claimsSynced = true; this.allDirty = true; }
      return true;
    }
    if (base != m.claimsVersion || m.awaitingFull) {
      // A gap (lost or reordered delta): ask for the full set once.
      if (!m.awaitingFull) { m.awaitingFull = true; this.sendEmpty(link, MSG_CLAIMS_REQ); }
      return true;
    }
    for (let i = 0; i < list.length; i++) this.applyClaim(m, list[i]);
    m.claimsVersion = version;
    return true;
  }

  private applyClaim(m: Member, c: Claim): void {
    // Only a release can let this node start the child, and only waiters watch the others'
    // claims otherwise; reconciling on every starting/running claim of a 100k burst was
    // wasted work on every node.
    if (c.status == C_RELEASED || this.doneWaits.has(c.id)) this.dirty.add(c.id);
    if (c.status == C_RELEASED) { if (m.claims.has(c.id)) m.claims.delete(c.id); return; }
    m.claims.set(c.id, c);
    this.noteRunner(c.id, m.name);
  }

  /** Some other live member claims this child. */
  private claimedByOther(id: string): bool {
    for (let i = 0; i < this.memberList.length; i++) if (this.memberList[i].claims.has(id)) return true;
    return false;
  }

  private runningSomewhere(id: string): bool {
    if (this.locals.has(id) && this.locals.get(id).state == S_RUNNING) return true;
    for (let i = 0; i < this.memberList.length; i++) {
      const cs = this.memberList[i].claims;
      if (cs.has(id) && cs.get(id).status == C_RUNNING) return true;
    }
    return false;
  }

  // ---- local supervision -------------------------------------------------------------------------

  private startLocal(id: string, spec: Spec, lc: LocalChild | null): void {
    let c: LocalChild;
    if (lc == null) { c = new LocalChild(id, spec); this.locals.set(id, c); }
    else { c = lc; c.spec = spec; }
    this.backoffIds.delete(id);
    this.epochCounter++;
    c.epoch = this.epochCounter;
    c.state = S_STARTING;
    this.actions++;
    this.setClaim(id, c.epoch, C_STARTING, c.restarts);
    fxRun(id, c.epoch, spec.kind, spec.args);
  }

  private stopLocal(c: LocalChild, why: u8): void {
    if (c.state == S_STOPPING) return;
    if (c.state == S_BACKOFF) { this.dropLocal(c); return; }
    c.state = S_STOPPING;
    c.why = why;
    this.actions++;
    this.setClaim(c.id, c.epoch, C_STOPPING, c.restarts);
    fxEvent(OE_CHILD_STOPPING, c.id, whyName(why), '', '', <f64>c.epoch, 0);
    fxStop(c.id, c.epoch, c.spec.shutdownMs);
  }

  private dropLocal(c: LocalChild): void {
    this.locals.delete(c.id);
    this.backoffIds.delete(c.id);
    this.releaseClaim(c.id);
  }

  childStarted(id: string, epoch: u32): void {
    const at = this.locals.find(id);
    if (at < 0) return;
    const c = this.locals.valueAt(at);
    if (c.epoch != epoch) return;
    if (c.state == S_STARTING) {
      c.state = S_RUNNING;
      this.setClaim(id, epoch, C_RUNNING, c.restarts);
    }
    fxEvent(OE_CHILD_STARTED, id, c.spec.kind, '', '', <f64>epoch, <f64>c.restarts);
    // Nothing to decide for a child that just started, unless a request waits for it to run.
    if (this.doneWaits.has(id)) this.dirty.add(id);
  }

  /** An exit or a failed start of a local child. `reason` is an EXIT_* code, or 255 for a start failure. */
  childEnded(id: string, epoch: u32, reason: u8, errName: string, errMsg: string): void {
    if (!this.locals.has(id)) return;
    const c = this.locals.get(id);
    if (c.epoch != epoch || c.exitPending) return;
    fxEvent(OE_CHILD_EXITED, id, exitName(reason), errName, errMsg, <f64>epoch, 0);
    if (c.state == S_STOPPING) { this.dropLocal(c); return; }
    // Fix (simulator seed 4614): the restart decision waits for the end of the step. Hosts
    // feed runner reports first and the batch's tick last, so `now` here is still the time of
    // the previous batch; exits stamped with it were counted against the restart intensity
    // with times up to a whole batch gap too early (two exits 2674 ms apart looked 2.7 s
    // apart to a 2691 ms window and the child restarted instead of failing).
    c.exitPending = true;
    c.exitReason = reason;
    this.endedIds.push(id);
  }

  /** Decides the exits of this step, at the step's time: restart (with backoff), fail or drop. */
  private decideExits(): void {
    if (this.endedIds.length == 0) return;
    const ids = this.endedIds;
    this.endedIds = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!this.locals.has(id)) continue;
      const c = this.locals.get(id);
      if (!c.exitPending) continue;
      c.exitPending = false;
      this.decideExit(c, c.exitReason);
    }
  }

  private decideExit(c: LocalChild, reason: u8): void {
    const id = c.id;
    const reasonName = exitName(reason);
    const spec = c.spec;
    const abnormal = reason != EXIT_NORMAL;
    const restart = spec.restart == RESTART_PERMANENT || (spec.restart == RESTART_TRANSIENT && abnormal);
    if (!restart) {
      // The child is done: it leaves the desired set (OTP drops temporary/transient children that end).
      this.dropLocal(c);
      const e = this.desired.get(id);
      if (e != null && e.spec.sameAs(spec)) this.desired.remove(id, this.pendingDelta);
      this.dirty.add(id);
      return;
    }
    // Restart intensity: more than maxRestarts within periodMs means failed.
    const window = <i64>spec.periodMs;
    const recent = new Array<i64>();
    for (let i = 0; i < c.recent.length; i++) if (this.now - c.recent[i] < window) recent.push(c.recent[i]);
    recent.push(this.now);
    c.recent = recent;
    if (<u32>recent.length > spec.maxRestarts) {
      this.dropLocal(c);
      fxEvent(OE_CHILD_FAILED, id, reasonName, '', '', <f64>c.restarts, 0);
      const e = this.desired.get(id);
      if (e != null && !e.spec.failed) {
        // The mark names the entry it marks, so it cannot outlive a terminate of that entry.
        this.desired.add(e.spec.withFailed(true), this.pendingDelta, dotKey(e.rep, e.ctr));
      }
      this.dirty.add(id);
      return;
    }
    c.restarts++;
    c.state = S_BACKOFF;
    let delay: i64 = 0;
    if (recent.length > 1) {
      delay = this.cfg.backoffBaseMs;
      for (let i = 2; i < recent.length && delay < this.cfg.backoffMaxMs; i++) delay <<= 1;
      if (delay > this.cfg.backoffMaxMs) delay = this.cfg.backoffMaxMs;
    }
    c.nextStartAt = this.now + delay;
    this.backoffIds.add(id);
    this.setClaim(id, c.epoch, C_RESTARTING, c.restarts);
    fxEvent(OE_CHILD_RESTARTING, id, reasonName, '', '', <f64>c.restarts, <f64>delay);
    this.dirty.add(id);
  }

  // ---- reconcile ---------------------------------------------------------------------------------

  private reconcile(id: string, ready: bool): void {
    const e = this.desired.get(id);
    const lat = this.locals.find(id);
    const c: LocalChild | null = lat >= 0 ? this.locals.valueAt(lat) : null;
    if (e == null || e.spec.failed) {
      if (c != null) this.stopLocal(c, WHY_TERMINATED);
      this.checkWaiters(id, e == null ? 0 : 2);
      return;
    }
    const spec = e.spec;
    const quorum = this.quorumOk();
    const mine = !this.leaving && !this.left && quorum && this.owner(id, spec.kind) == this.name;
    if (c != null) {
      if (!mine) {
        this.stopLocal(c, this.leaving || this.left ? WHY_LEAVING : !quorum ? WHY_QUORUM : WHY_MOVED);
      } else if (!c.spec.sameAs(spec)) {
        // The child was terminated and started again with another spec while this instance
        // ran (e.g. across a partition): replace it; the new spec starts once it has stopped.
        this.stopLocal(c, WHY_TERMINATED);
      } else if (c.state == S_BACKOFF && this.now >= c.nextStartAt) {
        this.startLocal(id, spec, c);
      }
    } else if (mine && ready && (!this.claimedByOther(id) || (this.bugs & BUG_START_WITHOUT_RELEASE) != 0)) {
      this.startLocal(id, spec, null);
    }
    this.checkWaiters(id, 1);
  }

  /** state: 0 = not desired, 1 = desired, 2 = failed. */
  private checkWaiters(id: string, state: i32): void {
    if (!this.doneWaits.has(id)) return;
    const ws = this.doneWaits.get(id);
    const keep = new Array<Waiter>();
    for (let i = 0; i < ws.length; i++) {
      const wt = ws[i];
      if (wt.start) {
        if (state == 2) fxReply(wt.req, R_CHILD_FAILED, 'id', 'child ' + id + ' failed: restart intensity exceeded');
        else if (state == 0) fxReply(wt.req, R_NOT_FOUND, 'id', 'child ' + id + ' is no longer desired');
        else if (this.runningSomewhere(id)) fxReply(wt.req, R_OK, '', '');
        else keep.push(wt);
      } else {
        if (!this.locals.has(id) && !this.claimedByOther(id)) fxReply(wt.req, R_OK, '', '');
        else keep.push(wt);
      }
    }
    if (keep.length == 0) this.doneWaits.delete(id);
    else this.doneWaits.set(id, keep);
  }

  private reconcileAll(): void {
    const ready = this.ready();
    if (ready && !this.wasReady) this.allDirty = true;
    this.wasReady = ready;
    this.actions = 0;
    if (this.allDirty) {
      // Everything is looked at again; the budgeted loop below works through it.
      this.allDirty = false;
      const ids = this.desired.store.keys();
      for (let i = 0; i < ids.length; i++) this.dirty.add(ids[i]);
      const lids = this.locals.keys();
      for (let i = 0; i < lids.length; i++) this.dirty.add(lids[i]);
      const wids = this.doneWaits.keys();
      for (let i = 0; i < wids.length; i++) this.dirty.add(wids[i]);
    }
    // Work through the dirty ids in order (reconcile may dirty more: releases) until none is
    // left or this step has started or stopped RECONCILE_BUDGET children; the rest waits for
    // the next step, which scheduleWake asks for at once.
    // The guard bounds a step even if some id kept dirtying itself without an action.
    let guard = this.dirty.size * 2 + 16;
    while (this.dirty.size > 0 && this.actions < RECONCILE_BUDGET && guard-- > 0) this.reconcile(this.dirty.take(), ready);
  }

  // ---- API requests ----------------------------------------------------------------------------

  startChild(req: u32, wait: u8, r: Reader): void {
    const res = readSpecFromApi(r);
    if (!this.initialised || this.leaving || this.left) { fxReply(req, R_NOT_RUNNING, '', 'node is not running'); return; }
    const spec = res.spec;
    if (spec == null) { fxReply(req, R_INVALID_SPEC, res.field, res.message); return; }
    const e = this.desired.get(spec.id);
    if (e != null && !e.spec.failed) {
      if (!e.spec.sameAs(spec)) {
        fxReply(req, R_ALREADY_STARTED, 'id', 'child ' + spec.id + ' already exists with a different spec');
        return;
      }
      // Same spec: idempotent. Still honour the wait mode.
      const wt = new Waiter(req, spec.id, true, wait);
      this.acked(wt);
      return;
    }
    // Local ops write straight into the delta flushed at the end of the step.
    const dot = this.desired.add(spec, this.pendingDelta);
    this.dirty.add(spec.id);
    this.opDone(dot, new Waiter(req, spec.id, true, wait));
  }

  terminateChild(req: u32, wait: u8, id: string): void {
    if (!this.initialised || this.left) { fxReply(req, R_NOT_RUNNING, '', 'node is not running'); return; }
    if (!this.desired.store.has(id)) {
      fxReply(req, R_NOT_FOUND, 'id', 'no child with id ' + id);
      return;
    }
    const dot = this.desired.remove(id, this.pendingDelta);
    this.dirty.add(id);
    this.opDone(dot, new Waiter(req, id, false, wait));
  }

  leave(req: u32): void {
    if (!this.initialised || this.left) { fxReply(req, R_OK, '', ''); return; }
    this.leaveReqs.push(req);
    if (this.leaving) return;
    this.leaving = true;
    this.sendEmptyAll(MSG_LEAVING);
    this.membershipChanged();
  }

  private sendEmptyAll(type: u8): void {
    this.fw.reset();
    const at = beginFrame(this.fw, type);
    endFrame(this.fw, at);
    this.broadcastFrame();
  }

  private checkLeft(): void {
    if (!this.leaving || this.left || this.locals.size > 0 || this.claimChanges.length > 0) return;
    // Everything handed over: say goodbye, answer the leave requests.
    this.sendEmptyAll(MSG_BYE);
    this.left = true;
    for (let i = 0; i < this.leaveReqs.length; i++) fxReply(this.leaveReqs[i], R_OK, '', '');
    this.leaveReqs = [];
    fxEvent(OE_LEFT, this.name, '', '', '', <f64>this.inc, 0);
  }

  // ---- time ------------------------------------------------------------------------------------

  tick(nowMs: i64): void {
    if (nowMs < this.now) return; // time never runs backwards here
    const gap = this.lastTick < 0 ? 0 : nowMs - this.lastTick;
    this.now = nowMs;
    this.lastTick = nowMs;
    if (!this.initialised) return;
    // We were paused (no ticks for longer than half the failure timeout): we cannot judge
    // others by silence we did not observe, so give every member a fresh window.
    if (gap > this.cfg.failureTimeoutMs / 2) {
      for (let i = 0; i < this.memberList.length; i++) this.memberList[i].lastHeard += gap;
      const ls = this.links.values();
      for (let i = 0; i < ls.length; i++) ls[i].openedAt += gap;
    }
    // Failure detection.
    const ms = this.memberList.slice(0);
    for (let i = 0; i < ms.length; i++) {
      if (this.now - ms[i].lastHeard > this.cfg.failureTimeoutMs) this.memberDown(ms[i], 'timeout');
    }
    const ls = this.links.values();
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i];
      if (l.state != L_UP && this.now - l.openedAt > this.cfg.failureTimeoutMs) {
        this.rejected[0]++;
        fxClose(l.id, 'handshake_timeout');
        this.linkClosed(l.id);
      }
    }
    if (this.now >= this.nextHeartbeat) {
      this.nextHeartbeat = this.now + this.cfg.heartbeatMs;
      this.sendEmptyAll(MSG_HEARTBEAT);
    }
    if (this.now >= this.nextSync) {
      this.nextSync = this.now + this.cfg.syncIntervalMs;
      if (this.memberList.length > 0 && (this.bugs & BUG_SKIP_ANTI_ENTROPY) == 0) {
        this.fw.reset();
        const at = beginFrame(this.fw, MSG_DIGEST);
        this.fw.u64(this.desired.digest());
        this.fw.u64(this.myClaimsVersion);
        endFrame(this.fw, at);
        this.broadcastFrame();
        // Gossip who we know with every sync, so a MEMBERS lost on a flapping link is repaired.
        this.encodeMembers();
        this.broadcastFrame();
        this.reaskAcks();
      }
    }
    // Dials: seeds, gossiped members, members we lost the link to.
    const ds = this.dials.values();
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i];
      if (d.inFlight || d.self || this.now < d.nextAt) continue;
      if (d.name.length && this.members.has(d.name) && this.members.get(d.name).link != 0) continue;
      d.inFlight = true;
      d.nextAt = this.now + this.backoff(d.attempts + 1);
      fxDial(d.address);
    }
    const bs = this.backoffIds.values();
    for (let i = 0; i < bs.length; i++) {
      if (this.locals.has(bs[i]) && this.locals.get(bs[i]).nextStartAt <= this.now) this.dirty.add(bs[i]);
    }
  }

  /** End of every step: decide, then flush what was decided. */
  endStep(): void {
    if (!this.initialised) return;
    if (!this.quorumOk() && this.locals.size > 0) this.allDirty = true;
    this.decideExits();
    this.reconcileAll();
    this.flushDelta();
    this.flushClaims();
    this.checkLeft();
    this.scheduleWake();
  }

  private scheduleWake(): void {
    let at = this.nextHeartbeat;
    if (this.nextSync < at) at = this.nextSync;
    for (let i = 0; i < this.memberList.length; i++) {
      const t = this.memberList[i].lastHeard + this.cfg.failureTimeoutMs + 1;
      if (t < at) at = t;
    }
    const ls = this.links.values();
    for (let i = 0; i < ls.length; i++) {
      if (ls[i].state != L_UP) { const t = ls[i].openedAt + this.cfg.failureTimeoutMs + 1; if (t < at) at = t; }
    }
    const ds = this.dials.values();
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i];
      if (d.inFlight || d.self) continue;
      if (d.name.length && this.members.has(d.name) && this.members.get(d.name).link != 0) continue;
      if (d.nextAt < at) at = d.nextAt;
    }
    const bs = this.backoffIds.values();
    for (let i = 0; i < bs.length; i++) {
      if (this.locals.has(bs[i])) { const t = this.locals.get(bs[i]).nextStartAt; if (t < at) at = t; }
    }
    // Reconcile work left over by the budget: come back at once (after the host's I/O).
    if (this.dirty.size > 0) at = this.now;
    if (at <= this.now) at = this.now + 1;
    if (at != this.lastWake) { this.lastWake = at; fxWake(at); }
  }
}

function exitName(reason: u8): string {
  return reason == 255 ? 'start_failed' : reason == EXIT_NORMAL ? 'normal' : reason == EXIT_SHUTDOWN ? 'shutdown' : reason == EXIT_KILLED ? 'killed' : 'crash';
}
