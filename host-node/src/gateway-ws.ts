// The gateway on Node's http server and the `ws` library: upgrades on the gateway's path go to
// core-as/src/gateway.ts (tabs' sockets and members' dials of a tab), and the links it opens to
// members are ordinary ws dials. Only adapters here; the gateway decides.
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
  DIAL_TIMEOUT_MS, GW_DIAL_REFUSED, Gateway, WS_CLOSE_CODE, closeReason, refusedCode, type GatewayEvent, type GatewayMember, type GatewayOptions, type GatewaySocket, type GatewaySocketEvents,
} from '@trellis/core';

/** How long a closed socket may take to finish its close handshake before it is cut. */
const CLOSE_GRACE_MS = 2000;

function bytesOf(data: RawData): Uint8Array {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function socketOf(ws: WebSocket): GatewaySocket {
  return {
    send: (bytes) => { if (ws.readyState === WebSocket.OPEN) ws.send(bytes, { binary: true }); },
    close: (code, reason) => {
      if (ws.readyState === WebSocket.CONNECTING) { ws.terminate(); return; }
      ws.close(code, reason);
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    },
  };
}

/**
 * Feeds a ws's messages and close to the gateway. From a tab, a text message is the tab breaking
 * the framing (the gateway cuts it). From a member's dial of a tab (`dialIn`), a text or oversized
 * message closes the pipe with the reason a member's own transport gives (transport-ws.ts), which
 * the gateway passes on in the channel's CLOSE: the tab counts it as it would on a link of its own.
 */
function wire(ws: WebSocket, events: GatewaySocketEvents, dialIn = false): void {
  ws.binaryType = 'nodebuffer';
  let why: string | undefined;
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (why !== undefined) return;
    if (isBinary || !dialIn) { events.message(isBinary ? bytesOf(data) : new Uint8Array(0)); return; }
    why = 'text_frame';
    ws.close(WS_CLOSE_CODE, why);
  });
  ws.on('close', (code: number, reason: Buffer) => events.closed(why ?? closeReason(code, reason.toString())));
  ws.on('error', (err: Error & { code?: string }) => { if (dialIn && err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') why ??= 'frame_too_large'; });
}

export class NodeGateway {
  readonly gateway: Gateway;
  private readonly wss: WebSocketServer;

  constructor(opts: GatewayOptions, member: GatewayMember, notify: (e: GatewayEvent) => void, private readonly dialPayloadMax: number) {
    this.gateway = new Gateway(opts, { ...member, linkPayloadMax: dialPayloadMax, dial: (address, ev) => this.dial(address, ev), notify });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.gateway.limits.frameBytesMax, perMessageDeflate: false });
  }

  /** Handles an upgrade on the gateway's path; false when the request is not the gateway's. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const r = this.gateway.route(path, origin);
    if (r.kind === 'none') return false;
    // A dial of a tab that is gone gets a reset, not a 404: the dialing member's transport reports
    // a reset dial as refused, and a member whose link closed and whose redial is refused is down
    // at once (fast failover of a closed tab's children).
    if (r.kind === 'refuse' && r.reason === 'unknown_tab') { socket.destroy(); return true; }
    if (r.kind === 'refuse') {
      socket.end(`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (r.kind === 'tab') { wire(ws, this.gateway.acceptTab(socketOf(ws), origin ?? '')); return; }
      const remote = `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`;
      const events = this.gateway.acceptDialIn(r.tab, socketOf(ws), remote);
      if (events) wire(ws, events, true);
      else ws.close(1013, 'tab_unavailable');
    });
    return true;
  }

  private dial(address: string, ev: { opened(): void; data(b: Uint8Array): void; closed(r: string): void }): GatewaySocket {
    let ws: WebSocket;
    try {
      ws = new WebSocket(address, { maxPayload: this.dialPayloadMax, perMessageDeflate: false, handshakeTimeout: DIAL_TIMEOUT_MS });
    } catch (e) {
      queueMicrotask(() => ev.closed(e instanceof Error ? e.message : String(e)));
      return { send: () => undefined, close: () => undefined };
    }
    ws.binaryType = 'nodebuffer';
    let opened = false;
    let refused = false;
    ws.once('open', () => { opened = true; ev.opened(); });
    ws.on('message', (data: RawData) => ev.data(bytesOf(data)));
    ws.on('close', (code: number, reason: Buffer) => ev.closed(refused ? GW_DIAL_REFUSED : closeReason(code, reason.toString())));
    ws.on('error', (err: Error & { code?: string }) => { if (!opened) refused = refusedCode(err.code); });
    return socketOf(ws);
  }

  shutdown(): Promise<void> {
    this.gateway.shutdown();
    return new Promise((r) => this.wss.close(() => r()));
  }
}
