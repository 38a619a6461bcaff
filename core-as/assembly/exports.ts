// The core's Wasm entry points: one step call per batch of events, and queries.
//
// The host asks for an input buffer of the size it needs (`inputBuffer`), writes a batch of
// event records there, calls `step(len)`, and reads the effect batch at `outputPtr()` /
// `step`'s return value. One core instance = one node.

import { Reader } from './io';
import {
  EV_INIT, EV_LINK_OPENED, EV_LINK_OPENED_WATCHED, EV_FRAME, EV_LINK_CLOSED, EV_DIAL_FAILED, EV_TICK, EV_START_CHILD,
  EV_TERMINATE_CHILD, EV_LEAVE, EV_CHILD_STARTED, EV_CHILD_EXITED, EV_CHILD_START_FAILED,
  EV_PLANT_BUGS, EV_ADD_SEEDS, EV_CHILD_UNRESPONSIVE, EV_RENEW_CREDENTIAL, EV_MESSAGE_SEND, EV_MESSAGE_REPLY, EV_MESSAGE_CONFIG, EV_CORDON, EV_SET_WEIGHT, R_INVALID_SPEC, EV_STATE_CONFIG, EV_CHILD_STATE, EV_CHECKPOINT, EV_HEARD, EV_PAIR_KEY, EV_PAIR_KEY_RELAY, AUTH_CREDENTIAL, BUG_TERMINATE_LOSES, DIAL_FAILED_REFUSED, EXIT_KILLED, EXIT_CRASH, EXIT_START_FAILED,
} from './boundary';
import { writeGroupMembers } from './groups';
import {
  GROUP_NAME_BYTES_MAX, ADDRESS_BYTES_MAX, MEMBERS_MAX, ID_BYTES_MAX, API_ID_BYTES_MAX, ERROR_TEXT_BYTES_MAX, NONCE_BYTES, IO_BUFFER_BYTES, NAME_BYTES_MAX,
  KINDS_MAX, KIND_BYTES_MAX,
} from './limits';
import { renewCredential } from './renewal';
import { Credential, canonicalKinds, credentialKey, mintTabLinkKeys, writeCredentialToken } from './credential';
import { TESTING } from './flags';
import { Node } from './node';
import { out, fxInvariant, fxReply } from './effects';
import { writeQuery } from './queries';
import { invariants } from './invariants';
import { dialAddedSeed } from './dials';
import { sendMessage, replyMessage, configureMessages } from './messages';
import { cordonRequest, setWeight } from './cordon';
import { stateConfig, childState, childCheckpoint } from './handoff';
import { onHeard } from './heard';
import { onPairKey } from './handshake';

let input = new Uint8Array(IO_BUFFER_BYTES);
const node = new Node();
/** Records in the last step that did not decode (a binding bug, never expected). */
let badRecords: u32 = 0;

/** Ensures the input buffer holds `len` bytes and returns where to write them. */
export function inputBuffer(len: i32): usize {
  if (len > input.length) {
    let cap = input.length;
    while (cap < len) cap <<= 1;
    input = new Uint8Array(cap);
  }
  return input.dataStart;
}

export function outputPtr(): usize {
  return out.buf.dataStart;
}

export function badRecordCount(): u32 {
  return badRecords;
}

/** Processes `len` bytes of event records from the input buffer; returns the effect batch length. */
export function step(len: i32): i32 {
  out.reset();
  if (len < 0 || len > input.length) return 0;
  const base = input.dataStart;
  const r = new Reader(base, len);
  while (r.remaining > 0) {
    const type = r.u8();
    const n = r.u32();
    if (!r.ok || n > <u32>r.remaining) { badRecords++; break; }
    const rec = new Reader(base + <usize>r.pos, <i32>n);
    r.skip(<i32>n);
    noteRecord(type);
    dispatch(type, rec);
  }
  node.endStep();
  if (TESTING) {
    const broken = invariants(node);
    if (broken.length > 0) fxInvariant(broken);
  }
  return out.len;
}

/**
 * What kind of step this is (node.ts loopTurned): one with I/O, or with nothing but its tick (a
 * timer), shows the host's loop turning; one with only API calls or runner reports does not (an
 * API call runs inside the caller's busy stretch, an inline child settles in a microtask).
 */
function noteRecord(type: u8): void {
  if (type == EV_FRAME || type == EV_HEARD || type == EV_LINK_OPENED || type == EV_LINK_OPENED_WATCHED
    || type == EV_LINK_CLOSED || type == EV_DIAL_FAILED) node.stepHadIo = true;
  else if (type != EV_TICK) node.stepHadOther = true;
}

