// Root keys of a link, and member credentials (docs/PROTOCOL.md "Keys and credentials").
//
//   cluster key    = HMAC(secret, str "trellis/v2 cluster" ‖ str scope)
//   credential key = HMAC(secret, str "trellis/v2 credential" ‖ str scope ‖ str name ‖
//                             list<str> kinds ‖ u64 expiresAtMs)
//   tab link key e = HMAC(secret, str "trellis/v3 tab link" ‖ str scope ‖ u64 e)
//                    for the epoch e = floor(ms / TAB_LINK_EPOCH_MS)
//
// A link between two secret members has the cluster key as its root key; a link between a
// secret member and a credential member has the credential key, which the secret member
// recomputes from the HELLO; a link between two credential members has their pair key
// (pair-key.ts), which their hosts fetch from a server. A credential carries the tab link keys of
// the epochs from its minting to its expiry: they prove a RENEW between two credential members
// (renewal.ts), and a host with no pair-key source hands the core the tab link key of the epoch
// in place of a pair key (docs/SECURITY.md, "Credential tabs linking each other"). The kinds of a credential are
// canonical (strictly ascending by UTF-8 bytes), so one credential has exactly one encoding and
// one key.
//
// A credential token (what `mintCredential` hands out and `credential` accepts, base64url by
// the host) is `u8 version (3), str scope, str name, list<str> kinds, u64 expiresAtMs, bytes key,
// u64 firstEpoch, list<bytes> tabLinkKeys` (the keys of epochs firstEpoch, firstEpoch + 1, ...).

import { Reader, Writer } from './io';
import { hmacSha256 } from './sha256';

export const CLUSTER_KEY_LABEL = 'trellis/v2 cluster';
export const CREDENTIAL_KEY_LABEL = 'trellis/v2 credential';
export const TAB_LINK_KEY_LABEL = 'trellis/v3 tab link';
export const CREDENTIAL_TOKEN_VERSION: u8 = 3;
export const CREDENTIAL_KEY_BYTES: i32 = 32;
/** How long one tab link key opens links: what an expired credential can still do is bounded by it. */
export const TAB_LINK_EPOCH_MS: u64 = 60_000;
/** Tab link keys per credential (about an hour): a longer credential links tabs for its first hour only. */
export const TAB_LINK_KEYS_MAX: i32 = 64;

const w = new Writer(512);

export function clusterKey(secret: Uint8Array, scope: string): Uint8Array {
  w.reset();
  w.str(CLUSTER_KEY_LABEL);
  w.str(scope);
  return hmacSha256(secret, w.toBytes());
}

/** The key a credential for (scope, name, kinds, expiresAtMs) holds; kinds must be canonical. */
export function credentialKey(secret: Uint8Array, scope: string, name: string, kinds: Array<string>, expiresAtMs: u64): Uint8Array {
  w.reset();
  w.str(CREDENTIAL_KEY_LABEL);
  w.str(scope);
  w.str(name);
  w.u32(<u32>kinds.length);
  for (let i = 0; i < kinds.length; i++) w.str(kinds[i]);
  w.u64(expiresAtMs);
  return hmacSha256(secret, w.toBytes());
}

export function tabLinkEpoch(ms: u64): u64 { return ms / TAB_LINK_EPOCH_MS; }

/** The key every credential valid in epoch `e` of `scope` holds for links between credential members. */
export function tabLinkKey(secret: Uint8Array, scope: string, e: u64): Uint8Array {
  w.reset();
  w.str(TAB_LINK_KEY_LABEL);
  w.str(scope);
  w.u64(e);
  return hmacSha256(secret, w.toBytes());
}

/** The tab link keys of a credential minted at `issuedAtMs` that expires at `expiresAtMs`. */
export function mintTabLinkKeys(c: Credential, secret: Uint8Array, issuedAtMs: u64): void {
  const first = tabLinkEpoch(issuedAtMs), last = tabLinkEpoch(c.expiresAtMs);
  c.firstEpoch = first;
  c.tabLinkKeys = [];
  for (let e = first; e <= last && c.tabLinkKeys.length < TAB_LINK_KEYS_MAX; e++) c.tabLinkKeys.push(tabLinkKey(secret, c.scope, e));
}

