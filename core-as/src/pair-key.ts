// Pair keys on the server side (docs/PROTOCOL.md "Keys and credentials"): what a gateway hands a
// credential tab for a link to another credential member, derived from the cluster secret as the
// core's core-as/assembly/pair-key.ts derives it:
//
//   pairKey(A, B, e) = HMAC-SHA256(secret, str "trellis/v4 tab pair" ‖ str scope ‖ u64 e ‖ str lo ‖ str hi)
//
// with lo, hi the two names ordered by their UTF-8 bytes. WebCrypto only, so every server host
// runs the same code; the HMAC key is the gateway's imported secret (credentialVerifierKey).

export const PAIR_KEY_LABEL = 'trellis/v4 tab pair';
export const PAIR_KEY_BYTES = 32;
/** The core's TAB_LINK_EPOCH_MS (core-as/assembly/credential.ts): one pair key per pair and epoch. */
export const PAIR_KEY_EPOCH_MS = 60_000;

const utf8 = new TextEncoder();

/** Order of two UTF-8 byte strings (negative, 0, positive), as the core compares names. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** The bytes a pair key is the HMAC of. */
export function pairKeyInput(scope: string, epoch: number, a: string, b: string): Uint8Array<ArrayBuffer> {
  const x = utf8.encode(a), y = utf8.encode(b);
  const [lo, hi] = compareBytes(x, y) <= 0 ? [x, y] : [y, x];
  const parts = [utf8.encode(PAIR_KEY_LABEL), utf8.encode(scope)];
  let n = 8;
  for (const p of [...parts, lo, hi]) n += 4 + p.length;
  const out = new Uint8Array(n);
  const v = new DataView(out.buffer);
  let at = 0;
  const str = (p: Uint8Array) => { v.setUint32(at, p.length, true); out.set(p, at + 4); at += 4 + p.length; };
  for (const p of parts) str(p);
  v.setBigUint64(at, BigInt(epoch), true); at += 8;
  str(lo);
  str(hi);
  return out;
}

/** The pair key of `a` and `b` in `epoch`, under `secretKey` (the secret imported as an HMAC-SHA256 key). */
export async function derivePairKey(secretKey: CryptoKey, scope: string, epoch: number, a: string, b: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', secretKey, pairKeyInput(scope, epoch, a, b)));
}

/** The epoch of wall-clock `ms`. */
export function pairKeyEpoch(ms: number): number { return Math.floor(ms / PAIR_KEY_EPOCH_MS); }
