// What every WebSocket transport shares, whatever library carries the sockets: which addresses
// it dials, the address it advertises, the close code it sends and the names of the closes it sees.
import { CLOSE_REASON_CHARS_MAX } from './limits.js';
import type { DialFailure } from './adapters.js';

/** WebSocket close codes 4000-4999 are for applications; the reason text is the core's. */
export const WS_CLOSE_CODE = 4000;

/** The close code for a message over the receiver's limit (RFC 6455). */
export const WS_CLOSE_TOO_BIG = 1009;

/** Standard close codes that mean the peer broke the rules or vanished, by the name a link reports. */
const CLOSE_NAMES: Record<number, string> = { [WS_CLOSE_TOO_BIG]: 'frame_too_large', 1002: 'protocol_error', 1006: 'connection_lost', 1003: 'unsupported_data' };

/** Why a link closed: the peer's reason text if it gave one, else the close code's name. */
export function closeReason(code: number, reason: string): string {
  return reason.length ? reason : CLOSE_NAMES[code] ?? `code_${code}`;
}

/** The reason text a transport sends with WS_CLOSE_CODE (a close frame holds at most 123 bytes). */
export function closeText(reason: string): string {
  return reason.slice(0, CLOSE_REASON_CHARS_MAX);
}

/** A dial's error code as the core needs it: refused or reset means nothing listens there. */
export function dialFailureOf(code: string | undefined): DialFailure {
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' ? 'refused' : 'other';
}

/** Throws unless `address` is a ws:// or wss:// URL (the transport reports it as a failed dial). */
export function checkDialAddress(address: string): void {
  if (!/^wss?:\/\//.test(address)) throw new Error(`not a ws:// or wss:// address: ${address}`);
}

/** The address peers dial to reach a listener on `host` and `port` (IPv6 hosts in brackets). */
export function listenAddress(tls: boolean, host: string, port: number): string {
  return `${tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
