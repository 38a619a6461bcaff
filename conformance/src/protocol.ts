// An independent reading of docs/PROTOCOL.md (version 2): decodes a frame into a plain object
// following the documented layouts and encodes it back. Tests use it to prove that the frames the
// core really sends match the document, byte for byte. The handshake and the frame MACs are in
// protocol-session.ts.

export const PROTOCOL_VERSION = 2;
/** Bytes of the MAC after every frame on an authenticated link. */
export const TAG_BYTES = 16;
/** HELLO auth modes. */
export const AUTH_MODE = { insecure: 0, secret: 1, credential: 2 } as const;

export const MSG = {
  HELLO: 1, AUTH: 2, HEARTBEAT: 3, MEMBERS: 4, DIGEST: 5, SYNC_REQ: 6, DELTA: 7, ACK: 8,
  CLAIMS: 9, CLAIMS_REQ: 10, LEAVING: 11, BYE: 12, FRAGMENT: 13, MESSAGE: 14, MESSAGE_ACK: 15, REPLY: 16, HANDOFF: 17, CHECKPOINT: 18, MEMBER_STATE: 20, CORDONS: 21,
  TERM_CHECK: 24, TERM_COVER: 25, SYNC_LIVE: 28,
} as const;
export const MSG_NAMES = Object.fromEntries(Object.entries(MSG).map(([k, v]) => [v, k])) as Record<number, string>;

// A layout is a list of field types; 'list' repeats a sub-layout after a u32 count.
type Field = 'u8' | 'u32' | 'u64' | 'f64' | 'str' | 'bytes' | 'rest' | { list: Layout };
type Layout = Field[];

const REPLICAS: Field = { list: ['str', 'u64'] };
const DOTS: Field = { list: ['u32', 'u64'] };
const CONTEXT: Field = { list: ['u32', 'u64', { list: ['u64'] }] };
// id, kind, args, restart, shutdownMs, maxRestarts, periodMs, failed, groups (sorted, distinct)
const SPEC: Layout = ['str', 'str', 'str', 'u8', 'u32', 'u32', 'u32', 'u8', { list: ['str'] }];

export const LAYOUTS: Record<number, Layout> = {
  // scope, name, incarnation, nonce, listen address, weight, kinds, auth mode, credential kinds, credential expiry, heartbeat wanted (ms)
  [MSG.HELLO]: ['str', 'str', 'u64', 'bytes', 'str', 'f64', { list: ['str'] }, 'u8', { list: ['str'] }, 'u64', 'u32'],
  [MSG.AUTH]: ['bytes'],
  [MSG.HEARTBEAT]: [],
  [MSG.MEMBERS]: [{ list: ['str', 'u64', 'str'] }],
  [MSG.DIGEST]: ['u64', 'u64'],
  [MSG.SYNC_REQ]: [REPLICAS, CONTEXT, DOTS],
  // the trailing live dots are present only when the u8 before them is 1 (a full-state answer)
  [MSG.DELTA]: [REPLICAS, { list: ['u32', 'u64', ...SPEC, 'u32', 'u64'] }, DOTS, CONTEXT, DOTS, 'u8', 'rest'],
  // anti-entropy, after the DELTA frames: per range, rep, lo, hi, the context's max, its other seen counters in (lo, hi], the live counters in (lo, hi]
  [MSG.SYNC_LIVE]: [REPLICAS, { list: ['u32', 'u64', 'u64', 'u64', { list: ['u64'] }, { list: ['u64'] }] }],
  [MSG.ACK]: [{ list: ['str', 'u64', 'u64'] }],
  // kind (0 delta, 1 full, 2 first part of a full snapshot, 3 next part, 4 last part), base, version, claims
  [MSG.CLAIMS]: ['u8', 'u64', 'u64', { list: ['str', 'u8', 'u32', 'u32'] }],
  [MSG.CLAIMS_REQ]: [],
  [MSG.LEAVING]: [],
  [MSG.BYE]: [],
  [MSG.FRAGMENT]: ['u8', 'rest'],
  // per child: id, route generation, base, round, then seq, req (0: a send), payload
  [MSG.MESSAGE]: [{ list: ['str', 'u64', 'u64', 'u32', { list: ['u64', 'u32', 'bytes'] }] }],
  // per child: id, code (0 delivered up to seq, 1 wait from seq, 2 ready), seq, round
  [MSG.MESSAGE_ACK]: [{ list: ['str', 'u8', 'u64', 'u32'] }],
  // caller incarnation, req, answer
  [MSG.REPLY]: ['u64', 'u32', 'bytes'],
  // weight, placement state (0 active, 1 cordoned, 2 draining), maxParallel, the cordon entry's stamp
  [MSG.MEMBER_STATE]: ['f64', 'u8', 'u32', 'u64'],
  // the cordon table: name, state, maxParallel, stamp, writer
  [MSG.CORDONS]: [{ list: ['str', 'u8', 'u32', 'u64', 'str'] }],
  // expiresAtMs, epoch, proof (32 bytes)
  [22]: ['u64', 'u64', 'rest'],
  // id, has state (0: start it fresh), epoch of the instance that gave it, schema version, state
  [MSG.HANDOFF]: ['str', 'u8', 'u32', 'u32', 'bytes'],
  // id, epoch of the instance that checkpointed, schema version, state
  [MSG.CHECKPOINT]: ['str', 'u32', 'u32', 'bytes'],
  // partition 'majority': the sender's remaining lease wait (ms), then the roster, per name: incarnation, left gracefully (0 or 1)
  [23]: ['u32', { list: ['str', 'u64', 'u8'] }],
  // the terminator's replica incarnation; per terminate: id, the counter of its remove dot
  [MSG.TERM_CHECK]: ['u64', { list: ['str', 'u64'] }],
  // per terminate: that counter, then the adds of the id the sender holds: name, incarnation, counter
  [MSG.TERM_COVER]: [{ list: ['u64', { list: ['str', 'u64', 'u64'] }] }],
  // partition { quorum: N }: the sender's remaining lease wait (ms) for a lost member
  [29]: ['u32'],
  // a credential member asks a secret member: its own name (checked against the link's), the peer, the epoch
  [30]: ['str', 'str', 'u64'],
  // the answer: peer, epoch, code (0 given, 1 not_credential, 2 name, 3 self, 4 epoch, 5 credential_expired), key (32 bytes, or empty)
  [31]: ['str', 'u64', 'u8', 'bytes'],
  // CALL_STOPPED: per call, the caller's incarnation, its request, why the instance ended
  [38]: [{ list: ['u64', 'u32', 'str'] }],
  // LINK_RETIRE on a duplicate link: 0 (I retire it) or 1 (your retire and all before it arrived; my last frame here)
  [34]: ['u8'],
  // MEMBERS_SAME: the sender's MEMBERS is the one it last sent on this link in full
  [35]: [],
};

