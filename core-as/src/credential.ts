// Credential tokens (docs/PROTOCOL.md "Keys and credentials"): what `mintCredential` hands out and
// the `credential` option accepts. base64url of
//   u8 3, str scope, str name, list<str> kinds, u64 expiresAtMs, bytes key (32),
//   u64 firstEpoch, list<bytes> tabLinkKeys (32 each; the keys of epochs firstEpoch, +1, ...)
// No Node API here: the same code runs on every host.

export interface CredentialToken {
  scope: string; name: string; kinds: string[]; expiresAtMs: number; key: Uint8Array;
  /** The epoch (ms / TAB_LINK_EPOCH_MS) of the first tab link key, for RENEW between credential members. */
  firstEpoch: number;
  tabLinkKeys: Uint8Array[];
}

const TOKEN_VERSION = 3;
const KEY_BYTES = 32;
/** The core's TAB_LINK_KEYS_MAX (core-as/assembly/credential.ts). */
const TAB_LINK_KEYS_MAX = 64;
const dec = new TextDecoder('utf-8', { fatal: true });

function fromBase64url(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  try {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

/** Decodes a token; null when it is not one (the key is checked by the members it meets). */
export function decodeCredentialToken(token: string): CredentialToken | null {
  const b = fromBase64url(token);
  if (!b) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 0;
  const need = (n: number) => { if (pos + n > b.length) throw new RangeError('truncated'); };
  const u32 = () => { need(4); const x = v.getUint32(pos, true); pos += 4; return x; };
  const raw = () => { const n = u32(); need(n); const s = b.subarray(pos, pos + n); pos += n; return s; };
  try {
    need(1);
    if (b[pos++] !== TOKEN_VERSION) return null;
    const scope = dec.decode(raw()), name = dec.decode(raw());
    const n = u32();
    if (n > 1024) return null;
    const kinds: string[] = [];
    for (let i = 0; i < n; i++) kinds.push(dec.decode(raw()));
    need(8);
    const expiresAtMs = Number(v.getBigUint64(pos, true)); pos += 8;
    const key = raw().slice();
    need(8);
    const firstEpoch = Number(v.getBigUint64(pos, true)); pos += 8;
    const nt = u32();
    if (nt > TAB_LINK_KEYS_MAX) return null;
    const tabLinkKeys: Uint8Array[] = [];
    for (let i = 0; i < nt; i++) { const k = raw().slice(); if (k.length !== KEY_BYTES) return null; tabLinkKeys.push(k); }
    if (pos !== b.length || key.length !== KEY_BYTES || name.length === 0) return null;
    return { scope, name, kinds, expiresAtMs, key, firstEpoch, tabLinkKeys };
  } catch {
    return null;
  }
}

function toBase64url(b: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The token string of a credential's bytes as the core mints them. */
export function encodeCredentialToken(bytes: Uint8Array): string { return toBase64url(bytes); }
