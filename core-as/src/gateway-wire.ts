// The gateway's framing between a tab and its gateway (docs/PROTOCOL.md, "Gateway"): one
// WebSocket carries many logical links, each message `u8 op, u32 channel, payload`. Both ends
// use this file; neither looks inside a DATA payload (a Trellis frame, end to end).

/** Bytes before the payload of every gateway message: u8 op, u32 channel (little-endian). */
export const GATEWAY_HEADER_BYTES = 5;

/** Version of the tab's HELLO (the `v` field). */
export const GATEWAY_VERSION = 1;

/** The ops, by who sends them. Channel 0 is the socket itself (HELLO, WELCOME). */
export const GW_HELLO = 1; //   tab → gateway, channel 0: JSON TabHello; the first message
export const GW_WELCOME = 2; // gateway → tab, channel 0: JSON TabWelcome
export const GW_OPEN = 3; //    tab → gateway: dial payload (UTF-8 address) on a new odd channel
export const GW_OPENED = 4; //  gateway → tab: the dial of this channel succeeded
export const GW_ACCEPT = 5; //  gateway → tab: a member dialed this tab; new even channel, payload its remote address
export const GW_DATA = 6; //    both ways: one whole message of the link (a Trellis frame)
export const GW_CLOSE = 7; //   both ways: the channel is gone; payload a UTF-8 reason
// Pair keys (pair-key.ts): the channel field is the tab's request number, not a link.
export const GW_PAIR_KEY = 8; //         tab → gateway: JSON PairKeyRequest
export const GW_PAIR_KEY_GIVEN = 9; //   gateway → tab: the request's 32-byte key
export const GW_PAIR_KEY_REFUSED = 10; // gateway → tab: UTF-8 PairKeyRefusal

export const GW_OP_MAX = GW_PAIR_KEY_REFUSED;

/** How a tab proves it may join (phase 1: the cluster's mode; phase 2 adds minted credentials). */
export type TabAuth =
  | { mode: 'insecure' }
  | { mode: 'secret'; secret: string }
  /** A credential from mintCredential (the gateway checks it: docs/SECURITY.md, "Tabs"). */
  | { mode: 'credential'; token: string };

/** `name`: the member name the tab will join under; a credential tab's must be its credential's. */
export interface TabHello { v: number; auth: TabAuth; name?: string }
/** `member`: the address the gateway's own member advertises (a tab's default seed: the gateway dials only members' addresses). */
export interface TabWelcome { tab: string; address: string; member: string }

/**
 * A credential tab asks for the pair key of its own member name (the one its credential was
 * checked for at HELLO, never one it names here) and `peer` in `epoch`. `token`: the tab's
 * credential renewed since its HELLO, so the gateway answers for the epochs it reaches.
 */
export interface PairKeyRequest { peer: string; epoch: number; token?: string }

/** Decodes a PAIR_KEY payload; undefined unless it is a PairKeyRequest. */
export function readPairKeyRequest(payload: Uint8Array): PairKeyRequest | undefined {
  let v: unknown;
  try { v = JSON.parse(fromUtf8.decode(payload)); } catch { return undefined; }
  if (v === null || typeof v !== 'object') return undefined;
  const q = v as Record<string, unknown>;
  if (typeof q.peer !== 'string' || q.peer === '' || !Number.isSafeInteger(q.epoch) || (q.epoch as number) < 0) return undefined;
  if (q.token !== undefined && typeof q.token !== 'string') return undefined;
  return { peer: q.peer, epoch: q.epoch as number, token: q.token as string | undefined };
}

export interface GatewayMessage { op: number; channel: number; payload: Uint8Array }

/**
 * The CLOSE reason of a tab's dial that the member refused or reset (nothing listens there):
 * the tab's transport reports it as a refused dial, which the core takes as the member gone.
 */
export const GW_DIAL_REFUSED = 'dial_refused';

/** A host's socket error code that means nothing listens at the address (refused, or reset). */
export function refusedCode(code: string | undefined): boolean {
  return code === 'ECONNREFUSED' || code === 'ECONNRESET';
}

/** WebSocket close codes the gateway sends a tab (4000-4999 are the application's). */
export const GW_CLOSE_REFUSED = 4401; // HELLO missing, malformed or not authorised
export const GW_CLOSE_LIMIT = 4429; //   a per-tab limit was exceeded
export const GW_CLOSE_PROTOCOL = 4400; // a message that does not decode, or a channel that is not the sender's

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Parses one gateway message; undefined when it is too short or its op is unknown. The payload is a view. */
export function readGatewayMessage(bytes: Uint8Array): GatewayMessage | undefined {
  if (bytes.length < GATEWAY_HEADER_BYTES) return undefined;
  const op = bytes[0];
  if (op < GW_HELLO || op > GW_OP_MAX) return undefined;
  const channel = (bytes[1] | (bytes[2] << 8) | (bytes[3] << 16) | (bytes[4] << 24)) >>> 0;
  return { op, channel, payload: bytes.subarray(GATEWAY_HEADER_BYTES) };
}

/** Writes the header of a message into `out` (at least GATEWAY_HEADER_BYTES long). */
export function writeGatewayHeader(out: Uint8Array, op: number, channel: number): void {
  out[0] = op;
  out[1] = channel & 0xff;
  out[2] = (channel >>> 8) & 0xff;
  out[3] = (channel >>> 16) & 0xff;
  out[4] = (channel >>> 24) & 0xff;
}

/**
 * Frames gateway messages into one reused buffer (hot path: every DATA). The returned view is
 * valid until the next call; WebSocket send copies it.
 */
export class GatewayEncoder {
  private buf = new Uint8Array(64 * 1024);

  encode(op: number, channel: number, payload: Uint8Array): Uint8Array {
    const n = GATEWAY_HEADER_BYTES + payload.length;
    if (this.buf.length < n) this.buf = new Uint8Array(Math.max(n, this.buf.length * 2));
    writeGatewayHeader(this.buf, op, channel);
    this.buf.set(payload, GATEWAY_HEADER_BYTES);
    return this.buf.subarray(0, n);
  }

  text(op: number, channel: number, s: string): Uint8Array {
    return this.encode(op, channel, utf8.encode(s));
  }

  json(op: number, channel: number, value: unknown): Uint8Array {
    return this.text(op, channel, JSON.stringify(value));
  }
}

export function gatewayText(payload: Uint8Array): string {
  return fromUtf8.decode(payload);
}

/** Decodes a HELLO payload; undefined unless it is a TabHello of this version. */
export function readTabHello(payload: Uint8Array): TabHello | undefined {
  let v: unknown;
  try { v = JSON.parse(fromUtf8.decode(payload)); } catch { return undefined; }
  if (v === null || typeof v !== 'object') return undefined;
  const h = v as Record<string, unknown>;
  if (h.v !== GATEWAY_VERSION || h.auth === null || typeof h.auth !== 'object') return undefined;
  if (h.name !== undefined && typeof h.name !== 'string') return undefined;
  const name = h.name as string | undefined;
  const a = h.auth as Record<string, unknown>;
  if (a.mode === 'insecure') return { v: GATEWAY_VERSION, auth: { mode: 'insecure' }, name };
  if (a.mode === 'secret' && typeof a.secret === 'string') return { v: GATEWAY_VERSION, auth: { mode: 'secret', secret: a.secret }, name };
  if (a.mode === 'credential' && typeof a.token === 'string') return { v: GATEWAY_VERSION, auth: { mode: 'credential', token: a.token }, name };
  return undefined;
}
