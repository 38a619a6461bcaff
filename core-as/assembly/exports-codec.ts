// Codec probes (testing builds only): run one frame through a node's real decoders, on a separate "fuzz node"
// that has one authenticated peer, and report whether it was accepted or how it was rejected.
// Used by the fuzz tests and the decoder benchmark; it shares no state with the main node.

import { Node } from './node';
import { Link, L_UP, Member } from './model';
import { out } from './effects';
import { inputBuffer } from './exports';
import { FERR_OK, FERR_COUNT } from './boundary';
import { memberDown } from './membership';

let fuzz: Node | null = null;
const FUZZ_LINK: u32 = 1;

function peerLink(n: Node): void {
  if (n.links.has(FUZZ_LINK) && n.members.has('peer')) return;
  // Reset the peer completely: a rejected frame closes its link and may have dropped it.
  if (n.members.has('peer')) memberDown(n, n.members.get('peer'), 'reset');
  const l = new Link(FUZZ_LINK, false, 'fuzz://peer', new Uint8Array(16), n.now);
  l.state = L_UP;
  l.gotHello = true;
  l.peerName = 'peer';
  l.peerInc = 1;
  n.links.set(FUZZ_LINK, l);
  const m = new Member('peer', 1, 'fuzz://peer', ['worker'], 1);
  m.link = FUZZ_LINK;
  m.claimsSynced = true;
  n.members.add(m);
}

function fuzzNode(): Node {
  let n = fuzz;
  if (n == null) {
    n = new Node();
    n.name = 'fuzz';
    n.inc = 1;
    n.scope = 'fuzz';
    n.kinds = ['worker'];
    n.kindSet.add('worker');
    n.desired.init('fuzz', 1);
    n.initialised = true;
    fuzz = n;
  }
  return n;
}

/**
 * Feeds the `len` bytes at the input buffer to the fuzz node as a frame from its peer.
 * Returns 0 if accepted, else the FERR_* code it was rejected with (counted per reason).
 */
export function fuzzFrame(len: i32): i32 {
  const n = fuzzNode();
  peerLink(n);
  const before = new StaticArray<u32>(FERR_COUNT);
  for (let i = 0; i < FERR_COUNT; i++) before[i] = n.rejectedCount(i);
  n.frame(FUZZ_LINK, inputBuffer(len), len);
  n.endStep();
  out.reset();
  for (let i = 0; i < FERR_COUNT; i++) if (n.rejectedCount(i) != before[i]) return i;
  return FERR_OK;
}

/** Number of children the fuzz node holds (frames that decode may add some). */
export function fuzzDesiredCount(): i32 {
  return fuzzNode().desired.size;
}
