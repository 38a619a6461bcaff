// Test-only exports of the link cryptography (session.ts, credential.ts), over the input buffer,
// so tests can check them against node:crypto and against conformance/src/protocol.ts.
// Testing-only: these belong in the testing build (index-testing.ts).
import { inputBuffer } from './exports';
import { out } from './effects';
import { Reader } from './io';
import { Session, transcriptHash, TAG_BYTES, PROOF_BYTES } from './session';
import {
  clusterKey, credentialKey, mintTabLinkKeys, kindsCanonical, kindsWithin, Credential, writeCredentialToken, readCredentialToken,
} from './credential';
import { pairKey } from './pair-key';
import { SCOPE_BYTES_MAX as MAX_SCOPE, NAME_BYTES_MAX as MAX_NAME, KINDS_MAX as MAX_KINDS, KIND_BYTES_MAX as MAX_KIND, SECRET_BYTES_MAX } from './limits';

const session = new Session();
const th = new StaticArray<u8>(32);

/** input = dialerHello ‖ listenerHello; output = the 32-byte transcript hash. */
export function testTranscriptHash(dialerLen: i32, listenerLen: i32): i32 {
  out.reset();
  if (dialerLen < 0 || listenerLen < 0) return 0;
  const p = inputBuffer(dialerLen + listenerLen);
  transcriptHash(p, dialerLen, p + <usize>dialerLen, listenerLen, changetype<usize>(th));
  out.raw(changetype<usize>(th), 32);
  return out.len;
}

/** input = rootKey ‖ th (32); derives the test session; output = ownProof ‖ peerProof. */
export function testSessionDerive(rootLen: i32, dialer: bool): i32 {
  out.reset();
  if (rootLen < 0) return 0;
  const p = inputBuffer(rootLen + 32);
  session.derive(p, rootLen, p + <usize>rootLen, dialer);
  out.raw(changetype<usize>(session.ownProof), PROOF_BYTES);
  out.raw(changetype<usize>(session.peerProof), PROOF_BYTES);
  return out.len;
}

/** input = a frame; output = its tag under the test session's next send sequence number. */
export function testSessionSeal(len: i32): i32 {
  out.reset();
  if (len < 0) return 0;
  const p = inputBuffer(len + TAG_BYTES);
  session.seal(p, len, p + <usize>len);
  out.raw(p + <usize>len, TAG_BYTES);
  return out.len;
}

/** input = frame ‖ tag; output = u8 1 when it opens under the next receive sequence number. */
export function testSessionOpen(len: i32): i32 {
  out.reset();
  if (len < 0) return 0;
  const p = inputBuffer(len);
  out.u8(session.open(p, len) ? 1 : 0);
  return out.len;
}

/** Reads `bytes secret, str scope, str name, list<str> kinds, u64 expiresAtMs, u64 issuedAtMs` from the input (issuedAtMs 0: no tab link keys). */
function readCredentialInput(len: i32): Credential | null {
  if (len < 0) return null;
  const r = new Reader(inputBuffer(len), len);
  const secret = r.bytes(SECRET_BYTES_MAX);
  const c = new Credential();
  c.scope = r.str(MAX_SCOPE);
  c.name = r.str(MAX_NAME);
  const n = r.count(MAX_KINDS, 4);
  for (let i = 0; i < n; i++) c.kinds.push(r.str(MAX_KIND));
  c.expiresAtMs = r.u64();
  const issuedAtMs = r.u64();
  if (!r.ok || r.remaining != 0) return null;
  c.key = credentialKey(secret, c.scope, c.name, c.kinds, c.expiresAtMs);
  if (issuedAtMs != 0) mintTabLinkKeys(c, secret, issuedAtMs);
  return c;
}

/** input as readCredentialInput; output = u8 canonical, cluster key (32), credential key (32), token. */
export function testCredential(len: i32): i32 {
  out.reset();
  if (len < 0) return 0;
  const c = readCredentialInput(len);
  if (c == null) return 0;
  const r = new Reader(inputBuffer(len), len);
  const secret = r.bytes(SECRET_BYTES_MAX);
  out.u8(kindsCanonical(c.kinds) ? 1 : 0);
  const ck = clusterKey(secret, c.scope);
  out.raw(ck.dataStart, 32);
  out.raw(c.key.dataStart, 32);
  writeCredentialToken(out, c);
  return out.len;
}

/** input = a token; output = u8 ok, then (if ok) the token re-encoded. */
export function testCredentialToken(len: i32): i32 {
  out.reset();
  if (len < 0) return 0;
  const c = readCredentialToken(new Reader(inputBuffer(len), len), MAX_SCOPE, MAX_NAME, MAX_KINDS, MAX_KIND);
  out.u8(c == null ? 0 : 1);
  if (c != null) writeCredentialToken(out, c);
  return out.len;
}

/** input = list<str> advertised ‖ list<str> allowed; output = u8 within. */
export function testKindsWithin(len: i32): i32 {
  out.reset();
  if (len < 0) return 0;
  const r = new Reader(inputBuffer(len), len);
  const a = new Array<string>(), b = new Array<string>();
  const na = r.count(MAX_KINDS, 4);
  for (let i = 0; i < na; i++) a.push(r.str(MAX_KIND));
  const nb = r.count(MAX_KINDS, 4);
  for (let i = 0; i < nb; i++) b.push(r.str(MAX_KIND));
  out.u8(r.ok && r.remaining == 0 && kindsWithin(a, b) ? 1 : 0);
  return out.len;
}

/** input = `bytes secret, str scope, u64 epoch, str a, str b`; output = their 32-byte pair key (pair-key.ts). */
export function testPairKey(len: i32): i32 {
  out.reset();
  if (len < 0) return 0;
  const r = new Reader(inputBuffer(len), len);
  const secret = r.bytes(SECRET_BYTES_MAX);
  const scope = r.str(MAX_SCOPE);
  const e = r.u64();
  const a = r.str(MAX_NAME);
  const b = r.str(MAX_NAME);
  if (!r.ok || r.remaining != 0) return 0;
  const k = pairKey(secret, scope, e, a, b);
  out.raw(k.dataStart, k.length);
  return out.len;
}
