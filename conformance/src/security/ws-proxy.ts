// A TCP proxy in front of one member's WebSocket port that understands WebSocket framing
// (RFC 6455), so a test can act as an attacker on the path of a plain ws:// link: see each
// message, hold, drop or re-send it, and inject new ones.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

/** 'up' = client → server (from the dialer, masked), 'down' = server → client. */
export type Direction = 'up' | 'down';
export interface WsMessage { dir: Direction; opcode: number; payload: Uint8Array; raw: Uint8Array }
/** What to do with a message: forward it (default), or hold it back (the test may send it later). */
export type Verdict = 'forward' | 'hold';

interface Pair { client: Socket; server: Socket }

export class WsProxy {
  /** Every binary message seen, in order of arrival. */
  readonly seen: WsMessage[] = [];
  onMessage: (m: WsMessage) => Verdict = () => 'forward';
  private pairs: Pair[] = [];
  /** Connections that ended (either side closed). */
  closedCount = 0;

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(target: { host: string; port: number }): Promise<WsProxy> {
    let proxy!: WsProxy;
    const server = createServer((client) => proxy.accept(client, target));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    proxy = new WsProxy(server, typeof addr === 'object' && addr ? addr.port : 0);
    return proxy;
  }

  get url(): string { return `ws://127.0.0.1:${this.port}`; }

  private accept(client: Socket, target: { host: string; port: number }): void {
    const server = connect(target.port, target.host);
    const pair = { client, server };
    this.pairs.push(pair);
    // Counted once per connection by a flag of its own: both sockets can already be destroyed
    // when the first handler runs (a reset on both sides in the same turn).
    let ended = false;
    const end = () => { if (!ended) { ended = true; this.closedCount++; } client.destroy(); server.destroy(); };
    client.on('error', end); server.on('error', end); client.on('close', end); server.on('close', end);
    this.pipe(client, server, 'up');
    this.pipe(server, client, 'down');
  }

  /** Passes the HTTP upgrade through untouched, then parses frames. */
  private pipe(from: Socket, to: Socket, dir: Direction): void {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    from.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        to.write(buf.subarray(0, i + 4));
        buf = buf.subarray(i + 4);
        upgraded = true;
      }
      for (;;) {
        const f = parseFrame(buf);
        if (!f) break;
        buf = buf.subarray(f.raw.length);
        const m: WsMessage = { dir, opcode: f.opcode, payload: f.payload, raw: f.raw };
        if (f.opcode !== 2) { to.write(f.raw); continue; }
        this.seen.push(m);
        if (this.onMessage(m) === 'forward') to.write(f.raw);
      }
    });
  }

  /** Sends a binary message in `dir` on every connection (masked when going up). */
  inject(dir: Direction, payload: Uint8Array): void {
    for (const p of this.pairs) (dir === 'up' ? p.server : p.client).write(encodeFrame(payload, dir === 'up'));
  }

  /** Sends a message's exact bytes again (a replay, or a held message released late). */
  resend(m: WsMessage): void {
    for (const p of this.pairs) (m.dir === 'up' ? p.server : p.client).write(m.raw);
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) { p.client.destroy(); p.server.destroy(); }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function parseFrame(b: Buffer): { opcode: number; payload: Uint8Array; raw: Uint8Array } | null {
  if (b.length < 2) return null;
  const opcode = b[0] & 0x0f;
  const masked = (b[1] & 0x80) !== 0;
  let len = b[1] & 0x7f;
  let pos = 2;
  if (len === 126) { if (b.length < 4) return null; len = b.readUInt16BE(2); pos = 4; }
  else if (len === 127) { if (b.length < 10) return null; len = Number(b.readBigUInt64BE(2)); pos = 10; }
  const maskAt = pos;
  if (masked) pos += 4;
  if (b.length < pos + len) return null;
  const payload = Buffer.from(b.subarray(pos, pos + len));
  if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[maskAt + (i & 3)];
  return { opcode, payload, raw: Buffer.from(b.subarray(0, pos + len)) };
}

function encodeFrame(payload: Uint8Array, mask: boolean): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x82, n]) : n < 65536 ? Buffer.from([0x82, 126, n >> 8, n & 255]) : Buffer.concat([Buffer.from([0x82, 127]), (() => { const x = Buffer.alloc(8); x.writeBigUInt64BE(BigInt(n)); return x; })()]);
  if (!mask) return Buffer.concat([head, payload]);
  head[1] |= 0x80;
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < n; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, key, body]);
}