/** Order of two strings by their UTF-8 bytes (-1, 0, 1). */
export function compareUtf8(a: string, b: string): i32 {
  const x = String.UTF8.encode(a), y = String.UTF8.encode(b);
  const n = min(x.byteLength, y.byteLength);
  const c = memory.compare(changetype<usize>(x), changetype<usize>(y), <usize>n);
  if (c != 0) return c < 0 ? -1 : 1;
  return x.byteLength == y.byteLength ? 0 : x.byteLength < y.byteLength ? -1 : 1;
}

/** The canonical form of a list of kinds: sorted by UTF-8 bytes, duplicates dropped. */
export function canonicalKinds(kinds: Array<string>): Array<string> {
  const sorted = kinds.slice(0);
  sorted.sort((a: string, b: string): i32 => compareUtf8(a, b));
  const out = new Array<string>();
  for (let i = 0; i < sorted.length; i++) if (i == 0 || sorted[i] != sorted[i - 1]) out.push(sorted[i]);
  return out;
}

/** Kinds strictly ascending by UTF-8 bytes: sorted, no duplicates. */
export function kindsCanonical(kinds: Array<string>): bool {
  for (let i = 1; i < kinds.length; i++) if (compareUtf8(kinds[i - 1], kinds[i]) >= 0) return false;
  return true;
}

/** Every advertised kind is one the credential allows. */
export function kindsWithin(advertised: Array<string>, allowed: Array<string>): bool {
  for (let i = 0; i < advertised.length; i++) if (!allowed.includes(advertised[i])) return false;
  return true;
}

/** What a credential member holds. */
export class Credential {
  scope: string = '';
  name: string = '';
  kinds: Array<string> = [];
  expiresAtMs: u64 = 0;
  key: Uint8Array = new Uint8Array(0);
  firstEpoch: u64 = 0;
  tabLinkKeys: Array<Uint8Array> = [];
}

export function writeCredentialToken(out: Writer, c: Credential): void {
  out.u8(CREDENTIAL_TOKEN_VERSION);
  out.str(c.scope);
  out.str(c.name);
  out.u32(<u32>c.kinds.length);
  for (let i = 0; i < c.kinds.length; i++) out.str(c.kinds[i]);
  out.u64(c.expiresAtMs);
  out.bytes(c.key);
  out.u64(c.firstEpoch);
  out.u32(<u32>c.tabLinkKeys.length);
  for (let i = 0; i < c.tabLinkKeys.length; i++) out.bytes(c.tabLinkKeys[i]);
}

/** Reads a token; null when it does not decode completely, or its kinds are not canonical. */
export function readCredentialToken(r: Reader, maxScope: i32, maxName: i32, maxKinds: i32, maxKind: i32): Credential | null {
  const c = new Credential();
  const version = r.u8();
  c.scope = r.str(maxScope);
  c.name = r.str(maxName);
  const n = r.count(maxKinds, 4);
  for (let i = 0; i < n; i++) c.kinds.push(r.str(maxKind));
  c.expiresAtMs = r.u64();
  c.key = r.bytes(CREDENTIAL_KEY_BYTES);
  c.firstEpoch = r.u64();
  const nt = r.count(TAB_LINK_KEYS_MAX, 4 + CREDENTIAL_KEY_BYTES);
  for (let i = 0; i < nt; i++) {
    const k = r.bytes(CREDENTIAL_KEY_BYTES);
    if (k.length != CREDENTIAL_KEY_BYTES) return null;
    c.tabLinkKeys.push(k);
  }
  if (!r.ok || r.remaining != 0 || version != CREDENTIAL_TOKEN_VERSION) return null;
  if (c.name.length == 0 || c.key.length != CREDENTIAL_KEY_BYTES || !kindsCanonical(c.kinds)) return null;
  return c;
}