function dispatch(type: u8, r: Reader): void {
  switch (type) {
    case EV_INIT: if (!node.initialised) node.init(r); break;
    case EV_TICK: node.tick(<i64>r.f64()); break;
    case EV_HEARD: if (node.initialised) onHeard(node, r); break;
    case EV_PAIR_KEY: if (node.initialised) onPairKey(node, r); break;
    case EV_PAIR_KEY_RELAY: if (node.initialised && node.auth == AUTH_CREDENTIAL) node.pairKeys.on = true; break;
    case EV_LINK_OPENED:
    case EV_LINK_OPENED_WATCHED: {
      const link = r.u32();
      const outbound = r.bool();
      const address = r.str(ADDRESS_BYTES_MAX);
      const nonce = r.fixed(NONCE_BYTES);
      const silenceMs = type == EV_LINK_OPENED_WATCHED ? <i64>r.u32() : 0;
      if (r.ok && node.initialised) node.linkOpened(link, outbound, address, nonce, silenceMs);
      break;
    }
    case EV_FRAME: {
      const link = r.u32();
      if (r.ok && node.initialised) node.frame(link, r.ptr + <usize>r.pos, r.remaining);
      return;
    }
    case EV_LINK_CLOSED: { const link = r.u32(); if (r.ok) node.linkClosed(link); break; }
    case EV_DIAL_FAILED: {
      const a = r.str(ADDRESS_BYTES_MAX);
      const why = r.u8();
      if (r.ok) node.dialFailed(a, why == DIAL_FAILED_REFUSED);
      break;
    }
    case EV_START_CHILD: {
      const req = r.u32();
      const wait = r.u8();
      if (r.ok) node.startChild(req, wait, r);
      break;
    }
    case EV_TERMINATE_CHILD: {
      const req = r.u32();
      const wait = r.u8();
      const id = r.str(API_ID_BYTES_MAX);
      if (r.ok) node.terminateChild(req, wait, id);
      break;
    }
    case EV_LEAVE: { const req = r.u32(); const waitMs = r.u32(); if (r.ok) node.leave(req, waitMs); break; }
    case EV_CORDON: {
      const req = r.u32();
      const name = r.str(NAME_BYTES_MAX);
      const mode = r.u8();
      const par = r.u32();
      const deadline = r.u32();
      if (r.ok) cordonRequest(node, req, name, mode, par, deadline);
      else fxReply(req, R_INVALID_SPEC, 'member', 'must be a member name of at most ' + NAME_BYTES_MAX.toString() + ' bytes');
      break;
    }
    case EV_SET_WEIGHT: { const req = r.u32(); const w = r.f64(); if (r.ok) setWeight(node, req, w); break; }
    case EV_CHILD_STARTED: {
      const id = r.str(ID_BYTES_MAX);
      const epoch = r.u32();
      if (r.ok) node.childStarted(id, epoch);
      break;
    }
    case EV_RENEW_CREDENTIAL: if (node.initialised) renewCredential(node, r); break;
    case EV_CHILD_UNRESPONSIVE: {
      const id = r.str(ID_BYTES_MAX);
      const epoch = r.u32();
      if (r.ok) node.childUnresponsive(id, epoch);
      break;
    }
    case EV_CHILD_EXITED: {
      const id = r.str(ID_BYTES_MAX);
      const epoch = r.u32();
      const reason = r.u8();
      const en = r.str(ERROR_TEXT_BYTES_MAX);
      const em = r.str(ERROR_TEXT_BYTES_MAX);
      if (r.ok) node.childEnded(id, epoch, reason > EXIT_KILLED ? EXIT_CRASH : reason, en, em);
      break;
    }
    case EV_CHILD_START_FAILED: {
      const id = r.str(ID_BYTES_MAX);
      const epoch = r.u32();
      const en = r.str(ERROR_TEXT_BYTES_MAX);
      const em = r.str(ERROR_TEXT_BYTES_MAX);
      if (r.ok) node.childEnded(id, epoch, EXIT_START_FAILED, en, em);
      break;
    }
    case EV_ADD_SEEDS: {
      const count = r.count(MEMBERS_MAX, 4);
      for (let i = 0; i < count && r.ok; i++) {
        const address = r.str(ADDRESS_BYTES_MAX);
        if (r.ok && node.initialised) dialAddedSeed(node, address);
      }
      break;
    }
    case EV_MESSAGE_SEND: {
      const req = r.u32();
      const call = r.bool();
      if (r.ok) sendMessage(node, req, call, r);
      break;
    }
    case EV_MESSAGE_REPLY: if (node.initialised) replyMessage(node, r); break;
    case EV_MESSAGE_CONFIG: configureMessages(node, r); break;
    case EV_STATE_CONFIG: {
      const timeoutMs = r.u32();
      const maxBytes = r.u32();
      if (r.ok && node.initialised) stateConfig(node, timeoutMs, maxBytes);
      break;
    }
    case EV_CHILD_STATE: if (node.initialised) childState(node, r); break;
    case EV_CHECKPOINT: if (node.initialised) childCheckpoint(node, r); break;
    case EV_PLANT_BUGS: {
      if (!TESTING) { badRecords++; break; }
      const bugs = r.u32();
      node.bugs = bugs;
      node.desired.bugTerminateLoses = (bugs & BUG_TERMINATE_LOSES) != 0;
      break;
    }
    default: badRecords++;
  }
}

