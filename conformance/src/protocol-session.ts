// An independent implementation of the version-2 handshake, key schedule, frame MACs and
// credentials of docs/PROTOCOL.md, on node:crypto. Tests use it to act as a raw client (or an
// attacker) against real members, and to check the core's primitives.
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { TAG_BYTES } from './protocol.js';

const te = new TextEncoder();
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(n); return b; };
const str = (s: string) => { const b = te.encode(s); return Buffer.concat([u32(b.length), b]); };
const bytes = (b: Uint8Array) => Buffer.concat([u32(b.length), b]);

export type Role = 'dialer' | 'listener';
const other = (r: Role): Role => (r === 'dialer' ? 'listener' : 'dialer');

/** th = SHA-256(str label ‖ bytes dialerHello ‖ bytes listenerHello), HELLO frames as sent. */
export function transcriptHash(dialerHello: Uint8Array, listenerHello: Uint8Array): Uint8Array {
  return createHash('sha256').update(str('trellis/v2 transcript')).update(bytes(dialerHello)).update(bytes(listenerHello)).digest();
}

export function clusterKey(secret: Uint8Array, scope: string): Uint8Array {
  return createHmac('sha256', secret).update(str('trellis/v2 cluster')).update(str(scope)).digest();
}

/** The credential key; `kinds` must already be canonical (see canonicalKinds). */
export function credentialKey(secret: Uint8Array, scope: string, name: string, kinds: string[], expiresAtMs: bigint): Uint8Array {
  const h = createHmac('sha256', secret).update(str('trellis/v2 credential')).update(str(scope)).update(str(name)).update(u32(kinds.length));
  for (const k of kinds) h.update(str(k));
  return h.update(u64(expiresAtMs)).digest();
}

export const TAB_LINK_EPOCH_MS = 60_000n;

/** The tab link key of epoch `e` (ms / TAB_LINK_EPOCH_MS): RENEW proofs between credential members, and their root key on hosts with no gateway. */
export function tabLinkKey(secret: Uint8Array, scope: string, e: bigint): Uint8Array {
  return createHmac('sha256', secret).update(str('trellis/v3 tab link')).update(str(scope)).update(u64(e)).digest();
}

/** The pair key of credential members `a` and `b` in epoch `e` (names ordered by their UTF-8 bytes). */
export function pairKey(secret: Uint8Array, scope: string, e: bigint, a: string, b: string): Uint8Array {
  const [lo, hi] = Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? [a, b] : [b, a];
  return createHmac('sha256', secret).update(str('trellis/v4 tab pair')).update(str(scope)).update(u64(e)).update(str(lo)).update(str(hi)).digest();
}

/** Kinds strictly ascending by UTF-8 bytes, without duplicates. */
export function canonicalKinds(kinds: string[]): string[] {
  const sorted = [...new Set(kinds)].map((k) => Buffer.from(k, 'utf8')).sort(Buffer.compare);
  return sorted.map((b) => b.toString('utf8'));
}

/** HKDF-SHA256 (salt = th, ikm = rootKey) outputs of one link, for one side. */
export interface LinkKeys { ownProof: Uint8Array; peerProof: Uint8Array; sendKey: Uint8Array; recvKey: Uint8Array }

function hkdf(root: Uint8Array, th: Uint8Array, label: string): Uint8Array {
  // node refuses an empty key for hkdf: extract by hand (RFC 5869: PRK = HMAC(salt, IKM)).
  if (root.length === 0) {
    const prk = createHmac('sha256', th).update(root).digest();
    return createHmac('sha256', prk).update(te.encode(label)).update(Buffer.from([1])).digest();
  }
  return new Uint8Array(hkdfSync('sha256', root, th, te.encode(label), 32));
}

export function deriveLinkKeys(root: Uint8Array, th: Uint8Array, role: Role): LinkKeys {
  const mac = (from: Role) => hkdf(root, th, `trellis/v2 mac ${from} to ${other(from)}`);
  return {
    ownProof: hkdf(root, th, `trellis/v2 proof ${role}`),
    peerProof: hkdf(root, th, `trellis/v2 proof ${other(role)}`),
    sendKey: mac(role),
    recvKey: mac(other(role)),
  };
}

