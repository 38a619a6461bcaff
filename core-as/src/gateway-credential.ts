// How a gateway checks a tab's credential at its HELLO (docs/SECURITY.md, "Tabs"): the token
// decodes, is for this scope, has not expired, names the member the tab says it is, and its key
// is the one the secret gives for its fields (docs/PROTOCOL.md "Keys and credentials"), compared
// in constant time. WebCrypto only, so every server host runs the same code.
import { decodeCredentialToken } from './credential.js';

/** Why a tab's credential is refused (the close reason and the `gateway_refused` reason). */
export type CredentialRefusal = 'credential_malformed' | 'credential_scope' | 'credential_expired' | 'credential_name' | 'credential_forged';

export type CredentialCheck = { ok: true; name: string; kinds: string[]; expiresAtMs: number } | { ok: false; reason: CredentialRefusal };

const CREDENTIAL_KEY_LABEL = 'trellis/v2 credential';
const utf8 = new TextEncoder();

/** The bytes the credential key is the HMAC of: str label, str scope, str name, list<str> kinds, u64 expiresAtMs. */
function keyInput(scope: string, name: string, kinds: readonly string[], expiresAtMs: number): Uint8Array<ArrayBuffer> {
  const parts = [CREDENTIAL_KEY_LABEL, scope, name].map((s) => utf8.encode(s));
  const kindBytes = kinds.map((k) => utf8.encode(k));
  let n = 4 + 8;
  for (const p of [...parts, ...kindBytes]) n += 4 + p.length;
  const out = new Uint8Array(n);
  const v = new DataView(out.buffer);
  let at = 0;
  const str = (b: Uint8Array) => { v.setUint32(at, b.length, true); out.set(b, at + 4); at += 4 + b.length; };
  for (const p of parts) str(p);
  v.setUint32(at, kinds.length, true); at += 4;
  for (const k of kindBytes) str(k);
  v.setBigUint64(at, BigInt(expiresAtMs), true);
  return out;
}

/** Equal bytes, in time that depends on the length only. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** Imports the secret once per gateway as an HMAC-SHA256 key. */
export function credentialVerifierKey(secret: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

/**
 * Checks `token` for a tab that says it is `name` (undefined: it takes the credential's name).
 * The key check is last: the cheap refusals say what is wrong with an honest tab's token.
 */
export async function checkTabCredential(
  key: CryptoKey, scope: string, token: string, name: string | undefined, nowMs: number,
): Promise<CredentialCheck> {
  const c = decodeCredentialToken(token);
  if (!c) return { ok: false, reason: 'credential_malformed' };
  if (c.scope !== scope) return { ok: false, reason: 'credential_scope' };
  if (c.expiresAtMs <= nowMs) return { ok: false, reason: 'credential_expired' };
  if (name !== undefined && name !== c.name) return { ok: false, reason: 'credential_name' };
  const want = new Uint8Array(await crypto.subtle.sign('HMAC', key, keyInput(scope, c.name, c.kinds, c.expiresAtMs)));
  if (!equalBytes(want, c.key)) return { ok: false, reason: 'credential_forged' };
  return { ok: true, name: c.name, kinds: c.kinds, expiresAtMs: c.expiresAtMs };
}