/** Writes the answer to a query into the output buffer; returns its length. */
export function query(kind: i32): i32 {
  out.reset();
  writeQuery(node, kind, out);
  return out.len;
}

/** The global view's rows changed since version `since` (all of them for another version): global-view.ts. */
export function queryGlobal(since: u32): i32 {
  out.reset();
  node.view.serve(node, out, since);
  return out.len;
}

/** 1 when the global view has rows changed since its last answer or still to refresh (the binding then decodes them ahead of a read). */
export function globalViewPending(): i32 {
  return node.view.pending(node) ? 1 : 0;
}

/** The effective spec this node holds for the id in the input buffer (tests, simulator). */
export function querySpec(len: i32): i32 {
  out.reset();
  const r = new Reader(input.dataStart, len);
  const id = r.str(API_ID_BYTES_MAX);
  const e = node.desired.get(id);
  out.bool(e != null);
  if (e != null) e.spec.encode(out);
  return out.len;
}

/** The children in the group named in the input buffer (str group): u32 count, ids (groups.ts). */
export function queryGroup(len: i32): i32 {
  out.reset();
  const r = new Reader(input.dataStart, len);
  const group = r.str(GROUP_NAME_BYTES_MAX * 4);
  if (r.ok) writeGroupMembers(node.desired, group, out);
  else out.u32(0);
  return out.len;
}

/**
 * Every live entry this node holds for the id in the input buffer, not only the effective one:
 * u32 count, then each entry's args (the simulator's durability check: a start's own entry may
 * be held beneath an older one whose removal has not arrived yet).
 */
export function querySpecArgs(len: i32): i32 {
  out.reset();
  const r = new Reader(input.dataStart, len);
  const id = r.str(API_ID_BYTES_MAX);
  const at = node.desired.store.find(id);
  if (at < 0) { out.u32(0); return out.len; }
  const es = node.desired.store.valueAt(at);
  out.u32(<u32>es.length);
  for (let i = 0; i < es.length; i++) out.str(es[i].spec.args);
  return out.len;
}

/**
 * Mints a credential (docs/PROTOCOL.md "Keys and credentials"). Input: str name, list<str> kinds,
 * u64 expiresAtMs, u64 issuedAtMs. Output: str error ('field: rule', '' when minted), then the token bytes.
 * Only a node that holds the secret can mint; a credential member cannot.
 */
export function mintCredential(len: i32): i32 {
  out.reset();
  if (len < 0 || len > input.length) return 0;
  const r = new Reader(input.dataStart, len);
  const c = new Credential();
  c.name = r.str(NAME_BYTES_MAX);
  const nk = r.count(KINDS_MAX, 4);
  const kinds = new Array<string>();
  for (let i = 0; i < nk; i++) kinds.push(r.str(KIND_BYTES_MAX));
  c.expiresAtMs = r.u64();
  const issuedAtMs = r.u64();
  let why = '';
  if (!node.holdsSecret()) why = 'mintCredential: only a member that holds the secret can mint credentials';
  else if (!r.ok || r.remaining != 0) why = 'name: a name of at most 256 bytes and at most 1024 kinds of at most 256 bytes';
  else if (c.name.length == 0) why = 'name: must not be empty';
  else if (c.expiresAtMs == 0 || c.expiresAtMs > <u64>i64.MAX_VALUE || issuedAtMs >= c.expiresAtMs) why = 'expiresInMs: must be a positive number of milliseconds';
  out.str(why);
  if (why.length) return out.len;
  c.scope = node.scopeName();
  c.kinds = canonicalKinds(kinds);
  c.key = credentialKey(node.secretKey(), c.scope, c.name, c.kinds, c.expiresAtMs);
  mintTabLinkKeys(c, node.secretKey(), issuedAtMs);
  writeCredentialToken(out, c);
  return out.len;
}
