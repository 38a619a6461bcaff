// Codec probes (testing builds only): run one frame through a node's real decoders and report
// whether it was accepted or how it was rejected. Two separate nodes, sharing no state with the
// main node:
// - the "fuzz node" has one authenticated peer; its link is up with the tag already checked, so
//   every frame reaches the member decoders (tags are tested in session-crypto and security tests);
// - the "handshake node" holds a secret and gets each frame on a fresh inbound link, as a
//   stranger's first frame: the handshake decoders.
// `fuzzDigest` sums up everything a frame could change, so a test can prove that a rejected frame
// changed nothing. Used by the fuzz tests and the fuzz benchmark.

import { Node } from './node';
import { Link, L_UP, Member } from './model';
import { out } from './effects';
import { inputBuffer } from './exports';
import { FERR_OK, FERR_COUNT, AUTH_SECRET } from './boundary';
import { stateDigest } from './queries';
import { clusterKey } from './credential';
import { mix64, xxh64String } from './hash';

let fuzz: Node | null = null;
let shake: Node | null = null;
const FUZZ_LINK: u32 = 1;
let shakeLink: u32 = 1;

function peerLink(n: Node): void {
  if (n.links.has(FUZZ_LINK) && n.members.has('peer')) return;
  // A rejected frame closed the link (the member stays, as after any link failure): open it again.
  const l = new Link(FUZZ_LINK, false, 'fuzz://peer', new Uint8Array(16), n.now);
  l.state = L_UP;
  l.peerName = 'peer';
  l.peerInc = 1;
  n.links.set(FUZZ_LINK, l);
  if (!n.members.has('peer')) {
    const m = new Member('peer', 1, 'fuzz://peer', ['worker'], 1);
    m.claimsSynced = true;
    n.members.add(m);
  }
  n.members.get('peer').link = FUZZ_LINK;
}

function newNode(name: string): Node {
  const n = new Node();
  n.name = name;
  n.nameUtf8 = Uint8Array.wrap(String.UTF8.encode(name));
  n.inc = 1;
  n.scope = 'fuzz';
  // It advertises no kind, so it owns nothing: what changes its state is the frames, never a start.
  n.desired.init(name, 1);
  n.initialised = true;
  return n;
}

function fuzzNode(): Node {
  if (fuzz == null) fuzz = newNode('fuzz');
  return <Node>fuzz;
}

function handshakeNode(): Node {
  if (shake == null) {
    const n = newNode('member');
    n.auth = AUTH_SECRET;
    n.secret = Uint8Array.wrap(String.UTF8.encode('fuzz secret'));
    n.clusterKey = clusterKey(n.secret, n.scope);
    shake = n;
  }
  return <Node>shake;
}

/** The FERR_* code whose counter moved since `before`, or FERR_OK. */
function rejectedSince(n: Node, before: StaticArray<u32>): i32 {
  for (let i = 0; i < FERR_COUNT; i++) if (n.rejectedCount(i) != before[i]) return i;
  return FERR_OK;
}

const before = new StaticArray<u32>(FERR_COUNT);
function snapshotCounters(n: Node): void {
  for (let i = 0; i < FERR_COUNT; i++) before[i] = n.rejectedCount(i);
}

/**
 * Feeds the `len` bytes at the input buffer to the fuzz node as a frame from its peer.
 * Returns 0 if accepted, else the FERR_* code it was rejected with (counted per reason).
 */
export function fuzzFrame(len: i32): i32 {
  const n = fuzzNode();
  peerLink(n);
  snapshotCounters(n);
  n.frame(FUZZ_LINK, inputBuffer(len), len);
  n.endStep();
  out.reset();
  return rejectedSince(n, before);
}

/**
 * Feeds the input as the first frame of a fresh inbound link to the handshake node, then closes
 * the link. Returns 0 if accepted (a valid HELLO from a stranger), else the FERR_* code.
 */
export function fuzzHandshake(len: i32): i32 {
  const n = handshakeNode();
  const id = shakeLink++;
  n.linkOpened(id, false, 'fuzz://stranger', new Uint8Array(16));
  snapshotCounters(n);
  n.frame(id, inputBuffer(len), len);
  n.linkClosed(id);
  n.endStep();
  out.reset();
  return rejectedSince(n, before);
}

/** Number of children the fuzz node holds (frames that decode may add some). */
export function fuzzDesiredCount(): i32 {
  return fuzzNode().desired.size;
}

/**
 * A digest of everything a frame can change on the fuzz node (0) or the handshake node (1):
 * desired map and claims, replicas, members and their state, addresses to dial, open links,
 * acknowledgements waited for. Equal before and after a rejected frame.
 */
export function fuzzDigest(which: i32): u64 {
  const n = which == 0 ? fuzzNode() : handshakeNode();
  if (which == 0) peerLink(n); // as every fuzzFrame finds it
  let h = stateDigest(n);
  h = mix64(h ^ <u64>n.desired.replicas.list.length);
  h = mix64(h ^ <u64>n.dials.values().length);
  h = mix64(h ^ <u64>n.ackWaits.size ^ (<u64>n.termWaits.size << 32));
  h = mix64(h ^ <u64>n.desired.ctx.maxes.length);
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    h = mix64(h ^ xxh64String(m.name, 0) ^ m.inc);
    h = mix64(h ^ m.claimsVersion ^ (m.leaving ? 1 : 0) ^ (m.claimsSynced ? 2 : 0) ^ (m.awaitingFull ? 4 : 0));
    h = mix64(h ^ <u64>m.claims.size);
  }
  // A handshake leaves no link behind (the fuzz node's own link closes with any rejected frame).
  if (which != 0) h = mix64(h ^ <u64>n.links.size);
  return h;
}
