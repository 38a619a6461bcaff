// Transport on Bun's own WebSocket server (Bun.serve) and its built-in WebSocket client.
// It only carries bytes: when to dial, what to send and when to close is the core's decision.
import type { Transport, TransportHandlers } from '@trellis/core';
import type { Server, ServerWebSocket } from 'bun';

export interface BunTransportOptions {
  listen?: { host: string; port: number };
  /** Serve wss:// (Bun.serve TLS options). */
  tls?: { cert: string; key: string };
  maxFrameBytes?: number;
}

interface LinkData { link: number; remote: string }

type Link =
  | { kind: 'server'; ws: ServerWebSocket<LinkData>; closed: boolean }
  | { kind: 'client'; ws: WebSocket; closed: boolean; opened: boolean; address: string };

/** WebSocket close codes 4000-4999 are ours; the reason text is the core's. */
const CLOSE_CODE = 4000;

export class BunTransport implements Transport {
  private server: Server<LinkData> | undefined;
  private handlers!: TransportHandlers;
  private links = new Map<number, Link>();
  private nextLink = 1;
  private readonly max: number;

  constructor(private readonly opts: BunTransportOptions = {}) {
    this.max = opts.maxFrameBytes ?? 1 << 20;
  }

  async listen(handlers: TransportHandlers): Promise<string | undefined> {
    this.handlers = handlers;
    const l = this.opts.listen;
    if (!l) return undefined;
    const self = this;
    this.server = Bun.serve<LinkData, never>({
      hostname: l.host,
      port: l.port,
      tls: this.opts.tls,
      fetch(req, server) {
        const remote = server.requestIP(req);
        if (server.upgrade(req, { data: { link: self.nextLink++, remote: remote ? `${remote.address}:${remote.port}` : '' } })) return undefined;
        return new Response('trellis: websocket only', { status: 426 });
      },
      websocket: {
        maxPayloadLength: this.max + 64,
        perMessageDeflate: false,
        open(ws) {
          self.links.set(ws.data.link, { kind: 'server', ws, closed: false });
          self.handlers.opened(ws.data.link, false, ws.data.remote);
        },
        message(ws, msg) {
          if (typeof msg === 'string') { self.close(ws.data.link, 'text_frame'); return; }
          self.deliver(ws.data.link, msg);
        },
        // Bun reports its own payload-limit close as 1006 with this reason (1009 to the peer).
        close(ws, code, reason) { self.gone(ws.data.link, code === 1009 || reason === 'Received too big message' ? 'frame_too_large' : reason || `code_${code}`); },
      },
    });
    const scheme = this.opts.tls ? 'wss' : 'ws';
    return `${scheme}://${l.host}:${this.server.port}`;
  }

  private deliver(link: number, msg: Uint8Array | ArrayBuffer): void {
    const bytes = msg instanceof Uint8Array ? msg : new Uint8Array(msg);
    if (bytes.length > this.max + 64) { this.close(link, 'frame_too_large'); return; }
    this.handlers.frame(link, bytes);
  }

  private gone(link: number, reason: string): void {
    const l = this.links.get(link);
    if (!l || l.closed) return;
    l.closed = true;
    this.links.delete(link);
    if (l.kind === 'client' && !l.opened) this.handlers.dialFailed(l.address, reason);
    else this.handlers.closed(link, reason);
  }

  dial(address: string): void {
    let ws: WebSocket;
    try {
      if (!/^wss?:\/\//.test(address)) throw new Error('not a ws:// or wss:// address');
      ws = new WebSocket(address);
    } catch (e) {
      queueMicrotask(() => this.handlers.dialFailed(address, e instanceof Error ? e.message : String(e)));
      return;
    }
    ws.binaryType = 'arraybuffer';
    const link = this.nextLink++;
    const entry: Link = { kind: 'client', ws, closed: false, opened: false, address };
    this.links.set(link, entry);
    const timer = setTimeout(() => { if (!entry.opened) { this.gone(link, 'dial_timeout'); try { ws.close(); } catch { /* already closing */ } } }, 5000);
    ws.onopen = () => { clearTimeout(timer); if (entry.closed) return; entry.opened = true; this.handlers.opened(link, true, address); };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') { this.close(link, 'text_frame'); return; }
      this.deliver(link, ev.data as ArrayBuffer);
    };
    ws.onclose = (ev) => { clearTimeout(timer); this.gone(link, ev.reason || `code_${ev.code}`); };
    ws.onerror = () => { /* onclose follows */ };
  }

  send(link: number, bytes: Uint8Array): void {
    const l = this.links.get(link);
    if (!l || l.closed) return;
    try { l.ws.send(bytes); } catch { /* the close event will follow */ }
  }

  close(link: number, reason: string): void {
    const l = this.links.get(link);
    if (!l || l.closed) return;
    try { l.ws.close(CLOSE_CODE, reason.slice(0, 120)); } catch { /* already closing */ }
    // Report at once: the core already forgot the link; a late close event is ignored.
    this.gone(link, reason);
  }

  async shutdown(): Promise<void> {
    for (const id of [...this.links.keys()]) this.close(id, 'shutdown');
    this.server?.stop(true);
    this.server = undefined;
  }
}