/** RENEW (a credential member's renewal): outside MSG because the codec's capture runs no credential member. */
export const MSG_RENEW = 22;
/** ROSTER (partition 'majority'): outside MSG because the codec's capture runs no majority-mode node (sim-majority.test.ts decodes it). */
export const MSG_ROSTER = 23;
/** LEASE_WAIT (partition { quorum: N }, lease-wait.ts): outside MSG because the codec's capture runs no quorum-mode node (sim-quorum-lease.test.ts decodes it). */
export const MSG_LEASE_WAIT = 29;
/** PAIR_KEY_REQ / PAIR_KEY (a credential member's pair key from a secret member, pair-key-relay.ts): the codec's capture adds two credential members for them. */
export const MSG_PAIR_KEY_REQ = 30;
export const MSG_PAIR_KEY = 31;
/** LINK_RETIRE (a duplicate link's last frames, link-retire.ts): outside MSG because the codec's capture makes no duplicate link (sim-link-retire.test.ts decodes it). */
export const MSG_LINK_RETIRE = 34;
/** MEMBERS_SAME (members-gossip.ts): outside MSG like the others the codec's capture may not see. */
export const MSG_MEMBERS_SAME = 35;
/** CALL_STOPPED (call-stops.ts): outside MSG because the codec's capture stops no child with a call unanswered (sim-messages.test.ts decodes it). */
export const MSG_CALL_STOPPED = 38;

export type Value = number | bigint | string | Uint8Array | Value[];
export interface Frame { type: number; fields: Value[] }

/** The fields of a HELLO, by name. */
export interface Hello {
  scope: string; name: string; incarnation: bigint; nonce: Uint8Array; listen: string; weight: number;
  kinds: string[]; auth: number; credentialKinds: string[]; expiresAtMs: bigint;
  /** How often the sender needs a frame from the receiver (ms). */
  heartbeatWantMs: number;
}

export function helloFrame(h: Hello): Uint8Array {
  return encodeFrame({ type: MSG.HELLO, fields: [h.scope, h.name, h.incarnation, h.nonce, h.listen, h.weight, h.kinds.map((k) => [k]), h.auth, h.credentialKinds.map((k) => [k]), h.expiresAtMs, h.heartbeatWantMs] });
}