/** tag = HMAC(key, u64 seq ‖ frame)[0..16) */
export function frameTag(key: Uint8Array, seq: bigint, frame: Uint8Array): Uint8Array {
  return createHmac('sha256', key).update(u64(seq)).update(frame).digest().subarray(0, TAG_BYTES);
}

/** One side of an authenticated link: seals what it sends, opens what it receives, in order. */
export class LinkCrypto {
  sendSeq = 0n;
  recvSeq = 0n;
  constructor(readonly keys: LinkKeys) {}

  seal(frame: Uint8Array): Uint8Array {
    const tag = frameTag(this.keys.sendKey, this.sendSeq++, frame);
    return Buffer.concat([frame, tag]);
  }

  /** The frame without its tag, or null when the tag is not the one for the next sequence number. */
  open(wire: Uint8Array): Uint8Array | null {
    if (wire.length < 8 + TAG_BYTES) return null;
    const frame = wire.subarray(0, wire.length - TAG_BYTES);
    const tag = frameTag(this.keys.recvKey, this.recvSeq, frame);
    if (!timingSafeEqual(tag, wire.subarray(wire.length - TAG_BYTES))) return null;
    this.recvSeq++;
    return frame;
  }
}

/** What a credential member holds. */
export interface Credential {
  scope: string; name: string; kinds: string[]; expiresAtMs: bigint; key: Uint8Array;
  /** Tab link keys of epochs firstEpoch, firstEpoch + 1, ... */
  firstEpoch: bigint; tabLinkKeys: Uint8Array[];
}

/** Token bytes: u8 3, str scope, str name, list<str> kinds, u64 expiresAtMs, bytes key, u64 firstEpoch, list<bytes> tabLinkKeys; base64url. */
export function encodeCredentialToken(c: Credential): string {
  const parts = [Buffer.from([3]), str(c.scope), str(c.name), u32(c.kinds.length), ...c.kinds.map(str), u64(c.expiresAtMs), bytes(c.key),
    u64(c.firstEpoch), u32(c.tabLinkKeys.length), ...c.tabLinkKeys.map(bytes)];
  return Buffer.concat(parts).toString('base64url');
}

export function decodeCredentialToken(token: string): Credential {
  const b = Buffer.from(token, 'base64url');
  let pos = 0;
  const need = (n: number) => { if (pos + n > b.length) throw new RangeError('credential token truncated'); };
  const rd32 = () => { need(4); const v = b.readUInt32LE(pos); pos += 4; return v; };
  const rdStr = () => { const n = rd32(); need(n); const s = b.subarray(pos, pos + n).toString('utf8'); pos += n; return s; };
  need(1);
  if (b[pos++] !== 3) throw new RangeError('credential token version');
  const scope = rdStr(), name = rdStr();
  const kinds = Array.from({ length: rd32() }, rdStr);
  need(8); const expiresAtMs = b.readBigUInt64LE(pos); pos += 8;
  const rdBytes = () => { const n = rd32(); need(n); const k = new Uint8Array(b.subarray(pos, pos + n)); pos += n; return k; };
  const key = rdBytes();
  need(8); const firstEpoch = b.readBigUInt64LE(pos); pos += 8;
  const tabLinkKeys = Array.from({ length: rd32() }, rdBytes);
  if (pos !== b.length) throw new RangeError('credential token has trailing bytes');
  return { scope, name, kinds, expiresAtMs, key, firstEpoch, tabLinkKeys };
}

/**
 * Mints a credential as a server member does (for tests that forge or check credentials): with
 * `issuedAtMs`, it carries the tab link keys of the epochs from then to its expiry (at most 64).
 */
export function mintCredential(secret: Uint8Array, scope: string, name: string, kinds: string[], expiresAtMs: bigint, issuedAtMs?: bigint): Credential {
  const ks = canonicalKinds(kinds);
  const firstEpoch = issuedAtMs === undefined ? 0n : issuedAtMs / TAB_LINK_EPOCH_MS;
  const tabLinkKeys: Uint8Array[] = [];
  if (issuedAtMs !== undefined) for (let e = firstEpoch; e <= expiresAtMs / TAB_LINK_EPOCH_MS && tabLinkKeys.length < 64; e++) tabLinkKeys.push(tabLinkKey(secret, scope, e));
  return { scope, name, kinds: ks, expiresAtMs, key: credentialKey(secret, scope, name, ks, expiresAtMs), firstEpoch, tabLinkKeys };
}
