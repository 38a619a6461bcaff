// The gateway on Bun.serve: fetch() hands upgrades on the gateway's path to
// core-as/src/gateway.ts (tabs' sockets and members' dials of a tab), the server's websocket
// handlers forward those sockets' messages here, and the links the gateway opens to members are
// Bun's WebSocket client. Only adapters; the gateway decides.
import type { ServerWebSocket } from 'bun';
import {
  DIAL_TIMEOUT_MS, GW_DIAL_REFUSED, Gateway, WS_CLOSE_CODE, closeReason, refusedCode, type GatewayEvent, type GatewayMember, type GatewayOptions, type GatewayPipeEvents, type GatewaySocket,
  type GatewaySocketEvents,
} from '@trellis/core';

/** What a gateway socket carries in ws.data until it opens, then its events. */
export interface GatewaySocketData {
  route: { kind: 'tab'; origin: string } | { kind: 'dial_in'; tab: string; remote: string };
  events?: GatewaySocketEvents;
  /** Why a member's dial of a tab was closed here (a text message), passed on as the pipe's close reason. */
  why?: string;
}

function socketOf(ws: ServerWebSocket<unknown>): GatewaySocket {
  return { send: (b) => { ws.send(b); }, close: (code, reason) => ws.close(code, reason) };
}

export class BunGateway {
  readonly gateway: Gateway;

  constructor(opts: GatewayOptions, member: GatewayMember, notify: (e: GatewayEvent) => void, private readonly dialPayloadMax: number) {
    this.gateway = new Gateway(opts, { ...member, linkPayloadMax: dialPayloadMax, dial: (a, ev) => this.dial(a, ev), notify });
  }

  /**
   * A request on the gateway's path: a Response (refused), `true` once upgraded with
   * GatewaySocketData, or undefined when the request is not the gateway's.
   */
  fetch(req: Request, remote: () => string, upgrade: (gw: GatewaySocketData) => boolean): Response | true | undefined {
    const origin = req.headers.get('origin') ?? undefined;
    const r = this.gateway.route(new URL(req.url).pathname, origin);
    if (r.kind === 'none') return undefined;
    if (r.kind === 'refuse') return new Response(null, { status: r.status });
    const route: GatewaySocketData['route'] = r.kind === 'tab' ? { kind: 'tab', origin: origin ?? '' } : { kind: 'dial_in', tab: r.tab, remote: remote() };
    return upgrade({ route }) ? true : new Response('trellis: websocket only', { status: 426 });
  }

  open(ws: ServerWebSocket<unknown>, gw: GatewaySocketData): void {
    if (gw.route.kind === 'tab') { gw.events = this.gateway.acceptTab(socketOf(ws), gw.route.origin); return; }
    gw.events = this.gateway.acceptDialIn(gw.route.tab, socketOf(ws), gw.route.remote);
    if (!gw.events) ws.close(1013, 'tab_unavailable');
  }

  /**
   * From a tab, a text message is the tab breaking the framing (the gateway cuts it). From a
   * member's dial of a tab, a text or oversized message closes the pipe with the reason a member's
   * own transport gives, which the gateway passes on in the channel's CLOSE (the tab counts it).
   */
  message(gw: GatewaySocketData, msg: string | Uint8Array, ws: ServerWebSocket<unknown>): void {
    if (gw.why !== undefined) return;
    if (typeof msg !== 'string' || gw.route.kind === 'tab') { gw.events?.message(typeof msg === 'string' ? new Uint8Array(0) : msg); return; }
    gw.why = 'text_frame';
    ws.close(WS_CLOSE_CODE, gw.why);
  }

  /** `tooBig`: Bun closed the socket for a message over its payload limit. */
  close(gw: GatewaySocketData, code: number, reason: string, tooBig: boolean): void {
    gw.events?.closed(gw.why ?? (tooBig && gw.route.kind === 'dial_in' ? 'frame_too_large' : closeReason(code, reason)));
  }

  private dial(address: string, ev: GatewayPipeEvents): GatewaySocket {
    let ws: WebSocket;
    try {
      ws = new WebSocket(address);
    } catch (e) {
      queueMicrotask(() => ev.closed(e instanceof Error ? e.message : String(e)));
      return { send: () => undefined, close: () => undefined };
    }
    ws.binaryType = 'arraybuffer';
    let open = false;
    const timer = setTimeout(() => { if (!open) ws.close(); }, DIAL_TIMEOUT_MS);
    ws.onopen = () => { open = true; clearTimeout(timer); ev.opened(); };
    ws.onmessage = (e) => {
      if (typeof e.data === 'string') return;
      const b = new Uint8Array(e.data as ArrayBuffer);
      if (b.length > this.dialPayloadMax) { ws.close(1009, 'frame_too_large'); return; }
      ev.data(b);
    };
    let refused = false;
    // Bun's error event carries the socket error (ECONNREFUSED...) as `error.code`; onclose follows.
    ws.onerror = (e) => { if (!open) refused = refusedCode((e as { error?: { code?: string } }).error?.code); };
    ws.onclose = (e) => { clearTimeout(timer); ev.closed(refused ? GW_DIAL_REFUSED : e.reason || `code_${e.code}`); };
    return { send: (b) => { try { ws.send(b); } catch { /* onclose follows */ } }, close: (code, reason) => { try { ws.close(code, reason); } catch { /* closing */ } } };
  }

  shutdown(): void { this.gateway.shutdown(); }
}