export function readHello(f: Frame): Hello {
  if (f.type !== MSG.HELLO) throw new ProtocolError(`not a HELLO: ${MSG_NAMES[f.type]}`);
  const [scope, name, incarnation, nonce, listen, weight, kinds, auth, credentialKinds, expiresAtMs, heartbeatWantMs] = f.fields;
  const strs = (l: Value) => (l as Value[][]).map((x) => x[0] as string);
  return {
    scope: scope as string, name: name as string, incarnation: incarnation as bigint, nonce: nonce as Uint8Array,
    listen: listen as string, weight: weight as number, kinds: strs(kinds), auth: auth as number,
    credentialKinds: strs(credentialKinds), expiresAtMs: expiresAtMs as bigint, heartbeatWantMs: heartbeatWantMs as number,
  };
}

const td = new TextDecoder('utf-8', { fatal: true });
const te = new TextEncoder();

export class ProtocolError extends Error {}

/**
 * Decodes one frame. On an authenticated link pass `tagBytes = TAG_BYTES`: the frame is then
 * followed by its MAC, which is not checked here (see protocol-session.ts).
 */
export function decodeFrame(whole: Uint8Array, tagBytes = 0): Frame {
  if (whole.length < 8 + tagBytes) throw new ProtocolError('truncated header');
  const b = whole.subarray(0, whole.length - tagBytes);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b[0] !== 0x54 || b[1] !== PROTOCOL_VERSION || b[3] !== 0) throw new ProtocolError('bad header');
  const type = b[2];
  const len = v.getUint32(4, true);
  if (len !== b.length - 8) throw new ProtocolError('length mismatch');
  const layout = LAYOUTS[type];
  if (!layout) throw new ProtocolError(`unknown type ${type}`);
  let pos = 8;
  const need = (n: number) => { if (pos + n > b.length) throw new ProtocolError('truncated'); };
  const read = (lay: Layout): Value[] => lay.map((f): Value => {
    if (f === 'u8') { need(1); return b[pos++]; }
    if (f === 'u32') { need(4); const x = v.getUint32(pos, true); pos += 4; return x; }
    if (f === 'u64') { need(8); const x = v.getBigUint64(pos, true); pos += 8; return x; }
    if (f === 'f64') { need(8); const x = v.getFloat64(pos, true); pos += 8; return x; }
    if (f === 'str' || f === 'bytes') {
      need(4); const n = v.getUint32(pos, true); pos += 4; need(n);
      const s = b.subarray(pos, pos + n); pos += n;
      return f === 'str' ? td.decode(s) : s.slice();
    }
    if (f === 'rest') { const s = b.slice(pos); pos = b.length; return s; }
    need(4); const n = v.getUint32(pos, true); pos += 4;
    const items: Value[] = [];
    for (let i = 0; i < n; i++) items.push(read(f.list));
    return items;
  });
  const fields = read(layout);
  if (pos !== b.length) throw new ProtocolError('trailing bytes');
  return { type, fields };
}

export function encodeFrame(f: Frame): Uint8Array {
  const parts: number[] = [];
  const u32 = (x: number) => { parts.push(x & 255, (x >>> 8) & 255, (x >>> 16) & 255, (x >>> 24) & 255); };
  const bytes8 = (dv: (d: DataView) => void) => { const a = new Uint8Array(8); dv(new DataView(a.buffer)); parts.push(...a); };
  const write = (lay: Layout, vals: Value[]) => lay.forEach((t, i) => {
    const x = vals[i];
    if (t === 'u8') parts.push(x as number);
    else if (t === 'u32') u32(x as number);
    else if (t === 'u64') bytes8((d) => d.setBigUint64(0, x as bigint, true));
    else if (t === 'f64') bytes8((d) => d.setFloat64(0, x as number, true));
    else if (t === 'str') { const s = te.encode(x as string); u32(s.length); for (const c of s) parts.push(c); }
    else if (t === 'bytes') { const s = x as Uint8Array; u32(s.length); for (const c of s) parts.push(c); }
    else if (t === 'rest') { for (const c of x as Uint8Array) parts.push(c); }
    else { const items = x as Value[][]; u32(items.length); for (const it of items) write(t.list, it); }
  });
  write(LAYOUTS[f.type], f.fields);
  const out = new Uint8Array(8 + parts.length);
  out.set([0x54, PROTOCOL_VERSION, f.type, 0]);
  new DataView(out.buffer).setUint32(4, parts.length, true);
  out.set(parts, 8);
  return out;
}
